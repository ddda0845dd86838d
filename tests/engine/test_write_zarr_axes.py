"""``write_zarr_labels`` refuses axes that do not name every axis of the labels, before it
writes anything: 3D labels written with the default ``axes="YX"`` were written, then failed
to read back ("axes 'YX' name 2 axes but the array has 3")."""

import numpy as np
import pytest

from tessella.engine.io import read_image, write_zarr_labels


def test_3d_labels_with_2d_axes_refused_and_nothing_written(tmp_path):
    labels = np.zeros((3, 16, 16), np.uint16)
    labels[:, 4:8, 4:8] = 1
    path = tmp_path / "cells.zarr"
    with pytest.raises(ValueError, match=r"cells\.zarr: axes 'YX' name 2 axes but the array has 3"):
        write_zarr_labels(path, labels)
    assert list(tmp_path.iterdir()) == []  # no zarr, no temporary folder left


def test_axes_naming_every_axis_round_trip(tmp_path):
    labels = np.zeros((3, 16, 16), np.uint16)
    labels[1, 4:8, 4:8] = 7
    path = write_zarr_labels(tmp_path / "movie.zarr", labels, "tyx")
    back = read_image(path)
    assert back.axes == "TYX"
    np.testing.assert_array_equal(np.asarray(back.data), labels)

"""The napari reader reads what read_image reads: a plain channels-last TIFF as channels
(one layer each), a ZCYX hyperstack as channels with its Z spacing on Z."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

from tessella._io import get_reader


def _layers(path):
    reader = get_reader(str(path))
    assert reader is not None
    return reader(str(path))


def test_a_plain_channels_last_tiff_opens_as_one_layer_per_channel(tmp_path, nuclei_sample):
    """(Y, X, 2) from a plain imwrite opened as one ZYX layer, 2 pixels wide."""
    crop = nuclei_sample[0][:48, :64]
    path = tmp_path / "two.tif"
    tifffile.imwrite(path, np.stack([crop, crop[::-1]], axis=-1))
    with pytest.warns(UserWarning, match="read as YXC, guessed from its shape"):
        [(data, kwargs, kind)] = _layers(path)
    assert kind == "image" and kwargs["channel_axis"] == 2 and data.shape == (48, 64, 2)
    assert [m["axes"] for m in kwargs["metadata"]] == ["YX", "YX"]


def test_an_imagej_zcyx_hyperstack_opens_as_channels_with_z_spacing(tmp_path, nuclei_sample):
    crop = nuclei_sample[0][:48, :64]
    zcyx = np.stack([np.stack([crop + z, crop[::-1]]) for z in range(3)]).astype(np.uint16)
    path = tmp_path / "ij.tif"
    metadata = {"axes": "ZCYX", "spacing": 2.0, "unit": "um"}
    tifffile.imwrite(path, zcyx, imagej=True, resolution=(2.0, 2.0), metadata=metadata)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        [(data, kwargs, kind)] = _layers(path)
    assert kind == "image" and kwargs["channel_axis"] == 0
    np.testing.assert_array_equal(data, np.moveaxis(zcyx, 1, 0))
    assert [tuple(s) for s in kwargs["scale"]] == [(2.0, 0.5, 0.5)] * 2

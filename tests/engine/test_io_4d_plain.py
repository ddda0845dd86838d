"""A 4D stack saved with a plain ``tifffile.imwrite`` (no axes of its own: tifffile calls its
two outer axes Q, or the second S when it has 3 or 4 planes, 'planar RGB'): read as given
(``axes``), else with the guess a plain array gets (TZYX, as a plain 3D stack is ZYX), and
refused with the axes to pass where the guess from its tags is no axes Tessella reads."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

from tessella._io import read_layers
from tessella.engine.io import AxesContradictionWarning, read_image


@pytest.fixture
def movie_of_volumes(nuclei_sample):
    """4 time points of a 5-slice volume (real nuclei crops, each plane different)."""
    image = nuclei_sample[0][:48, :64]
    planes = [np.roll(image, 3 * i, axis=1) for i in range(20)]
    return np.stack(planes).reshape(4, 5, 48, 64)


def test_a_plain_4d_stack_reads_with_the_axes_given_and_as_tzyx_without(tmp_path, movie_of_volumes):
    """It raised 'unsupported axis 'Z' of length 5 in 'QQYX'' (both Q taken for Z) before the
    axes given were looked at, so nothing read it, though the same pixels with ImageJ TZYX
    metadata read fine."""
    plain, ij = tmp_path / "plain.tif", tmp_path / "ij.tif"
    tifffile.imwrite(plain, movie_of_volumes)
    tifffile.imwrite(ij, movie_of_volumes, imagej=True, metadata={"axes": "TZYX"})
    with tifffile.TiffFile(plain) as tif:
        assert tif.series[0].axes == "QQYX"  # what the user has: no axes of its own
    with warnings.catch_warnings():
        warnings.simplefilter("error", AxesContradictionWarning)  # unknown axes: nothing said
        given = read_image(plain, "TZYX")
    guessed = read_image(plain)
    assert (given.axes, guessed.axes, read_image(ij).axes) == ("TZYX",) * 3
    assert given.stated_axes == "??YX"  # the file says nothing of its outer axes
    np.testing.assert_array_equal(given.data, movie_of_volumes)
    np.testing.assert_array_equal(guessed.data, movie_of_volumes)
    # axes given that do not count its axes are refused as for any file
    with pytest.raises(ValueError, match=r"plain\.tif: axes 'ZYX' name 3 axes but the array has 4"):
        read_image(plain, "ZYX")


def test_a_plain_4d_stack_with_one_time_point_is_a_volume(tmp_path, movie_of_volumes):
    """Its axis of length 1 is dropped, as before: a plain 3D stack's guess, ZYX."""
    path = tmp_path / "one.tif"
    tifffile.imwrite(path, movie_of_volumes[:1])
    image = read_image(path)
    assert (image.axes, image.data.shape) == ("ZYX", (5, 48, 64))


def test_the_napari_reader_opens_a_plain_4d_stack_with_guessed_t_and_z_sliders(
    tmp_path, movie_of_volumes
):
    """The reader refused it (napari fell back to its own reader, with no axes for Segment).
    It opens it as a plain 3D stack is opened: axes guessed (TZYX, marked as a guess, so the
    Segment panel's Axes can say otherwise) and sliders named t and z."""
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, movie_of_volumes)
    [(data, kwargs, kind)] = read_layers(str(path))
    assert kind == "image" and data.shape == (4, 5, 48, 64)
    assert kwargs["axis_labels"] == ("t", "z", "y", "x")
    assert kwargs["metadata"]["axes"] == "TZYX"
    assert kwargs["metadata"]["axes_guessed"] is True


def test_a_4d_stack_tagged_planar_rgb_is_refused_naming_the_guess_and_axes(
    tmp_path, movie_of_volumes
):
    """(2, 3, Y, X) from a plain imwrite is 'QSYX' to tifffile (3 planes: planar RGB). The
    message named axes 'ZCYX' the user never gave as if they had, without --axes; it now
    says they were guessed from the file's tags, and to pass --axes. Given, they are read
    with no contradiction said (the tags state nothing of those axes)."""
    path = tmp_path / "tagged.tif"
    data = movie_of_volumes.reshape(20, 48, 64)[:6].reshape(2, 3, 48, 64)
    # what a plain tifffile.imwrite of 3 planes writes (said outright: tifffile warns it will not)
    tifffile.imwrite(path, data, photometric="rgb", planarconfig="separate")
    with tifffile.TiffFile(path) as tif:
        assert tif.series[0].axes == "QSYX"
    with pytest.raises(ValueError) as caught:
        read_image(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: axes 'ZCYX', guessed from its TIFF tags ")
    assert "give the axes its shape (2, 3, 48, 64) has in the order the file stores" in message
    assert "(axes= in Python, --axes on the command line)" in message  # both routes' words
    assert message.endswith("e.g. TZYX")
    assert "\n" not in message
    with warnings.catch_warnings():
        warnings.simplefilter("error", AxesContradictionWarning)
        image = read_image(path, "TZYX")
    assert image.axes == "TZYX"
    np.testing.assert_array_equal(image.data, data)


def test_a_5d_plain_stack_is_refused_as_more_axes_than_read(tmp_path, movie_of_volumes):
    path = tmp_path / "five.tif"
    tifffile.imwrite(path, np.stack([movie_of_volumes] * 2))
    with pytest.raises(ValueError, match=r"five\.tif: its shape \(2, 4, 5, 48, 64\) has 5 axes"):
        read_image(path)

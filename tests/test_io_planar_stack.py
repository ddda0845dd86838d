"""A stack of 3 or 4 grayscale planes saved with a plain ``tifffile.imwrite`` (P4): tifffile
tags it planar RGB(A), byte for byte as a (3, Y, X) colour image written with
photometric="rgb", planarconfig="separate". It was read as colour (CYX): a 2D model averaged
the slices into one plane, the 4th dropped, and the napari reader split it into channel
layers. It is now read as a stack (ZYX), said in a warning naming the axes that read it as
colour, by read_image, the napari reader and the CLI alike; what the file's metadata state
(ImageJ or OME axes, minisblack pages, planar RGB from other software, colour last) is read as
before."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

from tessella._io import AXES_GUESSED_KEY, get_reader
from tessella.cli import main
from tessella.engine.io import read_image
from tests.conftest import DATA

ISBI = DATA / "em_membranes_isbi2012" / "images"


@pytest.fixture(scope="module")
def em_slices():
    """4 consecutive ISBI 2012 EM slices (a ssTEM stack), cropped to 64 x 80."""
    return np.stack([tifffile.imread(ISBI / f"{i:02d}.tif")[:64, :80] for i in range(4)])


def _read(path, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = read_image(path, **kwargs)
    return image, [str(w.message) for w in caught]


#: what a plain tifffile.imwrite(path, planes) of 3 or 4 planes writes (tifffile 2026.3.3, with
#: a DeprecationWarning that a future version will write minisblack pages)
PLAIN = {"photometric": "rgb", "planarconfig": "separate"}


@pytest.mark.parametrize("count", [3, 4])
@pytest.mark.parametrize("how", [PLAIN, {**PLAIN, "metadata": None}], ids=["shaped", "bare"])
def test_a_plain_imwrite_of_3_or_4_slices_reads_as_a_stack(tmp_path, em_slices, count, how):
    planes = em_slices[:count]
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, planes, **how)
    image, said = _read(path)
    assert image.axes == "ZYX" and np.array_equal(image.data, planes)
    [warning] = said
    assert warning.startswith(f"{path}: its TIFF tags say {count} planes of colour (planar RGB")
    assert f"read as a stack of {count} slices (ZYX)" in warning
    assert "give axes CYX" in warning and "--axes" in warning
    # the override: read as colour / channels, or as frames, without a word
    for axes in ("CYX", "TYX"):
        again, said = _read(path, axes=axes)
        assert again.axes == axes and np.array_equal(again.data, planes) and said == []


def test_a_plain_imwrite_reads_as_a_stack_whatever_tifffile_tags(tmp_path, em_slices):
    """Today's tifffile writes the planar RGB above, byte for byte; a future one minisblack
    pages: both are a stack."""
    path = tmp_path / "stack.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        tifffile.imwrite(path, em_slices[:3])
        tifffile.imwrite(tmp_path / "explicit.tif", em_slices[:3], **PLAIN)
    with tifffile.TiffFile(path) as tif:
        if tif.pages[0].photometric == tifffile.PHOTOMETRIC.RGB:
            assert path.read_bytes() == (tmp_path / "explicit.tif").read_bytes()
    image, _ = _read(path)
    assert image.axes == "ZYX" and np.array_equal(image.data, em_slices[:3])


@pytest.mark.parametrize(
    "how, axes",
    [
        ({"photometric": "minisblack"}, "ZYX"),
        ({"imagej": True, "metadata": {"axes": "ZYX"}}, "ZYX"),
        ({"imagej": True, "metadata": {"axes": "TYX"}}, "TYX"),
        ({"ome": True, "metadata": {"axes": "ZYX"}}, "ZYX"),
        # tifffile's imagej=True without axes writes channels=3, as Fiji then opens it
        ({"imagej": True}, "CYX"),
        ({"ome": True, "metadata": {"axes": "CYX"}}, "CYX"),
        # planar RGB that an image editor or scanner wrote (no tifffile description nor
        # Software tag): colour
        (
            {
                "photometric": "rgb",
                "planarconfig": "separate",
                "metadata": None,
                "software": "Adobe Photoshop 25.0",
            },
            "CYX",
        ),
    ],
    ids=["minisblack", "imagej_zyx", "imagej_tyx", "ome_zyx", "imagej", "ome_cyx", "photoshop"],
)
def test_what_the_metadata_state_is_read_as_before(tmp_path, em_slices, how, axes):
    path = tmp_path / "stated.tif"
    tifffile.imwrite(path, em_slices[:3], **how)
    image, said = _read(path)
    assert image.axes == axes and said == []


def test_colour_last_stays_colour(tmp_path, em_slices):
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, np.moveaxis(em_slices[:3], 0, -1).copy())
    image, said = _read(path)
    assert image.axes == "YXC" and said == []


def test_the_napari_reader_opens_it_as_one_stack_layer_with_guessed_axes(tmp_path, em_slices):
    """It opened as 3 channel layers ('stack c0' to 'stack c2') where the CLI averaged them."""
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, em_slices[:3], **PLAIN)
    with pytest.warns(UserWarning, match="read as a stack of 3 slices"):
        [(data, kwargs, kind)] = get_reader(str(path))(str(path))
    assert kind == "image" and "channel_axis" not in kwargs and data.shape == (3, 64, 80)
    assert kwargs["metadata"]["axes"] == "ZYX" and kwargs["metadata"][AXES_GUESSED_KEY]
    assert kwargs["axis_labels"] == ("z", "y", "x")


def test_the_cli_says_how_to_read_it_and_segments_it_slice_by_slice(tmp_path, em_slices, capsys):
    """nuclei2d averaged the 3 slices into one plane (its warning spoke only of stains); now
    the stack is refused for a 2D model with the axes to give, as a minisblack stack is, and
    --axes TYX segments each slice."""
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, em_slices[:3], **PLAIN)
    args = ["segment", str(path), "--model", "nuclei2d", "--no-tta", "-q", "-o"]
    assert main([*args, str(tmp_path / "one.tif")]) != 0
    err = capsys.readouterr().err
    assert "read as a stack of 3 slices (ZYX)" in err
    assert "axes ZYX do not fit model 'nuclei2d'" in err and "use axes TYX" in err
    assert main([*args, str(tmp_path / "slices.tif"), "--axes", "TYX"]) == 0
    assert capsys.readouterr().err == ""
    assert tifffile.imread(tmp_path / "slices.tif").shape == (3, 64, 80)

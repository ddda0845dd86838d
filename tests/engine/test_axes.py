"""Axes guessed from an array's shape when no metadata names them."""

import pytest

from tessella.engine.axes import guess_axes


@pytest.mark.parametrize(
    ("shape", "rgb", "axes"),
    [
        ((520, 512), None, "YX"),
        ((520, 512, 3), None, "YXC"),
        ((520, 512, 3), False, "YXC"),  # not shown as colour, still three channels
        ((520, 512, 5), None, "YXC"),  # a few channels last, not a 5-pixel-wide volume
        ((520, 512, 2), False, "YXC"),
        ((5, 64, 64), None, "ZYX"),  # a few planes first
        ((12, 16, 8), None, "ZYX"),  # too small to tell: the planes come first
        ((10, 64, 64, 3), None, "ZYXC"),
        ((10, 5, 64, 64), None, "TZYX"),
    ],
)
def test_axes_are_guessed_from_the_shape(shape, rgb, axes):
    assert guess_axes(shape, rgb) == axes


@pytest.mark.parametrize(
    ("write", "stated", "stated_by"),
    [
        ({"photometric": "rgb"}, "YXC", "TIFF tags (RGB)"),  # a colour photo, (Y, X, 3)
        ({"imagej": True, "metadata": {"axes": "ZYX"}}, "ZYX", "ImageJ metadata"),
        # 3 planes a plain imwrite tags planar RGB: the tag says nothing of them (the reader
        # reads them as a stack, saying why: tifffile's planar RGB tags)
        ({"photometric": "rgb", "planarconfig": "separate"}, "?YX", "TIFF tags (planar RGB)"),
        ({"photometric": "minisblack"}, "?YX", "TIFF pages"),
        ({"photometric": "minisblack", "metadata": {"axes": "TYX"}}, "TYX", "TIFF description"),
    ],
)
def test_the_reader_says_what_a_tiff_s_metadata_state(tmp_path, write, stated, stated_by):
    import warnings

    import numpy as np
    import tifffile

    from tessella.engine.io import read_image

    shape = (16, 16, 3) if stated == "YXC" else (3, 16, 16)
    path = tmp_path / "image.tif"
    tifffile.imwrite(path, np.arange(np.prod(shape), dtype=np.uint8).reshape(shape), **write)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = read_image(path, "ZYX")  # forced axes do not change what the file states
    assert (image.axes, image.stated_axes, image.stated_by) == ("ZYX", stated, stated_by)
    said = f"{path}: read as ZYX (as given), not as {stated} from its {stated_by}"
    assert [str(w.message) for w in caught] == ([] if stated in ("ZYX", "?YX") else [said])


@pytest.mark.parametrize(
    ("axes", "stated", "contradict"),
    [
        ("ZYX", "YXC", True),  # an RGB photo cut into 3-pixel-wide slices
        ("TYX", "ZYX", True),
        ("ZYX", "?YX", False),  # a plain stack: Z, T or C is the user's to say
        ("CYX", "?YX", False),
        ("YXC", "?YX", True),  # the pages are Y and X
        ("zyx", "ZYX", False),
        ("YX", None, False),  # nothing stated
    ],
)
def test_forced_axes_contradict_only_what_the_metadata_state(axes, stated, contradict):
    from tessella.engine.axes import axes_contradict

    assert axes_contradict(axes, stated) is contradict


def test_a_spacing_dict_without_every_spatial_axis_is_said_to_be_ignored():
    """``spacing={'X': .., 'Y': ..}`` for a ZYX volume (built from 2D metadata) was dropped
    without a word, while a full dict is used; it now warns, naming the axis it lacks, before
    the network runs."""
    import warnings

    import numpy as np

    from tessella.engine.pipeline import segment_steps
    from tessella.engine.registry import load_model

    model = load_model("em-membranes2d")  # segments a ZYX stack slice by slice
    volume = np.random.default_rng(0).integers(0, 255, (3, 32, 32), np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every axis named: no warning
        next(segment_steps(volume, model, "ZYX", spacing={"x": 4, "Y": 4, "Z": 50}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # none (no pixel size): only that Z's is unknown
        next(segment_steps(volume, model, "ZYX", spacing={}))
    assert [w.category.__name__ for w in caught] == ["UnknownZSpacingWarning"]
    partial = segment_steps(volume, model, "ZYX", spacing={"X": 0.004, "Y": 0.004})
    with pytest.warns(UserWarning, match=r"^image: spacing .* names no size for Z of the spatial"):
        next(partial)

"""The Python API warns, once per input, where a 2D boundary model (em-membranes2d) segments a
ZYX stack of unknown voxel size: its superpixels and agglomeration are 3D with a Z step as long
as a pixel is wide, which joined cells across ISBI 2012's 50 nm sections of 4 nm pixels (6
slices: V_rand 0.49 against 0.96 with the voxel size). ``tessella.segment`` (so
``segment_steps``) and ``segment_blockwise`` said nothing; the command line and the napari
panel did. The warning is an ``UnknownZSpacingWarning`` (a UserWarning one can filter) in
the API's words (``spacing=``, ``axes="TYX"``); not for a stack with a voxel size, nor for
its slices segmented one by one (TYX)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

import tessella
from tessella.engine.blockwise import segment_blockwise_steps
from tessella.engine.pipeline import UnknownZSpacingWarning, segment_steps

MODEL = "em-membranes2d"


@pytest.fixture(scope="module")
def stack(data_dir):
    images = data_dir / "em_membranes_isbi2012" / "images"  # 5: 3 or 4 read as planar RGB
    return np.stack([tifffile.imread(images / f"{i:02d}.tif")[:64, :64] for i in range(15, 20)])


def _warned(make_steps) -> list[str]:
    """The UnknownZSpacingWarnings of a run up to its first progress (all of it where
    ``make_steps`` runs it whole): they come before the network."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        steps = make_steps()
        if steps is not None:
            next(steps)
            steps.close()
    return [str(w.message) for w in caught if issubclass(w.category, UnknownZSpacingWarning)]


def test_tessella_segment_of_a_stack_without_z_spacing_warns_once(tmp_path, stack):
    tifffile.imwrite(tmp_path / "plain.tif", stack)  # no metadata: ZYX, no pixel size
    volume = tessella.read_image(tmp_path / "plain.tif")

    def run():
        tessella.segment(volume, MODEL, tta=False, device="cpu")

    [line] = _warned(run)
    assert line.startswith(f"{tmp_path / 'plain.tif'}: no Z spacing in the file; {MODEL} joins")
    assert "50 x 4 x 4 nm" in line and "spacing=(Z, Y, X)" in line and 'axes="TYX"' in line
    assert issubclass(UnknownZSpacingWarning, UserWarning)
    [line] = _warned(lambda: segment_steps(stack, MODEL, tta=False, device="cpu"))
    assert line.startswith(f"image: no spacing given; {MODEL} joins objects across slices")


def test_the_warning_is_at_the_top_level_to_filter_it(stack):
    """As everything else of the Python API: ``tessella.UnknownZSpacingWarning`` (it was only
    in ``tessella.engine.pipeline``), listed by ``dir(tessella)``, and filtering it works."""
    assert tessella.UnknownZSpacingWarning is UnknownZSpacingWarning
    name = "UnknownZSpacingWarning"
    assert name in tessella.__all__ and name in dir(tessella)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=tessella.UnknownZSpacingWarning)
        steps = segment_steps(stack, MODEL, tta=False, device="cpu")
        next(steps)  # (the warning comes before the network)
        steps.close()
    assert not [w for w in caught if "joins objects across slices" in str(w.message)]


def test_no_warning_with_a_voxel_size_slice_by_slice_or_for_one_slice(stack):
    def steps(image, **options):
        return lambda: segment_steps(image, MODEL, tta=False, device="cpu", **options)

    assert _warned(steps(stack, spacing=(50, 4, 4))) == []
    assert _warned(steps(stack, spacing={"Z": 0.05, "Y": 0.004, "X": 0.004})) == []
    assert _warned(steps(stack, axes="TYX")) == []
    assert _warned(steps(stack[0])) == []


def test_segment_blockwise_warns_once_not_per_block(tmp_path, stack):
    def steps(out: str, **options):
        return lambda: segment_blockwise_steps(
            stack, tmp_path / out, MODEL, block=32, tta=False, device="cpu", **options
        )

    [line] = _warned(steps("plain.zarr"))  # (before the first of 2 x 2 blocks)
    assert line.startswith(f"image: no spacing given; {MODEL} joins objects across slices")
    assert 'axes="TYX"' in line
    assert _warned(steps("spaced.zarr", spacing=(50, 4, 4))) == []
    assert _warned(steps("slices.zarr", axes="TYX")) == []

"""A 3D model's blank slices are left out of blockwise's input check too, as in memory since
11cce32 (s32/r5 finding 1): a Lucchi++ crop with a blank slice, or padded with blank slices
as a registered stack is, warned "looks unlike the images model 'em-mito3d' was trained on"
(its 10th percentile -0.73, training 0.13-0.23) in a blockwise run only. The check runs after
the scan, before any block is segmented, so the runs here stop there (no network)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile
import zarr

from tessella.engine.blockwise._driver import segment_blockwise_steps

LUCCHI = "em_mito_lucchipp"


@pytest.fixture(scope="module")
def volume(data_dir):
    return tifffile.imread(data_dir / LUCCHI / "val" / "image.tif")


def _checked(tmp_path, stack, block) -> list[str]:
    """The warnings of a blockwise em-mito3d run of ``stack`` up to its first block."""
    zarr.create_array(str(tmp_path / "in.zarr"), data=stack, chunks=block)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        steps = segment_blockwise_steps(
            str(tmp_path / "in.zarr"), tmp_path / "out.zarr", "em-mito3d", "ZYX", block=block,
            device="cpu", tta=False,
        )  # fmt: skip
        for step in steps:
            if step.stage == "segment":
                break
        steps.close()
    return [str(w.message) for w in said]


def _unlike(said):
    return [w for w in said if "looks unlike" in w]


def _in_memory(stack) -> list[str]:
    from tessella.engine.pipeline import segment

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        segment(stack, "em-mito3d", "ZYX", device="cpu", tta=False)
    return [str(w.message) for w in said]


def _words(said) -> list[str]:
    """The warnings without the input's name (a path blockwise, "image" in memory)."""
    return [w.split(" looks unlike ", 1)[1] for w in _unlike(said)]


def test_one_blank_slice_in_the_middle_is_left_out_as_in_memory(tmp_path, volume):
    crop = np.ascontiguousarray(volume[0:8, 128:224, 384:480])
    stack = np.insert(crop, 4, 0, axis=0)
    assert _unlike(_checked(tmp_path, stack, (9, 48, 96))) == []  # (before: warned)
    assert _unlike(_in_memory(stack)) == []


def test_the_slices_not_blank_are_still_judged_as_in_memory(tmp_path, volume):
    """A dark band in every slice (not blank) is warned of, in the same words."""
    crop = np.ascontiguousarray(volume[0:8, 128:224, 384:480])
    crop[:, :, :40] = 0
    stack = np.insert(crop, 4, 0, axis=0)
    blockwise = _words(_checked(tmp_path, stack, (9, 48, 96)))
    assert len(blockwise) == 1 and "10th percentile" in blockwise[0], blockwise
    assert blockwise == _words(_in_memory(stack))


def test_a_stack_padded_with_blank_slices_is_not_warned_of(tmp_path, volume):
    """r5's case: 3 blank slices before a crop and 10 after; blocks of 8 slices, so two of
    the windows read lie wholly in blank slices (not judged)."""
    crop = volume[0:12, 128:256, 256:384]
    before, after = np.zeros((3, 128, 128), crop.dtype), np.zeros((10, 128, 128), crop.dtype)
    stack = np.concatenate([before, crop, after])
    assert _unlike(_checked(tmp_path, stack, (8, 64, 64))) == []  # (before: warned)


def test_a_volume_of_blank_slices_says_so_as_in_memory(tmp_path):
    """Every slice constant, each at its own value (the volume is not constant): the line
    in-memory gives ('every slice is blank'), not a comparison of nothing."""
    steps = np.arange(4, dtype=np.uint8)[:, None, None] * 40
    volume = np.ascontiguousarray(np.broadcast_to(steps, (4, 96, 96)))
    said = _checked(tmp_path, volume, (4, 48, 96))
    assert any("every slice is blank" in w for w in said), said
    assert _unlike(said) == []

"""A blank (constant) Z slice of a volume that a 3D model reads whole is left out of its
percentile normalisation, in memory and blockwise (s31, f8's finding: one blank slice of a
Lucchi++ crop moved the 1st percentile from 83 to 0 and em-mito3d's foreground IoU went from
0.83 to 0.02). A volume without blank slices is normalised exactly as before."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import zarr

from tessella.engine.normalize import normalize

LUCCHI = "em_mito_lucchipp"
CROP = (slice(0, 8), slice(200, 296), slice(300, 396))  # 8 x 96 x 96 of the val volume
CARD = {"low": 1.0, "high": 99.8}


@pytest.fixture(scope="module")
def crop(data_dir):
    image = tifffile.imread(data_dir / LUCCHI / "val" / "image.tif")[CROP]
    mito = tifffile.imread(data_dir / LUCCHI / "val" / "mito.tif")[CROP]
    return np.ascontiguousarray(image), mito > 0


def _iou(a, b) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_without_blank_slices_the_normalisation_is_as_before():
    """Bit for bit the old formula: (x - 1st percentile) / (99.8th - 1st), in float32."""
    rng = np.random.default_rng(0)
    for data in (
        rng.integers(0, 256, (1, 5, 20, 20), np.uint8),
        rng.random((1, 5, 20, 20), np.float32),
    ):
        lo, hi = np.percentile(data[0], (1.0, 99.8))
        expected = np.empty(data.shape, np.float32)
        np.subtract(data[0], lo, out=expected[0], casting="unsafe")
        expected[0] /= float(hi - lo)
        assert np.array_equal(normalize(data, CARD), expected)
        assert np.array_equal(normalize(data, CARD, blank=[]), expected)


def test_blank_slices_are_left_out_of_the_percentiles():
    rng = np.random.default_rng(1)
    volume = rng.integers(50, 200, (1, 6, 16, 16)).astype(np.uint8)
    blanked = volume.copy()
    blanked[0, [0, 3]] = 0
    kept = [1, 2, 4, 5]
    out = normalize(blanked, CARD, blank=[0, 3])
    assert np.array_equal(out[:, kept], normalize(volume[:, kept], CARD))
    assert np.array_equal(
        normalize(blanked, CARD, blank=[0, 1, 2, 3, 4, 5]), normalize(blanked, CARD)
    )


@pytest.fixture(scope="module")
def alone(crop) -> float:
    """em-mito3d's foreground IoU on the crop without a blank slice (run once for both
    places of the blank slice below)."""
    from tessella.engine.pipeline import segment

    image, mito = crop
    return _iou(segment(image, "em-mito3d", "ZYX", device="cpu", tta=False) > 0, mito)


@pytest.mark.parametrize("at", [0, 4])
def test_em_mito3d_with_a_blank_slice_finds_the_mitochondria_it_finds_without(crop, alone, at):
    from tessella.engine.pipeline import segment

    image, mito = crop
    stack = np.insert(image, at, 0, axis=0)
    labels = segment(stack, "em-mito3d", "ZYX", device="cpu", tta=False)
    there = _iou(np.delete(labels, at, axis=0) > 0, mito)
    assert alone > 0.5
    assert there > alone - 0.08, (there, alone)  # (before: 0.0x)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_the_blockwise_scan_leaves_blank_slices_out_as_in_memory(crop, tmp_path, dtype):
    """em-mito3d blockwise, 2 x 2 x 2 blocks, blank slices 0 and 5: the frame's percentiles,
    min and max are those of the other slices (numpy's, on them in memory)."""
    from tessella.engine.blockwise import work_dir
    from tessella.engine.blockwise._driver import segment_blockwise_steps

    image = crop[0].astype(dtype)
    stack = np.insert(image, [0, 4], 0, axis=0)  # blank at 0 and 5 (10 slices)
    path = tmp_path / "stack.zarr"
    zarr.create_array(str(path), data=stack, chunks=(5, 48, 48))
    out = tmp_path / "labels.zarr"
    steps = segment_blockwise_steps(str(path), out, "em-mito3d", axes="ZYX", block=(5, 48, 48))
    try:
        for progress in steps:
            if progress.stage == "segment":
                break
    finally:
        steps.close()
    [[unit, [(lo, hi, vmin, vmax, _inverted)]]] = json.loads(
        (work_dir(out) / "ranges.json").read_text()
    )
    assert unit == [-1, -1]
    expected = np.percentile(image, (1.0, 99.8))
    assert (lo, hi) == pytest.approx((float(expected[0]), float(expected[1])), rel=1e-12)
    assert (vmin, vmax) == (float(image.min()), float(image.max()))

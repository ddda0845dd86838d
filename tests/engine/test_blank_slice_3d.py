"""A blank (all-zero) section of a stack segmented slice by slice with 3D post-processing
leaves the other sections as they are without it (user test s31/t8: one blank section of 10
took V_rand of the other nine from 0.96 to 0.62, in memory as blockwise)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import zarr
from scipy import ndimage

from tessella.engine import metrics
from tessella.engine.methods import Prediction, semantic
from tessella.engine.pipeline import segment

ISBI = "em_membranes_isbi2012"
SECTIONS = (16, 17, 18, 19)  # sections the model never saw
CROP = (slice(0, 128), slice(0, 128))
SPACING = (50.0, 4.0, 4.0)  # ISBI 2012: 50 nm sections, 4 nm pixels


def same_partition(a, b) -> bool:
    """True when ``a`` and ``b`` are the same labels up to renumbering (0 stays 0)."""
    a, b = np.asarray(a).reshape(-1), np.asarray(b).reshape(-1)
    if not np.array_equal(a == 0, b == 0):
        return False
    pairs = np.unique(np.stack([a[a > 0], b[b > 0]]), axis=1)
    return pairs.shape[1] == np.unique(a[a > 0]).size == np.unique(b[b > 0]).size


@pytest.fixture(scope="module")
def model():
    from tessella.engine.registry import load_model

    return load_model("em-membranes2d")


@pytest.fixture(scope="module")
def sections(data_dir):
    images = [tifffile.imread(data_dir / ISBI / "images" / f"{i}.tif")[CROP] for i in SECTIONS]
    cells = [
        ndimage.label(tifffile.imread(data_dir / ISBI / "boundaries" / f"{i}.tif")[CROP] == 0)[0]
        for i in SECTIONS
    ]
    return np.stack(images), cells


@pytest.fixture(scope="module")
def without_blank(model, sections):
    return segment(sections[0], model, "ZYX", spacing=SPACING, device="cpu", tta=False)


def with_blank(stack, at):
    return np.insert(stack, at, np.zeros_like(stack[0]), axis=0)


@pytest.mark.parametrize("at", [0, 4])
def test_a_blank_first_or_last_section_leaves_the_others_as_without_it(
    model, sections, without_blank, at
):
    stack = with_blank(sections[0], at)
    labels = segment(stack, model, "ZYX", spacing=SPACING, device="cpu", tta=False)
    assert not labels[at].any()
    assert same_partition(np.delete(labels, at, axis=0), without_blank)


def test_a_blank_section_between_others_joins_nothing_and_costs_them_no_score(
    model, sections, without_blank
):
    stack = with_blank(sections[0], 2)
    labels = segment(stack, model, "ZYX", spacing=SPACING, device="cpu", tta=False)
    assert not labels[2].any()
    others = np.delete(labels, 2, axis=0)
    before = np.unique(others[:2][others[:2] > 0])
    after = np.unique(others[2:][others[2:] > 0])
    assert np.intersect1d(before, after).size == 0  # nothing reaches across the blank
    cells = sections[1]
    for z in range(len(SECTIONS)):
        alone = metrics.rand_voi(cells[z], without_blank[z])["vrand"]
        there = metrics.rand_voi(cells[z], others[z])["vrand"]
        assert there > alone - 0.02, (z, there, alone)
    assert same_partition(others[:2], segment(sections[0][:2], model, "ZYX", spacing=SPACING,
                                              device="cpu", tta=False))  # fmt: skip


def test_semantic_objects_do_not_reach_across_a_blank_slice():
    """What a 2D foreground model makes of a blank slice (here: foreground everywhere) joins
    no objects above and below it."""
    probability = np.zeros((1, 5, 12, 12), np.float32)
    probability[0, :2, 1:5, 1:5] = 0.9  # one object below the blank slice
    probability[0, 3:, 7:11, 7:11] = 0.9  # another above it
    probability[0, 2] = 0.95  # the blank slice
    params = semantic.Params(threshold=0.5, min_size=1)
    labels = semantic.postprocess(Prediction({"foreground": probability}, "ZYX"), params)
    assert np.unique(labels[labels > 0]).size == 1  # (the blank slice's output joins them)
    meta = {"blank_slices": [2]}
    labels = semantic.postprocess(Prediction({"foreground": probability}, "ZYX", meta), params)
    assert not labels[2].any()
    assert labels[0, 2, 2] > 0 and labels[4, 8, 8] > 0 and labels[0, 2, 2] != labels[4, 8, 8]
    alone = semantic.postprocess(Prediction({"foreground": probability[:, :2]}, "ZYX"), params)
    assert same_partition(labels[:2], alone)


def test_blockwise_a_blank_first_section_leaves_the_others_as_in_memory_without_it(
    tmp_path, model, sections, without_blank
):
    from tessella.engine.blockwise import segment_blockwise

    stack = with_blank(sections[0], 0)
    source = zarr.create_array(
        str(tmp_path / "stack.zarr"), shape=stack.shape, dtype=stack.dtype, chunks=(1, 128, 128)
    )
    source[...] = stack
    result = segment_blockwise(
        tmp_path / "stack.zarr", tmp_path / "cells.zarr", model, "ZYX", block=(3, 128, 128),
        device="cpu", tta=False, spacing=SPACING,
    )  # fmt: skip
    labels = zarr.open(str(result.path))[...]
    assert not labels[0].any()
    assert same_partition(labels[1:], without_blank)

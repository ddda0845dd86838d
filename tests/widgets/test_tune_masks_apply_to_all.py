"""Tune's slice preview of a volume makes each slice's foreground as *Apply to all* does
(session 32, f13: one implementation, :func:`tessella.engine.methods.semantic.slab_foreground`,
on the slab of slices the ball reaches): random volumes with anisotropic spacing and blank
slices (walls: each run between them a volume of its own, its ends the image's edge), radius
1-4, holes filled or not, a Z median (session 33; it was left out of the preview) or none;
every non-blank slice's preview foreground equals the foreground of *Apply to all*'s labels
(``semantic.postprocess`` with no size limit)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from tessella._widgets import _tune_masks
from tessella.engine.methods import Prediction, semantic


@pytest.mark.parametrize("seed", range(4))
def test_every_slice_previewed_is_apply_to_alls(seed):
    rng = np.random.default_rng(seed)
    for _ in range(4):
        depth = int(rng.integers(3, 24))
        shape = (depth, int(rng.integers(8, 40)), int(rng.integers(8, 40)))
        probability = ndimage.gaussian_filter(rng.random(shape), 1.2).astype(np.float32)
        probability = (probability - probability.min()) / np.ptp(probability)
        blank = sorted({int(z) for z in rng.integers(0, depth, int(rng.integers(0, 3)))})
        probability[blank] = 0.0
        spacing = (float(rng.choice([1.0, 2.0, 3.0])), 1.0, float(rng.choice([1.0, 1.5])))
        meta = {"spacing": spacing, "blank_slices": blank} if blank else {"spacing": spacing}
        prediction = Prediction({"foreground": probability[None]}, "ZYX", meta)
        params = semantic.Params(
            threshold=float(rng.uniform(0.3, 0.7)),
            radius=int(rng.integers(1, 5)),
            # (in the preview since session 33: 0 off, even sizes as the next odd one)
            z_median=int(rng.choice([0, 2, 3, 5, 7])),
            fill_holes=bool(rng.integers(2)),
            min_size=int(rng.integers(0, 50)),  # (size limits act on objects, not here)
        )
        applied = semantic.postprocess(prediction, replace(params, min_size=0)) > 0
        _tune_masks._MASKS.clear()
        for z in range(depth):
            if z in blank:
                continue
            previewed = _tune_masks.plane_mask(semantic, prediction, params, z)
            np.testing.assert_array_equal(previewed, applied[z], err_msg=f"slice {z}")


@pytest.mark.parametrize("seed", range(3))
def test_z_median_alone_is_previewed_as_apply_to_all_makes_it(seed):
    """Without a radius the slice depends on the slices of the Z median's window alone
    (before session 33 the slice was made alone, in 2D, without it)."""
    rng = np.random.default_rng(100 + seed)
    depth = int(rng.integers(2, 20))
    probability = rng.random((depth, 24, 24)).astype(np.float32)  # single-slice errors
    blank = [int(rng.integers(0, depth))] if depth > 6 else []
    probability[blank] = 0.0
    meta = {"blank_slices": blank} if blank else {}
    prediction = Prediction({"foreground": probability[None]}, "ZYX", meta)
    for z_median in (3, 4, 5, 9, 31):
        params = semantic.Params(threshold=0.5, radius=0, z_median=z_median, min_size=0)
        assert _tune_masks.reach(semantic, prediction, params) == (z_median | 1) // 2
        applied = semantic.postprocess(prediction, params) > 0
        _tune_masks._MASKS.clear()
        for z in range(depth):
            if z in blank:
                continue
            previewed = _tune_masks.plane_mask(semantic, prediction, params, z)
            np.testing.assert_array_equal(previewed, applied[z], err_msg=f"{z_median}: {z}")

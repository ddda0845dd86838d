"""Tune's slice preview of a volume makes each slice's foreground as *Apply to all* does
(session 32, f13: one implementation, :func:`tessella.engine.methods.semantic.slab_foreground`,
on the slab of slices the ball reaches): random volumes with anisotropic spacing and blank
slices (walls: each run between them a volume of its own, its ends the image's edge), radius
1-4, holes filled or not; every non-blank slice's preview foreground equals the foreground of
*Apply to all*'s labels (``semantic.postprocess`` with no size limit)."""

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
            fill_holes=bool(rng.integers(2)),
            z_median=int(rng.integers(0, 2)) * 5,  # (left out of the preview: it says so)
            min_size=int(rng.integers(0, 50)),  # (size limits act on objects, not here)
        )
        applied = semantic.postprocess(prediction, replace(params, z_median=0, min_size=0)) > 0
        _tune_masks._MASKS.clear()
        for z in range(depth):
            if z in blank:
                continue
            previewed = _tune_masks.plane_mask(semantic, prediction, params, z)
            np.testing.assert_array_equal(previewed, applied[z], err_msg=f"slice {z}")

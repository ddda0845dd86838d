"""The semantic method's opening and closing (:mod:`tessella.engine.methods._morphology`:
erosions and dilations of shifted copies) equal ``scipy.ndimage``'s exactly, which the method
used before (session 32, f13): one implementation for *Apply to all*, Segment, blockwise and
Tune's slice preview, which makes a slice's foreground on the slab of slices the ball reaches
(:func:`~tessella.engine.methods.semantic.slab_foreground`)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from tessella.engine.methods import Prediction, semantic
from tessella.engine.methods._morphology import (
    Stopped,
    ball,
    dilate,
    erode,
    margin,
    opened_closed,
)

SPACINGS = [(1.0, 1.0, 1.0), (2.0, 1.0, 1.0), (3.5, 1.0, 1.0), (1.0, 1.5, 1.0), (1.0, 1.0, 2.0)]


def _random_mask(rng, shape) -> np.ndarray:
    """Blobs and specks of varied density, foreground touching the edges."""
    noise = ndimage.gaussian_filter(rng.random(shape), rng.uniform(0.5, 2.0))
    return noise > np.quantile(noise, rng.uniform(0.2, 0.8))


def _scipy_open_close(mask, footprint):
    """The semantic method's steps before (engine/methods/semantic.py up to session 32)."""
    mask = ndimage.binary_dilation(
        ndimage.binary_erosion(mask, footprint, border_value=1), footprint
    )
    return ndimage.binary_erosion(
        ndimage.binary_dilation(mask, footprint), footprint, border_value=1
    )


@pytest.mark.parametrize("seed", range(6))
def test_erosion_dilation_and_opening_closing_equal_scipy(seed):
    rng = np.random.default_rng(seed)
    for _ in range(8):
        shape = tuple(int(s) for s in rng.integers([1, 3, 3], [14, 40, 40]))
        spacing = np.asarray(SPACINGS[rng.integers(len(SPACINGS))])
        radius = int(rng.integers(1, 5))
        footprint = ball(radius, spacing / spacing.min())
        mask = _random_mask(rng, shape)
        expected = ndimage.binary_erosion(mask, footprint, border_value=1)
        np.testing.assert_array_equal(erode(mask, footprint), expected)
        np.testing.assert_array_equal(
            dilate(mask, footprint), ndimage.binary_dilation(mask, footprint)
        )
        np.testing.assert_array_equal(
            opened_closed(mask, footprint), _scipy_open_close(mask, footprint)
        )
        flat, disc = mask[0], ball(radius, spacing[1:] / spacing[1:].min())  # 2D
        np.testing.assert_array_equal(
            erode(flat, disc), ndimage.binary_erosion(flat, disc, border_value=1)
        )
        np.testing.assert_array_equal(dilate(flat, disc), ndimage.binary_dilation(flat, disc))


@pytest.mark.parametrize("seed", range(4))
def test_a_slab_gives_the_slices_of_the_whole_volume(seed):
    """Tune's preview: slices lo..hi of a slab cut ``margin`` slices beyond them (or at the
    volume's ends) are those of the whole volume's foreground, holes filled or not."""
    rng = np.random.default_rng(100 + seed)
    for _ in range(6):
        depth = int(rng.integers(2, 30))
        shape = (depth, int(rng.integers(5, 36)), int(rng.integers(5, 36)))
        spacing = np.asarray(SPACINGS[rng.integers(len(SPACINGS))])
        relative = spacing / spacing.min()
        params = semantic.Params(
            threshold=float(rng.uniform(0.3, 0.7)),
            radius=int(rng.integers(0, 5)),
            fill_holes=bool(rng.integers(2)),
        )
        probability = ndimage.gaussian_filter(rng.random(shape), 1.2).astype(np.float32)
        probability = (probability - probability.min()) / np.ptp(probability)
        prediction = Prediction({"foreground": probability[None]}, "ZYX", {"spacing": spacing})
        whole = semantic.foreground_mask(prediction, params)
        reach = margin(semantic._ball(params.radius, relative)) if params.radius else 0
        lo = int(rng.integers(0, depth))
        hi = int(rng.integers(lo + 1, depth + 1))
        a, b = max(0, lo - reach), min(depth, hi + reach)
        slab = semantic.slab_foreground(
            probability[a:b], params, relative, lo - a, hi - a, (a == 0, b == depth)
        )
        np.testing.assert_array_equal(slab, whole[lo:hi])


def test_the_edge_is_foreground_for_erosions_and_a_cut_slab_needs_its_margin():
    mask = np.ones((6, 9, 9), bool)
    footprint = ball(2, np.ones(3))
    assert opened_closed(mask, footprint).all()  # (the image's edge: foreground)
    with pytest.raises(ValueError, match="needs 8 slices"):
        opened_closed(mask, footprint, 2, 3, (False, True))
    with pytest.raises(Stopped):
        opened_closed(mask, footprint, halt=lambda: True)
    prediction = Prediction({"foreground": mask[None].astype(np.float32)}, "ZYX")
    with pytest.raises(ValueError, match="z_median 3"):  # (a cut end: half its window)
        semantic.slab_foreground(mask, semantic.Params(z_median=3), np.ones(3), 0, 2, (False, True))
    assert semantic.foreground_mask(prediction, semantic.Params(z_median=3, radius=1)).all()

"""The semantic method's objects are the pieces ``--gt-binary`` scores: pixels touching at a
face, an edge or a corner are one object (full connectivity, ``mask_pieces``), with and
without ``split``, so a perfect probability map scores 1.0 against its binary mask."""

from __future__ import annotations

import numpy as np
import pytest

from tessella.engine.evaluation import evaluate_labels, mask_pieces
from tessella.engine.methods import Prediction
from tessella.engine.methods.semantic import Params, postprocess, split_objects


def corner_touching(ndim: int) -> np.ndarray:
    """Two squares (cubes) of side 10 that meet at one corner pixel (voxel) only."""
    mask = np.zeros((30,) * ndim, np.uint8)
    mask[(slice(5, 15),) * ndim] = 1
    mask[(slice(15, 25),) * ndim] = 1
    return mask


def perfect(mask: np.ndarray) -> Prediction:
    """A network that is sure and right: 0.95 on the mask, 0 elsewhere."""
    axes = "ZYX" if mask.ndim == 3 else "YX"
    return Prediction({"foreground": mask[None].astype(np.float32) * 0.95}, axes)


@pytest.mark.parametrize("ndim", [2, 3])
def test_objects_touching_at_a_corner_are_one_object_as_binary_ground_truth_scores(ndim):
    truth = corner_touching(ndim)
    assert mask_pieces(truth)[1] == 1  # the ground truth's rule: one object
    labels = postprocess(perfect(truth), Params(radius=0, min_size=1))
    assert labels.max() == 1 and np.array_equal(labels > 0, truth > 0)
    result = evaluate_labels(truth, labels, kind="binary", metrics_wanted=("ap",))
    assert (result.tp, result.fp, result.fn) == (1, 0, 0)
    assert result.scores["ap"]["0.5"] == 1.0


@pytest.mark.parametrize("ndim", [2, 3])
def test_split_keeps_a_diagonal_thread_whole(ndim):
    """A one-pixel thread drawn diagonally (a worm, a thin process): every pixel is a
    distance maximum, and only corners join them; split cuts no neck there."""
    mask = np.zeros((24,) * ndim, bool)
    steps = np.arange(2, 22)
    mask[(steps,) * ndim] = True
    assert mask_pieces(mask)[1] == 1
    labels = split_objects(mask, 5)
    assert labels.max() == 1 and np.array_equal(labels > 0, mask)
    labels = postprocess(perfect(mask.astype(np.uint8)), Params(min_size=1, split=True))
    assert labels.max() == 1 and np.count_nonzero(labels) == steps.size


def test_split_still_cuts_two_squares_that_touch_at_a_corner():
    """Full connectivity makes them one piece; the corner is the narrowest of necks, so the
    watershed cuts it, as it cuts two discs that overlap."""
    mask = np.zeros((32, 32), bool)
    mask[5:16, 5:16] = mask[16:27, 16:27] = True  # 11 x 11, meeting at (15, 15) / (16, 16)
    assert mask_pieces(mask)[1] == 1
    labels = split_objects(mask, 5)
    assert labels.max() == 2 and labels[10, 10] != labels[21, 21]
    assert np.array_equal(labels > 0, mask)

"""A binary ground truth (``tessella evaluate --gt-binary``) split into objects by the rule the
training's check of binary masks counts pieces with: pixels that touch only at a corner are one
piece (full connectivity, :func:`tessella.engine.evaluation.mask_pieces`).

``--gt-binary`` labelled the mask with face connectivity (4 neighbours in 2D), so a real worm
of BBBC010 drawn diagonally in places was scored as several objects, while training counted
it as one (the rule settled after 4-connectivity wrongly refused real worm masks).
"""

from __future__ import annotations

import json

import numpy as np
import pytest


@pytest.fixture(scope="module")
def worm(data_dir) -> np.ndarray:
    """A real BBBC010 worm mask (well B14, worm 8) whose thin parts touch only at corners:
    one worm, in 4 pieces by face connectivity."""
    import tifffile

    stack = tifffile.imread(data_dir / "worms_bbbc010" / "worm_masks" / "B14.tif")
    return (stack[8] > 0).astype(np.uint8)


def test_a_diagonal_worm_is_one_binary_object_as_training_counts_it(worm):
    from scipy import ndimage

    from tessella.engine.evaluation import binary_mask_pieces, evaluate_labels, truth_objects

    assert ndimage.label(worm)[1] == 4  # (face connectivity: what --gt-binary scored)
    assert binary_mask_pieces(worm) == (1, 1)  # the training's check: one object
    objects = truth_objects(worm, "binary")[0]
    assert objects.max() == 1 and np.array_equal(objects > 0, worm > 0)
    result = evaluate_labels(worm, worm.astype(np.int32), kind="binary")
    assert (result.n_true, result.tp, result.fn) == (1, 1, 0)  # (old: 4 objects, 3 missed)
    assert result.scores["ap"]["0.5"] == 1.0


def test_cli_gt_binary_scores_the_worm_whole(worm, tmp_path):
    import tifffile

    from tessella.cli import main

    tifffile.imwrite(tmp_path / "gt.tif", worm)
    tifffile.imwrite(tmp_path / "pred.tif", worm.astype(np.uint16) * 7)  # the worm, ID 7
    out = tmp_path / "scores.json"
    args = ["evaluate", str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), "--json", str(out)]
    assert main([*args, "--gt-binary", "-q"]) == 0
    assert json.loads(out.read_text())["ap"]["0.5"] == 1.0  # (old: 0.25, one of 4 pieces matched)

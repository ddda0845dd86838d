"""Sparse instance ground truth with an unannotated label (``ignore_label``, the panel's
*Unannotated label*, ``evaluate_labels(..., ignore_label=N)``) of a lazy 2D pair (a zarr,
dask) is scored a piece at a time, as lazy labels without one are (56074cf): a first pass
counts each predicted object's pixels on the unannotated ones, and the prediction is cut
there as ``without_ignored`` cuts a pair in memory, so the scores, counts, error map and
notes are those of the pair read whole. Before, such a pair was read whole. Real data: the
DSB2018 fixture's 125 nuclei, its right third and a band unannotated; pieces of 97 pixels."""

from __future__ import annotations

import os
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import tifffile

from tessella.engine.evaluation import _tiles, evaluate_labels
from tessella.engine.progress import run_steps
from tests.engine._evaluate_pieces_common import Lazy

DATA = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data"))
MASK = DATA / "fixtures" / "mask2d.tif"
SIDE = 97
UNANNOTATED = 999
WANTED = ("ap", "iou")

pytestmark = pytest.mark.skipif(not MASK.exists(), reason="no fixtures data")


def _pair() -> tuple[np.ndarray, np.ndarray]:
    """The nuclei with their right third and rows 200-239 unannotated, against the nuclei
    shifted by 2 pixels, every 7th left out (objects in the unannotated part dropped, those
    across its edge that touch an annotated nucleus cut at it)."""
    nuclei = tifffile.imread(MASK)
    truth = nuclei.copy()
    truth[:, 340:] = UNANNOTATED
    truth[200:240] = UNANNOTATED
    pred = np.roll(nuclei, 2, axis=1).astype(np.uint32)
    pred[np.isin(pred, np.arange(1, 184, 7))] = 0
    return truth, pred


def _both(truth, pred):
    whole = evaluate_labels(truth, pred, metrics_wanted=WANTED, ignore_label=UNANNOTATED)
    steps = _tiles.tiled_steps(da.from_array(truth, chunks=SIDE), pred, metrics_wanted=WANTED,
                               side=SIDE, ignore_label=UNANNOTATED)  # fmt: skip
    return whole, run_steps(steps)


def test_lazy_pair_with_an_unannotated_label_scores_as_read_whole():
    truth, pred = _pair()
    whole, tiled = _both(truth, pred)
    assert whole.n_true > 50 and 0 < whole.tp < whole.n_true and whole.fp > 0
    assert (tiled.n_true, tiled.n_pred, tiled.tp, tiled.fp, tiled.fn) == (
        whole.n_true, whole.n_pred, whole.tp, whole.fp, whole.fn
    )  # fmt: skip
    assert tiled.scores == whole.scores and tiled.notes == whole.notes
    assert np.array_equal(tiled.errors, whole.errors)
    # the panel's way in: a lazy layer goes to the pieces, with the same result
    lazy = evaluate_labels(da.from_array(truth, chunks=128), da.from_array(pred, chunks=128),
                           metrics_wanted=WANTED, ignore_label=UNANNOTATED)  # fmt: skip
    assert lazy.scores == whole.scores and np.array_equal(lazy.errors, whole.errors)


def test_notes_and_refusal_as_read_whole():
    truth, pred = _pair()
    image = np.random.default_rng(0).integers(0, 4000, truth.shape).astype(np.int32)
    one = np.where(truth == UNANNOTATED, UNANNOTATED, (truth > 0) * 5).astype(np.uint16)
    for given, predicted in ((truth, image), (one, pred)):  # an image; one object ID left
        whole, tiled = _both(given, predicted)
        assert tiled.notes == whole.notes and whole.notes
    with pytest.raises(ValueError, match="unannotated label 999: no ground-truth pixel has it"):
        _both(np.where(truth == UNANNOTATED, 0, truth), pred)


def test_lazy_pair_with_an_unannotated_label_is_never_read_whole(monkeypatch):
    """``evaluate_labels`` of lazy sides (the panel's way in) reads a piece at a time (it
    read both whole: 512 x 512)."""
    monkeypatch.setattr(_tiles, "TILE_SIDE", SIDE)
    truth, pred = _pair()
    seen = [0]
    lazy = evaluate_labels(Lazy(truth, seen), Lazy(pred, seen), metrics_wanted=WANTED,
                           ignore_label=UNANNOTATED)  # fmt: skip
    assert 0 < seen[0] <= SIDE * SIDE
    whole = evaluate_labels(truth, pred, metrics_wanted=WANTED, ignore_label=UNANNOTATED)
    assert lazy.scores == whole.scores and np.array_equal(lazy.errors, whole.errors)

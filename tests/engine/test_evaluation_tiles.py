"""A lazy 2D pair of labels (a zarr, a dask array: a blockwise result, a multiscale layer's
level 0) is scored a piece at a time, never read whole, with the scores, counts, error map
and notes of the same pair in memory.

Before, :func:`evaluate_labels_steps` read both whole (``np.asarray``): a 20000² uint32 pair
is 1.6 GB a side, 5.5 GiB at the peak in all (the pair as zarrs, 97 s); now 0.37 GiB
(the error map) and 32 s.
"""

from __future__ import annotations

import numpy as np
import pytest

from tessella.engine.evaluation import _tiles, evaluate_labels, evaluate_labels_steps


class NoWholeRead:
    """A lazy labels array (as zarr's): pieces read by indexing, each counted; reading it
    whole (``np.asarray``) fails."""

    def __init__(self, array: np.ndarray):
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, 2
        self.largest = 0

    def __getitem__(self, where):
        piece = self.array[where]
        self.largest = max(self.largest, piece.size)
        return piece

    def __array__(self, dtype=None, copy=None):
        raise AssertionError(f"read whole: {self.shape}")


def _pair() -> tuple[np.ndarray, np.ndarray]:
    """A 150 x 230 pair: ~40 square objects, the prediction shifted, one missed, one
    spurious, one merged with its neighbour."""
    truth = np.zeros((150, 230), np.uint32)
    k = 0
    for y in range(5, 140, 20):
        for x in range(5, 220, 40):
            k += 1
            truth[y : y + 14, x : x + 30] = 1000 + k * 7
    prediction = np.roll(truth, 2, axis=1) // 7
    prediction[prediction == 1000 // 7 + 3] = 0  # missed
    prediction[140:148, 10:20] = 9999  # spurious
    prediction[prediction == 1000 // 7 + 5] = 1000 // 7 + 6  # two joined
    return truth, prediction


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_a_lazy_pair_is_scored_in_pieces_as_in_memory(monkeypatch, threshold):
    monkeypatch.setattr(_tiles, "TILE_SIDE", 64)  # 3 x 4 pieces, the edge ones smaller
    truth, prediction = _pair()
    lazy_truth, lazy_prediction = NoWholeRead(truth), NoWholeRead(prediction)
    wanted = ("ap", "iou")
    result = evaluate_labels(lazy_truth, lazy_prediction, threshold, metrics_wanted=wanted)
    whole = evaluate_labels(truth, prediction, threshold, metrics_wanted=wanted)

    assert max(lazy_truth.largest, lazy_prediction.largest) == 64 * 64  # (before: read whole)
    assert result.scores == whole.scores
    counts = ("n_true", "n_pred", "tp", "fp", "fn")
    assert [getattr(result, c) for c in counts] == [getattr(whole, c) for c in counts]
    assert whole.fp and whole.fn  # (something to show)
    np.testing.assert_array_equal(result.errors, whole.errors)
    assert result.notes == whole.notes


def test_a_lazy_pair_counts_its_pieces_twice(monkeypatch):
    """The bar's parts: the overlaps of each piece, then its errors."""
    monkeypatch.setattr(_tiles, "TILE_SIDE", 64)
    truth, prediction = _pair()
    steps = evaluate_labels_steps(NoWholeRead(truth), NoWholeRead(prediction))
    seen = []
    while True:
        try:
            seen.append(next(steps))
        except StopIteration:
            break
    pixels = [(p.done, p.total) for p in seen if p.stage == "pixels"]
    assert pixels == [(k, 24) for k in range(1, 25)]
    assert (seen[0].stage, seen[-1].stage) == ("objects", "match")


def test_notes_of_a_lazy_pair(monkeypatch):
    """The notes of a pair in memory: an intensity image given as the prediction, a label
    painted on the background of the ground truth."""
    monkeypatch.setattr(_tiles, "TILE_SIDE", 64)
    image = np.random.default_rng(0).integers(0, 4000, (150, 230)).astype(np.uint32)
    painted = np.ones((150, 230), np.uint32)
    painted[:10, :10] = 2
    result = evaluate_labels(NoWholeRead(painted), NoWholeRead(image))
    whole = evaluate_labels(painted, image)
    assert len(result.notes) == 2 and result.notes == whole.notes


def test_exact_ties_are_matched_alike_in_pieces_and_whole(monkeypatch):
    """At IoU 0.5 an object cut into two exact halves matches one of them: the same one
    (and so the same error map) in memory, read in pieces, and run after run."""
    monkeypatch.setattr(_tiles, "TILE_SIDE", 64)
    truth = np.zeros((150, 230), np.uint32)
    prediction = np.zeros_like(truth)
    for k, x in enumerate(range(0, 200, 50)):  # pieces joined in several ways
        truth[10:30, x : x + 40] = k + 1
        prediction[10:30, x : x + 20] = 10 + 2 * k + (k % 2)
        prediction[10:30, x + 20 : x + 40] = 11 + 2 * k - (k % 2)
    whole = [evaluate_labels(truth, prediction, 0.5).errors for _ in range(2)]
    lazy = evaluate_labels(NoWholeRead(truth), NoWholeRead(prediction), 0.5)
    assert lazy.tp == 4 and lazy.fp == 4
    np.testing.assert_array_equal(whole[0], whole[1])
    np.testing.assert_array_equal(lazy.errors, whole[0])

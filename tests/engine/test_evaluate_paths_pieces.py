"""``tessella evaluate PRED.zarr GT.zarr`` and ``tessella.evaluate_paths`` read a pair of 2D
label zarrs (a blockwise result) a piece at a time, never whole, as the Evaluate panel does
(56074cf), with the scores, rows, notes and errors of the same pair as TIFFs read whole.

Before, ``score_paths`` read both zarrs whole (``as_array``): an 8192² uint32 pair took
+1.9 GiB at the peak."""

from __future__ import annotations

import numpy as np
import pytest

from tessella.engine.evaluation import score_paths
from tests.engine._evaluate_pieces_common import spy_largest_read, write_pair_file
from tests.engine.test_evaluation_tiles import _pair

SIDE = 64  # the pieces here: 3 x 4 of the 150 x 230 pair, the edge ones smaller


def _write(folder, name: str, array: np.ndarray) -> tuple[str, str]:
    """``array`` as NAME.zarr (chunks of 50 x 50) and NAME.tif in ``folder``."""
    return write_pair_file(folder, name, array, 50)


@pytest.fixture
def largest_read(monkeypatch):
    """The most pixels read at once (``io.as_array``, what ``score_paths`` reads with)."""
    return spy_largest_read(monkeypatch, SIDE)


def _scores(pred: str, gt: str, metrics, notes: list) -> dict:
    scores = score_paths(pred, gt, metrics, per_image=True, warn=notes.append)
    for row in scores["images"]:
        row["name"] = row["name"].split(".")[0]  # (gt.zarr, gt.tif)
    return scores


@pytest.mark.parametrize("metrics", [("ap",), ("ap", "iou"), ("iou",)])
def test_a_zarr_pair_is_scored_in_pieces_as_read_whole(tmp_path, largest_read, metrics):
    truth, prediction = _pair()
    gt_zarr, gt_tif = _write(tmp_path, "gt", truth)
    pred_zarr, pred_tif = _write(tmp_path, "pred", prediction)
    notes: list[str] = []
    pieces = _scores(pred_zarr, gt_zarr, metrics, notes)
    assert 0 < largest_read[0] <= SIDE * SIDE  # (before: 150 * 230, each read whole)
    whole = _scores(pred_tif, gt_tif, metrics, [])
    assert pieces == whole and notes == []
    assert whole["images"][0]["n_true"] == 42


def test_notes_and_errors_of_a_zarr_pair_as_read_whole(tmp_path, largest_read):
    """An intensity image given as the prediction, a label painted on the background of
    the ground truth: the same notes, naming the files; a negative label: the same error."""
    image = np.random.default_rng(0).integers(0, 4000, (150, 230)).astype(np.int32)
    painted = np.ones((150, 230), np.uint32)
    painted[:10, :10] = 2
    gt_zarr, gt_tif = _write(tmp_path, "gt", painted)
    pred_zarr, pred_tif = _write(tmp_path, "pred", image)
    notes: list[str] = []
    pieces = _scores(pred_zarr, gt_zarr, ("ap",), notes)
    assert largest_read[0] <= SIDE * SIDE
    assert pieces == _scores(pred_tif, gt_tif, ("ap",), [])
    whole: list[str] = []
    score_paths(pred_tif, gt_tif, warn=whole.append)
    assert len(notes) == 2 and notes == [n.replace(".tif", ".zarr") for n in whole]
    assert "are PRED and GT swapped?" not in notes[1] and "painted" in notes[1]
    image[140, 200] = -3  # in the last piece
    image[3, 3] = -1
    _write(tmp_path, "pred", image)
    with pytest.raises(ValueError) as zarr_error:
        score_paths(pred_zarr, gt_zarr)
    with pytest.raises(ValueError) as tif_error:
        score_paths(pred_tif, gt_tif)
    assert str(zarr_error.value) == str(tif_error.value).replace(".tif", ".zarr")
    assert "labels must not be negative (found -3)" in str(zarr_error.value)

"""Ground truth taken as a binary mask (``kind="binary"``, ``--gt-binary``) of a lazy 2D
pair (a zarr, dask) is scored a piece at a time, as lazy instance labels are (56074cf):
its connected pieces are found piece by piece and joined across the pieces' edges
(``_tiles.binary_pieces``), numbered as ``mask_pieces`` numbers them whole, so the scores,
counts, error map and notes are those of the pair read whole. Before, such a pair was read
whole (``tiled_steps`` took instance labels only; ``score_paths`` read both zarrs whole).
Real data: Lucchi++ mitochondria (val slices), pieces of 97 pixels so that many
mitochondria cross the edges."""

from __future__ import annotations

import os
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella.engine.evaluation import _tiles, evaluate_labels, mask_pieces, score_paths
from tessella.engine.progress import run_steps
from tests.engine._evaluate_pieces_common import spy_largest_read, write_pair_file

DATA = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data"))
MITO = DATA / "em_mito_lucchipp" / "val" / "mito.tif"
SIDE = 97


def _pair() -> tuple[np.ndarray, np.ndarray]:
    """Slice 0 of the mitochondria (a 0/1 mask, 11 of them) and a prediction: the pieces
    of slice 10, eroded by a pixel (10 of 12 match)."""
    stack = tifffile.imread(MITO)
    truth = stack[0]
    pred = mask_pieces(ndimage.binary_erosion(stack[10] > 0))[0].astype(np.uint32)
    return truth, pred


def _pieces_whole(mask: np.ndarray, side: int) -> np.ndarray:
    steps = _tiles.binary_pieces(lambda where: mask[where], mask.shape, side)
    read, _rows = _tiles._finish(steps)
    out = np.zeros(mask.shape, np.int64)
    for where in _tiles.tiles(mask.shape, side):
        out[where] = read(where)
    return out


def test_pieces_numbered_as_mask_pieces_numbers_them_whole():
    """A diagonal across the corner where four pieces meet, a ring around a piece's corner,
    a line along an edge: one object each, numbered as read whole."""
    mask = np.zeros((9, 9), np.uint8)
    mask[2, 2] = mask[3, 3] = 1  # (pieces of 3: the corner at (3, 3))
    mask[5:8, 5] = mask[5, 5:8] = mask[7, 5:8] = mask[5:8, 7] = 1
    mask[0, :] = 1
    mask[8, 0] = 1
    assert np.array_equal(_pieces_whole(mask, 3), mask_pieces(mask)[0])


@pytest.mark.skipif(not MITO.exists(), reason="no Lucchi++ data")
def test_lazy_binary_truth_scores_as_read_whole():
    truth, pred = _pair()
    assert np.array_equal(_pieces_whole(truth, SIDE), mask_pieces(truth)[0])
    wanted = ("ap", "iou")
    whole = evaluate_labels(truth, pred, kind="binary", metrics_wanted=wanted)
    steps = _tiles.tiled_steps(da.from_array(truth, chunks=SIDE), pred, 0.5, metrics_wanted=wanted,
                        side=SIDE, kind="binary")  # fmt: skip
    tiled = run_steps(steps)
    assert (whole.n_true, whole.n_pred, whole.tp) == (11, 12, 10)
    assert (tiled.n_true, tiled.n_pred, tiled.tp, tiled.fp, tiled.fn) == (
        whole.n_true, whole.n_pred, whole.tp, whole.fp, whole.fn
    )  # fmt: skip
    assert tiled.scores == whole.scores and tiled.notes == whole.notes
    assert np.array_equal(tiled.errors, whole.errors)
    # a mask of object values (a label image given as binary): the same note
    labels = mask_pieces(truth)[0].astype(np.uint16)
    whole = evaluate_labels(labels, pred, kind="binary", metrics_wanted=wanted)
    tiled = run_steps(_tiles.tiled_steps(da.from_array(labels), pred, metrics_wanted=wanted,
                                  side=SIDE, kind="binary"))  # fmt: skip
    assert tiled.notes == whole.notes and "distinct object values" in whole.notes[0]


@pytest.mark.skipif(not MITO.exists(), reason="no Lucchi++ data")
def test_gt_binary_zarr_pair_read_in_pieces(tmp_path, monkeypatch):
    """``score_paths(..., gt_binary=True)`` (``tessella evaluate --gt-binary``) of two
    zarrs reads a piece at a time (it read both whole) with the scores of the TIFFs."""
    truth, pred = _pair()
    paths = {name: write_pair_file(tmp_path, name, array, 128)
             for name, array in (("gt", truth), ("pred", pred))}  # fmt: skip
    seen = spy_largest_read(monkeypatch, SIDE)
    pieces = score_paths(paths["pred"][0], paths["gt"][0], ("ap", "iou"), gt_binary=True)
    assert 0 < seen[0] <= SIDE * SIDE  # (before: 768 x 1024, each read whole)
    whole = score_paths(paths["pred"][1], paths["gt"][1], ("ap", "iou"), gt_binary=True)
    assert pieces == whole and whole["ap"]["0.5"] > 0

"""Ground truth taken as a 2D membrane map (``kind="boundaries"``, ``tessella evaluate
--gt-boundaries --metric ap``) of a lazy pair (a zarr, dask) is scored a piece at a time:
its cells (the regions of 0, 4 neighbours) are found piece by piece and joined across the
pieces' edges, numbered as ``membrane_map_objects`` numbers them whole, so the scores,
counts, error map and notes (a map of inverted polarity, a label image given as a map) are
those of the pair read whole. Before, such a pair was read whole. Real data: ISBI 2012
slice 0 (pieces of 61 pixels: every cell of the neuropil crosses an edge or several)."""

from __future__ import annotations

import os
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella.engine.evaluation import (
    _tiles,
    evaluate_labels,
    membrane_map_objects,
    score_paths,
)
from tessella.engine.progress import run_steps
from tests.engine._evaluate_pieces_common import spy_largest_read, write_pair_file

DATA = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data"))
MAP = DATA / "em_membranes_isbi2012" / "boundaries" / "00.tif"
SIDE = 61
WANTED = ("ap", "iou")

pytestmark = pytest.mark.skipif(not MAP.exists(), reason="no ISBI 2012 data")


def _pair() -> tuple[np.ndarray, np.ndarray]:
    """The membrane map of slice 0 and a prediction: its cells with the membrane thickened
    by two pixels (thin cells lost or split, the others smaller)."""
    truth = tifffile.imread(MAP)
    thick = ndimage.binary_dilation(truth > 0, iterations=2)
    return truth, ndimage.label(~thick)[0].astype(np.uint32)


def _both(truth, pred):
    whole = evaluate_labels(truth, pred, kind="boundaries", metrics_wanted=WANTED)
    steps = _tiles.tiled_steps(da.from_array(truth, chunks=SIDE), pred, metrics_wanted=WANTED,
                               side=SIDE, kind="boundaries")  # fmt: skip
    return whole, run_steps(steps)


def test_lazy_membrane_map_scores_as_read_whole():
    truth, pred = _pair()
    steps = _tiles.binary_pieces(lambda where: truth[where], truth.shape, SIDE, membrane=True)
    read, _rows = _tiles._finish(steps)
    cells = np.zeros(truth.shape, np.int64)
    for where in _tiles.tiles(truth.shape, SIDE):
        cells[where] = read(where)
    assert np.array_equal(cells, membrane_map_objects(truth)[0])
    whole, tiled = _both(truth, pred)
    assert whole.n_true > 100 and 0 < whole.tp < whole.n_true
    assert (tiled.n_true, tiled.n_pred, tiled.tp, tiled.fp, tiled.fn) == (
        whole.n_true, whole.n_pred, whole.tp, whole.fp, whole.fn
    )  # fmt: skip
    assert tiled.scores == whole.scores and tiled.notes == whole.notes == ()
    assert np.array_equal(tiled.errors, whole.errors)


def test_notes_of_a_lazy_membrane_map_as_read_whole():
    truth, pred = _pair()
    inverted = (1 - truth).astype(np.uint16)  # 78% membrane
    labels = membrane_map_objects(truth)[0].astype(np.uint16)  # a label image as a map
    for given, words in ((inverted, "of its pixels are membrane"), (labels, "a label image?")):
        whole, tiled = _both(given, pred)
        assert tiled.notes == whole.notes and words in whole.notes[-1]
        assert tiled.scores == whole.scores


def test_gt_boundaries_zarr_pair_read_in_pieces(tmp_path, monkeypatch):
    """``score_paths(..., gt_boundaries=True)`` of two zarrs, AP and foreground IoU, reads a
    piece at a time (it read both whole) with the scores of the TIFFs."""
    truth, pred = _pair()
    paths = {name: write_pair_file(tmp_path, name, array, 128)
             for name, array in (("gt", truth), ("pred", pred))}  # fmt: skip
    seen = spy_largest_read(monkeypatch, SIDE)
    pieces = score_paths(paths["pred"][0], paths["gt"][0], WANTED, gt_boundaries=True)
    assert 0 < seen[0] <= SIDE * SIDE  # (before: 512 x 512, each read whole)
    whole = score_paths(paths["pred"][1], paths["gt"][1], WANTED, gt_boundaries=True)
    assert pieces == whole and whole["ap"]["0.5"] > 0

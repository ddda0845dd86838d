"""A side of a lazy 2D pair holding one object ID only (a binary mask or a membrane map
given as instance labels) is no longer read whole for its note: its pieces (8 neighbours),
and for ground truth its regions of 0 and its lines (4 neighbours), are counted a piece at
a time (``_tiles.binary_pieces``), so the notes are those of the pair read whole. Before,
``_tiles._notes`` read such a side whole (``ground_truth_note``, ``prediction_note`` of
``read(k, None)``). Real data: Lucchi++ mitochondria masks, ISBI 2012 membranes, pieces of
97 pixels."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella.engine.evaluation import _tiles, evaluate_labels, mask_pieces, score_paths
from tests.engine._evaluate_pieces_common import Lazy, spy_largest_read, write_pair_file

DATA = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data"))
MITO = DATA / "em_mito_lucchipp" / "val" / "mito.tif"
MAP = DATA / "em_membranes_isbi2012" / "boundaries" / "00.tif"
SIDE = 97

pytestmark = pytest.mark.skipif(
    not (MITO.exists() and MAP.exists()), reason="no Lucchi++ or ISBI 2012 data"
)


def _cases() -> list[tuple[str, np.ndarray, np.ndarray, int | None, str]]:
    """(what, ground truth, prediction, unannotated label, a words of the note expected)."""
    stack = tifffile.imread(MITO)
    mask = (stack[0] > 0).astype(np.uint8)  # (0 and 1: 11 mitochondria)
    eroded = ndimage.binary_erosion(stack[10] > 0).astype(np.uint16) * 3  # (0 and 3)
    pieces = mask_pieces(eroded)[0].astype(np.uint32)
    membranes = tifffile.imread(MAP)  # (0 and 1: 1 = membrane)
    cells = ndimage.label(membranes == 0)[0].astype(np.uint32)
    sparse = mask.copy()
    sparse[:, 700:] = 9
    return [
        ("mask as labels", mask, pieces, None, "separate pieces: a binary mask"),
        ("mask as prediction", pieces, eroded, None, "a binary mask, not labels"),
        ("map as labels", membranes, cells, None, "like a membrane map"),
        ("inverted map", 1 - membranes, cells, None, "mostly 1 with lines of 0"),
        ("mask with unannotated", sparse, pieces, 9, "separate pieces: a binary mask"),
        ("prediction with unannotated", sparse, eroded, 9, "a binary mask, not labels"),
    ]


@pytest.mark.parametrize("case", range(6))
def test_one_id_side_noted_as_read_whole_in_pieces(case, monkeypatch):
    what, truth, pred, label, said = _cases()[case]
    whole = evaluate_labels(truth, pred, ignore_label=label, metrics_wanted=("ap", "iou"))
    assert any(said in note for note in whole.notes), (what, whole.notes)
    monkeypatch.setattr(_tiles, "TILE_SIDE", SIDE)
    seen = [0]
    lazy = evaluate_labels(Lazy(truth, seen), Lazy(pred, seen), ignore_label=label,
                           metrics_wanted=("ap", "iou"))  # fmt: skip
    assert 0 < seen[0] <= SIDE * SIDE, what  # (before: read whole for the note)
    assert lazy.notes == whole.notes and lazy.scores == whole.scores
    assert np.array_equal(lazy.errors, whole.errors)


def test_cli_one_id_zarr_noted_as_the_tiff(tmp_path, monkeypatch):
    """``tessella evaluate`` of two zarrs, the ground truth a 0/1 mask: the same warning as
    of the TIFFs (its hint names --gt-binary), the zarrs read a piece at a time."""
    _what, truth, pred, _label, said = _cases()[0]
    paths = {name: write_pair_file(tmp_path, name, array, 128)
             for name, array in (("gt", truth), ("pred", pred))}  # fmt: skip
    seen = spy_largest_read(monkeypatch, SIDE)
    noted: dict[str, list[str]] = {"zarr": [], "tif": []}
    for k, how in ((0, "zarr"), (1, "tif")):
        score_paths(paths["pred"][k], paths["gt"][k], ("ap",), warn=noted[how].append)
        if how == "zarr":
            assert 0 < seen[0] <= SIDE * SIDE  # (before: 786432 pixels, read whole)
    assert [n.replace(".zarr", "") for n in noted["zarr"]] == [
        n.replace(".tif", "") for n in noted["tif"]
    ]
    assert any(said in n and "--gt-binary" in n for n in noted["tif"])

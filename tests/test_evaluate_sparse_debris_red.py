"""In a frame whose ground truth looks sparse (GOWT1's SEG frame 40: 2 of about 24 nuclei
annotated), the predicted objects touching no annotated cell are "not annotated" (yellow)
only where they are of cell size: debris, specks far below the annotated cells' size, stays
a false positive (red). It was yellow too, every untouched object of a sparse frame being
taken for a cell the annotation leaves out. ``tessella evaluate``'s note counts the same."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.evaluation import FALSE_POSITIVE, NOT_ANNOTATED, evaluate_labels

DATA = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data"))
GOWT = DATA / "ctc_Fluo-N2DH-GOWT1" / "01_GT"


def _with_specks(pred: np.ndarray, count: int = 6) -> tuple[np.ndarray, list[int]]:
    """``pred`` (GOWT1's tracking markers) with ``count`` 5x5 specks (25 pixels; the
    annotated nuclei are about 2,700) where no marker or annotated cell is near."""
    out = pred.copy()
    ids, y = [], 8
    for x in range(8, out.shape[1] - 8, 40):
        if len(ids) == count:
            break
        if not out[y - 4 : y + 9, x - 4 : x + 9].any():
            out[y : y + 5, x : x + 5] = 60000 + len(ids)
            ids.append(60000 + len(ids))
    assert len(ids) == count
    return out, ids


@pytest.mark.skipif(not (GOWT / "SEG" / "man_seg040.tif").exists(), reason="no GOWT1 data")
def test_specks_in_a_sparse_gowt1_frame_stay_false_positives(tmp_path, capsys):
    truth = tifffile.imread(GOWT / "SEG" / "man_seg040.tif")
    pred, specks = _with_specks(tifffile.imread(GOWT / "TRA" / "man_track040.tif"))
    assert not np.isin(truth, 0, invert=True)[np.isin(pred, specks)].any()
    result = evaluate_labels(truth[None], pred[None], annotated=[(0,)])
    assert result.sparse_places == ((0,),)
    red = set(np.unique(pred[None][result.errors == FALSE_POSITIVE]).tolist())
    yellow = set(np.unique(pred[None][result.errors == NOT_ANNOTATED]).tolist())
    assert red == set(specks)  # (all yellow before)
    assert not yellow & set(specks) and len(yellow) == result.not_annotated == 22
    assert result.fp == 22 + len(specks)  # the scores unchanged: both are FP to AP
    # tessella evaluate's note counts the nuclei only (it counted the specks too)
    seg = tmp_path / "01_GT" / "SEG"
    seg.mkdir(parents=True)
    for t in (0, 1):  # (two frames: a folder of one file is a 2D image)
        tifffile.imwrite(seg / f"man_seg{t:03d}.tif", truth)
    movie = np.stack([pred, pred])
    tifffile.imwrite(tmp_path / "pred.tif", movie, imagej=True, metadata={"axes": "TYX"})
    assert main(["evaluate", str(tmp_path / "pred.tif"), str(seg.parent)]) == 0
    err = capsys.readouterr().err
    assert "in 2 of the 2 images scored (SEG[0], SEG[1]): 44 predicted objects" in err

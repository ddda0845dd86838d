"""``tessella evaluate PRED SEG`` pairs a prediction of part of a movie with the SEG folder
by the frame numbers its recipe records (Segment of a folder ``t008.tif ...``), as the
Evaluate panel pairs layers (user test s35/t19 #1, #2): a cells2dt result of SIM+ frames
8-14 against the dataset's ``01_GT/SEG`` was refused ("man_seg007.tif annotates frame 7;
the prediction has 7 frames"), and one of a SEG folder of other frames scored frame 8
against the folder's first. Real SIM+ frames, cropped."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tests.conftest import DATA

SEG = DATA / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "SEG"
CROP = (slice(200, 456), slice(150, 406))


def _seg(t: int) -> np.ndarray:
    return tifffile.imread(SEG / f"man_seg{t:03d}.tif")[CROP]


@pytest.fixture
def part_of_a_movie(tmp_path):
    """SIM+'s SEG of frames 0-15 (cropped) in ``ds/01_GT/SEG``, and ``pred.tif``: the
    ground truth of frames 8-10 as a perfect prediction, frame 9 emptied, with the recipe
    Segment keeps beside it (``frame_numbers`` 8, 9, 10)."""
    if not SEG.is_dir():
        pytest.skip(f"no {SEG}")
    seg = tmp_path / "ds" / "01_GT" / "SEG"
    seg.mkdir(parents=True)
    for t in range(16):
        tifffile.imwrite(seg / f"man_seg{t:03d}.tif", _seg(t))
    pred = np.stack([_seg(t) for t in (8, 9, 10)])
    pred[1] = 0
    tifffile.imwrite(tmp_path / "pred.tif", pred, imagej=True, metadata={"axes": "TYX"})
    recipe = {"model": "cells2dt", "params": {}, "axes": "TYX", "frame_numbers": [8, 9, 10]}
    (tmp_path / "pred.recipe.json").write_text(json.dumps(recipe))
    return tmp_path / "pred.tif", seg


def test_seg_folder_scored_at_the_frames_of_their_numbers(part_of_a_movie, tmp_path, capsys):
    pred, seg = part_of_a_movie
    out = tmp_path / "scores.json"
    assert main(["evaluate", str(pred), str(seg), "--metric", "seg", "--json", str(out)]) == 0
    scores = json.loads(out.read_text())
    assert scores["annotated"]["frames"] == 3
    frames = {row["name"]: row["seg"] for row in scores["images"]}
    # man_seg008 and 010 found whole, 009's cells missed (each row named by its file)
    assert frames == {"man_seg008.tif": 1.0, "man_seg009.tif": 0.0, "man_seg010.tif": 1.0}
    assert "at the frames of pred.tif of their numbers" in capsys.readouterr().out


def test_seg_folder_of_no_frame_in_common_is_refused(part_of_a_movie, tmp_path, capsys):
    pred, seg = part_of_a_movie
    other = tmp_path / "lay" / "01_GT" / "SEG"
    other.mkdir(parents=True)
    for t in (52, 53):
        (other / f"man_seg{t:03d}.tif").write_bytes((seg / f"man_seg{t - 44:03d}.tif").read_bytes())
    assert main(["evaluate", str(pred), str(other), "--metric", "seg"]) == 1
    err = capsys.readouterr().err
    assert "annotates frames 52-53; the prediction pred.tif holds frames 8-10" in err, err
    assert "none in common" in err

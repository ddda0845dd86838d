"""`segment --ctc` numbers a CTC result as its input (maskTTT.tif for tTTT.tif, res_track.txt
frames too), and `evaluate --ctc` scores such a result against the right ground-truth frames
(user test s28/t5 item 5: frames t052-t055 were written as mask000-mask003 and scored against
frames 0-3, SEG 0.109 instead of about 0.85)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.tracking import read_ctc_tracks, write_ctc
from tests.conftest import DATA

SIM = DATA / "ctc_Fluo-N2DH-SIM+"


@pytest.fixture(scope="module")
def sim_result(tmp_path_factory):
    """cells2dt on SIM+ 01's frames 52-55 (symlinked as t052.tif ... t055.tif), --ctc."""
    if not (SIM / "01" / "t052.tif").is_file():
        pytest.fail(f"the SIM+ sequence is not at {SIM} (set TESSELLA_DATA)")
    root = tmp_path_factory.mktemp("sim52")
    seq = root / "01"
    seq.mkdir()
    for t in range(52, 56):
        (seq / f"t{t:03d}.tif").symlink_to(SIM / "01" / f"t{t:03d}.tif")
    res = root / "01_RES"
    args = ["segment", str(seq), "-o", str(root / "labels.tif"), "--model", "cells2dt"]
    assert main([*args, "--ctc", str(res), "-q"]) == 0
    return root, res


def test_segment_ctc_keeps_the_input_frame_numbers(sim_result):
    root, res = sim_result
    masks = sorted(p.name for p in res.glob("mask*.tif"))
    assert masks == ["mask052.tif", "mask053.tif", "mask054.tif", "mask055.tif"]
    labels = tifffile.imread(root / "labels.tif")
    np.testing.assert_array_equal(tifffile.imread(res / "mask053.tif"), labels[1])
    tracks = read_ctc_tracks(res / "res_track.txt")
    assert tracks and min(k.start for k in tracks) == 52 and max(k.end for k in tracks) == 55
    # each track's rows say the frames its ID is in
    for k in tracks[:10]:
        present = [
            t for t in range(52, 56) if (tifffile.imread(res / f"mask{t:03d}.tif") == k.id).any()
        ]
        assert present == list(range(k.start, k.end + 1)), k


def test_evaluate_ctc_scores_the_result_frames_against_the_full_ground_truth(
    sim_result, tmp_path, capsys
):
    _root, res = sim_result
    gt = SIM / "01_GT"
    capsys.readouterr()
    # without --frames: the ground truth annotates frames 0-51 and 56-64 that it lacks
    assert main(["evaluate", str(res), str(gt), "--ctc"]) == 1
    err = capsys.readouterr().err
    assert f"{res} has frames 52:56" in err and "give --frames 52:56" in err, err
    # frames it does not have are refused
    assert main(["evaluate", str(res), str(gt), "--ctc", "--frames", "0:4", "-q"]) == 1
    assert "has frames 52:56" in capsys.readouterr().err
    out = tmp_path / "scores.json"
    assert (
        main(["evaluate", str(res), str(gt), "--ctc", "--frames", "52:56", "--json", str(out)]) == 0
    )
    scores = json.loads(out.read_text())
    # the card's SEG on frames 52-64 is 0.852; frames 0-3 of the ground truth scored 0.1
    assert scores["seg"] > 0.75, scores["seg"]
    assert [row["frame"] for row in scores["images"]] == [52, 53, 54, 55]
    assert [row["name"] for row in scores["images"]][0] == "man_seg052.tif"
    assert scores["link_accuracy"] > 0.9 and scores["links"] > 50


def test_write_ctc_first_frame_numbers_masks_and_tracks(tmp_path):
    movie = np.zeros((3, 8, 8), np.int32)
    movie[:, 2:4, 2:4] = 1
    movie[1:, 5:7, 5:7] = 2
    files = write_ctc(movie, {}, tmp_path / "res", first_frame=9)
    assert [p.name for p in files] == ["mask009.tif", "mask010.tif", "mask011.tif", "res_track.txt"]
    assert [
        (k.id, k.start, k.end) for k in read_ctc_tracks(tmp_path / "res" / "res_track.txt")
    ] == [
        (1, 9, 11),
        (2, 10, 11),
    ]


def test_segment_ctc_of_frames_that_skip_numbers_names_masks_by_their_frames(tmp_path, capsys):
    """Frames t052, t053, t055 (054 missing): the masks keep their frames' numbers
    (mask055.tif holds t055; it was written as mask054.tif, numbered on from 52), none is
    written for 54, and a warning says so (s29/t1 P1). 256x256 crops of the frames (13 or
    14 cells of the ground truth each) cost a seventh of the whole frames."""
    seq = tmp_path / "01"
    seq.mkdir()
    for t in (52, 53, 55):
        frame = tifffile.imread(SIM / "01" / f"t{t:03d}.tif")[400:656, 300:556]
        tifffile.imwrite(seq / f"t{t:03d}.tif", frame)
    res = tmp_path / "01_RES"
    args = ["segment", str(seq), "-o", str(tmp_path / "labels.tif"), "--model", "cells2dt"]
    assert main([*args, "--ctc", str(res), "-q"]) == 0
    err = capsys.readouterr().err
    assert "frame 54 missing" in err  # the reader's warning, as before
    said = "frame 54 is missing from the input: --ctc writes no mask054.tif"
    assert said in err, err
    masks = sorted(p.name for p in res.glob("mask*.tif"))
    assert masks == ["mask052.tif", "mask053.tif", "mask055.tif"]
    labels = tifffile.imread(tmp_path / "labels.tif")
    np.testing.assert_array_equal(tifffile.imread(res / "mask055.tif") > 0, labels[2] > 0)
    assert len(np.unique(labels[2])) > 5  # cells, segmented
    tracks = read_ctc_tracks(res / "res_track.txt")
    assert tracks and not any(k.start <= 54 <= k.end for k in tracks)
    assert {k.start for k in tracks} >= {52, 55} and max(k.end for k in tracks) == 55

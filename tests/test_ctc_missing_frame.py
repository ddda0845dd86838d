"""A CTC result of a movie whose folder misses a frame keeps its frames' real numbers (user
test s29/t1 P1): frames t039, t040, t042, t043 were written as mask039-mask042, so mask041.tif
held frame 42 (a warning said from which mask the numbers were off, but the files stayed
misnumbered) and ``evaluate --ctc --frames 39:44`` silently scored frames 42-43 against the
ground truth of frames 41-42. Now the masks are named by their frames' numbers (no
mask041.tif), a track present on both sides of the missing frame is split there (the part
after it a new track whose parent is the part before, as the CTC format needs a track in
every frame from its begin to its end), ``evaluate --ctc`` refuses frames that span the
missing frame where the ground truth annotates it (naming mask041.tif and that the input had
no frame 41) and scores the frames on either side. ``segment`` also refuses an output that
is the input by a hard link."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import warnings

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image
from tessella.engine.tracking import ctc_tracks, read_ctc_tracks, write_ctc
from tessella.engine.tracking._evaluate import evaluate_ctc
from tests.conftest import DATA

SIM = DATA / "ctc_Fluo-N2DH-SIM+"
CROP = (slice(384, 576), slice(128, 320))  # about 9 nuclei
FRAMES = (39, 40, 42, 43)  # 41 missing


def _crop(path):
    return np.asarray(read_image(path).data)[CROP]


@pytest.fixture(scope="module")
def gap_result(tmp_path_factory):
    """cells2dt --ctc on SIM+ 01 crops t039, t040, t042, t043 (no t041); the ground truth of
    frames 39-43 cropped alike (SEG, TRA markers, man_track.txt)."""
    if not (SIM / "01" / "t041.tif").is_file():
        pytest.fail(f"the SIM+ sequence is not at {SIM} (set TESSELLA_DATA)")
    root = tmp_path_factory.mktemp("ctc_gap")
    seq = root / "01"
    seq.mkdir()
    for t in FRAMES:
        tifffile.imwrite(seq / f"t{t:03d}.tif", _crop(SIM / "01" / f"t{t:03d}.tif"))
    gt = root / "01_GT"
    (gt / "SEG").mkdir(parents=True)
    (gt / "TRA").mkdir()
    for t in range(39, 44):
        name = f"man_seg{t:03d}.tif"
        tifffile.imwrite(gt / "SEG" / name, _crop(SIM / "01_GT" / "SEG" / name))
        name = f"man_track{t:03d}.tif"
        tifffile.imwrite(gt / "TRA" / name, _crop(SIM / "01_GT" / "TRA" / name))
    shutil.copy(SIM / "01_GT" / "TRA" / "man_track.txt", gt / "TRA" / "man_track.txt")
    res = root / "01_RES"
    args = ["segment", str(seq), "-o", str(root / "labels.tif"), "--model", "cells2dt"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err):  # (the CLI prints its warnings there)
        rc = main([*args, "--ctc", str(res), "-q"])
    assert rc == 0, err.getvalue()
    return root, res, gt, err.getvalue().splitlines()


def test_segment_ctc_names_masks_by_frame_and_writes_none_for_the_missing_frame(gap_result, capsys):
    root, res, _gt, said = gap_result
    masks = sorted(p.name for p in res.glob("mask*.tif"))
    assert masks == ["mask039.tif", "mask040.tif", "mask042.tif", "mask043.tif"]
    labels = tifffile.imread(root / "labels.tif")
    assert labels.shape[0] == 4
    # mask042.tif holds frame 42 (the labels' third frame), its tracks' IDs aside
    mask42 = tifffile.imread(res / "mask042.tif")
    np.testing.assert_array_equal(mask42 > 0, labels[2] > 0)
    np.testing.assert_array_equal(tifffile.imread(res / "mask040.tif"), labels[1])
    text = " ".join(said)
    assert "frame 41 is missing from the input: --ctc writes no mask041.tif" in text, said
    assert "numbers its masks from" not in text and "is not its frame's" not in text

    # res_track.txt: frame numbers; every track in each mask from its begin to its end
    tracks = read_ctc_tracks(res / "res_track.txt")
    assert tracks
    present = {
        t: set(np.unique(tifffile.imread(res / f"mask{t:03d}.tif")).tolist()) for t in FRAMES
    }
    for k in tracks:
        assert k.start in FRAMES and k.end in FRAMES, k
        assert not k.start <= 41 <= k.end, k  # no track spans the missing frame
        assert [t for t in FRAMES if k.id in present[t]] == [
            t for t in FRAMES if k.start <= t <= k.end
        ], k
    # the nuclei followed across the gap: tracks ending at 40, continued at 42 as their
    # daughters (the CTC way of writing a gap)
    ends = {k.id for k in tracks if k.end == 40}
    continued = [k for k in tracks if k.start == 42 and k.parent in ends]
    assert len(continued) >= 3, tracks


def test_evaluate_ctc_refuses_frames_over_the_missing_frame_and_scores_around_it(
    gap_result, tmp_path, capsys
):
    _root, res, gt, _said = gap_result
    capsys.readouterr()
    assert main(["evaluate", str(res), str(gt), "--ctc", "--frames", "39:44"]) == 1
    err = capsys.readouterr().err
    assert f"{res}: mask041.tif is missing" in err, err
    assert "its input had no frame 41" in err and "SEG/man_seg041.tif" in err, err
    assert "--frames 39:41 or --frames 42:44" in err, err

    out = tmp_path / "s.json"
    args = ["evaluate", str(res), str(gt), "--ctc", "--json", str(out), "-q"]
    assert main([*args, "--frames", "42:44"]) == 0
    scores = json.loads(out.read_text())
    assert [row["frame"] for row in scores["images"]] == [42, 43]
    assert scores["seg"] > 0.7, scores["seg"]  # (shifted by a frame: well below)
    assert scores["links"] > 0 and scores["link_accuracy"] > 0.8, scores
    assert main([*args, "--frames", "39:41"]) == 0
    scores = json.loads(out.read_text())
    assert [row["frame"] for row in scores["images"]] == [39, 40]
    assert scores["seg"] > 0.7, scores["seg"]


def test_evaluate_ctc_scores_over_a_missing_frame_the_ground_truth_lacks_too(gap_result, tmp_path):
    """A ground truth of SEG files at 39, 40, 42, 43 only (no TRA): the result's frames are
    scored, frame 41 left out with a warning."""
    _root, res, gt, _said = gap_result
    seg_only = tmp_path / "GT"
    (seg_only / "SEG").mkdir(parents=True)
    for t in FRAMES:
        shutil.copy(gt / "SEG" / f"man_seg{t:03d}.tif", seg_only / "SEG")
    with pytest.warns(UserWarning, match="no mask of frame 41"):
        scores = evaluate_ctc(res, seg_only)
    assert [row["frame"] for row in scores["images"]] == list(FRAMES)
    assert scores["seg"] > 0.7


def _two_cells() -> np.ndarray:
    """Three frames: cell 1 in all, cell 5 in all, a mother 7 in the first two dividing into
    8 and 9 in the third, cell 11 in the third only."""
    movie = np.zeros((3, 24, 24), np.uint16)
    movie[:, 1:4, 1:4] = 1
    movie[:, 1:4, 10:13] = 5
    movie[:2, 12:18, 12:18] = 7
    movie[2, 12:15, 12:18] = 8
    movie[2, 15:18, 12:18] = 9
    movie[2, 20:23, 2:5] = 11
    return movie


def test_write_ctc_splits_a_track_at_a_frame_missing_from_the_input(tmp_path):
    """Frames numbered 39, 40, 42: tracks 1 and 5 continue at 42 as new tracks (12, 13)
    whose parents they are; the division 7 -> 8, 9 keeps its parent (7 ends at 40)."""
    movie = _two_cells()
    lineage = {8: 7, 9: 7}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = write_ctc(movie, lineage, tmp_path / "res", frame_numbers=[39, 40, 42])
    assert [p.name for p in files] == ["mask039.tif", "mask040.tif", "mask042.tif", "res_track.txt"]
    rows = [(k.id, k.start, k.end, k.parent) for k in read_ctc_tracks(files[-1])]
    assert rows == [
        (1, 39, 40, 0),
        (5, 39, 40, 0),
        (7, 39, 40, 0),
        (8, 42, 42, 7),
        (9, 42, 42, 7),
        (11, 42, 42, 0),
        (12, 42, 42, 1),
        (13, 42, 42, 5),
    ]
    last = tifffile.imread(files[2])
    assert last[2, 2] == 12 and last[2, 11] == 13 and last[21, 3] == 11
    np.testing.assert_array_equal(tifffile.imread(files[0]), movie[0])
    said = " ".join(str(w.message) for w in caught)
    assert "track 1 is missing from frame t041 (not in the input)" in said, said

    # the plan computed first (as segment --ctc and Export do) writes the same files
    plan = ctc_tracks(movie, lineage, [39, 40, 42])
    assert plan.split == {1: [41], 5: [41]}
    write_ctc(movie, lineage, tmp_path / "res2", tracks=plan, frame_numbers=[39, 40, 42])
    for name in ("mask042.tif", "res_track.txt"):
        assert (tmp_path / "res2" / name).read_bytes() == (tmp_path / "res" / name).read_bytes()
    # a plan of other frames, or numbers that do not fit, are refused before any file
    with pytest.raises(ValueError, match="tracks of frames"):
        plan = ctc_tracks(movie, lineage)  # (frames 0, 1, 2)
        write_ctc(movie, lineage, tmp_path / "res3", tracks=plan, frame_numbers=[39, 40, 42])
    with pytest.raises(ValueError, match="increasing"):
        write_ctc(movie, lineage, tmp_path / "res3", frame_numbers=[39, 42, 40])
    with pytest.raises(ValueError, match="3 frames"):
        write_ctc(movie, lineage, tmp_path / "res3", frame_numbers=[39, 40])
    assert not (tmp_path / "res3").exists()


def test_segment_refuses_an_output_that_is_the_input_by_a_hard_link(tmp_path, capsys):
    """-o OUT where OUT is a hard link to the input (one file under two names): refused even
    with --overwrite, nothing written (the check compared resolved paths only)."""
    image = _crop(SIM / "01" / "t041.tif")[:96, :96]
    source = tmp_path / "cells.tif"
    tifffile.imwrite(source, image)
    out = tmp_path / "cells_link.tif"
    os.link(source, out)
    before = source.read_bytes()
    args = ["segment", str(source), "-o", str(out), "--model", "nuclei2d", "--overwrite"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "the output would replace the input" in err, err
    assert source.read_bytes() == before and out.read_bytes() == before
    assert not (tmp_path / "cells_link.recipe.json").exists()


def test_evaluate_labels_of_part_of_a_movie_against_seg_names_the_ctc_way(gap_result, capsys):
    """`evaluate labels.tif NN_GT/SEG` of a movie's part (frames 39, 40, 42, 43: no t041)
    places each SEG file at the labels' frame of its number, as the recipe beside them
    records the frame numbers (s35 f13, 6a52621; it was refused, its frames counted from 0,
    s29/t1 P11): man_seg041.tif, of no frame of the labels, is left out. --frames without
    --ctc is still refused, naming what works."""
    root, _res, gt, _said = gap_result
    capsys.readouterr()
    assert main(["evaluate", str(root / "labels.tif"), str(gt / "SEG")]) == 0
    out = capsys.readouterr().out
    assert "images: 4" in out and "at the frames of labels.tif of their numbers" in out, out
    assert "man_seg041" not in out, out
    assert main(["evaluate", str(root / "labels.tif"), str(gt / "SEG"), "--frames", "39:44"]) == 1
    assert "--ctc --frames A:B" in capsys.readouterr().err

"""`tessella evaluate` as a core facility scripts it (user test s28/t3): each image's scores in
`--json` and the worst images printed (P2), `--ctc` against a ground truth longer than the
result (P3), and a `--json` path that cannot be written (P7)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import tifffile
from scipy import ndimage

from tessella.cli import main
from tessella.engine import metrics, tracking

SIM = "ctc_Fluo-N2DH-SIM+"


def _dsb_pairs(data_dir, tmp_path, count=4):
    """The first ``count`` DSB2018 validation masks as ground truth, and predictions made of
    them: the second drops every other nucleus, the fourth is eroded, the others are exact."""
    masks = sorted((data_dir / "nuclei2d_dsb2018" / "val" / "masks").glob("*.tif"))[:count]
    for sub in ("gt", "pred"):
        (tmp_path / sub).mkdir()
    pairs = {}
    for k, path in enumerate(masks):
        truth = tifffile.imread(path)
        predicted = truth.copy()
        if k == 1:
            predicted[np.isin(truth, np.unique(truth)[1::2])] = 0
        if k == 3:
            predicted = ndimage.grey_erosion(truth, size=5)
        shutil.copy(path, tmp_path / "gt" / path.name)
        tifffile.imwrite(tmp_path / "pred" / path.name, predicted)
        pairs[path.name] = (truth, predicted)
    return pairs


def test_each_image_is_scored_in_json_and_the_worst_are_printed(data_dir, tmp_path, capsys):
    """The JSON held only the dataset means (n_images, ap, avs, ...): the image that failed
    could not be found without scoring each file again."""
    pairs = _dsb_pairs(data_dir, tmp_path)
    out = tmp_path / "e.json"
    wanted = ["--metric", "ap", "--metric", "seg", "--metric", "iou", "--metric", "vrand"]
    command = ["evaluate", str(tmp_path / "pred"), str(tmp_path / "gt"), *wanted]
    assert main([*command, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    scores = json.loads(out.read_text())
    rows = scores["images"]
    assert [row["name"] for row in rows] == sorted(pairs)
    for row in rows:
        truth, predicted = pairs[row["name"]]
        for threshold in ("0.5", "0.6", "0.7", "0.8", "0.9"):
            expected = metrics.matching(truth, predicted, float(threshold))
            assert row["ap"][threshold] == expected.ap
            assert (row["tp"][threshold], row["fp"][threshold], row["fn"][threshold]) == (
                expected.tp,
                expected.fp,
                expected.fn,
            )
        assert (row["n_true"], row["n_pred"]) == (expected.n_true, expected.n_pred)
        assert row["avs"] == np.mean(list(row["ap"].values()))
        assert row["seg"] == metrics.seg_score(truth, predicted)
        assert row["foreground_iou"] == metrics.foreground_iou(truth, predicted)
        assert row["vrand"] == metrics.rand_voi(truth, predicted)["vrand"]
    # the dataset means are the means of the rows
    assert scores["ap"]["0.5"] == np.mean([row["ap"]["0.5"] for row in rows])
    assert scores["vrand"] == np.mean([row["vrand"] for row in rows])
    # printed: the images below 1.0, worst first (dropped nuclei: AP(0.5) about 0.5)
    names = sorted(pairs)
    lines = printed.splitlines()
    at = lines.index(f'lowest AP(0.5): 2 of 4 images (each image\'s scores: "images" in {out})')
    assert lines[at + 1].split() == [
        "AP(0.5)", "avS", "SEG", "fg", "IoU", "vrand", "n_true", "n_pred", "image"
    ]  # fmt: skip
    worst = [line.split() for line in lines[at + 2 : at + 4]]
    assert [row[-1] for row in worst] == [names[1], names[3]]
    dropped = rows[1]
    assert worst[0][:2] == [f"{dropped['ap']['0.5']:.3f}", f"{dropped['avs']:.3f}"]
    assert worst[0][-3:-1] == [str(dropped["n_true"]), str(dropped["n_pred"])]
    assert names[0] not in printed and names[2] not in printed  # (exact: not listed)
    assert len(lines) == at + 4

    # mask stacks (--overlapping): each image's row too
    worms = data_dir / "worms_bbbc010" / "worm_masks" / "E03.tif"
    (tmp_path / "wg").mkdir()
    (tmp_path / "wp").mkdir()
    truth = tifffile.imread(worms)[:, 300:560, 100:460]
    truth = truth[truth.any(axis=(1, 2))]
    tifffile.imwrite(tmp_path / "wg" / "E03.tif", truth)
    tifffile.imwrite(tmp_path / "wp" / "E03.tif", truth[1:])
    overlapping = ["evaluate", str(tmp_path / "wp"), str(tmp_path / "wg"), "--overlapping"]
    assert main([*overlapping, "--json", str(out), "-q"]) == 0
    [row] = json.loads(out.read_text())["images"]
    assert (row["name"], row["n_true"], row["n_pred"]) == ("E03.tif", len(truth), len(truth) - 1)
    assert (row["tp"]["0.9"], row["fn"]["0.9"], row["fp"]["0.9"]) == (len(truth) - 1, 1, 0)


def _short_result(data_dir, tmp_path, frames=8):
    """A CTC result of the first ``frames`` frames of SIM+ 01: the ground truth's TRA masks
    (SIM+'s markers are whole cells) and its tracks cut at the last frame."""
    gt = data_dir / SIM / "01_GT"
    res = tmp_path / "01_RES"
    res.mkdir()
    for t in range(frames):
        shutil.copy(gt / "TRA" / f"man_track{t:03d}.tif", res / f"mask{t:03d}.tif")
    rows = []
    for track in tracking.read_ctc_tracks(gt / "TRA" / "man_track.txt"):
        if track.start < frames:
            rows.append(f"{track.id} {track.start} {min(track.end, frames - 1)} {track.parent}")
    (res / "res_track.txt").write_text("\n".join(rows) + "\n")
    return res, gt


def test_ctc_refuses_a_result_shorter_than_the_ground_truth(data_dir, tmp_path, capsys):
    """8 frames against SIM+'s 65 scored 'links reproduced: 210 of 210 (1.0000)', exit 0:
    a result cut short scored as perfect tracking."""
    res, gt = _short_result(data_dir, tmp_path)
    out = tmp_path / "ctc.json"
    command = ["evaluate", str(res), str(gt), "--ctc", "--json", str(out)]
    assert main(command) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and not out.exists()
    assert captured.err.strip() == (
        f"tessella evaluate: error: {res} has frames 0:8, but {gt} annotates 57 frames past "
        "them (the first, frame 8: SEG/man_seg008.tif); a result cut short would score as "
        "whole: give --frames 0:8 to score the frames it has"
    )
    # as it says: the frames the result has
    assert main([*command, "--frames", "0:8"]) == 0
    assert "links reproduced: 210 of 210 (1.0000)" in capsys.readouterr().out
    scores = json.loads(out.read_text())
    assert scores["seg_frames"] == 8 and scores["seg"] == 1.0 and scores["links"] == 210


def test_ctc_without_res_track_scores_no_links(data_dir, tmp_path, capsys):
    """A RES folder without res_track.txt was scored as tracked without a word: per-frame
    labels numbered alike in every frame reproduce links by chance."""
    res, gt = _short_result(data_dir, tmp_path, frames=3)
    (res / "res_track.txt").unlink()
    out = tmp_path / "ctc.json"
    command = ["evaluate", str(res), str(gt), "--ctc", "--frames", "0:3", "--json", str(out)]
    assert main(command) == 0
    captured = capsys.readouterr()
    why = f"{res} has no res_track.txt: its mask IDs are not known to be tracks, nor its divisions"
    assert captured.err.strip() == f"warning: links not scored, SEG only: {why}"
    assert captured.out.splitlines() == [
        "SEG: 1.0000 over 90 cells in 3 frames",
        f"links: not scored ({why})",
    ]
    scores = json.loads(out.read_text())
    assert scores["links_not_scored"] == why and "link_accuracy" not in scores


def test_json_that_cannot_be_written(data_dir, tmp_path, capsys):
    """A missing folder was created (a mistyped path made folders at /), and an unwritable one
    gave a raw errno naming a hidden temporary file, the scores never printed."""
    _dsb_pairs(data_dir, tmp_path, count=2)
    command = ["evaluate", str(tmp_path / "pred"), str(tmp_path / "gt")]
    missing = tmp_path / "nonexist" / "dir" / "x.json"
    assert main([*command, "--json", str(missing)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before scoring
    assert captured.err.strip() == (
        f"tessella evaluate: error: --json {missing}: the folder {missing.parent} does not "
        "exist; create it first"
    )
    assert not (tmp_path / "nonexist").exists()
    assert main([*command, "--ctc", "--json", str(missing)]) == 1  # (--ctc too)
    assert "does not exist; create it first" in capsys.readouterr().err
    assert not (tmp_path / "nonexist").exists()

    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o555)
    # root writes anywhere: without the capability to pass permissions, as the tester ran it
    drop = "-dac_override,-dac_read_search"
    as_user = ["setpriv", "--bounding-set", drop, "--inh-caps", drop] if os.geteuid() == 0 else []
    target = readonly / "e.json"
    done = subprocess.run(
        [*as_user, sys.executable, "-m", "tessella.cli", *command, "--json", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        == f"tessella evaluate: error: cannot write {target} (Permission denied)"
    )
    assert "avS (mean AP over 0.5..0.9): " in done.stdout  # the table, printed first
    assert list(readonly.iterdir()) == []


def test_ctc_scores_each_seg_frame(data_dir, tmp_path, capsys):
    """--ctc gave SEG pooled over the frames only: a frame segmented badly was not found."""
    res, gt = _short_result(data_dir, tmp_path)
    eroded = ndimage.grey_erosion(tifffile.imread(res / "mask005.tif"), size=7)
    tifffile.imwrite(res / "mask005.tif", eroded)
    missed = tifffile.imread(res / "mask002.tif")
    missed[missed == 3] = 0
    tifffile.imwrite(res / "mask002.tif", missed)
    out = tmp_path / "ctc.json"
    command = ["evaluate", str(res), str(gt), "--ctc", "--frames", "0:8", "--json", str(out)]
    assert main(command) == 0
    rows = json.loads(out.read_text())["images"]
    assert [(row["name"], row["frame"]) for row in rows] == [
        (f"man_seg{t:03d}.tif", t) for t in range(8)
    ]
    for row in rows:
        truth = tifffile.imread(gt / "SEG" / row["name"])
        result = tifffile.imread(res / f"mask{row['frame']:03d}.tif")
        assert row["seg"] == metrics.seg_score(truth, result)
        assert (row["n_true"], row["n_pred"]) == (
            len(np.unique(truth)) - 1,
            len(np.unique(result)) - 1,
        )
    assert [row["seg"] < 1 for row in rows] == [t in (2, 5) for t in range(8)]
    lines = capsys.readouterr().out.splitlines()
    at = lines.index(f'lowest SEG: 2 of 8 SEG frames (each image\'s scores: "images" in {out})')
    assert [line.split()[-1] for line in lines[at + 2 :]] == ["man_seg005.tif", "man_seg002.tif"]

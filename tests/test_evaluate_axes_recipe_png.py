"""``tessella evaluate`` follow-ups (s34 f14):

1. ``--axes``: a plain 3D movie (a TIFF saved without axes, as ``tifffile.imwrite`` saves a
   stack; 3 planes of it are even tagged planar RGB) is scored frame by frame with ``--axes
   TYX`` and the output says so; axes a file's own metadata contradict are refused, naming
   the file and both.
2. A labels TIFF naming no axes whose recipe beside it (``name.recipe.json``) says TYX is
   scored frame by frame, as the Evaluate panel's reader takes the recipe's axes.
3. A folder of 16-bit PNG ground-truth masks is paired with TIFF predictions by stem.

The movie: the SIM+ clip of tests/test_evaluate_timelapse_cli_api.py (3 frames 128 x 128,
cell 7 missed in frame 2: AP(0.5) frame by frame below 1, as one volume 1.0).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

import tessella
from tessella.cli import main
from tests.conftest import DATA
from tests.test_evaluate_timelapse_cli_api import _frame_ap50, clip_arrays


@pytest.fixture(scope="module")
def plain_clip(tmp_path_factory) -> tuple[Path, Path]:
    """The clip saved without axes (``tifffile.imwrite``): ``(pred, gt)``."""
    folder = tmp_path_factory.mktemp("plain")
    truth, pred = clip_arrays()
    tifffile.imwrite(folder / "gt.tif", truth)
    tifffile.imwrite(folder / "pred.tif", pred)
    return folder / "pred.tif", folder / "gt.tif"


def _evaluate(tmp_path, capsys, *args) -> tuple[int, dict, str, str]:
    out = tmp_path / "scores.json"
    rc = main(["evaluate", *map(str, args), "--metric", "ap", "--json", str(out)])
    captured = capsys.readouterr()
    scores = json.loads(out.read_text()) if out.exists() else {}
    return rc, scores, captured.out, captured.err


def test_axes_scores_a_plain_movie_frame_by_frame(plain_clip, tmp_path, capsys):
    pred, gt = plain_clip
    rc, scores, printed, _ = _evaluate(tmp_path, capsys, pred, gt)
    assert rc == 0 and scores["n_images"] == 1  # without --axes: one ZYX volume
    assert scores["ap"]["0.5"] == pytest.approx(1.0)
    rc, scores, printed, err = _evaluate(tmp_path, capsys, pred, gt, "--axes", "TYX")
    assert rc == 0, err
    assert scores["n_images"] == 3
    assert [row["name"] for row in scores["images"]] == ["gt.tif[0]", "gt.tif[1]", "gt.tif[2]"]
    assert scores["ap"]["0.5"] == pytest.approx(_frame_ap50())
    assert scores["movies"] == {"files": 1, "frames": 3}
    assert "frame by frame" in scores["scored_as"] and "--axes TYX" in scores["scored_as"]
    assert scores["scored_as"] in printed
    # lower case is taken too
    rc, again, _, _ = _evaluate(tmp_path, capsys, pred, gt, "--axes", "tyx")
    assert rc == 0 and again["ap"] == scores["ap"]


def test_axes_the_file_contradicts_are_refused(plain_clip, tmp_path, capsys):
    pred, _ = plain_clip
    truth, _ = clip_arrays()
    gt = tmp_path / "gt_zyx.tif"
    tessella.write_labels(gt, truth, axes="ZYX")  # its ImageJ metadata say ZYX
    rc, scores, _, err = _evaluate(tmp_path, capsys, pred, gt, "--axes", "TYX")
    assert rc == 1 and not scores
    assert "gt_zyx.tif" in err and "ZYX" in err and "TYX" in err
    assert "ImageJ metadata" in err
    # axes that do not fit the files: refused, naming the file
    rc, _, _, err = _evaluate(tmp_path, capsys, pred, pred, "--axes", "YX")
    assert rc == 1 and "pred.tif" in err and "--axes YX" in err
    # not for CTC folders or mask stacks
    rc, _, _, err = _evaluate(tmp_path, capsys, pred, pred, "--axes", "TYX", "--overlapping")
    assert rc == 1 and "--axes" in err and "--overlapping" in err


def test_the_recipe_beside_labels_gives_their_axes(plain_clip, tmp_path, capsys):
    src_pred, src_gt = plain_clip
    pred, gt = tmp_path / "pred.tif", tmp_path / "gt.tif"
    pred.write_bytes(src_pred.read_bytes())
    gt.write_bytes(src_gt.read_bytes())
    recipe = {
        "model": "nuclei2d",
        "params": {"prob_thresh": 0.5},
        "axes": "TYX",
        "input": "raw/movie.tif",
    }
    (tmp_path / "pred.recipe.json").write_text(json.dumps(recipe))
    rc, scores, printed, err = _evaluate(tmp_path, capsys, pred, gt)
    assert rc == 0, err
    assert scores["n_images"] == 3
    assert scores["ap"]["0.5"] == pytest.approx(_frame_ap50())
    assert "frame by frame" in scores["scored_as"]
    assert "pred.recipe.json" in scores["scored_as"]
    # a JSON beside it that is no Segment recipe (no model) gives nothing
    (tmp_path / "pred.recipe.json").write_text(json.dumps({"axes": "TYX"}))
    rc, scores, _, _ = _evaluate(tmp_path, capsys, pred, gt)
    assert rc == 0 and scores["n_images"] == 1


DSB_MASKS = DATA / "nuclei2d_dsb2018" / "val" / "masks"


def test_png_ground_truth_is_paired_with_tiff_predictions(tmp_path, capsys):
    names = sorted(DSB_MASKS.glob("*.tif"))[:3]
    if len(names) < 3:
        pytest.fail(f"the DSB2018 val masks are not at {DSB_MASKS} (set TESSELLA_DATA)")
    gt_dir, pred_dir = tmp_path / "gt", tmp_path / "pred"
    gt_dir.mkdir()
    pred_dir.mkdir()
    expected = []
    for i, path in enumerate(names):
        mask = tifffile.imread(path)[:128, :128].astype(np.uint16)
        Image.fromarray(mask).save(gt_dir / f"{path.stem}.png")  # 16-bit grey PNG
        pred = mask.copy()
        ids = [v for v in np.unique(mask) if v]
        if i == 0:  # one object missed in the first image
            pred[pred == ids[0]] = 0
            expected.append((len(ids) - 1) / len(ids))
        else:
            expected.append(1.0)
        tifffile.imwrite(pred_dir / f"{path.stem}.tif", pred)
    (gt_dir / "notes.txt").write_text("annotated in QuPath")  # not an image: ignored
    rc, scores, printed, err = _evaluate(tmp_path, capsys, pred_dir, gt_dir)
    assert rc == 0, err
    assert scores["n_images"] == 3
    assert sorted(row["name"] for row in scores["images"]) == [f"{p.stem}.png" for p in names]
    assert scores["ap"]["0.5"] == pytest.approx(np.mean(expected))
    assert scores["ap"]["0.5"] < 1.0

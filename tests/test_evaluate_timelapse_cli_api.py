"""``tessella evaluate``, ``tessella.evaluate`` and ``tessella.evaluate_paths`` score a
time-lapse frame by frame where its axes are known, as the Evaluate panel and the Cell
Tracking Challenge do, and say how they scored it (s34 user test t16, finding 1).

Before, a TYX movie whose files name their axes (ImageJ ``TYX``) was scored as one 3D
volume: a tracked prediction gives a cell one ID across frames, so a cell missed in one
frame of three still matched as a 3D object, and AP(0.5) read 1.000 where the panel said
0.905 (t16's SIM+ clip); nothing in the output said it was scored as a volume. A plain 3D
array (axes not known) is still one volume, and the output says so.

The clip: SIM+ 01 frames 0-2 (every cell annotated, one ID per track), cropped to 128 x 128;
the prediction is the ground truth with cell 7 missed in frame 2 and cell 3 eroded by 3 px
in every frame, its IDs kept across frames as a tracking model keeps them.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile
from scipy import ndimage

import tessella
from tessella.cli import main
from tests.conftest import DATA

SIM_SEG = DATA / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "SEG"
#: the crop of the clip: 6 cells in each of frames 0-2
CROP = (slice(352, 480), slice(32, 160))
MISSED, ERODED = 7, 3  # cell 7 is missed in frame 2; cell 3 is eroded in every frame


def clip_arrays() -> tuple[np.ndarray, np.ndarray]:
    """``(truth, prediction)``: the SIM+ clip, ``(3, 128, 128)`` uint16 each."""
    path = SIM_SEG / "man_seg000.tif"
    if not path.is_file():
        pytest.fail(f"the SIM+ ground truth is not at {SIM_SEG} (set TESSELLA_DATA)")
    truth = np.stack([tifffile.imread(SIM_SEG / f"man_seg{t:03d}.tif")[CROP] for t in range(3)])
    pred = truth.copy()
    pred[2][pred[2] == MISSED] = 0
    for frame in pred:
        cell = frame == ERODED
        frame[cell & ~ndimage.binary_erosion(cell, iterations=3)] = 0
    return truth, pred


def write_clip(folder: Path) -> tuple[Path, Path]:
    """The clip written as labels files with ImageJ axes TYX, as ``tessella segment`` writes
    a movie's labels: ``(pred, gt)`` paths."""
    truth, pred = clip_arrays()
    folder.mkdir(parents=True, exist_ok=True)
    gt_path, pred_path = folder / "gt.tif", folder / "pred.tif"
    tessella.write_labels(gt_path, truth, axes="TYX")
    tessella.write_labels(pred_path, pred, axes="TYX")
    return pred_path, gt_path


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> tuple[Path, Path]:
    return write_clip(tmp_path_factory.mktemp("clip"))


def _frame_ap50() -> float:
    """AP(0.5) of the clip frame by frame, counted here: frames 0 and 1 every cell matched
    (cell 3 eroded keeps IoU > 0.5), frame 2 one of 6 missed: (1 + 1 + 5/6) / 3."""
    truth, pred = clip_arrays()
    per_frame = []
    for t, p in zip(truth, pred):
        n_true, n_pred = len(np.unique(t)) - 1, len(np.unique(p)) - 1
        tp = min(n_true, n_pred)  # (every predicted cell is its true cell, IoU > 0.5)
        per_frame.append(tp / (n_true + n_pred - tp))
    return float(np.mean(per_frame))


def test_cli_scores_a_movie_frame_by_frame_and_says_so(clip, tmp_path, capsys):
    pred, gt = clip
    out = tmp_path / "scores.json"
    args = ["evaluate", str(pred), str(gt), "--metric", "ap", "--metric", "seg"]
    assert main([*args, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    scores = json.loads(out.read_text())
    assert scores["n_images"] == 3
    assert [row["name"] for row in scores["images"]] == ["gt.tif[0]", "gt.tif[1]", "gt.tif[2]"]
    # the cell missed in frame 2 counts: AP(0.5) below 1 (as one volume it read 1.0)
    assert _frame_ap50() == pytest.approx(5 / 6 / 3 + 2 / 3)
    assert scores["ap"]["0.5"] == pytest.approx(_frame_ap50())
    assert [row["n_true"] - row["n_pred"] for row in scores["images"]] == [0, 0, 1]
    assert scores["movies"] == {"files": 1, "frames": 3}
    assert "volumes" not in scores
    assert scores["scored_as"].startswith("scored frame by frame: the 3 frames of gt.tif")
    assert "ImageJ metadata" in scores["scored_as"]
    assert scores["scored_as"] in printed
    # the CTC's SEG of the clip, frame by frame: each true cell's Jaccard with its match,
    # pooled over the frames (the missed cell 0)
    truth, prediction = clip_arrays()
    jaccards = []
    for t_frame, p_frame in zip(truth, prediction):
        for cell in np.unique(t_frame)[1:]:
            t_mask, p_mask = t_frame == cell, p_frame == cell
            jaccards.append((t_mask & p_mask).sum() / (t_mask | p_mask).sum())
    assert scores["seg"] == pytest.approx(np.mean(jaccards))


def test_python_api_scores_the_movie_as_the_command(clip, tmp_path):
    pred, gt = clip
    out = tmp_path / "scores.json"
    args = ["evaluate", str(pred), str(gt), "--metric", "ap", "--metric", "seg"]
    assert main([*args, "--json", str(out)]) == 0
    cli = json.loads(out.read_text())
    by_paths = tessella.evaluate_paths(pred, gt, ("ap", "seg"))
    assert by_paths["ap"] == pytest.approx(cli["ap"])
    assert by_paths["seg"] == pytest.approx(cli["seg"])
    assert by_paths["scored_as"] == cli["scored_as"]
    # read_image's ImageData knows its T axis: frame by frame too
    truth, labels = tessella.read_image(gt), tessella.read_image(pred)
    assert truth.axes == labels.axes == "TYX"
    result = tessella.evaluate(truth, labels, metrics_wanted=("ap", "seg"))
    assert result.scores["n_images"] == 3
    assert result.scores["ap"] == pytest.approx(cli["ap"])
    assert result.scores["seg"] == pytest.approx(cli["seg"])
    assert (result.tp, result.fp, result.fn) == (17, 0, 1)
    assert result.scores["scored_as"].startswith("scored frame by frame: the 3 frames")
    # plain arrays (axes not known): one volume, said; frame_axis=0 scores frames
    volume = tessella.evaluate(truth.data, labels.data, metrics_wanted=("ap", "seg"))
    assert volume.scores["n_images"] == 1 and volume.scores["ap"]["0.5"] == 1.0
    assert volume.scores["scored_as"].startswith("scored as one volume: labels of shape (3, ")
    assert "frame_axis=" in volume.scores["scored_as"]
    frames = tessella.evaluate(truth.data, labels.data, metrics_wanted="seg", frame_axis=0)
    assert frames.scores["seg"] == pytest.approx(cli["seg"])
    assert "(T axis: frame_axis=0)" in frames.scores["scored_as"]
    # 2D images: nothing to say
    assert "scored_as" not in tessella.evaluate(truth.data[0], labels.data[0]).scores


def test_a_stack_of_unknown_axes_is_one_volume_said_with_a_hint(tmp_path, capsys):
    """A plain 3D TIFF (no axes in the file: read as ZYX) is scored as one volume, as the
    Evaluate panel scores its layer; the printout and the JSON say so and how to have a
    time-lapse scored frame by frame."""
    truth, pred = clip_arrays()
    with warnings.catch_warnings():  # (the reader's note on 3 planes tagged planar RGB)
        warnings.simplefilter("ignore")
        tifffile.imwrite(tmp_path / "gt.tif", truth)
        tifffile.imwrite(tmp_path / "pred.tif", pred)
    out = tmp_path / "scores.json"
    args = ["evaluate", str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif")]
    assert main([*args, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    scores = json.loads(out.read_text())
    assert scores["n_images"] == 1 and scores["ap"]["0.5"] == 1.0  # the track matched in 3D
    assert scores["volumes"] == {"files": 1, "axes_not_known": 1}
    said = scores["scored_as"]
    assert said.startswith("scored as one volume: gt.tif, whose axes are not known (read as ZYX)")
    assert "ImageJ axes TYX" in said and "--annotated-only frames" in said
    assert said in printed
    # with the axes a file names (ZYX): one volume, no hint
    tessella.write_labels(tmp_path / "gt.tif", truth, axes="ZYX")
    tessella.write_labels(tmp_path / "pred.tif", pred, axes="ZYX")
    scores = tessella.evaluate_paths(tmp_path / "pred.tif", tmp_path / "gt.tif")
    said = "scored as one volume: gt.tif (axes ZYX), its objects matched in 3D"
    assert scores["scored_as"] == said
    assert scores["volumes"] == {"files": 1, "axes_not_known": 0}
    # a TYX prediction against a ground truth of unknown axes: the prediction's T axis, as
    # the Evaluate panel takes it
    tessella.write_labels(tmp_path / "pred.tif", pred, axes="TYX")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tifffile.imwrite(tmp_path / "gt.tif", truth)
        scores = tessella.evaluate_paths(tmp_path / "pred.tif", tmp_path / "gt.tif")
    assert scores["n_images"] == 3 and scores["ap"]["0.5"] == pytest.approx(_frame_ap50())
    assert "(T axis: the ImageJ metadata of pred.tif)" in scores["scored_as"]


def test_zarr_movies_are_scored_frame_by_frame_a_piece_at_a_time(clip, tmp_path):
    """A zarr pair whose ``tessella_axes`` say TYX, read lazily (a piece at a time), is
    scored frame by frame too, with the TIFFs' scores; without axes (guessed ZYX) it is one
    volume, as the TIFFs without axes are."""
    import zarr

    pred, gt = clip
    tiffs = tessella.evaluate_paths(pred, gt, ("ap", "iou"), per_image=True)
    for axes in ("TYX", None):
        for name, path in (("pred", pred), ("gt", gt)):
            array = tessella.read_image(path).data
            store = zarr.open(
                str(tmp_path / f"{name}.zarr"), mode="w", shape=array.shape, chunks=(1, 64, 64),
                dtype=array.dtype,
            )  # fmt: skip
            store[:] = array
            if axes:
                store.attrs["tessella_axes"] = axes
        scores = tessella.evaluate_paths(
            tmp_path / "pred.zarr", tmp_path / "gt.zarr", ("ap", "iou"), per_image=True
        )
        if axes:
            assert scores["n_images"] == 3 and scores["movies"] == {"files": 1, "frames": 3}
            assert scores["ap"] == pytest.approx(tiffs["ap"])
            assert scores["foreground_iou"] == pytest.approx(tiffs["foreground_iou"])
            assert [row["name"] for row in scores["images"]] == [f"gt.zarr[{t}]" for t in range(3)]
            assert "the zarr attribute tessella_axes of pred.zarr" in scores["scored_as"]
        else:
            assert scores["n_images"] == 1 and scores["ap"]["0.5"] == 1.0
            assert scores["volumes"] == {"files": 1, "axes_not_known": 1}
            assert scores["scored_as"].startswith("scored as one volume: gt.zarr, whose axes")

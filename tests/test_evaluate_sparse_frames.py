"""Ground truth that annotates only some frames or slices of a movie (the Cell Tracking
Challenge's SEG folders, as napari's Tessella reader opens them: as long and deep as the
movie, the rest empty) is scored only where it is annotated, as the CTC's SEG measure
does: by ``tessella evaluate`` and by the Evaluate panel."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.cli._evaluate import evaluate_paths
from tessella.engine.evaluation import evaluate_labels

DATA = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data"))


def ctc_2d(root: Path, frames: int = 6, annotated=(1, 4)):
    """A 2D CTC layout: the movie ``01`` (t000 ... t005) and ``01_GT/SEG`` annotating frames
    ``annotated`` (two square cells each); returns the SEG folder and a prediction stack (TYX)
    that finds those cells and a cell in every other frame too (unannotated there)."""
    movie = root / "01"
    movie.mkdir()
    for t in range(frames):
        tifffile.imwrite(movie / f"t{t:03d}.tif", np.full((24, 32), 100 + t, np.uint16))
    seg = root / "01_GT" / "SEG"
    seg.mkdir(parents=True)
    pred = np.zeros((frames, 24, 32), np.uint16)
    for t in range(frames):
        pred[t, 2:8, 2:8], pred[t, 12:20, 16:26] = 3, 9
    for t in annotated:
        truth = np.zeros((24, 32), np.uint16)
        truth[2:8, 2:8], truth[12:20, 16:26] = 1, 2
        tifffile.imwrite(seg / f"man_seg{t:03d}.tif", truth)
    return seg, pred


def ctc_3d(root: Path):
    """A 3D CTC layout: the movie ``01`` of 3 frames of 5 slices and ``01_GT/SEG`` annotating
    slice 2 of frames 1 and 2 (``man_seg_001_002.tif``, ``man_seg_002_002.tif``: one cell
    each); the prediction (TZYX) finds those cells 3 slices deep, and one in frame 0 too."""
    movie = root / "01"
    movie.mkdir()
    for t in range(3):
        tifffile.imwrite(
            movie / f"t{t:03d}.tif",
            np.full((5, 16, 16), 100 + t, np.uint16),
            imagej=True,
            metadata={"axes": "ZYX"},
        )
    seg = root / "01_GT" / "SEG"
    seg.mkdir(parents=True)
    for t in (1, 2):
        truth = np.zeros((16, 16), np.uint16)
        truth[4:10, 4:10] = t
        tifffile.imwrite(seg / f"man_seg_{t:03d}_002.tif", truth)
    pred = np.zeros((3, 5, 16, 16), np.uint16)
    pred[:, 1:4, 4:10, 4:10] = 5  # slices 1-3 of every frame
    return seg, pred


def test_engine_scores_only_the_annotated_frames():
    """Frames 1 and 3 of 4 annotated: scored frame by frame, every predicted cell of the
    empty frames 0 and 2 was a false positive (AP 0.5 of 0.5); only where annotated: 1.0,
    the error map 0 elsewhere."""
    gt = np.zeros((4, 12, 12), np.uint16)
    gt[[1, 3], 2:6, 2:6] = 1
    pred = np.zeros_like(gt)
    pred[:, 2:6, 2:6] = 7
    assert evaluate_labels(gt, pred, frame_axis=0).scores["ap"]["0.5"] == 0.5
    result = evaluate_labels(gt, pred, annotated=[(1,), (3,)], metrics_wanted=("ap", "seg"))
    assert result.scores["ap"]["0.5"] == 1.0 and result.scores["seg"] == 1.0
    assert (result.tp, result.fp, result.fn) == (2, 0, 0)
    assert result.scores["annotated"] == {"frames": 2, "slices": 0, "in_frames": 2, "length": 4}
    assert result.errors.shape == gt.shape and not result.errors.any()
    with pytest.raises(ValueError, match=r"annotated place \(t=4\) does not lie"):
        evaluate_labels(gt, pred, annotated=[(4,)])


def test_evaluate_ctc_seg_folder_against_a_stack(tmp_path, capsys):
    """`tessella evaluate PRED.tif 01_GT/SEG`: the folder opens as the reader opens it (6
    frames, 2 annotated) and only frames 1 and 4 are scored (before: PRED and GT had to be
    both files or both folders); the printout says so; 01_GT works as well."""
    seg, pred = ctc_2d(tmp_path)
    tifffile.imwrite(tmp_path / "pred.tif", pred)
    scores = evaluate_paths(str(tmp_path / "pred.tif"), str(seg), ("ap", "seg"))
    assert scores["n_images"] == 2 and scores["ap"]["0.5"] == 1.0 and scores["seg"] == 1.0
    assert scores["annotated"]["frames"] == 2 and scores["annotated"]["length"] == 6
    assert main(["evaluate", str(tmp_path / "pred.tif"), str(seg.parent)]) == 0
    out = capsys.readouterr().out
    assert "2 of 6 frames annotated (the files of SEG, by their names); only they" in out
    assert "avS (mean AP over 0.5..0.9): 1.0000" in out


def test_evaluate_ctc_slices_score_the_slice_of_the_3d_prediction(tmp_path):
    """3D ground truth of single slices (man_seg_TTT_002.tif): the 2D slice 2 of frames 1
    and 2 of the prediction is scored against each (SEG 1.0, AP 1.0); the whole TZYX stack
    scored as one image (annotated_only="off") matches each annotated slice against a cell
    9 slices big in all (SEG 1/9)."""
    seg, pred = ctc_3d(tmp_path)
    tifffile.imwrite(tmp_path / "pred.tif", pred, imagej=True, metadata={"axes": "TZYX"})
    scores = evaluate_paths(str(tmp_path / "pred.tif"), str(seg), ("ap", "seg"))
    assert scores["n_images"] == 2 and scores["seg"] == 1.0 and scores["ap"]["0.5"] == 1.0
    assert scores["annotated"] == {
        "frames": 0,
        "slices": 2,
        "in_frames": 2,
        "length": 3,
        "how": "the files of SEG, by their names",
    }
    whole = evaluate_paths(str(tmp_path / "pred.tif"), str(seg), ("seg",), annotated_only="off")
    assert whole["seg"] == pytest.approx(1 / 9) and "annotated" not in whole


def test_annotated_only_frames_of_a_sparse_stack(tmp_path):
    """A sparse labels stack (a TYX file, as the reader's layer saved): annotated_only
    ("--annotated-only frames") scores the frames holding an object; without it, the whole
    stack as one image, the unannotated frames' cells false positives."""
    gt = np.zeros((5, 12, 12), np.uint16)
    gt[2, 2:6, 2:6] = 1
    pred = np.zeros_like(gt)
    pred[:, 2:6, 2:6] = 4
    pred[:, 8:11, 8:11] = 6  # one false positive a frame
    tifffile.imwrite(tmp_path / "gt.tif", gt)
    tifffile.imwrite(tmp_path / "pred.tif", pred)
    args = (str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"))
    sparse = evaluate_paths(*args, annotated_only="frames")
    assert sparse["n_images"] == 1 and sparse["ap"]["0.5"] == 0.5  # 1 TP, 1 FP
    assert sparse["annotated"]["frames"] == 1 and sparse["annotated"]["length"] == 5
    assert evaluate_paths(*args)["ap"]["0.5"] == 0.0  # as one volume: the tubes do not match


def test_annotated_only_flag_of_tessella_evaluate(tmp_path, capsys):
    """`tessella evaluate PRED GT --annotated-only frames` scores the frames of a
    sparse stack holding a ground-truth object; `--annotated-only off` scores a SEG folder
    whole, its empty frames included (the unannotated frames' cells false positives)."""
    gt = np.zeros((5, 12, 12), np.uint16)
    gt[2, 2:6, 2:6] = 1
    pred = np.zeros_like(gt)
    pred[:, 2:6, 2:6] = 4
    tifffile.imwrite(tmp_path / "gt.tif", gt)
    tifffile.imwrite(tmp_path / "pred.tif", pred)
    out = tmp_path / "scores.json"
    argv = ["evaluate", str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), "--json", str(out)]
    assert main([*argv, "--annotated-only", "frames"]) == 0
    scores = json.loads(out.read_text())
    assert scores["ap"]["0.5"] == 1.0 and scores["annotated"]["frames"] == 1
    (tmp_path / "ctc").mkdir()
    seg, pred_2d = ctc_2d(tmp_path / "ctc")
    tifffile.imwrite(tmp_path / "pred2.tif", pred_2d)
    argv = ["evaluate", str(tmp_path / "pred2.tif"), str(seg), "--json", str(out)]
    assert main([*argv, "--annotated-only", "off"]) == 0
    whole = json.loads(out.read_text())
    assert "annotated" not in whole and whole["ap"]["0.5"] < 1.0
    # before the positionals too (a value of its own: it took PRED for its value)
    first = ["evaluate", "--annotated-only", "frames", str(tmp_path / "pred.tif")]
    assert main([*first, str(tmp_path / "gt.tif"), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["annotated"]["frames"] == 1
    capsys.readouterr()


def test_panel_scores_the_readers_ctc_layer_where_annotated(make_napari_viewer, tmp_path):
    """The layer the reader makes of a SEG folder annotating 2 of 6 frames: "Score annotated
    frames only" is checked by itself and the scores are those of the 2 frames (AP 1.0), the
    status says so; unchecked, every frame is scored (the 4 empty ones' cells: AP 0.33)."""
    from tessella._widgets.evaluate import EvaluateWidget

    seg, pred = ctc_2d(tmp_path)
    viewer = make_napari_viewer()
    with pytest.warns(UserWarning, match="2 annotated frames of 0-5"):
        [truth] = viewer.open(str(seg), plugin="tessella")
    viewer.add_labels(pred, name="prediction", axis_labels=("t", "y", "x"))
    widget = EvaluateWidget(viewer)
    assert widget.truth_layer is truth and widget.annotated_checkbox.isChecked()
    widget.evaluate_button.click()
    assert widget.last_scores["ap"]["0.5"] == 1.0 and widget.last_evaluation.fp == 0
    assert "2 of 6 frames annotated (by the SEG files of 'SEG')" in widget.status_label.text()
    widget.annotated_checkbox.setChecked(False)
    widget.evaluate_button.click()
    assert widget.last_scores["ap"]["0.5"] == pytest.approx(1 / 3)
    assert widget.last_evaluation.fp == 8


@pytest.mark.skipif(
    not (DATA / "ctc_Fluo-N2DH-GOWT1" / "01_GT" / "SEG").is_dir(), reason="no GOWT1 data"
)
def test_gowt1_places_are_where_the_reader_puts_its_frames():
    """Fluo-N2DH-GOWT1 01_GT/SEG: 30 annotated frames of the 92-frame movie; the places the
    file names give are the frames the reader fills (each holding cells)."""
    from tessella._io_folder import folder_layers
    from tessella.engine.evaluation import ctc_annotated

    seg = DATA / "ctc_Fluo-N2DH-GOWT1" / "01_GT" / "SEG"
    places = ctc_annotated(seg)
    with pytest.warns(UserWarning, match="30 annotated frames of 0-91"):
        [(data, _kwargs, kind)] = folder_layers(seg)
    data = np.asarray(data)
    assert kind == "labels" and data.shape[0] == 92 and len(places) == 30
    holding = [(t,) for t in range(92) if data[t].any()]
    assert places == holding


def _linked_binary_movie():
    """A binary TYX mask of 2 frames: frame 0 holds two cells, frame 1 one cell overlapping
    both (a division seen backwards), and a prediction finding each exactly."""
    gt = np.zeros((2, 20, 20), np.uint8)
    gt[0, 2:8, 2:8] = gt[0, 2:8, 10:16] = gt[1, 2:8, 2:16] = 1
    pred = np.zeros(gt.shape, np.uint16)
    pred[0, 2:8, 2:8], pred[0, 2:8, 10:16], pred[1, 2:8, 2:16] = 1, 2, 3
    return gt, pred


def test_binary_truth_is_split_into_pieces_per_scored_frame(tmp_path):
    """A binary mask scored frame by frame (or at annotated frames) has the pieces of each
    frame as its objects: frame 0's two cells are not one object because frame 1's cell
    touches both (they were: 1 FP, AP50 0.75 for a perfect prediction). Scored as one
    volume, the pieces stay 3D (the three cells one object)."""
    gt, pred = _linked_binary_movie()
    for where in ({"frame_axis": 0}, {"annotated": [(0,), (1,)]}):
        result = evaluate_labels(gt, pred, kind="binary", **where)
        assert (result.tp, result.fp, result.fn) == (3, 0, 0)
        assert result.scores["ap"]["0.5"] == 1.0
    volume = evaluate_labels(gt, pred, kind="binary")
    assert volume.n_true == 1 and volume.n_pred == 3
    tifffile.imwrite(tmp_path / "gt.tif", gt)
    tifffile.imwrite(tmp_path / "pred.tif", pred)
    args = (str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"))
    scores = evaluate_paths(*args, gt_binary=True, annotated_only="frames")
    assert scores["ap"]["0.5"] == 1.0 and scores["n_images"] == 2


def test_seg_folder_is_placed_in_the_predictions_shape(tmp_path, capsys):
    """`tessella evaluate PRED SEG` places each SEG file at its frame (slice) in labels of
    the prediction's shape: a SEG folder of one file (a 2D frame, or one slice of a 3D
    frame), one with no movie beside it, and a prediction of another length that holds
    every annotated frame are scored (each was refused: 'shape ... differs'); one that does
    not hold them is refused in a line naming the folder, the file and why."""
    pred_file = str(tmp_path / "pred.tif")

    def scored(root, pred, **kwargs):
        tifffile.imwrite(pred_file, pred, **kwargs)
        return evaluate_paths(pred_file, str(root / "01_GT" / "SEG"), ("ap", "seg"))

    one = tmp_path / "one"
    one.mkdir()
    _seg, pred = ctc_2d(one, annotated=(3,))
    scores = scored(one, pred)
    assert scores["n_images"] == 1 and scores["seg"] == 1.0 and scores["ap"]["0.5"] == 1.0
    assert scores["annotated"]["frames"] == 1 and scores["annotated"]["length"] == 6
    slice_ = tmp_path / "slice"
    slice_.mkdir()
    seg, pred = ctc_3d(slice_)
    (seg / "man_seg_002_002.tif").unlink()
    scores = scored(slice_, pred, imagej=True, metadata={"axes": "TZYX"})
    assert scores["annotated"]["slices"] == 1 and scores["seg"] == 1.0
    alone = tmp_path / "alone"
    alone.mkdir()
    _seg, pred = ctc_2d(alone)  # frames 1 and 4 of 6
    for movie_frame in (alone / "01").iterdir():
        movie_frame.unlink()
    (alone / "01").rmdir()
    assert scored(alone, pred)["ap"]["0.5"] == 1.0  # the full-length prediction
    shorter = scored(alone, pred[:5])  # still holds frame 4
    assert shorter["seg"] == 1.0 and shorter["annotated"]["length"] == 5
    tifffile.imwrite(pred_file, pred[:3], photometric="minisblack")
    seg = alone / "01_GT" / "SEG"
    assert main(["evaluate", pred_file, str(seg)]) == 1
    err = capsys.readouterr().err
    assert f"{seg}: man_seg004.tif annotates frame 4; the prediction pred.tif has 3 frames" in err
    assert len(err.strip().splitlines()) == 1
    tifffile.imwrite(pred_file, pred[:, :20])
    assert main(["evaluate", pred_file, str(seg)]) == 1
    err = capsys.readouterr().err
    assert "man_seg001.tif annotates frame 1 with an image of shape (24, 32); the " in err
    assert "prediction pred.tif has (20, 32) there" in err


def test_panel_scores_the_seg_layer_against_a_prediction_of_another_length(
    make_napari_viewer, tmp_path
):
    """The reader's layer of a SEG folder (6 frames, as the movie) against a prediction of
    5 frames: scored where annotated (frames 1 and 4), as `tessella evaluate` scores the
    folder; against 3 frames: refused, saying frame 4 is not in the prediction."""
    from tessella._widgets.evaluate import EvaluateWidget

    seg, pred = ctc_2d(tmp_path)
    viewer = make_napari_viewer()
    with pytest.warns(UserWarning, match="2 annotated frames of 0-5"):
        [truth] = viewer.open(str(seg), plugin="tessella")
    layer = viewer.add_labels(pred[:5], name="prediction", axis_labels=("t", "y", "x"))
    widget = EvaluateWidget(viewer)
    assert widget.truth_layer is truth and widget.annotated_checkbox.isChecked()
    widget.evaluate_button.click()
    assert widget.last_scores["ap"]["0.5"] == 1.0 and widget.last_evaluation.fp == 0
    assert widget.last_evaluation.errors.shape == (5, 24, 32)
    assert "2 of 5 frames annotated" in widget.status_label.text()
    layer.data = pred[:3]
    widget.evaluate_button.click()
    assert widget.status_label.text().startswith(
        "Not evaluated: ground truth 'SEG' annotates frame 4; prediction 'prediction' has 3 "
        "frames: 'prediction' records no frame numbers, so its frames are taken as frames 0-2 "
        "of 'SEG'."
    )


def test_panel_scores_what_was_painted_into_the_seg_layer(make_napari_viewer, tmp_path):
    """A cell painted into the SEG layer in a slice its files do not annotate (frame 0,
    slice 2) is scored too (it was left out silently: the places came from the files
    only), and the status line says so; the prediction has no cell there: 1 FN."""
    from tessella._widgets.evaluate import EvaluateWidget

    seg, pred = ctc_3d(tmp_path)
    viewer = make_napari_viewer()
    with pytest.warns(UserWarning):
        [truth] = viewer.open(str(seg), plugin="tessella")
    viewer.add_labels(pred, name="prediction", axis_labels=("t", "z", "y", "x"))
    widget = EvaluateWidget(viewer)
    assert widget.truth_layer is truth and widget.annotated_checkbox.isChecked()
    widget.evaluate_button.click()
    assert (widget.last_evaluation.tp, widget.last_evaluation.fn) == (2, 0)
    truth.data[0, 2, 11:15, 11:15] = 7  # as a script or the brush writes it
    truth.refresh()
    widget.evaluate_button.click()
    assert (widget.last_evaluation.tp, widget.last_evaluation.fn) == (2, 1)
    assert widget.last_scores["annotated"]["slices"] == 3
    assert "(by the SEG files of 'SEG' and 1 slice (t=0, z=2) painted in the layer)" in (
        widget.status_label.text()
    )


def test_panel_places_the_layer_of_a_one_file_seg_folder(make_napari_viewer, tmp_path):
    """A SEG folder of one file opens as that file (a 2D layer): scored against a movie
    prediction at the file's frame, as `tessella evaluate` scores the folder (it was
    refused: the shapes differ); against a prediction without that frame refused saying
    so; against one 2D image, scored as that image (as before)."""
    from tessella._widgets.evaluate import EvaluateWidget

    seg, pred = ctc_2d(tmp_path, annotated=(3,))
    viewer = make_napari_viewer()
    [truth] = viewer.open(str(seg), plugin="tessella")
    assert truth.data.shape == (24, 32)
    layer = viewer.add_labels(pred, name="prediction", axis_labels=("t", "y", "x"))
    widget = EvaluateWidget(viewer)
    assert widget.truth_layer is truth and widget.annotated_checkbox.isChecked()
    widget.evaluate_button.click()
    assert widget.last_scores["ap"]["0.5"] == 1.0 and widget.last_evaluation.fp == 0
    assert widget.last_scores["annotated"] == {
        "frames": 1,
        "slices": 0,
        "in_frames": 1,
        "length": 6,
    }
    assert widget.last_evaluation.errors.shape == (6, 24, 32)
    layer.data = pred[:3]
    widget.evaluate_button.click()
    assert widget.status_label.text() == (
        f"Not evaluated: ground truth '{truth.name}' annotates frame 3; prediction "
        "'prediction' has 3 frames."
    )
    viewer.layers.remove(layer)
    viewer.add_labels(pred[3], name="prediction")
    widget.evaluate_button.click()
    assert widget.last_scores["ap"]["0.5"] == 1.0 and "annotated" not in widget.last_scores


def test_a_one_file_seg_folder_against_one_2d_prediction_is_that_pair(tmp_path, capsys):
    """A SEG folder of one frame's file against one 2D prediction: scored as that pair of
    files, as the panel scores the layer of such a folder (it was refused: "labels of shape
    (24, 32) have no frames")."""
    seg, pred = ctc_2d(tmp_path, annotated=(3,))
    tifffile.imwrite(tmp_path / "pred2d.tif", pred[3])
    out = tmp_path / "scores.json"
    assert main(["evaluate", str(tmp_path / "pred2d.tif"), str(seg), "--json", str(out)]) == 0
    scores = json.loads(out.read_text())
    assert scores["ap"]["0.5"] == 1.0 and scores["n_images"] == 1
    capsys.readouterr()

"""The Evaluate panel pairs a prediction's frames with its ground truth's by the movie's frame
numbers the reader recorded, not by index (user test s35/t19 #1, #2): a prediction of frames
8-10 against a SEG folder of frames 52-54 was scored frame 8 against frame 52 (SEG 0.076 on
SIM+), and against the dataset's whole SEG folder was refused with "annotates frame 3" (an
index). Real SIM+ frames, cropped to 256 x 256."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

SIM = "ctc_Fluo-N2DH-SIM+"
CROP = (slice(200, 456), slice(150, 406))


def _seg(data_dir: Path, t: int) -> np.ndarray:
    return tifffile.imread(data_dir / SIM / "01_GT" / "SEG" / f"man_seg{t:03d}.tif")[CROP]


def _seg_folder(root: Path, data_dir: Path, frames, movie: bool = False) -> Path:
    """A CTC ground truth of SIM+'s ``frames`` (cropped) under ``root/01_GT/SEG``, with the
    movie ``root/01`` of those frames beside it where ``movie``."""
    seg = root / "01_GT" / "SEG"
    seg.mkdir(parents=True)
    for t in frames:
        tifffile.imwrite(seg / f"man_seg{t:03d}.tif", _seg(data_dir, t))
    if movie:
        (root / "01").mkdir()
        for t in frames:
            image = tifffile.imread(data_dir / SIM / "01" / f"t{t:03d}.tif")[CROP]
            tifffile.imwrite(root / "01" / f"t{t:03d}.tif", image)
    return seg


def _prediction(viewer, data_dir: Path, frames, numbers=True):
    """SIM+'s ground truth of ``frames`` as a prediction (perfect there), recording their
    frame numbers as the reader does for a folder ``t008.tif ...`` where ``numbers``."""
    data = np.stack([_seg(data_dir, t) for t in frames])
    metadata = {"frame_numbers": list(frames)} if numbers else {}
    return viewer.add_labels(data, name="pred", metadata=metadata, axis_labels=("t", "y", "x"))


def _evaluate(viewer, pred, truth):
    from tessella._widgets.evaluate import EvaluateWidget

    widget = EvaluateWidget(viewer)
    widget._pick(widget.pred_combo, pred)
    widget._pick(widget.truth_combo, truth)
    widget.errors_checkbox.setChecked(False)
    widget._on_evaluate_clicked()
    return widget


def test_part_of_a_movie_against_the_whole_seg_folder(make_napari_viewer, data_dir, tmp_path):
    seg = _seg_folder(tmp_path / "ds", data_dir, range(16))
    viewer = make_napari_viewer()
    [truth] = viewer.open(str(seg), plugin="tessella")
    assert truth.metadata["frame_numbers"] == list(range(16))
    pred = _prediction(viewer, data_dir, [8, 9, 10])
    widget = _evaluate(viewer, pred, truth)
    status = widget.status_label.text()
    assert widget.annotated_checkbox.isChecked()
    assert widget.last_evaluation is not None, status
    assert widget.last_scores["seg"] == pytest.approx(1.0)  # frame 8 against man_seg008 ...
    assert widget.last_scores["annotated"]["frames"] == 3
    assert "frames paired by number" in status.lower() and "8-10" in status, status


def test_frames_of_no_number_in_common_are_refused(make_napari_viewer, data_dir, tmp_path):
    seg = _seg_folder(tmp_path / "lay", data_dir, [52, 53, 54], movie=True)
    viewer = make_napari_viewer()
    [truth] = viewer.open(str(seg), plugin="tessella")
    assert truth.metadata["frame_numbers"] == [52, 53, 54]
    pred = _prediction(viewer, data_dir, [8, 9, 10])
    widget = _evaluate(viewer, pred, truth)
    status = widget.status_label.text()
    assert widget.last_evaluation is None, status  # (was: SEG of frame 8 against 52)
    assert status.startswith("Not evaluated: ")
    assert "frames 8-10" in status and "frames 52-54" in status and "none in common" in status


def test_no_annotated_frame_in_common_is_refused(make_napari_viewer, data_dir, tmp_path):
    # GOWT1-like sparse SEG: frames 2 and 6 of a movie of 0-7 annotated; prediction 3-5
    seg = _seg_folder(tmp_path / "sparse", data_dir, [2, 6])
    viewer = make_napari_viewer()
    with pytest.warns(UserWarning):  # (the reader says which frames the folder annotates)
        [truth] = viewer.open(str(seg), plugin="tessella")
    pred = _prediction(viewer, data_dir, [3, 4, 5])
    widget = _evaluate(viewer, pred, truth)
    status = widget.status_label.text()
    assert widget.last_evaluation is None, status
    assert "annotates none of the frames of the prediction 'pred' (3-5)" in status, status
    assert "frames 2, 6" in status


def test_a_prediction_without_numbers_is_told_how(make_napari_viewer, data_dir, tmp_path):
    seg = _seg_folder(tmp_path / "ds", data_dir, range(16))
    viewer = make_napari_viewer()
    [truth] = viewer.open(str(seg), plugin="tessella")
    pred = _prediction(viewer, data_dir, [8, 9, 10], numbers=False)
    widget = _evaluate(viewer, pred, truth)
    status = widget.status_label.text()
    assert widget.last_evaluation is None
    assert "records no frame numbers" in status and "frames 0-2 of 'SEG'" in status, status


def test_labels_of_other_frames_scored_where_both_hold_them(make_napari_viewer, data_dir):
    """Labels (no SEG folder) of frames 9-12 against a prediction of 8-10: scored whole, the
    prediction's frame 8 would be a frame without a cell: refused, saying how; with *Score
    annotated frames only*, frames 9 and 10 are scored, each against its own number."""
    viewer = make_napari_viewer()
    truth = viewer.add_labels(
        np.stack([_seg(data_dir, t) for t in (9, 10, 11, 12)]),
        name="gt",
        metadata={"frame_numbers": [9, 10, 11, 12]},
        axis_labels=("t", "y", "x"),
    )
    pred = _prediction(viewer, data_dir, [8, 9, 10])
    widget = _evaluate(viewer, pred, truth)
    assert not widget.annotated_checkbox.isChecked()
    status = widget.status_label.text()
    assert widget.last_evaluation is None, status
    assert "9-10 in common only" in status and "Score annotated frames only" in status
    widget.annotated_checkbox.setChecked(True)
    widget._on_evaluate_clicked()
    assert widget.last_scores["seg"] == pytest.approx(1.0), widget.status_label.text()
    assert widget.last_scores["annotated"]["frames"] == 2

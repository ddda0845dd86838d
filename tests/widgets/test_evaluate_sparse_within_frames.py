"""Ground truth that annotates some cells only of the frames it annotates (a Cell Tracking
Challenge SEG folder such as GOWT1's: 2 cells of 27 in a frame): the Evaluate panel shows
SEG first (the CTC's score of the annotated cells), says that AP and precision count the
unannotated cells as false positives, and its errors layer shows the predicted objects that
touch no ground-truth object there as not annotated (yellow), not as red false positives. A
frame annotated densely keeps its spurious objects as false positives; ground truth scored
everywhere (no annotated frames) is unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.engine.evaluation import (
    FALSE_POSITIVE,
    NOT_ANNOTATED,
    evaluate_labels,
)


def _cells(frames: int = 3) -> np.ndarray:
    """A prediction (TYX) of 5 square cells in every frame, ids 1-5."""
    pred = np.zeros((frames, 20, 60), np.uint16)
    for k in range(5):
        pred[:, 4:12, 2 + 12 * k : 10 + 12 * k] = k + 1
    return pred


def _sparse_truth(pred: np.ndarray) -> np.ndarray:
    """Frame 0 annotates 1 of the 5 cells (sparse within it), frame 1 annotates 4 of them
    (dense: the 5th a spurious object there), frame 2 nothing."""
    truth = np.zeros_like(pred)
    truth[0][pred[0] == 1] = 7
    for k in range(1, 5):
        truth[1][pred[1] == k] = 10 + k
    return truth


def test_engine_marks_predictions_off_a_sparse_annotation():
    pred = _cells()
    truth = _sparse_truth(pred)
    result = evaluate_labels(truth, pred, annotated=[(0,), (1,)], metrics_wanted=("ap", "seg"))
    assert result.not_annotated == 4 and result.sparse_places == ((0,),)
    assert set(np.unique(pred[0][result.errors[0] == NOT_ANNOTATED])) == {2, 3, 4, 5}
    assert not np.any(result.errors[0] == FALSE_POSITIVE)
    # the densely annotated frame: its 5th object a false positive still
    assert set(np.unique(pred[1][result.errors[1] == FALSE_POSITIVE])) == {5}
    assert result.errors[1].max() == FALSE_POSITIVE
    # the scores are what tessella evaluate says: 5 false positives, SEG 1.0
    assert (result.tp, result.fp) == (5, 5) and result.scores["seg"] == 1.0
    # scored everywhere (no annotated places): unchanged, every unmatched object red
    dense = evaluate_labels(truth, pred, frame_axis=0)
    assert dense.not_annotated == 0 and dense.errors.max() == FALSE_POSITIVE


def test_panel_shows_seg_and_unannotated_cells_of_a_seg_folder(make_napari_viewer, tmp_path):
    from tessella._widgets.evaluate import EvaluateWidget

    pred = _cells()
    truth = _sparse_truth(pred)
    movie, seg = tmp_path / "01", tmp_path / "01_GT" / "SEG"
    movie.mkdir()
    seg.mkdir(parents=True)
    for t in range(3):
        tifffile.imwrite(movie / f"t{t:03d}.tif", np.full((20, 60), 100, np.uint16))
    for t in (0, 1):
        tifffile.imwrite(seg / f"man_seg{t:03d}.tif", truth[t])
    viewer = make_napari_viewer()
    with pytest.warns(UserWarning):
        [layer] = viewer.open(str(seg), plugin="tessella")
    viewer.add_labels(pred, name="prediction", axis_labels=("t", "y", "x"))
    widget = EvaluateWidget(viewer)
    assert widget.truth_layer is layer and widget.annotated_checkbox.isChecked()
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()
    status = widget.status_label.text()
    assert "'prediction' against 'SEG' (instances (labels)): SEG 1.000 (5 cells); avS" in status
    assert widget.iou_label.text().startswith("SEG: 1.000 (Cell Tracking Challenge")
    # short in the status (the dock's bottom third was this paragraph), whole in its tooltip
    assert "Yellow: 4 objects not annotated in 1 sparse frame (0); FP 1 without them" in status
    tip = widget.status_label.toolTip()
    assert "looks sparse (annotating only some cells) in 1 frame (0): 4 predicted objects" in tip
    assert "counted apart in the table's Yellow column (FP 1 without them)" in tip
    assert "AP, precision and F1 count them as false positives all the same (5 FP)" in tip
    errors = viewer.layers["prediction errors @0.5"]
    assert set(np.unique(errors.data)) == {0, FALSE_POSITIVE, NOT_ANNOTATED}
    assert not np.any(errors.data[0] == FALSE_POSITIVE)
    assert errors.colormap.map(NOT_ANNOTATED)[:3].tolist() != errors.colormap.map(1)[:3].tolist()
    # hidden, the status no longer says the layers are outlined
    assert "errors filled, prediction and ground truth outlined" in status
    errors.visible = False
    status = widget.status_label.text()
    assert "outlined" not in status and "errors hidden, the layers drawn as before" in status

"""Evaluate with the layers swapped (user test s33/t11 #8): a 0/1 membrane map chosen as the
Prediction and the labels of its cells as the Ground truth scored "avS 0.000" with no hint.
The panel now says the prediction holds one object (0/1) and asks whether the two are
swapped; in the right order, or for a prediction of many objects, it says nothing of it.
Real data: ISBI 2012's membrane map of slice 00 (1 = membrane) and its cells (the regions of
0, each its own ID)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from scipy import ndimage

ISBI = "em_membranes_isbi2012"
NOTE = "holds one object (0/1) while the ground truth"


def _pair(data_dir) -> tuple[np.ndarray, np.ndarray]:
    path = data_dir / ISBI / "boundaries" / "00.tif"
    if not path.is_file():
        pytest.skip("ISBI 2012 boundaries not in the shared data")
    membranes = tifffile.imread(path)[:256, :256]
    cells, _count = ndimage.label(membranes == 0)
    return membranes, cells.astype(np.uint16)


def _panel(viewer, pred: str, truth: str):
    from tessella._widgets.evaluate import EvaluateWidget

    widget = EvaluateWidget(viewer)
    widget.pred_combo.setCurrentIndex(widget.pred_combo.findText(pred))
    widget.truth_combo.setCurrentIndex(widget.truth_combo.findText(truth))
    return widget


def test_a_membrane_map_chosen_as_prediction_is_noted(make_napari_viewer, data_dir, monkeypatch):
    from tessella._widgets import _evaluate_run

    warned = []
    monkeypatch.setattr(_evaluate_run, "show_warning", warned.append)
    membranes, cells = _pair(data_dir)
    viewer = make_napari_viewer()
    viewer.add_labels(membranes, name="membranes gt")
    viewer.add_labels(cells, name="labels")
    widget = _panel(viewer, "membranes gt", "labels")
    assert widget.truth_kind == "labels"
    widget.evaluate_button.click()
    assert widget.last_scores["avs"] == pytest.approx(0.0)
    status = widget.status_label.text()
    n_true = widget.last_evaluation.n_true
    assert n_true > 30
    said = (
        f"Warning: the prediction 'membranes gt' {NOTE} 'labels' holds {n_true}: are "
        "Prediction and Ground truth swapped?"
    )
    assert said in status, status
    assert any(NOTE in text for text in warned)

    # the right order: the labels scored against the membrane map, no such note
    widget = _panel(viewer, "labels", "membranes gt")
    widget.kind_combo.setCurrentIndex(widget.kind_combo.findData("boundaries"))
    widget.evaluate_button.click()
    assert widget.last_scores["avs"] > 0.9 and NOTE not in widget.status_label.text()


def test_no_note_for_a_prediction_of_many_objects_or_a_truth_of_few(make_napari_viewer, data_dir):
    membranes, cells = _pair(data_dir)
    viewer = make_napari_viewer()
    shrunk = np.where(ndimage.binary_erosion(cells > 0, iterations=2), cells, 0)
    viewer.add_labels(shrunk.astype(np.uint16), name="prediction")
    viewer.add_labels(cells, name="labels")
    widget = _panel(viewer, "prediction", "labels")
    widget.evaluate_button.click()
    assert "swapped" not in widget.status_label.text()
    # one object against a ground truth of two: a poor prediction, not a swap
    two = np.zeros_like(cells)
    two[10:40, 10:40], two[60:90, 60:90] = 1, 2
    viewer.add_labels(two, name="two cells")
    one = (two > 0).astype(np.uint16)
    viewer.add_labels(one, name="one mask")
    widget = _panel(viewer, "one mask", "two cells")
    widget.evaluate_button.click()
    assert "swapped" not in widget.status_label.text()

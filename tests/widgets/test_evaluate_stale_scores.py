"""Evaluate's scores, counts and AP plot greyed and said out of date once they no longer
describe what the panel would score (user test s33 t13 #7).

t13 evaluated a worms2d result against its worm masks, removed the ground truth and opened
and segmented more images: the combos moved to another pair while the table, counts and AP
plot kept the old pair's scores, in their colours, and the status line named the old pair.
Now the results are greyed, the caption above them names the pair they are of, and the status
line (where it showed the evaluation's report) says what differs and to click Evaluate; the
pair scored chosen again shows them, and the report, as current. The same when "Ground truth
is", the IoU threshold or the unannotated label differ from the scoring's, and when a layer
scored is edited (napari's paint, as Correct's edits), has its data replaced or is removed.
"""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

from tessella._widgets._evaluate_stale import RESULTS_CAPTION, STALE_GREY


@pytest.fixture
def scored(make_napari_viewer, nuclei_sample):
    """Real nuclei labels (a 256² crop) as ground truth, a prediction missing three of its
    objects, scored: ``(viewer, widget, report)``, the status line after the evaluation."""
    truth = nuclei_sample[1][:256, :256]
    prediction = np.where(np.isin(truth, np.unique(truth)[1:4]), 0, truth)
    viewer = make_napari_viewer()
    viewer.add_labels(truth, name="gt")
    viewer.add_labels(prediction, name="pred")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert (widget.prediction_layer.name, widget.truth_layer.name) == ("pred", "gt")
    widget.evaluate_button.click()  # (a small pair: scored at once)
    report = widget.status_label.text()
    assert report.startswith("'pred' against 'gt' (instances (labels)): avS ")
    assert _looks_current(widget)
    return viewer, widget, report


def _cells(widget) -> list:
    return [
        table.item(row, column)
        for table in (widget.scores_table, widget.counts_table)
        for row in range(table.rowCount())
        for column in range(table.columnCount())
        if table.item(row, column) is not None
    ]


def _looks_current(widget) -> bool:
    cells = _cells(widget)
    assert len(cells) == 5 * 4 + 1 + 5  # (AP, precision, recall, F1 by 5 IoUs; avS; counts)
    return (
        widget.results_stale == ""
        and all(item.data(Qt.ItemDataRole.ForegroundRole) is None for item in cells)
        and widget.plot.colors == {}
        and widget.iou_label.styleSheet() == ""
        and widget._results_caption.text() == RESULTS_CAPTION
    )


def _looks_stale(widget) -> bool:
    return (
        widget.results_stale != ""
        and all(item.foreground().color().name() == STALE_GREY for item in _cells(widget))
        and widget.plot.colors == {"AP": STALE_GREY}
        and STALE_GREY in widget.iou_label.styleSheet()
        and widget._results_caption.text()
        == f"{RESULTS_CAPTION}: out of date, of 'pred' against 'gt'"
    )


def test_another_pair_chosen_greys_the_scores_and_says_so(scored):
    viewer, widget, report = scored
    scores = [item.text() for item in _cells(widget)]
    pred = viewer.layers["pred"]
    other = viewer.add_labels(np.asarray(viewer.layers["gt"].data)[::-1].copy(), name="pred 2")
    widget.pred_combo.setCurrentIndex(widget.pred_combo.findData(other.unique_id))
    assert (widget.prediction_layer.name, widget.truth_layer.name) == ("pred 2", "gt")

    assert _looks_stale(widget)
    assert [item.text() for item in _cells(widget)] == scores  # (kept, greyed)
    assert widget.status_label.text() == (
        "Out of date: the scores shown are of 'pred' against 'gt' (instances (labels)); "
        "'pred 2' against 'gt' is chosen now. Click Evaluate to score the pair chosen now."
    )

    # the pair scored chosen again: current, the evaluation's report back
    widget.pred_combo.setCurrentIndex(widget.pred_combo.findData(pred.unique_id))
    assert _looks_current(widget) and widget.status_label.text() == report

    # the other pair scored: current, its own scores
    widget.pred_combo.setCurrentIndex(widget.pred_combo.findData(other.unique_id))
    widget.evaluate_button.click()
    assert _looks_current(widget)
    assert widget.status_label.text().startswith("'pred 2' against 'gt' (instances (labels))")
    assert [item.text() for item in _cells(widget)] != scores


def test_the_ground_truth_removed_greys_the_scores(scored):
    """t13's case: the ground truth removed (no errors layer shown), nothing to score now."""
    viewer, widget, _report = scored
    viewer.layers.remove("gt")

    assert widget.truth_layer in (None, widget.prediction_layer)  # (nothing else to choose)
    assert _looks_stale(widget)
    assert widget.status_label.text() == (
        "Out of date: the scores shown are of 'pred' against 'gt' (instances (labels)); "
        "the ground truth 'gt' was removed; no pair is chosen now. Choose a prediction and "
        "its ground truth, then click Evaluate."
    )
    # a new ground truth opened: chosen, the scores still those of 'gt'
    viewer.add_labels(np.asarray(viewer.layers["pred"].data).copy(), name="gt 2")
    assert widget.truth_layer.name == "gt 2" and _looks_stale(widget)
    assert widget.status_label.text() == (
        "Out of date: the scores shown are of 'pred' against 'gt' (instances (labels)); "
        "the ground truth 'gt' was removed; 'pred' against 'gt 2' is chosen now. Click "
        "Evaluate to score the pair chosen now."
    )


@pytest.mark.parametrize(
    ("change", "undo", "reason"),
    [
        (
            lambda w: w.kind_combo.setCurrentIndex(w.kind_combo.findData("binary")),
            lambda w: w.kind_combo.setCurrentIndex(w.kind_combo.findData("labels")),
            "Ground truth is: binary mask now (scored as instances (labels))",
        ),
        (
            lambda w: w.threshold_spin.setValue(0.7),
            lambda w: w.threshold_spin.setValue(0.5),
            "matched at IoU 0.7 now (TP / FP / FN and errors at 0.5)",
        ),
        (
            lambda w: w.ignore_spin.setValue(3),
            lambda w: w.ignore_spin.setValue(0),
            "unannotated label 3 now (scored with none)",
        ),
    ],
    ids=["kind", "threshold", "unannotated label"],
)
def test_other_settings_grey_the_scores_until_set_back(scored, change, undo, reason):
    _viewer, widget, report = scored
    change(widget)

    assert _looks_stale(widget) and widget.results_stale == reason
    assert widget.status_label.text() == (
        f"Out of date: the scores shown are of 'pred' against 'gt' (instances (labels)); "
        f"{reason}. Click Evaluate to score it again."
    )
    undo(widget)
    assert _looks_current(widget) and widget.status_label.text() == report


def test_an_edit_or_new_data_greys_the_scores_until_evaluated_again(scored):
    viewer, widget, _report = scored
    pred = viewer.layers["pred"]
    pred.refresh()  # a redraw (as slicing does) changes nothing
    assert _looks_current(widget)

    pred.paint((40, 40), 77)  # a brush dab, as napari's paint tool (and Correct) edits

    assert _looks_stale(widget)
    assert widget.results_stale == "the prediction 'pred' was edited since"
    assert "; the prediction 'pred' was edited since. Click Evaluate to score it again." in (
        widget.status_label.text()
    )
    widget.evaluate_button.click()
    assert _looks_current(widget)

    pred.data = np.asarray(viewer.layers["gt"].data).copy()  # Segment run into it anew
    assert widget.results_stale == "the prediction 'pred' was replaced since"
    assert _looks_stale(widget)


def test_a_message_of_the_errors_layer_is_kept(scored):
    """With Show errors, an edit says the errors layer is out of date on the status line (as
    before): that message stays; the scores are greyed all the same."""
    viewer, widget, _report = scored
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()

    viewer.layers["pred"].paint((40, 40), 77)

    assert _looks_stale(widget)
    assert "'pred errors @0.5' is out of date (the prediction 'pred' was edited)" in (
        widget.status_label.text()
    )

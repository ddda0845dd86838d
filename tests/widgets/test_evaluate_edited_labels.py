"""An Evaluate errors layer is out of date once its prediction or ground truth is edited, not
only when its data are replaced; a type Correct widens is said as such.

Painting, filling or correcting the labels (napari's brush and bucket, Correct's edits) and
Ctrl+Z left the errors layer shown as current: only ``layer.data = ...`` (napari's
``events.data``) marked it stale, and edits emit ``events.paint`` (an undo only a redraw).
And when Correct widened a uint8 prediction to int32 for a split's new ID, the errors layer was
said to be stale because "the prediction 'pred' was replaced": the layer was the same, edited
(split), in a wider type. New labels Tune writes as an undo step are said as replaced, as
Segment's new data are.
"""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _evaluate_errors
from tessella._widgets import evaluate as evaluate_module
from tessella.engine import edit
from tests.engine.test_edit import touching_pair
from tests.widgets.helpers import choose_text


def _evaluate(viewer, truth: np.ndarray, prediction: np.ndarray, monkeypatch):
    """``prediction`` ("pred") against real nuclei labels ``truth`` ("gt"), evaluated with Show
    errors: ``(widget, errors layer)``."""
    viewer.add_labels(truth, name="gt")
    viewer.add_labels(prediction, name="pred")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert (widget.prediction_layer.name, widget.truth_layer.name) == ("pred", "gt")
    for module in (_evaluate_errors, evaluate_module):
        monkeypatch.setattr(module, "show_info", lambda text: None)
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()  # (a small pair: scored at once)
    errors = viewer.layers["pred errors @0.5"]
    assert errors.visible and widget.last_evaluation.fn > 0
    return widget, errors


@pytest.fixture
def evaluated(make_napari_viewer, nuclei_sample, monkeypatch):
    """Real nuclei labels (a 256x256 crop) and a prediction missing three of its objects:
    ``(viewer, widget, errors layer)``."""
    truth = nuclei_sample[1][:256, :256].copy()
    prediction = np.where(np.isin(truth, np.unique(truth)[1:4]), 0, truth)
    viewer = make_napari_viewer()
    widget, errors = _evaluate(viewer, truth, prediction, monkeypatch)
    return viewer, widget, errors


def _stale_because(widget, errors) -> str:
    assert not errors.visible and errors.name == "pred errors @0.5 (stale)"
    return errors.metadata[_evaluate_errors.STALE_KEY]


def test_painting_the_prediction_marks_its_errors_stale(evaluated):
    viewer, widget, errors = evaluated
    pred = viewer.layers["pred"]
    pred.refresh()  # a redraw (as slicing does) changes nothing
    assert errors.visible and errors.name == "pred errors @0.5"

    pred.paint((40, 40), 77)  # a brush dab, as napari's paint tool makes it

    assert _stale_because(widget, errors) == "the prediction 'pred' was edited"
    assert "(the prediction 'pred' was edited): hidden" in widget.status_label.text()
    widget.errors_checkbox.setChecked(False)
    widget.errors_checkbox.setChecked(True)  # no errors of labels that changed
    assert not errors.visible
    assert widget.status_label.text() == (
        "No errors layer: the prediction 'pred' was edited since the evaluation. Evaluate again."
    )
    widget.evaluate_button.click()
    assert errors.visible and errors.name == "pred errors @0.5"


def test_filling_and_undoing_in_the_ground_truth_mark_the_errors_stale(evaluated):
    viewer, widget, errors = evaluated
    truth = viewer.layers["gt"]
    before = truth.data.copy()
    label = int(before[before > 0][0])
    where = tuple(int(i) for i in np.argwhere(before == label)[0])

    truth.fill(where, 200)  # the bucket: one object given another ID

    assert _stale_because(widget, errors) == "the ground truth 'gt' was edited"
    widget.evaluate_button.click()
    assert errors.visible

    truth.undo()  # Ctrl+Z: napari announces it only as a redraw

    assert np.array_equal(truth.data, before)
    assert _stale_because(widget, errors) == "the ground truth 'gt' was edited"


def test_a_split_that_widens_a_uint8_prediction_is_an_edit_not_a_replacement(
    make_napari_viewer, nuclei_sample, monkeypatch
):
    """A uint8 prediction whose largest ID is 255 (two touching nuclei merged into it):
    Correct's Split by watershed gives the new piece ID 256 and widens the layer to int32; the
    errors layer is stale because the prediction was edited (its type widened), not
    "replaced"."""
    truth = nuclei_sample[1][:256, :256].copy()
    a, b = touching_pair(truth)
    merged = truth.copy()
    edit.merge(truth, [a, b]).apply(merged)
    narrow = np.where(merged == a, 255, merged).astype(np.uint8)
    assert narrow.max() == 255 and np.unique(narrow).size == np.unique(merged).size
    viewer = make_napari_viewer()
    widget, errors = _evaluate(viewer, truth, narrow, monkeypatch)
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    choose_text(correct.layer_combo, "pred")
    pred = viewer.layers["pred"]

    correct.set_selection([255])
    correct.split_seeds_button.click()

    assert pred.data.dtype == np.int32 and 256 in pred.data, correct.status_label.text()
    said = "the prediction 'pred' was edited, its data type widened from uint8 to int32 for new IDs"
    assert _stale_because(widget, errors) == said
    assert f"({said}): hidden" in widget.status_label.text()
    assert "replaced" not in widget.status_label.text()


def test_new_labels_a_tool_writes_as_an_undo_step_are_a_replacement(evaluated):
    """Tune writes new labels into the prediction as one undo step (``write_labels``): said as
    "replaced", as Segment's new data are, not as the user's edit."""
    from tessella._widgets._labels_states import write_labels

    viewer, widget, errors = evaluated
    pred = viewer.layers["pred"]
    assert write_labels(pred, viewer.layers["gt"].data.copy()) is None  # (an undo step)

    assert _stale_because(widget, errors) == "the prediction 'pred' was replaced"

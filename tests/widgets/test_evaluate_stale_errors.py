"""An Evaluate errors layer no longer shown as current once what it describes changes.

The errors layer ("<prediction> errors @0.5") stayed, visible and unmarked, after its
prediction or ground truth was removed or had its data replaced (Segment run again into it),
so a user saw the mistakes of labels that were gone. Now it is hidden and named "(stale)", as
Segment hides its companion layers with their labels, and the status line says why; the next
evaluation of that prediction (or of a new one of its name) updates it and shows it again.
"""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _evaluate_errors
from tessella._widgets import evaluate as evaluate_module


@pytest.fixture
def evaluated(make_napari_viewer, nuclei_sample, monkeypatch):
    """Real nuclei labels (a 256x256 crop) and a prediction missing three of its objects,
    evaluated with Show errors: ``(viewer, widget, said)``."""
    truth = nuclei_sample[1][:256, :256]
    prediction = np.where(np.isin(truth, np.unique(truth)[1:4]), 0, truth)
    viewer = make_napari_viewer()
    viewer.add_labels(truth, name="gt")
    viewer.add_labels(prediction, name="pred")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert (widget.prediction_layer.name, widget.truth_layer.name) == ("pred", "gt")
    said: list[str] = []
    for module in (_evaluate_errors, evaluate_module):
        monkeypatch.setattr(module, "show_info", said.append)
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()  # (a small pair: scored at once)
    errors = viewer.layers["pred errors @0.5"]
    assert errors.visible and widget.last_evaluation.fn == 3
    return viewer, widget, said


def _errors_layers(viewer) -> list:
    return [layer for layer in viewer.layers if "errors" in layer.name]


def test_removing_the_prediction_marks_its_errors_stale(evaluated):
    viewer, widget, said = evaluated
    errors = viewer.layers["pred errors @0.5"]
    prediction = viewer.layers["pred"].data.copy()

    viewer.layers.remove("pred")

    assert errors in viewer.layers and not errors.visible
    assert errors.name == "pred errors @0.5 (stale)"
    text = (
        "'pred errors @0.5' is out of date (the prediction 'pred' was removed): hidden, and "
        "named 'pred errors @0.5 (stale)'. Evaluate again to update it."
    )
    assert widget.status_label.text() == text and said == [f"Evaluate: {text}"]

    # the prediction made again (Segment run anew) and scored: the stale layer is its again
    viewer.add_labels(prediction, name="pred")
    widget.evaluate_button.click()
    assert _errors_layers(viewer) == [errors]
    assert errors.name == "pred errors @0.5" and errors.visible


def test_replacing_the_prediction_marks_its_errors_stale(evaluated):
    viewer, widget, _said = evaluated
    errors = viewer.layers["pred errors @0.5"]
    truth = viewer.layers["gt"].data

    viewer.layers["pred"].data = truth.copy()  # what a Segment run into the layer does

    assert not errors.visible and errors.name == "pred errors @0.5 (stale)"
    assert "(the prediction 'pred' was replaced)" in widget.status_label.text()
    # Show errors again does not bring back errors of labels that are gone
    widget.errors_checkbox.setChecked(False)
    widget.errors_checkbox.setChecked(True)
    assert not errors.visible
    assert widget.status_label.text() == (
        "No errors layer: the prediction 'pred' was replaced since the evaluation. Evaluate again."
    )

    widget.evaluate_button.click()  # the new labels: a perfect prediction
    assert _errors_layers(viewer) == [errors] and errors.visible
    assert errors.name == "pred errors @0.5" and not errors.data.any()
    assert _evaluate_errors.STALE_KEY not in errors.metadata


def test_removing_the_ground_truth_marks_the_errors_stale(evaluated):
    viewer, widget, _said = evaluated
    errors = viewer.layers["pred errors @0.5"]

    viewer.layers.remove("gt")

    assert not errors.visible and errors.name == "pred errors @0.5 (stale)"
    assert "(the ground truth 'gt' was removed)" in widget.status_label.text()
    assert "was removed" in errors.metadata[_evaluate_errors.STALE_KEY]

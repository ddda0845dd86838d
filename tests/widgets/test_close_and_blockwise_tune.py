"""Two s25 robustness findings.

F7: closing the Evaluate panel while an evaluation ran in its thread worker did not stop it,
and the worker then added an errors layer to the viewer (Segment and Train stop and add
nothing when their panel is closed). Now the evaluation is dropped: no errors layer, no
scores, the panel's controls usable again, whether the panel closes while the worker scores or
once its result is already on its way to the GUI thread.

F8: right after a blockwise Segment run, Tune's status line said "Run Segment first ... 'nuc
labels' was opened from a file", wrong on both counts. A blockwise result is read from its
zarr and keeps no network output, so Tune cannot update it: the line now says so, naming the
layer, and how to tune it (in memory, then the recipe replayed blockwise).
"""

from __future__ import annotations

import threading
from functools import wraps

import numpy as np
import pytest
from qtpy.QtCore import QThreadPool
from qtpy.QtWidgets import QApplication

from tessella._widgets import _evaluate_run
from tessella._widgets import evaluate as evaluate_module
from tests.widgets.test_segment_widget import choose_layer


@pytest.fixture
def evaluate_on_a_worker(make_napari_viewer, nuclei_sample, monkeypatch):
    """A viewer with the real nuclei ground truth and a prediction missing three of its
    objects (so there are errors to show), its Evaluate panel docked with Show errors ticked
    and every pair scored in a thread worker: ``(viewer, widget, said)``, ``said`` collecting
    the panel's notifications."""
    truth = nuclei_sample[1]
    prediction = np.where(np.isin(truth, np.unique(truth)[1:4]), 0, truth)
    viewer = make_napari_viewer()
    viewer.add_labels(truth, name="nuclei ground truth")
    viewer.add_labels(prediction, name="pred")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert widget.prediction_layer.name == "pred"
    widget.errors_checkbox.setChecked(True)
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)  # in a thread worker
    said: list[str] = []
    for module in (_evaluate_run, evaluate_module):
        for name in ("show_info", "show_error"):
            monkeypatch.setattr(module, name, said.append, raising=False)
    return viewer, widget, said


def _layer_names(viewer) -> list[str]:
    return [layer.name for layer in viewer.layers]


def test_evaluate_scores_on_a_worker_and_shows_errors(evaluate_on_a_worker, qtbot):
    """What closing the panel must prevent: an evaluation left to finish adds its errors."""
    viewer, widget, _said = evaluate_on_a_worker
    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
        assert widget.worker is not None
    assert _layer_names(viewer)[-1] == "pred errors @0.5"
    assert widget.counts_table.item(0, 4).text() == "3"  # the 3 objects removed: FN


def test_evaluate_closed_during_a_run_adds_nothing(evaluate_on_a_worker, qtbot, monkeypatch):
    viewer, widget, said = evaluate_on_a_worker
    running, go_on = threading.Event(), threading.Event()
    original = _evaluate_run._evaluate_steps

    @wraps(original)
    def held(*args, **kwargs):  # in the worker's thread: scoring until the panel has closed
        running.set()
        assert go_on.wait(20), "the test did not let the evaluation go on"
        return (yield from original(*args, **kwargs))

    monkeypatch.setattr(_evaluate_run, "_evaluate_steps", held)
    names = _layer_names(viewer)
    try:
        with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
            widget.evaluate_button.click()
            assert running.wait(20), "the evaluation did not start in its worker"
            viewer.window.remove_dock_widget(widget)  # what the panel's "x" does
            go_on.set()
    finally:
        go_on.set()  # (never leave a worker waiting)

    assert widget.worker is None and widget._run is None
    assert _layer_names(viewer) == names  # no "pred errors @0.5"
    assert widget.last_scores is None  # the dropped evaluation's scores are not shown
    assert said == [
        "Evaluate: the panel was closed; the evaluation of 'pred' against 'nuclei ground "
        "truth' was stopped: no scores or errors layer shown."
    ]
    assert widget.evaluate_button.isEnabled() and widget.pred_combo.isEnabled()


def test_evaluate_closed_with_its_result_on_the_way_adds_nothing(evaluate_on_a_worker, qtbot):
    """The worker has returned its result (queued for the GUI thread) when the panel closes:
    ``quit()`` comes too late to hold it back, the panel drops it."""
    viewer, widget, _said = evaluate_on_a_worker
    names = _layer_names(viewer)
    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
        worker = widget.worker
        # the GUI thread waits without handling events: the result waits in its queue
        assert QThreadPool.globalInstance().waitForDone(60_000)
        assert not worker.abort_requested
        viewer.window.remove_dock_widget(widget)
        QApplication.processEvents()

    assert _layer_names(viewer) == names
    assert widget.last_scores is None and widget.evaluate_button.isEnabled()


def test_tune_after_a_blockwise_run_says_what_is_true(
    segment_widget, nuclei_image, tmp_path, run_to_end
):
    viewer, segment = segment_widget
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    viewer.add_image(nuclei_image[:256, :256], name="nuc")
    choose_layer(segment, "nuc")
    segment.blockwise_checkbox.setChecked(True)
    segment.blockwise_edit.setText(str(tmp_path / "nuc labels.zarr"))
    segment.block_spin.setValue(128)
    run_to_end(segment)
    layer = viewer.layers["nuc labels (nuclei2d)"]
    assert "blockwise" in layer.metadata["tessella_recipe"]  # (a blockwise result)
    assert "written to" in segment.status_label.text()

    text = tune.status_label.text()
    assert tune.layer_combo.count() == 0  # nothing Tune can update
    assert text.startswith(
        "'nuc labels (nuclei2d)' was segmented blockwise: its labels are read from"
    )
    assert "Run Segment first" not in text and "opened from a file" not in text
    assert "untick 'Blockwise into zarr' and Run Segment on the image" in text
    assert "--blockwise --recipe RECIPE.json" in text

    layer.name = "kept"  # the line follows the layer's name
    assert tune.status_label.text().startswith("'kept' was segmented blockwise")

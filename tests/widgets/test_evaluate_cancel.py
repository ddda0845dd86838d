"""Evaluate's scoring in a worker stops when cancelled or when the panel closes.

Closing the panel dropped the result (9a1868a), but the scoring went on to its end unseen;
there was no Cancel and no progress. Now the engine scores in steps (the ground truth's
objects, then one per image matched), the worker stops at the next one, and the panel counts
the images matched on a progress bar. The tests count the images matched (IoU matrices made),
not time: a 12-frame time-lapse stopped in its first frames matches at most one more.
"""

from __future__ import annotations

import threading
from functools import wraps

import numpy as np
import pytest

from tessella._widgets import _evaluate_run
from tessella._widgets import evaluate as evaluate_module
from tessella.engine import _metrics_overlap, metrics

FRAMES = 12


@pytest.fixture
def time_lapse_on_a_worker(make_napari_viewer, nuclei_sample, monkeypatch):
    """A 12-frame time-lapse of real nuclei labels (128x128 crops) and a prediction missing
    objects, its Evaluate panel docked, every pair scored in a thread worker:
    ``(viewer, widget, said)``, ``said`` collecting the panel's notifications."""
    truth = nuclei_sample[1]
    frames = np.stack([truth[(k // 4) * 128 :][:128, (k % 4) * 128 :][:, :128] for k in range(12)])
    prediction = np.where(np.isin(frames, np.unique(frames)[1:6]), 0, frames)
    viewer = make_napari_viewer()
    viewer.add_labels(frames, name="gt", metadata={"axes": "TYX"})
    viewer.add_labels(prediction, name="pred", metadata={"axes": "TYX"})
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert (widget.prediction_layer.name, widget.truth_layer.name) == ("pred", "gt")
    widget.errors_checkbox.setChecked(True)
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)  # in a thread worker
    said: list[str] = []
    for module in (_evaluate_run, evaluate_module):
        monkeypatch.setattr(module, "show_info", said.append)
    return viewer, widget, said


@pytest.fixture
def matched(monkeypatch):
    """Counts the images matched (the IoU of every image's overlapping pairs, by the
    engine's matching or the panel's counts). The worker waits in the ``hold_at``-th until
    the test sets ``go_on``: ``(count, reached, go_on)``, the first a one-item list."""
    count, reached, go_on = [0], threading.Event(), threading.Event()
    hold_at = 3
    original = metrics._iou_steps  # (the IoU of the overlapping pairs, every one made)

    @wraps(original)
    def counted(*args, **kwargs):
        count[0] += 1
        if count[0] == hold_at:
            reached.set()
            assert go_on.wait(20), "the test did not let the scoring go on"
        return original(*args, **kwargs)

    monkeypatch.setattr(metrics, "_iou_steps", counted)
    monkeypatch.setattr(_metrics_overlap, "_iou_steps", counted)
    yield count, reached, go_on
    go_on.set()  # (never leave a worker waiting)


def _error_layers(viewer) -> list[str]:
    return [layer.name for layer in viewer.layers if "errors" in layer.name]


def test_cancel_stops_the_scoring_and_the_panel_scores_again(
    time_lapse_on_a_worker, matched, qtbot
):
    viewer, widget, _said = time_lapse_on_a_worker
    count, reached, go_on = matched
    shown: list[int] = []
    widget.progress_bar.valueChanged.connect(shown.append)
    assert not widget.cancel_button.isEnabled()

    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
        assert widget.cancel_button.isEnabled() and not widget.progress_bar.isHidden()
        assert reached.wait(20), "the scoring did not reach its third frame"
        widget.cancel_button.click()
        assert "Cancelling" in widget.status_label.text()
        go_on.set()

    assert count[0] <= 4  # of 12 frames: stopped after the one being matched (old: 24)
    assert shown and max(shown) <= 4 and widget.progress_bar.maximum() == FRAMES
    assert widget.status_label.text() == "Cancelled: 'pred' against 'gt' was not scored."
    assert widget.last_scores is None and _error_layers(viewer) == []
    assert widget.worker is None and not widget.cancel_button.isEnabled()
    assert widget.progress_bar.isHidden()
    assert widget.evaluate_button.isEnabled() and widget.pred_combo.isEnabled()

    count[0] = 100  # held no more: the next evaluation runs to its end
    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
    assert count[0] == 100 + FRAMES  # each frame's IoU matrix made once
    assert max(shown) == FRAMES
    assert widget.last_evaluation.fn > 0 and _error_layers(viewer) == ["pred errors @0.5"]
    assert widget.status_label.text().startswith("'pred' against 'gt' (instances (labels)): avS")


def test_closing_the_panel_stops_the_scoring(time_lapse_on_a_worker, matched, qtbot):
    viewer, widget, said = time_lapse_on_a_worker
    count, reached, go_on = matched
    names = [layer.name for layer in viewer.layers]

    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
        assert reached.wait(20), "the scoring did not reach its third frame"
        viewer.window.remove_dock_widget(widget)  # what the panel's "x" does
        go_on.set()

    assert count[0] <= 4  # of 12 frames (the old scoring went on to its end: 24)
    assert [layer.name for layer in viewer.layers] == names
    assert said == [
        "Evaluate: the panel was closed; the evaluation of 'pred' against 'gt' was stopped: "
        "no scores or errors layer shown."
    ]
    assert widget.worker is None and widget.evaluate_button.isEnabled()

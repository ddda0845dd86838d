"""Warnings while a panel's thread worker runs: superqt's worker swapped ``warnings.showwarning``
for the whole process, so a warning raised on the GUI thread meanwhile (the napari console,
napari itself, another plugin) went to the running panel: Segment showed it as its own, Tune
and Evaluate dropped it (and their workers' own warnings too). Now each panel's worker takes
only the warnings of its own thread and shows them as the panel's; any other goes to the
handler that was there (here pytest's recorder), which is put back when the worker ends.

Each worker is held at a gate, inside its thread, until the GUI thread has warned."""

from __future__ import annotations

import threading
import warnings
from functools import wraps

import numpy as np
import pytest

from tessella._widgets import _evaluate_kinds, _evaluate_run, _segment_blockwise, _tune_running
from tessella._widgets import segment as segment_module
from tessella._widgets import tune as tune_module
from tests.widgets.test_tune_widget import place

ON_THE_GUI_THREAD = "a warning from the user's console"
IN_THE_WORKER = "a warning from the panel's worker"


class Gate:
    """Hold a function (or generator function) the worker runs: inside the worker's thread
    it sets ``running``, waits for :meth:`open`, raises :data:`IN_THE_WORKER`, then goes on
    as the original (the first call only; later calls go straight on)."""

    def __init__(self) -> None:
        self.running, self._open = threading.Event(), threading.Event()

    def open(self) -> None:
        self._open.set()

    def _hold(self) -> None:
        if not self.running.is_set():
            self.running.set()
            assert self._open.wait(20), "the gate was not opened"
            warnings.warn(IN_THE_WORKER, UserWarning, stacklevel=1)

    def function(self, original):
        @wraps(original)
        def held(*args, **kwargs):
            self._hold()
            return original(*args, **kwargs)

        return held

    def generator(self, original):
        @wraps(original)
        def held(*args, **kwargs):
            self._hold()
            return (yield from original(*args, **kwargs))

        return held


def _warn_while_held(qtbot, gate: Gate, finished, start) -> None:
    """``start()`` the panel's worker; once it is held at ``gate``, warn on this (the GUI)
    thread, open the gate, and wait for the ``finished`` signal."""
    try:
        with qtbot.waitSignal(finished, timeout=120_000):
            start()
            assert gate.running.wait(20), "the worker did not reach the gate"
            warnings.warn(ON_THE_GUI_THREAD, UserWarning, stacklevel=1)
            gate.open()
    finally:
        gate.open()  # (never leave a worker waiting)


def _ours(messages) -> list[str]:
    """The messages that are (or show) this test's warnings."""
    return [str(m) for m in messages if str(m).endswith((ON_THE_GUI_THREAD, IN_THE_WORKER))]


def _shown_elsewhere(recwarn) -> list[str]:
    return _ours(w.message for w in recwarn)


@pytest.mark.parametrize("blockwise", [False, True], ids=["in-memory", "blockwise"])
def test_segment_shows_its_runs_warnings_only(
    segment_widget, nuclei_image, qtbot, monkeypatch, recwarn, tmp_path, blockwise
):
    viewer, widget = segment_widget
    shown: list[str] = []
    monkeypatch.setattr(segment_module, "show_warning", shown.append)
    viewer.add_image(nuclei_image[:128, :128].copy(), name="crop")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("crop"))
    gate = Gate()
    if blockwise:
        monkeypatch.setattr(
            _segment_blockwise,
            "blockwise_steps",
            gate.generator(_segment_blockwise.blockwise_steps),
        )
        widget.blockwise_checkbox.setChecked(True)
        widget.blockwise_edit.setText(str(tmp_path / "crop_labels.zarr"))
        widget.block_spin.setValue(128)
    else:
        monkeypatch.setattr(
            segment_module, "_segment_steps", gate.generator(segment_module._segment_steps)
        )
    before = warnings.showwarning

    _warn_while_held(qtbot, gate, widget.run_finished, widget.run_button.click)

    assert "crop labels" in viewer.layers, widget.status_label.text()  # the run went on
    assert _shown_elsewhere(recwarn) == [ON_THE_GUI_THREAD]
    assert _ours(shown) == [IN_THE_WORKER]
    assert warnings.showwarning is before  # put back when the worker ended


def test_tune_shows_its_updates_warnings_only(
    make_napari_viewer, result_2d, qtbot, monkeypatch, recwarn
):
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    layer = place(viewer, result_2d, name="nuclei labels")
    shown: list[str] = []
    monkeypatch.setattr(tune_module, "show_warning", shown.append)
    gate = Gate()
    monkeypatch.setattr(
        _tune_running, "_postprocess_frames", gate.generator(_tune_running._postprocess_frames)
    )
    before_labels = layer.data.copy()
    before = warnings.showwarning

    def seed_thresh_moved() -> None:
        widget.controls["seed_thresh"].setValue(0.5)
        qtbot.waitUntil(lambda: bool(widget._workers), timeout=10_000)

    _warn_while_held(qtbot, gate, widget.update_finished, seed_thresh_moved)
    qtbot.waitUntil(lambda: not widget.busy, timeout=30_000)

    assert not np.array_equal(layer.data, before_labels)  # the update landed
    assert _shown_elsewhere(recwarn) == [ON_THE_GUI_THREAD]
    assert _ours(shown) == [f"Tune: {IN_THE_WORKER}"]
    assert warnings.showwarning is before


@pytest.fixture
def evaluate_pair(make_napari_viewer, nuclei_sample):
    """A viewer with the nuclei labels as ground truth and as prediction."""
    viewer = make_napari_viewer()
    truth = nuclei_sample[1]
    viewer.add_labels(truth, name="nuclei ground truth")
    viewer.add_labels(truth.copy(), name="prediction")
    return viewer


def test_evaluate_shows_its_runs_warnings_only(evaluate_pair, qtbot, monkeypatch, recwarn):
    viewer = evaluate_pair
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    shown: list[str] = []
    monkeypatch.setattr(_evaluate_run, "show_warning", shown.append)
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)  # in a thread worker
    gate = Gate()
    monkeypatch.setattr(_evaluate_run, "_evaluate", gate.function(_evaluate_run._evaluate))
    before = warnings.showwarning

    _warn_while_held(qtbot, gate, widget.evaluation_finished, widget.evaluate_button.click)

    assert widget.last_scores["avs"] == 1.0  # the run went on
    assert _shown_elsewhere(recwarn) == [ON_THE_GUI_THREAD]
    assert _ours(shown) == [f"Evaluate: {IN_THE_WORKER}"]
    assert warnings.showwarning is before


def test_evaluates_guess_of_the_ground_truth_shows_its_warnings_only(
    evaluate_pair, qtbot, monkeypatch, recwarn
):
    viewer = evaluate_pair
    shown: list[str] = []
    monkeypatch.setattr(_evaluate_kinds, "show_warning", shown.append, raising=False)
    monkeypatch.setattr(_evaluate_kinds, "GUESS_SYNC_PIXELS", 0)  # in a thread worker
    gate = Gate()
    monkeypatch.setattr(_evaluate_kinds, "_guess", gate.function(_evaluate_kinds._guess))
    before = warnings.showwarning
    # docked with the pair chosen: its ground truth is guessed in a thread worker, held at
    # the gate
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert widget.kind_worker is not None
    _warn_while_held(qtbot, gate, widget.kind_guessed, lambda: None)

    assert widget.truth_kind == "labels"  # the guess went on
    assert _shown_elsewhere(recwarn) == [ON_THE_GUI_THREAD]
    assert _ours(shown) == [f"Evaluate: {IN_THE_WORKER}"]
    assert warnings.showwarning is before

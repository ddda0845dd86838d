"""Warnings while a panel's thread worker runs: superqt's worker swapped ``warnings.showwarning``
for the whole process, so a warning raised on the GUI thread meanwhile (the napari console,
napari itself, another plugin) went to the running panel: Segment showed it as its own, Tune
and Evaluate dropped it (and their workers' own warnings too). Now each panel's worker takes
only the warnings of its own thread and shows them as the panel's; any other goes to the
handler that was there (here pytest's recorder), which is put back when the worker ends.

Each worker is held at a gate, inside its thread, until the GUI thread has warned.

Also: a worker gets the same warning in every run (as under superqt's "always" filter), and a
block on the GUI thread that catches its warnings (Train's start(), Export's CTC writing) takes
those of its own thread only, so a worker's warning raised meanwhile still reaches its panel."""

from __future__ import annotations

import doctest
import threading
import warnings
from functools import wraps

import numpy as np
import pytest
from napari.qt.threading import create_worker

from tessella._widgets import _evaluate_kinds, _evaluate_run, _segment_blockwise, _tune_running
from tessella._widgets import segment as segment_module
from tessella._widgets import tune as tune_module
from tessella._widgets._workers import ThreadWarningsFunctionWorker, ThreadWarningsWorker
from tests.widgets.test_tune_widget import place

ON_THE_GUI_THREAD = "a warning from the user's console"
IN_THE_WORKER = "a warning from the panel's worker"


class Gate:
    """Hold a function (or generator function) the worker runs: inside the worker's thread
    it sets ``running``, waits for :meth:`open`, raises :data:`IN_THE_WORKER`, then goes on
    as the original (the first call only; later calls go straight on)."""

    def __init__(self) -> None:
        self.running, self._open = threading.Event(), threading.Event()
        self.warned = threading.Event()  # set once the worker has raised its warning

    def open(self) -> None:
        self._open.set()

    def _hold(self) -> None:
        if not self.running.is_set():
            self.running.set()
            assert self._open.wait(20), "the gate was not opened"
            warnings.warn(IN_THE_WORKER, UserWarning, stacklevel=1)
            self.warned.set()

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

    assert "crop labels (nuclei2d)" in viewer.layers, widget.status_label.text()  # the run went on
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
    monkeypatch.setattr(  # what its worker runs (steps, so that Cancel stops it)
        _evaluate_run, "_evaluate_steps", gate.generator(_evaluate_run._evaluate_steps)
    )
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


# --- each run's warnings, every time -------------------------------------------------------
# No recwarn here: it sets the "always" filter for the whole test, which hides what is tested.


def _same_warning() -> None:
    warnings.warn(IN_THE_WORKER, UserWarning, stacklevel=1)


def _function_run() -> int:
    _same_warning()
    return 1


def _generator_run():
    yield 0
    _same_warning()
    yield 1


@pytest.mark.parametrize(
    ("work", "worker_class"),
    [(_function_run, ThreadWarningsFunctionWorker), (_generator_run, ThreadWarningsWorker)],
    ids=["function", "generator"],
)
def test_a_worker_gets_the_same_warning_in_every_run(qtbot, work, worker_class):
    """The workers left the filters as they were (superqt's set "always"), so under Python's
    "default" action a warning with the same text from the same line reached ``warned`` in
    the first run only (in a panel: Train again on the same pairs said nothing of its images
    smaller than the patch, a second blockwise "starting again" never reached Segment)."""
    warned: list[tuple[int, str]] = []
    for run in range(3):
        worker = create_worker(work, _worker_class=worker_class, _start_thread=False)
        worker.warned.connect(lambda args, run=run: warned.append((run, str(args[0]))))
        with qtbot.waitSignal(worker.finished, timeout=20_000):
            worker.start()

    assert warned == [(run, IN_THE_WORKER) for run in range(3)]


# --- blocks on the GUI thread that catch its warnings ------------------------------------------
# Train's start() caught the warnings of the ignore label's check, Export silenced write_ctc's
# notes, with warnings.catch_warnings: one handler and one set of filters for the whole process,
# so a worker's warning raised meanwhile was taken by Train ("Train: ...") or silenced.


def _disks(size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Three bright disks on noise, and their labels 1, 2, 3."""
    yy, xx = np.mgrid[:size, :size]
    image = 0.1 * np.random.default_rng(0).random((size, size)).astype(np.float32)
    labels = np.zeros((size, size), np.int32)
    for k, (y, x) in enumerate(((16, 16), (40, 44), (20, 48))):
        disk = (yy - y) ** 2 + (xx - x) ** 2 < 64
        image[disk] = 1.0
        labels[disk] = k + 1
    return image, labels


def _held_evaluate(viewer, labels, monkeypatch) -> tuple:
    """Evaluate docked in ``viewer`` on ``labels`` (as ground truth and prediction), its run's
    worker held at a gate; returns the panel, the gate and the list of what it showed."""
    viewer.add_labels(labels, name="truth")
    viewer.add_labels(labels.copy(), name="prediction")
    _dock, evaluate = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    evaluate.truth_combo.setCurrentIndex(evaluate.truth_combo.findText("truth"))
    evaluate.pred_combo.setCurrentIndex(evaluate.pred_combo.findText("prediction"))
    shown: list[str] = []
    monkeypatch.setattr(_evaluate_run, "show_warning", shown.append)
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)  # in a thread worker
    gate = Gate()
    monkeypatch.setattr(  # what its worker runs (steps, so that Cancel stops it)
        _evaluate_run, "_evaluate_steps", gate.generator(_evaluate_run._evaluate_steps)
    )
    return evaluate, gate, shown


def _when_the_worker_has_warned(gate: Gate, original):
    """``original``, called once the worker held at ``gate`` has raised its warning (from a
    block on the GUI thread, the worker's warning is raised while the block runs)."""

    @wraps(original)
    def after(*args, **kwargs):
        gate.open()
        assert gate.warned.wait(20), "the worker did not warn"
        return original(*args, **kwargs)

    return after


def test_trains_start_takes_its_own_warnings_only(make_napari_viewer, qtbot, monkeypatch, tmp_path):
    """Train's start() warns of an ignore label among the object IDs ("Train: ..."); an
    Evaluate run's warning raised meanwhile is Evaluate's, not Train's."""
    import tessella._widgets.train as train_module
    import tessella.engine.train.data as train_data
    from tessella._widgets.train import NEW

    (tmp_path / "afile").write_text("not a folder")  # refused after the check: nothing trains
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "afile"))
    viewer = make_napari_viewer()
    image, labels = _disks()
    evaluate, gate, evaluate_shown = _held_evaluate(viewer, labels, monkeypatch)
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    base = next(
        i
        for i in range(train.base_combo.count())
        if train.base_combo.itemData(i) == NEW + "embedding"
    )
    train.base_combo.setCurrentIndex(base)
    train.add_pair(viewer.add_image(image, name="img"), viewer.layers["truth"])
    train.ignore_spin.setValue(2)  # an object's ID: the check warns
    train_shown: list[str] = []
    monkeypatch.setattr(train_module, "show_warning", train_shown.append)
    monkeypatch.setattr(
        train_data,
        "apply_ignore_label",
        _when_the_worker_has_warned(gate, train_data.apply_ignore_label),
    )

    try:
        with qtbot.waitSignal(evaluate.evaluation_finished, timeout=60_000):
            evaluate.evaluate_button.click()
            assert gate.running.wait(20), "the worker did not reach the gate"
            assert not train.start()
    finally:
        gate.open()

    assert "cannot be created or written" in train.status_label.text()  # refused after it
    assert [m[:32] for m in train_shown] == ["Train: unannotated label 2 is am"]
    assert _ours(evaluate_shown) == [f"Evaluate: {IN_THE_WORKER}"]


def test_exports_ctc_notes_do_not_silence_a_workers_warnings(
    make_napari_viewer, qtbot, monkeypatch, tmp_path, recwarn
):
    """Export leaves write_ctc's notes out (they go in the status line); an Evaluate run's
    warning raised meanwhile still reaches Evaluate."""
    import tessella.engine.tracking as tracking

    viewer = make_napari_viewer()
    _image, labels = _disks()
    evaluate, gate, evaluate_shown = _held_evaluate(viewer, labels, monkeypatch)
    movie = viewer.add_labels(np.stack([labels] * 3), name="movie labels")
    movie.axis_labels = ("t", "y", "x")
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    export.labels_combo.setCurrentIndex(export.labels_combo.findText("movie labels"))
    export.path_edit.setText(str(tmp_path / "movie"))
    export.ctc_checkbox.setChecked(True)
    note, original = "a note of write_ctc's", tracking.write_ctc

    def write_ctc(*args, **kwargs):
        warnings.warn(note, UserWarning, stacklevel=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(tracking, "write_ctc", _when_the_worker_has_warned(gate, write_ctc))

    try:
        with qtbot.waitSignal(evaluate.evaluation_finished, timeout=60_000):
            evaluate.evaluate_button.click()
            assert gate.running.wait(20), "the worker did not reach the gate"
            written = export.export()
    finally:
        gate.open()

    assert "movie_RES" in [p.name for p in written]
    assert _ours(evaluate_shown) == [f"Evaluate: {IN_THE_WORKER}"]
    assert note not in [str(w.message) for w in recwarn]  # left out, as before


def test_the_gui_threads_block_sees_its_own_warnings_every_time():
    """What Train and Export use: the warnings of this thread, each time, and only while the
    block runs; the handler and filters are as they were afterwards."""
    from tessella._widgets import _workers

    before = (warnings.showwarning, list(warnings.filters))
    for _time in range(2):
        with _workers.caught_warnings_of_this_thread(UserWarning) as caught:
            warnings.warn(ON_THE_GUI_THREAD, UserWarning, stacklevel=1)
        assert [str(w.message) for w in caught] == [ON_THE_GUI_THREAD]
    assert (warnings.showwarning, list(warnings.filters)) == before
    assert doctest.testmod(_workers).failed == 0

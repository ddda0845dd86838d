"""What the Train panel tells about a run, found driving it in a viewer (acceptance test 3):
warnings of other threads not called Train's, a models folder that cannot be written refused
before the run, a reopened panel offering Resume for the run it stopped, the card telling a
closed panel from Cancel, the loss curve kept across Resume, counts in words."""

from __future__ import annotations

import json
import shutil
import threading
import warnings

import pytest

import tessella._widgets._train_starting as starting_module  # start() runs its _train
import tessella._widgets.train as train_module
from tessella._widgets.train import NEW, TrainWidget
from tessella.engine.train.loop import TrainProgress
from tests.widgets.test_train_gaps import _volume


def _disks(depth: int = 1, size: int = 64):
    """Bright disks and their labels, every slice labelled (depth 1: a 2D image)."""
    image, labels = _volume(depth, size)
    return (image[0], labels[0]) if depth == 1 else (image, labels)


def _panel(viewer, base: str = NEW + "embedding") -> TrainWidget:
    """A Train panel docked in ``viewer``, training on a 2D image and its labels."""
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.device_combo.setCurrentText("cpu")
    train.patch_spin.setValue(64)
    train.steps_spin.setValue(1)
    index = next(
        i for i in range(train.base_combo.count()) if train.base_combo.itemData(i).endswith(base)
    )
    train.base_combo.setCurrentIndex(index)
    image, labels = _disks()
    train.add_pair(viewer.add_image(image, name="img"), viewer.add_labels(labels, name="gt"))
    return train


def test_only_the_training_threads_warnings_are_shown_as_train(
    viewer_models, qtbot, monkeypatch, recwarn
):
    """superqt's worker swapped ``warnings.showwarning`` for the whole process while it ran,
    so a warning raised on the GUI thread (the napari console, napari itself, another
    plugin) during a training was shown as "Train: ...". Now only the training thread's
    warnings are Train's; the others go where they would have gone (here pytest's recorder)."""
    viewer, _models = viewer_models
    train = _panel(viewer)
    running, warned_outside = threading.Event(), threading.Event()

    def engine(config, samples, held):
        running.set()
        assert warned_outside.wait(20)
        warnings.warn("a warning from the training thread", stacklevel=1)
        yield from ()

    monkeypatch.setattr(starting_module, "_train", engine)
    shown: list[str] = []
    monkeypatch.setattr(train_module, "show_warning", shown.append)
    before = warnings.showwarning
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
        assert running.wait(20)
        warnings.warn("a warning from the user's console", stacklevel=1)
        warned_outside.set()
    assert shown == ["Train: a warning from the training thread"]
    assert [str(w.message) for w in recwarn] == ["a warning from the user's console"]
    assert warnings.showwarning is before  # put back once no worker captures


def test_workers_ending_out_of_order_leave_warnings_where_they_went(recwarn):
    """Each capturing thread gets its own warnings, and once the last one ends the process's
    handler is what it was (catch_warnings in two workers ending out of order left the first
    worker's handler in place for good)."""
    from tessella._widgets._workers import warnings_of_this_thread

    before = warnings.showwarning
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    caught: dict[str, list[str]] = {"a": [], "b": []}

    def first() -> None:
        with warnings_of_this_thread(lambda *args: caught["a"].append(str(args[0]))):
            a_in.set()
            b_in.wait(10)
            warnings.warn("in a", stacklevel=1)
        a_out.set()

    def second() -> None:
        a_in.wait(10)
        with warnings_of_this_thread(lambda *args: caught["b"].append(str(args[0]))):
            b_in.set()
            a_out.wait(10)
            warnings.warn("in b", stacklevel=1)

    threads = [threading.Thread(target=f) for f in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    warnings.warn("on the main thread", stacklevel=1)
    assert caught == {"a": ["in a"], "b": ["in b"]}
    assert warnings.showwarning is before
    assert [str(w.message) for w in recwarn] == ["on the main thread"]


def _stopped(out) -> dict:
    return json.loads((out / "card.json").read_text())["training"].get("stopped", {})


def _scored_zero(monkeypatch) -> None:
    import tessella.engine.train.loop as loop

    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: 0.0)  # (fast)


def test_a_run_stopped_by_closing_the_panel_says_so_and_the_reopened_panel_resumes_it(
    viewer_models, qtbot, monkeypatch
):
    """Closing the panel mid-run was recorded as "cancelled", and the panel opened again
    named the model as the last one but offered no Resume: Save as held a new name, the
    pairs and the plot were empty. Now the card says "panel closed", the reopened panel puts
    the name in Save as (Resume enabled), the pairs and the curves back, and says it can be
    resumed; Resume keeps the loss of every step of the epochs kept (it was redrawn as one
    point per epoch)."""
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    train = _panel(viewer)
    train.name_edit.setText("closed")
    train.epochs_spin.setValue(4)
    train.steps_spin.setValue(2)
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.start(), train.status_label.text()
        qtbot.waitUntil(lambda: bool(train._scores), timeout=120_000)
        viewer.window.remove_dock_widget(train)
    stopped = _stopped(models / "closed")
    assert stopped["why"] == "panel closed", stopped
    drawn = list(train._losses)

    _dock, again = viewer.window.add_plugin_dock_widget("tessella", "Train")
    assert again.name_edit.text() == "closed" and again.resume_button.isEnabled()
    assert again.status_label.text().endswith(
        f"Its run stopped after epoch {stopped['after_epoch']} of 4, panel closed: Resume "
        "continues it on the same pairs."
    ), again.status_label.text()
    assert again.pairs == train.pairs and not again.plot.isHidden() and again._losses == drawn

    kept = stopped["after_epoch"] * 2
    with qtbot.waitSignal(again.run_finished, timeout=120_000):
        assert again.resume(), again.status_label.text()
        restored = list(again._losses)  # drawn at once, before the run's first step
        again.cancel_button.click()
    assert [x for x, _ in restored] == list(range(1, kept + 1))
    assert restored == [(x, y) for x, y in drawn if x <= kept]


def test_a_run_stopped_by_closing_the_viewer_says_so_and_resumes_with_its_step_losses(
    make_napari_viewer, tmp_path, qtbot, monkeypatch
):
    """Closing the viewer mid-run was recorded as "cancelled" too; now "viewer closed".
    Resumed in another viewer, the loss curve goes on from every step the checkpoint kept,
    not one point per epoch."""
    _scored_zero(monkeypatch)
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))
    viewer = make_napari_viewer()
    train = _panel(viewer)
    train.name_edit.setText("gone")
    train.epochs_spin.setValue(50)
    train.steps_spin.setValue(2)
    out = tmp_path / "models" / "gone"
    assert train.start(), train.status_label.text()
    qtbot.waitUntil(lambda: bool(train._scores), timeout=120_000)
    viewer.close()
    qtbot.waitUntil(lambda: bool((out / "card.json").is_file() and _stopped(out)), timeout=60_000)
    stopped = _stopped(out)
    assert stopped["why"] == "viewer closed", stopped

    other = _panel(make_napari_viewer())
    other.name_edit.setText("gone")
    assert other.resume_button.isEnabled()
    with qtbot.waitSignal(other.run_finished, timeout=120_000):
        assert other.resume(), other.status_label.text()
        restored = list(other._losses)  # drawn at once, before the run's first step
        other.cancel_button.click()
    kept = stopped["after_epoch"] * 2
    assert [x for x, _ in restored] == list(range(1, kept + 1))


def _engine(model_dir=None, scores=(), error: Exception | None = None):
    """A stand-in for the training run: yields the validation ``scores`` as the engine's
    epoch messages, then copies ``model_dir`` as the model it writes, or raises ``error``."""

    def engine(config, samples, held):
        for epoch, score in enumerate(scores):
            message = json.dumps({"epoch": epoch})
            yield TrainProgress(epoch, len(scores) - 1, epoch, 0.5, score, score, message)
        if error is not None:
            raise error
        if model_dir is not None:
            shutil.copytree(model_dir, config.out)

    return engine


def _trained(train, qtbot, engine) -> str:
    """Start ``train`` with ``engine`` and wait for the run's end; the status it started
    with."""
    import tessella._widgets._train_starting as starting_module

    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        original = starting_module._train
        starting_module._train = engine
        try:
            assert train.start(), train.status_label.text()
        finally:
            starting_module._train = original
        started = train.status_label.text()
    return started


def test_a_models_folder_that_cannot_be_made_is_refused_before_the_run(
    viewer_models, qtbot, monkeypatch, tmp_path, tiny_model_dir
):
    """$TESSELLA_MODELS under a file: the run started and failed with "[Errno 20] Not a
    directory". Now it is refused before the run, naming the folder, what is wrong and
    $TESSELLA_MODELS; a models folder that is itself a file said "File exists", now "it is a
    file, not a folder". The loss plot is hidden until a run starts."""
    viewer, _models = viewer_models
    train = _panel(viewer)
    assert train.plot.isHidden()  # nothing to plot yet: the options get its room
    _trained(train, qtbot, _engine(tiny_model_dir))
    assert not train.plot.isHidden()

    (tmp_path / "afile").write_text("not a folder")
    train.name_edit.setText("unwritable")
    for models, why in (
        (tmp_path / "afile", "it is a file, not a folder"),
        (tmp_path / "afile" / "models", f"{tmp_path / 'afile'} is a file, not a folder"),
    ):
        monkeypatch.setenv("TESSELLA_MODELS", str(models))
        assert not train.start()
        assert train.status_label.text().startswith(
            f"Not started: the models folder {models} ($TESSELLA_MODELS) cannot be created or "
            f"written: {why}; set $TESSELLA_MODELS to a folder you can write."
        ), train.status_label.text()
        assert train._run is None


def test_a_refusal_before_the_run_keeps_the_last_model_for_compare(
    viewer_models, qtbot, tmp_path, monkeypatch, tiny_model_dir
):
    """Any refusal (a hold-out typo, a models folder that cannot be written) made the panel
    forget the model just trained: Compare was off, and a reopened panel no longer offered
    it. Nothing started and nothing replaced it, so it is kept, and the status says so."""
    viewer, models = viewer_models
    train = _panel(viewer)
    _trained(train, qtbot, _engine(tiny_model_dir))
    last = train.last_model
    assert last is not None and last.parent == models and train.compare_button.isEnabled()

    train.holdout_edit.setText("nosuch")
    assert not train.start()
    assert train.last_model == last and train.compare_button.isEnabled()
    assert train.status_label.text() == (
        "Not started: hold-out layers not found: nosuch (the labels layers trained on: 'gt'). "
        f"Compare still runs the last model, '{last.name}'."
    )
    (tmp_path / "afile").write_text("not a folder")
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "afile"))
    train.holdout_edit.setText("")
    assert not train.start()
    assert train.status_label.text().endswith(f"Compare still runs the last model, '{last.name}'.")
    assert train.last_model == last and train.compare_button.isEnabled()

    monkeypatch.setenv("TESSELLA_MODELS", str(models))
    viewer.window.remove_dock_widget(train)
    _dock, again = viewer.window.add_plugin_dock_widget("tessella", "Train")
    assert again.last_model == last and again.compare_button.isEnabled()


def test_after_a_failed_run_compare_no_longer_offers_the_model_before(
    viewer_models, qtbot, tiny_model_dir
):
    viewer, _models = viewer_models
    train = _panel(viewer)
    _trained(train, qtbot, _engine(tiny_model_dir))
    assert train.compare_button.isEnabled()
    _trained(train, qtbot, _engine(error=OSError("No space left on device")))
    assert train.status_label.text() == "Training failed: No space left on device"
    assert train.last_model is None and not train.compare_button.isEnabled()


def test_a_cancelled_run_stays_cancelled_when_the_panel_is_then_closed(
    viewer_models, qtbot, monkeypatch
):
    """Cancel, then closing the panel before the run reached its next step, recorded the
    run as stopped by "panel closed" (TrainingStopped thrown into it); it was cancelled, and
    is stopped as Cancel stops it (the generator closed: the engine records "cancelled")."""
    viewer, _models = viewer_models
    train = _panel(viewer)
    stepped, go_on = threading.Event(), threading.Event()
    thrown: list[BaseException] = []

    def engine(config, samples, held):
        try:
            for step in range(1, 10):
                yield TrainProgress(1, 1, step, 0.5, None, -1.0)
                stepped.set()
                assert go_on.wait(20)  # a long step: Cancel and the close come meanwhile
        except BaseException as exc:
            thrown.append(exc)
            raise

    monkeypatch.setattr(starting_module, "_train", engine)
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
        assert stepped.wait(20)
        train.cancel_button.click()
        viewer.window.remove_dock_widget(train)
        go_on.set()
    assert [type(exc) for exc in thrown] == [GeneratorExit]


def _stopped_run(out, samples, epochs: int = 3, after: int = 2) -> list[tuple[int, float]]:
    """A run of the engine in ``out`` stopped by a closed panel after epoch ``after``;
    the (step, loss) of its steps."""
    from tessella.engine.train import TrainConfig, TrainingStopped
    from tessella.engine.train.loop import train_steps

    config = TrainConfig(
        "embedding", "napari layers: img + gt", str(out), epochs=epochs, steps_per_epoch=2,
        batch_size=1, patch=64, features=(8, 16), device="cpu",
    )  # fmt: skip
    steps, seen = train_steps(config, samples, samples), []
    for progress in steps:
        if progress.message and progress.epoch == after:
            break
        if not progress.message:
            seen.append((progress.step, progress.loss))
    with pytest.raises(TrainingStopped):
        steps.throw(TrainingStopped("panel closed"))
    return seen


@pytest.mark.parametrize("log_is", ["missing", "behind"])
def test_resume_draws_the_losses_the_checkpoint_keeps_whatever_the_log(
    viewer_models, qtbot, monkeypatch, log_is
):
    """Resume's loss curve stopped where train.log's last epoch did: with the log missing it
    was empty, with the log behind the checkpoint it lacked the epochs after. The curve and
    the scores now go as far as the checkpoint: the loss of every step it kept, the
    validation score of each of its epochs."""
    from tessella.engine.train.data import load_pairs

    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    image, labels = _disks()
    samples = load_pairs([image], [labels], "YX", 1, {"low": 1.0, "high": 99.8})
    seen = _stopped_run(models / "stopped", samples)
    log = models / "stopped" / "train.log"
    if log_is == "missing":
        log.unlink()
    else:  # its first epoch only (written where the checkpoint is not, e.g. a full disk)
        log.write_text(log.read_text().splitlines()[0] + "\n")

    train = _panel(viewer)
    monkeypatch.setattr(starting_module, "_train", _engine())
    train.name_edit.setText("stopped")
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.resume(), train.status_label.text()
    assert train._losses == seen and [x for x, _ in seen] == [1, 2, 3, 4]
    assert train._scores == [(2, 0.0), (4, 0.0)]


def test_counts_are_worded_for_what_is_trained_on(viewer_models, qtbot, tiny_model_dir):
    """ "on 1 images"; slices of a volume and frames of a movie were called images; a hold-out
    naming no layer said "hold-out files not found"; a fine-tune that beat its base did not
    say the base's score."""
    viewer, _models = viewer_models
    train = _panel(viewer)
    started = _trained(train, qtbot, _engine())
    assert " on 1 image, scored on the same one " in started, started

    volume, volume_labels = _disks(depth=10)
    train.pairs = []
    train.add_pair(
        viewer.add_image(volume, name="vol"), viewer.add_labels(volume_labels, name="vol gt")
    )
    started = _trained(train, qtbot, _engine())
    assert " on 8 slices, holding out 2 slices: vol gt[z=8:10]." in started, started

    train.holdout_edit.setText("nosuch")
    assert not train.start()
    assert train.status_label.text() == (
        "Not started: hold-out layers not found: nosuch (the labels layers trained on: 'vol gt')"
    )

    train.holdout_edit.setText("")
    index = next(
        i
        for i in range(train.base_combo.count())
        if train.base_combo.itemData(i).endswith("cells2dt")
    )
    train.base_combo.setCurrentIndex(index)  # a time-lapse model: the stack is a movie
    started = _trained(train, qtbot, _engine())
    assert " on 8 frames, holding out 2 frames: vol gt[t=8:10]." in started, started

    index = next(
        i
        for i in range(train.base_combo.count())
        if train.base_combo.itemData(i).endswith("nuclei2d")
    )
    train.base_combo.setCurrentIndex(index)
    train.pairs = train.pairs[:0]
    train.add_pair(viewer.layers["img"], viewer.layers["gt"])
    _trained(train, qtbot, _engine(tiny_model_dir, scores=(0.9355, 0.938)))
    assert "(best validation score 0.938, base 0.935)" in train.status_label.text()
    _trained(train, qtbot, _engine(tiny_model_dir, scores=(0.9351, 0.9354)))  # 3 decimals: same
    assert "(best validation score 0.9354, base 0.9351)" in train.status_label.text()

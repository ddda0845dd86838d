"""After Cancel, Train's progress bar says where the run stopped and what Resume starts from
(user test t14, finding 4): cancelled in epoch 3, the bar kept reading "step 9 / 12, 0:28
(~0:06 left)" while the run had stopped at its epoch-2 checkpoint (step 8), where Resume
then started; the "~0:06 left" of a stopped run misled. A real (tiny) run in a viewer."""

from __future__ import annotations

from tests.widgets.test_train_run_feedback import _panel, _scored_zero, _stopped


def test_the_bar_after_cancel_says_the_checkpoint_step_resume_starts_from(
    viewer_models, qtbot, monkeypatch
):
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    train = _panel(viewer)
    train.name_edit.setText("cut")
    train.epochs_spin.setValue(30)
    train.steps_spin.setValue(2)
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.start(), train.status_label.text()
        qtbot.waitUntil(lambda: len(train._scores) >= 1, timeout=120_000)
        qtbot.waitUntil(lambda: train.progress_bar.value() > 2, timeout=120_000)
        train.cancel_button.click()
    stopped = _stopped(models / "cut")
    kept = stopped["after_epoch"] * 2
    assert stopped["why"] == "cancelled" and kept >= 2, stopped
    bar = train.progress_bar.text()
    assert bar == (
        f"stopped at step {kept} / 60 (the checkpoint after epoch {stopped['after_epoch']}): "
        f"Resume starts from step {kept}"
    ), bar
    assert train.progress_bar.value() == kept
    assert "left" not in bar

    # Resume starts where the bar said
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.resume(), train.status_label.text()
        assert train.progress_bar.text().startswith(f"step {kept} / 60"), train.progress_bar.text()
        train.cancel_button.click()


def test_the_bar_after_cancel_in_the_first_epoch_says_nothing_was_kept(
    viewer_models, qtbot, monkeypatch
):
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    train = _panel(viewer)
    train.name_edit.setText("early")
    train.epochs_spin.setValue(2)
    train.steps_spin.setValue(200)
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.start(), train.status_label.text()
        qtbot.waitUntil(lambda: bool(train._losses), timeout=120_000)
        train.cancel_button.click()
    assert not (models / "early").exists()
    bar = train.progress_bar.text()
    assert bar.startswith("stopped at step ") and bar.endswith(
        " / 400, before the first epoch ended: nothing kept"
    ), bar

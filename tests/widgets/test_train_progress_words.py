"""Train's progress while a run is under way (user test t10, finding 7): the bar showed only
"25%", with no step count and no time left (`tessella train`'s bar shows both); the
validation score was never named (it is AP(0.5) for the embedding method); and the score
shared the loss's y axis, so a loss of about 2 drew it flat at the bottom. Now the bar says
"step N / M, elapsed (~left)", the score is named in the status and on its own plot, whose
axis is 0-1, and the plots count whole steps from the start."""

from __future__ import annotations

import re
import threading
import time

import tessella._widgets._train_starting as starting_module
from tessella.engine.train import TrainProgress
from tests.widgets.test_train_run_feedback import _panel


def test_the_bar_counts_steps_and_time_left_and_the_score_is_named_on_its_own_axis(
    viewer_models, qtbot, monkeypatch
):
    viewer, _models = viewer_models
    train = _panel(viewer)
    train.epochs_spin.setValue(2)
    train.steps_spin.setValue(2)
    scored, go_on = threading.Event(), threading.Event()

    def engine(config, samples, held):
        for step in (1, 2):
            time.sleep(0.05)
            yield TrainProgress(1, 2, step, 2.0)
        yield TrainProgress(1, 2, 2, 2.0, 0.5, 0.5, '{"epoch": 1}')
        scored.set()
        assert go_on.wait(20)
        yield TrainProgress(2, 2, 3, 1.8)

    monkeypatch.setattr(starting_module, "_train", engine)
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
        assert train.progress_bar.text() == "step 0 / 4"
        qtbot.waitUntil(scored.is_set, timeout=20_000)
        qtbot.waitUntil(lambda: "Epoch 1" in train.status_label.text(), timeout=20_000)
        status = train.status_label.text()
        bar = train.progress_bar.text()
        go_on.set()
    assert status.startswith("Epoch 1 of 2: validation AP(0.5) 0.500 (best 0.500)"), status
    assert re.fullmatch(r"step 2 / 4, \d+:\d\d \(~\d+:\d\d left\)", bar), bar
    assert re.fullmatch(r"step 3 / 4, \d+:\d\d \(~\d+:\d\d left\)", train.progress_bar.text())
    assert train.plot.y_label == "loss" and "validation score" not in train.plot.series
    assert train.score_plot.y_label == "validation AP(0.5)"
    assert train.score_plot.y_range == (0.0, 1.0)
    assert train.score_plot.series["validation score"] == [(2.0, 0.5)]
    assert train.plot.x_range == train.score_plot.x_range == (0.0, 4.0)


def test_a_run_that_fails_before_its_first_step_does_not_show_step_0(
    viewer_models, qtbot, monkeypatch
):
    """User test t10, finding 8: a run refused by the engine (a binary mask) left the bar at
    "0 / 2" as if it were under way."""
    viewer, _models = viewer_models
    train = _panel(viewer)

    def refusing(config, samples, held):
        raise ValueError("the labels of 'gt' hold only 0 and 1")
        yield  # (a generator, as the engine's)

    monkeypatch.setattr(starting_module, "_train", refusing)
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
    assert train.progress_bar.text() == "failed before its first step"
    assert train.status_label.text().startswith("Training failed: the labels of 'gt'")

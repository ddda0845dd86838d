"""A Train panel reopened on a stopped run draws its loss and score curves over the run's
steps, 0 to its last, as the panel that ran it did: its plots fitted their x axes to the
curves (session 32's note), so the score plot's axis started at the first epoch's end
where the loss plot's started at step 1, neither lined up with the other, and a run stopped
after 2 of 8 steps filled the width as a finished one. A real run on two 128px crops of the
shipped DSB2018 nuclei sample, stopped by closing its panel after its first epoch."""

from __future__ import annotations

import numpy as np

from tessella._widgets.train import NEW
from tests.widgets.test_train_add_pair_refusals import _panel
from tests.widgets.test_train_run_feedback import _scored_zero, _stopped


def test_a_reopened_panels_plots_span_the_runs_steps(
    viewer_models, qtbot, monkeypatch, nuclei_sample
):
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    image, labels = nuclei_sample
    train = _panel(viewer, NEW + "embedding")
    for i in range(2):
        rows = slice(128 * i, 128 * (i + 1))
        train.add_pair(
            viewer.add_image(image[rows, :128], name=f"nuclei {i}"),
            viewer.add_labels(labels[rows, :128].astype(np.int32), name=f"gt {i}"),
        )
    train.name_edit.setText("stopped")
    train.device_combo.setCurrentText("cpu")
    train.patch_spin.setValue(64)
    train.batch_spin.setValue(1)
    train.epochs_spin.setValue(4)
    train.steps_spin.setValue(2)
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.start(), train.status_label.text()
        qtbot.waitUntil(lambda: bool(train._scores), timeout=120_000)
        viewer.window.remove_dock_widget(train)
    assert _stopped(models / "stopped")["why"] == "panel closed"
    assert train.plot.x_range == train.score_plot.x_range == (0.0, 8.0)

    _dock, again = viewer.window.add_plugin_dock_widget("tessella", "Train")
    assert again.resume_button.isEnabled() and again._losses and again._scores
    assert again.plot.x_range == again.score_plot.x_range == (0.0, 8.0)
    (x0, x1), _ = again.plot._ranges()
    (s0, s1), _ = again.score_plot._ranges()
    assert (x0, x1) == (s0, s1) == (0.0, 8.0)  # as drawn: both axes the run's 8 steps

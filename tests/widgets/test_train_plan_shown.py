"""The Train panel says in its *Run* line how long it trains and what it holds out, with the
``tessella train`` options that say the same: its defaults (10 epochs of 25 steps, a fifth
held out) differ from the command's (50 of 100, a tenth) on purpose (a quick run on a few
layers) but were shown nowhere but in the spin boxes and a placeholder (session 32's note);
the card of its run records the epochs, steps, fraction and the images held out. A real run
of one step on two 128px crops of the shipped DSB2018 nuclei sample."""

from __future__ import annotations

import json

import numpy as np

from tessella._widgets.train import NEW
from tests.widgets.test_train_add_pair_refusals import _panel


def test_the_run_line_says_the_steps_and_the_hold_out(viewer_models, qtbot, nuclei_sample):
    viewer, models = viewer_models
    image, labels = nuclei_sample
    train = _panel(viewer, NEW + "embedding")
    said = train.plan_label.text()
    first = "10 epochs x 25 steps = 250 steps of 8 crops; scored on a random fifth"
    assert said.startswith(first), said
    assert "as --epochs 10 --steps-per-epoch 25 --val-fraction 0.2 " in said, said
    assert "(tessella train's defaults: 50 x 100, a tenth)" in said, said
    assert train.plan_label.isVisibleTo(train)
    for i in range(2):  # two crops, one under the other: one is held out
        rows = slice(128 * i, 128 * (i + 1))
        train.add_pair(
            viewer.add_image(image[rows, :128], name=f"nuclei {i}"),
            viewer.add_labels(labels[rows, :128].astype(np.int32), name=f"gt {i}"),
        )
    train.epochs_spin.setValue(1)
    train.steps_spin.setValue(1)
    train.batch_spin.setValue(1)
    train.patch_spin.setValue(64)
    train.device_combo.setCurrentText("cpu")
    said = train.plan_label.text()
    assert said.startswith("1 epoch x 1 step = 1 step of 1 crop; scored on a random fifth"), said
    typed = "gt 1"
    train.holdout_edit.setText(typed)
    assert "scored on gt 1 (Hold out), held out" in train.plan_label.text()
    train.holdout_edit.setText("")
    train.name_edit.setText("planned")
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.start(), train.status_label.text()
    training = json.loads((models / "planned" / "card.json").read_text())["training"]
    config = training["config"]
    assert (config["epochs"], config["steps_per_epoch"], config["batch_size"]) == (1, 1, 1)
    assert config["val_fraction"] == 0.2
    assert len(config["held_out"]) == 1 and config["held_out"][0].startswith("gt "), config
    assert "--val-fraction 0.2" in training["command"]

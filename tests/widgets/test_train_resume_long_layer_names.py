"""Resume of a run on layers with long names (user test t10, finding 1): the run's data is
recorded as "napari layers: IMG + GT, ..."; the engine checked that text as a folder, and a
text over 255 bytes made ``Path.is_dir`` raise "[Errno 36] File name too long", so Resume
failed on any 2-3 pairs named after ordinary file names, while the status still said
"Resume continues it". Now the description of layers is never checked as a path, and a
Resume that fails does not tell the user to resume."""

from __future__ import annotations

import pytest

import tessella._widgets._train_starting as starting_module
from tessella._widgets.train import NEW
from tests.widgets.test_train_run_feedback import _disks, _scored_zero

#: names as long as the DSB2018 file stems the reader names layers after
LONG = "02903040e19ddf92f452907644ad3822918f54af41dd85e5a3fe3e1b6d6f9339"
PAIRS = [(f"{LONG}{i}", f"{LONG}{i} [1]") for i in range(2)]
DATA = "napari layers: " + ", ".join(f"{a} + {b}" for a, b in PAIRS)


def _stopped_on_layers(out) -> None:
    """A run of the engine in ``out`` on the pairs' samples, stopped after epoch 1 of 3 by a
    closed panel, its card recording the long layer names (as the panel's run does)."""
    from tessella.engine.train import TrainConfig, TrainingStopped
    from tessella.engine.train.data import load_pairs
    from tessella.engine.train.loop import train_steps

    image, labels = _disks()
    samples = load_pairs(
        [image, image], [labels, labels], "YX", 1, {"low": 1.0, "high": 99.8},
        [b for _a, b in PAIRS],
    )  # fmt: skip
    config = TrainConfig(
        "embedding", DATA, str(out), epochs=3, steps_per_epoch=1, batch_size=1, patch=64,
        device="cpu", val_fraction=0.5,
    )  # fmt: skip
    steps = train_steps(config, samples[:1], samples[1:])
    for progress in steps:
        if progress.message and progress.epoch == 1:
            break
    with pytest.raises(TrainingStopped):
        steps.throw(TrainingStopped("panel closed"))


def _panel(viewer):
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.device_combo.setCurrentText("cpu")
    index = next(
        i
        for i in range(train.base_combo.count())
        if train.base_combo.itemData(i).endswith(NEW + "embedding")
    )
    train.base_combo.setCurrentIndex(index)
    image, labels = _disks()
    for a, b in PAIRS:
        train.add_pair(viewer.add_image(image, name=a), viewer.add_labels(labels, name=b))
    return train


def test_a_run_on_long_layer_names_resumes(viewer_models, qtbot, monkeypatch):
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    assert len(DATA) > 255
    _stopped_on_layers(models / "long")
    train = _panel(viewer)
    train.name_edit.setText("long")
    assert train.resume_button.isEnabled()
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.resume(), train.status_label.text()
    text = train.status_label.text()
    assert "File name too long" not in text and "failed" not in text, text
    assert text.startswith("Saved: 'long'"), text


def test_a_resume_that_fails_does_not_say_resume_continues_it(viewer_models, qtbot, monkeypatch):
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    _stopped_on_layers(models / "long")

    def failing(config, samples, held):
        raise OSError("the disk is gone")
        yield  # (a generator, as the engine's)

    train = _panel(viewer)
    train.name_edit.setText("long")
    monkeypatch.setattr(starting_module, "_train", failing)
    with qtbot.waitSignal(train.run_finished, timeout=60_000):
        assert train.resume(), train.status_label.text()
    text = train.status_label.text()
    assert text.startswith("Resume failed: the disk is gone"), text
    assert "Resume continues it" not in text, text
    assert "Resume may fail the same way until the cause above is fixed" in text, text

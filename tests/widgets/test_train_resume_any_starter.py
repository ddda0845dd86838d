"""The Train panel's Resume continues a run whoever started it, with the hold-out the run
recorded, and says which of the user's changes it applies (session 33's unverified gaps).

A run of ``tessella train`` (the engine with the command's settings: a tenth drawn as its
hold-out, its own --features) was refused in the panel: the panel built the default network
and drew a fifth. And Resume put the run's settings back over those the user had changed
since they were shown, silently: more Epochs typed after a run stopped were trained as the
old number. Tiny real runs: 96² crops of the shipped DSB2018 nuclei sample, one step of
batch 1 per epoch, the hold-out's scores fixed (nothing predicted)."""

from __future__ import annotations

import json

import pytest

import tessella._widgets.train as train_module
from tessella._widgets.train import NEW
from tests.widgets.helpers import choose_base, said, train_panel
from tests.widgets.test_train_resume_data import _folder
from tests.widgets.test_train_run_feedback import _scored_zero

#: eight crops: the command's tenth draws one of them, the panel's fifth two
EIGHT = [(y, x) for y in (0, 150, 300, 420) for x in (0, 200)]


def _stopped_command_run(out, data, **options) -> dict:
    """A run of ``data`` into ``out`` with the settings ``tessella train`` gives it (the
    hold-out a tenth drawn, --features 8,16, --max-val-images 1), stopped after epoch 1 of
    3 as Ctrl-C stops it; its card's settings."""
    from tessella.engine.train import TrainConfig, TrainingStopped
    from tessella.engine.train.loop import train_steps

    config = TrainConfig(
        "embedding", str(data), str(out), epochs=3, steps_per_epoch=1, batch_size=1, patch=64,
        features=(8, 16), max_val_images=1, device="cpu", **options,
    )  # fmt: skip
    steps = train_steps(config)
    for progress in steps:
        if progress.message and progress.epoch == 1:
            break
    with pytest.raises(TrainingStopped):
        steps.throw(TrainingStopped("interrupted"))
    return json.loads((out / "card.json").read_text())["training"]["config"]


@pytest.mark.parametrize("corners", [EIGHT, EIGHT[:1]], ids=["eight images", "one image"])
def test_a_command_run_on_a_folder_resumes_in_the_panel_on_its_hold_out(
    viewer_models, qtbot, monkeypatch, tmp_path, nuclei_sample, corners
):
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    data = _folder(tmp_path / "data", nuclei_sample, corners)
    first = _stopped_command_run(models / "cmdrun", data)
    assert first["holdout"] == [] and len(first["held_out"]) == 1, first
    train = train_panel(viewer)
    train.name_edit.setText("cmdrun")
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.resume(), train.status_label.text()
    status = train.status_label.text()
    assert status.startswith("Saved: 'cmdrun'"), status
    training = json.loads((models / "cmdrun" / "card.json").read_text())["training"]
    assert [e["epoch"] for e in training["log_summary"]] == [1, 2, 3]
    config = training["config"]
    assert config["held_out"] == first["held_out"]  # the same image scored
    for kept in ("features", "max_val_images", "val_fraction", "seed"):
        assert config[kept] == first[kept], kept
    assert train.holdout_edit.text() == ""  # drawn by the run: no choice of the user's


def test_a_command_run_scored_on_its_own_hold_out_folder_is_refused_naming_the_command(
    viewer_models, qtbot, monkeypatch, tmp_path, nuclei_sample
):
    """The panel has no hold-out folder: a run scored on --val-data is refused before
    anything starts (it drew a fifth of its folder instead, refused by the engine after
    reading the data, in the command's words), naming the command that resumes it."""
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    data = _folder(tmp_path / "data", nuclei_sample, EIGHT[:2])
    held = _folder(tmp_path / "held", nuclei_sample, EIGHT[2:3])
    _stopped_command_run(models / "valrun", data, val_data=str(held))
    errors = said(monkeypatch, train_module)
    train = train_panel(viewer)
    train.name_edit.setText("valrun")
    assert not train.resume()
    expected = (
        f"'valrun' was scored on a separate hold-out folder, {held} (tessella train "
        "--val-data), which the Train panel does not take: resume it with tessella train "
        f"embedding --data {data} --out {models / 'valrun'} --resume (it takes the run's "
        "settings)"
    )
    assert errors == [f"Train: {expected}"], errors
    assert train.status_label.text() == f"Not resumed: {expected}", train.status_label.text()


def test_resume_applies_the_users_changes_and_names_them(viewer_models, qtbot, monkeypatch):
    """A one-pair run (trained on and scored on its one image, as the engine records it)
    stopped by Cancel; the user then asks for more epochs and a lower learning rate: Resume
    trains to the new number with the new rate and says so. A change the run cannot take
    (averaging the weights, another hold-out) is refused first, naming it with both values,
    and nothing starts."""
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    train = train_panel(viewer, epochs=3)
    choose_base(train, NEW + "embedding")
    image, labels = _crop()
    train.add_pair(viewer.add_image(image, name="img"), viewer.add_labels(labels, name="gt"))
    train.name_edit.setText("one")
    train.lr_spin.setValue(0.001)
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.start(), train.status_label.text()
        qtbot.waitUntil(lambda: bool(train._scores), timeout=120_000)
        train.cancel_button.click()
    assert train.resume_button.isEnabled()
    first = json.loads((models / "one" / "card.json").read_text())["training"]["config"]
    assert first["held_out"] == ["gt"] and first["holdout"] == [], first  # trained on, scored on

    errors = said(monkeypatch, train_module)
    train.average_check.setChecked(True)
    train.holdout_edit.setText("gt")
    assert not train.resume()
    expected = (
        "'one' continues with the settings it was started with, and these cannot change on "
        "resuming: Hold out: empty -> 'gt'; Average the weights: off -> on. Put them back as they "
        "were, or train a new model under another name"
    )
    assert errors == [f"Train: {expected}"], errors
    assert train.status_label.text() == f"Not resumed: {expected}."
    assert train.average_check.isChecked()  # not put back behind the user's back

    train.average_check.setChecked(False)
    train.holdout_edit.setText("")
    train.epochs_spin.setValue(4)
    train.lr_spin.setValue(0.0005)
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.resume(), train.status_label.text()
        started = train.status_label.text()
    assert started.startswith(
        "Resuming 'one' with your changes (Epochs 3 -> 4, Learning rate 0.001 -> 0.0005) on "
    ), started
    assert train.status_label.text().startswith("Saved: 'one'"), train.status_label.text()
    training = json.loads((models / "one" / "card.json").read_text())["training"]
    assert [e["epoch"] for e in training["log_summary"]] == [1, 2, 3, 4]
    assert training["config"]["epochs"] == 4 and training["config"]["lr"] == 0.0005
    assert training["config"]["held_out"] == ["gt"]


def _crop():
    import tifffile

    from tests.conftest import SAMPLES

    image = tifffile.imread(SAMPLES / "nuclei.tif")[:96, :96]
    return image, tifffile.imread(SAMPLES / "nuclei_labels.tif")[:96, :96]

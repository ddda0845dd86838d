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


def test_a_command_run_scored_on_its_own_hold_out_folder_resumes_in_the_panel_on_it(
    viewer_models, qtbot, monkeypatch, tmp_path, nuclei_sample
):
    """A run scored on --val-data (a folder of its own, nothing held out of --data) was
    refused: the panel had no hold-out folder (s35 f3 #2). Now its Hold-out folder shows the
    folder (in full, as the card records it), Resume scores on it again (the checkpoint's
    name for it, relative to where the command ran, is what the run compares) and trains
    on the whole Folder; a change of it is refused before anything starts."""
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    data = _folder(tmp_path / "data", nuclei_sample, EIGHT[:2])
    held = _folder(tmp_path / "held", nuclei_sample, EIGHT[2:3])
    monkeypatch.chdir(tmp_path)  # given as `--val-data held`: its checkpoint keeps "held"
    first = _stopped_command_run(models / "valrun", data, val_data="held")
    assert first["val_data"] == str(held) and first["held_out"] == [], first  # (the card's)
    monkeypatch.chdir(data)  # napari started elsewhere: "held" is not that folder there
    train = train_panel(viewer)
    train.name_edit.setText("valrun")
    train._show_run_settings(models / "valrun")  # (as Resume does: shown, not yet changed)
    assert train.val_folder_edit.text() == str(held) and train.holdout_edit.text() == ""
    assert train.folder_edit.text() == str(data)
    assert f"scored on the files of {held} (Hold-out folder)" in train.plan_label.text()

    errors = said(monkeypatch, train_module)
    train.val_folder_edit.setText(str(data))
    assert not train.resume()
    expected = (
        "'valrun' continues with the settings it was started with, and this one cannot "
        f"change on resuming: Hold-out folder: 'held' -> '{data.name}'. Put it back as it "
        "was, or train a new model under another name"
    )
    assert errors == [f"Train: {expected}"], errors
    train.val_folder_edit.setText(str(held))
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.resume(), train.status_label.text()
        started = train.status_label.text()
    assert started.startswith("Resuming 'valrun' on 2 images, scoring on 1 image of the "), started
    assert started.endswith(f"Hold-out folder {held}."), started
    status = train.status_label.text()
    assert status.startswith("Saved: 'valrun'"), status
    training = json.loads((models / "valrun" / "card.json").read_text())["training"]
    assert [e["epoch"] for e in training["log_summary"]] == [1, 2, 3]
    config = training["config"]
    assert config["val_data"] == str(held) and config["held_out"] == [] == config["holdout"]
    for kept in ("features", "max_val_images", "seed"):
        assert config[kept] == first[kept], kept
    # Compare runs on what the run was scored on: the Hold-out folder's image and mask
    files = train._compare_pair()
    assert (files.image_path, files.mask_path) == (
        held / "images" / "n150_0.tif",
        held / "masks" / "n150_0.tif",
    )


def test_a_new_run_on_layers_scores_on_its_hold_out_folder(
    viewer_models, qtbot, monkeypatch, tmp_path, nuclei_sample
):
    """Hold-out folder for a new run, as --val-data: both pairs are trained on, the folder's
    image is what is scored, the proposed hold-out is withdrawn and the run records the
    folder (not a hold-out)."""
    from tessella._widgets import _train_starting as starting_module
    from tests.widgets.test_train_resume_data import _recording

    viewer, _models = viewer_models
    held = _folder(tmp_path / "held", nuclei_sample, EIGHT[2:3])
    image, labels = nuclei_sample
    train = train_panel(viewer)
    choose_base(train, NEW + "embedding")
    for name, (y, x) in (("a", (0, 0)), ("b", (0, 200))):
        crop = (slice(y, y + 96), slice(x, x + 96))
        image_layer = viewer.add_image(image[crop], name=name)
        train.add_pair(image_layer, viewer.add_labels(labels[crop], name=f"{name} gt"))
    assert train.holdout_edit.text() == ""  # (2D pairs: a fifth drawn)
    train.val_folder_edit.setText(str(held))
    assert f"scored on the files of {held} (Hold-out folder)" in train.plan_label.text()
    train.name_edit.setText("scored-apart")
    configs: list = []
    monkeypatch.setattr(starting_module, "_train", _recording(configs))
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
        started = train.status_label.text()
    assert started.startswith("Training 'scored-apart' on 2 images, scoring on 1 image of the "), (
        started
    )
    config, scored = configs[-1]
    assert scored == ["n150_0.tif"], scored  # the folder's file, read as the engine reads it
    assert config.val_data == str(held) and config.holdout == () == config.held_out


def test_hold_out_and_a_hold_out_folder_together_are_refused(viewer_models, tmp_path):
    viewer, _models = viewer_models
    train = train_panel(viewer)
    train.folder_edit.setText(str(tmp_path))
    train.val_folder_edit.setText(str(tmp_path / "nowhere"))
    train.name_edit.setText("two")
    train.holdout_edit.setText("a")
    assert not train.start()
    assert train.status_label.text() == (
        f"Not started: Hold out (a) and Hold-out folder ({tmp_path / 'nowhere'}) both say "
        "what to score on: clear one of them"
    )
    train.holdout_edit.setText("")
    assert not train.start()
    assert train.status_label.text().endswith(
        f"Hold-out folder {tmp_path / 'nowhere'}: no such folder"
    )
    train.val_folder_edit.setText(str(tmp_path))
    assert not train.start()
    assert "it is the Folder trained on" in train.status_label.text()


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

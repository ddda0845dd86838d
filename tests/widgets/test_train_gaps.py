"""Train panel gaps found driving it in a viewer: the hold-out of a volume or movie, Compare
once the trained layers are gone, Resume of a stopped run and the next run's name, what the
card says (hold-out, description, a stopped run), a reopened panel, and its labels/hints."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tessella._widgets.train import NEW
from tests.widgets.helpers import choose_base, train_panel


def _volume(depth: int = 10, size: int = 64):
    """A small volume of bright disks and their labels (every slice labelled)."""
    yy, xx = np.mgrid[:size, :size]
    image = np.zeros((depth, size, size), np.float32)
    labels = np.zeros((depth, size, size), np.int32)
    for z in range(depth):
        for k, (y, x) in enumerate(((16, 16), (40, 44), (20, 48))):
            disk = (yy - y - z % 3) ** 2 + (xx - x) ** 2 < 64
            image[z][disk] = 1.0
            labels[z][disk] = k + 1
    rng = np.random.default_rng(0)
    return image + 0.1 * rng.random(image.shape, np.float32), labels


def test_a_volume_holds_out_its_last_slices_as_one_slab_and_the_card_says_so(
    viewer_models, qtbot, monkeypatch
):
    """A volume pair is held out as a contiguous range of its slices (the last fifth), shown
    in the Hold out field and editable there; the card records that range and the fraction
    the panel's random split uses (0.2, not the CLI's default 0.1)."""
    import tessella._widgets._train_starting as starting_module  # start() runs its _train
    import tessella._widgets.train as train_module
    from tessella._widgets.train import layer_samples

    viewer, models = viewer_models
    image, labels = _volume()
    viewer.add_image(image, name="vol")
    gt = viewer.add_labels(labels, name="vol gt")
    train = train_panel(viewer)
    train.add_pair(viewer.layers["vol"], gt)
    choose_base(train, NEW + "semantic")
    assert train.holdout_edit.text() == "vol gt[z=8:10]"

    seen = {}
    real = starting_module._train

    def spy(config, samples, held):
        seen["train"], seen["held"] = [s.name for s in samples], [s.name for s in held]
        return (yield from real(config, samples, held))

    monkeypatch.setattr(starting_module, "_train", spy)
    train.holdout_edit.setText("vol gt[z=0:3]")  # the user's choice stays
    train.epochs_spin.setValue(1)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start(), train.status_label.text()
    assert seen["held"] == ["vol gt[z=0]", "vol gt[z=1]", "vol gt[z=2]"]
    assert len(seen["train"]) == 7 and not set(seen["train"]) & set(seen["held"])
    card = json.loads((models / "my-semantic" / "card.json").read_text())
    config = card["training"]["config"]
    assert config["holdout"] == ["vol gt[z=0:3]"] and config["val_fraction"] == 0.2

    # the proposal comes back when the field is emptied; movies and 3D models
    train.holdout_edit.setText("")
    train._update_holdout()
    assert train.holdout_edit.text() == "vol gt[z=8:10]"
    movie = viewer.add_image(image, name="movie", metadata={"axes": "TYX"})
    assert train_module.default_holdout([(movie, gt)], 2, True) == ["vol gt[t=8:10]"]
    slabs = layer_samples([(viewer.layers["vol"], gt)], 3, None, holdout=["vol gt[z=8:10]"])
    assert [(s.name, s.labels.shape[0]) for s in slabs] == [
        ("vol gt[z=0:8]", 8),
        ("vol gt[z=8:10]", 2),
    ]


def test_random_hold_out_of_2d_images_is_recorded_by_name(viewer_models, qtbot, monkeypatch):
    """2D images: a random fifth is held out, and the card names the images it drew."""
    import tessella.engine.train.loop as loop

    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: 0.5)
    viewer, models = viewer_models
    image, labels = _volume(depth=5)
    train = train_panel(viewer)
    for z in range(5):
        train.add_pair(
            viewer.add_image(image[z], name=f"im{z}"), viewer.add_labels(labels[z], name=f"gt{z}")
        )
    choose_base(train, NEW + "semantic")
    assert train.holdout_edit.text() == ""
    train.epochs_spin.setValue(1)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start(), train.status_label.text()
    config = json.loads((models / "my-semantic" / "card.json").read_text())["training"]["config"]
    assert len(config["holdout"]) == 1 and config["holdout"][0] in {f"gt{z}" for z in range(5)}
    assert config["val_fraction"] == 0.2


def _fine_tune(viewer, train, name: str = "ft") -> None:
    """Fine-tune nuclei2d for one step on 'img A' + 'gt A' (the Image and Labels boxes)."""
    choose_base(train, "nuclei2d")
    train.image_combo.setCurrentText("img A")
    train.labels_combo.setCurrentText("gt A")
    train.name_edit.setText(name)
    train.epochs_spin.setValue(1)


@pytest.fixture
def fine_tuned(viewer_models, qtbot, monkeypatch):
    """A panel that has fine-tuned nuclei2d into 'ft' on 'img A' + 'gt A' (validation
    stubbed: the scores do not matter here)."""
    import tessella.engine.train.loop as loop

    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: 0.5)
    viewer, models = viewer_models
    image, labels = _volume(depth=2)
    viewer.add_image(image[0], name="img A")
    viewer.add_labels(labels[0], name="gt A")
    viewer.add_image(image[1], name="img B")
    viewer.add_labels(labels[1], name="gt B")
    train = train_panel(viewer)
    _fine_tune(viewer, train)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start(), train.status_label.text()
    assert "Saved" in train.status_label.text(), train.status_label.text()
    return viewer, models, train


def test_compare_refuses_once_the_trained_layers_are_gone_and_names_what_it_compares(
    fine_tuned, qtbot
):
    """After the trained pair's layers are removed, Compare does not pair whatever the Image
    and Labels boxes show (another image with the old labels): it says the layers are gone.
    With a pair listed it compares that pair and names its labels and image."""
    viewer, _models, train = fine_tuned
    viewer.layers.remove("img A")
    train.image_combo.setCurrentText("img B")
    train.labels_combo.setCurrentText("gt A")
    assert not train.compare()
    text = train.status_label.text()
    assert "are gone" in text and "img A + gt A" in text, text

    train.add_pair(viewer.layers["img B"], viewer.layers["gt B"])
    with qtbot.waitSignal(train.compare_finished, timeout=300_000):
        assert train.compare()
    assert train.status_label.text().startswith(
        "Against 'gt B' on 'img B' (not trained on): nuclei2d: AP(0.5)"
    )


def test_a_finished_run_proposes_a_new_name(fine_tuned):
    """Save as keeps no used name after a finished run: the next Train click would be
    refused; it proposes 'ft-2' (then 'ft-3' for 'ft-2')."""
    _viewer, models, train = fine_tuned
    assert train.name_edit.text() == "ft-2"
    (models / "ft-2").mkdir()
    assert train._free_name("ft-2") == "ft-3"


def test_the_card_describes_the_fine_tuned_model_and_models_lists_its_hold_out_score(
    fine_tuned, capsys
):
    """The card's description is this model's (what it was fine-tuned from and on), not the
    base's text; `tessella models` shows its hold-out score (the card's best_val_*) where it
    has no validation scores, as for a model trained with the command."""
    from tessella.cli import main

    _viewer, models, _train = fine_tuned
    card = json.loads((models / "ft" / "card.json").read_text())
    assert card["description"].startswith(
        "embedding model fine-tuned with tessella from nuclei2d on napari layers: img A + gt A."
    )
    assert "stopped" not in card["training"]
    capsys.readouterr()
    assert main(["models"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("ft "))
    assert re.search(r"hold-out \(\d+ images?\): ap50=0\.5", row), row  # of how many


def test_a_reopened_panel_takes_up_the_last_model(fine_tuned):
    """Closing the panel and opening it again keeps the last model while its folder is there
    (Compare stays usable)."""
    viewer, models, train = fine_tuned
    viewer.window.remove_dock_widget(train)
    again = train_panel(viewer)
    assert again.last_model == models / "ft" and again.compare_button.isEnabled()
    assert "'ft'" in again.status_label.text()
    assert again.compare_button.text() == "Compare with base"


def _new_model_panel(viewer_models, monkeypatch):
    """The Train panel set to train a new embedding model on one image and its labels, every
    epoch scored 0; returns the panel and the models folder."""
    import tessella.engine.train.loop as loop

    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: 0.0)
    viewer, models = viewer_models
    image, labels = _volume(depth=1)
    train = train_panel(viewer)
    train.add_pair(viewer.add_image(image[0], name="img"), viewer.add_labels(labels[0], name="gt"))
    choose_base(train, NEW + "embedding")
    return train, models


def test_a_new_model_says_compare_with_labels_and_hints_when_it_finds_nothing(
    viewer_models, qtbot, monkeypatch
):
    """A model with no base is compared with the labels only (no "Compare with base"), and
    a best validation score of 0 says that it finds nothing yet."""
    train, _models = _new_model_panel(viewer_models, monkeypatch)
    train.epochs_spin.setValue(1)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
    text = train.status_label.text()
    assert "best validation score 0.000" in text and "finds nothing on the hold-out yet" in text
    assert train.compare_button.text() == "Compare with labels"


def _cancelled_after_an_epoch(viewer_models, qtbot, monkeypatch, name: str, minutes: int = 0):
    """A new embedding model NAME (4 epochs, scored 0), cancelled once an epoch is scored;
    returns the panel and the model folder."""
    train, models = _new_model_panel(viewer_models, monkeypatch)
    train.name_edit.setText(name)
    train.epochs_spin.setValue(4)
    train.minutes_spin.setValue(minutes)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
        qtbot.waitUntil(lambda: bool(train._scores), timeout=300_000)
        train.cancel_button.click()
    return train, models / name


def test_a_stopped_run_is_marked_in_its_card_and_resumes(viewer_models, qtbot, monkeypatch):
    """Cancel after an epoch: the card says the run stopped (after which epoch, why), the
    status offers Resume, Train under the same name says Resume continues it, and Resume
    runs the remaining epochs from the checkpoint with the settings the run started with
    and the user's change of Epochs since, said;
    the finished card drops the mark and describes the model."""
    train, out = _cancelled_after_an_epoch(viewer_models, qtbot, monkeypatch, "run")
    stopped = json.loads((out / "card.json").read_text())["training"].get("stopped")
    assert stopped is not None, "the card does not say the run stopped"
    assert stopped["why"] == "cancelled" and stopped["of_epochs"] == 4
    assert 1 <= stopped["after_epoch"] < 4
    assert "Resume continues it" in train.status_label.text()
    assert train.name_edit.text() == "run" and train.resume_button.isEnabled()

    assert not train.start()
    assert "Resume continues it" in train.status_label.text()

    # Resume keeps the user's change of the settings the run started with, and says it (it
    # put the run's back silently: more epochs asked for were not trained)
    train.epochs_spin.setValue(5)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.resume(), train.status_label.text()
        assert "'run' with your changes (Epochs 4 -> 5) on " in train.status_label.text()
    assert train.epochs_spin.value() == 5
    log = [json.loads(x) for x in (out / "train.log").read_text().splitlines()]
    assert [e["epoch"] for e in log][-1] == 5
    card = json.loads((out / "card.json").read_text())
    assert "stopped" not in card["training"]
    assert not train.resume_button.isEnabled() and train.name_edit.text() == "run-2"
    assert card["description"] == "embedding model trained with tessella on napari layers: img + gt"


def test_resume_trains_the_time_budget_more_after_the_time_already_trained(
    viewer_models, qtbot, monkeypatch
):
    """The engine's time budget counts the time already trained (as --time-budget with
    --resume), so a run that had used its budget stopped after one more epoch, and the panel
    then dropped the budget: no Resume with a limit was possible. The Time budget box is
    this session's: Resume trains at most that many minutes more, and leaves it as set.
    The time trained is the checkpoint's, as the engine counts it: with train.log lost
    (or behind the checkpoint) the panel took 0 s, and the run stopped after one epoch."""
    import torch

    import tessella._widgets._train_starting as starting_module  # start() runs its _train

    train, out = _cancelled_after_an_epoch(viewer_models, qtbot, monkeypatch, "timed", 1)
    # as if the minute had run out after that epoch (a real minute would slow the suite)
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    checkpoint["seconds"] = 150.0
    torch.save(checkpoint, out / "checkpoint.pt")
    (out / "train.log").unlink()  # lost: the checkpoint still says how long the run trained
    assert json.loads((out / "card.json").read_text())["training"]["config"]["time_budget"] == 60

    budgets = []
    real = starting_module._train

    def spy(config, samples, held):
        budgets.append(config.time_budget)
        return (yield from real(config, samples, held))

    monkeypatch.setattr(starting_module, "_train", spy)
    train.minutes_spin.setValue(2)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.resume(), train.status_label.text()
    assert train.minutes_spin.value() == 2
    assert budgets == [150 + 2 * 60]  # the 150 s trained and two minutes more
    log = [json.loads(x) for x in (out / "train.log").read_text().splitlines()]
    assert [e["epoch"] for e in log][-1] == 4  # (with 2 min in all it stopped one epoch on)
    assert "stopped" not in json.loads((out / "card.json").read_text())["training"]


def test_a_cancelled_fresh_run_with_a_checkpoint_but_no_card_is_kept_and_resumes(
    viewer_models, qtbot, monkeypatch
):
    """A fine-tune whose epochs do not beat its base has a checkpoint and no card until it
    ends; stopped with its card unwritable (here a full disk), the panel removed the folder
    and the epochs trained with it. The checkpoint is kept, the status says Resume continues
    it, and Resume (the card writable again) runs on to a model."""
    import tessella.engine.train.loop as loop

    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: 0.5)  # the base's score
    writable = loop.save_model

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(loop, "save_model", disk_full)
    viewer, models = viewer_models
    image, labels = _volume(depth=1)
    viewer.add_image(image[0], name="img A")
    viewer.add_labels(labels[0], name="gt A")
    train = train_panel(viewer)
    _fine_tune(viewer, train)
    train.epochs_spin.setValue(4)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
        # the base's score, then epoch 1's: its checkpoint is written before it is reported
        qtbot.waitUntil(lambda: len(train._scores) >= 2, timeout=300_000)
        train.cancel_button.click()
    out = models / "ft"
    assert (out / "checkpoint.pt").is_file(), "the checkpoint was removed with the folder"
    assert not (out / "card.json").exists()
    text = train.status_label.text()
    assert "no model was saved" in text and "Resume continues it" in text, text
    assert train.name_edit.text() == "ft" and train.resume_button.isEnabled()

    monkeypatch.setattr(loop, "save_model", writable)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.resume(), train.status_label.text()
    log = [json.loads(x) for x in (out / "train.log").read_text().splitlines()]
    assert [e["epoch"] for e in log][0] == 0 and log[-1]["epoch"] == 4
    card = json.loads((out / "card.json").read_text())
    assert "stopped" not in card["training"]
    assert "no epoch beat the base model's validation score 0.500" in train.status_label.text()


def test_a_hold_out_of_the_wrong_axis_is_refused_before_training(viewer_models):
    """The slices of a volume are held out as LABELS[z=A:B]: a [t=...] selector picked the
    same slices silently; it is refused, naming the labels and the axis they have."""
    viewer, models = viewer_models
    image, labels = _volume()
    viewer.add_image(image, name="vol")
    train = train_panel(viewer)
    train.add_pair(viewer.layers["vol"], viewer.add_labels(labels, name="vol gt"))
    choose_base(train, NEW + "semantic")
    train.holdout_edit.setText("vol gt[t=8:10]")
    assert not train.start()
    text = train.status_label.text()
    assert text.startswith("Not started: hold-out vol gt[t=8:10]: axis 't' selects frames"), text
    assert "'vol gt' has slices of a volume: select them as vol gt[z=N]" in text, text
    assert not (models / "my-semantic").exists()

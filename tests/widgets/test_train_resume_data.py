"""Train resumes a run on the data it trained on (user test t2, problems 2, 3, 5 and 7): a
folder run's card records the folder and a reopened panel puts it back; a run on layers is
not resumed on other layers; a hold-out drawn at random is not carried into a new run; what
the data loaders warn of and what Train trains on are said in the panel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tifffile

import tessella._widgets._train_starting as starting_module
import tessella._widgets.train as train_module
from tessella._widgets.train import NEW
from tests.widgets.helpers import choose_base, said, train_panel
from tests.widgets.test_train_run_feedback import _disks, _scored_zero, _stopped_run


def _folder(root: Path, nuclei_sample, corners) -> Path:
    """A training folder of real 96x96 crops of the DSB2018 nuclei sample: images/ and
    masks/, one pair per corner (y, x)."""
    image, labels = nuclei_sample
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for y, x in corners:
        crop = (slice(y, y + 96), slice(x, x + 96))
        tifffile.imwrite(root / "images" / f"n{y}_{x}.tif", image[crop])
        tifffile.imwrite(root / "masks" / f"n{y}_{x}.tif", labels[crop])
    return root


def _recording(configs: list):
    """A stand-in for the training run that records its config, held-out samples' names and
    writes nothing (a resumed run's folder stays as it was)."""

    def engine(config, samples, held):
        configs.append((config, [s.name for s in held]))
        yield from ()

    return engine


def test_a_folder_run_is_recorded_as_its_folder_and_resumed_on_it_after_reopening(
    viewer_models, qtbot, monkeypatch, tmp_path, nuclei_sample
):
    """The card recorded a folder run as "napari layers: FOLDER"; the reopened panel did not
    put the Folder back, said "(add the pairs it trained on)", and Resume then trained on
    the Image and Labels chosen (refused only as its random hold-out was not among them).
    Resume also put that drawn hold-out in Hold out, so a new run on another folder was
    refused with "hold-out files not found". Now the folder is recorded and put back, Resume
    continues on it holding out the same images, and Hold out stays empty."""
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    viewer.add_image(nuclei_sample[0], name="nuclei")  # what the combos would fall back to
    viewer.add_labels(nuclei_sample[1], name="nuclei ground truth")
    corners = [(0, 0), (0, 200), (200, 0), (200, 200), (400, 400)]
    folder = _folder(tmp_path / "mydata", nuclei_sample, corners)
    train = train_panel(viewer, epochs=2)
    choose_base(train, NEW + "embedding")
    train.folder_edit.setText(str(folder))
    train.name_edit.setText("closed2")
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.start(), train.status_label.text()
        qtbot.waitUntil(lambda: bool(train._scores), timeout=120_000)
        viewer.window.remove_dock_widget(train)
    training = json.loads((models / "closed2" / "card.json").read_text())["training"]
    assert training["data"] == str(folder), training["data"]
    drawn = training["config"]["held_out"]
    assert len(drawn) == 1 and training["config"]["holdout"] == drawn, training["config"]

    _dock, again = viewer.window.add_plugin_dock_widget("tessella", "Train")
    assert again.folder_edit.text() == str(folder)
    assert again.status_label.text().endswith(f"Resume continues it on the folder {folder}.")
    assert again.holdout_edit.text() == "", "a drawn hold-out is no choice of the user's"
    configs: list = []
    monkeypatch.setattr(starting_module, "_train", _recording(configs))
    with qtbot.waitSignal(again.run_finished, timeout=30_000):
        assert again.resume(), again.status_label.text()
    config, held = configs[-1]
    assert config.resume and Path(config.data) == folder and held == drawn
    assert again.holdout_edit.text() == ""

    # a new run on another folder draws its own hold-out
    other = _folder(tmp_path / "otherdata", nuclei_sample, [(100, 100), (300, 300), (0, 400)])
    again.folder_edit.setText(str(other))
    again.name_edit.setText("other")
    with qtbot.waitSignal(again.run_finished, timeout=30_000):
        assert again.start(), again.status_label.text()
    config, held = configs[-1]
    assert Path(config.data) == other and len(held) == 1 and held[0].startswith("n")
    assert held[0] not in drawn


def test_a_run_on_layers_is_not_resumed_on_other_layers(viewer_models, qtbot, monkeypatch):
    """With no pair listed, Resume trained on whatever the Image and Labels combos chose:
    a run on 'img + gt' went on, silently, on other layers. Now it is refused, naming the
    layers it trained on and those chosen; on layers of those names it resumes."""
    from tessella.engine.train.data import load_pairs

    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    image, labels = _disks()
    samples = load_pairs([image], [labels], "YX", 1, {"low": 1.0, "high": 99.8})
    _stopped_run(models / "stopped", samples)  # a run on "napari layers: img + gt"
    configs: list = []
    monkeypatch.setattr(starting_module, "_train", _recording(configs))
    errors = said(monkeypatch, train_module)
    train = train_panel(viewer)
    viewer.add_image(image, name="other")
    viewer.add_labels(labels, name="other gt")
    train.name_edit.setText("stopped")
    assert not train.resume()
    expected = (
        "'stopped' trained on the layers img + gt; not listed now: img + gt; not trained on: "
        "other + other gt: list the pairs it trained on, and only those, to resume it"
    )
    assert train.status_label.text() == f"Not resumed: {expected}", train.status_label.text()
    assert errors == [f"Train: {expected}"] and configs == []
    assert train.resume_button.isEnabled()  # nothing started: it can be resumed still

    train.add_pair(viewer.add_image(image, name="img"), viewer.add_labels(labels, name="gt"))
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.resume(), train.status_label.text()
    assert configs[-1][0].data == "napari layers: img + gt"


def test_a_run_on_layers_resumes_on_its_pairs_in_any_order(viewer_models, qtbot, monkeypatch):
    """The pairs were compared as one string: "img2 + gt2, img + gt" refused a run on
    "img + gt, img2 + gt2", naming the two whole strings. Now they are a set of pairs; a
    refusal names the pair missing (review A, finding 7)."""
    from tessella.engine.train.data import load_pairs

    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    image, labels = _disks()
    samples = load_pairs([image], [labels], "YX", 1, {"low": 1.0, "high": 99.8})
    _stopped_run(models / "two", samples)
    card = json.loads((models / "two" / "card.json").read_text())
    card["training"]["config"]["data"] = "napari layers: img + gt, img2 + gt2"
    (models / "two" / "card.json").write_text(json.dumps(card))
    configs: list = []
    monkeypatch.setattr(starting_module, "_train", _recording(configs))
    errors = said(monkeypatch, train_module)
    train = train_panel(viewer)
    train.add_pair(viewer.add_image(image, name="img2"), viewer.add_labels(labels, name="gt2"))
    train.name_edit.setText("two")
    assert not train.resume()  # one pair of two
    expected = (
        "'two' trained on the layers img + gt, img2 + gt2; not listed now: img + gt: list the "
        "pairs it trained on, and only those, to resume it"
    )
    assert train.status_label.text() == f"Not resumed: {expected}"
    assert errors == [f"Train: {expected}"] and configs == []

    train.add_pair(viewer.add_image(image, name="img"), viewer.add_labels(labels, name="gt"))
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.resume(), train.status_label.text()  # the same pairs, in another order
    assert configs[-1][0].resume
    assert configs[-1][0].data == "napari layers: img2 + gt2, img + gt"


def test_what_the_folder_loader_warns_of_is_said_in_the_panel(
    viewer_models, qtbot, monkeypatch, tmp_path, nuclei_sample
):
    """A file left out of a training folder (not TIFF) was warned of on the console only."""
    viewer, _models = viewer_models
    folder = _folder(tmp_path / "bad2", nuclei_sample, [(0, 0), (0, 200), (200, 0)])
    (folder / "images" / "notes.txt").write_text("my notes")
    warned = said(monkeypatch, train_module, "show_warning")
    monkeypatch.setattr(starting_module, "_train", _recording([]))
    train = train_panel(viewer)
    choose_base(train, NEW + "embedding")
    train.folder_edit.setText(str(folder))
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
        status = train.status_label.text()
    message = f"{folder}: left out images/notes.txt (not TIFF)"
    assert warned == [f"Train: {message}"]
    assert status.endswith(f" Warned: {message}."), status


def test_the_status_line_says_what_train_trains_on(viewer_models, qtbot, monkeypatch):
    """After Add pair the status line kept "Add pairs of image and labels layers, then
    Train." or the error of an earlier add; it did not change when a folder was typed; and a
    Train with no pair listed trained on the combos' layers without saying so."""
    viewer, _models = viewer_models
    monkeypatch.setattr(train_module, "show_error", lambda message: None)
    image, labels = _disks()
    viewer.add_image(image[:32], name="half")
    img = viewer.add_image(image, name="img")
    gt = viewer.add_labels(labels, name="gt")
    train = train_panel(viewer)
    choose_base(train, NEW + "embedding")
    train.image_combo.setCurrentIndex(train.image_combo.findText("half"))
    train.add_pair_button.click()
    assert train.status_label.text().startswith("Not added: labels 'gt' (64, 64) do not match")
    train.image_combo.setCurrentIndex(train.image_combo.findText("img"))
    train.add_pair_button.click()
    assert train.status_label.text() == (
        "Added 'img  ↔  gt'. Train trains on the 1 pair listed."
    ), train.status_label.text()
    qtbot.keyClicks(train.folder_edit, "/data/x")
    assert train.status_label.text() == (
        "Train trains on the files of the folder /data/x, not on the 1 pair listed (clear "
        "Folder to use them)."
    ), train.status_label.text()
    train.folder_edit.clear()
    train.pair_list.setCurrentRow(0)
    train.remove_pair_button.click()
    assert train.status_label.text() == (
        "No pair listed: Train trains on the Image and Labels chosen, 'img' + 'gt'; Add pair "
        "lists pairs to train on."
    ), train.status_label.text()

    monkeypatch.setattr(starting_module, "_train", _recording([]))
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
        started = train.status_label.text()
    assert started.startswith("Training 'my-embedding' on 1 image of img + gt (the Image and "), (
        started
    )
    assert (img, gt) == (viewer.layers["img"], viewer.layers["gt"])


def test_images_whose_channels_are_averaged_are_named(
    viewer_models, qtbot, monkeypatch, tmp_path, nuclei_sample
):
    """A colour image in a training folder (or an RGB layer) was trained on, its channels
    averaged into the model's one, without a word; Segment says it of the image it runs on."""
    viewer, _models = viewer_models
    folder = _folder(tmp_path / "rgb", nuclei_sample, [(0, 0), (0, 200), (200, 0)])
    grey = tifffile.imread(folder / "images" / "n0_200.tif").astype(np.float32)
    colour = np.stack([grey, 0.7 * grey, 255 - grey], -1).clip(0, 255).astype(np.uint8)
    tifffile.imwrite(folder / "images" / "n0_200.tif", colour, photometric="rgb")
    monkeypatch.setattr(starting_module, "_train", _recording([]))
    train = train_panel(viewer)
    choose_base(train, NEW + "embedding")
    train.folder_edit.setText(str(folder))
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
        folder_status = train.status_label.text()
    averaged = "its channels are averaged into the one channel the model reads."
    assert folder_status.endswith(f" 1 image in colour or with channels (n0_200.tif): {averaged}")

    train.folder_edit.setText("")
    labels = tifffile.imread(folder / "masks" / "n0_200.tif")
    train.add_pair(viewer.add_image(colour, name="he"), viewer.add_labels(labels, name="he gt"))
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
        layers_status = train.status_label.text()
    assert layers_status.endswith(f" 1 image in colour or with channels ('he'): {averaged}")


def test_a_folder_run_recorded_by_an_earlier_panel_resumes_on_its_folder(
    viewer_models, qtbot, monkeypatch, tmp_path, nuclei_sample
):
    """A card written before this fix says "napari layers: FOLDER" of a Folder run: Resume
    in a new panel (the name typed) puts that folder in Folder and trains on it."""
    from tessella.engine.train.data import load_pairs

    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    folder = _folder(tmp_path / "mydata", nuclei_sample, [(0, 0), (0, 200), (200, 0)])
    image, labels = _disks()
    samples = load_pairs([image], [labels], "YX", 1, {"low": 1.0, "high": 99.8})
    _stopped_run(models / "old", samples)
    card = json.loads((models / "old" / "card.json").read_text())
    card["training"]["config"]["data"] = f"napari layers: {folder}"  # as the panel wrote it
    (models / "old" / "card.json").write_text(json.dumps(card))
    configs: list = []
    monkeypatch.setattr(starting_module, "_train", _recording(configs))
    train = train_panel(viewer)
    viewer.add_image(nuclei_sample[0], name="nuclei")  # what the combos would fall back to
    viewer.add_labels(nuclei_sample[1], name="nuclei ground truth")
    train.name_edit.setText("old")
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.resume(), train.status_label.text()
    assert train.folder_edit.text() == str(folder)
    assert Path(configs[-1][0].data) == folder

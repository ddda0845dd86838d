"""Train's Compare after a run on a folder whose files are symlinks into a shared store (user
test t14, finding 1). ``_trained_on`` compared resolved paths only, so each file resolved out
of the folder: the notification said the held-out image was "held out of the training on
FOLDER" while the status line said "not from the folder it trained on", and an image the
model DID train on was not flagged (its scores flatter the model)."""

from __future__ import annotations

import json

import numpy as np

import tessella._widgets._train_comparing as comparing_module

#: two real H&E DSB2018 images (256x320x3): one trained on, one held out
TRAINED, HELD = "00ae65c1", "0bf33d3d"


def _store_file(data_dir, sub, short):
    return next((data_dir / "nuclei2d_dsb2018" / "train" / sub).glob(f"{short}*.tif"))


def _linked_folder_run(tmp_path, data_dir):
    """A data folder of symlinks (named he_<id>.tif) to the shared DSB2018 files, and a model
    folder whose card says it trained on it holding out he_<HELD>."""
    folder = tmp_path / "data"
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
        for short in (TRAINED, HELD):
            (folder / sub / f"he_{short}.tif").symlink_to(_store_file(data_dir, sub, short))
    model = tmp_path / "runs" / "he-folder"  # (not in $TESSELLA_MODELS: no model)
    model.mkdir(parents=True)
    held = [f"he_{HELD}.tif"]
    config = {"data": str(folder), "holdout": held, "held_out": held}
    card = {"name": "he-folder", "training": {"data": str(folder), "config": config}}
    (model / "card.json").write_text(json.dumps(card))
    return folder, model


def _scored(compared):
    def scored(image, labels, index, axes, models, ignore_label=None, **run):
        compared.append(np.asarray(image).shape)
        for name in models:
            yield name, np.asarray(labels), {"ap": {"0.5": 1.0}, "avs": 0.9}

    return scored


def test_compare_on_a_folder_of_symlinks_says_held_out_and_flags_a_trained_image(
    viewer_models, qtbot, monkeypatch, tmp_path, data_dir
):
    viewer, _models = viewer_models
    folder, model = _linked_folder_run(tmp_path, data_dir)
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.last_model, train.last_base, train.last_pairs = model, None, ()
    compared: list = []
    monkeypatch.setattr(comparing_module, "_read_and_compare", _scored(compared))

    # Compare opens the held-out file through its link and says so in the status, too
    with qtbot.waitSignal(train.compare_finished, timeout=30_000):
        assert train.compare(), train.status_label.text()
    text = train.status_label.text()
    assert text.startswith(
        f"Against 'he_{HELD} mask' on 'he_{HELD}' (held out of training): he-folder:"
    ), text
    assert compared == [(256, 320, 3)], compared
    held_image, held_mask = viewer.layers[f"he_{HELD}"], viewer.layers[f"he_{HELD} mask"]
    assert train._trained_on(held_image, held_mask) == (0, "held out of training")

    # an image it trained on, opened through the folder's link, is flagged
    flatter = (2, "trained on it: the scores flatter the new model")
    [image] = viewer.open(str(folder / "images" / f"he_{TRAINED}.tif"), plugin="tessella")
    [mask] = viewer.open(str(folder / "masks" / f"he_{TRAINED}.tif"), plugin="tessella")
    assert train._trained_on(image, mask) == flatter
    # ... and so is the same file opened from the shared store (the link's target)
    store = _store_file(data_dir, "images", TRAINED)
    [from_store] = viewer.open(str(store), plugin="tessella")
    assert train._trained_on(from_store, mask) == flatter
    # ... and through a link to the folder itself
    (tmp_path / "linked").symlink_to(folder)
    [via_link] = viewer.open(str(tmp_path / "linked" / "images" / f"he_{TRAINED}.tif"))
    assert train._trained_on(via_link, mask) == flatter

    # another image of the store is not from the folder
    [other] = viewer.open(str(_store_file(data_dir, "images", "01d44a26")), plugin="tessella")
    assert train._trained_on(other, mask) == (
        0,
        f"not from the folder it trained on, {folder}",
    )

"""Compare after a run on a folder (user test t10, finding 6): it was enabled but said
"Compare: add a pair (an image and its labels) to compare on" with no layers open. Now it
opens the first image the run held out (its card's ``held_out``) and its mask from the
folder and compares on those, saying they were held out of training."""

from __future__ import annotations

import json

import numpy as np
import tifffile

import tessella._widgets._train_comparing as comparing_module
from tests.widgets.test_train_run_feedback import _disks


def _folder_run(tmp_path):
    """A folder of two image + mask files and a model folder whose card says it trained on
    it holding out 'n1'."""
    folder = tmp_path / "data"
    image, labels = _disks()
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
    for name in ("n0", "n1"):
        tifffile.imwrite(folder / "images" / f"{name}.tif", image)
        tifffile.imwrite(folder / "masks" / f"{name}.tif", labels.astype(np.uint16))
    model = tmp_path / "runs" / "folder-run"  # (not in $TESSELLA_MODELS: no model)
    model.mkdir(parents=True)
    config = {"data": str(folder), "holdout": ["n1"], "held_out": ["n1"]}
    card = {"name": "folder-run", "training": {"data": str(folder), "config": config}}
    (model / "card.json").write_text(json.dumps(card))
    return folder, model


def test_compare_after_a_folder_run_scores_on_its_held_out_file(
    viewer_models, qtbot, monkeypatch, tmp_path
):
    viewer, _models = viewer_models
    folder, model = _folder_run(tmp_path)
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.last_model, train.last_base, train.last_pairs = model, None, ()
    compared: list = []

    def scored(image, labels, index, axes, models, ignore_label=None, **run):
        compared.append((np.asarray(image).shape, int(np.asarray(labels).max())))
        for name in models:
            yield name, np.asarray(labels), {"ap": {"0.5": 1.0}, "avs": 0.9}

    monkeypatch.setattr(comparing_module, "_read_and_compare", scored)
    with qtbot.waitSignal(train.compare_finished, timeout=30_000):
        assert train.compare(), train.status_label.text()
    text = train.status_label.text()
    assert text.startswith("Against 'n1 mask' on 'n1' (held out of training): folder-run:"), text
    assert compared == [((64, 64), 3)], compared
    assert str(folder / "images" / "n1.tif") == viewer.layers["n1"].source.path


def test_compare_says_when_the_new_model_kept_its_bases_weights(
    viewer_models, qtbot, monkeypatch, tmp_path
):
    """User test t10, finding 10: Compare showed two identical score lines without saying
    that the new model holds its base's weights unchanged (no epoch beat them)."""
    viewer, _models = viewer_models
    _folder, model = _folder_run(tmp_path)
    card = json.loads((model / "card.json").read_text())
    card["training"]["kept_epoch"] = 0
    (model / "card.json").write_text(json.dumps(card))
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.last_model, train.last_base, train.last_pairs = model, "nuclei2d", ()

    def scored(image, labels, index, axes, models, ignore_label=None, **run):
        for name in models:
            yield name, np.asarray(labels), {"ap": {"0.5": 0.9}, "avs": 0.7}

    monkeypatch.setattr(comparing_module, "_read_and_compare", scored)
    with qtbot.waitSignal(train.compare_finished, timeout=30_000):
        assert train.compare(), train.status_label.text()
    text = train.status_label.text()
    assert "nuclei2d: AP(0.5) 0.900, avS 0.700; folder-run: AP(0.5) 0.900" in text, text
    assert text.endswith(
        ". 'folder-run' holds the base's weights unchanged (no epoch beat them), so both "
        "score the same"
    ), text

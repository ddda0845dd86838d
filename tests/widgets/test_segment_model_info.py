"""The Segment panel says what each model's card says it is (user test t14, finding 3): four
fine-tunes of nuclei2d (my-he, he-folder, he-ema, one-pair) showed only "my-he (embedding, YX;
= nuclei2d's weights)" with the folder and digest in the tooltip; nothing in napari showed
their hold-out scores, what they were trained on, their settings or that one was stopped
early. Now each model's tooltip (and the closed list's, for the chosen one) gives its card's
summary, bundled models their validation scores, and *Info* opens it in a window."""

from __future__ import annotations

import json
import shutil

from qtpy.QtCore import Qt

from tessella.engine.registry import bundled_dir

LAYERS = "he_00ae65c1 + he_00ae65c1 gt, he_0121d675 + he_0121d675 gt, he_0bf33d3d + he_0bf33d3d gt"


def _fine_tune(models, name: str, training: dict) -> str:
    """A user model holding nuclei2d's weights, its card's ``training`` as the Train panel or
    ``tessella train`` writes it (t14's runs); its folder."""
    folder = models / name
    shutil.copytree(bundled_dir() / "nuclei2d", folder)
    card = json.loads((folder / "card.json").read_text())
    base = str(bundled_dir() / "nuclei2d")
    config = {"epochs": 3, "steps_per_epoch": 4, "batch_size": 2, "patch": 128, "lr": 3e-4}
    card["name"] = name
    card.pop("validation", None)  # (a fine-tune's card has none: its hold-out says)
    card["training"] = training | {"config": config | {"base": base} | training["config"]}
    (folder / "card.json").write_text(json.dumps(card))
    return str(folder.resolve())


def _models(models):
    layers = {
        "data": f"napari layers: {LAYERS}",
        "config": {"holdout": ["he_0bf33d3d gt"], "held_out": ["he_0bf33d3d gt"]},
        "log_summary": [
            {"epoch": 0, "val_ap50": 0.8333, "base": "nuclei2d"},
            {"epoch": 1, "loss": 1.02, "val_ap50": 0.7667},
            {"epoch": 2, "loss": 0.95, "val_ap50": 0.5938},
            {"epoch": 3, "loss": 0.91, "val_ap50": 0.6452},
        ],
        "kept_epoch": 0,
        "best_val_ap50": 0.8333,
    }
    folder = {
        "data": "/tmp/s34/t14/data",
        "val_data": "/tmp/s34/t14/val",
        "config": {
            "val_data": "/tmp/s34/t14/val",
            "batch_size": 4,
            "lr": 1e-4,
            "ema": 0.9,
            "steps_per_epoch": 8,
        },
        "log_summary": [
            {"epoch": 0, "val_ap50": 0.7777, "base": "nuclei2d"},
            {"epoch": 1, "loss": 0.89, "val_ap50": 0.8012},
        ],
        "kept_epoch": 1,
        "best_val_ap50": 0.8012,
        "stopped": {"after_epoch": 1, "of_epochs": 3, "why": "terminated"},
    }
    return _fine_tune(models, "my-he", layers), _fine_tune(models, "he-ema", folder)


def _tip(combo, key: str) -> str:
    return combo.itemData(combo.findData(key), Qt.ItemDataRole.ToolTipRole)


def test_each_models_tooltip_and_info_say_what_its_card_says(
    make_napari_viewer, tmp_path, monkeypatch, qtbot
):
    models = tmp_path / "models"
    my_he, he_ema = _models(models)
    monkeypatch.setenv("TESSELLA_MODELS", str(models))
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    combo = widget.model_combo

    tip = _tip(combo, my_he)
    assert tip.startswith(f"user model in {my_he} (sha256 "), tip
    for said in (
        "<b>Scores:</b> hold-out (1 image): ap50=0.8333 (the best epoch's, which chose the epoch",
        "<b>Weights:</b> the same as nuclei2d's (kept: no epoch beat them)",
        f"<b>Trained on:</b> {LAYERS}",
        "<b>Held out (scored on, not trained on):</b> he_0bf33d3d gt",
        "<b>Fine-tuned from:</b> nuclei2d",
        "<b>Settings:</b> 3 epochs × 4 steps, batch 2, patch 128, lr 3e-04",
        "<b>Hold-out ap50 by epoch:</b> 0.833 (base), 0.767, 0.594, 0.645",
        "<b>Kept:</b> the base's weights (no epoch beat them)",
        "<b>Saved:</b> 20",
    ):
        assert said in tip, (said, tip)
    assert "Stopped" not in tip

    tip = _tip(combo, he_ema)  # a folder run, scored on another folder, stopped early
    for said in (
        "<b>Scores:</b> hold-out (folder val): ap50=0.8012 (stopped) (the best epoch's",
        "<b>Trained on:</b> /tmp/s34/t14/data",
        "<b>Scored on:</b> the folder /tmp/s34/t14/val",
        "<b>Settings:</b> 3 epochs × 8 steps, batch 4, patch 128, lr 1e-04, EMA 0.9",
        "<b>Kept:</b> epoch 1, the best on the hold-out",
        "<b>Stopped early:</b> after epoch 1 of 3 (terminated); Resume in the Train panel",
    ):
        assert said in tip, (said, tip)
    # (its weights are nuclei2d's file here, though its card says epoch 1 was kept)
    assert "<b>Weights:</b> the same as nuclei2d's<br>" in tip, tip

    # a bundled model: its card's validation scores
    nuclei2d = str((bundled_dir() / "nuclei2d").resolve())
    tip = _tip(combo, nuclei2d)
    assert "<b>Scores:</b> validation (64 images): ap50=0.8457, avs=0.6761" in tip, tip
    assert tip.startswith(f"bundled model in {nuclei2d} (sha256 "), tip
    assert "Saved:" not in tip  # (its card's file time is when the package was installed)

    # the closed list's tooltip is the chosen model's; Info shows it in a window
    combo.setCurrentIndex(combo.findData(my_he))
    assert combo.toolTip() == _tip(combo, my_he)
    widget.model_info_button.click()
    box = widget.model_info_box
    assert box.isVisible() and not box.isModal()
    text = box.text()
    assert text.startswith(f"my-he (embedding, YX)\nuser model in {my_he} (sha256 "), text
    assert "Scores: hold-out (1 image): ap50=0.8333" in text, text
    combo.setCurrentIndex(combo.findData(he_ema))  # it follows the model chosen
    assert box.text().startswith("he-ema (embedding, YX)\n"), box.text()
    assert "Stopped early: after epoch 1 of 3 (terminated)" in " ".join(box.text().split())
    box.close()

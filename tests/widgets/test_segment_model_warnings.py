"""The Segment panel's model list says what a model's training warned of its data
(``training.warnings`` in its card): the item is marked ⚠ and its tooltip gives the lines.
A shared model trained on doubtful labels looked like any other there."""

from __future__ import annotations

import json
import shutil

from qtpy.QtCore import Qt

from tessella.engine.registry import bundled_dir
from tests.test_model_card_warnings_shown import _said_of


def test_the_model_list_marks_a_model_whose_training_warned_of_its_data(
    make_napari_viewer, tmp_path, monkeypatch
):
    folder = tmp_path / "models" / "doubtful"  # nuclei2d's weights; no training
    shutil.copytree(bundled_dir() / "nuclei2d", folder)
    card = json.loads((folder / "card.json").read_text())
    lines = _said_of(tmp_path / "my data")
    card["name"], card["training"]["warnings"] = "doubtful", lines
    (folder / "card.json").write_text(json.dumps(card))
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))

    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    combo = widget.model_combo
    index = combo.findData(str(folder.resolve()))
    assert index >= 0
    assert combo.itemText(index) == "doubtful (embedding, YX; = nuclei2d's weights) ⚠"
    tip = combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(f"user model in {folder.resolve()} (sha256 ")
    assert "training.warnings" in tip
    said = " ".join(tip.split())  # the tooltip wraps the long lines
    for line in lines:
        assert f"- {' '.join(line.split())}" in said

    # the bundled models: as before, unmarked
    for i in range(combo.count()):
        if i != index:
            assert "⚠" not in combo.itemText(i)
            assert "\n" not in combo.itemData(i, Qt.ItemDataRole.ToolTipRole)

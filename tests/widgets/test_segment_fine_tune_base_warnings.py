"""The Segment panel's model list marks a fine-tune whose base's training warned of its data
(``training.base_training.warnings``, which a fine-tune's card keeps): it showed as clean,
though the model it was tuned from had learnt doubtful labels. The item is marked ⚠ and its
tooltip gives the base's lines, marked as the base's."""

from __future__ import annotations

import json
import shutil

from qtpy.QtCore import Qt

from tessella.engine.registry import bundled_dir
from tests.test_model_card_warnings_shown import _said_of


def test_the_model_list_marks_a_fine_tune_of_a_doubtful_base(
    make_napari_viewer, tmp_path, monkeypatch
):
    # nuclei2d's weights, as a fine-tune of a base whose run warned of its data (no training:
    # the record is where a fine-tune's card keeps its base's, with the lines a run says)
    folder = tmp_path / "models" / "tuned"
    shutil.copytree(bundled_dir() / "nuclei2d", folder)
    card = json.loads((folder / "card.json").read_text())
    lines = _said_of(tmp_path / "base data")
    base = {"config": {"name": "suspect", "out": str(tmp_path / "suspect")}, "warnings": lines}
    card["name"] = "tuned"
    card["training"].pop("warnings", None)
    card["training"]["base_training"] = base
    (folder / "card.json").write_text(json.dumps(card))
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))

    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    combo = widget.model_combo
    index = combo.findData(str(folder.resolve()))
    assert index >= 0
    assert combo.itemText(index) == "tuned (embedding, YX; = nuclei2d's weights) ⚠"
    tip = combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert "training.warnings" in tip and "base 'X'" in tip
    said = " ".join(tip.split())  # the tooltip wraps the long lines
    for line in lines:
        assert f"- base 'suspect': {' '.join(line.split())}" in said
    assert said.count("- ") == len(lines)  # once each

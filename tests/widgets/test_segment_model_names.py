"""Two user models of one name in the Segment panel: two entries told apart (they read the
same, and the first found was the one any run of that name used), each running its own
weights and recording its own folder in the recipe."""

from __future__ import annotations

import json
import os
from pathlib import Path

from napari.layers import Labels

from tessella.engine.registry import bundled_dir, sha256_file


def twin(folder: Path, scale: float) -> str:
    """A user model "twin" in ``folder``: nuclei2d's card and its weights times ``scale``;
    the weights' sha256."""
    from safetensors.torch import load_file, save_file

    source = bundled_dir() / "nuclei2d"
    folder.mkdir(parents=True)
    state = load_file(str(source / "model.safetensors"))
    save_file({k: v * scale for k, v in state.items()}, str(folder / "model.safetensors"))
    sha = sha256_file(folder / "model.safetensors")
    card = json.loads((source / "card.json").read_text()) | {"name": "twin", "sha256": sha}
    (folder / "card.json").write_text(json.dumps(card))
    return sha


def test_two_models_of_one_name_are_two_entries_each_running_its_own_weights(
    make_napari_viewer, nuclei_image, tmp_path, monkeypatch, run_to_end
):
    models, shared = tmp_path / "models", tmp_path / "share"
    monkeypatch.setenv("TESSELLA_MODELS", os.pathsep.join([str(models), str(shared)]))
    shas = {
        folder / "twin": twin(folder / "twin", scale)
        for folder, scale in ((models, 1), (shared, 0))
    }
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    combo = widget.model_combo
    entries = {
        combo.itemData(i): combo.itemText(i)
        for i in range(combo.count())
        if combo.itemText(i).startswith("twin ")
    }
    assert entries == {
        str(
            (models / "twin").resolve()
        ): "twin (embedding, YX; = nuclei2d's weights) — user, …/models/twin",
        str((shared / "twin").resolve()): "twin (embedding, YX) — user, …/share/twin",
    }
    assert combo.currentText() == "nuclei2d (embedding, YX)"  # the bundled default

    counts = {}
    for folder, sha in shas.items():
        combo.setCurrentIndex(combo.findData(str(folder.resolve())))
        viewer.add_image(nuclei_image[:256, :256], name=folder.parent.name)
        widget.layer_combo.setCurrentIndex(widget.layer_combo.findText(folder.parent.name))
        run_to_end(widget)
        result = viewer.layers[f"{folder.parent.name} labels (twin)"]
        assert isinstance(result, Labels)
        recipe = result.metadata["tessella_recipe"]
        assert recipe["model"] == "twin" and recipe["model_sha256"] == sha
        assert recipe["model_path"] == str(folder.resolve())
        counts[folder.parent.name] = len(set(result.data.ravel().tolist()) - {0})
    assert counts["models"] > 5 and counts["share"] == 0  # zeroed weights find nothing

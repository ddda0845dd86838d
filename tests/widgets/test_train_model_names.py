"""Model names in the Train panel: two models of one name are two entries told apart in its
base list (they read the same), and a run whose model takes a name another model has says so
at the start, as ``tessella train`` does."""

from __future__ import annotations

import os

import tessella._widgets._train_starting as starting_module
import tessella._widgets.train as train_module
from tessella._widgets.train import NEW
from tests.widgets.test_segment_model_names import twin
from tests.widgets.test_train_binary_labels import binary_pairs_panel
from tests.widgets.test_train_gaps import _volume


def test_two_models_of_one_name_are_two_base_entries(make_napari_viewer, tmp_path, monkeypatch):
    models, shared = tmp_path / "models", tmp_path / "share"
    monkeypatch.setenv("TESSELLA_MODELS", os.pathsep.join([str(models), str(shared)]))
    twin(models / "twin", 1)
    twin(shared / "twin", 0.5)
    viewer = make_napari_viewer()
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    combo = train.base_combo
    entries = {
        combo.itemData(i): combo.itemText(i)
        for i in range(combo.count())
        if combo.itemText(i).startswith("twin ")
    }
    assert entries == {  # they both read "twin (embedding, user)" before
        str(models / "twin"): "twin (embedding, user) — user, …/models/twin",
        str(shared / "twin"): "twin (embedding, user) — user, …/share/twin",
    }
    assert combo.currentText() == "nuclei2d (embedding, bundled)"  # unique: no suffix


def test_a_name_another_model_has_is_warned_about_at_the_start(viewer_models, qtbot, monkeypatch):
    viewer, _models = viewer_models
    train = binary_pairs_panel(viewer)
    for z, name in enumerate(("a bin", "b bin")):  # labels (each cell its ID), not a binary
        viewer.layers[name].data = _volume(2)[1][z]  # mask, which Train refuses at its press

    def failing(config, samples, held):  # the run fails at once: no training here
        raise OSError("the disk is gone")
        yield  # (a generator, as the engine's)

    monkeypatch.setattr(starting_module, "_train", failing)
    train.name_edit.setText("em-membranes2d")  # the bundled model's name
    warnings: list[str] = []
    monkeypatch.setattr(starting_module, "show_warning", warnings.append)
    monkeypatch.setattr(train_module, "show_error", lambda message: None)
    with qtbot.waitSignal(train.run_finished, timeout=60_000):
        assert train.start(), train.status_label.text()
    taken = [w for w in warnings if "is taken already" in w]
    assert len(taken) == 1, warnings
    assert taken[0].startswith("Train: the name 'em-membranes2d' is taken already by bundled ")


def test_resume_of_a_command_line_run_chooses_the_base_it_started_from(viewer_models):
    """A run started by ``tessella train --base nuclei2d`` records its base by name, which is
    no entry of the panel's base list (folders): Resume kept the base chosen in the panel and
    would have resumed from that one. It now chooses the run's own base."""
    import json

    from tessella.engine.registry import bundled_dir

    viewer, models = viewer_models
    out = models / "mine"
    out.mkdir(parents=True)
    config = {"base": "nuclei2d", "method": "embedding", "epochs": 3, "patch": 96}
    (out / "card.json").write_text(json.dumps({"training": {"config": config}}))
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    index = next(
        i
        for i in range(train.base_combo.count())
        if train.base_combo.itemData(i).endswith(NEW + "boundary")
    )
    train.base_combo.setCurrentIndex(index)
    train._show_run_settings(out)
    assert train.base_combo.currentData() == str(bundled_dir() / "nuclei2d")
    assert (train.patch_spin.value(), train.name_edit.text()) == (96, "mine")

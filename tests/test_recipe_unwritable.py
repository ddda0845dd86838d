"""A recipe that cannot be written beside labels is said in one line naming it, and nothing
is left half-written (s35 f1, gap 2 of the session before): napari's File > Save wrote the
labels, then failed on ``NAME.recipe.json`` (a folder of that name) with a raw
IsADirectoryError naming a hidden temporary, and left the labels there without their recipe."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest
import tifffile

from tessella._io import RECIPE_KEY

MASK = "fixtures/mask2d.tif"


@pytest.fixture
def result(data_dir):
    """A 128x128 crop of the shipped nuclei mask (5+ nuclei) and a recipe as Segment keeps
    it in the layer's metadata."""
    labels = tifffile.imread(data_dir / MASK)[192:320, 192:320].astype(np.uint16)
    assert len(np.unique(labels)) > 5
    return labels, {"model": "nuclei2d", "params": {"seed_thresh": 0.5}, "axes": "YX"}


def _hidden(folder):
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


def test_file_save_refuses_a_recipe_that_cannot_go_beside_the_labels(
    make_napari_viewer, result, tmp_path
):
    labels, recipe = result
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels, name="nuclei", metadata={RECIPE_KEY: recipe})
    viewer.layers.selection = {layer}
    (tmp_path / "s.recipe.json").mkdir()
    with pytest.raises(OSError) as caught:
        viewer.layers.save(str(tmp_path / "s.tif"), selected=True, plugin="tessella")
    said = str(caught.value)
    assert said == (
        f"{tmp_path / 's.recipe.json'}: a folder of that name is where the recipe of s.tif "
        "goes; remove or rename it (nothing was saved)"
    )
    assert "\n" not in said
    assert sorted(os.listdir(tmp_path)) == ["s.recipe.json"]  # no labels, no temporary
    assert not os.listdir(tmp_path / "s.recipe.json")


def test_file_save_into_a_folder_that_cannot_be_written_says_the_folder(
    make_napari_viewer, result, tmp_path, monkeypatch
):
    """A read-only folder (made so by a probe that fails as Linux fails it: the tests run
    as root, whom permissions do not stop): one line naming the folder, not a hidden
    temporary, and nothing written."""
    import tessella.engine.io._probe as probe

    def read_only(folder, name):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))

    labels, recipe = result
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels, name="nuclei", metadata={RECIPE_KEY: recipe})
    viewer.layers.selection = {layer}
    monkeypatch.setattr(probe, "probe_folder", read_only)
    with pytest.raises(PermissionError) as caught:
        viewer.layers.save(str(tmp_path / "r.tif"), selected=True, plugin="tessella")
    assert (
        str(caught.value)
        == f"{tmp_path}: cannot write there (Permission denied); nothing was saved"
    )
    assert os.listdir(tmp_path) == []


def test_file_save_that_fails_on_the_recipe_takes_the_new_labels_back(
    make_napari_viewer, result, tmp_path, monkeypatch
):
    """The recipe's write failing after the labels' (a disk filled meanwhile): the labels
    written where there were none are removed, and the error names the recipe."""
    import tessella.engine.io as engine_io

    labels, recipe = result
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels, name="nuclei", metadata={RECIPE_KEY: recipe})
    viewer.layers.selection = {layer}

    def full(path, data, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(engine_io, "write_json", full)
    with pytest.raises(OSError) as caught:
        viewer.layers.save(str(tmp_path / "n.tif"), selected=True, plugin="tessella")
    assert str(caught.value) == (
        f"{tmp_path / 'n.recipe.json'}: cannot write the recipe of n.tif (No space left on "
        "device); n.tif was not saved"
    )
    assert os.listdir(tmp_path) == []
    monkeypatch.undo()
    # with room again it is saved, both
    written = viewer.layers.save(str(tmp_path / "n.tif"), selected=True, plugin="tessella")
    assert written == [str(tmp_path / "n.tif"), str(tmp_path / "n.recipe.json")]
    assert json.loads((tmp_path / "n.recipe.json").read_text())["model"] == "nuclei2d"
    assert _hidden(tmp_path) == []


def test_export_never_replaces_a_folder_named_as_its_recipe(make_napari_viewer, result, tmp_path):
    """Overwrite ticked, Export moved a folder ``e.recipe.json`` aside and deleted it with
    what it held; it is now refused in one line, nothing written."""
    labels, recipe = result
    viewer = make_napari_viewer()
    viewer.add_labels(labels, name="nuclei", metadata={RECIPE_KEY: recipe})
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    widget.path_edit.setText(str(tmp_path / "e"))
    widget.overwrite_checkbox.setChecked(True)
    (tmp_path / "e.recipe.json").mkdir()
    (tmp_path / "e.recipe.json" / "notes.txt").write_text("kept")
    assert widget.export() == []
    said = (
        f"Nothing written: {tmp_path / 'e.recipe.json'} is a folder, where the recipe goes; "
        "remove or rename it, or choose another name."
    )
    assert widget.status_label.text() == said
    assert sorted(os.listdir(tmp_path)) == ["e.recipe.json"]
    assert (tmp_path / "e.recipe.json" / "notes.txt").read_text() == "kept"
    # the panel is usable: another name is written
    widget.path_edit.setText(str(tmp_path / "e2"))
    assert [p.name for p in widget.export()] == ["e2.tif", "e2.csv", "e2.recipe.json"]

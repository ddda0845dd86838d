"""Each labels file keeps its own recipe (s35 f1, gap 1 of the session before): ``NAME.tif``
and ``NAME.zarr`` written to one folder shared ``NAME.recipe.json``, so writing one replaced
the other's recipe, and reopening the first showed the second's recipe with a false "labels
changed" warning. The second now gets ``NAME.zarr.recipe.json`` (its whole name), the first
keeps ``NAME.recipe.json``, and the reader, ``tessella evaluate``'s lookup and
``--skip-existing`` find each its own; an older shared recipe is still found where it can be
only one file's."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import tifffile

from tessella._io import RECIPE_KEY, LabelsChangedWarning, UnclearRecipeWarning, read_layers
from tessella.cli import main
from tessella.engine.io._kept_recipe import kept_recipe
from tests.conftest import DATA


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """A real DSB2018 nuclei crop (96 x 96) to segment, as a TIFF and as a zarr array (a
    TIFF gives TIFF labels, a zarr zarr labels): ``{"tif": path, "zarr": path}``."""
    import zarr

    source = DATA / "fixtures" / "img2d.tif"
    if not source.is_file():
        pytest.fail(f"the fixture image is not at {source} (set TESSELLA_DATA)")
    folder = tmp_path_factory.mktemp("image")
    crop = tifffile.imread(source)[:96, :96]
    tifffile.imwrite(folder / "nuclei.tif", crop)
    zarr.save_array(str(folder / "nuclei.zarr"), crop)
    return {"tif": folder / "nuclei.tif", "zarr": folder / "nuclei.zarr"}


def _segment(image, out, *more):
    args = ["segment", str(image), "-o", str(out), "--model", "nuclei2d", "--no-tta", "-q"]
    assert main([*args, *more]) == 0


def _reopened(path):
    """The recipe the napari reader attaches to ``path`` (no LabelsChangedWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelsChangedWarning)
        [(_data, meta, kind)] = read_layers(str(path))
    assert kind == "labels"
    return meta["metadata"].get(RECIPE_KEY)


@pytest.mark.parametrize("first", ["tif", "zarr"])
def test_a_tif_and_a_zarr_of_one_name_keep_each_its_own_recipe(images, tmp_path, first):
    second = "zarr" if first == "tif" else "tif"
    _segment(images[first], tmp_path / f"cells.{first}", "--set", "seed_thresh=0.5")
    shared = (tmp_path / "cells.recipe.json").read_text()
    _segment(images[second], tmp_path / f"cells.{second}", "--set", "seed_thresh=0.7")
    # the first keeps NAME.recipe.json, untouched; the second has its own, named in full
    assert (tmp_path / "cells.recipe.json").read_text() == shared
    own = json.loads((tmp_path / f"cells.{second}.recipe.json").read_text())
    assert json.loads(shared)["exported"] == {
        "tiff" if first == "tif" else "zarr": f"cells.{first}"
    }
    assert own["params"]["seed_thresh"] == 0.7
    # each reopens with its own recipe and its digest matches: no "labels changed" warning
    assert _reopened(tmp_path / f"cells.{first}")["params"]["seed_thresh"] == 0.5
    assert _reopened(tmp_path / f"cells.{second}")["params"]["seed_thresh"] == 0.7
    # tessella evaluate's lookup says which file it read
    assert kept_recipe(tmp_path / f"cells.{second}")[1] == (
        f"the recipe beside cells.{second} (cells.{second}.recipe.json)"
    )
    # written again, each replaces only its own recipe
    _segment(
        images[second], tmp_path / f"cells.{second}", "--set", "seed_thresh=0.6", "--overwrite"
    )
    assert (tmp_path / "cells.recipe.json").read_text() == shared
    assert _reopened(tmp_path / f"cells.{second}")["params"]["seed_thresh"] == 0.6
    # and --skip-existing reads each one's own (nothing redone)
    assert (
        main(
            [
                "segment",
                str(images[first]),
                "-o",
                str(tmp_path / f"cells.{first}"),
                "--model",
                "nuclei2d",
                "--no-tta",
                "-q",
                "--set",
                "seed_thresh=0.5",
                "--skip-existing",
            ]
        )
        == 0
    )
    assert (tmp_path / "cells.recipe.json").read_text() == shared


def _old_recipe(folder, name, labels):
    """A recipe as an older ``tessella segment`` wrote it: it names no file."""
    from tessella.engine.digest import DIGEST_KEY, labels_digest

    recipe = {
        "model": "nuclei2d",
        "params": {"seed_thresh": 0.4},
        "axes": "YX",
        "input": f"raw/{name}.tiff",
        DIGEST_KEY: labels_digest(labels),
    }
    (folder / f"{name}.recipe.json").write_text(json.dumps(recipe))


def test_an_older_shared_recipe_is_found_where_it_can_be_only_one_files(data_dir, tmp_path):
    from tessella.engine.io import write_labels, write_zarr_labels
    from tessella.engine.io._kept_recipe import recipe_to_write

    labels = tifffile.imread(data_dir / "fixtures" / "mask2d.tif")[:128, :128].astype(np.uint16)
    write_labels(tmp_path / "old.tif", labels, "YX", None, "µm")
    _old_recipe(tmp_path, "old", labels)
    assert _reopened(tmp_path / "old.tif")["params"]["seed_thresh"] == 0.4  # alone: its own
    # the image it was made from (its "input"), copied beside it, takes nothing
    tifffile.imwrite(tmp_path / "old.tiff", labels)
    assert _reopened(tmp_path / "old.tif")["params"]["seed_thresh"] == 0.4
    # a zarr of the same name beside it: the recipe could be either's, so neither takes it,
    # and the reader says how to give it to one
    write_zarr_labels(tmp_path / "old.zarr", labels.T.copy(), "YX", None, "µm")
    assert kept_recipe(tmp_path / "old.tif") is None and kept_recipe(tmp_path / "old.zarr") is None
    said = (
        r"opened without a recipe: old\.recipe\.json, written by an older Tessella, could be "
        r"the recipe of old\.tif or old\.zarr .*rename it to old\.tif\.recipe\.json or "
        r"old\.zarr\.recipe\.json"
    )
    with pytest.warns(UnclearRecipeWarning, match=said):
        [(_data, meta, _kind)] = read_layers(str(tmp_path / "old.tif"))
    assert RECIPE_KEY not in meta["metadata"]
    # a new write of the zarr takes a recipe of its own, and leaves the old one to the tif
    assert recipe_to_write(tmp_path / "old.zarr") == tmp_path / "old.zarr.recipe.json"
    (tmp_path / "old.zarr.recipe.json").write_text(
        json.dumps({"model": "nuclei2d", "params": {"seed_thresh": 0.9}, "axes": "YX"})
    )
    assert _reopened(tmp_path / "old.tif")["params"]["seed_thresh"] == 0.4
    assert _reopened(tmp_path / "old.zarr")["params"]["seed_thresh"] == 0.9


def test_export_beside_another_labels_files_recipe_writes_its_own(
    make_napari_viewer, data_dir, tmp_path
):
    """Export of 'f' beside the command line's f.zarr (and its f.recipe.json): the TIFF's
    recipe goes to f.tif.recipe.json, f.zarr's is left as it was (before, Export asked to
    Overwrite, and then replaced it)."""
    from tessella.engine.digest import DIGEST_KEY, labels_digest
    from tessella.engine.io import write_zarr_labels

    labels = tifffile.imread(data_dir / "fixtures" / "mask2d.tif")[:128, :128].astype(np.uint16)
    write_zarr_labels(tmp_path / "f.zarr", labels, "YX", None, "µm")
    theirs = {"model": "nuclei2d", "params": {"seed_thresh": 0.9}, "axes": "YX"}
    theirs.update(exported={"zarr": "f.zarr"}, **{DIGEST_KEY: labels_digest(labels)})
    (tmp_path / "f.recipe.json").write_text(json.dumps(theirs))
    viewer = make_napari_viewer()
    edited = labels.copy()
    edited[:4, :4] = 77
    recipe = {"model": "nuclei2d", "params": {"seed_thresh": 0.3}, "axes": "YX"}
    viewer.add_labels(edited, name="nuclei", metadata={RECIPE_KEY: recipe})
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    widget.path_edit.setText(str(tmp_path / "f"))
    assert [p.name for p in widget.export()] == ["f.tif", "f.csv", "f.tif.recipe.json"]
    assert json.loads((tmp_path / "f.recipe.json").read_text()) == theirs
    assert _reopened(tmp_path / "f.tif")["params"]["seed_thresh"] == 0.3
    assert _reopened(tmp_path / "f.zarr")["params"]["seed_thresh"] == 0.9


def test_export_without_a_recipe_leaves_an_older_one_to_its_file(
    make_napari_viewer, data_dir, tmp_path
):
    """Export of 'g' (Recipe not ticked) beside g.zarr and the recipe an older version
    wrote for it (naming no file): g.zarr keeps it, which now names it; the TIFF opens with
    none, and neither says the recipe could be either's."""
    from tessella.engine.io import write_zarr_labels

    labels = tifffile.imread(data_dir / "fixtures" / "mask2d.tif")[:128, :128].astype(np.uint16)
    write_zarr_labels(tmp_path / "g.zarr", labels, "YX", None, "µm")
    _old_recipe(tmp_path, "g", labels)
    viewer = make_napari_viewer()
    viewer.add_labels(labels.T.copy(), name="drawn")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    widget.path_edit.setText(str(tmp_path / "g"))
    widget.recipe_checkbox.setChecked(False)
    assert [p.name for p in widget.export()] == ["g.tif", "g.csv"]
    assert json.loads((tmp_path / "g.recipe.json").read_text())["exported"] == {"zarr": "g.zarr"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnclearRecipeWarning)
        assert _reopened(tmp_path / "g.zarr")["params"]["seed_thresh"] == 0.4
        assert _reopened(tmp_path / "g.tif") is None

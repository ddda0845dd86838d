"""napari's File > Save (the Tessella writer) replaces only the recipe of the file it saves
(review s34/r12): NAME.tif, NAME.tiff and NAME.zarr shared NAME.recipe.json, so saving z.tif
replaced the recipe of the command line's z.zarr (M1); hand-drawn labels saved over cli.tif
kept cli.recipe.json and reopened as a nuclei2d result (M2); of two layers holding one
array, the first one's recipe was written (L1). Since s35 (f1) z.tif saved beside z.zarr's
recipe gets a recipe of its own, z.tif.recipe.json, where it was saved without one."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from tessella._io import RECIPE_KEY

MASK = "fixtures/mask2d.tif"


def _recipe(labels, name):
    from tessella.engine.digest import DIGEST_KEY, labels_digest

    # what `tessella segment` writes beside its output (no "exported": it names no file)
    return {
        "model": "nuclei2d",
        "params": {},
        "axes": "YX",
        "input": f"{name}_image.tif",
        DIGEST_KEY: labels_digest(labels),
    }


@pytest.fixture
def outputs(data_dir, tmp_path):
    """cli.tif and z.zarr, two results of the command line (a 128x128 crop of the shipped
    nuclei mask, 5+ nuclei, and its transpose), each with its recipe beside it."""
    import tifffile

    from tessella.engine.io import write_labels, write_zarr_labels

    labels = tifffile.imread(data_dir / MASK)[192:320, 192:320].astype(np.uint16)
    assert len(np.unique(labels)) > 5
    write_labels(tmp_path / "cli.tif", labels, "YX", None, "µm")
    (tmp_path / "cli.recipe.json").write_text(json.dumps(_recipe(labels, "cli")))
    other = np.ascontiguousarray(labels.T)
    write_zarr_labels(tmp_path / "z.zarr", other, "YX", None, "µm")
    (tmp_path / "z.recipe.json").write_text(json.dumps(_recipe(other, "z")))
    return tmp_path, labels


def _open(viewer, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        [layer] = viewer.open(str(path), plugin="tessella")
    return layer


def test_save_beside_another_outputs_recipe_writes_one_of_its_own(make_napari_viewer, outputs):
    folder, labels = outputs
    z_recipe = (folder / "z.recipe.json").read_text()
    viewer = make_napari_viewer()
    layer = _open(viewer, folder / "cli.tif")
    assert layer.metadata[RECIPE_KEY]["input"] == "cli_image.tif"
    layer.data = layer.data.copy()
    layer.data[:5, :5] = 99  # an edit
    viewer.layers.selection = {layer}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: nothing is left without a recipe
        written = viewer.layers.save(str(folder / "z.tif"), selected=True, plugin="tessella")
    assert written == [str(folder / "z.tif"), str(folder / "z.tif.recipe.json")]
    assert (folder / "z.recipe.json").read_text() == z_recipe  # z.zarr's, untouched
    own = json.loads((folder / "z.tif.recipe.json").read_text())
    assert own["exported"] == {"tiff": "z.tif"} and own["labels_edited"] is True
    saved = _open(viewer, folder / "z.tif")
    np.testing.assert_array_equal(np.asarray(saved.data), layer.data)  # the labels are saved
    assert saved.metadata[RECIPE_KEY]["input"] == "cli_image.tif"  # with their recipe
    assert _open(viewer, folder / "z.zarr").metadata[RECIPE_KEY]["input"] == "z_image.tif"

    # the file's own recipe is replaced, as before
    written = viewer.layers.save(str(folder / "cli.tif"), selected=True, plugin="tessella")
    assert written == [str(folder / "cli.tif"), str(folder / "cli.recipe.json")]
    recipe = json.loads((folder / "cli.recipe.json").read_text())
    assert recipe["exported"] == {"tiff": "cli.tif"} and recipe["model"] == "nuclei2d"
    # z.tif saved again replaces its own recipe, z.zarr's still untouched
    layer.data[:5, :5] = 98
    written = viewer.layers.save(str(folder / "z.tif"), selected=True, plugin="tessella")
    assert written == [str(folder / "z.tif"), str(folder / "z.tif.recipe.json")]
    assert (folder / "z.recipe.json").read_text() == z_recipe


def test_hand_drawn_labels_saved_over_a_result_take_no_recipe_of_it(make_napari_viewer, outputs):
    folder, labels = outputs
    viewer = make_napari_viewer()
    drawn = viewer.add_labels(np.zeros(labels.shape, np.uint16), name="drawn")
    drawn.data[50:60, 50:60] = 1
    viewer.layers.selection = {drawn}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = viewer.layers.save(str(folder / "cli.tif"), selected=True, plugin="tessella")
    assert written == [str(folder / "cli.tif")]
    assert not (folder / "cli.recipe.json").exists()  # the replaced labels' recipe
    reopened = _open(viewer, folder / "cli.tif")
    assert RECIPE_KEY not in reopened.metadata
    np.testing.assert_array_equal(np.asarray(reopened.data), drawn.data)

    # beside another output's older recipe (it names no file): left to it, which it now
    # names, so that it is not taken for the recipe of either
    z_recipe = json.loads((folder / "z.recipe.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = viewer.layers.save(str(folder / "z.tiff"), selected=True, plugin="tessella")
    assert written == [str(folder / "z.tiff")]
    assert json.loads((folder / "z.recipe.json").read_text()) == {
        **z_recipe,
        "exported": {"zarr": "z.zarr"},
    }
    assert RECIPE_KEY not in _open(viewer, folder / "z.tiff").metadata
    assert _open(viewer, folder / "z.zarr").metadata[RECIPE_KEY]["input"] == "z_image.tif"


def test_save_takes_the_recipe_of_the_layer_saved_where_two_hold_one_array(
    make_napari_viewer, outputs
):
    folder, labels = outputs
    recipe = json.loads((folder / "cli.recipe.json").read_text())
    viewer = make_napari_viewer()
    data = labels.copy()
    copy = viewer.add_labels(data, name="hand copy")  # first: no recipe
    result = viewer.add_labels(data, name="segment result", metadata={RECIPE_KEY: recipe})
    assert copy.data is result.data
    viewer.layers.selection = {result}
    written = viewer.layers.save(str(folder / "c.tif"), selected=True, plugin="tessella")
    assert written == [str(folder / "c.tif"), str(folder / "c.recipe.json")]
    assert json.loads((folder / "c.recipe.json").read_text())["model"] == "nuclei2d"
    viewer.layers.move(viewer.layers.index(result), 0)  # now the first
    viewer.layers.selection = {copy}
    written = viewer.layers.save(str(folder / "c2.tif"), selected=True, plugin="tessella")
    assert written == [str(folder / "c2.tif")]
    assert not (folder / "c2.recipe.json").exists()

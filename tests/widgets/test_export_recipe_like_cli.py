"""Export's recipe records what ``tessella segment``'s records of the same run (s35 t18 #5):
the ``input`` file (where the image was read from one) and its ``stored_axes``, and no
``spacing`` for an image without a pixel size (Segment's ``[1.0, 1.0]``, napari's scale,
which a ``--recipe`` replay wrote into the labels TIFF as ``unit: 'pixel'``)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella._widgets.segment import RECIPE_KEY, SOURCE_ID_KEY, SOURCE_KEY
from tessella.engine.input_record import INPUT_KEY
from tessella.engine.io import read_image
from tests.conftest import SEGMENT_RECIPE
from tests.widgets.helpers import export_tiff_and_recipe

#: what Segment records in the labels layer of an image without a pixel size
PANEL_RECIPE = {
    **{k: v for k, v in SEGMENT_RECIPE.items() if k != "input"},
    "spacing": [1.0, 1.0],
}


def _export(viewer, image_layer, labels, base, qtbot) -> dict:
    metadata = {
        RECIPE_KEY: PANEL_RECIPE,
        SOURCE_KEY: image_layer.name,
        SOURCE_ID_KEY: image_layer.unique_id,
    }
    layer = viewer.add_labels(labels, name=f"{image_layer.name} labels", metadata=metadata)
    return export_tiff_and_recipe(viewer, layer, base, qtbot)


@pytest.fixture
def cells(tmp_path, nuclei_sample):
    """A real nuclei image as a TIFF file without a pixel size, and its labels."""
    image, labels = (np.ascontiguousarray(a[:128, :128]) for a in nuclei_sample)
    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, image)
    return path, image, labels


def test_export_recipe_records_the_input_and_no_unit_less_spacing(
    make_napari_viewer, tmp_path, cells, qtbot
):
    path, image, labels = cells
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(path), plugin="tessella")
    recipe = _export(viewer, layer, labels, tmp_path / "out", qtbot)
    assert recipe["input"] == str(path)  # (as the command's, given the file's whole path)
    assert recipe[INPUT_KEY]["kind"] == "file"
    assert recipe["stored_axes"] == read_image(path).stored_axes
    assert "spacing" not in recipe and "unit" not in recipe

    # an image made in Python: no file to name, none invented; still no spacing of 1
    made = viewer.add_image(image, name="made")
    recipe = _export(viewer, made, labels, tmp_path / "made", qtbot)
    assert not {"input", INPUT_KEY, "stored_axes", "spacing"} & set(recipe), recipe

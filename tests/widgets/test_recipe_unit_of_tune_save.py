"""Tune's Save recipe records the unit of its spacing as Export's recipe does (t13 #4): a
layer in nm writes ``"unit": "nm"`` (a replay on a TIFF without a pixel size writes the
labels in nm, not "pixel"); a layer without a pixel size writes no unit, as
``tessella segment`` records none for such an image (its spacing of 1 is pixels, which the
replay writes without a warning)."""

from __future__ import annotations

import json

import pytest

from tests.widgets.test_tune_widget import place


def _result(nuclei_image, model_dir, spacing):
    """A real Segment result of a 128 x 128 crop made with ``spacing`` (as Segment passes
    the layer's scale): its recipe records that spacing."""
    from tessella.engine.pipeline import run_steps, segment_steps

    crop = nuclei_image[:128, :128]
    return run_steps(segment_steps(crop, str(model_dir), "YX", spacing=spacing))


@pytest.fixture(scope="module")
def result_nm(nuclei_image, segment_model_dir):
    return _result(nuclei_image, segment_model_dir, (4.0, 4.0))


@pytest.fixture(scope="module")
def result_px(nuclei_image, segment_model_dir):
    return _result(nuclei_image, segment_model_dir, (1.0, 1.0))


def test_save_recipe_records_the_layers_unit(docked_tune, result_nm, tmp_path):
    viewer, widget = docked_tune
    spacing = result_nm.recipe()["spacing"]
    assert spacing == [4.0, 4.0]
    layer = place(viewer, result_nm, name="nm labels", scale=spacing)
    layer.units = ("nm", "nm")
    saved = widget.save_recipe(tmp_path / "nm.recipe.json")
    recipe = json.loads(saved.read_text())
    assert recipe["spacing"] == spacing and recipe["unit"] == "nm"


def test_save_recipe_of_a_layer_without_pixel_size_names_no_unit(docked_tune, result_px, tmp_path):
    viewer, widget = docked_tune
    place(viewer, result_px)
    recipe = json.loads(widget.save_recipe(tmp_path / "px.recipe.json").read_text())
    assert recipe["spacing"] == [1.0, 1.0] and "unit" not in recipe

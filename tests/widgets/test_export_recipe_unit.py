"""Export's recipe records the unit of its ``spacing`` (user test s33/t11 #2a): labels of an
EM stack in nm, segmented with the layer's scale, exported a recipe with ``spacing``
[50, 4, 4] and no ``unit`` (``tessella segment``'s recipe has ``"unit": "nm"``), so that
replaying it on a TIFF without metadata wrote the labels with spacing 50 in ``pixel``. Now
the recipe says the unit Export writes the labels in, and the replay writes it too. Real
data: two 128² ISBI 2012 sections segmented with em-membranes2d (CPU, seconds)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella._widgets.export import ExportWidget
from tessella.cli import main
from tessella.engine.io import read_image


@pytest.fixture(scope="module")
def sections(data_dir, tmp_path_factory):
    """ISBI sections 10-11 cropped to 128²: an ImageJ ZYX TIFF in nm (50 nm sections of
    4 nm pixels, as t11's) and the same stack as a plain TIFF without any metadata."""
    images = data_dir / "em_membranes_isbi2012" / "images"
    crop = np.stack([tifffile.imread(images / f"{i:02d}.tif")[:128, :128] for i in (10, 11)])
    folder = tmp_path_factory.mktemp("units")
    tifffile.imwrite(
        folder / "em_nm.tif",
        crop,
        imagej=True,
        resolution=(0.25, 0.25),
        metadata={"axes": "ZYX", "spacing": 50, "unit": "nm"},
    )
    tifffile.imwrite(folder / "em_plain.tif", crop, photometric="minisblack")
    return folder


def _segmented(viewer, image):
    """Labels of ``image`` as the Segment panel leaves them: em-membranes2d run with the
    layer's scale as the voxel size, the result's recipe, scale and units on the layer."""
    from tessella._io import RECIPE_KEY
    from tessella._widgets._segment_outputs import SOURCE_ID_KEY, SOURCE_KEY
    from tessella.engine.pipeline import segment_steps

    steps = segment_steps(
        np.asarray(image.data),
        "em-membranes2d",
        "ZYX",
        tta=False,
        device="cpu",
        spacing=tuple(float(s) for s in image.scale),
    )
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            result = stop.value
            break
    assert result.labels.max() > 5  # (cells between the membranes, not one blob)
    metadata = {
        SOURCE_KEY: image.name,
        SOURCE_ID_KEY: image.unique_id,
        RECIPE_KEY: result.recipe(),
    }
    return viewer.add_labels(
        result.labels,
        name="cells",
        scale=image.scale,
        units=image.units,
        metadata=metadata,
    )


def _export(widget, layer, qtbot, base) -> dict:
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(layer.unique_id))
    widget.zarr_checkbox.setChecked(False)
    widget.csv_checkbox.setChecked(False)
    widget.tiff_checkbox.setChecked(True)
    widget.recipe_checkbox.setChecked(True)
    widget.path_edit.setText(str(base))
    with qtbot.waitSignal(widget.exported, timeout=60_000):
        widget.export()
    return json.loads(base.with_suffix(".recipe.json").read_text())


def _replayed(sections, recipe_path, out):
    """The recipe replayed by ``tessella segment --recipe`` on the plain TIFF."""
    args = ["segment", str(sections / "em_plain.tif"), "-o", str(out), "--device", "cpu", "-q"]
    assert main([*args, "--recipe", str(recipe_path)]) == 0
    return read_image(out)


def test_export_recipe_of_nm_labels_records_nm_and_its_replay_writes_nm(
    make_napari_viewer, sections, qtbot, tmp_path
):
    viewer = make_napari_viewer()
    [image] = viewer.open(str(sections / "em_nm.tif"), plugin="tessella")
    assert tuple(image.scale) == pytest.approx((50, 4, 4))
    layer = _segmented(viewer, image)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    recipe = _export(widget, layer, qtbot, tmp_path / "cells")
    assert recipe["spacing"] == pytest.approx([50, 4, 4])
    assert recipe["unit"] == "nm"  # (before: no unit)
    written = read_image(tmp_path / "cells.tif")
    assert written.unit == "nm" and written.pixel_size == pytest.approx({"Z": 50, "Y": 4, "X": 4})

    replay = _replayed(sections, tmp_path / "cells.recipe.json", tmp_path / "replay.tif")
    np.testing.assert_array_equal(np.asarray(replay.data), np.asarray(layer.data))
    # the replay's labels in the recipe's unit (before: "pixel", with spacing 50)
    assert replay.unit == "nm"
    assert replay.pixel_size == pytest.approx({"Z": 50, "Y": 4, "X": 4})
    assert json.loads((tmp_path / "replay.recipe.json").read_text())["unit"] == "nm"


def test_a_scale_set_without_units_is_recorded_as_the_um_export_writes(
    make_napari_viewer, sections, qtbot, tmp_path
):
    """A plain stack given its scale by hand (no units): Export writes µm and says so, and
    the recipe says µm too, so its replay writes the same voxel size in the same unit."""
    viewer = make_napari_viewer()
    [image] = viewer.open(str(sections / "em_plain.tif"), plugin="tessella")
    image.scale = (0.05, 0.004, 0.004)
    layer = _segmented(viewer, image)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    recipe = _export(widget, layer, qtbot, tmp_path / "cells")
    assert "has no unit: written as µm" in widget.status_label.text()
    assert recipe["unit"] == "µm" and recipe["spacing"] == pytest.approx([0.05, 0.004, 0.004])
    assert read_image(tmp_path / "cells.tif").unit == "µm"
    replay = _replayed(sections, tmp_path / "cells.recipe.json", tmp_path / "replay.tif")
    assert replay.unit == "µm"
    assert replay.pixel_size == pytest.approx({"Z": 0.05, "Y": 0.004, "X": 0.004})
    np.testing.assert_array_equal(np.asarray(replay.data), np.asarray(layer.data))

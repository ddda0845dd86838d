"""The frame numbers of labels over time (a movie read from t052.tif ..., as Segment's result
or reopened with the recipe ``tessella segment`` wrote) go with the labels Export writes as
zarr or OME-Zarr even with Recipe not ticked: the recipe, holding them, is kept in the
zarr's own ``tessella`` attribute (as a blockwise zarr and ``tessella segment``'s OME-Zarr
keep it), so the labels reopened get them back and their CTC masks are numbered as the
frames (session 32: they were recorded only in the recipe file, written only when ticked)."""

from __future__ import annotations

import json

import numpy as np
import tifffile
import zarr

from tessella._widgets.export import ExportWidget

NUMBERS = [52, 53, 54]


def _export(viewer, layer, base, *kinds) -> tuple[ExportWidget, list]:
    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    export.labels_combo.setCurrentIndex(export.labels_combo.findData(layer.unique_id))
    export.path_edit.setText(str(base))
    for box in ("tiff", "zarr", "ome_zarr", "csv", "recipe", "ctc"):
        getattr(export, f"{box}_checkbox").setChecked(box in kinds)
    return export, export.export()


def test_frame_numbers_are_kept_in_zarr_labels_without_the_recipe(make_napari_viewer, tmp_path):
    labels = np.zeros((3, 16, 16), np.uint16)
    labels[:, 2:6, 2:6] = 1
    labels[1:, 9:12, 9:12] = 2
    tifffile.imwrite(tmp_path / "movie.tif", labels, imagej=True, metadata={"axes": "TYX"})
    recipe = {"model": "cells2dt", "params": {}, "input": "01", "frame_numbers": NUMBERS}
    (tmp_path / "movie.recipe.json").write_text(json.dumps(recipe))
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(tmp_path / "movie.tif"), plugin="tessella")
    assert layer.metadata["frame_numbers"] == NUMBERS

    _panel, written = _export(viewer, layer, tmp_path / "out", "zarr", "ome_zarr")
    assert sorted(p.name for p in written) == ["out.ome.zarr", "out.zarr"]
    assert not (tmp_path / "out.recipe.json").exists()  # (not ticked: no recipe file)
    for path in written:
        kept = zarr.open(str(path), mode="r").attrs["tessella"]
        assert kept["frame_numbers"] == NUMBERS and kept["model"] == "cells2dt"
        reopened, _tracks = viewer.open(str(path), plugin="tessella")
        assert reopened.metadata["frame_numbers"] == NUMBERS, path
        np.testing.assert_array_equal(np.asarray(reopened.data), labels)
    _panel, _written = _export(viewer, reopened, tmp_path / "again", "ctc")
    masks = sorted(p.name for p in (tmp_path / "again_RES").glob("mask*.tif"))
    assert masks == ["mask052.tif", "mask053.tif", "mask054.tif"]

    # labels without frame numbers (one frame): no recipe in the zarr without the tick
    _panel, written = _export(viewer, viewer.add_labels(labels[0]), tmp_path / "one", "zarr")
    assert "tessella" not in zarr.open(str(written[0]), mode="r").attrs

"""Segment on a big 2D zarr that the reader opened as a multiscale (pyramid) layer segments
its full resolution, level 0, the file itself: in memory the labels are those of the array,
and blockwise it reads the file (named in the recipe) into labels of the file's shape; Export
measures the objects' intensity on level 0. Here on the real nuclei sample with the
pyramid's size limit lowered."""

from __future__ import annotations

import csv

import numpy as np
import zarr
from scipy import ndimage as ndi

from tessella.engine.metrics import matching
from tessella.engine.pipeline import segment
from tests.widgets.test_segment_blockwise import same_partition


def test_segment_runs_on_level_0_of_a_pyramid_layer(
    segment_widget, nuclei_sample, tmp_path, run_to_end, segment_model_dir, monkeypatch
):
    monkeypatch.setenv("TESSELLA_PYRAMID_PIXELS", "100000")  # the 520x512 sample is above it
    image = nuclei_sample[0]
    path = tmp_path / "mosaic.zarr"
    zarr.create_array(str(path), shape=image.shape, dtype=image.dtype, chunks=(128, 128))[...] = (
        image
    )
    viewer, widget = segment_widget
    [layer] = viewer.open(str(path), plugin="tessella")
    assert layer.multiscale and len(layer.data) == 2
    assert isinstance(layer.data[0], zarr.Array) and layer.data[0].shape == image.shape
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText(layer.name))
    assert widget.axes_combo.currentText() == "YX"

    # in memory: the labels of the full-resolution image, at its shape
    widget.blockwise_checkbox.setChecked(False)
    run_to_end(widget)
    made = [x for x in viewer.layers if x is not layer and x.name.startswith("mosaic labels")]
    assert len(made) == 1, [x.name for x in viewer.layers]
    direct = segment(image, str(segment_model_dir), "YX")
    assert made[0].data.shape == image.shape
    assert same_partition(made[0].data, direct)

    # Export measures the objects on the full-resolution image (the pyramid's level 0)
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    export.labels_combo.setCurrentIndex(export.labels_combo.findData(made[0].unique_id))
    assert export.image_layer is layer
    for checkbox in (export.tiff_checkbox, export.zarr_checkbox, export.recipe_checkbox):
        checkbox.setChecked(False)
    export.csv_checkbox.setChecked(True)
    export.path_edit.setText(str(tmp_path / "measured"))
    assert export.export()
    with open(tmp_path / "measured.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    labels = np.asarray(made[0].data)
    ids = np.unique(labels[labels > 0])
    means = ndi.mean(image.astype(np.float64), labels, ids)
    assert [int(row["label"]) for row in rows] == ids.tolist()
    np.testing.assert_allclose([float(row["mean_intensity"]) for row in rows], means)

    # blockwise: the file read block by block, into labels of its shape
    out = tmp_path / "mosaic_labels.zarr"
    widget.blockwise_checkbox.setChecked(True)
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(256)
    run_to_end(widget)
    assert "written to" in widget.status_label.text(), widget.status_label.text()
    written = zarr.open_array(str(out), mode="r")
    assert written.shape == image.shape
    assert written.attrs["tessella"]["input"] == str(path)
    assert matching(direct, written[...], 0.5).f1 >= 0.99

"""Big 2D labels reopened from disk (a blockwise result's zarr, a labels zarr) are a
multiscale labels layer, as Segment shows its big result: the panels read level 0 (the
file), Correct refuses them by name, Export and Evaluate take the full resolution. The real
nuclei sample's labels, with the sizes lowered so that they are "big"."""

from __future__ import annotations

import numpy as np
import zarr

from tessella.engine.io import read_image


def test_reopened_big_labels_are_multiscale_and_read_at_full_resolution(
    make_napari_viewer, nuclei_sample, tmp_path, qtbot, monkeypatch
):
    monkeypatch.setenv("TESSELLA_LAZY_LABELS_PIXELS", "100,000")
    monkeypatch.setenv("TESSELLA_PYRAMID_PIXELS", "100,000")
    labels = nuclei_sample[1].astype(np.uint32)
    path = tmp_path / "mosaic_labels.zarr"
    array = zarr.create_array(str(path), shape=labels.shape, dtype=labels.dtype, chunks=(128, 128))
    array[...] = labels
    array.attrs["tessella_labels"] = True
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(path), plugin="tessella")
    assert layer.multiscale and len(layer.data) == 2
    assert isinstance(layer.data[0], zarr.Array)  # level 0: the file
    assert not layer.editable  # (napari does not paint multiscale labels)

    # Correct refuses it by name, and writes nothing
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findData(layer.unique_id))
    correct.relabel_button.click()
    said = correct.status_label.text()
    # (ground truth reopened: labels read from their file, not called a segmentation result)
    assert "layer 'mosaic_labels' is not in memory (multiscale labels read from " in said
    assert "mosaic_labels.zarr, shown at reduced resolution" in said
    assert "segmentation result" not in said
    np.testing.assert_array_equal(zarr.open_array(str(path), mode="r")[...], labels)

    # Evaluate scores the full-resolution labels (not level 1, a quarter of the pixels)
    from tessella.engine.metrics import matching

    truth = nuclei_sample[1]
    viewer.add_labels(truth, name="truth")
    _dock, evaluate = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    evaluate.pred_combo.setCurrentText("mosaic_labels")
    evaluate.truth_combo.setCurrentText("truth")
    assert evaluate.prediction_layer is layer
    evaluate.evaluate_button.click()
    qtbot.waitUntil(lambda: evaluate.last_scores is not None, timeout=60_000)
    expected = matching(truth, labels, 0.5)
    assert evaluate.last_evaluation.tp == expected.tp > 100
    assert (evaluate.last_evaluation.fp, evaluate.last_evaluation.fn) == (0, 0)

    # Export writes the full-resolution labels
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    export.labels_combo.setCurrentText("mosaic_labels")
    assert export.labels_layer is layer
    (tmp_path / "export").mkdir()
    export.path_edit.setText(str(tmp_path / "export" / "result"))
    export.tiff_checkbox.setChecked(True)
    export.export_button.click()
    tif = tmp_path / "export" / "result.tif"
    qtbot.waitUntil(tif.exists, timeout=60_000)
    qtbot.waitUntil(lambda: export.export_button.isEnabled(), timeout=60_000)
    np.testing.assert_array_equal(read_image(tif).data, labels)

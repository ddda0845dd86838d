"""Correct refuses a labels layer that is not in memory in plain words: a multiscale result
(a big blockwise result, as Segment shows it when done) was said as napari's type,
'MultiScaleData', which means nothing to a user; a lazily read zarr as 'Array'."""

from __future__ import annotations

import numpy as np
import zarr


def test_a_multiscale_result_is_refused_in_plain_words(make_napari_viewer, nuclei_sample, tmp_path):
    labels = nuclei_sample[1]
    full = zarr.create_array(
        str(tmp_path / "labels.zarr"), shape=labels.shape, dtype=labels.dtype, chunks=(256, 256)
    )
    full[...] = labels
    viewer = make_napari_viewer()
    layer = viewer.add_labels([full, labels[::4, ::4]], name="mosaic labels", multiscale=True)
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findData(layer.unique_id))

    correct.relabel_button.click()
    said = correct.status_label.text()
    assert "MultiScaleData" not in said
    assert (
        "layer 'mosaic labels' is not in memory (multiscale labels on disk, shown at "
        "reduced resolution when zoomed out); to edit a copy, open its .zarr with File > Open"
    ) in said
    correct.next_button.click()
    said = correct.status_label.text()
    assert "MultiScaleData" not in said
    assert said.startswith(
        "Next suspicious: layer 'mosaic labels' is not in memory (multiscale labels on "
        "disk, shown at reduced resolution when zoomed out), and finding"
    )
    np.testing.assert_array_equal(full[...], labels)  # (nothing written)

    # labels that carry Segment's recipe are a segmentation result, named by their file
    # where the reader recorded it; labels without one (ground truth) are not called a result
    from tessella._io import RECIPE_KEY

    result = viewer.add_labels(
        [full, labels[::4, ::4]],
        name="result",
        multiscale=True,
        metadata={
            RECIPE_KEY: {"model": "nuclei2d", "params": {}},
            "path": str(tmp_path / "r.zarr"),
        },
    )
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findData(result.unique_id))
    correct.relabel_button.click()
    assert (
        "layer 'result' is not in memory (a multiscale segmentation result read from r.zarr, "
        "shown at reduced resolution when zoomed out)"
    ) in correct.status_label.text()


def test_labels_read_lazily_are_refused_in_plain_words(make_napari_viewer, nuclei_sample):
    import dask.array as da

    viewer = make_napari_viewer()
    lazy = viewer.add_labels(da.from_array(nuclei_sample[1], chunks=256), name="lazy")
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findData(lazy.unique_id))
    correct.relabel_button.click()
    said = correct.status_label.text()
    assert "(Array" not in said
    assert "layer 'lazy' is not in memory (read lazily, e.g. a labels zarr on disk)" in said

"""Correct's *Split along lines* on a Z-stack: a line drawn in one slice across a merged pair
of nuclei is swept through Z and splits the whole 3D object, in every slice it spans, as one
undo step; with the viewer in 3D it is refused in one line."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from tessella._widgets.correct import LINES_LAYER


def _pair_as_one(shape=(9, 40, 60), radius=9.0):
    """Two overlapping balls along X, one object 12 (anisotropic: flattened along Z), beside
    an unrelated object 3."""
    z, y, x = np.indices(shape)
    cz, cy = shape[0] // 2, shape[1] // 2
    near = ((z - cz) * 2.0) ** 2 + (y - cy) ** 2
    labels = np.zeros(shape, np.int32)
    labels[(near + (x - (30 - radius + 1.5)) ** 2 <= radius**2)] = 12
    labels[(near + (x - (30 + radius - 1.5)) ** 2 <= radius**2)] = 12
    labels[:, 2:6, 2:6] = 3
    return labels


def _correct(viewer, layer):
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    return widget


def test_a_line_in_one_slice_splits_the_whole_3d_object_and_undo_restores_it(
    make_napari_viewer,
):
    viewer = make_napari_viewer()
    volume = _pair_as_one()
    layer = viewer.add_labels(
        volume.copy(), name="nuclei", scale=(2.0, 1.0, 1.0), metadata={"axes": "ZYX"}
    )
    widget = _correct(viewer, layer)
    spans = np.flatnonzero((volume == 12).any(axis=(1, 2)))
    assert len(spans) == 9

    widget.selection_edit.setText("12")
    widget.draw_line_button.click()
    shapes = viewer.layers[LINES_LAYER]
    viewer.dims.set_current_step(0, 4)
    shapes.add_lines(np.array([[4, 5, 30], [4, 35, 30]], float))  # world Z 8: slice 4
    widget.split_line_button.click()

    split = np.asarray(layer.data)
    assert int(split.max()) == 13
    assert np.array_equal(np.isin(split, [12, 13]), volume == 12)
    assert np.array_equal(split == 3, volume == 3)
    for z in spans:  # cut in every slice, one piece on each side of the line
        assert set(np.unique(split[z][volume[z] == 12])) == {12, 13}, z
        columns = sorted((np.nonzero(split[z] == v)[1] for v in (12, 13)), key=np.median)
        assert columns[0].max() <= 30 <= columns[1].min(), z
    assert ndi.label(split == 12)[1] == ndi.label(split == 13)[1] == 1
    said = widget.status_label.text()
    assert "split 12 into 2 by line (new: 13)" in said, said
    assert "12 is now 12 and 13, cut through all 9 slices it spans" in said, said
    assert "only" not in said and not len(shapes.data)

    widget.undo_button.click()  # one step back: the object whole again
    assert np.array_equal(np.asarray(layer.data), volume)


def test_split_along_lines_is_refused_in_a_3d_view(make_napari_viewer):
    viewer = make_napari_viewer()
    volume = _pair_as_one()
    layer = viewer.add_labels(volume.copy(), name="nuclei", metadata={"axes": "ZYX"})
    widget = _correct(viewer, layer)
    widget.draw_line_button.click()
    viewer.layers[LINES_LAYER].add_lines(np.array([[4, 5, 30], [4, 35, 30]], float))
    viewer.dims.ndisplay = 3
    widget.split_line_button.click()
    said = widget.status_label.text()
    assert "the viewer shows 3D; switch it to 2D" in said and "\n" not in said, said
    assert np.array_equal(np.asarray(layer.data), volume)

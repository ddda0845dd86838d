"""Correct's status line counts voxels in a volume and says across how many slices an edit
acted (user test s33/t11 #9: "merge 1, 10 into 1 on '…': 10881 px changed" in a Z-stack);
an image still says px, and *Remove smaller than* counts voxels in a volume too."""

from __future__ import annotations

import numpy as np


def _two_cells(shape=(8, 40, 60)):
    """Two flattened balls side by side (objects 1 and 10), spanning slices 1-6, apart."""
    z, y, x = np.indices(shape)
    labels = np.zeros(shape, np.int32)
    for label, cx in ((1, 15), (10, 45)):
        labels[((z - 3.5) * 3.0) ** 2 + (y - 20) ** 2 + (x - cx) ** 2 <= 100] = label
    return labels


def _correct(viewer, layer):
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    return widget


def test_a_volume_merge_says_voxels_and_the_slices_it_spans(make_napari_viewer):
    viewer = make_napari_viewer()
    volume = _two_cells()
    layer = viewer.add_labels(volume.copy(), name="nuclei", metadata={"axes": "ZYX"})
    widget = _correct(viewer, layer)
    assert widget.min_size_spin.suffix() == " voxels"
    slices = int(np.count_nonzero((volume == 10).any(axis=(1, 2))))
    assert slices > 1
    widget.selection_edit.setText("1, 10")
    widget.merge_button.click()
    count = int(np.count_nonzero(volume == 10))
    assert widget.status_label.text() == (  # (the two cells apart: said, s35 t19 #11)
        f"merge 1, 10 into 1 on 'nuclei': {count} voxels changed across {slices} slices; "
        "1 is now 2 pieces that do not touch, 12 voxels apart: Export writes them as one "
        "object (Undo keeps them apart)"
    )
    widget.undo_button.click()
    np.testing.assert_array_equal(layer.data, volume)


def test_an_image_edit_still_says_px(make_napari_viewer):
    viewer = make_napari_viewer()
    image = _two_cells()[3]
    layer = viewer.add_labels(image.copy(), name="nuclei 2d")
    widget = _correct(viewer, layer)
    assert widget.min_size_spin.suffix() == " px"
    widget.selection_edit.setText("10")
    widget.delete_button.click()
    count = int(np.count_nonzero(image == 10))
    assert widget.status_label.text() == f"delete 10 on 'nuclei 2d': {count} px changed"

"""Correct's "Labels on disk" box shows for labels on disk (and regions loaded from them)
only, as the README says: not, empty, on a panel opened with no labels layer (s35 f7's
screenshot showed it with its three buttons and nothing to act on), nor on labels in memory."""

from __future__ import annotations

import numpy as np

from tessella._widgets.correct import CorrectWidget


def test_no_labels_layer_no_labels_on_disk_box(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert isinstance(widget, CorrectWidget)
    assert widget.labels_layer is None
    assert not widget._region_box.isVisibleTo(widget)
    # labels in memory added later: still none; removed again: still none
    layer = viewer.add_labels(np.zeros((8, 8), np.uint8), name="in memory")
    assert widget.labels_layer is layer
    assert not widget._region_box.isVisibleTo(widget)
    viewer.layers.remove(layer)
    assert widget.labels_layer is None
    assert not widget._region_box.isVisibleTo(widget)

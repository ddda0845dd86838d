"""Correct's Undo and Redo are greyed out while the chosen layer has nothing to undo or redo,
following every change of its history (edits here, napari's brush and fill, Ctrl+Z, new
data, another layer chosen or removed); and a split whose new ID a uint8 layer cannot hold
widens the layer to int32 as one undoable step, its earlier history kept."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import QPointF
from qtpy.QtGui import QEnterEvent
from qtpy.QtWidgets import QApplication

from tessella.engine import edit
from tests.engine.test_edit import touching_pair
from tests.widgets.helpers import choose_text


@pytest.fixture
def correct(make_napari_viewer, nuclei_sample):
    """A viewer with real ground-truth labels "gt" (256x256) and Correct docked on them."""
    viewer = make_napari_viewer()
    layer = viewer.add_labels(nuclei_sample[1][:256, :256].copy(), name="gt")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert widget.labels_layer is layer
    return viewer, widget, layer


def enabled(widget) -> tuple[bool, bool]:
    """Whether (Undo, Redo) can be clicked."""
    return widget.undo_button.isEnabled(), widget.redo_button.isEnabled()


def test_undo_and_redo_follow_edits_here_and_on_the_canvas(correct):
    viewer, widget, layer = correct
    assert enabled(widget) == (False, False)  # a new layer: nothing to undo or redo
    assert widget.undo_button.toolTip().startswith("Nothing to undo on 'gt': ")
    assert widget.redo_button.toolTip().startswith("Nothing to redo on 'gt': ")

    widget.set_selection([int(layer.data.max())])
    widget.delete_button.click()
    assert enabled(widget) == (True, False)
    assert widget.undo_button.toolTip() == "Undo the last change to 'gt' (as Ctrl+Z on it)"
    widget.undo_button.click()
    assert enabled(widget) == (False, True)
    widget.redo_button.click()
    assert enabled(widget) == (True, False)

    # napari's own tools on the chosen layer: the same history
    other = viewer.add_labels(np.zeros((64, 64), np.int32), name="other")
    choose_text(widget.layer_combo, "other")
    assert enabled(widget) == (False, False)
    assert widget.undo_button.toolTip().startswith("Nothing to undo on 'other'")
    other.paint((10, 10), 5)  # a brush stroke
    assert enabled(widget) == (True, False)
    other.undo()  # Ctrl+Z on the canvas
    assert enabled(widget) == (False, True)
    other.fill((40, 40), 6)  # a fill: nothing left to redo
    assert enabled(widget) == (True, False)
    other.undo()
    assert enabled(widget) == (False, True)

    choose_text(widget.layer_combo, "gt")  # the deletion is still there to undo
    assert enabled(widget) == (True, False)
    other.paint((10, 10), 7)  # another layer's step greys out nothing here
    assert enabled(widget) == (True, False)


def test_undo_and_redo_follow_new_data_hidden_undo_and_removed_layers(correct):
    viewer, widget, layer = correct
    widget.set_selection([int(layer.data.max())])
    assert widget.delete()
    widget.undo()
    assert enabled(widget) == (False, True)
    layer.data = layer.data[::-1].copy()  # replaced: the history restarts
    assert enabled(widget) == (False, False)

    layer.paint((10, 10), 500)
    layer.visible = False
    layer.undo()  # Ctrl+Z on a hidden layer: napari announces nothing
    QApplication.sendEvent(widget, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    assert enabled(widget) == (False, True)  # seen once the pointer comes to the panel

    viewer.add_labels(np.zeros((64, 64), np.int32), name="other")
    viewer.layers.remove(layer)  # the panel moves to "other", with nothing to undo
    assert widget.labels_layer is viewer.layers["other"]
    assert enabled(widget) == (False, False)
    viewer.layers.clear()
    assert enabled(widget) == (False, False)
    assert widget.undo_button.toolTip() == "Add or choose a labels layer first"


def test_a_split_past_255_widens_a_uint8_layer_in_one_undoable_step(correct):
    """A layer converted to uint8 whose largest ID is 255: Split by watershed gives the new
    piece ID 256, the layer becoming int32 as Tune widens it (it was refused: "label 256
    does not fit in uint8"); one Undo brings back the labels before the split, and the
    earlier edits stay in the history."""
    viewer, widget, _layer = correct
    labels = viewer.layers["gt"].data
    a, b = touching_pair(labels)
    merged = labels.copy()
    edit.merge(labels, [a, b]).apply(merged)
    narrow = np.where(merged == a, 255, merged).astype(np.uint8)
    assert narrow.max() == 255 and np.unique(narrow).size == np.unique(merged).size
    layer = viewer.add_labels(narrow.copy(), name="narrow")
    choose_text(widget.layer_combo, "narrow")
    ids, sizes = np.unique(narrow[(narrow > 0) & (narrow < 255)], return_counts=True)
    small = int(ids[np.argmin(sizes)])
    widget.set_selection([small])
    assert widget.delete()  # an earlier step of the history
    deleted = layer.data.copy()

    widget.set_selection([255])
    widget.split_seeds_button.click()

    text = widget.status_label.text()
    assert layer.data.dtype == np.int32, text
    assert set(np.unique(layer.data[narrow == 255]).tolist()) == {255, 256}  # none wrapped to 0
    assert np.array_equal(layer.data[narrow != 255], deleted[narrow != 255])
    assert text.endswith(
        "IDs up to 256 do not fit in uint8, so the layer is now int32 "
        "(Undo brings back the labels, not the type)"
    )
    split = layer.data.copy()
    widget.undo_button.click()
    assert np.array_equal(layer.data, deleted) and layer.data.dtype == np.int32
    widget.undo_button.click()
    assert np.array_equal(layer.data, narrow)
    assert enabled(widget) == (False, True)
    widget.redo_button.click()
    widget.redo_button.click()
    assert np.array_equal(layer.data, split)

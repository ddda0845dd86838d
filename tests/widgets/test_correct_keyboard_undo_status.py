"""Correct's status line follows an undo or redo made on the labels layer itself (napari's
Ctrl+Z / Shift+Ctrl+Z, ``layer.undo()``), as its own Undo and Redo buttons do: after Ctrl+Z
of a delete it went on saying "delete ...: N px changed", as if the edit still stood (user
test s29/t1 P13)."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

from tessella._widgets.correct import CorrectWidget


@pytest.fixture
def correct(make_napari_viewer, nuclei_sample):
    viewer = make_napari_viewer(show=True)
    layer = viewer.add_labels(nuclei_sample[1].copy(), name="gt")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert isinstance(widget, CorrectWidget) and widget.labels_layer is layer
    viewer.layers.selection.active = layer
    return viewer, widget, layer


def _keys(qtbot, viewer, modifiers) -> None:
    """Press Z with ``modifiers`` on the canvas, as a user does (napari's labels keymap)."""
    canvas = viewer.window._qt_viewer.canvas.native
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key_Z, modifiers)


def test_ctrl_z_on_the_layer_says_what_it_undid(correct, qtbot):
    viewer, widget, layer = correct
    before = layer.data.copy()
    widget.selection_edit.setText("9-11")
    assert widget.delete()
    deleted = layer.data.copy()
    assert widget.status_label.text().startswith("delete 9, 10, 11")

    _keys(qtbot, viewer, Qt.ControlModifier)
    np.testing.assert_array_equal(layer.data, before)  # the key undid it
    assert widget.status_label.text() == "Undid (Ctrl+Z on the layer): delete 9, 10, 11 on 'gt'"
    assert widget.redo_button.isEnabled()

    _keys(qtbot, viewer, Qt.ControlModifier | Qt.ShiftModifier)
    np.testing.assert_array_equal(layer.data, deleted)
    assert widget.status_label.text() == (
        "Redid (Shift+Ctrl+Z on the layer): delete 9, 10, 11 on 'gt'"
    )

    # the panel's own Undo says it once, in its own words
    widget.undo_button.click()
    assert widget.status_label.text() == "Undid: delete 9, 10, 11 on 'gt'"
    # a new edit after an undo (one step more to undo, none to redo) is no redo
    widget.set_selection([3, 4])
    assert widget.merge()
    assert not widget.status_label.text().startswith("Redid")
    merged_said = widget.status_label.text()
    assert "merge 3, 4" in merged_said


def test_undo_on_a_hidden_layer_is_said_when_the_pointer_comes(correct, qtbot):
    viewer, widget, layer = correct
    widget.set_selection([3, 4])
    assert widget.merge()
    layer.visible = False
    layer.undo()  # a hidden layer redraws nothing: napari announces no undo
    assert "merge 3, 4" in widget.status_label.text() and "Undid" not in widget.status_label.text()
    widget._show_history()  # (what enterEvent does when the pointer comes to the panel)
    assert widget.status_label.text() == "Undid (Ctrl+Z on the layer): merge 3, 4 into 3 on 'gt'"

"""Correct reads napari's undo history through private names (napari has no public way to
count the steps left or see the next one). Where a napari keeps it another way, the panel
degrades, in a real viewer: Undo and Redo stay enabled and work (napari's own ``undo()`` and
``redo()``), say that they cannot tell what they undid, never claim an edit came back, and a
step that no longer fits the data is refused by napari's error, caught."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _correct_edits
from tessella._widgets.correct import CorrectWidget


@pytest.fixture
def unreadable(make_napari_viewer, nuclei_sample, monkeypatch):
    """A viewer and the Correct panel, as in a napari whose history has other names."""
    monkeypatch.setattr(
        _correct_edits,
        "_HISTORY_NAMES",
        {"undo": "_undo_steps_elsewhere", "redo": "_redo_steps_elsewhere"},
        raising=False,  # (the code before this test read the names inline)
    )
    viewer = make_napari_viewer()
    layer = viewer.add_labels(nuclei_sample[1].copy(), name="gt")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert isinstance(widget, CorrectWidget) and widget.labels_layer is layer
    return viewer, widget, layer


def test_undo_and_redo_work_and_say_they_cannot_tell(unreadable):
    _viewer, widget, layer = unreadable
    before = layer.data.copy()
    assert _correct_edits._history_length(layer, "undo") is None
    # not greyed out: this napari does not say whether there is a step, and the tooltip says so
    assert widget.undo_button.isEnabled() and widget.redo_button.isEnabled()
    assert widget.undo_button.toolTip() == (
        "Undo the last change to 'gt' (as Ctrl+Z on it); this napari does not tell whether "
        "there is one"
    )

    widget.undo_button.click()  # nothing to undo: nothing changes, and no edit is claimed
    np.testing.assert_array_equal(layer.data, before)
    assert widget.status_label.text() == (
        "Undo sent to 'gt': this napari does not let Tessella read its undo history, so it "
        "cannot say what, if anything, was undone"
    )

    widget.selection_edit.setText("3-5")
    assert widget.delete()
    deleted = layer.data.copy()
    widget.undo_button.click()
    np.testing.assert_array_equal(layer.data, before)
    assert widget.status_label.text().startswith("Undo sent to 'gt': ")
    widget.redo_button.click()
    np.testing.assert_array_equal(layer.data, deleted)
    assert widget.status_label.text().endswith("cannot say what, if anything, was redone")
    assert widget.undo_button.isEnabled() and widget.redo_button.isEnabled()


def test_a_step_that_no_longer_fits_is_refused_and_the_panel_goes_on(unreadable):
    _viewer, widget, layer = unreadable
    with layer.block_history():  # one step: outside the crop below
        layer.data_setitem((np.array([200]), np.array([200])), 901)
    with layer.events.data.blocker():  # replaced where Tessella did not see it
        layer.data = layer.data[:100, :100].copy()
    cropped = layer.data.copy()

    widget.undo_button.click()  # not checked before (unreadable): napari's IndexError, caught
    assert widget.status_label.text().startswith(
        "Cannot undo on 'gt': napari could not replay that edit ("
    )
    assert widget.status_label.text().endswith("undo history cleared, check the labels")
    np.testing.assert_array_equal(layer.data, cropped)

    kept = int(cropped[cropped > 0][0])
    widget.set_selection([kept])
    assert widget.delete()  # editing goes on
    widget.undo_button.click()
    np.testing.assert_array_equal(layer.data, cropped)

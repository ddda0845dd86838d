"""Correct's Undo and Redo say what they undid or redid, in a real viewer: the panel's own
edits by their description (and frame, on a time-lapse), any other step (napari's brush or
fill, Ctrl+Z mixed in) generically."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets.correct import CorrectWidget

OTHER = (
    "a change made outside this panel (napari's brush, fill or eraser, a polygon, or a Tune update)"
)


@pytest.fixture
def correct(make_napari_viewer, nuclei_sample):
    viewer = make_napari_viewer()
    layer = viewer.add_labels(nuclei_sample[1].copy(), name="gt")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert isinstance(widget, CorrectWidget) and widget.labels_layer is layer
    return viewer, widget, layer


def test_undo_and_redo_say_which_edit(correct):
    _viewer, widget, layer = correct
    before = layer.data.copy()
    widget.set_selection([3, 4])
    assert widget.merge()
    merged = layer.data.copy()
    widget.selection_edit.setText("9-11")
    assert widget.delete()
    deleted = layer.data.copy()
    # napari's own fill (as the fill bucket does), then its brush, on top of them
    y, x = np.argwhere(layer.data == 20)[0]
    layer.fill((y, x), 300)
    filled = layer.data.copy()
    layer.paint((5, 5), 301)
    assert not np.array_equal(layer.data, filled)

    widget.undo_button.click()
    assert widget.status_label.text() == f"Undid: {OTHER} on 'gt'"
    np.testing.assert_array_equal(layer.data, filled)
    layer.undo()  # Ctrl+Z on the layer: the fill, and the panel follows
    np.testing.assert_array_equal(layer.data, deleted)
    widget.undo_button.click()
    assert widget.status_label.text() == "Undid: delete 9, 10, 11 on 'gt'"
    np.testing.assert_array_equal(layer.data, merged)
    widget.undo_button.click()
    assert widget.status_label.text() == "Undid: merge 3, 4 into 3 on 'gt'"
    np.testing.assert_array_equal(layer.data, before)

    widget.redo_button.click()
    assert widget.status_label.text() == "Redid: merge 3, 4 into 3 on 'gt'"
    np.testing.assert_array_equal(layer.data, merged)
    widget.redo_button.click()
    assert widget.status_label.text() == "Redid: delete 9, 10, 11 on 'gt'"
    widget.redo_button.click()
    assert widget.status_label.text() == f"Redid: {OTHER} on 'gt'"
    np.testing.assert_array_equal(layer.data, filled)

    # a new edit after the redo: the panel's words again, not a stale record
    widget.set_selection([5])
    assert widget.delete()
    widget.undo_button.click()
    assert widget.status_label.text() == "Undid: delete 5 on 'gt'"
    np.testing.assert_array_equal(layer.data, filled)


def test_undo_names_the_frame_of_a_movie_edit(make_napari_viewer):
    viewer = make_napari_viewer()
    labels = np.zeros((4, 32, 32), np.int32)
    labels[:, 4:10, 4:10] = 3
    labels[:, 4:10, 11:17] = 4
    labels[:, 20:26, 20:26] = 7
    layer = viewer.add_labels(labels.copy(), name="movie", metadata={"axes": "TYX"})
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    viewer.dims.set_current_step(0, 2)
    widget.set_selection([4, 3])
    assert widget.merge()
    assert widget.status_label.text().startswith("merge 4, 3 into 4 on 'movie' in frame 2:")
    widget.all_frames_checkbox.setChecked(True)
    widget.set_selection([7])
    assert widget.delete()

    widget.undo_button.click()
    assert widget.status_label.text() == "Undid: delete 7 on 'movie' in all 4 frames"
    widget.undo_button.click()
    assert widget.status_label.text() == "Undid: merge 4, 3 into 4 on 'movie' in frame 2"
    np.testing.assert_array_equal(layer.data, labels)
    widget.redo_button.click()
    assert widget.status_label.text() == "Redid: merge 4, 3 into 4 on 'movie' in frame 2"
    assert not (layer.data[2] == 3).any() and (layer.data[1] == 3).any()

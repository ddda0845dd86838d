"""Correct's *Split along lines* with several lines drawn: one edit, one Undo step, one
status line naming every new label and all the pixels changed (s35 t21, finding 3: two lines
gave two edits, the status named the last one only, and the first Undo left a piece)."""

from __future__ import annotations

import numpy as np

from tessella._widgets.correct import LINES_LAYER


def _widest(labels: np.ndarray) -> int:
    """The object of ``labels`` that spans the most columns."""
    spans = {
        int(k): np.ptp(np.nonzero(labels == k)[1]) for k in np.unique(labels[labels > 0]).tolist()
    }
    return max(spans, key=spans.get)


def test_two_lines_split_into_three_in_one_undo_step(make_napari_viewer, nuclei_sample):
    viewer = make_napari_viewer()
    truth = nuclei_sample[1].astype(np.int32)
    label = _widest(truth)
    layer = viewer.add_labels(truth.copy(), name="nuclei")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    rows, cols = np.nonzero(truth == label)
    widget.selection_edit.setText(str(label))
    widget.draw_line_button.click()
    shapes = viewer.layers[LINES_LAYER]
    for x in np.percentile(cols, [33, 67]).round().astype(int).tolist():
        shapes.add_lines(np.array([[rows.min() - 2, x], [rows.max() + 2, x]]))
    assert widget.split_along_lines(), widget.status_label.text()
    said = widget.status_label.text()
    after = np.asarray(layer.data)
    pieces = np.unique(after[truth == label]).tolist()
    top = int(truth.max())
    assert pieces == [label, top + 1, top + 2]  # three pieces, the middle one not lost
    changed = int(np.count_nonzero(after != truth))
    assert f"split {label} into 3 by 2 lines (new: {top + 1}, {top + 2})" in said, said
    assert f"{changed} px changed" in said, said
    assert not len(shapes.data)  # the lines are used up
    widget.undo_button.click()  # one Undo: the object whole again (was: a piece left)
    np.testing.assert_array_equal(layer.data, truth)
    widget.redo_button.click()
    np.testing.assert_array_equal(layer.data, after)


def test_a_line_that_cuts_nothing_is_named_and_the_others_split(make_napari_viewer, nuclei_sample):
    viewer = make_napari_viewer()
    truth = nuclei_sample[1].astype(np.int32)
    label = _widest(truth)
    layer = viewer.add_labels(truth.copy(), name="nuclei")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    rows, cols = np.nonzero(truth == label)
    widget.selection_edit.setText(str(label))
    widget.draw_line_button.click()
    shapes = viewer.layers[LINES_LAYER]
    x = int(np.median(cols))
    shapes.add_lines(np.array([[rows.min() - 2, x], [rows.max() + 2, x]]))
    shapes.add_lines(np.array([[rows.min() - 2, cols.max() + 5], [rows.max() + 2, cols.max() + 5]]))
    assert widget.split_along_lines(), widget.status_label.text()
    said = widget.status_label.text()
    assert f"split {label} into 2 by line (new: {int(truth.max()) + 1})" in said, said
    assert "line 2 left out" in said, said
    widget.undo_button.click()
    np.testing.assert_array_equal(layer.data, truth)

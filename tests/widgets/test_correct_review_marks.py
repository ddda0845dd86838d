"""Correct's review shows which object is meant: *Next suspicious* zooms to a small object
(user test s30/t3: a 34-pixel nucleus stayed 5 screen pixels wide) and the selected objects,
typed, picked or stepped to, are marked with rectangles in a layer of their own, the labels
and their undo history untouched."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import ndimage as ndi

from tessella._widgets._correct_edits import _history_length
from tessella._widgets._correct_review import MARK_LAYER, ZOOM_MIN_PIXELS, ZOOM_SHARE

SCALE = (0.5, 0.25)  # non-unit pixel size: the canvas and the data coordinates differ


def _marked_boxes(marks) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.min(r, axis=0), np.max(r, axis=0)) for r in marks.data]


def test_next_suspicious_zooms_to_the_object_and_marks_it(make_napari_viewer, nuclei_sample):
    viewer = make_napari_viewer()
    labels = nuclei_sample[1].copy()
    labels[200:204, 300:305] = 600  # a 20-pixel speck
    layer = viewer.add_labels(labels, name="nuclei labels", scale=SCALE)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    viewer.layers.selection.active = layer
    layer.paint((5, 5), 601)  # a stroke of the user's: the history holds it
    data, steps = layer.data.copy(), _history_length(layer, "undo")
    camera = viewer.scene.camera
    zoom_before = camera.zoom
    side = min(viewer.canvas.size)
    assert 5 * SCALE[1] * zoom_before < ZOOM_SHARE * side / 2  # small on screen

    suspect = widget.step_suspicious()
    while suspect.label != 600:
        suspect = widget.step_suspicious()
    # an eighth of the canvas, the speck (4 rows of 0.5, 5 columns of 0.25) taken as
    # ZOOM_MIN_PIXELS columns wide: 5 px to 40 px on screen on an 800x600 canvas
    across = ZOOM_MIN_PIXELS * SCALE[1]
    assert camera.zoom * across == np.float64(ZOOM_SHARE * side)
    assert 5 * SCALE[1] * camera.zoom > 8 * 5 * SCALE[1] * zoom_before
    marks = viewer.layers[MARK_LAYER]
    ((low, high),) = _marked_boxes(marks)
    assert np.all(low <= [199.5, 299.5]) and np.all(high >= [203.5, 304.5])
    assert np.all(high - low <= [4 + 5, 5 + 5])  # around it, not far off
    assert np.allclose(marks.scale, layer.scale)
    # the labels, their history and the layer painted on are as they were
    np.testing.assert_array_equal(layer.data, data)
    assert _history_length(layer, "undo") == steps
    assert viewer.layers.selection.active is layer

    # an object already large on screen keeps the zoom
    big = int(np.argmax(np.bincount(labels[labels < 600].ravel())[1:])) + 1
    rows, cols = ndi.find_objects((labels == big).astype(np.uint8))[0]
    across = max((rows.stop - rows.start) * SCALE[0], (cols.stop - cols.start) * SCALE[1])
    camera.zoom = 0.5 * side / across
    zoomed = camera.zoom
    centre = ndi.center_of_mass(labels == big)
    widget._suspects = [replace(suspect, label=big, reason="large", centroid=centre)]
    widget._suspects_key = (layer.unique_id, widget._suspects_key[1])
    widget._suspect_index = -1
    widget.step_suspicious()
    assert camera.zoom == zoomed

    # picked or typed objects are marked; an empty selection clears the marks
    a, b = (int(v) for v in np.unique(labels)[1:3])
    widget.set_selection([a, b])
    assert len(marks.data) == 2
    for (low, high), label in zip(_marked_boxes(marks), (a, b)):
        rows, cols = ndi.find_objects((labels == label).astype(np.uint8))[0]
        assert low[0] <= rows.start - 0.5 and high[0] >= rows.stop - 0.5
        assert low[1] <= cols.start - 0.5 and high[1] >= cols.stop - 0.5
    # after a merge the merged object is selected and marked whole; after Undo, as it was
    boxes = _marked_boxes(marks)
    assert widget.merge()
    ((low, high),) = _marked_boxes(marks)
    assert np.allclose(low, np.minimum(boxes[0][0], boxes[1][0]))
    assert np.allclose(high, np.maximum(boxes[0][1], boxes[1][1]))
    widget.undo_button.click()
    ((low, high),) = _marked_boxes(marks)
    assert np.allclose(low, boxes[0][0]) and np.allclose(high, boxes[0][1])
    widget.delete()  # (clears the selection)
    assert len(marks.data) == 0

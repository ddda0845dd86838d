"""Correct's Merge with 'All frames (whole track)' ticked on a time-lapse (TYX, real viewer):
the cracks between the merged cells close in every frame they share, the first and last
included, and no frame takes pixels from its neighbours."""

from __future__ import annotations

import numpy as np

from tessella._widgets.correct import CorrectWidget
from tessella.engine import edit


def _movie() -> np.ndarray:
    """Three frames: cells 2 and 3 side by side across a one-pixel crack (column 16) in
    frames 0 and 2; in frame 1 cell 2 alone (cell 3 missed there)."""
    labels = np.zeros((3, 40, 40), np.int32)
    for t in range(3):
        labels[t, 20:28, 10:16] = 2
        if t != 1:
            labels[t, 20:28, 17:23] = 3
    return labels


def test_merge_of_whole_tracks_closes_each_frames_crack_from_that_frame_alone(
    make_napari_viewer,
):
    viewer = make_napari_viewer()
    before = _movie()
    layer = viewer.add_labels(before.copy(), name="movie labels", metadata={"axes": "TYX"})
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert isinstance(widget, CorrectWidget)
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    viewer.dims.set_current_step(0, 1)
    widget.all_frames_checkbox.setChecked(True)
    widget.set_selection([3, 2])
    widget.merge_button.click()
    after = layer.data
    for t in (0, 2):  # as the frame merged alone, into 3
        assert (after[t, 21:27, 16] == 3).all(), f"crack of frame {t} left open"
        expected = before[t].copy()
        edit.merge(before[t], [2, 3]).apply(expected)
        expected[expected == 2] = 3
        np.testing.assert_array_equal(after[t], expected)
    expected = before[1].copy()
    expected[expected == 2] = 3  # frame 1 only renamed: nothing filled where 3 lies elsewhere
    np.testing.assert_array_equal(after[1], expected)
    assert widget.status_label.text().startswith("merge 3, 2 into 3 on 'movie labels' in all 3")

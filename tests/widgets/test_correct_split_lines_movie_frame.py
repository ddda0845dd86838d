"""Correct's *Split along lines* with several lines in one frame of a long time-lapse works on
that frame (r13 #9: the lines were combined over a copy of the whole movie, compared with it
pixel by pixel and sorted whole, several times the movie's size for a cut in one frame of
it), on SIM+ 01's ground-truth tracks (65 frames of 690 x 628): the same edit as before, one
Undo step, new IDs after the whole movie's."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import tifffile

from tessella._widgets.correct import LINES_LAYER

FRAME = 30


@pytest.fixture(scope="module")
def tracks_movie(data_dir) -> np.ndarray:
    tra = data_dir / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "TRA"
    if not tra.is_dir():
        pytest.skip("SIM+ 01_GT/TRA not in the shared data")
    return np.stack([tifffile.imread(path) for path in sorted(tra.glob("man_track*.tif"))])


def test_two_lines_in_one_frame_of_a_movie_work_on_that_frame(make_napari_viewer, tracks_movie):
    truth = tracks_movie
    assert truth.shape == (65, 690, 628)
    viewer = make_napari_viewer()
    layer = viewer.add_labels(truth.copy(), name="01 tracks", metadata={"axes": "TYX"})
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    frame = truth[FRAME]
    label = int(np.argmax(np.bincount(frame.ravel())[1:]) + 1)  # the frame's largest cell
    rows, cols = np.nonzero(frame == label)
    widget.selection_edit.setText(str(label))
    widget.draw_line_button.click()
    shapes = viewer.layers[LINES_LAYER]
    for x in np.percentile(cols, [33, 67]).round().astype(int).tolist():
        shapes.add_lines(np.array([[FRAME, rows.min() - 2, x], [FRAME, rows.max() + 2, x]]))
    tracemalloc.start()
    try:
        assert widget.split_along_lines(), widget.status_label.text()
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    said = widget.status_label.text()
    after = np.asarray(layer.data)
    top = int(truth.max())  # (the movie's: frame 30 alone holds fewer IDs)
    assert int(frame.max()) < top
    assert f"split {label} into 3 by 2 lines (new: {top + 1}, {top + 2})" in said, said
    changed = after != truth
    assert changed.any() and not np.delete(changed, FRAME, axis=0).any()  # that frame only
    assert f"{int(np.count_nonzero(changed)):,} px changed" in said, said
    assert np.unique(after[FRAME][frame == label]).tolist() == [label, top + 1, top + 2]
    # the frame's work (about 39 MB, most of it the split's own on a 690 x 628 frame), not
    # the movie's: it was 122 MB, twice the movie's 56 MB
    assert peak < truth.nbytes, f"{peak / 1e6:.1f} MB at peak"
    widget.undo_button.click()  # one Undo: the movie as it was
    np.testing.assert_array_equal(layer.data, truth)

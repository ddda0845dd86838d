"""Correct on a time-lapse (TYX) in a real viewer: Merge, Delete and Split by watershed act
in the frame on screen unless 'All frames (whole track)' is ticked, and say where."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _results
from tessella._widgets.correct import CorrectWidget
from tessella.engine import edit

FRAMES, SHOWN = 4, 2


def _movie() -> np.ndarray:
    """Four frames: cell 1 drifts right; cells 2 and 3 lie side by side, a one-pixel crack
    between them (a cell cut in two); cell 4 stays put."""
    labels = np.zeros((FRAMES, 48, 48), np.int32)
    for t in range(FRAMES):
        labels[t, 4:10, 4 + t : 10 + t] = 1  # 36 px a frame
        labels[t, 20:28, 10:16] = 2
        labels[t, 20:28, 17:23] = 3
        labels[t, 36:42, 30:36] = 4
    return labels


@pytest.fixture
def movie(make_napari_viewer):
    """A viewer showing frame 2 of the movie labels (time scaled: the frame on screen is
    taken in the labels' own frames), their Tracks layer, and the docked Correct panel."""
    viewer = make_napari_viewer()
    labels = _movie()
    layer = viewer.add_labels(
        labels.copy(), name="movie labels", scale=(2.0, 0.5, 0.5), metadata={"axes": "TYX"}
    )
    tracks = _results.show_tracks(viewer, layer, labels, {}, linked=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert isinstance(widget, CorrectWidget)
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    viewer.dims.set_current_step(0, SHOWN)
    return viewer, widget, layer, tracks


def _frames_of(tracks, label: int) -> set[int]:
    rows = tracks.data[tracks.data[:, 0].astype(int) == label]
    return set(np.round(rows[:, 1]).astype(int).tolist())


def test_the_all_frames_box_is_shown_for_movies_only(movie):
    viewer, widget, _layer, _tracks = movie
    assert not widget.all_frames_checkbox.isHidden()
    assert not widget.all_frames_checkbox.isChecked()  # the frame on screen by default
    assert "frame on screen" in widget.delete_button.toolTip()
    single = viewer.add_labels(_movie()[0], name="one image")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(single.unique_id))
    assert widget.all_frames_checkbox.isHidden()


def test_delete_acts_in_the_frame_on_screen_unless_all_frames_is_ticked(movie):
    _viewer, widget, layer, tracks = movie
    before = layer.data.copy()
    widget.set_selection([1])
    widget.delete_button.click()
    expected = before.copy()
    expected[SHOWN][expected[SHOWN] == 1] = 0
    np.testing.assert_array_equal(layer.data, expected)  # the other frames keep cell 1
    assert widget.status_label.text() == (  # (cell 1 is in the frames before and after)
        f"delete 1 on 'movie labels' in frame {SHOWN}: 36 px changed; track 1 now skips "
        f"frame {SHOWN}: a CTC export splits it in two there"
    )
    assert _frames_of(tracks, 1) == set(range(FRAMES)) - {SHOWN}  # the track follows
    widget.undo_button.click()
    np.testing.assert_array_equal(layer.data, before)
    assert _frames_of(tracks, 1) == set(range(FRAMES))

    widget.all_frames_checkbox.setChecked(True)
    assert "every frame" in widget.delete_button.toolTip()
    widget.set_selection([1])
    widget.delete_button.click()
    assert 1 not in layer.data and _frames_of(tracks, 1) == set()
    assert widget.status_label.text() == (
        f"delete 1 on 'movie labels' in all {FRAMES} frames: {36 * FRAMES} px changed"
    )
    widget.undo_button.click()
    np.testing.assert_array_equal(layer.data, before)


def test_merge_in_one_frame_keeps_the_first_selected_track_and_no_other_cells_id(movie):
    _viewer, widget, layer, _tracks = movie
    before = layer.data.copy()
    widget.set_selection([3, 2])  # 3 first: the merged cell goes on as track 3
    widget.merge_button.click()
    expected = before[SHOWN].copy()  # as the engine merges one image, into 3 instead of 2
    edit.merge(before[SHOWN], [2, 3]).apply(expected)
    expected[expected == 2] = 3
    after = layer.data
    np.testing.assert_array_equal(after[SHOWN], expected)
    assert (after[SHOWN, 21:27, 16] == 3).all()  # the crack closed
    others = [t for t in range(FRAMES) if t != SHOWN]
    np.testing.assert_array_equal(after[others], before[others])  # still two cells there
    assert widget.selected_ids() == [3]
    changed = int((expected != before[SHOWN]).sum())
    assert widget.status_label.text() == (
        f"merge 3, 2 into 3 on 'movie labels' in frame {SHOWN}: {changed} px changed; "
        f"track 2 now skips frame {SHOWN}: a CTC export splits it in two there"
    )
    widget.undo_button.click()
    np.testing.assert_array_equal(layer.data, before)

    widget.all_frames_checkbox.setChecked(True)
    widget.set_selection([3, 2])
    widget.merge_button.click()
    assert 2 not in layer.data and all((layer.data[t] == 3).sum() >= 96 for t in range(FRAMES))
    assert widget.status_label.text().startswith(
        f"merge 3, 2 into 3 on 'movie labels' in all {FRAMES} frames: "
    )
    widget.undo_button.click()
    np.testing.assert_array_equal(layer.data, before)


def test_a_cell_absent_from_the_frame_on_screen_is_refused_with_the_way_out(movie):
    _viewer, widget, layer, _tracks = movie
    gone = _movie()
    gone[SHOWN][gone[SHOWN] == 4] = 0  # cell 4 left the frame on screen
    layer.data = gone
    widget.set_selection([4])
    assert not widget.delete()
    assert widget.status_label.text() == (
        f"Delete on layer 'movie labels' in frame {SHOWN}: no object with label 4 "
        "(tick 'All frames (whole track)' to act on the whole track)"
    )
    np.testing.assert_array_equal(layer.data, gone)


def test_split_by_watershed_on_a_movie_splits_the_frame_on_screen(movie):
    """Cell 2 has two lobes in every frame; cell 5 is in frame 0 only: the piece split off in
    the frame on screen takes an ID after the movie's largest, not the frame's."""
    _viewer, widget, layer, _tracks = movie
    lobes = _movie()
    lobes[:, 20:28, 10:23] = 0
    lobes[:, 20:28, 6:14] = 2
    lobes[:, 20:28, 19:27] = 2
    lobes[:, 23:25, 14:19] = 2
    lobes[0, 40:44, 4:8] = 5
    layer.data = lobes
    widget.set_selection([2])
    assert widget.split_watershed()
    after = np.asarray(layer.data)
    others = [t for t in range(FRAMES) if t != SHOWN]
    np.testing.assert_array_equal(after[others], lobes[others])
    assert set(np.unique(after[SHOWN]).tolist()) == {0, 1, 2, 4, 6}
    assert widget.status_label.text().startswith(
        f"split 2 into 2 by watershed (new: 6) on 'movie labels' in frame {SHOWN}: "
    )
    widget.undo_button.click()
    np.testing.assert_array_equal(layer.data, lobes)


def test_split_by_watershed_of_whole_tracks_is_refused_saying_why(movie):
    """Ticked, Split by watershed ran one watershed over T, Y and X (a track of two touching
    cells that move had no two peaks: refused as unsplittable, though each frame splits);
    now it says it splits one frame at a time, and changes nothing."""
    _viewer, widget, layer, _tracks = movie
    before = layer.data.copy()
    widget.all_frames_checkbox.setChecked(True)
    widget.set_selection([2])
    assert not widget.split_watershed()
    np.testing.assert_array_equal(layer.data, before)
    assert widget.status_label.text().startswith(
        "Split by watershed on 'movie labels' splits one frame at a time"
    )
    widget.all_frames_checkbox.setChecked(False)
    widget.set_selection([2])
    assert widget.split_watershed()  # the frame on screen: split

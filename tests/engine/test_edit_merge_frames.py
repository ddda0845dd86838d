"""A merge of time-lapse labels closes the cracks between its objects frame by frame: in the
first and last frames too, and never from another frame's pixels (T is not a third spatial
axis); a volume's cracks are closed in 3D as before."""

from __future__ import annotations

import numpy as np

from tessella.engine import edit

CRACK = (slice(12, 18), 10)  # rows 12..17 of the crack column: those a closing fills


def _movie() -> np.ndarray:
    """Three frames of 24 x 24: cells 1 and 2 side by side across a one-pixel crack (column
    10) in frames 0 and 2; in frame 1 cell 1 alone (cell 2 missed by the segmentation)."""
    labels = np.zeros((3, 24, 24), np.uint16)
    for t in range(3):
        labels[t, 11:19, 4:10] = 1
        if t != 1:
            labels[t, 11:19, 11:17] = 2
    return labels


def test_a_movie_merge_closes_the_crack_in_its_first_and_last_frames():
    movie = _movie()
    merged = movie.copy()
    edit.merge(movie, [1, 2], axes="TYX").apply(merged)
    for t in (0, 2):
        assert (merged[t][CRACK] == 1).all(), f"crack of frame {t} left open"
        # as the same frame merged alone, as one image
        alone = movie[t].copy()
        edit.merge(movie[t], [1, 2]).apply(alone)
        np.testing.assert_array_equal(merged[t], alone)


def test_a_movie_merge_fills_no_pixel_of_a_frame_from_its_neighbours():
    movie = _movie()
    merged = movie.copy()
    edit.merge(movie, [1, 2], axes="TYX").apply(merged)
    # frame 1 (cell 1 alone) keeps its background where cell 2 lies in frames 0 and 2
    np.testing.assert_array_equal(merged[1], movie[1])
    filled = (merged != movie) & (movie == 0)
    assert set(np.nonzero(filled)[0].tolist()) == {0, 2}


def test_tzyx_frames_are_merged_as_volumes_and_a_volume_in_3d_as_before():
    movie = _movie()
    tzyx = np.stack([movie] * 3, axis=1)  # three Z slices a frame
    merged = tzyx.copy()
    edit.merge(tzyx, [1, 2], axes="TZYX").apply(merged)
    for t in (0, 2):  # each frame as the volume it is, merged alone
        assert (merged[t, 1][CRACK] == 1).all(), f"crack of frame {t} left open"
        alone = tzyx[t].copy()
        edit.merge(tzyx[t], [1, 2], axes="ZYX").apply(alone)
        np.testing.assert_array_equal(merged[t], alone)
    np.testing.assert_array_equal(merged[1], tzyx[1])
    # a ZYX volume: closed over Z too: in slice 1 (object 1 alone, object 2 above and below
    # it) the crack column between them is filled; object 2's missing slice is its own gap,
    # not a crack between the two, and stays background (user test s33/t11 #6)
    volume = movie.copy()
    change = edit.merge(volume, [1, 2], axes="ZYX")
    np.testing.assert_array_equal(
        np.stack(change.indices), np.stack(edit.merge(volume, [1, 2]).indices)
    )
    change.apply(volume)
    assert (volume[1][CRACK] == 1).all()
    assert (volume[1, 12:18, 12:16] == 0).all()


def test_a_crack_running_to_the_image_edge_is_closed_there_too():
    """Two objects side by side with a one-pixel crack between them from the top edge to the
    bottom edge: the merge closes the crack in every row, the edge rows included (outside the
    image was taken as background, so the closing left the crack open in the first and last
    rows)."""
    labels = np.zeros((10, 12), np.int32)
    labels[:, 2:6], labels[:, 7:11] = 1, 2
    merged = labels.copy()
    done = edit.merge(labels, [1, 2])
    merged[done.indices] = done.values
    assert (merged[:, 2:11] == 1).all() and not merged[:, :2].any() and not merged[:, 11].any()

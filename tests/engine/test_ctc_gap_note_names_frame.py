"""The CTC export's note of a track split at a gap names the frame as napari's slider shows
it, with its file's number where the movie's frames are numbered (a folder t052.tif ...):
"track 2 is missing from frame 2 (t054)"; it said "frame 54", a number the slider never
shows (helper f17's list, session 31)."""

from __future__ import annotations

import numpy as np

from tessella.engine.tracking._ctc import ctc_tracks


def _movie() -> np.ndarray:
    """Four frames; cell 2 is absent from the third (index 2), cell 1 in all."""
    labels = np.zeros((4, 12, 12), np.uint16)
    labels[:, 1:4, 1:4] = 1
    labels[:, 6:9, 6:9] = 2
    labels[2][labels[2] == 2] = 0
    return labels


def test_a_gap_is_named_by_the_sliders_index_and_the_files_number():
    [note] = ctc_tracks(_movie(), {}, frame_numbers=[52, 53, 54, 55]).notes()
    assert "track 2 is missing from frame 2 (t054)):" in note, note


def test_a_gap_in_a_movie_numbered_from_0_is_its_index():
    [note] = ctc_tracks(_movie(), {}).notes()
    assert "track 2 is missing from frame 2):" in note, note


def test_frames_missing_from_the_input_are_named_by_their_file_number():
    movie = _movie()[[0, 1, 3]]
    movie[movie == 1] = 0  # (cell 1 would skip t054 too: the note's example is cell 2)
    movie[1][movie[1] == 2] = 0  # gone from 53 and the input lacks 54: missing from both
    [note] = ctc_tracks(movie, {}, frame_numbers=[52, 53, 55]).notes()
    assert "track 2 is missing from frames 1 (t053), t054):" in note, note

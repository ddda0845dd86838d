"""The engine's :func:`~tessella.engine.edit.split_lines` (several split lines as one edit,
in the lines' frame of a time-lapse: r13 #9 moved it out of Correct's widget, which combined
the lines over a copy of the whole movie) and :func:`~tessella.engine.edit.pieces_apart`
(a merged object's pieces that do not touch, and the gap between them), on SIM+ 01's
ground-truth tracks (65 frames of 690 x 628) and the shipped nuclei labels."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from tessella.engine import edit

FRAME = 30


@pytest.fixture(scope="module")
def movie(data_dir) -> np.ndarray:
    tra = data_dir / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "TRA"
    if not tra.is_dir():
        pytest.skip("SIM+ 01_GT/TRA not in the shared data")
    return np.stack([tifffile.imread(path) for path in sorted(tra.glob("man_track*.tif"))])


def _largest(labels: np.ndarray) -> int:
    return int(np.argmax(np.bincount(labels.ravel())[1:]) + 1)


def _lines(frame: np.ndarray, label: int, at: list[float], t: int | None) -> list[np.ndarray]:
    """Lines down the columns at percentiles ``at`` of object ``label`` of ``frame``."""
    rows, cols = np.nonzero(frame == label)
    first = () if t is None else (t,)
    return [
        np.array([[*first, rows.min() - 2, x], [*first, rows.max() + 2, x]], float)
        for x in np.percentile(cols, at).round()
    ]


def test_lines_in_one_frame_split_it_alone_with_new_ids_after_the_movie(movie):
    frame = movie[FRAME]
    label = _largest(frame)
    top = int(movie.max()) + 5  # (e.g. a lineage naming IDs past the labels')
    tracemalloc.start()
    try:
        change = edit.split_lines(
            movie, label, _lines(frame, label, [25, 50, 75], FRAME), (1, 2), after=top
        )
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the frame's work (20 MB, the splits' own on one 690 x 628 frame), not the movie's: it
    # was 113 MB, twice the movie's 56 MB
    assert peak < movie.nbytes / 2, f"{peak / 1e6:.1f} MB at peak"
    new = f"{top + 1}, {top + 2}, {top + 3}"
    assert change.description == f"split {label} into 4 by 3 lines (new: {new})"
    assert (change.indices[0] == FRAME).all()
    after = movie.copy()
    change.apply(after)
    # the same pieces as the lines cut in that frame alone, as one image
    alone = frame.copy()
    edit.split_lines(frame, label, _lines(frame, label, [25, 50, 75], None)).apply(alone)
    np.testing.assert_array_equal(after[FRAME] == label, alone == label)
    for moved, piece in zip(
        range(top + 1, top + 4), range(int(frame.max()) + 1, int(frame.max()) + 4)
    ):
        np.testing.assert_array_equal(after[FRAME] == moved, alone == piece)


def test_lines_in_two_frames_split_each_as_the_lines_say(movie):
    """Lines in different frames (a caller other than Correct, which splits frame by frame)
    are cut over the whole movie, as one edit."""
    label = _largest(movie[FRAME])
    lines = [
        *_lines(movie[FRAME], label, [50], FRAME),
        *_lines(movie[FRAME + 1], label, [50], FRAME + 1),
    ]
    change = edit.split_lines(movie, label, lines, (1, 2))
    top = int(movie.max())
    assert change.description == f"split {label} into 3 by 2 lines (new: {top + 1}, {top + 2})"
    assert set(np.unique(change.indices[0]).tolist()) == {FRAME, FRAME + 1}


def test_a_line_that_cuts_nothing_is_named_none_raises_the_first_error(movie):
    frame = movie[FRAME]
    label = _largest(frame)
    cols = np.nonzero(frame == label)[1]
    missing = np.array([[FRAME, 0, cols.max() + 40], [FRAME, 5, cols.max() + 40]], float)
    change = edit.split_lines(movie, label, [*_lines(frame, label, [50], FRAME), missing], (1, 2))
    assert change.description.startswith(f"split {label} into 2 by line")
    assert "; line 2 left out: " in change.description
    with pytest.raises(ValueError, match="does not cut"):
        edit.split_lines(movie, label, [missing, missing], (1, 2))


def _apart_pair(labels: np.ndarray) -> tuple[int, int, float]:
    """Two objects that do not touch: the first and the nearest more than 3 px away, the gap
    between their nearest pixels."""
    first = int(np.unique(labels[labels > 0])[0])
    near = ndi.distance_transform_edt(labels != first)
    gap, second = min(
        (float(near[labels == k].min()), k)
        for k in np.unique(labels[labels > 0]).tolist()
        if k != first and near[labels == k].min() > 3
    )
    return first, int(second), gap


def test_pieces_apart_counts_the_pieces_and_measures_the_gap(nuclei_sample):
    labels = nuclei_sample[1].astype(np.int32)
    first, second, gap = _apart_pair(labels)
    change = edit.merge(labels, [first, second])
    assert edit.pieces_apart(labels, [first, second], change) == [edit.Apart(None, 2, gap)]
    # a time-lapse: the frame merged in alone; all frames: each frame where both are
    movie = np.stack([labels, np.where(labels == second, 0, labels), labels])
    in_frame = edit.merge(movie[2], [first, second])
    placed = edit.Edit(
        (np.full(in_frame.size, 2), *in_frame.indices), in_frame.values, in_frame.description
    )
    assert edit.pieces_apart(movie, [first, second], placed, 0, 2) == [edit.Apart(2, 2, gap)]
    whole = edit.merge(movie, [first, second], axes="TYX")
    found = edit.pieces_apart(movie, [first, second], whole, 0)
    assert found == [edit.Apart(0, 2, gap), edit.Apart(2, 2, gap)]  # (frame 1: one piece)
    # touching objects: one piece, nothing said
    right = (labels[:, :-1] != labels[:, 1:]) & (labels[:, :-1] > 0) & (labels[:, 1:] > 0)
    y, x = np.argwhere(right)[0]
    pair = [int(labels[y, x]), int(labels[y, x + 1])]
    assert edit.pieces_apart(labels, pair, edit.merge(labels, pair)) == []

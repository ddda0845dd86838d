"""The engine's hand edits of a lineage (tessella.engine.tracking._lineage_edits): set a
track's parent (refused while the mother has not ended when the daughter begins, naming the
frame to break her at), break a track at a frame, swap two tracks from a frame on; written to
CTC, they give the res_track.txt a biologist expects (user test s33/t12 #6)."""

from __future__ import annotations

import numpy as np
import pytest

from tessella.engine.tracking import ctc_tracks
from tessella.engine.tracking._lineage_edits import (
    break_track,
    set_parent,
    swap_tracks,
    track_spans,
)


def _division() -> np.ndarray:
    """Six frames of 30 x 40: a mother 1 in frames 0-2 that the linker carried on as 1 into
    one daughter (frames 3-5, left), the other daughter 2 (frames 3-5, right), and a
    bystander 3 throughout."""
    labels = np.zeros((6, 30, 40), np.uint16)
    labels[:3, 10:20, 12:28] = 1
    labels[3:, 10:20, 8:18] = 1
    labels[3:, 10:20, 22:32] = 2
    labels[:, 24:28, 2:6] = 3
    return labels


def _res(labels, lineage) -> dict[int, tuple[int, int, int]]:
    return {k.id: (k.start, k.end, k.parent) for k in ctc_tracks(labels, lineage).tracks}


def test_track_spans():
    assert track_spans(_division()) == {1: (0, 5), 2: (3, 5), 3: (0, 5)}
    assert track_spans(_division(), [2]) == {2: (3, 5)}


def test_set_parent_refuses_an_overlapping_mother_and_names_the_frame_to_break_her():
    labels = _division()
    with pytest.raises(ValueError, match=r"Break track 1 at frame 3 first"):
        set_parent(labels, {}, 2, 1)
    with pytest.raises(ValueError, match="does not begin before"):
        set_parent(labels, {}, 1, 2)
    with pytest.raises(ValueError, match="its own parent"):
        set_parent(labels, {}, 2, 2)
    with pytest.raises(ValueError, match="no track 9"):
        set_parent(labels, {}, 2, 9)


def test_break_then_set_parents_gives_the_division_in_ctc():
    labels = _division()
    edit, new, lineage = break_track(labels, {}, 1, 3)
    assert new == 4 and lineage == {}
    edit.apply(labels)
    assert track_spans(labels) == {1: (0, 2), 2: (3, 5), 3: (0, 5), 4: (3, 5)}
    lineage = set_parent(labels, lineage, 4, 1)
    lineage = set_parent(labels, lineage, 2, 1)
    assert _res(labels, lineage) == {1: (0, 2, 0), 2: (3, 5, 1), 3: (0, 5, 0), 4: (3, 5, 1)}
    assert set_parent(labels, lineage, 2, 0) == {4: 1}  # parent 0: none


def test_break_moves_the_daughters_to_the_new_track_and_refuses_a_first_frame():
    labels = _division()
    edit, new, lineage = break_track(labels, {5: 1, 2: 3}, 1, 2)
    assert lineage == {5: new, 2: 3}
    with pytest.raises(ValueError, match="begins in frame 3"):
        break_track(labels, {}, 2, 3)
    with pytest.raises(ValueError, match="not in frame 1"):
        break_track(labels, {}, 2, 1)


def test_swap_from_a_frame_exchanges_two_tracks_and_moves_daughters_with_the_end():
    labels = np.zeros((5, 20, 20), np.int32)
    labels[:4, 2:6, 2:6] = 1  # a mother, frames 0-3
    labels[:, 10:14, 10:14] = 2
    labels[4, 2:5, 14:17] = 7  # her daughter, frame 4
    truth = labels.copy()
    # the linker exchanged 1 and 2 from frame 2 on: its 2 ends at frame 3, 7's mother
    mixed = labels.copy()
    later = mixed[2:]
    a, b = later == 1, later == 2
    later[a], later[b] = 2, 1
    assert track_spans(mixed, [1, 2]) == {1: (0, 4), 2: (0, 3)}
    edit, lineage = swap_tracks(mixed, {7: 2}, 1, 2, 2)
    edit.apply(mixed)
    np.testing.assert_array_equal(mixed, truth)
    assert lineage == {7: 1}  # the end 7 divided from is track 1's again
    assert _res(mixed, lineage)[7] == (4, 4, 1)
    # b ended before the frame: a simply continues b from there on
    relink = np.zeros((4, 10, 10), np.int32)
    relink[:2, :3, :3] = 5
    relink[:, 5:8, 5:8] = 6
    edit, lineage = swap_tracks(relink, {5: 9}, 6, 5, 2)
    edit.apply(relink)
    assert track_spans(relink) == {5: (0, 3), 6: (0, 1)}
    assert lineage == {5: 9}


def test_a_tzyx_movie():
    labels = np.zeros((4, 3, 10, 10), np.uint16)
    labels[:, 1, 2:6, 2:6] = 1
    edit, new, _lineage = break_track(labels, {}, 1, 2)
    edit.apply(labels)
    assert track_spans(labels) == {1: (0, 1), new: (2, 3)}

"""Correct's lineage edits against the divisions the lineage keeps for objects deleted for now
(r10 #2) and against a swap that would carry a mother past her division (r10 #3), on the
Cell Tracking Challenge's own tracks: SIM+ 01 ground truth, frames 8-13, where track 24 ends
in frame 10 by dividing into 35 and 36 (the highest ID there), and 29, 30 run through.

Before: Break track gave the broken-off track labels.max() + 1, the ID of a daughter just
deleted, whose lineage entry (kept for an undo) made it a daughter of 24 in res_track.txt,
a division that does not exist; Swap from here let track 30 continue 24 after 24 had divided,
a mother overlapping her daughters that Set parent refuses."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.engine.tracking import ctc_tracks, read_ctc_tracks
from tessella.engine.tracking._lineage_edits import (
    break_track,
    set_parent,
    swap_tracks,
    track_spans,
)

FIRST = 8  # the window's first frame in the sequence


@pytest.fixture(scope="module")
def sim(data_dir):
    """(labels of frames 8-13, their lineage from man_track.txt): tracks present there."""
    tra = data_dir / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "TRA"
    labels = np.stack([tifffile.imread(tra / f"man_track{t:03d}.tif") for t in range(8, 14)])
    present = set(np.unique(labels).tolist()) - {0}
    lineage = {
        k.id: k.parent
        for k in read_ctc_tracks(tra / "man_track.txt")
        if k.parent and k.id in present
    }
    return labels, lineage


def _rows(labels, lineage) -> dict[int, tuple[int, int, int]]:
    return {k.id: (k.start, k.end, k.parent) for k in ctc_tracks(labels, lineage).tracks}


def test_the_window(sim):
    labels, lineage = sim
    assert int(labels.max()) == 36 and lineage[35] == 24 and lineage[36] == 24
    spans = track_spans(labels, [24, 29, 30, 35, 36])
    assert spans == {24: (0, 2), 29: (0, 5), 30: (0, 5), 35: (3, 5), 36: (3, 5)}


def test_break_after_deleting_the_highest_daughter_gives_no_stale_parent(sim):
    labels, lineage = sim[0].copy(), dict(sim[1])
    labels[labels == 36] = 0  # daughter 36 deleted in all frames: her entry stays (undo)
    assert int(labels.max()) == 35
    edit, new_id, after = break_track(labels, lineage, 29, 4)  # (frame 12 of the sequence)
    assert new_id == 37  # (before: 36, the deleted daughter's)
    assert after.get(new_id) is None and after[36] == 24  # (kept for the undo of the delete)
    edit.apply(labels)
    rows = _rows(labels, after)
    assert rows[29] == (0, 3, 0) and rows[37] == (4, 5, 0)  # (before: 36 4 5 24)
    assert rows[35] == (3, 5, 24) and 36 not in rows
    # the division 37 <- 29 by hand is then the user's, as the status line says
    assert set_parent(labels, after, 37, 29)[37] == 29


def test_free_id_is_above_every_id_the_lineage_names():
    from tessella.engine.tracking._lineage_edits import free_id

    labels = np.zeros((2, 4, 4), np.uint8)
    labels[0, 0, 0] = 3
    assert free_id(labels, {}) == 4 and free_id(labels, None) == 4
    assert free_id(labels, {9: 1}) == 10 and free_id(labels, {2: 12}) == 13
    assert free_id(np.zeros((0, 4), np.uint8), {}) == 1


def test_swap_refuses_to_carry_a_mother_past_her_division(sim):
    labels, lineage = sim
    with pytest.raises(ValueError) as refused:
        swap_tracks(labels, lineage, 30, 24, 4)
    said = str(refused.value)
    assert said.startswith(
        "track 24 ended at a division in frame 2: its daughters 35 and 36 begin in frame 3. "
        "Track 30 cannot continue it from frame 4 to frame 5"
    )
    assert "Set parent" in said
    # named frames as the panel names them (the sequence's numbers)
    with pytest.raises(ValueError, match="in frame 10: .* from frame 12 to frame 13"):
        swap_tracks(labels, lineage, 30, 24, 4, frame_name=lambda t: f"frame {t + FIRST}")
    # the way out it names: remove the division, then the swap goes through, valid
    freed = set_parent(labels, set_parent(labels, lineage, 35, 0), 36, 0)
    edit, after = swap_tracks(labels, freed, 30, 24, 4)
    out = labels.copy()
    edit.apply(out)
    spans = track_spans(out, [24, 30])
    assert spans == {24: (0, 5), 30: (0, 3)} and 35 not in after and 36 not in after


def test_swap_still_relinks_where_the_daughters_begin_after_the_continued_track(sim):
    """Only a swap that overlaps the daughters is refused: the other daughters' mother (24)
    continued by a track that ends before they begin is a valid lineage."""
    labels, lineage = sim[0].copy(), dict(sim[1])
    later = labels[3:].copy()  # daughters moved two frames later (a gap): 24 ends in 2,
    labels[3:] = 0  # 35 and 36 begin in 5
    labels[5] = later[0]
    labels[labels == 30] = 0
    labels[2:4][sim[0][2:4] == 30] = 30  # track 30 only in frames 2-3
    edit, after = swap_tracks(labels, lineage, 30, 24, 3)
    out = labels.copy()
    edit.apply(out)
    spans = track_spans(out, [24, 35, 36])
    assert spans[24] == (0, 3) and spans[35][0] == 5 and after[35] == after[36] == 24


def test_swap_refuses_to_start_a_daughter_before_her_mother_ends(sim):
    """Track 30 carried on as daughter 35 from frame 2 (t010), where her mother 24 still is:
    the swap would make 35 begin before 24 ends. Before, it went through."""
    labels, lineage = sim
    with pytest.raises(ValueError) as refused:
        swap_tracks(labels, lineage, 30, 35, 2)
    assert str(refused.value).startswith(
        "after this swap track 24 (frame 0 to frame 2) would not end before its daughter 35 "
        "begins (frame 2 to frame 5)"
    )
    # one frame later, where 35 is, the swap is the linker's exchange: fine, 24 still hers
    edit, after = swap_tracks(labels, lineage, 30, 35, 3)
    out = labels.copy()
    edit.apply(out)
    assert after[35] == 24 and track_spans(out, [24, 35]) == {24: (0, 2), 35: (3, 5)}

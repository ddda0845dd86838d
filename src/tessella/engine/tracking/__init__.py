"""Linking instances across frames into tracks, napari Tracks data and the Cell Tracking
Challenge (CTC) format.

:func:`link` relabels a TYX label stack so that one cell keeps one ID through the movie:

1. Each frame's objects are matched one-to-one to the previous frame's by IoU (Hungarian,
   pairs with IoU >= ``min_iou``).
2. Objects left over on both sides are matched by centroid distance (Hungarian, at most
   ``max_distance`` pixels): fast movers that no longer overlap.
3. Division (``divisions``): an object still unmatched whose centroid lies within
   ``max_distance`` of a previous object that was matched in step 1 or 2 is its sister. As in
   the CTC convention, the mother's track ends and both daughters start new tracks with the
   mother as parent.
4. Anything left starts a new track (appearance); previous objects left end theirs
   (disappearance). An ID is never reused, so every track is continuous in time.

The lineage is a dict ``{child track: parent track}``.
"""

from __future__ import annotations

from ._ctc import (
    CTC_MAX_ID,
    CtcTracks,
    ctc_tracks,
    fit_ctc_tracks,
    read_ctc_tracks,
    write_ctc,
)
from ._evaluate import evaluate_ctc, link_accuracy
from ._gaps import split_at_gaps
from ._link import FrameObjects, carry_ids, frame_objects, frame_overlaps, link, link_objects
from ._tracks import Track, frame_track_rows, napari_tracks, track_table, tracks_graph

__all__ = [
    "FrameObjects",
    "Track",
    "frame_objects",
    "frame_overlaps",
    "link",
    "carry_ids",
    "link_objects",
    "split_at_gaps",
    "CtcTracks",
    "CTC_MAX_ID",
    "ctc_tracks",
    "fit_ctc_tracks",
    "track_table",
    "napari_tracks",
    "frame_track_rows",
    "tracks_graph",
    "write_ctc",
    "read_ctc_tracks",
    "link_accuracy",
    "evaluate_ctc",
]

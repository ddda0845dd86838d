"""Tables of tracks: their spans and parents, napari Tracks data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._link import frame_objects

__all__ = ["Track", "track_table", "napari_tracks", "frame_track_rows", "tracks_graph"]


@dataclass(frozen=True)
class Track:
    id: int
    start: int  # first frame
    end: int  # last frame (inclusive)
    parent: int  # 0: none


def track_table(tracked: np.ndarray, lineage: dict[int, int] | None = None) -> list[Track]:
    """Each track's first and last frame and parent, sorted by ID."""
    lineage = lineage or {}
    spans: dict[int, list[int]] = {}
    for t in range(tracked.shape[0]):
        for track in np.unique(tracked[t]):
            if track:
                span = spans.setdefault(int(track), [t, t])
                span[1] = t
    return [Track(i, s, e, int(lineage.get(i, 0))) for i, (s, e) in sorted(spans.items())]


def napari_tracks(tracked: np.ndarray, lineage: dict[int, int] | None = None):
    """``(data, graph)`` for a napari Tracks layer: rows ``(track, t, y, x)`` at each object's
    centroid, and ``{child: [parent]}``."""
    rows = [frame_track_rows(tracked[t], t) for t in range(tracked.shape[0])]
    data = np.concatenate(rows) if rows else np.zeros((0, tracked.ndim + 1))
    return data, tracks_graph(data, lineage)


def frame_track_rows(frame: np.ndarray, t: int) -> np.ndarray:
    """Rows ``(track, t, y, x)`` of one frame's objects, at their centroids. IDs far above
    the frame's pixel count (a label of 2**31) are numbered 1..K first (their order kept):
    :func:`frame_objects` sizes its sums by the largest ID (32 GiB for 2**31); the same rows.

    >>> frame_track_rows(np.array([[0, 2**31], [5, 2**31]], np.int64), 3).tolist()
    [[5.0, 3.0, 1.0, 0.0], [2147483648.0, 3.0, 0.5, 1.0]]
    """
    frame = np.asarray(frame)
    ids = None
    if frame.size and frame.dtype.kind in "iu" and int(frame.max()) > frame.size + 1024:
        flat = np.flatnonzero(frame)
        ids, inverse = np.unique(frame.ravel()[flat], return_inverse=True)
        compact = np.zeros(frame.shape, np.int64)
        compact.ravel()[flat] = inverse.ravel() + 1  # (the same pixels, in the same order)
        frame = compact
    objects = frame_objects(frame)  # (its IDs sorted, as np.unique gives them)
    rows = np.empty((objects.ids.size, 2 + frame.ndim), np.float64)
    rows[:, 0] = objects.ids if ids is None else ids[objects.ids - 1]
    rows[:, 1] = t
    rows[:, 2:] = objects.centres
    return rows


def tracks_graph(data: np.ndarray, lineage: dict[int, int] | None) -> dict[int, list[int]]:
    """napari's ``{child: [parent]}`` for the divisions whose two ends are in ``data``."""
    present = set(data[:, 0].astype(int).tolist())
    return {int(c): [int(p)] for c, p in (lineage or {}).items() if c in present and p in present}

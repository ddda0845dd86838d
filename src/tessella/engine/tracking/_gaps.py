"""Tracks that skip frames, cut into continuous pieces."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["split_at_gaps"]


def _gap_pieces(present: dict[int, list[int]], lineage: dict[int, int], next_id: int):
    """Each track of ``present`` (``{track: its frames, sorted}``) cut at its gaps:
    ``(pieces, lineage)`` with ``pieces[track]`` its ``(first, last, id)`` runs of frames in
    order (the first keeps ``track``, each later one a new ID from ``next_id`` on, whose
    parent is the piece before it), and daughters that start after a gap re-parented to the
    piece they follow. A division whose mother or daughter is in no frame is no division of
    these labels: it is left out (else a new piece could take the absent mother's ID)."""
    lineage = {c: p for c, p in lineage.items() if c in present and p in present}
    pieces: dict[int, list[tuple[int, int, int]]] = {}
    for track, frames in sorted(present.items()):
        runs = [[frames[0], frames[0]]]
        for before, t in zip(frames, frames[1:]):
            if t > before + 1:  # a gap: what follows is a new track, continuing this one
                runs.append([t, t])
            else:
                runs[-1][1] = t
        pieces[track] = [(runs[0][0], runs[0][1], track)]
        for first, last in runs[1:]:
            new, next_id = next_id, next_id + 1
            lineage[new] = pieces[track][-1][2]
            pieces[track].append((first, last, new))
    for child, parent in list(lineage.items()):  # a daughter follows the piece before her
        if parent in pieces and child in present and len(pieces[parent]) > 1:
            earlier = [i for first, _last, i in pieces[parent] if first < present[child][0]]
            if earlier:  # (none: a daughter older than her mother, left for the caller)
                lineage[child] = earlier[-1]
    return pieces, lineage


def _track_frames(frames: Iterable[np.ndarray]) -> dict[int, list[int]]:
    """``{track: the frames it is in}`` of a stack given frame by frame."""
    present: dict[int, list[int]] = {}
    for t, frame in enumerate(frames):
        for track in np.unique(frame[frame != 0]).tolist():
            present.setdefault(int(track), []).append(t)
    return present


def split_at_gaps(tracked: np.ndarray, lineage: dict[int, int] | None = None):
    """``(tracked, lineage)`` with every track that skips frames (a blank frame cleared after
    linking, a cell erased from one frame) split into continuous pieces: each piece after a
    gap gets a new ID whose parent is the piece before it (how the Cell Tracking Challenge
    writes a gap), and daughters that start after a gap descend from the piece they follow.

    >>> movie = np.array([[[1]], [[0]], [[1]]])
    >>> split, lineage = split_at_gaps(movie)
    >>> split.ravel().tolist(), lineage
    ([1, 0, 2], {2: 1})
    """
    tracked = np.array(tracked, copy=True)
    present = _track_frames(tracked)
    next_id = int(tracked.max(initial=0)) + 1
    pieces, lineage = _gap_pieces(present, dict(lineage or {}), next_id)
    for track, runs in pieces.items():
        for first, last, new in runs[1:]:
            for t in range(first, last + 1):
                tracked[t][tracked[t] == track] = new
    return tracked, lineage

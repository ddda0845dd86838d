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

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

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
    "ctc_tracks",
    "track_table",
    "napari_tracks",
    "write_ctc",
    "read_ctc_tracks",
    "link_accuracy",
    "evaluate_ctc",
]


@dataclass(frozen=True)
class Track:
    id: int
    start: int  # first frame
    end: int  # last frame (inclusive)
    parent: int  # 0: none


@dataclass(frozen=True)
class FrameObjects:
    """What linking needs of one frame's objects: sorted IDs, pixel counts and centroids
    ``(n, ndim)``. From a label image (:func:`frame_objects`) or summed over the blocks of a
    frame too big for memory."""

    ids: np.ndarray
    areas: np.ndarray
    centres: np.ndarray


def frame_objects(frame: np.ndarray) -> FrameObjects:
    """The objects of one label image (0 = background)."""
    flat = np.asarray(frame).ravel()
    counts = np.bincount(flat)
    ids = np.flatnonzero(counts)
    ids = ids[ids != 0]
    coords = np.indices(frame.shape).reshape(frame.ndim, -1)
    sums = np.stack([np.bincount(flat, weights=c, minlength=counts.size) for c in coords], 1)
    return FrameObjects(ids, counts[ids].astype(np.float64), sums[ids] / counts[ids, None])


def frame_overlaps(previous: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """``(k, 3)`` rows (previous ID, current ID, shared pixels) for every overlapping pair."""
    from .metrics import _contingency

    a_ids, b_ids, _, _, rows, cols, counts = _contingency(previous, frame)
    return np.column_stack([a_ids[rows], b_ids[cols], counts]).astype(np.int64)


def carry_ids(previous: np.ndarray, frame: np.ndarray, next_id: int) -> np.ndarray:
    """``frame`` relabelled so that each object overlapping one of ``previous`` (the same
    frame before, e.g. of a linked movie) with IoU above 0.5 keeps that object's ID, and the
    others get new IDs from ``next_id`` on: a frame redone on its own keeps its tracks.

    >>> carry_ids(np.array([[7, 7, 0, 9]]), np.array([[1, 1, 0, 2]]), 10).tolist()
    [[7, 7, 0, 9]]
    >>> carry_ids(np.array([[7, 7, 0, 0]]), np.array([[1, 0, 0, 2]]), 10).tolist()
    [[10, 0, 0, 11]]
    """
    overlaps = frame_overlaps(previous, frame)
    before = np.bincount(np.asarray(previous).ravel())
    after = np.bincount(np.asarray(frame).ravel())
    table = np.zeros(after.size, np.int64)
    for old, new, shared in overlaps:  # IoU above 0.5 pairs at most one with each
        if shared * 2 > before[old] + after[new] - shared:
            table[new] = old
    fresh = [i for i in np.flatnonzero(after) if i and not table[i]]
    table[fresh] = np.arange(next_id, next_id + len(fresh))
    return table[frame].astype(np.asarray(previous).dtype, copy=False)


def _hungarian(cost: np.ndarray, allowed: np.ndarray) -> list[tuple[int, int]]:
    """Minimum-cost one-to-one pairs among ``allowed`` entries of ``cost``."""
    if not allowed.any():
        return []
    big = float(cost[allowed].max()) * 2 + 1e6
    rows, cols = linear_sum_assignment(np.where(allowed, cost, big))
    return [(int(r), int(c)) for r, c in zip(rows, cols) if allowed[r, c]]


def _sparse_hungarian(rows, cols, cost, n_rows: int, n_cols: int) -> list[tuple[int, int]]:
    """:func:`_hungarian` over the allowed pairs ``(rows[k], cols[k])`` only, solved per
    connected group of pairs: the same assignment (ties aside) without an n x m matrix, so
    that frames with tens of thousands of objects link in memory proportional to the pairs."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    if rows.size == 0:
        return []
    graph = sparse.coo_matrix(
        (np.ones(rows.size), (rows, n_rows + cols)), shape=(n_rows + n_cols,) * 2
    )
    group = connected_components(graph, directed=False)[1][rows]
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    found = []
    for members in np.split(order, bounds):
        if members.size == 1:  # one pair alone: it is matched
            found.append((int(rows[members[0]]), int(cols[members[0]])))
            continue
        r_ids, r = np.unique(rows[members], return_inverse=True)
        c_ids, c = np.unique(cols[members], return_inverse=True)
        dense = np.zeros((r_ids.size, c_ids.size))
        allowed = np.zeros(dense.shape, bool)
        dense[r, c], allowed[r, c] = cost[members], True
        found.extend((int(r_ids[i]), int(c_ids[j])) for i, j in _hungarian(dense, allowed))
    return sorted(found)  # by row, as linear_sum_assignment gives them


def _near_pairs(a: np.ndarray, b: np.ndarray, max_distance: float):
    """Index pairs (i, j) and distances where ``|a[i] - b[j]| <= max_distance``."""
    from scipy.spatial import cKDTree

    if not len(a) or not len(b):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    table = cKDTree(a).sparse_distance_matrix(cKDTree(b), max_distance, output_type="ndarray")
    return table["i"].astype(np.int64), table["j"].astype(np.int64), table["v"]


def _link_pair(prev: FrameObjects, cur: FrameObjects, overlaps, min_iou, max_distance,
               divisions):  # fmt: skip
    """Steps 1-3 between two frames: ``(matched_cur {c: r}, matched_prev {r: c}, sisters
    {c: r})`` by index into ``prev`` / ``cur``."""
    matched_prev: dict[int, int] = {}
    matched_cur: dict[int, int] = {}
    if len(overlaps):
        r = np.searchsorted(prev.ids, overlaps[:, 0])
        c = np.searchsorted(cur.ids, overlaps[:, 1])
        shared = overlaps[:, 2].astype(np.float64)
        iou = shared / (prev.areas[r] + cur.areas[c] - shared)
        ok = iou >= max(min_iou, 1e-9)
        for i, j in _sparse_hungarian(r[ok], c[ok], 1 - iou[ok], prev.ids.size, cur.ids.size):
            matched_prev[i], matched_cur[j] = j, i
    free_prev = np.array([i for i in range(prev.ids.size) if i not in matched_prev], np.int64)
    free_cur = np.array([j for j in range(cur.ids.size) if j not in matched_cur], np.int64)
    if free_prev.size and free_cur.size:
        i, j, d = _near_pairs(prev.centres[free_prev], cur.centres[free_cur], max_distance)
        for a, b in _sparse_hungarian(i, j, d, free_prev.size, free_cur.size):
            matched_prev[int(free_prev[a])] = int(free_cur[b])
            matched_cur[int(free_cur[b])] = int(free_prev[a])
    sisters: dict[int, int] = {}  # unmatched current -> previous mother
    if divisions:
        free_cur = np.array([j for j in range(cur.ids.size) if j not in matched_cur], np.int64)
        mothers = np.array(sorted(matched_prev), np.int64)
        if free_cur.size and mothers.size:
            i, j, d = _near_pairs(prev.centres[mothers], cur.centres[free_cur], max_distance)
            for a, b in _sparse_hungarian(i, j, d, mothers.size, free_cur.size):
                sisters[int(free_cur[b])] = int(mothers[a])
    return matched_cur, matched_prev, sisters


def link_objects(
    frames, overlaps, min_iou: float = 0.2, max_distance: float = 40.0, divisions: bool = True
) -> tuple[list[np.ndarray], dict[int, int]]:
    """Track IDs from per-frame object statistics: ``frames`` yields :class:`FrameObjects`,
    ``overlaps`` yields, for each frame after the first, :func:`frame_overlaps` with the frame
    before. Returns the track ID of each frame's objects (aligned with its ``ids``) and the
    lineage. :func:`link` is this on a label stack."""
    lineage: dict[int, int] = {}
    tracks = []
    next_id = 1
    previous: FrameObjects | None = None
    prev_tracks = np.zeros(0, np.int64)
    overlaps = iter(overlaps)
    for cur in frames:
        assigned = np.zeros(cur.ids.size, np.int64)
        if previous is not None:
            pairs = next(overlaps)
            if cur.ids.size and previous.ids.size:
                matched_cur, matched_prev, sisters = _link_pair(
                    previous, cur, pairs, min_iou, max_distance, divisions
                )
                divided = set(sisters.values())
                for c, r in matched_cur.items():
                    if r not in divided:
                        assigned[c] = prev_tracks[r]
                for c, r in sisters.items():
                    for daughter in (c, matched_prev[r]):
                        assigned[daughter] = next_id
                        lineage[next_id] = int(prev_tracks[r])
                        next_id += 1
        for unmatched in np.flatnonzero(assigned == 0):
            assigned[unmatched] = next_id
            next_id += 1
        tracks.append(assigned)
        previous, prev_tracks = cur, assigned
    return tracks, lineage


def link(
    labels: np.ndarray,
    min_iou: float = 0.2,
    max_distance: float = 40.0,
    divisions: bool = True,
) -> tuple[np.ndarray, dict[int, int]]:
    """Relabel the TYX stack ``labels`` with track IDs; returns ``(tracked, lineage)``.

    See the module docstring for the rules. ``max_distance`` is in pixels.
    """
    labels = np.asarray(labels)
    if labels.ndim < 3:
        raise ValueError(f"linking needs a time axis first (TYX), got shape {labels.shape}")
    objects = [frame_objects(frame) for frame in labels]
    overlaps = (frame_overlaps(labels[t - 1], labels[t]) for t in range(1, len(labels)))
    tracks, lineage = link_objects(objects, overlaps, min_iou, max_distance, divisions)
    tracked = np.zeros(labels.shape, np.int32)
    for t, (found, assigned) in enumerate(zip(objects, tracks)):
        lookup = np.zeros(int(found.ids.max()) + 1 if found.ids.size else 1, np.int32)
        lookup[found.ids] = assigned
        tracked[t] = lookup[labels[t]]
    return tracked, lineage


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


#: the largest track ID a CTC mask (uint16) holds
CTC_MAX_ID = int(np.iinfo(np.uint16).max)


@dataclass(frozen=True)
class CtcTracks:
    """What :func:`write_ctc` writes for a tracked movie: the ``res_track.txt`` rows, the
    IDs renamed in each frame (the pieces of tracks split at gaps), the tracks split (``{track:
    frames it is missing from}``) and the divisions dropped (parent rows as given)."""

    n_frames: int
    tracks: list[Track]
    renames: dict[int, dict[int, int]]  # frame -> {ID in the labels: ID written}
    split: dict[int, list[int]]
    dropped: list[Track]

    def frame(self, t: int, frame: np.ndarray) -> np.ndarray:
        """Frame ``t`` of the labels as its ``maskTTT.tif`` holds it (uint16)."""
        frame = np.asarray(frame)
        mask = frame.astype(np.uint16)
        for old, new in self.renames.get(t, {}).items():
            mask[frame == old] = new
        return mask

    def notes(self) -> list[str]:
        """What the CTC files differ in from the labels, one line each (none: the same)."""
        notes = []
        if self.split:
            track, missing = next(iter(self.split.items()))
            shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
            pieces = len({new for names in self.renames.values() for new in names.values()})
            notes.append(
                f"{len(self.split)} track(s) skip frames (e.g. track {track} is missing from "
                f"frame {shown}): split at each gap as CTC requires, into {pieces} new "
                "track(s) whose parent is the piece before the gap"
            )
        if self.dropped:
            notes.append(
                f"{len(self.dropped)} division(s) dropped whose parent track does not end "
                f"before its daughter begins (e.g. track {self.dropped[0].id}, parent "
                f"{self.dropped[0].parent}): the lineage does not fit these labels"
            )
        return notes


def _ctc_plan(present: dict[int, list[int]], lineage, n_frames: int) -> CtcTracks:
    """:class:`CtcTracks` of a movie whose tracks are in ``present`` (:func:`_track_frames`)."""
    top = max(present, default=0)
    if top > CTC_MAX_ID:
        raise ValueError(
            f"CTC masks are uint16: track {top} is over {CTC_MAX_ID} (relabel the tracks 1..N)"
        )
    pieces, lineage = _gap_pieces(present, dict(lineage or {}), top + 1)
    spans = {i: (first, last) for runs in pieces.values() for first, last, i in runs}
    if max(spans, default=0) > CTC_MAX_ID:
        raise ValueError(
            f"CTC masks are uint16: splitting the tracks that skip frames needs IDs up to "
            f"{max(spans)}, over {CTC_MAX_ID} (relabel the tracks 1..N)"
        )
    renames: dict[int, dict[int, int]] = {}
    split = {}
    for track, runs in pieces.items():
        for first, last, new in runs[1:]:
            for t in range(first, last + 1):
                renames.setdefault(t, {})[track] = new
        if len(runs) > 1:
            frames = set(present[track])
            split[track] = [t for t in range(runs[0][0], runs[-1][1]) if t not in frames]
    table = [
        Track(i, first, last, p if (p := int(lineage.get(i, 0))) in spans else 0)
        for i, (first, last) in sorted(spans.items())
    ]
    # a parent ends before its daughters begin: a link that does not (a lineage that does
    # not belong to these labels) is dropped, as CTC's checker would refuse the file
    dropped = [k for k in table if k.parent and spans[k.parent][1] >= k.start]
    bad = {k.id for k in dropped}
    table = [Track(k.id, k.start, k.end, 0) if k.id in bad else k for k in table]
    return CtcTracks(n_frames, table, renames, split, dropped)


def ctc_tracks(tracked, lineage: dict[int, int] | None = None) -> CtcTracks:
    """What :func:`write_ctc` would write for ``tracked`` (TYX or TZYX, read frame by frame)
    and ``lineage``, without writing: ValueError when it cannot be written (no time axis, a
    track ID over uint16), else the tracks, with those that skip frames split at the gaps."""
    shape = tuple(tracked.shape)
    if len(shape) < 3:
        raise ValueError(f"CTC export needs a TYX stack, got shape {shape}")
    present = _track_frames(np.asarray(tracked[t]) for t in range(shape[0]))
    return _ctc_plan(present, lineage, shape[0])


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
    """Rows ``(track, t, y, x)`` of one frame's objects, at their centroids."""
    ids = np.unique(frame)
    ids = ids[ids != 0]
    rows = [[int(track), t, *centre] for track, centre in zip(ids, frame_objects(frame).centres)]
    return np.asarray(rows, np.float64).reshape(-1, 2 + frame.ndim)


def tracks_graph(data: np.ndarray, lineage: dict[int, int] | None) -> dict[int, list[int]]:
    """napari's ``{child: [parent]}`` for the divisions whose two ends are in ``data``."""
    present = set(data[:, 0].astype(int).tolist())
    return {int(c): [int(p)] for c, p in (lineage or {}).items() if c in present and p in present}


def write_ctc(
    tracked,
    lineage: dict[int, int] | None,
    directory,
    overwrite: bool = False,
    tracks: CtcTracks | None = None,
):
    """Write ``maskTTT.tif`` (uint16) per frame and ``res_track.txt`` into ``directory``.

    ``tracked`` is a TYX array or anything indexable by frame with a ``shape`` (a zarr
    array: frames are read one at a time, so a movie bigger than memory exports too).
    A track that skips frames (a cell erased from a frame, a blank frame) is split at each
    gap as the format requires: the piece after a gap is a new track whose parent is the
    piece before; a UserWarning says so, and one says which divisions were dropped that do
    not fit the labels. ``tracks``: :func:`ctc_tracks` of these labels, already computed.
    Atomic: the files are written to a temporary folder next to ``directory`` and moved in
    place only when all succeeded; existing files are kept unless ``overwrite``.
    """
    import tifffile

    directory = Path(directory)
    shape = tuple(tracked.shape)
    if len(shape) < 3:
        raise ValueError(f"CTC export needs a TYX stack, got shape {shape}")
    if tracks is not None and tracks.n_frames != shape[0]:
        raise ValueError(f"tracks of {tracks.n_frames} frames for a movie of {shape[0]}")
    digits = max(3, len(str(shape[0] - 1)))
    names = [f"mask{t:0{digits}d}.tif" for t in range(shape[0])] + ["res_track.txt"]
    existing = [n for n in names if (directory / n).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{directory} already holds {existing[0]} (and {len(existing) - 1} more); "
            "turn on overwrite to replace them"
        )
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.with_name(f".{directory.name}.partial-{os.getpid()}")
    staging.mkdir(exist_ok=True)
    try:
        if tracks is None:  # one pass over the frames: written as they are, renamed after
            present: dict[int, list[int]] = {}
            for t in range(shape[0]):
                frame = np.asarray(tracked[t])
                if frame.max(initial=0) > CTC_MAX_ID:
                    raise ValueError(
                        f"{directory}: CTC masks are uint16; frame {t} has track {frame.max()}"
                    )
                for track in np.unique(frame[frame != 0]).tolist():
                    present.setdefault(int(track), []).append(t)
                tifffile.imwrite(staging / names[t], frame.astype(np.uint16), compression="zlib")
            try:
                tracks = _ctc_plan(present, lineage, shape[0])
            except ValueError as exc:
                raise ValueError(f"{directory}: {exc}") from None
            for t in sorted(tracks.renames):  # the frames of pieces after a gap
                frame = tifffile.imread(staging / names[t])
                tifffile.imwrite(staging / names[t], tracks.frame(t, frame), compression="zlib")
        else:
            for t in range(shape[0]):
                mask = tracks.frame(t, np.asarray(tracked[t]))
                tifffile.imwrite(staging / names[t], mask, compression="zlib")
        for note in tracks.notes():
            warnings.warn(f"{directory}: {note}", UserWarning, stacklevel=2)
        lines = [f"{k.id} {k.start} {k.end} {k.parent}" for k in tracks.tracks]
        (staging / "res_track.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
        directory.mkdir(exist_ok=True)
        for name in names:
            os.replace(staging / name, directory / name)
    finally:
        for leftover in staging.iterdir() if staging.exists() else ():
            leftover.unlink()
        if staging.exists():
            staging.rmdir()
    return [directory / n for n in names]


def read_ctc_tracks(path) -> list[Track]:
    """Tracks from a CTC ``man_track.txt`` / ``res_track.txt`` (``L B E P`` per line)."""
    tracks = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            i, b, e, p = (int(v) for v in line.split())
        except ValueError:
            raise ValueError(f"{path}, line {number}: expected 'L B E P', got {line!r}") from None
        tracks.append(Track(i, b, e, p))
    return tracks


def _marker_owner(markers: np.ndarray, predicted: np.ndarray) -> dict[int, int]:
    """GT marker -> the predicted object covering more than half of it, when that object
    covers no other marker that much (one-to-one); others are unmatched."""
    inside = markers > 0
    pairs, counts = np.unique(
        np.stack([markers[inside], predicted[inside]]), axis=1, return_counts=True
    )
    sizes = dict(zip(*np.unique(markers[inside], return_counts=True)))
    owner = {int(m): int(p) for (m, p), n in zip(pairs.T, counts) if p and 2 * n > sizes[int(m)]}
    claims: dict[int, int] = {}
    for p in owner.values():
        claims[p] = claims.get(p, 0) + 1
    return {m: p for m, p in owner.items() if claims[p] == 1}


def link_accuracy(
    gt_markers: np.ndarray,
    gt_tracks: list[Track],
    tracked: np.ndarray,
    lineage: dict[int, int] | None = None,
    frames: Iterable[int] | None = None,
) -> dict:
    """The fraction of ground-truth links (a cell from one frame to the next, and mother to
    daughter) that the tracked labels reproduce.

    A link between GT objects ``a`` (frame t-1) and ``b`` (frame t) is reproduced when both are
    matched one-to-one to predicted objects (covering more than half of their TRA marker) and
    those carry the same track ID, or the one at t is a daughter of the one at t-1.
    ``frames`` limits the links to those ending in these frames. Returns
    ``{"link_accuracy", "links", "reproduced", "division_links", "divisions_reproduced"}``.
    """
    lineage = lineage or {}
    parents = {t.id: t.parent for t in gt_tracks}
    frames = frames if frames is not None else range(1, gt_markers.shape[0])
    total = reproduced = div_total = div_found = 0
    owners = {}

    def owner(t):
        if t not in owners:
            owners[t] = _marker_owner(gt_markers[t], tracked[t])
        return owners[t]

    for t in frames:
        if t < 1:
            continue
        here = np.unique(gt_markers[t])
        before = set(np.unique(gt_markers[t - 1]).tolist())
        for cell in here[here != 0].tolist():
            division = cell not in before and parents.get(cell, 0) in before
            source = parents.get(cell, 0) if division else (cell if cell in before else 0)
            if not source:
                continue
            total += 1
            div_total += division
            a, b = owner(t - 1).get(source), owner(t).get(cell)
            ok = a is not None and b is not None and (a == b or lineage.get(b) == a)
            reproduced += ok
            div_found += ok and division
    return {
        "link_accuracy": reproduced / total if total else float("nan"),
        "links": total,
        "reproduced": reproduced,
        "division_links": div_total,
        "divisions_reproduced": div_found,
    }


def _frame_number(name: str, prefix: str) -> int | None:
    stem = Path(name).stem
    digits = stem[len(prefix) :]
    return int(digits) if stem.startswith(prefix) and digits.isdigit() else None


def _read_labels(path: Path) -> np.ndarray:
    from .io import read_image

    data = np.asarray(read_image(path).data)
    if not np.issubdtype(data.dtype, np.integer):
        raise ValueError(f"{path}: labels must be integers, got {data.dtype}")
    return data


def _check_ctc_ground_truth(gt_dir: Path) -> None:
    """ValueError naming ``gt_dir`` unless it is a CTC ground-truth folder (``NN_GT``): SEG
    masks in ``SEG/`` and/or tracks in ``TRA/man_track.txt`` (a ground truth of tracks alone
    scores the links). A wrong folder would otherwise score "no annotated frame" and exit 0."""
    if not gt_dir.is_dir():
        raise ValueError(f"{gt_dir}: no such folder (the CTC ground truth, NN_GT)")
    seg = gt_dir / "SEG"
    has_seg = any(_frame_number(p.name, "man_seg") is not None for p in seg.glob("man_seg*.tif"))
    tra = gt_dir / "TRA"
    if tra.exists() and not (tra / "man_track.txt").is_file():
        raise ValueError(f"{tra}: no man_track.txt (the tracks of the TRA markers)")
    if not has_seg and not tra.exists():
        raise ValueError(
            f"{gt_dir}: neither SEG/man_segTTT.tif nor TRA/man_track.txt; give the "
            "ground-truth folder NN_GT (with SEG/ and/or TRA/), not the image folder NN"
        )


def evaluate_ctc(result_dir, gt_dir, frames: range | None = None) -> dict:
    """Score a CTC result folder (``maskTTT.tif`` + ``res_track.txt``) against a CTC ground
    truth folder (``NN_GT`` with ``SEG/`` and ``TRA/``).

    Returns SEG over the SEG-annotated frames (pooled over their cells), the link accuracy of
    :func:`link_accuracy` against TRA, and the frames and cells counted. ``frames`` limits
    both to those frames (a link counts when it ends in one of them).
    """
    result_dir, gt_dir = Path(result_dir), Path(gt_dir)
    _check_ctc_ground_truth(gt_dir)
    masks = {
        t: p
        for p in result_dir.glob("mask*.tif")
        if (t := _frame_number(p.name, "mask")) is not None
    }
    if not masks:
        raise ValueError(f"{result_dir}: no maskTTT.tif files (a CTC result folder)")
    count = max(masks) + 1
    missing = [t for t in range(count) if t not in masks]
    if missing:
        raise ValueError(f"{result_dir}: mask{missing[0]:03d}.tif is missing")
    if frames is not None and (not len(frames) or frames[0] < 0 or frames[-1] >= count):
        raise ValueError(
            f"frames {frames.start}:{frames.stop}: {result_dir} has frames 0:{count} (A:B, "
            "B excluded, A < B)"
        )
    frames = range(count) if frames is None else frames
    tracked = np.stack([_read_labels(masks[t]) for t in range(count)])
    track_file = result_dir / "res_track.txt"
    lineage = {}
    if track_file.is_file():
        lineage = {k.id: k.parent for k in read_ctc_tracks(track_file) if k.parent}
    from .metrics import seg_scores

    pairs = []
    for path in sorted((gt_dir / "SEG").glob("man_seg*.tif")):
        t = _frame_number(path.name, "man_seg")
        if t is not None and t in frames and t < count:
            pairs.append((_read_labels(path), tracked[t]))
    scores = {"seg_frames": len(pairs), **seg_scores(pairs)} if pairs else {"seg_frames": 0}
    tra_dir = gt_dir / "TRA"
    if (tra_dir / "man_track.txt").is_file():
        markers = np.zeros_like(tracked)
        for path in tra_dir.glob("man_track*.tif"):
            t = _frame_number(path.name, "man_track")
            if t is not None and t < count:
                markers[t] = _read_labels(path)
        gt_tracks = read_ctc_tracks(tra_dir / "man_track.txt")
        link_frames = [t for t in frames if 0 < t < count]
        scores.update(link_accuracy(markers, gt_tracks, tracked, lineage, link_frames))
    return scores

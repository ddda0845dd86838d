"""Linking each frame's objects to the previous frame's: the steps of :func:`link`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["FrameObjects", "frame_objects", "frame_overlaps", "carry_ids", "link_objects", "link"]


@dataclass(frozen=True)
class FrameObjects:
    """What linking needs of one frame's objects: sorted IDs, pixel counts and centroids
    ``(n, ndim)``. From a label image (:func:`frame_objects`) or summed over the blocks of a
    frame too big for memory."""

    ids: np.ndarray
    areas: np.ndarray
    centres: np.ndarray


def _far_apart(values: np.ndarray, size: int) -> bool:
    """Whether tables indexed by the IDs ``values`` would be far bigger than the ``size``
    pixels they come from (a label of 2**31: 16-32 GiB of sums)."""
    return bool(values.size) and int(values.max()) > size + 1024


def _compact(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, numbers)``: the sorted distinct non-zero IDs of ``values`` and ``values``
    numbered 1..K in their order (0 stays 0), to size tables by K, not by the largest ID."""
    ids, numbers = np.unique(values, return_inverse=True)
    numbers = numbers.reshape(values.shape).astype(np.int64)
    if ids.size and ids[0] == 0:
        return ids[1:].astype(np.int64), numbers
    return ids.astype(np.int64), numbers + 1


def frame_objects(frame: np.ndarray) -> FrameObjects:
    """The objects of one label image (0 = background). IDs far above the frame's pixel
    count (a label of 2**31) are numbered 1..K first, in their order: the same objects, and
    sums sized by the objects, not by the largest ID.

    >>> frame_objects(np.array([[0, 2**31], [5, 2**31]], np.uint32)).ids.tolist()
    [5, 2147483648]
    """
    frame = np.asarray(frame)
    # the object pixels only (a frame is mostly background): the same sums, added in the
    # same order, as over every pixel, without a coordinate array per axis of the frame
    flat = np.flatnonzero(frame)
    values = frame.ravel()[flat]
    coords = np.unravel_index(flat, frame.shape)
    named = None
    if _far_apart(values, frame.size):
        named, values = _compact(values)  # (the same pixels, in the same order)
    counts = np.bincount(values, minlength=1)
    ids = np.flatnonzero(counts)
    ids = ids[ids != 0]
    sums = np.stack([np.bincount(values, weights=c, minlength=counts.size) for c in coords], 1)
    sums = sums.reshape(counts.size, frame.ndim)  # (a frame without objects: no rows)
    areas, centres = counts[ids].astype(np.float64), sums[ids] / counts[ids, None]
    return FrameObjects(ids if named is None else named[ids - 1], areas, centres)


def frame_overlaps(previous: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """``(k, 3)`` rows (previous ID, current ID, shared pixels) for every overlapping pair."""
    from ..metrics import _contingency

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
    previous, frame = np.asarray(previous), np.asarray(frame)
    dtype = previous.dtype
    overlaps = frame_overlaps(previous, frame)
    # IDs far above the pixel count (a label of 2**31) are numbered 1..K first: tables
    # sized by the objects, not by the largest ID; the same result
    named_before = named_after = None
    if _far_apart(previous, previous.size):
        named_before, previous = _compact(previous)
        overlaps[:, 0] = np.searchsorted(named_before, overlaps[:, 0]) + 1
    if _far_apart(frame, frame.size):
        named_after, frame = _compact(frame)
        overlaps[:, 1] = np.searchsorted(named_after, overlaps[:, 1]) + 1
    before = np.bincount(previous.ravel())
    after = np.bincount(frame.ravel())
    table = np.zeros(after.size, np.int64)
    for old, new, shared in overlaps:  # IoU above 0.5 pairs at most one with each
        if shared * 2 > before[old] + after[new] - shared:
            table[new] = old if named_before is None else named_before[old - 1]
    fresh = [i for i in np.flatnonzero(after) if i and not table[i]]
    table[fresh] = np.arange(next_id, next_id + len(fresh))
    return table[frame].astype(dtype, copy=False)


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
        frame = labels[t]
        if _far_apart(found.ids, frame.size):  # (a label of 2**31: no table of 2**31)
            frame = _compact(frame)[1]
            found = FrameObjects(np.arange(1, found.ids.size + 1), found.areas, found.centres)
        lookup = np.zeros(int(found.ids.max()) + 1 if found.ids.size else 1, np.int32)
        lookup[found.ids] = assigned
        tracked[t] = lookup[frame]
    return tracked, lineage

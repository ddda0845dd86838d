"""Hand edits of a tracked time-lapse's lineage: make a track a daughter of another (set its
parent), break a track at a frame (a mis-link: from there on the object is a new track), and
swap two tracks from a frame on (two cells whose IDs were exchanged by the linker).

Headless: each function takes the labels (time along ``t_axis``) and the lineage
``{child track: parent track}``, and returns the new lineage and, for the edits that change
pixels, an :class:`tessella.engine.edit.Edit`; nothing is written. The CTC convention holds
throughout: a parent ends before its daughters begin (``res_track.txt``: ``L B E P``).
"""

from __future__ import annotations

import numpy as np

from .._edit_changes import Edit

__all__ = [
    "free_id",
    "track_spans",
    "set_parent",
    "break_track",
    "swap_tracks",
]


def _frame(labels: np.ndarray, t: int, t_axis: int) -> np.ndarray:
    return np.take(labels, t, axis=t_axis)


def track_spans(labels: np.ndarray, ids=None, t_axis: int = 0) -> dict[int, tuple[int, int]]:
    """``{track: (first frame, last frame)}`` (frame indices along ``t_axis``) of the tracks
    ``ids`` (all when None) present in ``labels``; a track absent from every frame is left
    out."""
    wanted = None if ids is None else np.asarray(sorted({int(i) for i in ids}))
    spans: dict[int, tuple[int, int]] = {}
    for t in range(labels.shape[t_axis]):
        present = np.unique(_frame(labels, t, t_axis))
        present = present[present != 0]
        if wanted is not None:
            present = present[np.isin(present, wanted)]
        for i in present.tolist():
            first = spans.get(int(i), (t, t))[0]
            spans[int(i)] = (first, t)
    return spans


def free_id(labels: np.ndarray, lineage: dict[int, int] | None = None) -> int:
    """The first ID a new track (or object) of a time-lapse can take: above every ID in the
    labels and every ID the lineage names, as child or as parent. The lineage keeps the
    divisions of objects deleted for now (an undo brings them back): a new object given the
    ID of a deleted daughter would take over her mother, a division that does not exist."""
    top = int(labels.max()) if labels.size else 0
    for child, parent in (lineage or {}).items():
        top = max(top, int(child), int(parent))
    return max(top, 0) + 1


def _from_frame(labels: np.ndarray, frame: int, t_axis: int) -> np.ndarray:
    """``labels`` with the frames before ``frame`` (along ``t_axis``) set to 0 (a copy)."""
    later = labels.copy()
    before: list[slice] = [slice(None)] * labels.ndim
    before[t_axis] = slice(0, frame)
    later[tuple(before)] = 0
    return later


def _names(frames) -> list[str]:
    """How a frame index is named in messages: as given by the caller (``frame_words``),
    else "frame N"."""
    return [f"frame {t}" for t in frames]


def set_parent(
    labels: np.ndarray,
    lineage: dict[int, int],
    child: int,
    parent: int,
    t_axis: int = 0,
    frame_name=None,
) -> dict[int, int]:
    """The lineage with ``child`` a daughter of ``parent`` (0: no parent, a track that
    starts by itself). ValueError, in words a user can act on, when either track is not in
    the labels, when they are the same track, when the parent would be a daughter of its own
    daughter, or when the parent does not end before the daughter begins (CTC: a mother's
    track ends at the division): then the message names the frame to break the mother's
    track at. ``frame_name``: how to name a frame index (default "frame N")."""
    name = frame_name or (lambda t: _names([t])[0])
    child, parent = int(child), int(parent)
    if child <= 0 or parent < 0:
        raise ValueError("track IDs are positive whole numbers (0: no parent)")
    if child == parent:
        raise ValueError(f"track {child} cannot be its own parent")
    spans = track_spans(labels, [child, parent] if parent else [child], t_axis)
    if child not in spans:
        raise ValueError(f"no track {child} in the labels")
    new = {int(c): int(p) for c, p in lineage.items() if int(c) != child}
    if not parent:
        return new
    if parent not in spans:
        raise ValueError(f"no track {parent} in the labels")
    start, end = spans[child]
    p_start, p_end = spans[parent]
    if p_end >= start:
        if p_start >= start:
            raise ValueError(
                f"track {parent} ({name(p_start)} to {name(p_end)}) does not begin before "
                f"track {child} ({name(start)} to {name(end)}): a mother's track ends before "
                "her daughters begin"
            )
        raise ValueError(
            f"track {parent} ({name(p_start)} to {name(p_end)}) does not end before track "
            f"{child} begins ({name(start)}): a mother's track ends at the division. Break "
            f"track {parent} at {name(start)} first, then set the parent"
        )
    ancestor = parent
    seen = set()
    while ancestor in new and ancestor not in seen:  # (a lineage with a cycle: stop)
        seen.add(ancestor)
        ancestor = new[ancestor]
        if ancestor == child:
            raise ValueError(f"track {parent} descends from track {child}")
    new[child] = parent
    return new


def break_track(
    labels: np.ndarray,
    lineage: dict[int, int],
    track: int,
    frame: int,
    t_axis: int = 0,
    frame_name=None,
) -> tuple[Edit, int, dict[int, int]]:
    """``(edit, new_id, lineage)``: from ``frame`` on, the object ``track`` becomes a new
    track ``new_id`` (:func:`free_id`: after the largest ID in the labels and in the
    lineage, whose deleted tracks may come back by an undo), with no parent; the daughters of
    ``track`` (their division at its end) become the new track's. ``track`` keeps its frames
    before ``frame`` and its own parent. ValueError when ``track`` is not in ``frame`` or in
    no frame before it (nothing to break there)."""
    name = frame_name or (lambda t: _names([t])[0])
    track, frame = int(track), int(frame)
    spans = track_spans(labels, [track], t_axis)
    if track not in spans:
        raise ValueError(f"no track {track} in the labels")
    first, last = spans[track]
    if not np.any(_frame(labels, frame, t_axis) == track):
        raise ValueError(
            f"track {track} is not in {name(frame)} (it spans {name(first)} to {name(last)}, "
            "maybe with gaps): go to a frame it is in"
        )
    if first >= frame:
        raise ValueError(
            f"track {track} begins in {name(frame)}: there is nothing before it to break off"
        )
    new_id = free_id(labels, lineage)  # (not a deleted track's ID: it may have a parent)
    indices = np.nonzero(_from_frame(labels, frame, t_axis) == track)
    dtype = np.result_type(labels.dtype, np.min_scalar_type(new_id))
    values = np.full(indices[0].shape, new_id, dtype)
    edit = Edit(
        indices,
        values,
        f"break track {track} (from there on track {new_id})",
    )
    new = {
        int(c): (new_id if int(p) == track else int(p))
        for c, p in lineage.items()
        if int(c) != new_id  # (none: new_id is above the lineage's IDs; never a parent)
    }
    return edit, new_id, new


def swap_tracks(
    labels: np.ndarray,
    lineage: dict[int, int],
    a: int,
    b: int,
    frame: int,
    t_axis: int = 0,
    frame_name=None,
) -> tuple[Edit, dict[int, int]]:
    """``(edit, lineage)``: from ``frame`` on, object ``a`` goes on as track ``b`` and
    ``b`` (where it is there) as track ``a``: the linker exchanged their IDs there. Where
    ``b`` ends before ``frame``, ``a``'s later part simply continues track ``b``. Daughters
    follow the end of the track they divided from (where it lies from ``frame`` on, it now
    ends the other track); each of ``a`` and ``b`` keeps its own parent (the lineage names
    IDs: the swap fixes which object bears each). ValueError when ``a`` is not in ``frame``
    or ``b`` is not in the labels, and when ``b`` ended at a division before ``frame``: ``a``
    continuing it would make ``b`` go on past its daughters' start (the message names the
    tracks, frames and daughters, and how to remove the division first)."""
    name = frame_name or (lambda t: _names([t])[0])
    a, b, frame = int(a), int(b), int(frame)
    if a == b:
        raise ValueError("choose two different tracks")
    spans = track_spans(labels, [a, b], t_axis)
    for i in (a, b):
        if i not in spans:
            raise ValueError(f"no track {i} in the labels")
    if not np.any(_frame(labels, frame, t_axis) == a):
        raise ValueError(f"track {a} is not in {name(frame)}: go to the frame it is in")
    daughters = sorted(int(c) for c, p in lineage.items() if int(p) == b)
    begin = track_spans(labels, daughters, t_axis) if daughters else {}
    overlapped = sorted(c for c in begin if begin[c][0] <= spans[a][1])
    if spans[b][1] < frame and overlapped:
        # a continues b: b would go on past its division, to the end of a, overlapping its
        # own daughters (an impossible lineage, which Set parent refuses): refused, the ways
        # out named
        ids = (
            " and ".join(map(str, overlapped))
            if len(overlapped) < 3
            else ", ".join(map(str, overlapped))
        )
        starts = sorted({begin[c][0] for c in overlapped})
        said = (
            f"its daughter {ids} begins" if len(overlapped) == 1 else f"its daughters {ids} begin"
        )
        raise ValueError(
            f"track {b} ended at a division in {name(spans[b][1])}: {said} in "
            f"{name(starts[0])}. Track {a} cannot continue it from {name(frame)} to "
            f"{name(spans[a][1])}, as a mother's track ends at the division. If that division "
            f"is wrong, remove it first (select {ids} in turn, 'parent' none, Set parent) and "
            f"swap again; if track {a} is a daughter from {name(frame)} on, swap it with her"
        )
    later = _from_frame(labels, frame, t_axis)
    is_a, is_b = later == a, later == b
    indices = np.nonzero(is_a | is_b)
    values = np.where(is_a[indices], b, a).astype(labels.dtype)
    edit = Edit(indices, values, f"swap tracks {a} and {b}")
    swap = {a: b, b: a}
    # a division is at the end of the mother's track: where that end lies from ``frame``
    # on, it now ends the other track
    ends_later = {i for i in (a, b) if spans[i][1] >= frame}

    def mother(p: int) -> int:
        return swap[p] if p in ends_later else p

    new = {int(c): mother(int(p)) for c, p in lineage.items() if int(c) not in swap}
    for i in swap:  # each ID keeps its own parent: the user fixes which object it is
        p = lineage.get(i)
        if p and mother(int(p)) != i:
            new[i] = mother(int(p))
    _check_swapped(labels, new, a, b, frame, t_axis, name)
    return edit, new


def _check_swapped(labels, lineage: dict[int, int], a: int, b: int, frame: int, t_axis, name):
    """ValueError where the swap of ``a`` and ``b`` from ``frame`` on leaves a division of
    either (as mother or daughter, in the new ``lineage``) with the mother not ending before
    the daughter begins (e.g. ``a`` carried on as a daughter ``b`` from before her mother
    ended): the lineage CTC cannot write and Set parent refuses."""
    count = labels.shape[t_axis]
    here = {i: [bool(np.any(_frame(labels, t, t_axis) == i)) for t in range(count)] for i in (a, b)}
    frames = {
        i: [t for t in range(count) if (here[i] if t < frame else here[{a: b, b: a}[i]])[t]]
        for i in (a, b)
    }
    spans = {i: (f[0], f[-1]) for i, f in frames.items() if f}
    pairs = [(c, p) for c, p in lineage.items() if {c, p} & {a, b}]
    others = {i for pair in pairs for i in pair} - {a, b}
    spans.update(track_spans(labels, others, t_axis) if others else {})
    for child, parent in sorted(pairs):
        if child in spans and parent in spans and spans[parent][1] >= spans[child][0]:
            (p_start, p_end), (start, end) = spans[parent], spans[child]
            raise ValueError(
                f"after this swap track {parent} ({name(p_start)} to {name(p_end)}) would not "
                f"end before its daughter {child} begins ({name(start)} to {name(end)}): a "
                "mother's track ends at the division. Swap from another frame, or change "
                "that division first (Set parent)"
            )

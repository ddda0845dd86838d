"""Corrections to a label image: merge, split, delete, fill holes, remove small, relabel.

Every operation computes an :class:`Edit` (the changed pixels and their new values) without
touching the labels, so a caller can record it for undo (the napari Correct widget hands it to
``Labels.data_setitem``, which keeps napari's own undo history) or apply it directly::

    edit = merge(labels, [3, 7])
    edit.apply(labels)

Operations that depend on object extent (fill holes, remove small, suspicious objects) work
frame by frame when the axes have a T; identities (merge, delete, relabel) hold across frames,
as a tracked time-lapse keeps one ID per object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

__all__ = [
    "Edit",
    "Suspect",
    "merge",
    "delete",
    "fill_holes",
    "remove_small",
    "relabel_sequential",
    "split_line",
    "split_seeds",
    "suspicious_objects",
]


@dataclass(frozen=True)
class Edit:
    """New ``values`` at ``indices`` (a numpy multi-index, one array per axis)."""

    indices: tuple[np.ndarray, ...]
    values: np.ndarray
    description: str
    #: objects whose ID changed, ``{old: new}`` (relabelling): a lineage must follow them
    renamed: dict[int, int] | None = None

    @property
    def size(self) -> int:
        """How many pixels change."""
        return int(self.values.size)

    def apply(self, labels: np.ndarray) -> None:
        labels[self.indices] = self.values


def _ids(ids: Iterable[int]) -> list[int]:
    unique = sorted({int(i) for i in ids})
    if any(i <= 0 for i in unique):
        raise ValueError("label IDs must be positive (0 is background)")
    return unique


def _check_present(labels: np.ndarray, ids: Sequence[int]) -> None:
    present = np.isin(ids, labels)
    if not present.all():
        missing = ", ".join(str(i) for i, p in zip(ids, present) if not p)
        raise ValueError(f"no object with label {missing}")


def _edit(labels: np.ndarray, mask: np.ndarray, values, description: str) -> Edit:
    """The edit that sets ``labels[mask]`` to ``values``, keeping only pixels that change."""
    indices = np.nonzero(mask)
    values = np.broadcast_to(np.asarray(values, labels.dtype), indices[0].shape)
    changed = labels[indices] != values
    return Edit(tuple(i[changed] for i in indices), np.array(values[changed]), description)


def _bbox(mask: np.ndarray, margin: int = 0) -> tuple[slice, ...]:
    """The bounding box of ``mask`` (non-empty), grown by ``margin`` within the array."""
    box = ndi.find_objects(mask.astype(np.uint8))[0]
    return tuple(
        slice(max(s.start - margin, 0), min(s.stop + margin, n)) for s, n in zip(box, mask.shape)
    )


def _frames(labels: np.ndarray, axes: str | None):
    """``(index, frame)`` pairs: one per time point when ``axes`` has a T, else the whole."""
    if axes and "T" in axes:
        t_axis = axes.index("T")
        for t in range(labels.shape[t_axis]):
            index: list[slice | int] = [slice(None)] * labels.ndim
            index[t_axis] = t
            yield tuple(index), labels[tuple(index)]
    else:
        yield (slice(None),) * labels.ndim, labels


def _per_frame(labels, axes, make_mask: Callable, description: str) -> Edit:
    """An edit assembled from ``make_mask(frame) -> (mask, frame_values)`` on every frame."""
    mask = np.zeros(labels.shape, bool)
    new = np.zeros(labels.shape, labels.dtype)
    for index, frame in _frames(labels, axes):
        frame_mask, frame_values = make_mask(frame)
        mask[index] = frame_mask
        new[index][frame_mask] = frame_values
    return _edit(labels, mask, new[mask], description)


def merge(labels: np.ndarray, ids: Iterable[int], close_gaps: bool = True) -> Edit:
    """Give the objects ``ids`` the smallest of their IDs.

    With ``close_gaps``, background pixels in the one-pixel cracks between them (which
    instance methods leave between touching objects) join the merged object.
    """
    ids = _ids(ids)
    if len(ids) < 2:
        raise ValueError("choose at least two labels to merge")
    _check_present(labels, ids)
    target = ids[0]
    mask = np.isin(labels, ids)
    if close_gaps:
        box = _bbox(mask, margin=2)
        merged = mask[box]
        closed = ndi.binary_closing(merged, structure=ndi.generate_binary_structure(mask.ndim, 1))
        mask[box] |= closed & (labels[box] == 0)
    return _edit(labels, mask, target, f"merge {', '.join(map(str, ids))} into {target}")


def delete(labels: np.ndarray, ids: Iterable[int]) -> Edit:
    """Set the objects ``ids`` to background."""
    ids = _ids(ids)
    if not ids:
        raise ValueError("choose at least one label to delete")
    _check_present(labels, ids)
    return _edit(labels, np.isin(labels, ids), 0, f"delete {', '.join(map(str, ids))}")


def fill_holes(
    labels: np.ndarray, ids: Iterable[int] | None = None, axes: str | None = None
) -> Edit:
    """Fill the background holes inside objects (all objects, or only ``ids``).

    A hole that holds another object keeps that object; only background is filled.
    """
    chosen = None if ids is None else _ids(ids)
    if chosen:
        _check_present(labels, chosen)

    def holes(frame):
        mask = np.zeros(frame.shape, bool)
        values = np.zeros(frame.shape, frame.dtype)
        for label, box in enumerate(ndi.find_objects(frame), start=1):
            if box is None or (chosen and label not in chosen):
                continue
            filled = ndi.binary_fill_holes(frame[box] == label) & (frame[box] == 0)
            mask[box] |= filled
            values[box][filled] = label
        return mask, values[mask]

    return _per_frame(labels, axes, holes, "fill holes")


def remove_small(labels: np.ndarray, min_size: int, axes: str | None = None) -> Edit:
    """Delete objects of fewer than ``min_size`` pixels (per frame when ``axes`` has a T)."""
    if min_size < 1:
        raise ValueError("min_size must be at least 1")

    def small(frame):
        counts = np.bincount(frame.ravel())
        tiny = np.flatnonzero((counts > 0) & (counts < min_size))
        tiny = tiny[tiny > 0]
        return np.isin(frame, tiny), 0

    return _per_frame(labels, axes, small, f"remove objects under {min_size} px")


def relabel_sequential(labels: np.ndarray) -> Edit:
    """Renumber the objects 1..N in the order of their current IDs."""
    from skimage.segmentation import relabel_sequential as relabel

    relabelled, forward, _inverse = relabel(labels)
    edit = _edit(labels, relabelled != labels, relabelled[relabelled != labels], "relabel 1..N")
    old = forward.in_values.tolist()
    renamed = {int(a): int(b) for a, b in zip(old, forward.out_values.tolist()) if a != b}
    return dataclasses.replace(edit, renamed=renamed)


def _next_ids(labels: np.ndarray, count: int) -> np.ndarray:
    top = int(labels.max()) + 1
    ids = np.arange(top, top + count)
    if count and ids[-1] > np.iinfo(labels.dtype).max:
        raise ValueError(f"label {ids[-1]} does not fit in {labels.dtype}")
    return ids


def _split_pieces(
    labels: np.ndarray, label: int, box: tuple[slice, ...], pieces: np.ndarray, what: str
) -> Edit:
    """``pieces`` (1..K over ``labels[box]``'s object): the largest keeps ``label``."""
    count = int(pieces.max())
    if count < 2:
        raise ValueError(f"the {what} does not cut label {label} into pieces")
    sizes = np.bincount(pieces.ravel(), minlength=count + 1)[1:]
    order = np.argsort(-sizes, kind="stable") + 1  # piece numbers, largest first
    new_ids = np.concatenate([[label], _next_ids(labels, count - 1)])
    lookup = np.zeros(count + 1, labels.dtype)
    lookup[order] = new_ids
    region = labels[box] == label
    mask = np.zeros(labels.shape, bool)
    mask[box] = region
    return _edit(
        labels,
        mask,
        lookup[pieces[region]],
        f"split {label} into {count} by {what} (new: {', '.join(map(str, new_ids[1:]))})",
    )


def split_line(
    labels: np.ndarray,
    label: int | None,
    points: np.ndarray,
    plane_axes: tuple[int, int] = (-2, -1),
) -> Edit:
    """Cut object ``label`` along the polyline ``points`` (N x ndim, in pixel coordinates).

    The line lies in the plane of ``plane_axes`` through the first point (the displayed
    slice of a volume). The pieces are the object's parts on either side; pixels under the
    line join the piece next to them. With ``label`` None, the object the line crosses most
    is split.
    """
    from skimage.draw import line
    from skimage.segmentation import expand_labels

    points = np.asarray(points, float)
    if points.ndim != 2 or points.shape[1] != labels.ndim or len(points) < 2:
        raise ValueError(f"a split line needs at least two {labels.ndim}D points")
    in_plane = tuple(sorted(a % labels.ndim for a in plane_axes))
    index: list[int | slice] = [int(round(c)) for c in points[0]]
    for axis in in_plane:
        index[axis] = slice(None)
    if any(not 0 <= i < n for i, n in zip(index, labels.shape) if not isinstance(i, slice)):
        raise ValueError("the split line lies outside the labels")
    plane = labels[tuple(index)]
    cut = np.zeros(plane.shape, bool)
    vertices = np.round(points[:, in_plane]).astype(int)
    for (r0, c0), (r1, c1) in zip(vertices[:-1], vertices[1:]):
        rr, cc = line(r0, c0, r1, c1)
        inside = (rr >= 0) & (rr < plane.shape[0]) & (cc >= 0) & (cc < plane.shape[1])
        cut[rr[inside], cc[inside]] = True
    if label is None:  # the object the line crosses most
        crossed = plane[cut]
        crossed = crossed[crossed > 0]
        if not crossed.size:
            raise ValueError("the split line crosses no object")
        values, counts = np.unique(crossed, return_counts=True)
        label = int(values[np.argmax(counts)])
    object_mask = plane == label
    if not object_mask.any():
        raise ValueError(f"label {label} is not in the plane of the split line")
    # an 8-connected line separates 4-connected pieces
    pieces, _count = ndi.label(object_mask & ~cut)
    pieces = expand_labels(pieces, distance=2) * object_mask
    # expand_labels leaves line pixels unreached only if no piece is near: keep them in piece 1
    pieces[object_mask & (pieces == 0)] = 1 if pieces.max() else 0
    full_box = tuple(i if isinstance(i, slice) else slice(i, i + 1) for i in index)
    return _split_pieces(labels, label, full_box, pieces.reshape(labels[full_box].shape), "line")


def _basins(surface: np.ndarray, region: np.ndarray) -> np.ndarray:
    """The catchment basins of ``surface``'s peaks inside ``region`` (watershed of its
    negative), peaks of less than a tenth of its range merged with their neighbours."""
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    values = np.where(region, surface, surface[region].min()).astype(float)
    h = max(0.1 * float(np.ptp(values)), 1e-6)
    peaks = ndi.label(h_maxima(values, h) & region)[0]
    return watershed(-values, peaks, mask=region)


def split_seeds(
    labels: np.ndarray,
    label: int,
    seeds: np.ndarray | None = None,
    height: np.ndarray | None = None,
    pieces: int = 2,
    min_distance: int = 3,
) -> Edit:
    """Split object ``label`` by seeded watershed.

    Seeds are the given points (K x ndim pixel coordinates inside the object) or else the
    ``pieces`` highest peaks of ``height`` (e.g. a network's seed map) at least
    ``min_distance`` apart; without a height map, of the distance to the object's border.
    """
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    mask = labels == label
    if not mask.any():
        raise ValueError(f"no object with label {label}")
    box = _bbox(mask, margin=1)
    region = mask[box]
    if height is not None and height.shape != labels.shape:
        raise ValueError(f"height map shape {height.shape} differs from labels {labels.shape}")
    surface = ndi.distance_transform_edt(region) if height is None else height[box] * region
    markers = np.zeros(region.shape, np.int32)
    if seeds is not None and len(seeds):
        offset = np.array([s.start for s in box])
        local = np.round(np.asarray(seeds, float)).astype(int) - offset
        inside = [
            p for p in local if np.all(p >= 0) and np.all(p < region.shape) and region[tuple(p)]
        ]
        if len(inside) < 2:
            raise ValueError(f"put at least two seed points inside label {label}")
        # a point off the centre of its nucleus sits on a slope of the surface: flooded from
        # there it would start only once the other seeds' floods had crossed the neck and
        # taken its nucleus. So each point claims the whole basin it lies in (the basins of
        # the surface's peaks, those less than a tenth of its range high merged), unless
        # another point lies in the same basin: then the points are the markers, as given
        basins = _basins(surface, region)
        owners = [int(basins[tuple(p)]) for p in inside]
        for k, (p, basin) in enumerate(zip(inside, owners), start=1):
            if owners.count(basin) == 1:
                markers[basins == basin] = k
            markers[tuple(p)] = k
    else:
        peaks = peak_local_max(
            surface, min_distance=min_distance, num_peaks=pieces, labels=region.astype(np.int32)
        )
        if len(peaks) < 2:
            raise ValueError(f"label {label} has fewer than two peaks to split at")
        markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    split = watershed(-surface, markers, mask=region)
    return _split_pieces(labels, label, box, split, "watershed")


@dataclass(frozen=True)
class Suspect:
    """An object worth a second look."""

    label: int
    frame: int | None  # the time point, for time-lapse labels
    reason: str  # "small", "large" or "low confidence"
    severity: float  # larger: more unusual
    centroid: tuple[float, ...]  # pixel coordinates in the labels' full array
    size: int
    confidence: float | None


def suspicious_objects(
    labels: np.ndarray,
    confidence: np.ndarray | None = None,
    axes: str | None = None,
    z_limit: float = 2.5,
    min_confidence: float = 0.6,
) -> list[Suspect]:
    """Objects unusually small or large (robust z-score of log size beyond ``z_limit``), or
    whose mean ``confidence`` (e.g. the seed map) is below ``min_confidence``; most unusual
    first."""
    if confidence is not None and confidence.shape != labels.shape:
        raise ValueError(f"confidence shape {confidence.shape} differs from labels {labels.shape}")
    t_axis = axes.index("T") if axes and "T" in axes else None
    rows = []  # (frame, label, size, centroid, confidence)
    for t, (index, frame) in enumerate(_frames(labels, axes)):
        ids = np.unique(frame)
        ids = ids[ids > 0]
        if not ids.size:
            continue
        sizes = ndi.sum_labels(np.ones(frame.shape), frame, ids)
        centres = ndi.center_of_mass(np.ones(frame.shape), frame, ids)
        scores = (
            ndi.mean(confidence[index], frame, ids) if confidence is not None else [None] * len(ids)
        )
        for label, size, centre, score in zip(ids, sizes, centres, scores):
            centroid = list(centre)
            if t_axis is not None:
                centroid.insert(t_axis, float(t))
            rows.append((t if t_axis is not None else None, int(label), int(size), centroid, score))
    if not rows:
        return []
    log_size = np.log([r[2] for r in rows])
    median = np.median(log_size)
    spread = 1.4826 * np.median(np.abs(log_size - median)) or 1.0
    z = (log_size - median) / spread
    suspects = []
    for (frame, label, size, centroid, score), zi in zip(rows, z):
        found = []
        if zi < -z_limit:
            found.append(("small", -zi))
        elif zi > z_limit:
            found.append(("large", zi))
        if score is not None and score < min_confidence:
            # a confidence as far below the limit as the size limit is from the median
            found.append(("low confidence", z_limit * (1 + (min_confidence - score) * 4)))
        if found:
            severity = max(s for _, s in found)
            reason = " and ".join(r for r, _ in found)
            suspects.append(
                Suspect(
                    label,
                    frame,
                    reason,
                    float(severity),
                    tuple(float(c) for c in centroid),
                    size,
                    None if score is None else float(score),
                )
            )
    suspects.sort(key=lambda s: -s.severity)
    return suspects

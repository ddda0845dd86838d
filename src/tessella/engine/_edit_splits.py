"""Splitting one object: along a drawn line, or by a seeded watershed."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._edit_changes import Edit, _bbox, _edit

__all__ = ["split_line", "split_seeds"]


def _next_ids(labels: np.ndarray, count: int) -> np.ndarray:
    """``count`` new IDs after the labels' largest, in the labels' type if it holds them,
    else in the narrowest integer type that holds both (uint16 for uint8 labels and ID 256):
    never wrapped around onto IDs in use."""
    top = int(labels.max()) + 1
    last = top + count - 1
    dtype = np.dtype(labels.dtype)
    if count and last > np.iinfo(dtype).max:
        dtype = np.promote_types(dtype, np.min_scalar_type(last))
        if dtype.kind not in "iu":  # (past uint64, or int64 and past its largest)
            raise ValueError(f"label {last} does not fit in any integer type")
    return np.arange(top, top + count, dtype=dtype)


def _split_pieces(
    labels: np.ndarray, label: int, box: tuple[slice, ...], pieces: np.ndarray, what: str
) -> Edit:
    """``pieces`` (1..K over ``labels[box]``'s object): the largest keeps ``label``."""
    count = int(pieces.max())
    if count < 2:
        raise ValueError(f"the {what} does not cut label {label} into pieces")
    sizes = np.bincount(pieces.ravel(), minlength=count + 1)[1:]
    order = np.argsort(-sizes, kind="stable") + 1  # piece numbers, largest first
    added = _next_ids(labels, count - 1)
    new_ids = np.concatenate([np.array([label], added.dtype), added])
    lookup = np.zeros(count + 1, added.dtype)
    lookup[order] = new_ids
    region = labels[box] == label
    mask = np.zeros(labels.shape, bool)
    mask[box] = region
    return _edit(
        labels,
        mask,
        lookup[pieces[region]],
        f"split {label} into {count} by {what} (new: {', '.join(map(str, new_ids[1:]))})",
        added.dtype,
    )


def split_line(
    labels: np.ndarray,
    label: int | None,
    points: np.ndarray,
    plane_axes: tuple[int, int] = (-2, -1),
    through: tuple[int, ...] = (),
) -> Edit:
    """Cut object ``label`` along the polyline ``points`` (N x ndim, in pixel coordinates).

    The line lies in the plane of ``plane_axes`` through the first point (the displayed
    slice of a volume). The pieces are the object's parts on either side; pixels under the
    line join the piece next to them. With ``label`` None, the object the line crosses most
    is split.

    ``through``: axes (e.g. a volume's Z) the line is swept along: the cut is the line
    extruded through every slice of those axes, so the whole object is split, each connected
    piece one object (the largest keeps ``label``). Where, in some slice, the object reaches
    round an end of the line, the pieces of the line's own slice meet there: that part goes
    to the piece it is nearer (within the object). Without ``through``, the line cuts its own
    slice only.
    """
    from skimage.draw import line
    from skimage.segmentation import expand_labels

    points = np.asarray(points, float)
    if points.ndim != 2 or points.shape[1] != labels.ndim or len(points) < 2:
        raise ValueError(f"a split line needs at least two {labels.ndim}D points")
    in_plane = tuple(sorted(a % labels.ndim for a in plane_axes))
    swept = tuple(sorted({a % labels.ndim for a in through} - set(in_plane)))
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
    if swept:
        return _split_swept(labels, label, index, in_plane, swept, cut)
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


def _split_swept(
    labels: np.ndarray,
    label: int,
    index: list[int | slice],
    in_plane: tuple[int, ...],
    swept: tuple[int, ...],
    cut: np.ndarray,
) -> Edit:
    """:func:`split_line`'s cut ``cut`` (a mask of the line's plane) swept along the axes
    ``swept``: the whole object ``label`` (in the line's frame, on the other axes) is split."""
    from skimage.segmentation import expand_labels, watershed

    where = list(index)
    for axis in swept:
        where[axis] = slice(None)
    kept = [a for a in range(labels.ndim) if isinstance(where[a], slice)]  # swept + in_plane
    region = labels[tuple(where)] == label  # (its axes: ``kept``, in order)
    if not region.any():
        raise ValueError(f"label {label} is not in the slices the split line sweeps through")
    box = _bbox(region, margin=1)
    region = region[box]
    # the line's mask on every slice: the plane's two axes stay, the swept ones are broadcast
    plane_box = tuple(box[kept.index(a)] for a in in_plane)
    shape = [1 if a in swept else region.shape[k] for k, a in enumerate(kept)]
    cut = np.broadcast_to(cut[plane_box].reshape(shape), region.shape)
    free = region & ~cut
    # each face-connected part of the object off the (swept) line is a piece
    pieces, _count = ndi.label(free)
    # unless the object reaches round an end of the line in some slice, joining there the
    # sides the line parts in its own slice: then, in such a part, those sides (the pieces of
    # the line's own slice next to the line) flood it, never across the line, meeting half way
    own: list[int | slice] = [slice(None)] * region.ndim
    for axis in swept:
        k, at = kept.index(axis), index[axis]
        assert isinstance(at, int)  # (swept axes are fixed at the line's slice)
        own[k] = at - box[k].start
    if all(0 <= i < n for i, n in zip(own, region.shape) if isinstance(i, int)):
        sides = np.zeros(region.shape, np.int32)
        near = ndi.binary_dilation(cut[tuple(own)], np.ones((3, 3), bool))
        sides[tuple(own)] = ndi.label(free[tuple(own)])[0] * near
        for part in np.unique(pieces[sides > 0]):
            inside = pieces == part
            if len(np.unique(sides[inside & (sides > 0)])) > 1:
                flooded = watershed(np.zeros(region.shape, np.uint8), sides * inside, mask=inside)
                pieces[inside] = flooded[inside] + pieces.max()
    pieces = expand_labels(pieces, distance=2) * region
    pieces[region & (pieces == 0)] = 1 if pieces.max() else 0
    # number the pieces 1..K (a seed flooded over by its neighbours leaves a gap)
    present = np.unique(pieces[pieces > 0])
    lookup = np.zeros(int(pieces.max()) + 1, np.int32)
    lookup[present] = np.arange(1, len(present) + 1)
    pieces = lookup[pieces]
    full_box: list[slice] = [slice(i, i + 1) if isinstance(i, int) else slice(None) for i in where]
    for k, a in enumerate(kept):
        full_box[a] = box[k]
    block = tuple(full_box)
    return _split_pieces(labels, label, block, pieces.reshape(labels[block].shape), "line")


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

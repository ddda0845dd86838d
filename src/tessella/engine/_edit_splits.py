"""Splitting one object: along a drawn line, or by a seeded watershed."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

import numpy as np
from scipy import ndimage as ndi

from ._edit_changes import Edit, _bbox, _edit

__all__ = ["SHARD_PX", "SplitRefused", "new_ids_after", "split_line", "split_lines", "split_seeds"]


class SplitRefused(RuntimeError):
    """A split refused because its pieces would leave pixels of the object in none (a split
    never erases part of an object): nothing was changed. It guards against a bug in the
    split; its message says how many pixels of which label."""


#: a piece a split line cuts off of at most this many pixels (the line's rasterisation
#: leaving a corner of the object between it and the border) is no piece: it joins the piece
#: next to it
SHARD_PX = 4

#: the object's whole extent (its parts other objects hide too, e.g. the worm under another
#: at a crossing), as a mask of the labels' shape, or a function giving it for a label
#: (None: not known); the pieces of a split follow the object through its hidden parts
Whole = np.ndarray | Callable[[int], "np.ndarray | None"] | None


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
    labels: np.ndarray,
    label: int,
    box: tuple[slice, ...],
    pieces: np.ndarray,
    what: str,
    note: str = "",
) -> Edit:
    """``pieces`` (1..K over ``labels[box]``'s object): the largest keeps ``label``. Every
    pixel of the object must be in a piece (they partition it): a split never erases part
    of an object; else nothing is written (an error)."""
    region = labels[box] == label
    lost = int(np.count_nonzero(region & (pieces <= 0)))
    if lost:
        raise SplitRefused(
            f"the {what} would leave {lost} px of label {label} in no piece (a bug: nothing "
            "was changed)"
        )
    count = int(pieces.max())
    if count < 2:
        raise ValueError(f"the {what} does not cut label {label} into pieces")
    sizes = np.bincount(pieces.ravel(), minlength=count + 1)[1:]
    order = np.argsort(-sizes, kind="stable") + 1  # piece numbers, largest first
    added = _next_ids(labels, count - 1)
    new_ids = np.concatenate([np.array([label], added.dtype), added])
    lookup = np.zeros(count + 1, added.dtype)
    lookup[order] = new_ids
    mask = np.zeros(labels.shape, bool)
    mask[box] = region
    values = lookup[pieces[region]]
    assert np.all(values > 0) and values.size == np.count_nonzero(region)  # (a partition)
    return _edit(
        labels,
        mask,
        values,
        f"split {label} into {count} by {what} (new: {', '.join(map(str, new_ids[1:]))}){note}",
        added.dtype,
    )


def _whole_mask(whole: Whole, label: int, shape: tuple[int, ...]) -> np.ndarray | None:
    """The object's whole extent from ``whole`` (see :data:`Whole`), if it fits the labels."""
    mask = whole(label) if callable(whole) else whole
    if mask is None:
        return None
    mask = np.asarray(mask, bool)
    return mask if mask.shape == shape else None


def _join_apart(pieces: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, int, int]:
    """``(pieces, parts, px)``: ``pieces`` (0 where unassigned) with each connected part of
    ``region`` that has no piece given to the piece nearest it (the whole part to one
    piece); ``parts`` and ``px``: how many parts were so joined, and their pixels."""
    pieces = pieces.copy()
    left = region & (pieces == 0)
    if not left.any() or not pieces.any():
        return pieces, 0, 0
    parts, count = ndi.label(left, np.ones((3,) * region.ndim, bool))
    px = int(np.count_nonzero(left))
    # the nearest piece: each part whole goes to the piece closest to any of its pixels
    distance, nearest = ndi.distance_transform_edt(pieces == 0, return_indices=True)
    for n, part in enumerate(ndi.find_objects(parts), start=1):
        if part is None:
            continue
        inside = parts[part] == n
        where = np.argmin(np.where(inside, distance[part], np.inf))
        at = np.unravel_index(where, inside.shape)
        point = tuple(int(s.start + a) for s, a in zip(part, at))
        source = tuple(int(nearest[(axis,) + point]) for axis in range(pieces.ndim))
        pieces[part][inside] = pieces[source]
    return pieces, count, px


def _joined_words(label: int, parts: int, px: int, through: bool) -> str:
    """What the status line says of the parts of ``label`` a split gave to a piece."""
    if not parts:
        return ""
    one = parts == 1
    which = "part" if one else f"{parts} parts"
    it, them = ("it continues", "it") if one else ("they continue", "them")
    how = (
        f"the piece {it} under the objects over {them} (a crossing)"
        if through
        else f"the piece nearest {them}"
    )
    return f"; {which} of {label} apart from the rest ({px} px) joined {how}"


def _joined_note(
    label: int, shown: np.ndarray, near: np.ndarray, pieces: np.ndarray, through: bool
) -> str:
    """:func:`_joined_words` for a split line: the parts of the object as shown (touching
    diagonally too) away from the line (``near``: the line grown by a pixel) that went with
    a piece the line cuts where it is shown; not a part that is a side of the line itself
    (a line across the hidden stretch of a worm under another)."""
    parts, count = ndi.label(shown, np.ones((3, 3), bool))
    touching = np.unique(parts[near & shown])
    cut_pieces = set(np.unique(pieces[np.isin(parts, touching) & shown]).tolist())
    joined, px = 0, 0
    for n in range(1, count + 1):
        if n in touching:
            continue
        inside = parts == n
        if set(np.unique(pieces[inside]).tolist()) <= cut_pieces:
            joined += 1
            px += int(np.count_nonzero(inside))
    return _joined_words(label, joined, px, through)


def split_line(
    labels: np.ndarray,
    label: int | None,
    points: np.ndarray,
    plane_axes: tuple[int, int] = (-2, -1),
    through: tuple[int, ...] = (),
    whole: Whole = None,
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

    The pieces always hold every pixel of the object. In the line's slice (without
    ``through``), the pieces are the object's parts next to the line, on either side (a
    part of at most :data:`SHARD_PX` pixels, cut off by the line's rasterisation, joins its
    neighbour); a part of the object away from the line (a label shown in several parts,
    e.g. the worm under another at a crossing) joins the piece it continues through the
    object's hidden parts (``whole``: see :data:`Whole`), else the piece nearest it.
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
    hidden = _whole_mask(whole, label, labels.shape)
    if hidden is not None:
        hidden = hidden[tuple(index)] & ~object_mask
    # where the sides are found: the object whole where known (the worm under another is
    # one worm through the crossing), else as shown
    base = object_mask if hidden is None or not hidden.any() else object_mask | hidden
    # an 8-connected line separates 4-connected pieces: the pieces are the object's parts
    # next to the line (each side of it), but those of a few pixels shown (shards the line's
    # rasterisation cuts off at the border); parts away from the line (a label shown in
    # parts: the worm under another at a crossing) join the side they continue, else the
    # side nearest them
    free = base & ~cut
    parts, count = ndi.label(free)
    near = ndi.binary_dilation(cut, np.ones((3, 3), bool))
    shown = np.bincount(parts[object_mask], minlength=count + 1)
    sides = np.unique(parts[near & free])
    sides = sides[(sides > 0) & (shown[sides] > SHARD_PX)]
    lookup = np.zeros(count + 1, np.int32)
    lookup[sides] = np.arange(1, len(sides) + 1)
    pieces = expand_labels(lookup[parts], distance=2) * base
    pieces, _joined, _px = _join_apart(pieces, base)
    pieces = pieces * object_mask
    present = np.unique(pieces[object_mask])
    if len(present) < 2:
        raise ValueError(f"the line does not cut label {label} into pieces")
    renumber = np.zeros(int(pieces.max()) + 1, np.int32)
    renumber[present] = np.arange(1, len(present) + 1)
    pieces = renumber[pieces]
    note = _joined_note(label, object_mask, near, pieces, base is not object_mask)
    full_box = tuple(i if isinstance(i, slice) else slice(i, i + 1) for i in index)
    block = pieces.reshape(labels[full_box].shape)
    return _split_pieces(labels, label, full_box, block, "line", note)


def split_lines(
    labels: np.ndarray,
    label: int | None,
    lines: Sequence[np.ndarray],
    plane_axes: tuple[int, int] = (-2, -1),
    through: tuple[int, ...] = (),
    whole: Whole = None,
    after: int | None = None,
) -> Edit:
    """The splits along ``lines`` (each as :func:`split_line` with the other arguments), one
    after the other (a line cuts the pieces the lines before it made), as one edit (one undo
    step) whose description names every object split, into how many pieces, and all the new
    IDs: "split 8 into 3 by 2 lines (new: 13, 14)". A line that cuts nothing is named in it
    ("line 2 left out: ..."); none cutting anything, the first one's error is raised. One
    line: :func:`split_line`'s edit. ``whole``: each line after the first splits the object
    whole less what the lines before it gave to other pieces.

    ``after``: the new IDs come after it where it is above the labels' largest (e.g. a
    movie's largest ID and those its lineage names: :func:`new_ids_after`). Lines that all
    lie in the same slice of the axes they are neither drawn in nor swept along (one frame of
    a time-lapse) are cut in that slice alone, at the cost of one frame, not the movie; the
    new IDs still come after the whole labels' largest.
    """
    lines = [np.asarray(line, float) for line in lines]
    if not lines:
        raise ValueError("draw a split line first")
    slab = _lines_slab(labels, lines, plane_axes, through)
    if slab is None:
        return _split_along(labels, label, lines, plane_axes, through, whole, after)
    index, kept = slab
    top = int(labels.max()) if after is None else max(after, int(labels.max()))
    ndim = labels.ndim
    axis = {a: k for k, a in enumerate(kept)}  # (the labels' axes in the slice's)

    def whole_there(k: int) -> np.ndarray | None:
        mask = _whole_mask(whole, k, labels.shape)
        return None if mask is None else mask[index]

    change = _split_along(
        labels[index],
        label,
        [line[:, kept] for line in lines],
        (axis[plane_axes[0] % ndim], axis[plane_axes[1] % ndim]),
        tuple(axis[a % ndim] for a in through),
        None if whole is None else whole_there,
        top,
    )
    at = iter(change.indices)
    size = change.values.shape
    indices = tuple(next(at) if isinstance(i, slice) else np.full(size, i, np.intp) for i in index)
    return dataclasses.replace(change, indices=indices)


def _lines_slab(
    labels: np.ndarray,
    lines: list[np.ndarray],
    plane_axes: tuple[int, int],
    through: tuple[int, ...],
) -> tuple[tuple[int | slice, ...], list[int]] | None:
    """``(index, kept)``: the slice of ``labels`` every line lies in on the axes it is
    neither drawn in nor swept along (a time-lapse's T: the lines' frame), and the axes
    that slice keeps; None where there are no such axes, where the lines lie in different
    slices or outside the labels, or where a line is no line (:func:`split_line` then says
    so, as it does on the whole labels)."""
    ndim = labels.ndim
    free = {a % ndim for a in (*plane_axes, *through)}
    fixed = [a for a in range(ndim) if a not in free]
    if not fixed or len(plane_axes) != 2 or len({a % ndim for a in plane_axes}) != 2:
        return None
    if any(line.ndim != 2 or line.shape[1] != ndim or len(line) < 2 for line in lines):
        return None
    where = {tuple(int(round(line[0][a])) for a in fixed) for line in lines}
    if len(where) != 1:
        return None
    (point,) = where
    if not all(0 <= p < labels.shape[a] for p, a in zip(point, fixed)):
        return None
    index: list[int | slice] = [slice(None)] * ndim
    for a, p in zip(fixed, point):
        index[a] = p
    return tuple(index), [a for a in range(ndim) if a not in fixed]


def _split_along(
    labels: np.ndarray,
    label: int | None,
    lines: list[np.ndarray],
    plane_axes: tuple[int, int],
    through: tuple[int, ...],
    whole: Whole,
    top: int | None,
) -> Edit:
    """:func:`split_lines` on ``labels`` as they are (new IDs after ``top``, if given)."""

    def one(work: np.ndarray, line: np.ndarray) -> Edit:
        now = _less_given(whole, work, labels)
        change = split_line(work, label, line, plane_axes, through, now)
        return change if top is None else new_ids_after(change, work, top)

    if len(lines) == 1:
        return one(labels, lines[0])
    work = labels.copy()
    asides: list[str] = []
    errors: list[str] = []
    cuts = 0
    for n, line in enumerate(lines, start=1):
        try:
            change = one(work, line)
        except ValueError as exc:  # (a SplitRefused, a bug guard, goes on up)
            if not errors:
                first = exc
            errors.append(f"line {n} left out: {exc}")
            continue
        if not np.can_cast(change.values.dtype, work.dtype):  # (new IDs past its type)
            work = work.astype(change.values.dtype)
        change.apply(work)
        cuts += 1
        _title, _sep, aside = change.description.partition("; ")
        if aside:
            asides.append(aside)
    if not cuts:
        raise first
    indices = np.nonzero(work != labels)
    values = work[indices]
    was = labels[indices]
    words = []
    for old in np.unique(was[was > 0]).tolist():
        pieces = set(np.unique(values[was == old]).tolist())
        if np.any(work == old):  # (the largest piece keeps its ID)
            pieces.add(old)
        words.append(f"{old} into {len(pieces)}")
    # (every new ID is past the labels' largest: a piece keeps its old ID or takes a new one)
    ids = np.unique(values)
    new = ids[ids > labels.max()].tolist()
    drawn = f"{cuts} lines" if cuts > 1 else "line"
    description = f"split {' and '.join(words)} by {drawn} (new: {', '.join(map(str, new))})"
    description += "".join(f"; {aside}" for aside in [*asides, *errors])
    return Edit(indices, values, description)


def _less_given(whole: Whole, work: np.ndarray, labels: np.ndarray) -> Whole:
    """``whole`` for a split of ``work`` (``labels`` as the lines before it left them): each
    object whole less the pixels those lines gave to other objects."""
    if whole is None or work is labels:
        return whole

    def now(k: int) -> np.ndarray | None:
        mask = _whole_mask(whole, k, work.shape)
        return None if mask is None else mask & ~((work != labels) & (work != k))

    return now


def new_ids_after(change: Edit, labels: np.ndarray, top: int) -> Edit:
    """``change``, a split of ``labels`` (one frame of a movie, say), with its new IDs (those
    after the labels' largest) moved after ``top`` (the whole movie's largest ID and those its
    lineage names), so that they are no other object's ID anywhere (in a type that holds
    them), its description's "(new: ...)" naming them. Unchanged where ``top`` is not above
    the labels' largest."""
    frame_top = int(labels.max())
    if top <= frame_top:
        return change
    shift = top - frame_top
    values = change.values
    new = values > frame_top
    wide = np.result_type(values.dtype, np.min_scalar_type(int(values.max()) + shift))
    values = values.astype(wide)
    values[new] += shift
    added = ", ".join(map(str, np.unique(values[new]).tolist()))
    description = re.sub(r"\(new: [^)]*\)", f"(new: {added})", change.description)
    return dataclasses.replace(change, values=values, description=description)


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
    # each face-connected part of the object off the (swept) line is a piece; but a part
    # of the label apart from the rest, nowhere near the line, is none: it joins the piece
    # nearest it (a label in several parts is not cut into them by a line across one)
    pieces, count = ndi.label(free)
    near_cut = ndi.binary_dilation(cut, np.ones((3,) * region.ndim, bool))
    apart = np.setdiff1d(np.arange(1, count + 1), np.unique(pieces[near_cut & free]))
    if apart.size == count:  # (the line misses the object)
        raise ValueError(f"the line does not cut label {label} into pieces")
    away = np.isin(pieces, apart)
    pieces[away] = 0
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
    pieces, _joined, _px = _join_apart(pieces, region)  # (and line voxels none reached)
    pieces[region & (pieces == 0)] = 1 if pieces.max() else 0
    parts = ndi.label(away, np.ones((3,) * region.ndim, bool))[1] if apart.size else 0
    note = _joined_words(label, parts, int(np.count_nonzero(away)), False)
    # number the pieces 1..K (a seed flooded over by its neighbours leaves a gap)
    present = np.unique(pieces[pieces > 0])
    lookup = np.zeros(int(pieces.max()) + 1, np.int32)
    lookup[present] = np.arange(1, len(present) + 1)
    pieces = lookup[pieces]
    full_box: list[slice] = [slice(i, i + 1) if isinstance(i, int) else slice(None) for i in where]
    for k, a in enumerate(kept):
        full_box[a] = box[k]
    block = tuple(full_box)
    return _split_pieces(labels, label, block, pieces.reshape(labels[block].shape), "line", note)


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
    whole: Whole = None,
) -> Edit:
    """Split object ``label`` by seeded watershed.

    Seeds are the given points (K x ndim pixel coordinates inside the object) or else the
    ``pieces`` highest peaks of ``height`` (e.g. a network's seed map) at least
    ``min_distance`` apart; without a height map, of the distance to the object's border.

    The pieces always hold every pixel of the object. With ``whole`` (the object's whole
    extent, its parts other objects hide too: see :data:`Whole`), the watershed runs over
    the whole object, so the parts of a label shown apart (the worm under another at a
    crossing) go with the piece they continue; a part no seed's flood reaches joins the
    piece nearest it.
    """
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    mask = labels == label
    if not mask.any():
        raise ValueError(f"no object with label {label}")
    full = _whole_mask(whole, label, labels.shape)
    full = None if full is None or not (full & ~mask).any() else full | mask
    box = _bbox(mask if full is None else full, margin=1)
    region = mask[box]  # (the pixels to split: the object as the labels show it)
    extent = region if full is None else full[box]  # (where the flood runs)
    if height is not None and height.shape != labels.shape:
        raise ValueError(f"height map shape {height.shape} differs from labels {labels.shape}")
    surface = ndi.distance_transform_edt(extent) if height is None else height[box] * extent
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
        basins = _basins(surface, extent)
        owners = [int(basins[tuple(p)]) for p in inside]
        for k, (p, basin) in enumerate(zip(inside, owners), start=1):
            if owners.count(basin) == 1:
                markers[basins == basin] = k
            markers[tuple(p)] = k
    else:
        peaks = peak_local_max(
            surface, min_distance=min_distance, num_peaks=pieces, labels=extent.astype(np.int32)
        )
        if len(peaks) < 2:
            raise ValueError(f"label {label} has fewer than two peaks to split at")
        markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    split = watershed(-surface, markers, mask=extent) * region
    # the parts of the object as shown with no seed in them (a label shown apart: the worm
    # under another at a crossing, a stray pixel): flooded from the seeds through the hidden
    # parts (``whole``), else (or none reached) joined to the piece nearest them
    parts, count = ndi.label(region, np.ones((3,) * region.ndim, bool))
    seeded = np.zeros(count + 1, bool)
    seeded[parts[markers > 0]] = True
    seeded[0] = True
    apart = np.flatnonzero(~seeded)
    px = int(np.count_nonzero(np.isin(parts, apart)))
    split, _joined, _px = _join_apart(split, region)
    note = _joined_words(label, len(apart), px, full is not None)
    return _split_pieces(labels, label, box, split, "watershed", note)

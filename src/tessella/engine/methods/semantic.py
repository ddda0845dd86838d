"""Semantic segmentation + connected components (EM_Image_Segmentation / BiaPy), 2D and 3D.

The network predicts one foreground probability (e.g. mitochondria in EM). Post-processing,
in the order of :func:`postprocess`:

1. Threshold: foreground where the probability is above ``threshold``.
2. Z filtering (volumes): a median of size ``z_median`` along Z only, which removes the
   single-slice errors of a 2D model run slice by slice. On the thresholded mask it is a
   majority vote of the window, which equals thresholding the median of the probability.
3. Opening then closing with a ball of ``radius`` (removes thin spurious bits, bridges small
   gaps), then ``fill_holes`` (background enclosed within an image plane).
4. Instances: face-connected components (3D for volumes); with ``split``, touching objects
   are cut along the valleys of the distance transform by a watershed from its local maxima
   (at least ``min_distance`` apart). Objects under ``min_size`` pixels (voxels) go.

Anisotropy: ``prediction.meta["spacing"]`` (voxel size per spatial axis) makes the ball an
ellipsoid (``radius`` and ``min_distance`` count pixels of the finest axis) and scales the
distance transform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from scipy import ndimage

from ..params import param
from ._base import Prediction, relative_spacing

__all__ = [
    "NAME",
    "OUTPUT_KINDS",
    "Params",
    "activate",
    "distance_transform",
    "foreground_mask",
    "out_channels",
    "postprocess",
    "split_objects",
]

NAME = "semantic"
#: a 2D model of this method segments a ZYX stack slice by slice; the post-processing is 3D
SLICEWISE_3D = True
OUTPUT_KINDS = {"foreground": "scalar"}
#: split: touching regions stay one object unless their neck is narrower than this fraction
#: of the smaller centre's distance to the background
NECK_RATIO = 0.7


@dataclass(frozen=True)
class Params:
    threshold: float = param(0.5, 0.0, 1.0, "Foreground where the probability is above this.")
    z_median: int = param(
        0,
        0,
        31,
        "Median filter size along Z (volumes; 0 = off; even sizes act as the next odd).",
        needs="Z",
    )
    radius: int = param(
        0, 0, 10, "Opening then closing with a ball of this radius in pixels (0 = off)."
    )
    fill_holes: bool = param(False, help="Fill background enclosed within an image plane.")
    min_size: int = param(100, 0, 1_000_000_000, "Discard objects with fewer pixels (voxels).")
    split: bool = param(False, help="Split touching objects by a distance-transform watershed.")
    min_distance: int = param(
        10,
        1,
        1000,
        "Split: object centres (distance maxima) at least this many pixels apart.",
        only_with="split",
    )


def out_channels(ndim: int) -> tuple[int, ...]:
    """One head with one channel: the foreground logit."""
    return (1,)


def activate(raw, ndim: int) -> dict:
    """Raw network output ``(batch, 1, *spatial)`` -> the foreground probability (torch)."""
    import torch

    return {"foreground": torch.sigmoid(raw[:, 0:1])}


# --- the foreground mask ------------------------------------------------------------------------


def _z_vote(mask: np.ndarray, size: int) -> np.ndarray:
    """Median of a boolean volume along axis 0 with scipy's ``reflect`` border: a window of
    ``size`` (odd) votes, and a voxel stays foreground if more than half of it is."""
    half = size // 2
    padded = np.pad(mask.view(np.uint8), [(half, half)] + [(0, 0)] * (mask.ndim - 1), "symmetric")
    depth = mask.shape[0]
    votes = padded[:depth].copy()
    for shift in range(1, size):  # shifted sums: far cheaper than a general rank filter
        votes += padded[shift : shift + depth]
    return votes > half


def _ball(radius: int, relative: np.ndarray) -> np.ndarray:
    """Ellipsoid footprint: ``radius`` pixels along the finest axis, fewer along coarser ones."""
    reach = np.floor(radius / relative + 1e-9).astype(int)
    grid = np.ogrid[tuple(slice(-r, r + 1) for r in reach)]
    squared = sum((g * rel / radius) ** 2 for g, rel in zip(grid, relative))
    return np.asarray(squared <= 1.0 + 1e-9)


def _fill_planar_holes(mask: np.ndarray) -> np.ndarray:
    """Fill the background that does not reach the edge of its own YX plane."""
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    if mask.ndim == 3:
        structure[0] = structure[2] = False  # no links between planes
    background, _ = ndimage.label(~mask, structure)
    edge = np.concatenate(
        [
            background[..., 0, :],
            background[..., -1, :],
            background[..., :, 0],
            background[..., :, -1],
        ],
        axis=None,
    )
    outside = np.zeros(int(background.max()) + 1, bool)
    outside[edge] = True
    outside[0] = False  # label 0: the foreground itself
    return ~outside[background]


def foreground_mask(prediction: Prediction, params: Params) -> np.ndarray:
    """Boolean foreground after steps 1-3 (threshold, Z median, opening/closing, holes)."""
    probability = np.asarray(prediction.arrays["foreground"])
    if probability.ndim < 3 or probability.shape[0] != 1:
        raise ValueError(f"foreground must be (1, *spatial), got shape {probability.shape}")
    mask = probability[0] > params.threshold
    relative = relative_spacing(prediction, mask.ndim)
    size = params.z_median | 1  # 0 -> 1 (off); even sizes -> the next odd one
    if mask.ndim == 3 and size > 1:
        mask = _z_vote(mask, size)
    if params.radius > 0:
        ball = _ball(params.radius, relative)
        # outside the image counts as foreground for erosions, so objects at the edge survive
        mask = ndimage.binary_dilation(ndimage.binary_erosion(mask, ball, border_value=1), ball)
        mask = ndimage.binary_erosion(ndimage.binary_dilation(mask, ball), ball, border_value=1)
    if params.fill_holes:
        mask = _fill_planar_holes(mask)
    return mask


# --- distance transform and splitting -----------------------------------------------------------

_CHUNK = 16  # lines processed together: one 64-byte cache line of float32 per step


@numba.njit(cache=True, nogil=True)
def _lower_envelope(f, out, weight, v, z):
    """1D squared distance transform of ``f`` (Felzenszwalb & Huttenlocher 2012): ``out[q] =
    min_p weight * (q - p)**2 + f[p]``; entries ``inf`` never win."""
    n = f.shape[0]
    k = -1
    for q in range(n):
        fq = f[q]
        if fq == np.inf:
            continue
        if k < 0:
            k = 0
            v[0] = q
            z[0] = -np.inf
            z[1] = np.inf
            continue
        while True:
            p = v[k]
            s = ((fq + weight * q * q) - (f[p] + weight * p * p)) / (2.0 * weight * (q - p))
            if s > z[k]:
                break
            k -= 1
        k += 1
        v[k] = q
        z[k] = s
        z[k + 1] = np.inf
    if k < 0:
        out[:] = np.inf
        return
    k = 0
    for q in range(n):
        while z[k + 1] < q:
            k += 1
        p = v[k]
        out[q] = weight * (q - p) * (q - p) + f[p]


@numba.njit(cache=True, nogil=True)
def _distance_pass(array, weight):
    """The squared distance step along axis 1 of ``array`` (outer, n, inner), in place.

    ``_CHUNK`` inner lines at a time, so that the strided axes are read a cache line at a
    time; lines of zeros (background) are left alone.
    """
    outer, n, inner = array.shape
    lines = np.empty((_CHUNK, n), np.float64)
    out = np.empty(n, np.float64)
    v = np.empty(n, np.int64)
    z = np.empty(n + 1, np.float64)
    for i in range(outer):
        for start in range(0, inner, _CHUNK):
            width = min(_CHUNK, inner - start)
            for q in range(n):
                for c in range(width):
                    lines[c, q] = array[i, q, start + c]
            for c in range(width):
                line = lines[c]
                if line.max() == 0.0:
                    continue
                _lower_envelope(line, out, weight, v, z)
                line[:] = out
            for q in range(n):
                for c in range(width):
                    array[i, q, start + c] = lines[c, q]


def _axis_lines(array: np.ndarray, axis: int) -> np.ndarray:
    """A (outer, n, inner) view of a C-contiguous ``array`` with axis ``axis`` in the middle."""
    shape = array.shape
    return array.reshape(int(np.prod(shape[:axis])), shape[axis], int(np.prod(shape[axis + 1 :])))


def distance_transform(mask: np.ndarray, sampling=None) -> np.ndarray:
    """Euclidean distance (float32) of every ``mask`` pixel to the nearest background pixel.

    The same as ``scipy.ndimage.distance_transform_edt(mask, sampling)`` (which also computes
    the feature transform and is ten times slower on large volumes); ``inf`` with no background.

    Examples
    --------
    >>> distance_transform(np.array([[0, 1, 1, 1, 0]], bool)).tolist()
    [[0.0, 1.0, 2.0, 1.0, 0.0]]
    """
    mask = np.asarray(mask, bool)
    sampling = np.ones(mask.ndim) if sampling is None else np.broadcast_to(sampling, mask.ndim)
    squared = np.where(mask, np.float32(np.inf), np.float32(0.0))
    for axis in range(mask.ndim):
        _distance_pass(_axis_lines(squared, axis), float(sampling[axis]) ** 2)
    return np.sqrt(squared, out=squared)


@numba.njit(cache=True, nogil=True)
def _heap_push(keys, items, size, key, item):
    """Push onto the binary min-heap ``keys``/``items`` of ``size`` entries; the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        items[i] = items[parent]
        i = parent
    keys[i] = key
    items[i] = item
    return size + 1


@numba.njit(cache=True, nogil=True)
def _heap_pop(keys, items, size):
    """(item with the smallest key, new size) of the heap ``keys``/``items``."""
    top = items[0]
    size -= 1
    key, item = keys[size], items[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= key:
            break
        keys[i] = keys[child]
        items[i] = items[child]
        i = child
    keys[i] = key
    items[i] = item
    return top, size


@numba.njit(cache=True, nogil=True, inline="always")
def _neighbours(index, depth, height, width):
    """Flat indices of the six face neighbours of ``index`` in (depth, height, width); -1
    beyond the edges."""
    plane = height * width
    z, rest = divmod(index, plane)
    y, x = divmod(rest, width)
    return (
        index - plane if z > 0 else -1,
        index + plane if z < depth - 1 else -1,
        index - width if y > 0 else -1,
        index + width if y < height - 1 else -1,
        index - 1 if x > 0 else -1,
        index + 1 if x < width - 1 else -1,
    )


@numba.njit(cache=True, nogil=True)
def _flood(distance, mask, seeds):
    """Seeded watershed of ``-distance`` within ``mask`` (both (Z, Y, X)), face connectivity:
    voxels join the region that reaches them first, flooding from the highest distance down
    (ties: first come, first served). Components without a seed become one region each.

    Returns the regions (int32, seed ``i`` -> ``i + 1``, seedless components after them),
    their number and, for every pair ``a < b`` of touching regions, its saddle: the highest
    ``min(distance)`` over their face contacts.
    """
    depth, height, width = mask.shape
    flat_distance = distance.reshape(-1)
    # non-negative float32 order as their bit patterns do: highest distance = smallest key
    bits = flat_distance.view(np.int32)
    labels = np.where(mask.reshape(-1), np.int32(0), np.int32(-1))  # -1: outside the mask
    n = np.int64(seeds.size + 1)
    saddles = dict()
    saddles[np.int64(-1)] = 0.0  # types the dict; removed below
    capacity = np.count_nonzero(mask)  # every voxel enters the heap once
    keys = np.empty(capacity, np.int64)
    items = np.empty(capacity, np.int64)
    size = 0
    age = np.int64(0)  # the low 32 bits of a key: first come, first served
    for i in range(seeds.size):
        labels[seeds[i]] = i + 1
        rank = np.int64(0x7FFFFFFF - bits[seeds[i]])
        size = _heap_push(keys, items, size, (rank << 32) | age, seeds[i])
        age += 1
    while size > 0:
        index, size = _heap_pop(keys, items, size)
        label = labels[index]
        for other in _neighbours(index, depth, height, width):
            if other < 0:
                continue
            neighbour = labels[other]
            if neighbour == 0:
                labels[other] = label
                rank = np.int64(0x7FFFFFFF - bits[other])
                size = _heap_push(keys, items, size, (rank << 32) | age, other)
                age += 1
            elif neighbour > 0 and neighbour != label:
                key = min(label, neighbour) * n + max(label, neighbour)
                contact = min(flat_distance[index], flat_distance[other])
                if contact > saddles.get(key, -1.0):
                    saddles[key] = contact
    label = np.int32(seeds.size)
    for start in range(labels.size):
        if labels[start] != 0:
            continue
        label += 1
        labels[start] = label
        items[0] = start
        size = 1
        while size > 0:  # depth-first fill, ``items`` as the stack
            size -= 1
            for other in _neighbours(items[size], depth, height, width):
                if other >= 0 and labels[other] == 0:
                    labels[other] = label
                    items[size] = other
                    size += 1
    del saddles[np.int64(-1)]
    pairs = np.empty(len(saddles), np.int64)
    values = np.empty(len(saddles), np.float64)
    for i, (key, value) in enumerate(saddles.items()):
        pairs[i] = key
        values[i] = value
    np.maximum(labels, 0, labels)
    return labels.reshape(mask.shape), label, pairs // n, pairs % n, values


def split_objects(mask: np.ndarray, min_distance: int, spacing=None) -> np.ndarray:
    """Face-connected objects of ``mask`` (int32, 0 = background), touching ones cut apart.

    Seeds are the local maxima of the distance transform within a box of ``min_distance``
    pixels on each side (fewer along coarser axes of ``spacing``); a watershed of the negative
    distance from them divides the objects. Two touching regions stay one object unless the
    neck between them is narrow: its distance (the saddle) below ``NECK_RATIO`` times the
    smaller of the two seeds' distances (e.g. two overlapping discs, but not the bumps of one
    sausage). An object with no seed of its own (a neighbour's larger maximum is in its box)
    stays whole.

    Examples
    --------
    >>> yy, xx = np.mgrid[:20, :36]
    >>> two = ((yy - 10) ** 2 + (xx - 10) ** 2 < 64) | ((yy - 10) ** 2 + (xx - 25) ** 2 < 64)
    >>> labels = split_objects(two, 5)
    >>> int(labels.max()), int(labels[10, 10]), int(labels[10, 25])
    (2, 1, 2)
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    mask = np.ascontiguousarray(mask, bool)
    if mask.all():  # no background, no distances: one object
        return np.ones(mask.shape, np.int32)
    relative = np.ones(mask.ndim) if spacing is None else np.asarray(spacing, np.float64)
    relative = relative / relative.min()
    distance = distance_transform(mask, relative)
    reach = np.floor(min_distance / relative + 1e-9).astype(int)
    window = ndimage.maximum_filter(distance, size=tuple(2 * reach + 1), mode="constant")
    seeds = np.flatnonzero(mask & (distance == window))
    volume = (1,) * (3 - mask.ndim) + mask.shape  # 2D as one plane
    regions, n_regions, first, second, saddle = _flood(
        distance.reshape(volume), mask.reshape(volume), seeds
    )
    peak = np.zeros(n_regions + 1)
    peak[1 : seeds.size + 1] = distance.reshape(-1)[seeds]
    merge = saddle >= NECK_RATIO * np.minimum(peak[first], peak[second])
    n_nodes = n_regions + 1
    graph = coo_matrix((np.ones(int(merge.sum())), (first[merge], second[merge])), (n_nodes,) * 2)
    _, objects = connected_components(graph, directed=False)  # node 0 (background) -> 0
    return objects.astype(np.int32)[regions.reshape(mask.shape)]


# --- entry point --------------------------------------------------------------------------------


def _drop_small(labels: np.ndarray, mask: np.ndarray, min_size: int) -> np.ndarray:
    """``labels`` without objects under ``min_size`` pixels, renumbered 1..n (int32)."""
    sizes = np.bincount(labels[mask], minlength=int(labels.max()) + 1)
    keep = sizes >= max(min_size, 1)
    keep[0] = False
    if keep[1:].all():
        return labels.astype(np.int32, copy=False)
    renumber = np.zeros(sizes.size, np.int32)
    renumber[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return renumber[labels]


def postprocess(prediction: Prediction, params: Params) -> np.ndarray:
    """Instance labels (int32, 0 = background) from a cached ``prediction``.

    ``prediction.arrays["foreground"]`` is a ``(1, *spatial)`` probability; for volumes
    (``ZYX``) the Z median and the components are 3D. ``prediction.meta["spacing"]``, if
    given, is the voxel size per spatial axis. The arrays are not modified.

    Examples
    --------
    >>> probability = np.zeros((1, 8, 16), np.float32)
    >>> probability[0, 1:7, 1:6] = 0.9; probability[0, 1:7, 9:15] = 0.8
    >>> probability[0, 0, 15] = 0.7  # a speck: fewer than min_size pixels
    >>> labels = postprocess(Prediction({"foreground": probability}, "YX"), Params(min_size=5))
    >>> int(labels.max()), int(labels[3, 3]), int(labels[3, 12]), int(labels[0, 15])
    (2, 1, 2, 0)
    """
    mask = foreground_mask(prediction, params)
    if params.split:
        relative = relative_spacing(prediction, mask.ndim)
        labels = split_objects(mask, params.min_distance, relative)
    else:
        labels, _ = ndimage.label(mask)
    return _drop_small(labels, mask, params.min_size)

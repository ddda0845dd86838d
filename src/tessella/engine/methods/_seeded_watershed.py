"""The seeded watershed of a distance map (numba) that :func:`.semantic.split_objects` cuts
touching objects with: a binary heap, the neighbours of a voxel (full connectivity: the 26
voxels sharing a face, an edge or a corner, 8 pixels in a 2D image, the rule of
:func:`tessella.engine.evaluation.mask_pieces`) and the flood, which also records the saddle
between every two touching regions."""

from __future__ import annotations

import numba
import numpy as np

__all__: list[str] = []


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
def _neighbours(index, depth, height, width, out):
    """Fill ``out`` (26 entries) with the flat indices of the voxels that share a face, an
    edge or a corner with ``index`` in (depth, height, width); -1 beyond the edges. ``out``."""
    plane = height * width
    z, rest = divmod(index, plane)
    y, x = divmod(rest, width)
    k = 0
    for dz in range(-1, 2):
        inside_z = 0 <= z + dz < depth
        for dy in range(-1, 2):
            inside_zy = inside_z and 0 <= y + dy < height
            for dx in range(-1, 2):
                if dz == 0 and dy == 0 and dx == 0:
                    continue
                if inside_zy and 0 <= x + dx < width:
                    out[k] = index + dz * plane + dy * width + dx
                else:
                    out[k] = -1
                k += 1
    return out


@numba.njit(cache=True, nogil=True)
def _flood(distance, mask, seeds):
    """Seeded watershed of ``-distance`` within ``mask`` (both (Z, Y, X)), full connectivity
    (:func:`_neighbours`): voxels join the region that reaches them first, flooding from the
    highest distance down (ties: first come, first served). Components without a seed become
    one region each.

    Returns the regions (int32, seed ``i`` -> ``i + 1``, seedless components after them),
    their number and, for every pair ``a < b`` of touching regions, its saddle: the highest
    ``min(distance)`` over their contacts.
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
    around = np.empty(26, np.int64)
    for i in range(seeds.size):
        labels[seeds[i]] = i + 1
        rank = np.int64(0x7FFFFFFF - bits[seeds[i]])
        size = _heap_push(keys, items, size, (rank << 32) | age, seeds[i])
        age += 1
    while size > 0:
        index, size = _heap_pop(keys, items, size)
        label = labels[index]
        for other in _neighbours(index, depth, height, width, around):
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
            for other in _neighbours(items[size], depth, height, width, around):
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

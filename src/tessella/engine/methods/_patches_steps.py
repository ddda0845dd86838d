"""The array functions of PatchPerPix assembly (:mod:`~tessella.engine.methods.patches`, which
re-exports every name and keeps the caches): steps 1-3, the consensus score, the decoding of
candidate patches and the mirrored candidate grid; steps 4-6, the cover, the affinities between
kept patches, their grouping (mutex watershed or connected components) and the painting of an
instance's support. numba and numpy, no state.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _reciprocal_score(coords, patches, claims, index_map):
    """For each candidate: the mean over the candidates it claims of their patch at its
    centre (1 when everyone it claims claims it back)."""
    n, size = patches.shape[0], patches.shape[1]
    half = size // 2
    height, width = index_map.shape
    score = np.zeros(n, np.float32)
    for i in range(n):
        cy, cx = coords[i, 0], coords[i, 1]
        total, count = 0.0, 0
        for dy in range(size):
            y = cy + dy - half
            if y < 0 or y >= height:
                continue
            for dx in range(size):
                x = cx + dx - half
                if x < 0 or x >= width or not claims[i, dy, dx]:
                    continue
                j = index_map[y, x]
                if j < 0:
                    continue
                # candidate j's patch at i's centre
                total += patches[j, cy - y + half, cx - x + half]
                count += 1
        score[i] = total / count if count else 0.0
    return score


def _decode(code: np.ndarray, coords: np.ndarray, weights: dict) -> np.ndarray:
    """Patch probabilities ``(n, P, P)`` at ``coords`` from ``code`` ``(C, Y, X)``, where ``C``
    is the decoder's code size, or ``8 x`` that after test-time augmentation: one code per
    dihedral transform (in :func:`~tessella.engine.tta.dihedral_transforms` order), each
    decoded in its transformed frame, brought back with the transform's inverse and averaged."""
    from ..models.patches import decode_numpy
    from ..tta import dihedral_transforms, inverse_spatial

    size = int(np.shape(weights["w1"])[0])
    transforms = dihedral_transforms(2)
    if code.shape[0] == size:
        return decode_numpy(code[:, coords[:, 0], coords[:, 1]].T, weights)
    if code.shape[0] != size * len(transforms):
        raise ValueError(
            f"patches predictions: code has {code.shape[0]} channels; the decoder takes "
            f"{size} (or {size * len(transforms)} with test-time augmentation)"
        )
    patch = int(weights["patch"])
    total = np.zeros((len(coords), patch, patch), np.float32)
    for k, transform in enumerate(transforms):
        part = code[k * size : (k + 1) * size, coords[:, 0], coords[:, 1]].T
        total += inverse_spatial(decode_numpy(part, weights), transform)
    return total / len(transforms)


def mirrored_grid(length: int, stride: int) -> np.ndarray:
    """Candidate positions along an axis of ``length``: every ``stride``-th from the start in
    the first half, mirrored into the second, so a flip of the image flips the grid onto itself
    (a plain ``[::stride]`` grid moves by a pixel under a flip of an even length, and the
    assembly then depends on the image's orientation).

    Examples
    --------
    >>> mirrored_grid(8, 2).nonzero()[0].tolist()
    [0, 2, 5, 7]
    >>> mirrored_grid(7, 2).nonzero()[0].tolist()
    [0, 2, 4, 6]
    """
    mask = np.zeros(length, bool)
    first = np.arange(0, (length + 1) // 2, stride)
    mask[first] = True
    mask[length - 1 - first] = True
    return mask


@numba.njit(cache=True, nogil=True, inline="always")
def _claimed(claims, i, cy, cx, covered, mark):
    """Candidate ``i``'s claimed pixels in the image (its patch centred at ``(cy, cx)``): how
    many, and how many of them ``covered`` holds already; with ``mark``, set them in ``covered``
    instead (the counts are then not used)."""
    size = claims.shape[1]
    half = size // 2
    claimed, already = 0, 0
    for dy in range(size):
        y = cy + dy - half
        if y < 0 or y >= covered.shape[0]:
            continue
        for dx in range(size):
            x = cx + dx - half
            if 0 <= x < covered.shape[1] and claims[i, dy, dx]:
                if mark:
                    covered[y, x] = True
                else:
                    claimed += 1
                    already += covered[y, x]
    return claimed, already


@numba.njit(cache=True, nogil=True)
def _cover(coords, claims, order, shape, cover_threshold):
    """Kept candidates (in ``order``), skipping those already covered beyond the threshold."""
    covered = np.zeros(shape, np.bool_)
    kept = []
    for i in order:
        cy, cx = coords[i, 0], coords[i, 1]
        claimed, already = _claimed(claims, i, cy, cx, covered, False)
        if claimed == 0 or already > cover_threshold * claimed:
            continue
        kept.append(i)
        _claimed(claims, i, cy, cx, covered, True)
    return np.array(kept, np.int64)


@numba.njit(cache=True, nogil=True)
def _window_agreement(coords, claims, rows, cols):
    """For each pair: IoU of the two patches' claimed pixels within their shared window."""
    size = claims.shape[1]
    out = np.zeros(rows.size, np.float32)
    for e in range(rows.size):
        a, b = rows[e], cols[e]
        dy, dx = coords[b, 0] - coords[a, 0], coords[b, 1] - coords[a, 1]
        both, either = 0, 0
        for y in range(max(0, dy), min(size, size + dy)):
            for x in range(max(0, dx), min(size, size + dx)):
                in_a = claims[a, y, x]
                in_b = claims[b, y - dy, x - dx]
                both += in_a and in_b
                either += in_a or in_b
        out[e] = both / either if either else 0.0
    return out


def _affinities(coords: np.ndarray, patches: np.ndarray, claims: np.ndarray):
    """Pairs of kept patches whose windows overlap, and their affinity: where each holds the
    other's centre, the mean of their patch values there (do they claim each other); for
    farther pairs, the IoU of their claims on the shared window (do they see one shape)."""
    from scipy.spatial import cKDTree

    size = patches.shape[1]
    half = size // 2
    if len(coords) < 2:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0, np.float32)
    pairs = cKDTree(coords).query_pairs(size - 1, p=np.inf, output_type="ndarray")
    rows, cols = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    d = coords[cols] - coords[rows]
    affinity = _window_agreement(coords, claims, rows, cols)
    near = np.all(np.abs(d) <= half, axis=1)
    a_claims_b = patches[rows[near], half + d[near, 0], half + d[near, 1]]
    b_claims_a = patches[cols[near], half - d[near, 0], half - d[near, 1]]
    affinity[near] = 0.5 * (a_claims_b + b_claims_a)
    return rows, cols, affinity


def _find(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _mutex_watershed(n, rows, cols, affinity, threshold):
    """Mutex watershed (Wolf et al. 2018) on a signed graph: edges by decreasing
    ``|affinity - threshold|``; an attractive one merges unless the clusters repel, a
    repulsive one makes them repel."""
    parent = list(range(n))
    mutex: list[set] = [set() for _ in range(n)]
    for e in np.argsort(-np.abs(affinity - threshold), kind="stable"):
        a, b = _find(parent, int(rows[e])), _find(parent, int(cols[e]))
        if a == b:
            continue
        if affinity[e] > threshold:
            if b in mutex[a]:
                continue
            parent[b] = a
            mutex[a] |= mutex[b]
            for m in mutex[b]:
                mutex[m].discard(b)
                mutex[m].add(a)
            mutex[b] = set()
        else:
            mutex[a].add(b)
            mutex[b].add(a)
    return np.array([_find(parent, i) for i in range(n)])


def _components(n, rows, cols, affinity, threshold):
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    keep = affinity > threshold
    graph = coo_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


@numba.njit(cache=True, nogil=True)
def _paint_box(coords, claims, members, top, left, height, width, shape):
    """One instance's support inside its box: the fraction of its patches covering each
    pixel that claim it (0 where none covers it)."""
    size = claims.shape[1]
    half = size // 2
    votes = np.zeros((height, width), np.float32)
    seen = np.zeros((height, width), np.float32)
    for i in members:
        cy, cx = coords[i, 0], coords[i, 1]
        for dy in range(size):
            y = cy + dy - half
            if y < 0 or y >= shape[0]:
                continue
            for dx in range(size):
                x = cx + dx - half
                if 0 <= x < shape[1]:
                    seen[y - top, x - left] += 1
                    if claims[i, dy, dx]:
                        votes[y - top, x - left] += 1
    for y in range(height):
        for x in range(width):
            if seen[y, x] > 0:
                votes[y, x] /= seen[y, x]
    return votes

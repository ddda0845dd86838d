"""Seed-ordered Gaussian clustering of spatial embeddings (EmbedSeg), in numba.

EmbedSeg compares every seed's Gaussian with every foreground pixel (seeds x pixels). Here the
foreground pixels are bucketed by *where their embedding lands* on a coarse grid, so a seed only
looks at the buckets inside its Gaussian's ``cutoff`` ellipse: the same result, in time
proportional to the pixels near each centre.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["cluster_embeddings"]

_CELL = 4.0  # bucket edge in pixels


@numba.njit(cache=True, nogil=True)
def _cluster_kernel(emb, scale, seed, order, seed_thresh, log_cutoff, min_size, min_unclustered):
    n = emb.shape[1]
    lo0, lo1, lo2 = emb[0].min(), emb[1].min(), emb[2].min()
    dims = np.empty(3, np.int64)
    dims[0] = int((emb[0].max() - lo0) / _CELL) + 1
    dims[1] = int((emb[1].max() - lo1) / _CELL) + 1
    dims[2] = int((emb[2].max() - lo2) / _CELL) + 1
    cell_of = np.empty(n, np.int64)
    for j in range(n):
        c0 = int((emb[0, j] - lo0) / _CELL)
        c1 = int((emb[1, j] - lo1) / _CELL)
        c2 = int((emb[2, j] - lo2) / _CELL)
        cell_of[j] = (c0 * dims[1] + c1) * dims[2] + c2
    n_cells = dims[0] * dims[1] * dims[2]
    start = np.zeros(n_cells + 1, np.int64)
    for j in range(n):
        start[cell_of[j] + 1] += 1
    for c in range(n_cells):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    members_of_cell = np.empty(n, np.int64)
    for j in range(n):
        members_of_cell[fill[cell_of[j]]] = j
        fill[cell_of[j]] += 1

    labels = np.zeros(n, np.int32)
    clustered = np.zeros(n, np.bool_)
    scores = np.zeros(len(order) + 1, np.float32)
    proposal = np.empty(n, np.int64)
    radius = np.empty(3, np.float64)
    low = np.empty(3, np.int64)
    high = np.empty(3, np.int64)
    n_labels = 0
    for idx in order:
        if seed[idx] < seed_thresh:
            break
        if clustered[idx]:
            continue
        centre0, centre1, centre2 = emb[0, idx], emb[1, idx], emb[2, idx]
        s0, s1, s2 = scale[0, idx], scale[1, idx], scale[2, idx]
        radius[0] = np.sqrt(-log_cutoff / s0)
        radius[1] = np.sqrt(-log_cutoff / s1)
        radius[2] = np.sqrt(-log_cutoff / s2)
        lows = (centre0 - radius[0] - lo0, centre1 - radius[1] - lo1, centre2 - radius[2] - lo2)
        highs = (centre0 + radius[0] - lo0, centre1 + radius[1] - lo1, centre2 + radius[2] - lo2)
        for d in range(3):
            low[d] = max(0, int(lows[d] / _CELL))
            high[d] = min(dims[d] - 1, int(highs[d] / _CELL))
        count = 0
        fresh = 0
        for c0 in range(low[0], high[0] + 1):
            for c1 in range(low[1], high[1] + 1):
                base = (c0 * dims[1] + c1) * dims[2]
                for c2 in range(low[2], high[2] + 1):
                    cell = base + c2
                    for k in range(start[cell], start[cell + 1]):
                        j = members_of_cell[k]
                        d0 = emb[0, j] - centre0
                        d1 = emb[1, j] - centre1
                        d2 = emb[2, j] - centre2
                        if s0 * d0 * d0 + s1 * d1 * d1 + s2 * d2 * d2 < -log_cutoff:
                            proposal[count] = j
                            count += 1
                            if not clustered[j]:
                                fresh += 1
        if count >= min_size and count > 0 and fresh > min_unclustered * count:
            n_labels += 1
            scores[n_labels] = seed[idx]
            for k in range(count):
                if labels[proposal[k]] == 0:
                    labels[proposal[k]] = n_labels
        for k in range(count):
            clustered[proposal[k]] = True
        clustered[idx] = True
    return labels, scores[: n_labels + 1]


def cluster_embeddings(
    embeddings: np.ndarray,
    scales: np.ndarray,
    seed: np.ndarray,
    seed_thresh: float,
    cutoff: float,
    min_size: int,
    min_unclustered: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster ``n`` foreground pixels.

    Parameters
    ----------
    embeddings : (ndim, n) float
        Where each pixel's embedding lands, in pixel units.
    scales : (ndim, n) float
        Per-axis Gaussian precision in 1/pixel^2: membership is
        ``exp(-sum_d scales[d] * (e_d - centre_d)^2)``.
    seed : (n,) float
        Seediness of each pixel.

    Returns
    -------
    labels : (n,) int32, 0 for unclustered pixels; scores : (n_labels + 1,) float32, the seed
    score of each label's centre (index 0 unused).
    """
    ndim, n = embeddings.shape
    if n == 0:
        return np.zeros(0, np.int32), np.zeros(1, np.float32)
    emb3 = np.zeros((3, n), np.float64)
    scale3 = np.ones((3, n), np.float64)
    emb3[3 - ndim :] = embeddings
    scale3[3 - ndim :] = scales
    seed = np.ascontiguousarray(seed, dtype=np.float32)
    order = np.argsort(-seed, kind="stable")
    return _cluster_kernel(
        emb3,
        scale3,
        seed,
        order,
        float(seed_thresh),
        float(np.log(cutoff)),
        int(min_size),
        float(min_unclustered),
    )

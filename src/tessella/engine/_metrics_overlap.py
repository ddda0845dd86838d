"""The overlap (contingency) table of two label images, and the IoU matrix computed from it.

One sparse table, built in a single vectorised pass over the pixels, gives every pair of
overlapping objects and its pixel count; every metric of :mod:`tessella.engine.metrics` starts
from it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["iou_matrix"]


def _check_pair(labels_true, labels_pred) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(labels_true)
    p = np.asarray(labels_pred)
    if t.shape != p.shape:
        raise ValueError(
            f"label images differ in shape: labels_true {t.shape} vs labels_pred {p.shape}"
        )
    for name, a in (("labels_true", t), ("labels_pred", p)):
        if a.dtype != bool and not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"{name} must be an integer label image, got dtype {a.dtype}")
        if a.size and np.issubdtype(a.dtype, np.signedinteger) and a.min() < 0:
            raise ValueError(f"{name} contains negative labels")
    return t.reshape(-1), p.reshape(-1)


def _relabel(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (ids, index of each pixel in ids, pixel count per id), all labels incl. 0."""
    top = int(x.max()) if x.size else 0
    if top <= 4 * x.size + 1024:  # O(n) path: bincount on the raw values
        xi = x.astype(np.intp, copy=False)
        counts = np.bincount(xi, minlength=1)
        ids = np.flatnonzero(counts)
        lut = np.zeros(counts.size, dtype=np.intp)
        lut[ids] = np.arange(ids.size)
        return ids, lut[xi], counts[ids]
    ids, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    return ids, inverse.reshape(-1), counts


def _contingency(labels_true, labels_pred):
    """Sparse overlap table between the foreground objects of two label images.

    Returns ``(true_ids, pred_ids, true_sizes, pred_sizes, rows, cols, counts)``:
    sorted non-zero ids, their pixel counts, and the non-zero table entries
    ``counts[k] = |true_ids[rows[k]] ∩ pred_ids[cols[k]]|``.
    """
    t, p = _check_pair(labels_true, labels_pred)
    t_ids, t_idx, t_cnt = _relabel(t)
    p_ids, p_idx, p_cnt = _relabel(p)
    n_p = p_ids.size
    both = (t != 0) & (p != 0)
    codes = t_idx[both].astype(np.int64) * n_p + p_idx[both]
    if t_ids.size * n_p <= 4 * t.size + 1024:
        table = np.bincount(codes, minlength=t_ids.size * n_p)
        codes = np.flatnonzero(table)
        counts = table[codes]
    else:
        codes, counts = np.unique(codes, return_counts=True)
    rows, cols = np.divmod(codes, n_p)
    # drop background (label 0 sorts first when present)
    t0 = int(t_ids.size > 0 and t_ids[0] == 0)
    p0 = int(p_ids.size > 0 and p_ids[0] == 0)
    return (
        t_ids[t0:],
        p_ids[p0:],
        t_cnt[t0:].astype(np.int64),
        p_cnt[p0:].astype(np.int64),
        rows - t0,
        cols - p0,
        counts.astype(np.int64),
    )


def iou_matrix(labels_true, labels_pred) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersection over union between every pair of objects.

    Parameters
    ----------
    labels_true, labels_pred : array_like of int
        Label images of identical shape; 0 is background.

    Returns
    -------
    iou : ndarray of float64, shape (n_true, n_pred)
        ``iou[i, j]`` is the IoU of ``true_ids[i]`` and ``pred_ids[j]``.
    true_ids, pred_ids : ndarray
        Sorted object ids (background excluded) indexing the rows / columns.

    Examples
    --------
    >>> a = np.array([[1, 1, 0, 0]])
    >>> b = np.array([[0, 5, 5, 0]])
    >>> iou, t, p = iou_matrix(a, b)
    >>> iou, t, p
    (array([[0.33333333]]), array([1]), array([5]))
    """
    t_ids, p_ids, t_sz, p_sz, rows, cols, inter = _contingency(labels_true, labels_pred)
    iou = np.zeros((t_ids.size, p_ids.size), dtype=np.float64)
    iou[rows, cols] = inter / (t_sz[rows] + p_sz[cols] - inter)
    return iou, t_ids, p_ids

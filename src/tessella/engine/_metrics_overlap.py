"""The overlap (contingency) table of two label images, and the IoU of the pairs of objects
that overlap, computed from it.

One sparse table, built a chunk of pixels at a time (:data:`CHUNK_PIXELS`, so that its
temporary arrays stay small on a large image), gives every pair of overlapping objects and
its pixel count; every metric of :mod:`tessella.engine.metrics` starts from it. The IoU is
kept sparse too (:class:`SparseIoU`): a pair that shares no pixel has none, and the dense
``(n_true, n_pred)`` matrix (:func:`iou_matrix`) is made only where asked for.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

__all__ = ["CHUNK_PIXELS", "SparseIoU", "iou_matrix", "iou_pairs"]

#: pixels of each label image read at a time by the overlap table (its temporary arrays:
#: about 30 bytes a pixel, so about 130 MB a chunk); an image of more pixels is read in
#: chunks, a step of :func:`_contingency_steps` each
CHUNK_PIXELS = 2**22
#: the longest table of counts indexed by label value (or by pair of objects) made at once,
#: 256 MB of int64; beyond, the values are sorted instead (:func:`numpy.unique`)
_TABLE_MAX = 2**25


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


def _one_dtype(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """``arrays`` of label ids (never negative) in one integer dtype: NumPy's common type,
    but uint64 where uint64 meets a signed type (whose common type is float64, which merges
    the ids above 2**53 that differ by less than their spacing).

    >>> [a.dtype.name for a in _one_dtype([np.array([2**60 + 1], np.uint64), np.arange(2)])]
    ['uint64', 'uint64']
    """
    dtype = np.result_type(*arrays) if arrays else np.dtype(np.int64)
    if dtype.kind not in "iub":
        dtype = np.dtype(np.uint64)
    return [a.astype(dtype, copy=False) for a in arrays]


def _merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The sorted values and summed counts of several ``(values, counts)`` tables (the
    values in one integer dtype: :func:`_one_dtype`)."""
    if len(parts) == 1:
        return parts[0]
    joined = np.concatenate(_one_dtype([v for v, _ in parts]))
    values, where = np.unique(joined, return_inverse=True)
    counts = np.bincount(where.reshape(-1), np.concatenate([c for _, c in parts]), values.size)
    return values, counts.astype(np.int64)


class _Ids:
    """The ids of a flat label image (incl. 0) and their pixel counts (as :func:`_relabel`
    gives them), read a chunk at a time by :meth:`read`, and the index in ``ids`` of any of
    its label values (:meth:`index`)."""

    def __init__(self) -> None:
        self.ids = self.counts = np.zeros(0, np.int64)
        self.lut: np.ndarray | None = None

    def read(self, x: np.ndarray, starts: range, chunk: int) -> Generator[None, None, None]:
        """Reads ``x``, yielding after each chunk but the last."""
        top = int(x.max()) if x.size else 0
        small = top <= min(4 * x.size + 1024, _TABLE_MAX)  # O(n): bincount on the values
        counts = np.zeros(top + 1 if small else 0, np.int64)
        parts = []
        for k, s in enumerate(starts, 1):
            if small:
                counts += np.bincount(x[s : s + chunk].astype(np.intp, copy=False), None, top + 1)
            else:
                parts.append(np.unique(x[s : s + chunk], return_counts=True))
            if k < len(starts):
                yield
        if small:
            self.ids = np.flatnonzero(counts)
            self.counts = counts[self.ids]
            self.lut = np.zeros(counts.size, dtype=np.intp)
            self.lut[self.ids] = np.arange(self.ids.size)
        else:
            self.ids, self.counts = _merge_counts(parts)

    def index(self, values: np.ndarray) -> np.ndarray:
        if self.lut is not None:
            return self.lut[values.astype(np.intp, copy=False)]
        return np.searchsorted(self.ids, values)


def _contingency_steps(
    labels_true, labels_pred, chunk: int = CHUNK_PIXELS
) -> Generator[tuple[int, int], None, tuple]:
    """:func:`_contingency` as steps: yields ``(done, total)`` chunks of pixels read (two
    reads of each image: ids, then pairs) and returns the table."""
    t, p = _check_pair(labels_true, labels_pred)
    starts = range(0, max(t.size, 1), chunk)
    total = 3 * len(starts)
    t_ids, p_ids = _Ids(), _Ids()
    done = 0
    for ids, x in ((t_ids, t), (p_ids, p)):
        for _ in ids.read(x, starts, chunk):
            done += 1
            yield done, total
        done += 1
        yield done, total
    n_p = p_ids.ids.size
    small = t_ids.ids.size * n_p <= min(4 * t.size + 1024, _TABLE_MAX)
    table = np.zeros(t_ids.ids.size * n_p if small else 0, np.int64)
    parts = []
    for k, s in enumerate(starts, 1):
        tc, pc = t[s : s + chunk], p[s : s + chunk]
        both = (tc != 0) & (pc != 0)
        codes = t_ids.index(tc[both]).astype(np.int64) * n_p + p_ids.index(pc[both])
        if small:
            table += np.bincount(codes, minlength=table.size)
        else:
            parts.append(np.unique(codes, return_counts=True))
        if k < len(starts):
            yield 2 * len(starts) + k, total
    if small:
        codes = np.flatnonzero(table)
        counts = table[codes]
    elif parts:
        codes, counts = _merge_counts(parts)
    else:
        codes = counts = np.zeros(0, np.int64)
    rows, cols = np.divmod(codes, n_p)
    # drop background (label 0 sorts first when present)
    t0 = int(t_ids.ids.size > 0 and t_ids.ids[0] == 0)
    p0 = int(p_ids.ids.size > 0 and p_ids.ids[0] == 0)
    yield total, total
    return (
        t_ids.ids[t0:],
        p_ids.ids[p0:],
        t_ids.counts[t0:].astype(np.int64),
        p_ids.counts[p0:].astype(np.int64),
        (rows - t0).astype(np.intp),
        (cols - p0).astype(np.intp),
        counts.astype(np.int64),
    )


def _contingency(labels_true, labels_pred):
    """Sparse overlap table between the foreground objects of two label images.

    Returns ``(true_ids, pred_ids, true_sizes, pred_sizes, rows, cols, counts)``:
    sorted non-zero ids, their pixel counts, and the non-zero table entries
    ``counts[k] = |true_ids[rows[k]] ∩ pred_ids[cols[k]]|``, sorted by ``(rows, cols)``.
    """
    steps = _contingency_steps(labels_true, labels_pred)
    while True:
        try:
            next(steps)
        except StopIteration as end:
            return end.value


@dataclass(frozen=True)
class SparseIoU:
    """The IoU of the pairs of objects that overlap: ``values[k]`` is the IoU of true object
    ``rows[k]`` and predicted object ``cols[k]`` (indices into the ids), sorted by
    ``(rows, cols)``; every other pair of the ``shape`` ``(n_true, n_pred)`` has IoU 0."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    shape: tuple[int, int]

    def toarray(self) -> np.ndarray:
        """The dense ``(n_true, n_pred)`` float64 matrix (:func:`iou_matrix`'s)."""
        iou = np.zeros(self.shape, dtype=np.float64)
        iou[self.rows, self.cols] = self.values
        return iou


def _iou_steps(
    labels_true, labels_pred
) -> Generator[tuple[int, int], None, tuple[SparseIoU, np.ndarray, np.ndarray]]:
    """:func:`iou_pairs` as steps: yields ``(done, total)`` chunks of pixels read."""
    table = yield from _contingency_steps(labels_true, labels_pred)
    t_ids, p_ids, t_sz, p_sz, rows, cols, inter = table
    values = inter / (t_sz[rows] + p_sz[cols] - inter)
    return SparseIoU(rows, cols, values, (t_ids.size, p_ids.size)), t_ids, p_ids


def iou_pairs(labels_true, labels_pred) -> tuple[SparseIoU, np.ndarray, np.ndarray]:
    """The IoU of every pair of objects that overlap (:func:`iou_matrix` without its zeros).

    Returns ``(iou, true_ids, pred_ids)``: a :class:`SparseIoU` and the sorted object ids
    (background excluded) its rows and columns index. Its size grows with the pairs that
    share pixels, not with ``n_true * n_pred``.

    >>> iou, t, p = iou_pairs(np.array([[1, 1, 0, 2]]), np.array([[0, 5, 5, 5]]))
    >>> iou.rows, iou.cols, iou.values, iou.shape
    (array([0, 1]), array([0, 0]), array([0.25      , 0.33333333]), (2, 1))
    """
    steps = _iou_steps(labels_true, labels_pred)
    while True:
        try:
            next(steps)
        except StopIteration as end:
            return end.value


def iou_matrix(labels_true, labels_pred) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersection over union between every pair of objects.

    The matrix has ``n_true * n_pred`` entries (8 bytes each: 3.9 GB for 22 000 objects on
    each side), almost all 0; :func:`iou_pairs` gives the pairs that overlap alone, and is
    what the metrics use.

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
    iou, t_ids, p_ids = iou_pairs(labels_true, labels_pred)
    return iou.toarray(), t_ids, p_ids

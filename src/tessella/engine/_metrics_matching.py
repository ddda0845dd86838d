"""One-to-one matching of objects at an IoU threshold, and the average precision of a dataset."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

from ._metrics_overlap import SparseIoU, iou_pairs

__all__ = [
    "DEFAULT_THRESHOLDS",
    "MatchingResult",
    "average_precision_scores",
    "match_indices",
    "matching",
    "matching_over_thresholds",
]


DEFAULT_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class MatchingResult:
    """Object-level detection counts and scores at one IoU threshold.

    ``ap`` is ``tp / (tp + fp + fn)``, the "average precision" of the
    DSB2018 / StarDist / Cellpose papers. Ratios whose denominator is zero are
    0.0, except when both images are empty, where precision, recall, f1 and
    ap are all 1.0.
    """

    threshold: float
    n_true: int
    n_pred: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    ap: float
    mean_matched_iou: float

    def as_dict(self) -> dict:
        """Return the fields as a plain ``dict``."""
        return asdict(self)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else 0.0


def match_indices(iou: np.ndarray | SparseIoU, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows (true objects) and columns (predicted) of the pairs matched one-to-one in ``iou``
    (a dense matrix or the :class:`SparseIoU` of the pairs that overlap; the same pairs).

    Above IoU 0.5 an object can overlap at most one other that much, so the pairs over the
    threshold are the matching; at or below 0.5 a maximum matching is solved.
    """
    if isinstance(iou, SparseIoU):
        found = _sparse_match(iou, threshold)
        return iou.rows[found], iou.cols[found]
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"IoU threshold must be in (0, 1], got {threshold}")
    hit = iou >= threshold
    if not hit.any():
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    if threshold > 0.5:
        rows, cols = np.nonzero(hit)
        return rows, cols
    # Maximise the number of pairs above threshold; IoU breaks ties. The tie-break sums
    # to <= 1/2 over any matching, so it never trades a pair.
    cost = -hit.astype(np.float64) - iou / (2 * min(iou.shape))
    rows, cols = linear_sum_assignment(cost)
    ok = hit[rows, cols]
    return rows[ok], cols[ok]


#: the largest group of objects (true x predicted) matched with a dense cost matrix; a
#: bigger one (a dense tissue whose objects all touch) is matched on its sparse graph
DENSE_GROUP_MAX = 2**22


def _sparse_match(iou: SparseIoU, threshold: float) -> np.ndarray:
    """The positions in ``iou``'s pairs of those :func:`match_indices` matches, sorted by row.

    The matching is the dense one's: every pair over a threshold above 0.5; at or below,
    the maximum matching of the pairs over the threshold, among those the one of the highest
    IoU summed over all pairs assigned (the cost of the dense matrix). That cost adds up over
    the groups of objects linked by overlaps (the connected pieces of the overlap graph), so
    each group is solved alone; a group where no object has two pairs over the threshold has
    one maximum matching, its pairs over the threshold, and needs no solving at all. Where two
    matchings are equally good (an object cut into two exact halves, IoU 0.5 each) the one
    chosen may differ from the dense solver's; the counts and scores cannot.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"IoU threshold must be in (0, 1], got {threshold}")
    hit = iou.values >= threshold
    found = np.flatnonzero(hit)
    if threshold > 0.5 or not found.size:
        return found
    n_true, n_pred = iou.shape
    rows, cols = iou.rows, iou.cols
    twice = (np.bincount(rows[hit], minlength=n_true) > 1)[rows] | (
        np.bincount(cols[hit], minlength=n_pred) > 1
    )[cols]
    if not twice.any():
        return found
    graph = coo_matrix(
        (np.ones(rows.size, np.int8), (rows, n_true + cols)), shape=(n_true + n_pred,) * 2
    )
    _, group = connected_components(graph, directed=False)
    pair_group = group[rows]  # (both ends of a pair are in one group)
    solve = np.zeros(group.max() + 1, bool)
    solve[pair_group[twice]] = True
    kept = [found[~solve[pair_group[found]]]]
    scale = 2 * min(iou.shape)
    order = np.argsort(pair_group, kind="stable")
    bounds = np.searchsorted(pair_group[order], np.flatnonzero(solve), side="left")
    ends = np.searchsorted(pair_group[order], np.flatnonzero(solve), side="right")
    for start, end in zip(bounds, ends, strict=True):
        pairs = order[start:end]  # (sorted by position: by row, then column)
        taken = _group_match(rows[pairs], cols[pairs], iou.values[pairs], hit[pairs], scale)
        kept.append(pairs[taken])
    found = np.concatenate(kept)
    return found[np.argsort(rows[found], kind="stable")]


def _group_match(rows, cols, values, hit, scale) -> np.ndarray:
    """The positions of the pairs over the threshold that the dense cost matrix's assignment
    takes within one group of overlapping objects (its pairs ``rows``, ``cols``)."""
    r_ids, r = np.unique(rows, return_inverse=True)
    c_ids, c = np.unique(cols, return_inverse=True)
    cost = -hit.astype(np.float64) - values / scale
    if r_ids.size * c_ids.size <= DENSE_GROUP_MAX:
        dense = np.zeros((r_ids.size, c_ids.size))
        dense[r, c] = cost
        got_r, got_c = linear_sum_assignment(dense)
    else:  # a full matching of the rows, each with a column of its own to stay unmatched
        n = r_ids.size
        weights = np.concatenate([cost + 2.0, np.full(n, 2.0)])  # (> 0: every entry an edge)
        own = np.arange(n)
        where = (np.concatenate([r, own]), np.concatenate([c, c_ids.size + own]))
        graph = csr_matrix((weights, where), shape=(n, c_ids.size + n))
        got_r, got_c = min_weight_full_bipartite_matching(graph)
    # the pairs taken that overlap, as positions among the group's (sorted by row, column)
    n_cols = c_ids.size
    codes = r.astype(np.int64) * n_cols + c
    real = got_c < n_cols
    taken = got_r[real].astype(np.int64) * n_cols + got_c[real]
    at = np.minimum(np.searchsorted(codes, taken), codes.size - 1)
    at = at[codes[at] == taken]
    return at[hit[at]]


def _match(iou: np.ndarray | SparseIoU, threshold: float) -> MatchingResult:
    n_true, n_pred = iou.shape
    if isinstance(iou, SparseIoU):
        found = _sparse_match(iou, threshold)
        matched = iou.values[found]
    else:
        rows, cols = match_indices(iou, threshold)
        matched = iou[rows, cols]
    tp = int(matched.size)
    fp, fn = n_pred - tp, n_true - tp
    if n_true == 0 and n_pred == 0:
        precision = recall = f1 = ap = 1.0
    else:
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        f1, ap = _ratio(2 * tp, 2 * tp + fp + fn), _ratio(tp, tp + fp + fn)
    return MatchingResult(
        threshold=float(threshold),
        n_true=int(n_true),
        n_pred=int(n_pred),
        tp=tp,
        fp=int(fp),
        fn=int(fn),
        precision=precision,
        recall=recall,
        f1=f1,
        ap=ap,
        mean_matched_iou=float(matched.mean()) if tp else 0.0,
    )


def matching(labels_true, labels_pred, threshold: float = 0.5) -> MatchingResult:
    """One-to-one object matching at an IoU threshold.

    A pair counts as a true positive when its IoU is ``>= threshold``. The
    matching maximises the number of such pairs (Hungarian algorithm,
    :func:`scipy.optimize.linear_sum_assignment`) and, among maximum matchings,
    prefers higher IoU, exactly like StarDist's ``matching``. For
    ``threshold >= 0.5`` the matching is unique anyway. With no object on either side every
    score is 1.0 (StarDist's is 0.0); dataset means leave such images out.

    Parameters
    ----------
    labels_true, labels_pred : array_like of int
        Label images of identical shape; 0 is background.
    threshold : float
        IoU threshold in (0, 1].

    Returns
    -------
    MatchingResult

    Examples
    --------
    >>> gt = np.array([[1, 1, 0, 2, 2]])
    >>> pred = np.array([[3, 3, 0, 0, 4]])
    >>> r = matching(gt, pred, threshold=0.5)
    >>> r.tp, r.fp, r.fn, r.ap
    (2, 0, 0, 1.0)
    >>> matching(gt, pred, threshold=0.6).ap  # object 2 vs 4 has IoU 0.5
    0.3333333333333333
    """
    return _match(iou_pairs(labels_true, labels_pred)[0], threshold)


def matching_over_thresholds(
    labels_true, labels_pred, thresholds: Sequence[float] = DEFAULT_THRESHOLDS
) -> list[MatchingResult]:
    """:func:`matching` at several thresholds, computing the IoU of the overlapping pairs once.

    Examples
    --------
    >>> gt = np.array([[1, 1, 0, 2, 2]])
    >>> pred = np.array([[3, 3, 0, 0, 4]])
    >>> [r.tp for r in matching_over_thresholds(gt, pred, (0.5, 0.9))]
    [2, 1]
    """
    iou = iou_pairs(labels_true, labels_pred)[0]
    return [_match(iou, thr) for thr in thresholds]


def average_precision_scores(
    pairs: Iterable, thresholds: Sequence[float] = DEFAULT_THRESHOLDS
) -> dict:
    """Dataset-level AP(τ), averaged per image.

    For every ``(labels_true, labels_pred)`` pair the per-image
    ``ap = tp / (tp + fp + fn)`` (and precision, recall, f1) is computed at each
    threshold; the returned values are means over the images with an object in the truth or
    the prediction (an image with neither has nothing to score and is left out, unless all
    are such; ``scored_images`` counts those averaged).

    Returns
    -------
    dict
        ``{"ap": {thr: float}, "avs": float, "precision": {thr: float},
        "recall": {thr: float}, "f1": {thr: float}, "n_images": int,
        "scored_images": int}`` where ``avs`` is the mean of ``ap`` over thresholds.

    Examples
    --------
    >>> gt = np.array([[1, 1, 0, 2, 2]])
    >>> pairs = [(gt, gt), (gt, np.zeros_like(gt))]
    >>> s = average_precision_scores(pairs, thresholds=(0.5,))
    >>> s["ap"], s["avs"], s["n_images"]
    ({0.5: 0.5}, 0.5, 2)
    """
    thresholds = [float(t) for t in thresholds]
    if not thresholds:
        raise ValueError("at least one threshold is required")
    return _means_over_images(
        [matching_over_thresholds(t, p, thresholds) for t, p in pairs], thresholds
    )


def _means_over_images(per_image: list[list[MatchingResult]], thresholds) -> dict:
    """The dataset scores of per-image matchings (one list over ``thresholds`` per image).

    An image with no object in either the truth or the prediction has nothing to score: it
    is left out of the means (its 1.0 would lift them; StarDist's 0.0 would lower them),
    unless no image has any object, when every score is 1.0. ``scored_images`` counts the
    images averaged.
    """
    if not per_image:
        raise ValueError("no image pairs given")
    keys = ("ap", "precision", "recall", "f1")
    scored = [r for r in per_image if r[0].n_true or r[0].n_pred] or per_image
    values = np.asarray([[[getattr(m, k) for k in keys] for m in r] for r in scored], np.float64)
    means = values.mean(axis=0)  # (thr, key)
    out: dict = {
        k: {thr: float(means[i, j]) for i, thr in enumerate(thresholds)} for j, k in enumerate(keys)
    }
    out["avs"] = float(np.mean(means[:, 0]))
    out["n_images"] = len(per_image)
    out["scored_images"] = sum(bool(r[0].n_true or r[0].n_pred) for r in per_image)
    return out

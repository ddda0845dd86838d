"""Instance segmentation metrics for label images (pure numpy/scipy).

Label images are integer arrays of any dimensionality in which 0 is
background and every other value identifies one object; label values need
not be sequential. Inputs are never modified. Every metric is computed from
one sparse overlap (contingency) table built in a single vectorised pass
over the pixels, so large images with thousands of objects stay fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = [
    "MatchingResult",
    "average_precision_scores",
    "foreground_iou",
    "iou_matrix",
    "matching",
    "matching_over_thresholds",
    "rand_voi",
    "seg_score",
    "stack_iou_matrix",
    "stack_average_precision_scores",
    "labels_to_stack",
    "seg_scores",
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


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else 0.0


def match_indices(iou: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows (true objects) and columns (predicted) of the pairs matched one-to-one in ``iou``.

    Above IoU 0.5 an object can overlap at most one other that much, so the pairs over the
    threshold are the matching; at or below 0.5 a maximum matching is solved.
    """
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


def _match(iou: np.ndarray, threshold: float) -> MatchingResult:
    n_true, n_pred = iou.shape
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
    return _match(iou_matrix(labels_true, labels_pred)[0], threshold)


def matching_over_thresholds(
    labels_true, labels_pred, thresholds: Sequence[float] = DEFAULT_THRESHOLDS
) -> list[MatchingResult]:
    """:func:`matching` at several thresholds, computing the IoU matrix once.

    Examples
    --------
    >>> gt = np.array([[1, 1, 0, 2, 2]])
    >>> pred = np.array([[3, 3, 0, 0, 4]])
    >>> [r.tp for r in matching_over_thresholds(gt, pred, (0.5, 0.9))]
    [2, 1]
    """
    iou = iou_matrix(labels_true, labels_pred)[0]
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


def _seg_sum(labels_true, labels_pred) -> tuple[float, int]:
    _, _, t_sz, p_sz, rows, cols, inter = _contingency(labels_true, labels_pred)
    hit = 2 * inter > t_sz[rows]  # |P ∩ G| > 0.5 |G|: at most one P per G
    r, c, n = rows[hit], cols[hit], inter[hit]
    return float(np.sum(n / (t_sz[r] + p_sz[c] - n))), int(t_sz.size)


def seg_score(labels_true, labels_pred) -> float:
    """Cell Tracking Challenge SEG measure for one image.

    Each ground-truth object G is matched to the predicted object P with
    ``|P ∩ G| > 0.5 |G|`` (at most one exists) and scores the Jaccard index
    ``|P ∩ G| / |P ∪ G|``; unmatched objects score 0. SEG is the mean over
    ground-truth objects, NaN if there are none.

    Examples
    --------
    >>> gt = np.array([[1, 1, 1, 1, 0, 2, 2]])
    >>> pred = np.array([[5, 5, 5, 0, 0, 6, 0]])
    >>> seg_score(gt, pred)  # (3/4 + 0) / 2: object 2 is only half covered
    0.375
    """
    total, n = _seg_sum(labels_true, labels_pred)
    return total / n if n else float("nan")


def seg_scores(pairs: Iterable) -> dict:
    """SEG pooled over all ground-truth objects of several images.

    Returns ``{"seg": float, "n_objects": int}``; ``seg`` is NaN if there are
    no ground-truth objects.
    """
    total, n = 0.0, 0
    for t, p in pairs:
        s, k = _seg_sum(t, p)
        total, n = total + s, n + k
    return {"seg": total / n if n else float("nan"), "n_objects": n}


def foreground_iou(labels_true, labels_pred) -> float:
    """Jaccard index of the foreground masks ``labels_true > 0`` and ``labels_pred > 0``.

    1.0 if both are empty.

    Examples
    --------
    >>> foreground_iou(np.array([1, 1, 0, 0]), np.array([0, 2, 3, 0]))
    0.3333333333333333
    """
    t, p = _check_pair(labels_true, labels_pred)
    t, p = t != 0, p != 0
    union = np.count_nonzero(t | p)
    return float(np.count_nonzero(t & p) / union) if union else 1.0


def _xlogx(x: np.ndarray) -> float:
    x = x[x > 0].astype(np.float64)
    return float(np.sum(x * np.log(x)))


def _pairs(x: np.ndarray) -> float:
    x = x.astype(np.float64)
    return float(np.dot(x, x - 1.0))


def rand_voi(labels_true, labels_pred) -> dict:
    """Foreground-restricted adapted Rand and VOI scores (ISBI 2012 convention).

    Follows Arganda-Carreras et al. (2015), *Front. Neuroanat.* 9:142, and the
    Fiji/CREMI implementations: only pixels with ``labels_true > 0`` are
    counted, and predicted-background pixels (``labels_pred == 0``) inside
    that region are treated as singletons, i.e. each such pixel is its own
    one-pixel segment (leaving ground truth unlabelled counts as splitting it).

    Let ``n_ij`` be the number of counted pixels in ground-truth object ``i``
    and predicted segment ``j``, ``t_i = sum_j n_ij`` (ground-truth sizes) and
    ``s_j = sum_i n_ij`` (predicted sizes). Rand scores count pairs of distinct
    pixels (``x (x - 1)``, the Rand 1971 / skimage normalisation)::

        P = sum n_ij (n_ij - 1), T = sum t_i (t_i - 1), S = sum s_j (s_j - 1)
        vrand_split = P / T   (1 = no false splits; skimage's "precision")
        vrand_merge = P / S   (1 = no false merges; skimage's "recall")
        vrand = 2 P / (T + S) (= 1 - skimage.metrics.adapted_rand_error)

    A ratio 0/0 (no pairs at all) is 1.0. VOI uses the natural logarithm
    (nats; skimage reports bits): ``voi_split = H(pred | true)``,
    ``voi_merge = H(true | pred)``, ``voi = voi_split + voi_merge``.

    Returns
    -------
    dict
        Keys ``vrand, vrand_split, vrand_merge, voi, voi_split, voi_merge``;
        all NaN when ``labels_true`` has no foreground.

    Examples
    --------
    >>> gt = np.array([[1, 1, 1, 1]])
    >>> pred = np.array([[2, 2, 3, 3]])  # one object split in halves
    >>> r = rand_voi(gt, pred)
    >>> round(r["vrand_split"], 4), r["vrand_merge"], round(r["voi_split"], 4), r["voi_merge"]
    (0.3333, 1.0, 0.6931, 0.0)
    """
    _, _, t_sz, _, rows, cols, inter = _contingency(labels_true, labels_pred)
    n = int(t_sz.sum())
    keys = ("vrand", "vrand_split", "vrand_merge", "voi", "voi_split", "voi_merge")
    if n == 0:
        return dict.fromkeys(keys, float("nan"))
    # Predicted sizes within the counted region. Predicted-background pixels are singletons:
    # they add 0 to every pair count x (x - 1) and to every sum x log x below.
    s_sz = np.bincount(cols, weights=inter)
    p, t, s = _pairs(inter), _pairs(t_sz), _pairs(s_sz)
    split = p / t if t > 0 else 1.0
    merge = p / s if s > 0 else 1.0
    vrand = 2.0 * p / (t + s) if t + s > 0 else 1.0
    # From counts, H(X) = log n - sum x log x / n, so H(pred|true) = H(joint) - H(true)
    # = (sum t log t - sum n_ij log n_ij) / n, and symmetrically for H(true|pred).
    x_joint = _xlogx(inter)
    voi_split = max((_xlogx(t_sz) - x_joint) / n, 0.0)
    voi_merge = max((_xlogx(s_sz) - x_joint) / n, 0.0)
    values = (vrand, split, merge, voi_split + voi_merge, voi_split, voi_merge)
    return {k: float(v) for k, v in zip(keys, values, strict=True)}


# --- overlapping instances (one binary mask per object) -------------------------------------


def stack_iou_matrix(masks_true, masks_pred) -> np.ndarray:
    """IoU between every pair of binary masks of two stacks ``(N, *spatial)`` (objects may
    overlap, as BBBC010's worms do).

    Examples
    --------
    >>> a = np.array([[[1, 1, 0, 0]], [[0, 1, 1, 0]]], bool)
    >>> stack_iou_matrix(a, a[:1])
    array([[1.        ],
           [0.33333333]])
    """
    t, p = np.asarray(masks_true, bool), np.asarray(masks_pred, bool)
    t = t.reshape(len(t), int(np.prod(t.shape[1:])))  # -1 fails on an empty stack
    p = p.reshape(len(p), int(np.prod(p.shape[1:])))
    if len(t) and len(p) and t.shape[1] != p.shape[1]:
        raise ValueError(f"mask stacks differ in shape: {masks_true.shape} vs {masks_pred.shape}")
    # counts are exact in float32 up to 2**24 pixels per object pair
    inter = (t.astype(np.float32) @ p.T.astype(np.float32)).astype(np.float64)
    union = t.sum(1)[:, None] + p.sum(1)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def stack_average_precision_scores(
    pairs: Iterable, thresholds: Sequence[float] = DEFAULT_THRESHOLDS
) -> dict:
    """:func:`average_precision_scores` for pairs of mask stacks ``(N, *spatial)``: each
    ground-truth mask is matched one-to-one against predicted masks, which may overlap."""
    thresholds = [float(t) for t in thresholds]
    per_image = []
    for truth, pred in pairs:
        iou = stack_iou_matrix(truth, pred)
        per_image.append([_match(iou, thr) for thr in thresholds])
    return _means_over_images(per_image, thresholds)


def labels_to_stack(labels: np.ndarray) -> np.ndarray:
    """A label image as a stack of its objects' masks ``(N, *spatial)``, N = its objects."""
    labels = np.asarray(labels)
    ids = np.unique(labels)
    ids = ids[ids != 0]
    return labels[None] == ids.reshape(-1, *([1] * labels.ndim))

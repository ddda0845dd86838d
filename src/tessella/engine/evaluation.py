"""Scoring predicted label images against ground truth, and where the errors are.

:func:`score_pairs` gives the scores ``tessella evaluate`` reports, for label images in memory;
:func:`evaluate_labels` scores one pair for the Evaluate widget and also returns the object
counts and the error map at one IoU threshold. Label images of any dimensionality are scored as
one nD image (a time-lapse ``TYX`` array is one volume, as in ``tessella evaluate``). Objects are
matched exactly as :func:`tessella.engine.metrics.matching` matches them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from . import metrics

__all__ = [
    "FALSE_NEGATIVE",
    "FALSE_POSITIVE",
    "METRICS",
    "Evaluation",
    "error_map",
    "evaluate_labels",
    "ignore_label_clash",
    "mask_stack_objects",
    "matched_ids",
    "membrane_map_objects",
    "score_pairs",
    "stack_without_ignored",
    "unannotated_left_out",
    "without_ignored",
]

#: error map value of the pixels of predicted objects that match no ground-truth object
FALSE_POSITIVE = 1
#: error map value of the pixels of ground-truth objects that no predicted object matches
FALSE_NEGATIVE = 2
#: metric names :func:`score_pairs` understands (the choices of ``tessella evaluate --metric``)
METRICS = ("ap", "seg", "iou", "vrand")


def score_pairs(pairs: Iterable, metrics_wanted: Iterable[str] = ("ap",)) -> dict:
    """Dataset scores of ``(labels_true, labels_pred)`` pairs, as ``tessella evaluate`` reports.

    Parameters
    ----------
    pairs : iterable of (array_like, array_like)
        Ground-truth and predicted integer label images; the two of a pair have one shape.
    metrics_wanted : iterable of str
        Any of :data:`METRICS`: ``"ap"`` (AP, precision, recall and F1 at IoU 0.5 ... 0.9, and
        avS, their mean AP; means over the images with an object in the truth or the
        prediction, which ``ap_images`` counts), ``"seg"`` (SEG pooled over all ground-truth
        objects), ``"iou"`` (foreground IoU over all pixels) and ``"vrand"`` (adapted Rand and
        VOI, means over the images that have ground-truth foreground; ``vrand_images``
        counts them). A score with nothing to score (no ground-truth object for SEG, no
        image with foreground for vrand) is None, not NaN (JSON has no NaN).

    Returns
    -------
    dict
        ``{"n_images": int}`` plus, per metric wanted, ``"ap"``, ``"precision"``, ``"recall"``,
        ``"f1"`` (``{"0.5": float, ..., "0.9": float}``), ``"avs"`` and ``"ap_images"``;
        ``"seg"``;
        ``"foreground_iou"``; ``"vrand"``, ``"voi"``, ``"voi_split"``, ``"voi_merge"``,
        ``"vrand_images"``.

    Examples
    --------
    >>> gt = np.array([[1, 1, 0, 2, 2]])
    >>> pred = np.array([[3, 3, 0, 0, 4]])
    >>> scores = score_pairs([(gt, pred)])
    >>> {threshold: round(ap, 3) for threshold, ap in scores["ap"].items()}
    {'0.5': 1.0, '0.6': 0.333, '0.7': 0.333, '0.8': 0.333, '0.9': 0.333}
    >>> round(scores["avs"], 4), scores["n_images"]
    (0.4667, 1)
    """
    wanted = tuple(metrics_wanted)
    unknown = sorted(set(wanted) - set(METRICS))
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; choose from {METRICS}")
    pairs = [(np.asarray(truth), np.asarray(predicted)) for truth, predicted in pairs]
    scores: dict = {"n_images": len(pairs)}
    if "ap" in wanted:
        ap = metrics.average_precision_scores(pairs)
        scores["ap"] = {f"{k:.1f}": v for k, v in ap["ap"].items()}
        scores["avs"] = ap["avs"]
        scores["ap_images"] = ap["scored_images"]
        for key in ("precision", "recall", "f1"):
            scores[key] = {f"{k:.1f}": v for k, v in ap[key].items()}
    if "seg" in wanted:  # pooled over every ground-truth object: None when there is none
        seg = metrics.seg_scores(pairs)["seg"]
        scores["seg"] = None if np.isnan(seg) else seg
    if "iou" in wanted:
        truth_all = np.concatenate([t.ravel() > 0 for t, _ in pairs])
        pred_all = np.concatenate([p.ravel() > 0 for _, p in pairs])
        scores["foreground_iou"] = metrics.foreground_iou(truth_all, pred_all)
    if "vrand" in wanted:  # undefined for an image without ground-truth foreground: left out
        values = [metrics.rand_voi(t, p) for t, p in pairs]
        defined = [v for v in values if not np.isnan(v["vrand"])]
        for key in ("vrand", "vrand_split", "vrand_merge", "voi", "voi_split", "voi_merge"):
            scores[key] = float(np.mean([v[key] for v in defined])) if defined else None
        scores["vrand_images"] = len(defined)
    return scores


def matched_ids(labels_true, labels_pred, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The ids of the object pairs matched at an IoU threshold.

    The matching is :func:`tessella.engine.metrics.matching`'s (unique for
    ``threshold > 0.5``), so the number of pairs is its ``tp``.

    Returns
    -------
    true_ids, pred_ids : ndarray
        ``true_ids[k]`` is matched to ``pred_ids[k]``; sorted by ground-truth id.

    Examples
    --------
    >>> gt = np.array([[1, 1, 0, 2, 2]])
    >>> pred = np.array([[3, 3, 0, 0, 4]])
    >>> matched_ids(gt, pred, 0.5)
    (array([1, 2]), array([3, 4]))
    >>> matched_ids(gt, pred, 0.6)  # object 2 vs 4 has IoU 0.5
    (array([1]), array([3]))
    """
    iou, true_ids, pred_ids = metrics.iou_matrix(labels_true, labels_pred)
    rows, cols = metrics.match_indices(iou, threshold)
    return true_ids[rows], pred_ids[cols]


def _error_map(labels_true, labels_pred, true_ids, pred_ids, rows, cols) -> np.ndarray:
    truth, predicted = np.asarray(labels_true), np.asarray(labels_pred)
    errors = np.zeros(truth.shape, dtype=np.uint8)
    errors[np.isin(predicted, np.delete(pred_ids, cols))] = FALSE_POSITIVE
    # written last: a missed object stays whole where a spurious one overlaps it
    errors[np.isin(truth, np.delete(true_ids, rows))] = FALSE_NEGATIVE
    return errors


def error_map(labels_true, labels_pred, threshold: float = 0.5) -> np.ndarray:
    """Where the unmatched objects are, at an IoU threshold.

    Parameters
    ----------
    labels_true, labels_pred : array_like of int
        Label images of identical shape (any dimensionality); 0 is background.
    threshold : float
        IoU threshold in (0, 1]; objects are matched as by
        :func:`tessella.engine.metrics.matching`.

    Returns
    -------
    ndarray of uint8, the shape of the inputs
        :data:`FALSE_NEGATIVE` (2) on the pixels of ground-truth objects that no predicted
        object matches, else :data:`FALSE_POSITIVE` (1) on the pixels of predicted objects that
        match no ground-truth object, else 0. A pixel of both kinds is a false negative, so
        every missed object shows whole.

    Examples
    --------
    >>> gt = np.array([[1, 1, 0, 2, 2, 0, 0]])
    >>> pred = np.array([[3, 3, 0, 0, 0, 0, 4]])  # object 2 missed, object 4 spurious
    >>> error_map(gt, pred)
    array([[0, 0, 0, 2, 2, 0, 1]], dtype=uint8)
    """
    iou, true_ids, pred_ids = metrics.iou_matrix(labels_true, labels_pred)
    rows, cols = metrics.match_indices(iou, threshold)
    return _error_map(labels_true, labels_pred, true_ids, pred_ids, rows, cols)


@dataclass(frozen=True)
class Evaluation:
    """One prediction scored against its ground truth.

    ``scores`` is :func:`score_pairs` of the one pair (what ``tessella evaluate`` reports for
    it); the counts and ``errors`` (:func:`error_map`) are at IoU ``threshold``.
    """

    scores: dict
    threshold: float
    n_true: int
    n_pred: int
    tp: int
    fp: int
    fn: int
    errors: np.ndarray


def evaluate_labels(
    labels_true,
    labels_pred,
    threshold: float = 0.5,
    frame_axis: int | None = None,
    ignore_label: int | None = None,
) -> Evaluation:
    """Score ``labels_pred`` against ``labels_true``, with counts and errors at ``threshold``.

    With ``frame_axis`` (the T axis of a time-lapse) every frame is an image of its own, as
    ``tessella evaluate`` scores a folder: AP is averaged over frames and counts are summed.
    ``ignore_label``: ground-truth pixels of that value were not annotated and are left out
    (:func:`unannotated_left_out`, as ``tessella evaluate --ignore-label``); ValueError if no
    pixel has it.

    Examples
    --------
    >>> gt = np.array([[1, 1, 0, 2, 2, 0, 0]])
    >>> pred = np.array([[3, 3, 0, 0, 0, 0, 4]])
    >>> result = evaluate_labels(gt, pred)
    >>> result.tp, result.fp, result.fn, result.scores["ap"]["0.5"]
    (1, 1, 1, 0.3333333333333333)
    """
    truth, predicted = np.asarray(labels_true), np.asarray(labels_pred)
    if frame_axis is None:
        truth_frames, pred_frames = [truth], [predicted]
    else:
        truth_frames = list(np.moveaxis(truth, frame_axis, 0))
        pred_frames = list(np.moveaxis(predicted, frame_axis, 0))
    if ignore_label is not None:
        sparse = [
            unannotated_left_out(t, p, ignore_label) for t, p in zip(truth_frames, pred_frames)
        ]
        if not any(marked for _, _, marked in sparse):
            raise ValueError(f"unannotated label {ignore_label}: no ground-truth pixel has it")
        truth_frames, pred_frames = [t for t, _, _ in sparse], [p for _, p, _ in sparse]
    scores = score_pairs(list(zip(truth_frames, pred_frames)))  # checks shapes and dtypes
    counts = np.zeros(3, np.int64)  # true, predicted, matched objects
    errors = []
    for t_frame, p_frame in zip(truth_frames, pred_frames):
        iou, true_ids, pred_ids = metrics.iou_matrix(t_frame, p_frame)
        rows, cols = metrics.match_indices(iou, threshold)
        counts += (true_ids.size, pred_ids.size, rows.size)
        errors.append(_error_map(t_frame, p_frame, true_ids, pred_ids, rows, cols))
    n_true, n_pred, tp = (int(c) for c in counts)
    error_map = errors[0] if frame_axis is None else np.moveaxis(np.stack(errors), 0, frame_axis)
    return Evaluation(
        scores=scores,
        threshold=float(threshold),
        n_true=n_true,
        n_pred=n_pred,
        tp=tp,
        fp=n_pred - tp,
        fn=n_true - tp,
        errors=error_map,
    )


def without_ignored(
    labels: np.ndarray, ignore: np.ndarray | None, truth: np.ndarray | None = None
) -> np.ndarray:
    """Predicted ``labels`` scored against sparse annotations: the unannotated (``ignore``)
    pixels cleared, and predicted objects lying mostly there removed unless they overlap an
    annotated object of ``truth`` (one that crosses the edge of the annotated area is then cut
    at it, as its annotation is), since the truth there is unknown rather than background.

    >>> pred = np.array([[1, 1, 2, 2, 2]]); ignore = np.array([[0, 0, 0, 1, 1]], bool)
    >>> without_ignored(pred, ignore).tolist()
    [[1, 1, 0, 0, 0]]
    >>> without_ignored(pred, ignore, truth=np.array([[0, 0, 5, 0, 0]])).tolist()
    [[1, 1, 2, 0, 0]]
    """
    if ignore is None or not ignore.any():
        return labels
    ids, index = np.unique(labels, return_inverse=True)  # any label values, compactly
    index = index.reshape(labels.shape)
    inside = np.bincount(index[ignore], minlength=len(ids))
    mostly = 2 * inside > np.bincount(index.ravel(), minlength=len(ids))
    if truth is not None:
        mostly[np.unique(index[(truth > 0) & ~ignore])] = False
    mostly[ids == 0] = False
    return np.where(mostly[index] | ignore, 0, labels)


def ignore_label_clash(
    largest_id: int, ignore_label: int | None, name: str = "labels"
) -> str | None:
    """A warning when ``ignore_label`` lies inside the range of object IDs (some object has a
    larger ID), where an object of that ID would be taken for unannotated; else None.

    >>> print(ignore_label_clash(120, 5, "gt.tif")[:58])
    gt.tif: unannotated label 5 is among its object IDs (up to
    >>> ignore_label_clash(120, 999) is None
    True
    """
    if ignore_label is None or largest_id <= ignore_label:
        return None
    return (
        f"{name}: unannotated label {ignore_label} is among its object IDs (up to "
        f"{largest_id}): an object with ID {ignore_label} would be left out; a value above "
        f"every ID (e.g. {largest_id + 1}) is safe"
    )


def unannotated_left_out(truth: np.ndarray, predicted: np.ndarray, ignore_label: int | None):
    """``(truth, predicted, marked)`` for scoring sparse ground truth: ``truth``'s pixels of
    ``ignore_label`` (not annotated) become background and ``predicted`` is cut as
    :func:`without_ignored` does; ``marked`` says whether any pixel had the label. ``None``:
    the pair as it is."""
    if ignore_label is None:
        return truth, predicted, False
    ignore = truth == ignore_label
    truth = np.where(ignore, 0, truth)
    return truth, without_ignored(predicted, ignore, truth), bool(ignore.any())


def membrane_map_objects(data: np.ndarray, ignore_label: int | None = None, name: str = "map"):
    """``(objects, membrane, unannotated)`` of a membrane map (positive = membrane, as ISBI
    2012 gives them): the cells are the connected regions of zeros; pixels of
    ``ignore_label`` (not annotated) are neither membrane nor cell. ValueError if
    ``ignore_label`` is the map's membrane value (no membrane would be left).

    >>> objects, membrane, unannotated = membrane_map_objects(np.array([[0, 1, 0, 9]]), 9)
    >>> objects.tolist(), membrane.tolist(), unannotated.tolist()
    ([[1, 0, 2, 0]], [[False, True, False, False]], [[False, False, False, True]])
    """
    from scipy import ndimage

    data = np.asarray(data)
    unannotated = np.zeros(data.shape, bool) if ignore_label is None else data == ignore_label
    membrane = (data > 0) & ~unannotated
    if unannotated.any() and not membrane.any():
        raise ValueError(
            f"{name}: ignore label {ignore_label} is its membrane value (no membrane would be "
            "left); paint the unannotated parts with a value of their own"
        )
    return ndimage.label(data == 0)[0], membrane, unannotated


def mask_stack_objects(
    data: np.ndarray, ndim: int = 2, ignore_label: int | None = None, name: str = "masks"
):
    """``(objects, unannotated)`` of overlapping-object masks: an ``(N, *spatial)`` stack of
    object masks or a label image of ``ndim`` axes, as bool ``(N, *spatial)`` masks and the
    bool map of pixels of ``ignore_label`` (not annotated; None without a label).

    Empty planes are no objects. Pixels of ``ignore_label`` in any plane of a stack (or in the
    label image) are left out of every object; a plane holding nothing else marks only them.
    ValueError for a shape that is neither, and when ``ignore_label`` is a stack's object
    value (every plane holds only it, so no object would be left).

    >>> stack = np.array([[[1, 1, 0, 0]], [[0, 1, 1, 0]], [[0, 0, 9, 9]]])
    >>> objects, unannotated = mask_stack_objects(stack, 2, 9)
    >>> objects.astype(int).tolist(), unannotated.tolist()
    ([[[1, 1, 0, 0]], [[0, 1, 0, 0]]], [[False, False, True, True]])
    """
    data = np.asarray(data)
    if data.dtype.kind not in "biu":
        raise ValueError(f"{name}: masks must be integers or booleans, got {data.dtype}")
    if ignore_label == 0:
        raise ValueError("ignore label 0: 0 is background; mark unannotated parts with another")
    if data.dtype.kind == "i" and data.size:  # would be objects, or background in a stack
        negative = data[(data < 0) & (data != ignore_label)]
        if negative.size:
            raise ValueError(f"{name}: masks must not be negative (found {int(negative.min())})")
    if data.ndim == ndim:
        unannotated = None if ignore_label is None else data == ignore_label
        kept = data if unannotated is None else np.where(unannotated, 0, data)
        return metrics.labels_to_stack(kept), unannotated
    if data.ndim != ndim + 1:
        raise ValueError(
            f"{name}: expected {ndim}D labels or an (N, ...) stack of object masks, got shape "
            f"{data.shape}"
        )
    if ignore_label is None:  # an empty plane is no object (it could only count as missed)
        objects = data > 0
        return objects[objects.any(axis=tuple(range(1, objects.ndim)))], None  # N may be 0
    marks = data == ignore_label
    unannotated = marks.any(axis=0)
    planes = [plane for plane, mark in zip(data, marks) if (plane[~mark] != 0).any()]
    if unannotated.any() and not planes:
        raise ValueError(
            f"{name}: ignore label {ignore_label} is the value of every object mask (no object "
            "would be left); paint the unannotated parts with a value of their own"
        )
    objects = (
        np.stack([(plane > 0) & ~unannotated for plane in planes])
        if planes
        else (np.zeros((0, *data.shape[1:]), bool))
    )
    return objects, unannotated


def stack_without_ignored(
    stack: np.ndarray, ignore: np.ndarray | None, truth: np.ndarray | None = None
) -> np.ndarray:
    """:func:`without_ignored` for predicted object masks that may overlap ``(N, *spatial)``:
    each mask is cut at the unannotated (``ignore``) pixels, and dropped when it lay mostly
    there and overlaps no annotated object of ``truth`` (an ``(M, *spatial)`` stack).

    >>> pred = np.array([[[1, 1, 1, 0, 0]], [[0, 0, 1, 1, 1]]], bool)
    >>> ignore = np.array([[0, 0, 0, 1, 1]], bool)
    >>> stack_without_ignored(pred, ignore).astype(int).tolist()
    [[[1, 1, 1, 0, 0]]]
    >>> truth = np.array([[[0, 0, 1, 0, 0]]], bool)
    >>> stack_without_ignored(pred, ignore, truth).astype(int).tolist()
    [[[1, 1, 1, 0, 0]], [[0, 0, 1, 0, 0]]]
    """
    stack = np.asarray(stack, bool)
    if ignore is None or not ignore.any() or not len(stack):
        return stack
    flat = stack.reshape(len(stack), -1)
    inside = (flat & ignore.ravel()).sum(axis=1)
    mostly = 2 * inside > flat.sum(axis=1)
    if truth is not None and len(truth):
        annotated = np.asarray(truth, bool).any(axis=0) & ~ignore
        mostly &= ~(flat & annotated.ravel()).any(axis=1)
    kept = stack[~mostly] & ~ignore
    return kept[kept.any(axis=tuple(range(1, kept.ndim)))]

"""Scoring predicted label images against ground truth, and where the errors are.

:func:`score_pairs` gives the scores ``tessella evaluate`` reports, for label images in memory
(:func:`score_mask_pairs` for overlapping objects), of the images :func:`truth_objects` and
:func:`scored_images` make of each file pair; :func:`evaluate_labels` (:func:`evaluate_masks`)
scores one pair with the same functions for the Evaluate widget and also returns the object
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
    "COLLAPSED_FRACTION",
    "FALSE_POSITIVE",
    "GROUND_TRUTH_KINDS",
    "METRICS",
    "Evaluation",
    "error_map",
    "evaluate_labels",
    "evaluate_masks",
    "ground_truth_kind",
    "ground_truth_note",
    "ignore_label_clash",
    "mask_stack_objects",
    "mask_stack_reason",
    "matched_ids",
    "membrane_map_objects",
    "prediction_note",
    "score_mask_pairs",
    "score_pairs",
    "scored_images",
    "stack_without_ignored",
    "truth_objects",
    "unannotated_left_out",
    "without_ignored",
]

#: error map value of the pixels of predicted objects that match no ground-truth object
FALSE_POSITIVE = 1
#: error map value of the pixels of ground-truth objects that no predicted object matches
FALSE_NEGATIVE = 2
#: metric names :func:`score_pairs` understands (the choices of ``tessella evaluate --metric``)
METRICS = ("ap", "seg", "iou", "vrand")
#: what a ground truth can be taken for (:func:`evaluate_labels`' ``kind``, with
#: ``"overlapping"`` for :func:`evaluate_masks`), and the ``tessella evaluate`` flag of each
GROUND_TRUTH_KINDS = {
    "labels": "",
    "binary": "--gt-binary",
    "boundaries": "--gt-boundaries",
    "boundaries3d": "--gt-boundaries-3d",
    "overlapping": "--overlapping",
}


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
    #: one-line warnings on inputs that score little for no real reason
    #: (:func:`ground_truth_note`, :func:`prediction_note`)
    notes: tuple[str, ...] = ()


def truth_objects(
    labels_true,
    kind: str = "labels",
    ignore_label: int | None = None,
    name: str = "ground truth",
    flags: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """``(objects, unannotated, note)``: the objects a ground truth of ``kind`` holds, as
    ``tessella evaluate`` and :func:`evaluate_labels` score them.

    ``kind``: ``"labels"`` (instance labels, the objects as they are), ``"binary"`` (a mask
    whose connected pieces are the objects, ``--gt-binary``), ``"boundaries"`` (a membrane
    map, 1 = membrane, whose insides are the objects; a map of more than 2 axes was annotated
    section by section, so its cells are found per 2D plane, ``--gt-boundaries``) or
    ``"boundaries3d"`` (cells connected in 3D, ``--gt-boundaries-3d``). ``unannotated``: the
    pixels of ``ignore_label`` (not annotated; background in ``objects``), or None without
    a label. ``note``: why the ground truth may not be what it is taken for
    (:func:`ground_truth_note`, and ``boundary_map_note`` for membrane maps), or None; its
    hints name the ``tessella evaluate`` flags with ``flags``, else ``kind``.

    >>> objects, unannotated, note = truth_objects(np.array([[1, 1, 0, 0, 1, 9]]), "binary", 9)
    >>> objects.tolist(), unannotated.tolist(), note
    ([[1, 1, 0, 0, 2, 0]], [[False, False, False, False, False, True]], None)
    """
    from scipy import ndimage

    if kind not in ("labels", "binary", "boundaries", "boundaries3d"):
        raise ValueError(
            f"ground truth kind {kind!r}: choose labels, binary, boundaries or boundaries3d"
        )
    raw = np.asarray(labels_true)
    unannotated = None if ignore_label is None else raw == ignore_label
    known = raw if unannotated is None else np.where(unannotated, 0, raw)
    note = None
    if kind in ("boundaries", "boundaries3d"):  # EM membranes: the regions inside them
        from .train.data import boundary_map_note

        note = boundary_map_note(raw, name, ignore_label)
        per_section = kind == "boundaries" and raw.ndim > 2
        objects = membrane_map_objects(raw, ignore_label, name, per_section)[0]
        kind = "boundaries3d" if kind == "boundaries3d" and raw.ndim > 2 else "boundaries"
    elif kind == "binary":  # semantic masks: the objects are the connected components
        objects = ndimage.label(known > 0)[0]
    else:
        objects = known
    # soft, or mostly membrane (the polarity inverted?); else a kind forgotten or wrong
    note = note or ground_truth_note(raw, name, objects, kind, ignore_label, flags)
    return objects, unannotated, note


def scored_images(
    objects: np.ndarray,
    labels_pred: np.ndarray,
    unannotated: np.ndarray | None = None,
    kind: str = "labels",
    frame_axis: int | None = None,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """``[(truth, predicted, unannotated), ...]``: the images a pair of one shape is scored
    as, the ground truth's ``objects`` (:func:`truth_objects`) against ``labels_pred``.

    A boundary map (``kind="boundaries"``) of more than 2 axes gives every 2D section (an
    image each, as it was annotated); else ``frame_axis`` (the T axis of a time-lapse) every
    frame; else the pair is one image. Where ``unannotated`` pixels are marked, the
    prediction is cut as :func:`without_ignored` does.

    >>> volume = np.zeros((3, 4, 4), int)
    >>> len(scored_images(volume, volume)), len(scored_images(volume, volume, kind="boundaries"))
    (1, 3)
    """
    if kind == "boundaries" and objects.ndim > 2:  # annotated section by section
        plane = objects.shape[-2:]
        images = [objects.reshape(-1, *plane), labels_pred.reshape(-1, *plane)]
        ignored = None if unannotated is None else list(unannotated.reshape(-1, *plane))
    elif frame_axis is None:
        images = [objects[None], labels_pred[None]]
        ignored = None if unannotated is None else [unannotated]
    else:
        images = [np.moveaxis(objects, frame_axis, 0), np.moveaxis(labels_pred, frame_axis, 0)]
        ignored = None if unannotated is None else list(np.moveaxis(unannotated, frame_axis, 0))
    if ignored is None:
        return [(t, p, None) for t, p in zip(*images)]
    return [(t, without_ignored(p, u, t), u) for t, p, u in zip(*images, ignored)]


def evaluate_labels(
    labels_true,
    labels_pred,
    threshold: float = 0.5,
    frame_axis: int | None = None,
    ignore_label: int | None = None,
    names: tuple[str, str] = ("ground truth", "prediction"),
    kind: str = "labels",
    metrics_wanted: Iterable[str] = ("ap",),
) -> Evaluation:
    """Score ``labels_pred`` against ``labels_true``, with counts and errors at ``threshold``.

    ``kind`` is what ``labels_true`` is, as ``tessella evaluate`` takes it
    (:func:`truth_objects`): ``"labels"`` (instance labels), ``"binary"`` (a mask whose
    connected pieces are the objects, as ``--gt-binary``), ``"boundaries"`` (a membrane map,
    1 = membrane, whose insides are the objects; a map of more than 2 axes is scored section
    by section, every 2D plane an image, as ``--gt-boundaries``) or ``"boundaries3d"`` (a 3D
    map scored as one volume, as ``--gt-boundaries-3d``). With ``frame_axis`` (the T axis of
    a time-lapse) every frame is an image of its own, as ``tessella evaluate`` scores a
    folder: AP is averaged over frames and counts are summed. ``ignore_label``: ground-truth
    pixels of that value were not annotated and are left out (:func:`unannotated_left_out`,
    as ``tessella evaluate --ignore-label``); ValueError if no pixel has it. ``scores`` holds
    the metrics wanted, as :func:`score_pairs` gives them (``"iou"``: foreground IoU,
    ``--metric iou``). ``notes`` warns, as ``tessella evaluate`` does, about a ground truth or
    a prediction that does not look like what it is taken for (``names``: what to call them
    there); a hint names the ``kind`` to score it as and its ``tessella evaluate`` flag.

    Examples
    --------
    >>> gt = np.array([[1, 1, 0, 2, 2, 0, 0]])
    >>> pred = np.array([[3, 3, 0, 0, 0, 0, 4]])
    >>> result = evaluate_labels(gt, pred)
    >>> result.tp, result.fp, result.fn, result.scores["ap"]["0.5"]
    (1, 1, 1, 0.3333333333333333)
    >>> binary = evaluate_labels(gt > 0, pred, kind="binary", metrics_wanted=("ap", "iou"))
    >>> binary.scores["foreground_iou"]  # 2 of 5 pixels
    0.4
    """
    predicted = np.asarray(labels_pred)
    truth, unannotated, note = truth_objects(labels_true, kind, ignore_label, names[0], False)
    if unannotated is not None and not unannotated.any():
        raise ValueError(f"unannotated label {ignore_label}: no ground-truth pixel has it")
    notes = tuple(n for n in (prediction_note(predicted, names[1], flags=False), note) if n)
    if truth.shape != predicted.shape:
        raise ValueError(
            f"label images differ in shape: {names[1]} {predicted.shape}, {names[0]} {truth.shape}"
        )
    images = scored_images(truth, predicted, unannotated, kind, frame_axis)
    # checks shapes and dtypes
    scores = score_pairs([(t, p) for t, p, _ in images], metrics_wanted)
    counts = np.zeros(3, np.int64)  # true, predicted, matched objects
    errors = []
    for t_frame, p_frame, _ in images:
        iou, true_ids, pred_ids = metrics.iou_matrix(t_frame, p_frame)
        rows, cols = metrics.match_indices(iou, threshold)
        counts += (true_ids.size, pred_ids.size, rows.size)
        errors.append(_error_map(t_frame, p_frame, true_ids, pred_ids, rows, cols))
    n_true, n_pred, tp = (int(c) for c in counts)
    if frame_axis is None or (kind == "boundaries" and truth.ndim > 2):
        error_map = np.stack(errors).reshape(truth.shape)
    else:
        error_map = np.moveaxis(np.stack(errors), 0, frame_axis)
    return Evaluation(
        scores=scores,
        threshold=float(threshold),
        n_true=n_true,
        n_pred=n_pred,
        tp=tp,
        fp=n_pred - tp,
        fn=n_true - tp,
        errors=error_map,
        notes=notes,
    )


def score_mask_pairs(pairs: Iterable) -> dict:
    """Dataset scores of ``(masks_true, masks_pred)`` pairs of bool ``(N, *spatial)`` object
    stacks (objects may overlap; :func:`mask_stack_objects`), as ``tessella evaluate
    --overlapping`` reports them: :func:`score_pairs`' ``"ap"`` keys (AP, precision, recall,
    F1 at IoU 0.5 ... 0.9, ``"avs"``, ``"ap_images"``) and ``"n_images"``.

    >>> truth = np.array([[[1, 1, 1, 0, 0]], [[0, 0, 1, 1, 0]]], bool)
    >>> score_mask_pairs([(truth, truth[:1])])["ap"]["0.5"]
    0.5
    """
    scores = metrics.stack_average_precision_scores(list(pairs))
    scores["ap_images"] = scores.pop("scored_images")  # as `tessella evaluate --json` names it
    for key in ("ap", "precision", "recall", "f1"):
        scores[key] = {f"{k:.1f}": v for k, v in scores[key].items()}
    return scores


def evaluate_masks(
    masks_true,
    masks_pred,
    threshold: float = 0.5,
    ignore_label: int | None = None,
    names: tuple[str, str] = ("ground truth", "prediction"),
) -> Evaluation:
    """Score objects that may overlap, as ``tessella evaluate --overlapping`` does.

    ``masks_true`` and ``masks_pred`` are ``(N, Y, X)`` stacks of object masks (each non-empty
    plane one object, as worm ground truth such as BBBC010's and ``tessella segment --stack``
    give them; the two may hold any number of objects) or ``(Y, X)`` label images
    (:func:`mask_stack_objects`); each ground-truth mask is matched one-to-one against the
    predicted masks. ``scores`` (:func:`score_mask_pairs`) are AP and its kin (not foreground
    IoU, which overlaps make ambiguous); the counts and ``errors``, a ``(Y, X)`` map
    (:func:`error_map`'s values: a pixel of any unmatched mask), are at ``threshold``.
    ``ignore_label`` marks unannotated pixels in any plane of the truth, as
    ``--ignore-label``.

    >>> truth = np.array([[[1, 1, 1, 0, 0]], [[0, 0, 1, 1, 0]]])  # two objects overlapping
    >>> result = evaluate_masks(truth, np.array([[3, 3, 3, 0, 4]]))
    >>> result.tp, result.fp, result.fn, result.errors.tolist()
    (1, 1, 1, [[0, 0, 2, 2, 1]])
    """
    truth, unannotated = mask_stack_objects(masks_true, 2, ignore_label, names[0])
    predicted = mask_stack_objects(masks_pred, 2, None, names[1])[0]
    if truth.shape[1:] != predicted.shape[1:]:
        raise ValueError(
            f"{names[1]} has image shape {predicted.shape[1:]} but {names[0]} has {truth.shape[1:]}"
        )
    if ignore_label is not None:
        if unannotated is None or not unannotated.any():
            raise ValueError(f"unannotated label {ignore_label}: no ground-truth pixel has it")
        predicted = stack_without_ignored(predicted, unannotated, truth)
    scores = score_mask_pairs([(truth, predicted)])
    iou = metrics.stack_iou_matrix(truth, predicted)
    rows, cols = metrics.match_indices(iou, threshold)
    errors = np.zeros(truth.shape[1:], np.uint8)
    errors[np.delete(predicted, cols, axis=0).any(axis=0)] = FALSE_POSITIVE
    errors[np.delete(truth, rows, axis=0).any(axis=0)] = FALSE_NEGATIVE  # missed: whole
    tp = int(rows.size)
    return Evaluation(
        scores=scores,
        threshold=float(threshold),
        n_true=len(truth),
        n_pred=len(predicted),
        tp=tp,
        fp=len(predicted) - tp,
        fn=len(truth) - tp,
        errors=errors,
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


def membrane_map_objects(
    data: np.ndarray,
    ignore_label: int | None = None,
    name: str = "map",
    per_section: bool = False,
):
    """``(objects, membrane, unannotated)`` of a membrane map (positive = membrane, as ISBI
    2012 gives them): the cells are the connected regions of zeros; pixels of
    ``ignore_label`` (not annotated) are neither membrane nor cell. ValueError if
    ``ignore_label`` is the map's membrane value (no membrane would be left).

    ``per_section``: a map of more than 2 axes was annotated section by section (every 2D
    plane of the last two axes on its own, as most EM ground truth is): the cells are the
    connected regions of each plane, with IDs unique across planes. Otherwise they are
    connected in all axes (a 3D map).

    >>> objects, membrane, unannotated = membrane_map_objects(np.array([[0, 1, 0, 9]]), 9)
    >>> objects.tolist(), membrane.tolist(), unannotated.tolist()
    ([[1, 0, 2, 0]], [[False, True, False, False]], [[False, False, False, True]])
    >>> stack = np.array([[[0, 1, 0]], [[0, 1, 0]]])
    >>> membrane_map_objects(stack)[0].tolist()
    [[[1, 0, 2]], [[1, 0, 2]]]
    >>> membrane_map_objects(stack, per_section=True)[0].tolist()
    [[[1, 0, 2]], [[3, 0, 4]]]
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
    inside = data == 0
    if not per_section or data.ndim <= 2:
        return ndimage.label(inside)[0], membrane, unannotated
    planes = inside.reshape(-1, *inside.shape[-2:])
    objects = np.zeros(planes.shape, np.int32)
    offset = 0
    for plane, out in zip(planes, objects):
        count = ndimage.label(plane, output=out)
        out[out > 0] += offset  # IDs unique across sections
        offset += count
    return objects.reshape(inside.shape), membrane, unannotated


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


# --- plausible mistakes: ground truth or predictions that score 0 (or 1) for no real reason ---

#: a ground-truth object covering at least this fraction of the pixels is warned about
COLLAPSED_FRACTION = 0.5
#: at most this many pixels are looked at to tell labels from intensities
_SAMPLE_PIXELS = 4_000_000


def _rows(array: np.ndarray) -> np.ndarray:
    """Rows along the last axis of ``array`` (every k-th row of a large one)."""
    rows = array.reshape(-1, array.shape[-1])
    return rows[:: max(1, rows.size // _SAMPLE_PIXELS)]


def _intensities(array: np.ndarray) -> str | None:
    """Why ``array`` looks like an image rather than labels (many distinct values on most
    pixels, equal neighbours rare where objects are solid), or None."""
    if array.ndim < 2 or array.size < 64:
        return None
    rows = _rows(array)
    nonzero = rows != 0
    if nonzero.mean() < 0.1:
        return None
    neighbours = nonzero[:, 1:]
    same = int(np.count_nonzero((rows[:, 1:] == rows[:, :-1]) & neighbours))
    pairs = max(int(np.count_nonzero(neighbours)), 1)
    run = 1.0 / max(1.0 - same / pairs, 1e-9)  # mean length of a run of one value
    if run >= 1 / 0.3:  # label objects: runs of equal values, mostly several pixels long
        return None
    distinct = np.unique(rows[nonzero]).size
    if distinct < 20:
        return None
    return (
        f"looks like an image, not labels: {distinct} distinct values on {nonzero.mean():.0%} "
        f"of its pixels, where one value runs {run:.1f} pixels on average (objects a pixel or "
        "two wide)"
    )


def _two_values(array: np.ndarray) -> int | None:
    """The one non-zero value of an array holding only 0 and it, else None."""
    if array.dtype.kind not in "biu" or not array.size:
        return None
    top = array.max()
    if top <= 0 or np.any((array != 0) & (array != top)):
        return None
    return int(top)


def _sections(array: np.ndarray, count: int = 16) -> np.ndarray:
    """Up to ``count`` evenly spaced 2D planes (the last two axes) of ``array``."""
    planes = array.reshape(-1, *array.shape[-2:])
    return planes[np.unique(np.linspace(0, len(planes) - 1, min(count, len(planes))).astype(int))]


def _largest(objects: np.ndarray, counted: np.ndarray | None = None) -> tuple[int, int, float]:
    """``(n_objects, largest_id, its fraction of the counted pixels)`` of a label image."""
    values = objects if counted is None else objects[counted]
    values = np.asarray(values).ravel()
    if not values.size:
        return 0, 0, 0.0
    ids, sizes = np.unique(values, return_counts=True)
    sizes, ids = sizes[ids != 0], ids[ids != 0]
    if not ids.size:
        return 0, 0, 0.0
    k = int(np.argmax(sizes))
    return int(ids.size), int(ids[k]), float(sizes[k] / values.size)


def _hint(kind: str, what: str, flags: bool) -> str:
    """Advice to score the ground truth as ``kind`` (a key of :data:`GROUND_TRUTH_KINDS`):
    its ``tessella evaluate`` flag with ``flags``, else the ``kind`` and the flag."""
    flag = GROUND_TRUTH_KINDS[kind]
    if flags:
        return f"pass {flag} to {what}"
    return f"take it as kind={kind!r} to {what} (`tessella evaluate {flag}`)"


def mask_stack_reason(array) -> str | None:
    """Why an ``(N, Y, X)`` array looks like a stack of object masks (objects that may
    overlap, one per plane, as BBBC010's worm ground truth and ``tessella segment --stack``
    give them) rather than a volume or a time-lapse, or None.

    Each non-empty plane holds 0 and one value, in one or a few pieces, and neighbouring
    planes hardly overlap (in a volume or a movie they mostly do).

    >>> stack = np.zeros((3, 8, 8), np.uint8)
    >>> stack[0, :2] = stack[1, 3:5] = stack[2, :, 6:] = 1
    >>> mask_stack_reason(stack)
    '3 planes, each holding one object (0 and one value) where its neighbours have none'
    >>> mask_stack_reason(np.ones((3, 8, 8), np.uint8)) is None  # a solid volume
    True
    """
    from scipy import ndimage

    array = np.asarray(array)
    if array.ndim != 3 or array.dtype.kind not in "biu" or len(array) < 2:
        return None
    planes = [plane for plane in array if plane.any()]
    if len(planes) < 2:
        return None
    picked = np.unique(np.linspace(0, len(planes) - 1, min(16, len(planes))).astype(int))
    for k in picked:
        if _two_values(planes[k]) is None:  # (negative values, or two objects)
            return None
    if np.median([ndimage.label(planes[k])[1] for k in picked]) > 3:
        return None
    overlaps = []
    for k in np.unique(np.minimum(picked, len(planes) - 2)):
        a, b = planes[k] != 0, planes[k + 1] != 0
        overlaps.append(np.count_nonzero(a & b) / np.count_nonzero(a | b))
    if np.median(overlaps) >= 0.2:
        return None
    return (
        f"{len(planes)} planes, each holding one object (0 and one value) where its "
        "neighbours have none"
    )


def _mask_stack_note(array: np.ndarray, name: str, flags: bool) -> str | None:
    reason = mask_stack_reason(array)
    if reason is None:
        return None
    return (
        f"{name}: looks like an (N, Y, X) stack of object masks ({reason}): scored as one "
        "label volume, its objects cannot match; "
        + _hint("overlapping", "score each plane as one object, overlaps allowed", flags)
    )


#: above this many pixels, the connected pieces of a mask are not counted for
#: :func:`ground_truth_kind`'s words (a full 3D labelling takes about 0.1 s per 20 Mpx)
_COUNT_PIXELS = 2**22


def ground_truth_kind(truth, prediction_shape: tuple, prediction=None) -> tuple[str, str]:
    """``(kind, why)``: what the ground truth ``truth`` most likely is for a prediction of
    ``prediction_shape``, a key of :data:`GROUND_TRUTH_KINDS`, and why in a few words.

    ``"overlapping"``: an ``(N, Y, X)`` array against a ``(Y, X)`` prediction, one that looks
    like a stack of object masks (:func:`mask_stack_reason`) against a prediction of its
    shape, or against an ``(M, Y, X)`` prediction of the same image size that looks like one
    too (``prediction``, its data, when at hand; else its shape alone is taken);
    ``"boundaries"``: 0 and one value in thin lines around many regions; ``"binary"``: 0 and
    one value otherwise; else ``"labels"``. Quick enough to call at every change of a pair:
    a few sections are looked at, and the pieces of a mask over 4 Mpx are not counted.

    >>> ground_truth_kind(np.array([[0, 1, 1, 0, 1]]), (1, 5))
    ('binary', 'only 0 and 1 (2 connected pieces): probably a binary mask')
    >>> ground_truth_kind(np.array([[0, 1, 1, 0, 2]]), (1, 5))[0]
    'labels'
    """
    from scipy import ndimage

    truth = np.asarray(truth)
    shape = tuple(prediction_shape)
    if truth.ndim == len(shape) + 1 == 3 and truth.shape[1:] == shape:
        return "overlapping", (
            f"a stack of {len(truth)} (Y, X) planes against a (Y, X) prediction: one object "
            "mask per plane"
        )
    stacks = truth.ndim == len(shape) == 3 and truth.shape[1:] == shape[1:]
    reason = mask_stack_reason(truth) if stacks else None
    if reason and (
        truth.shape == shape or prediction is None or mask_stack_reason(prediction) is not None
    ):
        against = "" if truth.shape == shape else f" against a stack of {shape[0]} object masks"
        return "overlapping", f"a stack of object masks: {reason}{against}"
    value = _two_values(truth)
    if value is None:
        return "labels", "many object IDs: instance labels"
    if _membrane_cells(truth != 0, 4):
        return "boundaries", f"only 0 and {value}, in thin lines between regions: a membrane map"
    pieces = ""
    if truth.size <= _COUNT_PIXELS:
        count = ndimage.label(truth != 0)[1]
        pieces = f" ({count} connected piece{'s' if count != 1 else ''})"
    return "binary", f"only 0 and {value}{pieces}: probably a binary mask"


def ground_truth_note(
    truth,
    name: str,
    objects=None,
    kind: str = "labels",
    ignore_label: int | None = None,
    flags: bool = True,
) -> str | None:
    """Why the ground truth ``truth`` may not be what it was taken for (one line starting with
    ``name``), or None: scores of it would mean little.

    ``kind`` is what it was taken for: ``"labels"`` (instance labels), ``"binary"`` (a mask
    whose connected pieces are the objects), ``"boundaries"`` (a membrane map whose insides
    are the objects, per 2D section) or ``"boundaries3d"`` (insides connected in 3D);
    ``objects`` the objects made of it (``truth`` itself for labels). Pixels of
    ``ignore_label`` are not counted. Hints name the ``tessella evaluate`` options with
    ``flags`` (the command line), else the ``kind`` to take it as (of
    :func:`evaluate_labels` and :func:`evaluate_masks`) and its flag. Noted: an intensity image;
    labels holding only 0 and one value in a membrane-like network (``--gt-boundaries``) or
    in separate pieces (``--gt-binary``); a binary mask with many values (a label image?);
    and objects whose largest covers :data:`COLLAPSED_FRACTION` of the pixels.

    >>> membrane = np.zeros((64, 64), np.uint8); membrane[::8] = 1; membrane[:, ::8] = 1
    >>> print(ground_truth_note(membrane, "gt.tif")[:70])
    gt.tif: holds only 0 and 1, like a membrane map (1 in thin lines betwe
    >>> ground_truth_note(np.kron(np.arange(16).reshape(4, 4), np.ones((8, 8), int)), "gt.tif")
    """
    truth = np.asarray(truth)
    counted = None if ignore_label is None else truth != ignore_label
    known = truth if counted is None else np.where(counted, truth, 0)
    image = _intensities(known)
    if image:
        swapped = "are PRED and GT swapped?" if flags else "is it the image?"
        return f"{name}: the ground truth {image}: {swapped}"
    if kind in ("labels", "binary"):
        note = _mask_stack_note(known, name, flags)
        if note:
            return note
    if kind == "binary":
        distinct = np.unique(_rows(known)).size
        if distinct > 2:
            labels = (
                "drop --gt-binary to score its labels"
                if flags
                else "take it as kind='labels' to score its labels (`tessella evaluate` "
                "without --gt-binary)"
            )
            return (
                f"{name}: a binary mask with {distinct - 1} distinct object values: a label "
                f"image? As a mask, objects that touch are joined into one; {labels}"
            )
    elif kind == "labels":
        note = _two_valued_truth(known, name, flags)
        if note:
            return note
    objects = known if objects is None else np.asarray(objects)
    count, largest, fraction = _largest(objects, counted)
    if fraction < COLLAPSED_FRACTION:
        return None
    size = (
        f"{count} object{'s' if count != 1 else ''}, the largest covering {fraction:.0%} of the "
        "pixels"
    )
    if kind == "boundaries3d":
        sections = (
            "without --gt-boundaries-3d each 2D section is scored on its own"
            if flags
            else _hint("boundaries", "score each 2D section on its own", flags)
        )
        return (
            f"{name}: the insides of the membrane map, connected in 3D, are {size}: in a map "
            "annotated section by section (as most EM ground truth) they join across sections; "
            + sections
        )
    if kind == "boundaries":
        return (
            f"{name}: the insides of the membrane map are {size}: is the membrane broken (gaps "
            "join the cells) or its polarity inverted (1 = membrane, 0 = inside)?"
        )
    if kind == "binary":
        return (
            f"{name}: the connected pieces of the mask are {size}: is it inverted (0 is "
            "background)? Objects that touch join in a mask; a label image keeps them apart"
        )
    return (
        f"{name}: the ground truth is {size} (ID {largest}): a label painted on the background? "
        "0 is background"
    )


def _membrane_cells(on: np.ndarray, sections: int = 16) -> float:
    """The mean number of regions of 0 per 2D section (of up to ``sections`` of them) when
    the foreground ``on`` is thin lines between many of them (a membrane map), else 0."""
    from scipy import ndimage

    planes = _sections(on, sections)  # cells of a membrane map are counted per 2D section
    cells = np.mean([ndimage.label(~plane)[1] for plane in planes])
    lines = np.mean([ndimage.label(plane)[1] for plane in planes])
    return float(cells) if cells >= 10 and cells >= 5 * lines else 0.0


def _two_valued_truth(known: np.ndarray, name: str, flags: bool) -> str | None:
    """The note on label ground truth holding only 0 and one value (see
    :func:`ground_truth_note`), or None."""
    from scipy import ndimage

    value = _two_values(known)
    if value is None:
        return None
    on = known != 0
    pieces = ndimage.label(on)[1]
    cells = _membrane_cells(on)
    if cells:
        per = " per section" if known.ndim > 2 else ""
        return (
            f"{name}: holds only 0 and {value}, like a membrane map ({value} in thin lines "
            f"between {cells:.0f} regions of 0{per}): as labels, its membrane is one object; "
            + _hint("boundaries", "score the regions between the lines as the objects", flags)
        )
    if pieces < 2:
        return None
    mostly = (
        f" (mostly {value} with lines of 0: a membrane map with 0 = membrane, whose pieces "
        "are its cells?)"
        if on.mean() > 0.5
        else ""
    )
    return (
        f"{name}: holds only 0 and {value}, in {pieces} separate pieces: a binary mask{mostly}? "
        f"As labels, every piece is one object (ID {value}); "
        + _hint("binary", "score each connected piece as an object", flags)
    )


def prediction_note(predicted, name: str, flags: bool = True) -> str | None:
    """Why the prediction ``predicted`` does not look like labels (one line starting with
    ``name``), or None: an intensity image (the raw image given instead of its labels), an
    ``(N, Y, X)`` stack of object masks (:func:`mask_stack_reason`; ``flags``: the hint names
    ``--overlapping``, else ``kind='overlapping'`` and the flag), or a binary mask in 3 or
    more pieces (every piece one object of one ID).

    >>> rng = np.random.default_rng(0)
    >>> print(prediction_note(rng.integers(0, 4000, (64, 64)), "pred.tif")[:52])
    pred.tif: looks like an image, not labels: 2598 dist
    >>> prediction_note(np.kron(np.arange(16).reshape(4, 4), np.ones((8, 8), int)), "p") is None
    True
    """
    from scipy import ndimage

    predicted = np.asarray(predicted)
    image = _intensities(predicted)
    if image:
        return f"{name}: {image}: segment the image and score its labels"
    stack = _mask_stack_note(predicted, name, flags)
    if stack:
        return stack
    value = _two_values(predicted)
    if value is None:
        return None
    pieces = ndimage.label(predicted != 0)[1]
    if pieces < 3:
        return None
    return (
        f"{name}: holds only 0 and {value}, in {pieces} separate pieces: a binary mask, not "
        f"labels? Every piece counts as one object of ID {value}; give each its own ID (e.g. "
        "scipy.ndimage.label)"
    )

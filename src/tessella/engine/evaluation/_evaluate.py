"""One prediction scored against its ground truth, for the Evaluate panel:
:func:`evaluate_labels` (:func:`evaluate_labels_steps`, its steps for a worker that can stop
it) and :func:`evaluate_masks` (objects that may overlap; :func:`evaluate_masks_steps`)."""

from __future__ import annotations

from collections.abc import Generator, Iterable

import numpy as np

from .. import metrics
from ..progress import Progress, run_steps
from ._mistakes import ground_truth_note, prediction_note
from ._scores import (
    NOT_ANNOTATED,
    Evaluation,
    _ap_scores,
    _error_map,
    _mask_scores,
    draw_errors,
    score_pairs,
    sparse_within,
    vrand_means,
    wanted_metrics,
)
from ._sparse import annotated_summary, check_places, places_misfit
from ._stacks import stack_pair, stack_steps
from ._tiles import tiled_pair, tiled_steps
from ._truth import mask_stack_objects, scored_images, stack_without_ignored, truth_objects

__all__ = ["evaluate_labels", "evaluate_labels_steps", "evaluate_masks", "evaluate_masks_steps"]

#: the IoU of overlapping masks is computed for as many ground-truth masks at a time as have
#: about this many pixels together (64 MB of float32 each step: a 696 x 520 image, BBBC010's,
#: 46 masks), a step of :func:`evaluate_masks_steps` each
MASK_STEP_PIXELS = 2**24


def evaluate_labels(
    labels_true,
    labels_pred,
    threshold: float = 0.5,
    frame_axis: int | None = None,
    ignore_label: int | None = None,
    names: tuple[str, str] = ("ground truth", "prediction"),
    kind: str = "labels",
    metrics_wanted: Iterable[str] = ("ap",),
    annotated: list[tuple[int, ...]] | None = None,
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
    ``--metric iou``; ``"vrand"``: V_rand and VOI, each image's computed in its step,
    ``"voi"`` taken as ``"vrand"``). ``notes`` warns, as ``tessella evaluate`` does, about a
    ground truth or a prediction that does not look like what it is taken for (``names``:
    what to call them there); a hint names the ``kind`` to score it as and its
    ``tessella evaluate`` flag.
    ``annotated``: ground truth that annotates only some frames or slices (a Cell Tracking
    Challenge ``SEG`` folder as the reader opens it, :func:`ctc_annotated`) is scored there
    only, ``(t,)`` a frame, ``(t, z)`` a 2D slice, each an image (``frame_axis`` is then not
    used; ``kind`` labels or binary); ``scores["annotated"]`` says how many
    (:func:`annotated_summary`) and ``errors`` is 0 elsewhere. The two may then differ in
    length (a SEG folder's stack, as long as its movie, against a prediction of another):
    every place must lie in both and hold images of one shape (ValueError saying where not,
    :func:`places_misfit`); ``errors`` has the prediction's shape. A place whose ground truth
    looks sparse within it (:func:`sparse_within`: many predicted objects of cell size there
    touch no ground-truth object and it covers at most half of what the prediction covers;
    it annotates some cells only, as a SEG file may) has the objects of cell size touching
    none marked :data:`NOT_ANNOTATED` (3) in ``errors``, not :data:`FALSE_POSITIVE` (smaller
    ones, debris, stay false positives);
    ``not_annotated`` counts them and ``sparse_places`` names those places. The scores and
    counts still count them as false positives (as ``tessella evaluate`` does; SEG,
    ``metrics_wanted`` ``"seg"``, scores the annotated objects only).

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
    return run_steps(
        evaluate_labels_steps(
            labels_true,
            labels_pred,
            threshold,
            frame_axis,
            ignore_label,
            names,
            kind,
            metrics_wanted,
            annotated,
        )
    )


def evaluate_labels_steps(
    labels_true,
    labels_pred,
    threshold: float = 0.5,
    frame_axis: int | None = None,
    ignore_label: int | None = None,
    names: tuple[str, str] = ("ground truth", "prediction"),
    kind: str = "labels",
    metrics_wanted: Iterable[str] = ("ap",),
    annotated: list[tuple[int, ...]] | None = None,
) -> Generator[Progress, None, Evaluation]:
    """:func:`evaluate_labels` (same arguments) as steps: a generator that yields a
    :class:`~tessella.engine.progress.Progress` once the ground truth's objects are made
    (``"objects"``, 1 of 1) and once per image matched (``"match"``, one per frame of a
    time-lapse, annotated place or 2D section of a membrane map, else 1 of 1), and returns
    the :class:`Evaluation`. A pair of several images first says how many (``"match"``, 0 of
    them), before any work, so that a progress bar counts them from the start. An image of
    more than :data:`~tessella.engine._metrics_overlap.CHUNK_PIXELS` pixels (2048 x 2048)
    also says how far its overlap table is (``"pixels"``, ``done`` of ``total`` chunks read,
    before its ``"match"``). A worker that stops calling it stops the scoring there; each
    image's IoU (of the pairs of objects that overlap, :func:`metrics.iou_pairs`) is computed
    once, for the scores and the counts and errors.

    >>> from tessella.engine.progress import Progress
    >>> gt = np.array([[[1, 1, 0]], [[0, 2, 2]]])
    >>> steps = evaluate_labels_steps(gt, gt, frame_axis=0)
    >>> [next(steps) for _ in range(4)]  # doctest: +NORMALIZE_WHITESPACE
    [Progress(stage='match', done=0, total=2), Progress(stage='objects', done=1, total=1),
     Progress(stage='match', done=1, total=2), Progress(stage='match', done=2, total=2)]
    """
    wanted = wanted_metrics(metrics_wanted)
    if stack_pair(labels_true, labels_pred, kind, frame_axis, ignore_label, annotated, wanted):
        # a lazy 3D pair (a volume; a movie, frame by frame): read a piece at a time
        return (
            yield from stack_steps(
                labels_true, labels_pred, threshold, names, wanted, frame_axis=frame_axis
            )
        )
    if tiled_pair(labels_true, labels_pred, kind, frame_axis, ignore_label, annotated, wanted):
        # a lazy 2D pair (a zarr, a multiscale layer's level 0): read a 2048² piece at a time
        return (
            yield from tiled_steps(
                labels_true,
                labels_pred,
                threshold,
                names,
                wanted,
                kind=kind,
                ignore_label=ignore_label,
            )
        )
    count = _image_count(np.shape(labels_true), kind, frame_axis, annotated)
    if count > 1:  # several images: counted from the start
        yield Progress("match", 0, count)
    if annotated is not None and not isinstance(labels_pred, np.ndarray):
        # a lazy prediction scored at some places only (a movie's result against a SEG
        # folder): read a place at a time, each in the step that scores it, never whole
        predicted = _lazy(labels_pred)
    else:
        predicted = np.asarray(labels_pred)
    # what instance labels and the prediction look like (their notes) is seen after the
    # images are scored, so that a progress bar counts those from the start; where some
    # places are annotated, there only, where they are scored (GOWT1's SEG folder, 30 of 92
    # frames: the looks of the whole stacks took 7 of a 10 s run in the panel, before the
    # first frame scored)
    part = _annotated_part(annotated) if kind == "labels" else None
    if part is not None and ignore_label is None and hasattr(labels_true, "shape"):
        # the objects as they are: a lazy stack (a SEG folder the reader opened lazily) is
        # read a place at a time, each in its step, not whole first
        truth, unannotated, note = labels_true, None, None
    else:
        truth, unannotated, note = truth_objects(
            labels_true, kind, ignore_label, names[0], False, notes=kind != "labels"
        )
    if unannotated is not None and not unannotated.any():
        raise ValueError(f"unannotated label {ignore_label}: no ground-truth pixel has it")
    if truth.shape != predicted.shape and annotated is None:
        raise ValueError(
            f"label images differ in shape: {names[1]} {predicted.shape}, {names[0]} {truth.shape}"
        )
    if annotated is not None and kind not in ("labels", "binary"):
        raise ValueError(f"annotated frames or slices: {names[0]} must be labels or binary")
    if annotated is not None:
        check_places(annotated, truth.shape, names[0])
        if not len(annotated):
            raise ValueError(f"{names[0]}: no annotated frame or slice to score")
        shapes = [truth.shape[len(place) :] for place in annotated]
        misfit = places_misfit(annotated, shapes, predicted.shape, names[1])
        if misfit:  # (a prediction of another length: scored where both are)
            raise ValueError(f"{names[0]} {misfit}")
    yield Progress("objects", 1, 1)
    images = scored_images(truth, predicted, unannotated, kind, frame_axis, annotated)
    thresholds = [float(t) for t in metrics.DEFAULT_THRESHOLDS]
    per_image = []  # each image's matchings at the score thresholds
    counts = np.zeros(3, np.int64)  # true, predicted, matched objects
    errors = []
    rand = []  # each image's V_rand and VOI, if wanted (computed in its step, as its matching)
    not_annotated, sparse = 0, []  # predicted objects off a sparse annotation, and where
    for done, (t_frame, p_frame, u_frame) in enumerate(images, 1):
        t_frame = np.asarray(t_frame)  # (a lazy stack's place read here)
        p_frame = np.asarray(p_frame)
        images[done - 1] = (t_frame, p_frame, u_frame)
        # (checks shapes, dtypes; an image of several chunks of pixels says how far it is)
        iou, true_ids, pred_ids = yield from _pixel_steps(metrics._iou_steps(t_frame, p_frame))
        per_image.append([metrics._match(iou, thr) for thr in thresholds])
        rows, cols = metrics.match_indices(iou, threshold)
        counts += (true_ids.size, pred_ids.size, rows.size)
        image_errors = _error_map(t_frame, p_frame, true_ids, pred_ids, rows, cols)
        if annotated is not None:  # predictions off a sparse annotation: not annotated
            off = sparse_within(iou, true_ids, pred_ids, t_frame, p_frame)
            if off.size:
                image_errors[np.isin(p_frame, off)] = NOT_ANNOTATED
                not_annotated += off.size
                sparse.append(tuple(annotated[done - 1]))
        errors.append(image_errors)
        if "vrand" in wanted:
            rand.append(metrics.rand_voi(t_frame, p_frame))
        yield Progress("match", done, len(images))
    if part is not None:  # the images read
        raw = truth_seen = np.stack([t for t, _, _ in images])
        if unannotated is not None:
            raw = part(np.asarray(labels_true))
        # (the places scored; where cut to the annotation, read again as they are)
        seen = part(predicted) if unannotated is not None else np.stack([p for _, p, _ in images])
    else:
        raw, truth_seen, seen = np.asarray(labels_true), truth, predicted
    if kind == "labels":
        note = ground_truth_note(raw, names[0], truth_seen, kind, ignore_label, False)
    notes = tuple(n for n in (prediction_note(seen, names[1], flags=False), note) if n)
    # the scores of score_pairs, its AP from the matchings above
    # (and its V_rand and VOI from those of each image above)
    scores = _image_scores([(t, p) for t, p, _ in images], wanted, per_image, thresholds, rand)
    n_true, n_pred, tp = (int(c) for c in counts)
    if annotated is not None:
        scores["annotated"] = annotated_summary(annotated, predicted.shape)
        error_map = np.zeros(predicted.shape, np.uint8)  # (over the prediction)
        for place, image_errors in zip(annotated, errors):
            error_map[tuple(place)] = image_errors
    elif frame_axis is None or (kind == "boundaries" and truth.ndim > 2):
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
        not_annotated=not_annotated,
        sparse_places=tuple(sparse),
    )


def _image_scores(pairs: list, wanted, per_image: list, thresholds: list, rand) -> dict:
    """The scores of :func:`evaluate_labels_steps` as :func:`score_pairs` gives them of
    ``pairs`` (the images, or their overlap tables), but AP from the matchings already made
    (``per_image``, at ``thresholds``) and V_rand and VOI from each image's
    :func:`~tessella.engine.metrics.rand_voi` (``rand``, iterated only where ``"vrand"`` is
    wanted): ``"n_images"`` first, then AP, the others, V_rand and VOI. :func:`stack_steps`
    scores a lazy 3D pair so too."""
    rest = [m for m in wanted if m not in ("ap", "vrand")]
    others = score_pairs(pairs, rest)
    scores: dict = {"n_images": others.pop("n_images")}
    if "ap" in wanted:
        scores.update(_ap_scores(metrics._means_over_images(per_image, thresholds)))
    scores.update(others)
    if "vrand" in wanted:
        scores.update(vrand_means(list(rand)))
    return scores


def _lazy(array):
    """``array`` (a zarr, any lazy array) as a dask array, whose parts are read when asked
    for (``np.asarray``), not when indexed."""
    import dask.array as da

    if isinstance(array, da.Array):
        return array
    chunks = getattr(array, "chunks", None)
    return da.from_array(array, chunks=chunks if chunks else "auto", lock=False)


def _pixel_steps(
    steps: Generator[tuple[int, int], None, tuple],
) -> Generator[Progress, None, tuple]:
    """The overlap table's ``steps`` (``(done, total)`` chunks of pixels read,
    :data:`~tessella.engine._metrics_overlap.CHUNK_PIXELS` each) as ``"pixels"`` progress,
    where an image has more than one chunk: a worker can stop there, within a large image;
    returns what ``steps`` return."""
    while True:
        try:
            done, total = next(steps)
        except StopIteration as end:
            return end.value
        if total > 3:  # (a chunk: 3 steps, ids of each image and pairs)
            yield Progress("pixels", done, total)


def _annotated_part(annotated: list[tuple[int, ...]] | None):
    """A function giving the images at the ``annotated`` places of an array, stacked (what
    is scored of it), where there are places, all frames or all slices; else None.

    >>> part = _annotated_part([(2,), (0,)])
    >>> part(np.arange(12).reshape(3, 2, 2)).tolist()
    [[[8, 9], [10, 11]], [[0, 1], [2, 3]]]
    """
    if not annotated or len({len(place) for place in annotated}) != 1:
        return None
    places = [tuple(place) for place in annotated]

    def part(array: np.ndarray) -> np.ndarray:
        return np.stack([array[place] for place in places])

    return part


def _image_count(
    shape: tuple[int, ...],
    kind: str,
    frame_axis: int | None,
    annotated: list[tuple[int, ...]] | None,
) -> int:
    """How many images :func:`scored_images` makes of a pair of ``shape`` (the steps of
    :func:`evaluate_labels_steps`' ``"match"``); 0 where the arguments are refused later.

    >>> _image_count((92, 64, 64), "labels", None, [(2,), (5,)])
    2
    >>> _image_count((5, 3, 64, 64), "boundaries", None, None)
    15
    >>> _image_count((7, 8, 8), "labels", 0, None)
    7
    """
    if annotated is not None:
        return len(annotated)
    if kind == "boundaries" and len(shape) > 2:
        return int(np.prod(shape[:-2]))
    if frame_axis is None:
        return 1
    return shape[frame_axis] if -len(shape) <= frame_axis < len(shape) else 0


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
    return run_steps(evaluate_masks_steps(masks_true, masks_pred, threshold, ignore_label, names))


def evaluate_masks_steps(
    masks_true,
    masks_pred,
    threshold: float = 0.5,
    ignore_label: int | None = None,
    names: tuple[str, str] = ("ground truth", "prediction"),
) -> Generator[Progress, None, Evaluation]:
    """:func:`evaluate_masks` (same arguments) as steps: a generator that yields a
    :class:`~tessella.engine.progress.Progress` once the ground truth's object masks are made
    and once the prediction's are (``"objects"``, 1 and 2 of 2), then once per group of
    ground-truth masks whose IoU with every predicted mask is computed (``"match"``, ``done``
    of ``total`` ground-truth objects; groups of :data:`MASK_STEP_PIXELS` pixels together),
    and returns the :class:`Evaluation`. A worker that stops calling it stops the scoring
    there; the IoU matrix is computed once, for the scores and the counts and errors.

    >>> truth = np.array([[[1, 1, 0]], [[0, 1, 1]], [[0, 0, 1]]])
    >>> steps = evaluate_masks_steps(truth, truth)
    >>> [next(steps) for _ in range(3)]  # doctest: +NORMALIZE_WHITESPACE
    [Progress(stage='objects', done=1, total=2), Progress(stage='objects', done=2, total=2),
     Progress(stage='match', done=3, total=3)]
    """
    truth, unannotated = mask_stack_objects(masks_true, 2, ignore_label, names[0])
    yield Progress("objects", 1, 2)
    predicted = mask_stack_objects(masks_pred, 2, None, names[1])[0]
    if truth.shape[1:] != predicted.shape[1:]:
        raise ValueError(
            f"{names[1]} has image shape {predicted.shape[1:]} but {names[0]} has {truth.shape[1:]}"
        )
    if ignore_label is not None:
        if unannotated is None or not unannotated.any():
            raise ValueError(f"unannotated label {ignore_label}: no ground-truth pixel has it")
        predicted = stack_without_ignored(predicted, unannotated, truth)
    yield Progress("objects", 2, 2)
    rows_of_iou = []
    for rows in _stack_iou_rows(truth, predicted):
        rows_of_iou.append(rows)
        yield Progress("match", sum(len(r) for r in rows_of_iou), len(truth))
    iou = np.concatenate(rows_of_iou) if rows_of_iou else np.zeros((0, len(predicted)))
    thresholds = [float(t) for t in metrics.DEFAULT_THRESHOLDS]
    # the scores of score_mask_pairs (stack_average_precision_scores), of this IoU matrix
    per_image = [[metrics._match(iou, thr) for thr in thresholds]]
    scores = _mask_scores(metrics._means_over_images(per_image, thresholds))
    rows, cols = metrics.match_indices(iou, threshold)
    errors = np.zeros(truth.shape[1:], np.uint8)  # (both where a spurious mask lies on a missed)
    missed = np.delete(truth, rows, axis=0).any(axis=0)
    draw_errors(errors, np.delete(predicted, cols, axis=0).any(axis=0), missed)
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


def _stack_iou_rows(truth: np.ndarray, predicted: np.ndarray) -> Generator[np.ndarray, None, None]:
    """The rows of :func:`tessella.engine.metrics.stack_iou_matrix` of the bool stacks
    ``truth`` and ``predicted`` (the same values: counts exact in float32), a group of
    ground-truth masks of about :data:`MASK_STEP_PIXELS` pixels at a time; the predicted
    masks are converted once.

    >>> a = np.array([[[1, 1, 0, 0]], [[0, 1, 1, 0]]], bool)
    >>> [rows.tolist() for rows in _stack_iou_rows(a, a[:1])]
    [[[1.0], [0.3333333333333333]]]
    """
    t = truth.reshape(len(truth), int(np.prod(truth.shape[1:])))  # -1 fails on an empty one
    p = predicted.reshape(len(predicted), int(np.prod(predicted.shape[1:])))
    p_float = p.T.astype(np.float32)
    p_sizes = p.sum(1)
    step = max(1, MASK_STEP_PIXELS // max(t.shape[1], 1))
    for start in range(0, len(t), step):
        group = t[start : start + step]
        inter = (group.astype(np.float32) @ p_float).astype(np.float64)
        union = group.sum(1)[:, None] + p_sizes[None, :] - inter
        yield np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)

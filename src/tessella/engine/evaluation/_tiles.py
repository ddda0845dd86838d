"""A lazy 2D pair (dask, zarr: a blockwise result, a multiscale layer's level 0) scored a
2048 x 2048 piece at a time, never read whole (:func:`tiled_steps`), but for a side holding
one object ID only (a binary mask given as labels?), read whole for its note.

Each piece of the two label images is read, its overlap table made (the ids of each side
and the pairs of objects that share pixels, with their pixel counts) and let go; the tables
are merged into the one of the whole pair, which the matching takes as it takes a table
made in memory. The error map is then filled a piece at a time (the pieces read again).
The memory is the sparse matching's own, two pieces of each side and the error map
(1 byte a pixel): a 20000² uint32 pair is 1.6 GB a side where read whole.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator

import numpy as np

from .. import metrics
from .._metrics_overlap import _check_pair, _contingency, _merge_counts, _one_dtype
from ..progress import Progress
from ._mistakes import (
    _SAMPLE_PIXELS,
    _intensities,
    collapsed_note,
    ground_truth_note,
    prediction_note,
)
from ._scores import (
    FALSE_NEGATIVE,
    FALSE_POSITIVE,
    Evaluation,
    PairTable,
    _ap_scores,
    wanted_metrics,
)

__all__ = ["TILE_SIDE", "tiled_pair", "tiled_steps", "tiled_table", "tiles"]

#: how a side of a pair is read: ``read(k, where)``, the ground truth (``k`` 0) or the
#: prediction (1), at ``where`` (a piece's slices), or whole where ``where`` is None
Reader = Callable[[int, "tuple[slice, slice] | None"], np.ndarray]

#: the side of the pieces a lazy pair is read in (2048 x 2048 pixels: the overlap table's
#: :data:`~tessella.engine._metrics_overlap.CHUNK_PIXELS`)
TILE_SIDE = 2048


def tiles(shape: tuple[int, ...], side: int = TILE_SIDE) -> Iterator[tuple[slice, slice]]:
    """The pieces of a 2D image of ``shape``, ``side`` x ``side`` pixels (smaller at the
    right and bottom edges), row by row.

    >>> [(y.start, y.stop, x.start, x.stop) for y, x in tiles((3, 5), 2)]
    [(0, 2, 0, 2), (0, 2, 2, 4), (0, 2, 4, 5), (2, 3, 0, 2), (2, 3, 2, 4), (2, 3, 4, 5)]
    """
    height, width = shape
    for y in range(0, max(height, 1), side):
        for x in range(0, max(width, 1), side):
            yield slice(y, min(y + side, height)), slice(x, min(x + side, width))


def tiled_pair(labels_true, labels_pred, kind, frame_axis, ignore_label, annotated, wanted) -> bool:
    """Whether :func:`tiled_steps` scores the pair: 2D instance labels, one image, nothing
    left out, AP and foreground IoU only, and one side lazy (not a NumPy array: its pixels
    not in memory yet).

    >>> import dask.array as da
    >>> lazy = da.zeros((8, 8), np.uint32)
    >>> tiled_pair(lazy, lazy, "labels", None, None, None, ("ap", "iou"))
    True
    >>> tiled_pair(np.zeros((8, 8)), np.zeros((8, 8)), "labels", None, None, None, ("ap",))
    False
    """
    arrays = (labels_true, labels_pred)
    return (
        kind == "labels"
        and frame_axis is None
        and ignore_label is None
        and annotated is None
        and set(wanted) <= {"ap", "iou"}
        and all(len(getattr(a, "shape", ())) == 2 for a in arrays)
        and tuple(labels_true.shape) == tuple(labels_pred.shape)
        and any(not isinstance(a, np.ndarray) for a in arrays)
    )


def _piece(array, where) -> np.ndarray:
    return np.asarray(array[where])


def _merged_table(parts: list[tuple]) -> tuple:
    """The overlap table of the whole pair (as :func:`_contingency` gives it) of the tables
    of its pieces."""
    empty = np.zeros(0, np.int64)
    # each side's ids in one dtype (a blank piece's or one of small ids are int64, one of
    # ids beyond its pixels' count uint64 for uint64 labels: float64 if joined as they are)
    t_all = _one_dtype([p[0] for p in parts] or [empty])
    p_all = _one_dtype([p[1] for p in parts] or [empty])
    t_ids, t_sizes = _merge_counts([(t, p[2]) for t, p in zip(t_all, parts)] or [(empty, empty)])
    p_ids, p_sizes = _merge_counts([(q, p[3]) for q, p in zip(p_all, parts)] or [(empty, empty)])
    t_of = np.concatenate([t[p[4]] for t, p in zip(t_all, parts)] or [empty])
    p_of = np.concatenate([q[p[5]] for q, p in zip(p_all, parts)] or [empty])
    counts = np.concatenate([p[6] for p in parts] or [empty])
    order = np.lexsort((p_of, t_of))
    t_of, p_of, counts = t_of[order], p_of[order], counts[order]
    new = np.ones(t_of.size, bool)
    new[1:] = (t_of[1:] != t_of[:-1]) | (p_of[1:] != p_of[:-1])
    starts = np.flatnonzero(new)
    summed = np.add.reduceat(counts, starts) if starts.size else empty
    rows = np.searchsorted(t_ids, t_of[starts]).astype(np.intp)
    cols = np.searchsorted(p_ids, p_of[starts]).astype(np.intp)
    return t_ids, p_ids, t_sizes, p_sizes, rows, cols, summed.astype(np.int64)


def _isin(piece: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``np.isin(piece, ids)`` compared in one integer dtype (:func:`_one_dtype`: uint64
    ids against signed pixels, or the reverse, are not compared as float64)."""
    if piece.dtype != ids.dtype and np.uint64 in (piece.dtype, ids.dtype):
        piece, ids = _one_dtype([piece, ids])
    return np.isin(piece, ids)


def _reader(labels_true, labels_pred) -> Reader:
    """The :data:`Reader` of the pair: indexing, then ``np.asarray``."""
    arrays = (labels_true, labels_pred)

    def read(k: int, where: tuple[slice, slice] | None) -> np.ndarray:
        return np.asarray(arrays[k] if where is None else arrays[k][where])

    return read


def _table_steps(
    shape: tuple[int, int], read: Reader, side: int
) -> Generator[int, None, tuple[PairTable, list]]:
    """Reads the pair a piece at a time (:func:`tiles`), yielding the pieces done; returns
    its overlap table and the every-k-th rows of each side that the notes judge (as
    ``_mistakes._rows`` takes them of a pair in memory)."""
    step = max(1, (shape[0] * shape[1]) // _SAMPLE_PIXELS)  # (the notes' rows: every step-th)
    kept = np.arange(0, shape[0], step)
    samples: list[np.ndarray | None] = [None, None]
    parts = []
    for done, where in enumerate(tiles(shape, side), 1):
        truth, predicted = _check_pair(read(0, where), read(1, where))
        truth = truth.reshape(where[0].stop - where[0].start, -1)
        predicted = predicted.reshape(truth.shape)
        parts.append(_contingency(truth, predicted))
        rows = kept[(kept >= where[0].start) & (kept < where[0].stop)]
        for k, piece in enumerate((truth, predicted)):
            if samples[k] is None:
                samples[k] = np.zeros((kept.size, shape[1]), piece.dtype)
            sample = samples[k]
            assert sample is not None
            sample[np.searchsorted(kept, rows), where[1]] = piece[rows - where[0].start]
        del truth, predicted
        yield done
    return PairTable(*_merged_table(parts)), samples


def tiled_table(
    labels_true,
    labels_pred,
    names: tuple[str, str] = ("ground truth", "prediction"),
    flags: bool = True,
    read: Reader | None = None,
    side: int | None = None,
) -> tuple[PairTable, tuple[str, ...]]:
    """The overlap table of a pair that :func:`tiled_pair` takes (its two sides of one
    shape), read a piece of ``side`` x ``side`` pixels at a time (:data:`TILE_SIDE` by
    default), never whole, and the notes on it (the prediction's first), which
    :func:`~tessella.engine.evaluation.prediction_note` and
    :func:`~tessella.engine.evaluation.ground_truth_note` give of the pair in memory (``flags``:
    hints naming the ``tessella evaluate`` options). ``read``: how a piece is read
    (:data:`Reader`; indexing by default). :func:`~tessella.engine.evaluation.score_pairs`
    scores the table as the pair: ``tessella evaluate`` of a pair of large 2D zarrs.

    >>> import dask.array as da
    >>> gt = np.zeros((5, 5), np.uint16); gt[:2, :2] = 1; gt[3:, 3:] = 2
    >>> table, notes = tiled_table(da.from_array(gt), np.where(gt == 1, 7, 0), side=2)
    >>> table.true_ids.tolist(), table.pred_ids.tolist(), table.counts.tolist(), notes
    ([1, 2], [7], [4], ())
    """
    shape = (int(labels_true.shape[0]), int(labels_true.shape[1]))
    read = read or _reader(labels_true, labels_pred)
    reading = _table_steps(shape, read, side or TILE_SIDE)
    while True:
        try:
            next(reading)
        except StopIteration as end:
            table, samples = end.value
            break
    return table, _notes(read, samples, table, shape, names, flags)


def tiled_steps(
    labels_true,
    labels_pred,
    threshold: float = 0.5,
    names: tuple[str, str] = ("ground truth", "prediction"),
    metrics_wanted=("ap",),
    side: int | None = None,
) -> Generator[Progress, None, Evaluation]:
    """:func:`~tessella.engine.evaluation.evaluate_labels_steps` of a pair that
    :func:`tiled_pair` takes, read a piece of ``side`` x ``side`` pixels at a time
    (:func:`tiles`; :data:`TILE_SIDE` by default): yields ``"objects"`` (1 of 1), then
    ``"pixels"`` after each piece read (two passes, where there are several pieces: the
    overlap tables, then the error map) and ``"match"`` (1 of 1); returns the same
    :class:`Evaluation` as the pair read whole.

    The notes judge the intensities on every k-th row (as on a pair in memory, about
    :data:`~tessella.engine.evaluation._mistakes._SAMPLE_PIXELS` pixels) and the largest
    object from the table; a side holding one object id only (a binary mask taken for
    labels?) is read whole for its note (its pieces counted).

    >>> import dask.array as da
    >>> gt = np.zeros((5, 5), np.uint16); gt[:2, :2] = 1; gt[3:, 3:] = 2
    >>> pred = np.where(gt == 1, 7, 0).astype(np.uint16)
    >>> from tessella.engine.progress import run_steps
    >>> result = run_steps(tiled_steps(da.from_array(gt), pred, side=2))
    >>> result.tp, result.fp, result.fn, result.errors[3:, 3:].tolist()
    (1, 0, 1, [[2, 2], [2, 2]])
    """
    wanted = wanted_metrics(metrics_wanted)
    shape = tuple(int(n) for n in labels_true.shape)
    if shape != tuple(int(n) for n in labels_pred.shape):
        raise ValueError(
            f"label images differ in shape: {names[1]} {tuple(labels_pred.shape)}, "
            f"{names[0]} {shape}"
        )
    yield Progress("objects", 1, 1)
    pieces = list(tiles(shape, side or TILE_SIDE))
    total = 2 * len(pieces) if len(pieces) > 1 else 0
    read = _reader(labels_true, labels_pred)
    reading = _table_steps((shape[0], shape[1]), read, side or TILE_SIDE)
    while True:
        try:
            done = next(reading)
        except StopIteration as end:
            table, samples = end.value
            break
        if total:
            yield Progress("pixels", done, total)
    t_ids, p_ids = table.true_ids, table.pred_ids
    iou = table.iou()
    thresholds = [float(t) for t in metrics.DEFAULT_THRESHOLDS]
    matched = [metrics._match(iou, thr) for thr in thresholds]
    m_rows, m_cols = metrics.match_indices(iou, threshold)
    missed, spurious = np.delete(t_ids, m_rows), np.delete(p_ids, m_cols)
    errors = np.zeros(shape, np.uint8)
    for done, where in enumerate(pieces, len(pieces) + 1):
        if missed.size or spurious.size:
            truth, predicted = _piece(labels_true, where), _piece(labels_pred, where)
            errors[where][_isin(predicted, spurious)] = FALSE_POSITIVE
            # written last: a missed object stays whole where a spurious one overlaps it
            errors[where][_isin(truth, missed)] = FALSE_NEGATIVE
            del truth, predicted
        if total:
            yield Progress("pixels", done, total)
    scores: dict = {"n_images": 1}
    if "ap" in wanted:
        scores.update(_ap_scores(metrics._means_over_images([matched], thresholds)))
    if "iou" in wanted:  # (foreground IoU from the table: the pixels of pairs and of each side)
        both, union = table.foreground()
        scores["foreground_iou"] = float(both / union) if union else 1.0
    notes = _notes(read, samples, table, (shape[0], shape[1]), names, False)
    yield Progress("match", 1, 1)
    tp = int(m_rows.size)
    return Evaluation(
        scores=scores,
        threshold=float(threshold),
        n_true=int(t_ids.size),
        n_pred=int(p_ids.size),
        tp=tp,
        fp=int(p_ids.size) - tp,
        fn=int(t_ids.size) - tp,
        errors=errors,
        notes=notes,
    )


def _notes(
    read: Reader,
    samples: list,
    table: PairTable,
    shape: tuple[int, int],
    names: tuple[str, str],
    flags: bool,
) -> tuple:
    """The notes of :func:`evaluate_labels` (``tessella evaluate``'s with ``flags``) on a
    lazy 2D pair of instance labels (the prediction's first), from the rows sampled and the
    ground truth's table; a side of one object id is read whole (:func:`ground_truth_note`,
    :func:`prediction_note`)."""
    t_ids, t_sizes = table.true_ids, table.true_sizes
    if table.pred_ids.size == 1:
        predicted = prediction_note(read(1, None), names[1], flags=flags)
    else:
        image = _intensities(samples[1]) if samples[1] is not None else None
        predicted = (
            f"{names[1]}: {image}: segment the image and score its labels" if image else None
        )
    if t_ids.size == 1:
        truth = ground_truth_note(read(0, None), names[0], flags=flags)
    else:
        image = _intensities(samples[0]) if samples[0] is not None else None
        swapped = "are PRED and GT swapped?" if flags else "is it the image?"
        truth = f"{names[0]}: the ground truth {image}: {swapped}" if image else None
        if truth is None and t_ids.size:
            k = int(np.argmax(t_sizes))
            fraction = float(t_sizes[k] / (shape[0] * shape[1]))
            truth = collapsed_note(
                names[0], int(t_ids.size), int(t_ids[k]), fraction, "labels", flags
            )
    return tuple(note for note in (predicted, truth) if note)

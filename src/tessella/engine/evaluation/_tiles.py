"""A lazy 2D pair (dask, zarr: a blockwise result, a multiscale layer's level 0) scored a
2048 x 2048 piece at a time, never read whole (:func:`tiled_steps`); a side holding one
object ID only (a binary mask given as labels?) has its pieces counted a piece at a time
for its note (:func:`_notes`). Ground truth
taken as a binary mask (``kind="binary"``, ``--gt-binary``) or a 2D membrane map
(``"boundaries"``, ``--gt-boundaries``; AP, foreground IoU, V_rand and VOI) is read so too:
its connected pieces (a map's cells) are found a piece at a time and joined across the
pieces' edges (:func:`binary_pieces`), numbered as
:func:`~tessella.engine.evaluation.mask_pieces` (``membrane_map_objects``) numbers them
whole. So are instance labels or a binary mask with an unannotated label
(``ignore_label``) scored by :func:`tiled_steps` (the Evaluate panel, ``evaluate_labels``)
and :func:`tiled_table` (``tessella evaluate --ignore-label``): a first pass counts what
:func:`without_ignored` cuts (:func:`_ignore_steps`), then a mask's pieces are those of its
annotated pixels. A membrane map with an unannotated label is read whole (its cells are
its pixels of 0: the label's pixels are neither cell nor membrane). 3D pairs of instance
labels: :mod:`._stacks`.

Each piece of the two label images is read, its overlap table made (the ids of each side
and the pairs of objects that share pixels, with their pixel counts) and let go; the tables
are merged into the one of the whole pair, which the matching takes as it takes a table
made in memory. The error map is then filled a piece at a time (the pieces read again).
The memory is the sparse matching's own, two pieces of each side and the error map
(1 byte a pixel): a 20000² uint32 pair is 1.6 GB a side where read whole.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

import numpy as np

from .. import metrics
from .._metrics_overlap import _check_pair, _contingency, _merge_counts, _one_dtype
from ..progress import Progress
from ._mistakes import (
    _SAMPLE_PIXELS,
    _intensities,
    binary_prediction_words,
    collapsed_note,
    many_values_note,
    mask_pieces,
    membrane_cells_of,
    membrane_map_labels_note,
    two_valued_words,
)
from ._scores import (
    Evaluation,
    PairTable,
    _ap_scores,
    draw_errors,
    vrand_means,
    wanted_metrics,
)

__all__ = ["TILE_SIDE", "binary_pieces", "tiled_pair", "tiled_steps", "tiled_table", "tiles"]

#: how a side of a pair is read: ``read(k, where)``, the ground truth (``k`` 0) or the
#: prediction (1), at ``where`` (a piece's slices), or whole where ``where`` is None
Reader = Callable[[int, "tuple[slice, ...] | None"], np.ndarray]

T = TypeVar("T")

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
    """Whether :func:`tiled_steps` scores the pair: 2D instance labels (or ground truth taken
    as a binary mask or a membrane map), one image, nothing left out (but an unannotated
    label of instance labels or a binary mask), or a 3D pair of instance labels
    (:func:`~._stacks.stack_pair`), AP, foreground IoU and V_rand/VOI only, and one side lazy
    (not a NumPy array: its pixels not in memory yet).

    >>> import dask.array as da
    >>> lazy = da.zeros((8, 8), np.uint32)
    >>> tiled_pair(lazy, lazy, "labels", None, None, None, ("ap", "iou"))
    True
    >>> tiled_pair(lazy, lazy, "binary", None, None, None, ("ap", "iou"))
    True
    >>> tiled_pair(np.zeros((8, 8)), np.zeros((8, 8)), "labels", None, None, None, ("ap",))
    False
    """
    from ._stacks import stack_pair

    if stack_pair(labels_true, labels_pred, kind, frame_axis, ignore_label, annotated, wanted):
        return True  # (a 3D pair of instance labels: a volume, or a movie frame by frame)
    arrays = (labels_true, labels_pred)
    return (
        kind in ("labels", "binary", "boundaries", "boundaries3d")
        and frame_axis is None
        and (ignore_label is None or kind in ("labels", "binary"))
        and annotated is None
        and set(wanted) <= {"ap", "iou", "vrand"}
        and all(len(getattr(a, "shape", ())) == 2 for a in arrays)
        and tuple(labels_true.shape) == tuple(labels_pred.shape)
        and any(not isinstance(a, np.ndarray) for a in arrays)
    )


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

    def read(k: int, where: tuple[slice, ...] | None) -> np.ndarray:
        return np.asarray(arrays[k] if where is None else arrays[k][where])

    return read


#: 8 neighbours: the connectivity of a binary mask's pieces (:func:`mask_pieces`)
_EIGHT = np.ones((3, 3), bool)


def _seam(a: np.ndarray, b: np.ndarray, diagonal: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of labels of two adjacent lines of pixels (``a`` beside ``b``, both 0
    where background) that touch, diagonals included with ``diagonal``."""
    found = []
    for shift in (-1, 0, 1) if diagonal else (0,):
        if shift < 0:
            x, y = a[:shift], b[-shift:]
        elif shift > 0:
            x, y = a[shift:], b[:-shift]
        else:
            x, y = a, b
        both = (x > 0) & (y > 0)
        found.append((x[both], y[both]))
    return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


def binary_pieces(
    read_raw: Callable[[tuple[slice, slice]], np.ndarray],
    shape: tuple[int, int],
    side: int = TILE_SIDE,
    membrane: bool = False,
    four: bool = False,
    counted: list[int] | None = None,
) -> Generator[int, None, tuple[Callable[[tuple[slice, slice]], np.ndarray], np.ndarray]]:
    """The connected pieces of the positive pixels of a 2D mask of ``shape``, read a piece
    (:func:`tiles` of ``side``) at a time by ``read_raw(where)``, never whole: each piece's
    pieces are labelled (8 neighbours), then joined across the pieces' edges (with
    ``membrane``, the pixels of 0 of a membrane map instead, 4 neighbours: its cells, as
    :func:`membrane_map_objects` labels them whole). Yields the
    pieces read; returns ``(read, sample)``: ``read(where)``, the labels of a piece (of the
    same tiles: read and labelled again) numbered as :func:`mask_pieces` numbers the mask's
    pieces whole (by their first pixel, row by row), and the mask's every-k-th rows (as
    ``_mistakes._rows`` takes them) for its notes. ``four``: the positive pixels' pieces of
    4 neighbours (as ``ndimage.label`` finds them by default). ``counted``: the number of
    pieces is appended to it.

    >>> mask = np.array([[1, 0, 0, 1, 1], [0, 1, 0, 0, 0], [1, 0, 0, 1, 0]])
    >>> read, _sample = _finish(binary_pieces(lambda where: mask[where], mask.shape, 2))
    >>> pieces = np.zeros_like(mask)
    >>> for where in tiles(mask.shape, 2):
    ...     pieces[where] = read(where)
    >>> pieces.tolist()  # (as mask_pieces: [[1, 0, 0, 2, 2], [0, 1, 0, 0, 0], [1, 0, 0, 3, 0]])
    [[1, 0, 0, 2, 2], [0, 1, 0, 0, 0], [1, 0, 0, 3, 0]]
    """
    from scipy import ndimage
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    height, width = shape
    structure = None if membrane or four else _EIGHT  # (None: 4 neighbours, ndimage's own)
    corners = structure is not None  # (pieces touching at a corner joined)

    def objects(raw: np.ndarray) -> tuple[np.ndarray, int]:
        return ndimage.label(raw == 0 if membrane else raw > 0, structure)

    step = max(1, (height * width) // _SAMPLE_PIXELS)  # (the notes' rows: every step-th)
    kept = np.arange(0, height, step)
    sample: np.ndarray | None = None
    offsets: dict[tuple[int, int], int] = {}
    firsts: list[np.ndarray] = []  # each piece's first pixel (its flat index in the mask)
    links: list[tuple[np.ndarray, np.ndarray]] = []  # pieces touching across an edge
    total = 0
    above = np.zeros(width, np.int64)  # the labels of the row above this row of pieces
    top = np.zeros(width, np.int64)
    bottom = np.zeros(width, np.int64)
    left = np.zeros(0, np.int64)  # the right column of the piece to the left
    for done, where in enumerate(tiles(shape, side), 1):
        ys, xs = where
        if xs.start == 0 and ys.start > 0:  # a new row of pieces: joined to the one above
            links.append(_seam(above, top, corners))
            above, top, bottom = bottom, top, np.zeros(width, np.int64)
        raw = np.asarray(read_raw(where))
        raw = raw.reshape(ys.stop - ys.start, -1)
        if sample is None:
            sample = np.zeros((kept.size, width), raw.dtype)
        rows = kept[(kept >= ys.start) & (kept < ys.stop)]
        sample[np.searchsorted(kept, rows), xs] = raw[rows - ys.start]
        labels, count = objects(raw)
        del raw
        offsets[(ys.start, xs.start)] = total
        found = labels.ravel()
        ids, first = np.unique(found, return_index=True)
        first = first[ids > 0]
        ys_, xs_ = np.divmod(first, labels.shape[1])
        firsts.append((ys_ + ys.start) * width + xs_ + xs.start)
        placed = np.where(labels > 0, labels.astype(np.int64) + total, 0)
        top[xs], bottom[xs] = placed[0], placed[-1]
        if xs.start > 0:
            links.append(_seam(left, placed[:, 0], corners))
        left = placed[:, -1]
        total += int(count)
        del labels, placed, found
        yield done
    if height > side:  # (the last row of pieces: joined to the one above)
        links.append(_seam(above, top, corners))
    a = np.concatenate([link[0] for link in links] or [np.zeros(0, np.int64)]) - 1
    b = np.concatenate([link[1] for link in links] or [np.zeros(0, np.int64)]) - 1
    graph = coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(total, total))
    n, joined = connected_components(graph, directed=False)
    if counted is not None:
        counted.append(int(n))
    start = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(start, joined, np.concatenate(firsts or [np.zeros(0, np.int64)]))
    rank = np.empty(n, np.int64)
    rank[np.argsort(start, kind="stable")] = np.arange(1, n + 1)
    lut = np.concatenate([[0], rank[joined]]).astype(np.int32 if n < 2**31 else np.int64)

    def read(where: tuple[slice, slice]) -> np.ndarray:
        raw = np.asarray(read_raw(where)).reshape(where[0].stop - where[0].start, -1)
        labels = objects(raw)[0].astype(np.int64)
        labels[labels > 0] += offsets[(where[0].start, where[1].start)]
        return lut[labels]

    empty = np.zeros((kept.size, width), np.uint8)
    return read, sample if sample is not None else empty


def _finish(steps: Generator[Any, None, T]) -> T:
    """What the generator ``steps`` returns, run to its end."""
    while True:
        try:
            next(steps)
        except StopIteration as end:
            return end.value


class _MapTally:
    """What :func:`boundary_map_note` judges of a membrane map, tallied a piece at a time:
    its pixels, those of membrane (positive), and whether any value is fractional."""

    def __init__(self) -> None:
        self.pixels = self.membrane = 0
        self.soft = False
        self.dtype = np.dtype(np.uint8)

    def add(self, raw: np.ndarray) -> np.ndarray:
        self.dtype = raw.dtype
        self.pixels += raw.size
        self.membrane += int(np.count_nonzero(raw > 0))
        if raw.dtype.kind == "f" and not self.soft:
            self.soft = not np.array_equal(raw, np.round(raw))
        return raw


def _as_kind(
    read: Reader, shape: tuple[int, int], side: int, kind: str
) -> Generator[int, None, tuple[Reader, tuple | None]]:
    """``read`` with the ground truth read as the objects of ``kind``: a binary mask's
    pieces, a membrane map's cells (:func:`binary_pieces`, whose pass over the ground truth
    yields the pieces read), with ``(kind, rows, tally)`` for its notes (its sampled rows, a
    map's :class:`_MapTally`); instance labels as they are (no pass, None)."""
    if kind == "labels":
        return read, None
    membrane = kind in ("boundaries", "boundaries3d")
    tally = _MapTally()

    def read_raw(where: tuple[slice, slice]) -> np.ndarray:
        raw = np.asarray(read(0, where))
        return tally.add(raw) if membrane else raw

    pieces, sample = yield from binary_pieces(read_raw, shape, side, membrane)

    def read_objects(k: int, where: tuple[slice, ...] | None) -> np.ndarray:
        if k == 1:
            return read(k, where)
        if where is None:  # (the whole ground truth: not read by the scoring)
            from ._truth import membrane_map_objects

            raw = np.asarray(read(0, None))
            return membrane_map_objects(raw)[0] if membrane else mask_pieces(raw > 0)[0]
        ys, xs = where  # (a 2D pair's piece)
        return pieces((ys, xs))

    return read_objects, ("boundaries" if membrane else "binary", sample, tally)


def _ignore_steps(
    read: Reader, shape: tuple[int, int], side: int, label: int
) -> Generator[int, None, tuple[Reader, dict]]:
    """``read`` with the pixels of the unannotated ``label`` left out, as
    :func:`without_ignored` leaves them out of a pair in memory: the ground truth's become
    background, and so do the prediction's, with its objects lying mostly there that touch
    no annotated object. A first pass over the pieces (yielding those read) counts each
    predicted object's pixels there; returns the reader and, for the notes, the
    prediction's sampled rows as it is, its object count and the pixels annotated, and
    whether any ground-truth pixel has ``label`` (``"marked"``; none: the pair as it is)."""
    step = max(1, (shape[0] * shape[1]) // _SAMPLE_PIXELS)  # (the notes' rows: every step-th)
    kept = np.arange(0, shape[0], step)
    sample: np.ndarray | None = None
    totals, inside, touched = [], [], []
    marked, counted = False, 0
    for done, where in enumerate(tiles(shape, side), 1):
        truth = np.asarray(read(0, where)).reshape(where[0].stop - where[0].start, -1)
        predicted = np.asarray(read(1, where)).reshape(truth.shape)
        ignore = truth == label
        marked = marked or bool(ignore.any())
        counted += int(ignore.size - np.count_nonzero(ignore))
        totals.append(np.unique(predicted, return_counts=True))
        inside.append(np.unique(predicted[ignore], return_counts=True))
        touched.append(np.unique(predicted[(truth > 0) & ~ignore]))
        if sample is None:
            sample = np.zeros((kept.size, shape[1]), predicted.dtype)
        rows = kept[(kept >= where[0].start) & (kept < where[0].stop)]
        sample[np.searchsorted(kept, rows), where[1]] = predicted[rows - where[0].start]
        del truth, predicted, ignore
        yield done
    ids, sizes = _merge_counts(totals)
    in_ids, in_sizes = _merge_counts(inside)
    there = np.zeros(ids.size, np.int64)
    there[np.searchsorted(ids, in_ids)] = in_sizes
    mostly = 2 * there > sizes
    mostly[_isin(ids, np.concatenate(_one_dtype(touched)))] = False
    mostly[ids == 0] = False
    dropped = ids[mostly]

    def read_known(k: int, where: tuple[slice, ...] | None) -> np.ndarray:
        truth = np.asarray(read(0, where))
        ignore = truth == label
        if k == 0:
            return np.where(ignore, 0, truth)
        predicted = np.asarray(read(1, where)).reshape(truth.shape)
        return np.where(ignore | _isin(predicted, dropped), 0, predicted)

    seen = {
        "read": read,
        "label": label,
        "pred_rows": sample,
        "pred_objects": int(np.count_nonzero(ids)),
        "pred_top": int(ids.max()) if ids.size else 0,
        "counted": counted,
        "marked": marked,
    }
    return read_known, seen


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
    kind: str = "labels",
    ignore_label: int | None = None,
    marked: list[bool] | None = None,
) -> tuple[PairTable, tuple[str, ...]]:
    """The overlap table of a pair that :func:`tiled_pair` takes (its two sides of one
    shape), read a piece of ``side`` x ``side`` pixels at a time (:data:`TILE_SIDE` by
    default), never whole, and the notes on it (the prediction's first), which
    :func:`~tessella.engine.evaluation.prediction_note` and
    :func:`~tessella.engine.evaluation.ground_truth_note` give of the pair in memory (``flags``:
    hints naming the ``tessella evaluate`` options). ``read``: how a piece is read
    (:data:`Reader`; indexing by default). ``kind="binary"``: the ground truth is a mask
    whose connected pieces are the objects (:func:`binary_pieces`; ``--gt-binary``);
    ``"boundaries"``: a membrane map whose cells are (``--gt-boundaries``).
    ``ignore_label``: instance labels' unannotated label, left out as :func:`tiled_steps`
    leaves it out (a first pass, :func:`_ignore_steps`; ``--ignore-label``), whether any
    ground-truth pixel has it appended to ``marked``.
    :func:`~tessella.engine.evaluation.score_pairs` scores the table as the pair:
    ``tessella evaluate`` of a pair of large 2D zarrs.

    >>> import dask.array as da
    >>> gt = np.zeros((5, 5), np.uint16); gt[:2, :2] = 1; gt[3:, 3:] = 2
    >>> table, notes = tiled_table(da.from_array(gt), np.where(gt == 1, 7, 0), side=2)
    >>> table.true_ids.tolist(), table.pred_ids.tolist(), table.counts.tolist(), notes
    ([1, 2], [7], [4], ())
    """
    if len(labels_true.shape) == 3:  # (a volume: its pieces are slabs, _stacks.slabs)
        from ._stacks import stack_table

        return stack_table(labels_true, labels_pred, names, flags, read, side)
    shape = (int(labels_true.shape[0]), int(labels_true.shape[1]))
    read = read or _reader(labels_true, labels_pred)
    left_out: dict | None = None
    if ignore_label is not None:  # (then a binary mask's pieces of the pixels annotated)
        read, left_out = _finish(_ignore_steps(read, shape, side or TILE_SIDE, ignore_label))
        if marked is not None:
            marked.append(left_out["marked"])
    read, mask = _finish(_as_kind(read, shape, side or TILE_SIDE, kind))
    table, samples = _finish(_table_steps(shape, read, side or TILE_SIDE))
    notes = _notes(read, samples, table, shape, names, flags, mask, left_out, side or TILE_SIDE)
    return table, notes


def tiled_steps(
    labels_true,
    labels_pred,
    threshold: float = 0.5,
    names: tuple[str, str] = ("ground truth", "prediction"),
    metrics_wanted=("ap",),
    side: int | None = None,
    kind: str = "labels",
    ignore_label: int | None = None,
) -> Generator[Progress, None, Evaluation]:
    """:func:`~tessella.engine.evaluation.evaluate_labels_steps` of a pair that
    :func:`tiled_pair` takes, read a piece of ``side`` x ``side`` pixels at a time
    (:func:`tiles`; :data:`TILE_SIDE` by default): yields ``"objects"`` (1 of 1), then
    ``"pixels"`` after each piece read (two passes, where there are several pieces: the
    overlap tables, then the error map; a pass more for ``kind`` ``"binary"``,
    ``"boundaries"``, a binary mask's pieces or a membrane map's cells first, and one more
    before it for an ``ignore_label``) and ``"match"`` (1 of 1);
    returns the same :class:`Evaluation` as the pair read whole.

    The notes judge the intensities on every k-th row (as on a pair in memory, about
    :data:`~tessella.engine.evaluation._mistakes._SAMPLE_PIXELS` pixels) and the largest
    object from the table; a side holding one object id only (a binary mask taken for
    labels?) has its pieces counted a piece at a time for its note (:func:`_notes`).

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
    # (an unannotated label's pass, a binary mask's or membrane map's, the tables, the errors)
    passes = 2 + (kind != "labels") + (ignore_label is not None)
    total = passes * len(pieces) if len(pieces) > 1 else 0
    read = _reader(labels_true, labels_pred)
    before = len(pieces) * (passes - 2)  # (the pieces read before the overlap tables)
    left_out: dict | None = None  # (an unannotated label: what the notes judge)
    flat = (shape[0], shape[1])
    if ignore_label is not None:  # (then a binary mask's pieces of the pixels annotated)
        preparing = _ignore_steps(read, flat, side or TILE_SIDE, ignore_label)
        read, left_out = yield from _pixels(preparing, 0, total)
        if not left_out["marked"]:
            raise ValueError(f"unannotated label {ignore_label}: no ground-truth pixel has it")
    done = len(pieces) if ignore_label is not None else 0
    read, mask = yield from _pixels(_as_kind(read, flat, side or TILE_SIDE, kind), done, total)
    reading = _table_steps(flat, read, side or TILE_SIDE)
    table, samples = yield from _pixels(reading, before, total)
    t_ids, p_ids = table.true_ids, table.pred_ids
    iou = table.iou()
    thresholds = [float(t) for t in metrics.DEFAULT_THRESHOLDS]
    matched = [metrics._match(iou, thr) for thr in thresholds]
    m_rows, m_cols = metrics.match_indices(iou, threshold)
    missed, spurious = np.delete(t_ids, m_rows), np.delete(p_ids, m_cols)
    errors = np.zeros(shape, np.uint8)
    for done, where in enumerate(pieces, before + len(pieces) + 1):
        if missed.size or spurious.size:
            truth, predicted = read(0, where), read(1, where)
            # (both where they overlap: the hatch continues across the pieces)
            origin = (where[0].start, where[1].start)
            draw_errors(errors[where], _isin(predicted, spurious), _isin(truth, missed), origin)
            del truth, predicted
        if total:
            yield Progress("pixels", done, total)
    scores: dict = {"n_images": 1}
    if "ap" in wanted:
        scores.update(_ap_scores(metrics._means_over_images([matched], thresholds)))
    if "iou" in wanted:  # (foreground IoU from the table: the pixels of pairs and of each side)
        both, union = table.foreground()
        scores["foreground_iou"] = float(both / union) if union else 1.0
    if "vrand" in wanted:  # (V_rand and VOI: sums over the table's pairs)
        scores.update(vrand_means([table.rand_voi()]))
    notes = _notes(read, samples, table, flat, names, False, mask, left_out, side or TILE_SIDE)
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


def _pixels(
    steps: Generator[int, None, T], before: int, total: int
) -> Generator[Progress, None, T]:
    """``steps`` (yielding the pieces read) run to its end, yielding ``"pixels"``, ``before``
    plus the pieces read, of ``total`` (nothing where ``total`` is 0); returns its value."""
    while True:
        try:
            done = next(steps)
        except StopIteration as end:
            return end.value
        if total:
            yield Progress("pixels", before + done, total)


def _notes(
    read: Reader,
    samples: list,
    table: PairTable,
    shape: tuple[int, int],
    names: tuple[str, str],
    flags: bool,
    mask: tuple | None = None,
    left_out: dict | None = None,
    side: int = TILE_SIDE,
) -> tuple:
    """The notes of :func:`evaluate_labels` (``tessella evaluate``'s with ``flags``) on a
    lazy 2D pair of instance labels (the prediction's first), from the rows sampled and the
    ground truth's table; a side of one object id (a binary mask given as labels?) has its
    pieces counted a piece at a time (:func:`binary_pieces` of ``side``), as
    :func:`ground_truth_note` and :func:`prediction_note` count them whole. ``mask``:
    ``(kind, rows, tally)`` of ground truth taken as a binary mask or a membrane map
    (:func:`_as_kind`), noted as :func:`truth_objects` notes them. ``left_out``: what
    :func:`_ignore_steps` saw of a pair with an unannotated label (the prediction noted as
    it is, the largest object's share of the pixels annotated)."""
    t_ids, t_sizes = table.true_ids, table.true_sizes
    pixels = shape[0] * shape[1]
    if left_out is not None:
        raw = left_out["read"]
        samples = [samples[0], left_out["pred_rows"]]
        pixels = left_out["counted"]
        n_pred, top = left_out["pred_objects"], left_out["pred_top"]
    else:
        raw, n_pred = read, table.pred_ids.size
        top = int(table.pred_ids[0]) if n_pred == 1 else 0

    def count(k: int, source: Reader = raw, **how) -> int:
        """The pieces of side ``k``'s positive pixels (8 neighbours; ``how``: those of
        :func:`binary_pieces`), read a piece at a time."""
        found: list[int] = []
        _finish(binary_pieces(lambda where: source(k, where), shape, side, counted=found, **how))
        return found[0]

    image = _intensities(samples[1]) if samples[1] is not None else None
    if image:
        predicted: str | None = f"{names[1]}: {image}: segment the image and score its labels"
    elif n_pred == 1:  # (a binary mask given as labels: in how many pieces?)
        predicted = binary_prediction_words(names[1], top, count(1))
    else:
        predicted = None
    if mask is not None:
        kind, rows, tally = mask
        truth = _mask_note(kind, rows, tally, table, pixels, names[0], flags)
    else:
        image = _intensities(samples[0]) if samples[0] is not None else None
        swapped = "are PRED and GT swapped?" if flags else "is it the image?"
        truth = f"{names[0]}: the ground truth {image}: {swapped}" if image else None
        if truth is None and t_ids.size == 1:  # (0 and one value: a mask, a membrane map?)
            cells = membrane_cells_of(count(0, read, membrane=True), count(0, read, four=True))
            on = float(t_sizes.sum() / (shape[0] * shape[1]))
            value = int(t_ids[0])
            truth = two_valued_words(names[0], value, count(0, read), cells, on, 2, flags)
        if truth is None and t_ids.size:
            k = int(np.argmax(t_sizes))
            fraction = float(t_sizes[k] / pixels) if pixels else 0.0
            truth = collapsed_note(
                names[0], int(t_ids.size), int(t_ids[k]), fraction, "labels", flags
            )
    return tuple(note for note in (predicted, truth) if note)


def _mask_note(
    kind: str,
    mask: np.ndarray,
    tally: _MapTally,
    table: PairTable,
    pixels: int,
    name: str,
    flags: bool,
) -> str | None:
    """The note :func:`truth_objects` gives of ground truth taken as a binary mask
    (``kind="binary"``) or a membrane map (``"boundaries"``), from its sampled rows ``mask``
    (the rows :func:`ground_truth_note` judges), a map's ``tally`` and the table of its
    objects: a map that looks like labels, soft or inverted (``boundary_map_note``); an
    image; a mask of several object values (a label image?); or an object covering most of
    it."""
    if kind == "boundaries":
        note = membrane_map_labels_note(mask, name, None, flags) or _map_note(tally, name)
        if note:
            return note
    image = _intensities(mask)
    if image:
        swapped = "are PRED and GT swapped?" if flags else "is it the image?"
        return f"{name}: the ground truth {image}: {swapped}"
    note = many_values_note(np.unique(mask).size, name, flags) if kind == "binary" else None
    if note:
        return note
    if not table.true_ids.size:
        return None
    k = int(np.argmax(table.true_sizes))
    fraction = float(table.true_sizes[k] / pixels) if pixels else 0.0
    return collapsed_note(
        name, int(table.true_ids.size), int(table.true_ids[k]), fraction, kind, flags
    )


def _map_note(tally: _MapTally, name: str) -> str | None:
    """``boundary_map_note`` (:mod:`tessella.engine.train`) of the map whose pieces
    ``tally`` counted: soft, or mostly membrane (its polarity inverted?)."""
    from ..train.data import boundary_map_note

    if not tally.pixels:
        return None
    if tally.soft:  # (its note on a map of fractional values)
        return boundary_map_note(np.array([0.5]), name)
    fraction = tally.membrane / tally.pixels
    if not 0.5 < fraction < 1.0:
        return None
    return (  # (its words, from the counts)
        f"{name}: {fraction:.0%} of its pixels are membrane (not 0); boundary maps are 1 (or "
        "255) = membrane, 0 = cell interior: is the polarity inverted (ISBI 2012's originals "
        "are 255 = cell, 0 = membrane)? If so, invert it (e.g. 255 - map)"
    )

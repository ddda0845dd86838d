"""A lazy 3D pair of instance labels (dask, zarr: a blockwise result of a volume or a movie)
scored a piece at a time, never read whole: a ZYX volume as one image, its overlap table
merged over its pieces (slabs of its Z chunks, tiled in Y and X), so that an object spanning
several slabs is one object, matched once; a TYX time-lapse (``frame_axis`` 0) frame by
frame, each frame an image of its own (its table merged over its pieces), as
:func:`~tessella.engine.evaluation.evaluate_labels` scores the pair read whole, with the
same scores, counts, notes and error map.

The notes judge every k-th row (as read whole, about
:data:`~tessella.engine.evaluation._mistakes._SAMPLE_PIXELS` pixels), a stack of object
masks from each plane's tallies (its largest value and its least non-zero one: the planes
it reads are read only where every plane it looks at holds one object), and the largest
object from the tables; a side holding one object ID only is read whole for its note, as a
2D pair's is (:mod:`._tiles`).
"""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np

from .. import metrics
from .._metrics_overlap import _check_pair, _contingency, _merge_counts
from ..progress import Progress
from . import _tiles
from ._mistakes import (
    _SAMPLE_PIXELS,
    _intensities,
    collapsed_note,
    ground_truth_note,
    mask_stack_words,
    prediction_note,
    stack_reason_of,
)
from ._scores import (
    Evaluation,
    PairTable,
    draw_errors,
)

__all__ = ["lazy_errors", "slabs", "stack_pair", "stack_steps", "stack_table"]

Where = tuple[slice, ...]


def stack_pair(labels_true, labels_pred, kind, frame_axis, ignore_label, annotated, wanted) -> bool:
    """Whether :func:`stack_steps` scores the pair: 3D instance labels of one shape, a
    volume (``frame_axis`` None) or a time-lapse whose first axis is T, nothing left out,
    AP, foreground IoU and V_rand/VOI only, and one side lazy (not a NumPy array).

    >>> import dask.array as da
    >>> lazy = da.zeros((3, 8, 8), np.uint32)
    >>> stack_pair(lazy, lazy, "labels", 0, None, None, ("ap", "iou"))
    True
    >>> stack_pair(lazy, lazy, "binary", None, None, None, ("ap",))  # (its pieces: 3D)
    False
    """
    arrays = (labels_true, labels_pred)
    return (
        kind == "labels"
        and frame_axis in (None, 0, -3)
        and ignore_label is None
        and annotated is None
        and set(wanted) <= {"ap", "iou", "vrand"}
        and all(len(getattr(a, "shape", ())) == 3 for a in arrays)
        and tuple(labels_true.shape) == tuple(labels_pred.shape)
        and any(not isinstance(a, np.ndarray) for a in arrays)
    )


def _chunks(*arrays) -> tuple[int, ...] | None:
    """The chunk shape of the first of ``arrays`` that has one (a zarr's ``chunks``, a dask
    array's first chunk along each axis), else None."""
    for array in arrays:
        chunks = getattr(array, "chunks", None)
        if isinstance(array, np.ndarray) or not chunks:
            continue
        try:
            return tuple(int(c[0]) if isinstance(c, tuple) else int(c) for c in chunks)
        except (TypeError, ValueError, IndexError):
            continue
    return None


def slabs(
    shape: tuple[int, int, int], chunks: tuple[int, ...] | None, side: int
) -> list[tuple[slice, list[Where]]]:
    """The pieces a 3D array of ``shape`` is read in, grouped by slab along its first axis:
    ``[(slab, [piece, ...]), ...]``. A slab is as deep as the array's chunks (``chunks``;
    one plane without), so that a chunk is read once; its pieces tile Y and X in squares of
    about ``side`` x ``side`` pixels a plane (fewer where the slab is deeper: about
    ``side``² a piece in all, whole chunks each).

    >>> [(s.start, s.stop, len(p)) for s, p in slabs((5, 4, 4), (2, 2, 2), 3)]
    [(0, 2, 4), (2, 4, 4), (4, 5, 4)]
    >>> [(s.start, s.stop, len(p)) for s, p in slabs((2, 4, 4), None, 3)]
    [(0, 1, 4), (1, 2, 4)]
    """
    depth = max(1, min(int(chunks[0]) if chunks else 1, shape[0]))
    reach = side if depth == 1 else int(side / math.sqrt(depth))
    sides = []
    for axis in (1, 2):
        chunk = max(1, int(chunks[axis])) if chunks else 1
        sides.append(max(chunk, reach // chunk * chunk))
    found: list[tuple[slice, list[Where]]] = []
    for z in range(0, max(shape[0], 1), depth):
        slab = slice(z, min(z + depth, shape[0]))
        pieces: list[Where] = [
            (slab, slice(y, min(y + sides[0], shape[1])), slice(x, min(x + sides[1], shape[2])))
            for y in range(0, max(shape[1], 1), sides[0])
            for x in range(0, max(shape[2], 1), sides[1])
        ]
        found.append((slab, pieces))
    return found


class _Planes:
    """What :func:`mask_stack_reason` judges of a side's planes, tallied a piece at a time:
    each plane's largest value and its least non-zero one (labels are never negative:
    :func:`_check_pair` refuses them), and whether it holds any non-zero pixel."""

    def __init__(self, count: int) -> None:
        self.top = np.zeros(count, np.uint64)
        self.least = np.full(count, np.iinfo(np.uint64).max, np.uint64)
        self.any = np.zeros(count, bool)

    def add(self, piece: np.ndarray, first: int) -> None:
        flat = piece.reshape(piece.shape[0], -1)
        if flat.dtype == bool:
            flat = flat.view(np.uint8)
        if not flat.shape[1]:
            return
        on = flat != 0
        planes = slice(first, first + flat.shape[0])
        self.any[planes] |= on.any(axis=1)
        top = flat.max(axis=1).astype(np.uint64)
        least = np.min(flat, axis=1, where=on, initial=np.iinfo(flat.dtype).max)
        self.top[planes] = np.maximum(self.top[planes], top)
        self.least[planes] = np.minimum(self.least[planes], least.astype(np.uint64))

    def two_valued(self, k: int) -> bool:
        """Whether plane ``k`` holds only 0 and one positive value."""
        return bool(self.any[k] and self.top[k] > 0 and self.least[k] == self.top[k])


class _Scan:
    """A lazy 3D pair read a piece at a time: the pieces' overlap tables (each plane's for a
    time-lapse), the sampled rows and the plane tallies of the notes."""

    def __init__(self, shape: tuple[int, int, int], read, per_frame: bool) -> None:
        self.shape, self.read, self.per_frame = shape, read, per_frame
        rows = shape[0] * shape[1]
        step = max(1, (rows * shape[2]) // _SAMPLE_PIXELS)  # (as _mistakes._rows takes them)
        self.kept = np.arange(0, rows, step)
        self.samples: list[np.ndarray | None] = [None, None]
        self.planes = [_Planes(shape[0]), _Planes(shape[0])]
        self.dtypes: list[np.dtype | None] = [None, None]

    def piece(self, where: Where) -> tuple[np.ndarray, np.ndarray]:
        """The pair's ``where``, tallied for the notes."""
        truth, predicted = _check_pair(self.read(0, where), self.read(1, where))
        size = tuple(s.stop - s.start for s in where)
        truth, predicted = truth.reshape(size), predicted.reshape(size)
        zs, ys, xs = where
        height = self.shape[1]
        for k, side in enumerate((truth, predicted)):
            self.dtypes[k] = side.dtype
            self.planes[k].add(side, zs.start)
            if self.samples[k] is None:
                self.samples[k] = np.zeros((self.kept.size, self.shape[2]), side.dtype)
            sample = self.samples[k]
            assert sample is not None
            for i in range(size[0]):
                base = (zs.start + i) * height
                lo, hi = np.searchsorted(self.kept, (base + ys.start, base + ys.stop))
                rows = self.kept[lo:hi]
                sample[lo:hi, xs] = side[i, rows - base - ys.start]
        return truth, predicted


def _match(table: PairTable, threshold: float, thresholds: list[float]):
    iou = table.iou()
    matched = [metrics._match(iou, thr) for thr in thresholds]
    rows, cols = metrics.match_indices(iou, threshold)
    missed, spurious = np.delete(table.true_ids, rows), np.delete(table.pred_ids, cols)
    return matched, int(rows.size), missed, spurious


class _ErrorPieces:
    """The error map of a lazy 3D pair, drawn a piece at a time as asked for
    (``piece[where]``: a chunk of :func:`lazy_errors`), as ``_scores._error_map`` draws it
    of each image: its predicted objects ``spurious`` (unmatched) red, its ground-truth
    objects ``missed`` cyan, both where they overlap (:func:`draw_errors`); ``found[z]``
    the ``(missed, spurious)`` of frame ``z`` (of a movie; a volume's one image: one
    item)."""

    def __init__(self, shape: tuple[int, ...], read, found: list) -> None:
        self.shape, self.read, self.found = shape, read, found
        self.dtype, self.ndim = np.dtype(np.uint8), len(shape)

    def __getitem__(self, where: Where) -> np.ndarray:
        size = tuple(s.stop - s.start for s in where)
        out = np.zeros(size, np.uint8)
        # each plane's image, or the volume's one
        images = self.found[where[0]] if len(self.found) > 1 else self.found
        if not any(missed.size or spurious.size for missed, spurious in images):
            return out
        truth = np.asarray(self.read(0, where)).reshape(size)
        predicted = np.asarray(self.read(1, where)).reshape(size)
        origin = (where[-2].start, where[-1].start)  # (the hatch across the pieces)
        if len(self.found) > 1:  # (a movie: each plane its frame's)
            for k, (missed, spurious) in enumerate(images):
                _draw(out[k], truth[k], predicted[k], missed, spurious, origin)
        else:
            missed, spurious = images[0]
            _draw(out, truth, predicted, missed, spurious, origin)
        return out


def _draw(out: np.ndarray, truth, predicted, missed, spurious, origin) -> None:
    draw_errors(out, _tiles._isin(predicted, spurious), _tiles._isin(truth, missed), origin)


def _chunk(array, where):
    return array[where]


def lazy_errors(shape: tuple[int, int, int], groups: list, read, found: list):
    """The error map of a lazy 3D pair as a dask array (uint8) in the pieces of its reading
    (``groups``, :func:`slabs`), each computed when asked for (shown in napari: the
    pieces of a plane; ``np.asarray``: all), reading both sides there again."""
    import uuid

    import dask.array as da

    depths = tuple(slab.stop - slab.start for slab, _ in groups)
    first = groups[0][1] if groups else []
    ys = tuple(dict.fromkeys((w[1].start, w[1].stop) for w in first))
    xs = tuple(dict.fromkeys((w[2].start, w[2].stop) for w in first))
    grid = (depths, tuple(b - a for a, b in ys), tuple(b - a for a, b in xs))
    pieces = _ErrorPieces(shape, read, found)
    return da.from_array(
        pieces,
        chunks=grid,
        name=f"tessella-errors-{uuid.uuid4().hex}",
        meta=np.zeros((0, 0, 0), np.uint8),
        lock=False,
        getitem=_chunk,  # (each chunk's own slices, never a fused index)
    )


def stack_steps(
    labels_true,
    labels_pred,
    threshold: float = 0.5,
    names: tuple[str, str] = ("ground truth", "prediction"),
    wanted=("ap",),
    frame_axis: int | None = None,
    side: int | None = None,
) -> Generator[Progress, None, Evaluation]:
    """:func:`~tessella.engine.evaluation.evaluate_labels_steps` of a pair that
    :func:`stack_pair` takes, read a piece at a time (:func:`slabs`). A volume yields
    ``"objects"`` (1 of 1), ``"pixels"`` after each piece read (one pass: the overlap
    tables) and ``"match"`` (1 of 1); a time-lapse ``"match"`` (0 of its frames),
    ``"objects"``, then ``"match"`` after each frame scored (a slab of frames at a time:
    read, each frame matched). Returns the :class:`Evaluation` of the pair read whole, its
    error map a dask array (:func:`lazy_errors`: computed a piece at a time where asked
    for, the pair read there again; ``np.asarray`` gives the map read whole gives).

    >>> import dask.array as da
    >>> gt = np.zeros((3, 4, 4), np.uint16); gt[:, :2, :2] = 1; gt[1:, 3:, 3:] = 2
    >>> pred = np.where(gt == 1, 7, 0).astype(np.uint16)
    >>> from tessella.engine.progress import run_steps
    >>> volume = run_steps(stack_steps(da.from_array(gt, chunks=1), pred, side=2))
    >>> volume.tp, volume.fp, volume.fn, int(np.asarray(volume.errors).sum())
    (1, 0, 1, 4)
    >>> movie = run_steps(stack_steps(da.from_array(gt, chunks=1), pred, frame_axis=0))
    >>> movie.tp, movie.fp, movie.fn, movie.scores["n_images"]
    (3, 0, 2, 3)
    """
    shape = (int(labels_true.shape[0]), int(labels_true.shape[1]), int(labels_true.shape[2]))
    if shape != tuple(int(n) for n in labels_pred.shape):
        raise ValueError(
            f"label images differ in shape: {names[1]} {tuple(labels_pred.shape)}, "
            f"{names[0]} {shape}"
        )
    per_frame = frame_axis is not None
    count = shape[0] if per_frame else 1
    if count > 1:  # several images: counted from the start
        yield Progress("match", 0, count)
    yield Progress("objects", 1, 1)
    read = _tiles._reader(labels_true, labels_pred)
    groups = slabs(shape, _chunks(labels_true, labels_pred), side or _tiles.TILE_SIDE)
    scan = _Scan(shape, read, per_frame)
    thresholds = [float(t) for t in metrics.DEFAULT_THRESHOLDS]
    tables: list[PairTable] = []
    per_image, matched_count, found = [], 0, []
    if per_frame:
        done = 0
        for slab, pieces in groups:
            parts: list[list] = [[] for _ in range(slab.stop - slab.start)]
            for where in pieces:
                truth, predicted = scan.piece(where)
                for i, frame_parts in enumerate(parts):
                    frame_parts.append(_contingency(truth[i], predicted[i]))
                del truth, predicted
            for frame_parts in parts:
                table = PairTable(*_tiles._merged_table(frame_parts))
                matched, tp, missed, spurious = _match(table, threshold, thresholds)
                tables.append(table)
                per_image.append(matched)
                matched_count += tp
                found.append((missed, spurious))
                done += 1
                yield Progress("match", done, count)
            del parts
    else:
        every = [where for _, pieces in groups for where in pieces]
        total = len(every) if len(every) > 1 else 0
        volume = []
        for done, where in enumerate(every, 1):
            truth, predicted = scan.piece(where)
            volume.append(_contingency(truth, predicted))
            del truth, predicted
            if total:
                yield Progress("pixels", done, total)
        table = PairTable(*_tiles._merged_table(volume))
        del volume
        matched, matched_count, missed, spurious = _match(table, threshold, thresholds)
        tables.append(table)
        per_image.append(matched)
        found.append((missed, spurious))
    errors = lazy_errors(shape, groups, read, found)
    # the scores of evaluate_labels_steps: AP from the matchings, the others as score_pairs
    # gives them of the images (their tables), V_rand and VOI each image's
    from ._evaluate import _image_scores

    rand = (table.rand_voi() for table in tables)
    scores = _image_scores(tables, wanted, per_image, thresholds, rand)
    n_true = sum(t.n_true for t in tables)
    n_pred = sum(t.n_pred for t in tables)
    notes = _notes(scan, tables, names, False)
    if not per_frame:
        yield Progress("match", 1, 1)
    return Evaluation(
        scores=scores,
        threshold=float(threshold),
        n_true=n_true,
        n_pred=n_pred,
        tp=matched_count,
        fp=n_pred - matched_count,
        fn=n_true - matched_count,
        errors=errors,
        notes=notes,
    )


def stack_table(
    labels_true,
    labels_pred,
    names: tuple[str, str] = ("ground truth", "prediction"),
    flags: bool = True,
    read=None,
    side: int | None = None,
) -> tuple[PairTable, tuple[str, ...]]:
    """The overlap table of a 3D volume pair that :func:`stack_pair` takes (``frame_axis``
    None), read a piece at a time (:func:`slabs`), and its notes (``flags``: hints naming the
    ``tessella evaluate`` options), as :func:`~tessella.engine.evaluation._tiles.tiled_table`
    gives those of a 2D pair: ``tessella evaluate`` of a pair of 3D zarrs."""
    shape = (int(labels_true.shape[0]), int(labels_true.shape[1]), int(labels_true.shape[2]))
    read = read or _tiles._reader(labels_true, labels_pred)
    scan = _Scan(shape, read, False)
    parts = []
    for _slab, pieces in slabs(shape, _chunks(labels_true, labels_pred), side or _tiles.TILE_SIDE):
        for where in pieces:
            truth, predicted = scan.piece(where)
            parts.append(_contingency(truth, predicted))
            del truth, predicted
    table = PairTable(*_tiles._merged_table(parts))
    return table, _notes(scan, [table], names, flags)


def _notes(scan: _Scan, tables: list[PairTable], names: tuple[str, str], flags: bool) -> tuple:
    """The notes of the pair read whole (the prediction's first): :func:`prediction_note`
    and :func:`ground_truth_note` (instance labels), from the sampled rows, the planes'
    tallies and the tables (the ground truth's objects over all frames); a side holding one
    object ID only read whole."""
    t_ids, t_sizes = _merge_counts([(t.true_ids, t.true_sizes) for t in tables])
    p_ids = _merge_counts([(t.pred_ids, t.pred_sizes) for t in tables])[0]
    pixels = int(np.prod(scan.shape))
    read = scan.read

    def stack_note(k: int, name: str) -> str | None:
        dtype = scan.dtypes[k]
        if dtype is None or dtype.kind not in "biu" or scan.shape[0] < 2:
            return None
        planes = scan.planes[k]
        filled = [int(z) for z in np.flatnonzero(planes.any)]

        def plane(z: int) -> np.ndarray:
            return np.asarray(read(k, (slice(z, z + 1), slice(None), slice(None))))[0]

        return mask_stack_words(stack_reason_of(plane, filled, planes.two_valued), name, flags)

    if p_ids.size == 1:
        predicted = prediction_note(read(1, None), names[1], flags=flags)
    else:
        image = _intensities(scan.samples[1]) if scan.samples[1] is not None else None
        if image:
            predicted = f"{names[1]}: {image}: segment the image and score its labels"
        else:
            predicted = stack_note(1, names[1])
    if t_ids.size == 1:
        truth = ground_truth_note(read(0, None), names[0], flags=flags)
    else:
        image = _intensities(scan.samples[0]) if scan.samples[0] is not None else None
        swapped = "are PRED and GT swapped?" if flags else "is it the image?"
        truth = f"{names[0]}: the ground truth {image}: {swapped}" if image else None
        truth = truth or stack_note(0, names[0])
        if truth is None and t_ids.size:
            k = int(np.argmax(t_sizes))
            fraction = float(t_sizes[k] / pixels) if pixels else 0.0
            truth = collapsed_note(
                names[0], int(t_ids.size), int(t_ids[k]), fraction, "labels", flags
            )
    return tuple(note for note in (predicted, truth) if note)

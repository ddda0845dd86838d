"""Export of labels on disk (a zarr-backed blockwise result opened lazily) piece by piece:
their range checked, and their zarr or OME-Zarr (with its lower-resolution levels) written,
a piece of whole chunks at a time (:func:`~tessella.engine.measure.piece_slices`), never
read whole; the same files as the engine's writers make of the labels read into memory
(:func:`~tessella.engine.io.write_zarr_labels`,
:func:`~tessella.engine.io._write.write_ome_zarr_labels`). The CSV's measurements of such
labels are gathered piece by piece by :func:`~tessella.engine.measure.measure_objects`
itself. Used by :func:`._export_write._export_steps` where no output chosen needs the
labels whole: every output but a mask stack, which holds each object whole as a mask of
the image's size and is not offered for labels on disk (:data:`STACK_REFUSAL`). The TIFF is
written a band of whole chunk rows at a time (:func:`tiff_bands`,
:func:`~tessella.engine.io._write.write_labels_in_strips`: the file
:func:`~tessella.engine.io.write_labels` writes), CTC masks a frame at a time; the recipe's
``labels_digest`` is hashed in the same pass that finds the labels' range
(:func:`range_and_digest`). Each piece read counts on Export's progress bar
(:class:`Ticker`), and Cancel is looked at before each."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from tessella.engine._counted_reads import CountedReads

__all__ = [
    "STACK_REFUSAL",
    "Stopped",
    "Ticker",
    "Ticking",
    "range_and_digest",
    "tiff_bands",
    "is_on_disk",
    "labels_range",
    "store_stamp",
    "write_labels_in_pieces",
]

#: the kinds of output that are written piece by piece from labels on disk
PIECEWISE_KINDS = frozenset({"tiff", "zarr", "ome_zarr", "csv", "ctc", "recipe"})

#: why a mask stack is not offered for labels on disk (the stack option's tooltip)
STACK_REFUSAL = (
    "it is read from disk (lazily): a mask stack holds every object whole as a 0/1 mask of "
    "the image's size, (N, Y, X), which no piece-by-piece write can make smaller (N objects "
    "of {size} each); export the labels (TIFF, zarr, OME-Zarr) instead"
)


class Stopped(Exception):
    """Export's Cancel, seen between two pieces."""


class Ticker:
    """The pieces an export of labels on disk reads, counted for its progress bar: ``done``
    of ``total`` (all its passes together), said to ``report`` (``(done, total, what)``, as
    :func:`._export_write._export_steps` yields its steps; None: not said) at every piece.
    :meth:`tick` comes before each piece is read, and raises :class:`Stopped` where
    ``cancel`` is set: Cancel is seen between two pieces, inside a writer too."""

    def __init__(self, total: int, cancel: threading.Event | None = None, report=None):
        self.total = max(int(total), 1)
        self.done = 0
        self.end = 0  # where the pass now counted ends
        self.what = ""
        self.cancel = cancel
        self.report = report

    def begin(self, what: str, pieces: int) -> tuple[int, int, str]:
        """A pass of ``pieces`` pieces begins (``what`` it does): the step to yield."""
        self.done = max(self.done, self.end)  # (a pass that read fewer than it counted)
        self.end = self.done + max(int(pieces), 0)
        self.total = max(self.total, self.end)
        self.what = what
        return self.done, self.total, what

    def look(self) -> None:
        """Raise :class:`Stopped` where Cancel is set (between two pages of what was read)."""
        if self.cancel is not None and self.cancel.is_set():
            raise Stopped

    def tick(self) -> None:
        """One more piece (Cancel looked at first)."""
        self.look()
        if self.done < self.end:
            self.done += 1
        if self.report is not None:
            self.report((self.done, self.total, self.what))


class Ticking(CountedReads):
    """``array`` (labels on disk) whose every read (``[index]``) is a piece of ``ticker``
    (:meth:`Ticker.tick`): handed to the engine's writers that read it a frame or a piece at
    a time (CTC masks, measures, OME-Zarr levels), so that they count and can be cancelled
    (the engine's :class:`~tessella.engine.measure.CountedReads`, as the CLI's bars count)."""

    def __init__(self, array: Any, ticker: Ticker):
        super().__init__(array, ticker.tick)
        self.ticker = ticker


def is_on_disk(array: Any) -> bool:
    """Whether ``array`` is read from disk on access (zarr, dask), not a numpy array."""
    from tessella.engine.measure import _on_disk

    return _on_disk(array)


def store_stamp(array: Any) -> tuple[Path, str | None] | None:
    """``(folder, stamp)``: the zarr store on disk behind ``array`` (a lazy labels layer's
    level 0, found as Correct's Write back finds it,
    :func:`~tessella.engine._edit_region.store_of`) and the
    :func:`~tessella.engine.digest.stored_files_stamp` of its files now (None where they
    cannot be listed); None for labels not in such a store (numpy, dask)."""
    from tessella.engine._edit_region import store_of
    from tessella.engine.digest import stored_files_stamp

    found = store_of(array)
    if found is None:
        return None
    folder = found[0]
    return folder, stored_files_stamp(folder)


def _pieces(array: Any) -> list[tuple[slice, ...]]:
    from tessella.engine.measure import chunks_of, piece_slices

    return piece_slices(tuple(array.shape), chunks_of(array))


def labels_range(labels: Any, cancel: threading.Event | None = None) -> tuple[int, int]:
    """The smallest and largest value of ``labels`` on disk, read piece by piece ((0, 0)
    where they hold no pixel); raises :class:`Stopped` where ``cancel`` is set meanwhile."""
    return range_and_digest(labels, Ticker(len(_pieces(labels)), cancel), digest=False)[0]


def range_pieces(labels: Any, digest: bool) -> int:
    """How many pieces :func:`range_and_digest` reads."""

    return len(_c_order_reads(labels)) if digest else len(_pieces(labels))


def _c_order_reads(labels: Any) -> list:
    """How :func:`range_and_digest` reads ``labels`` in C order for the digest, one call a
    piece: the bands of :func:`tiff_pieces` (a page at a time, whole chunk rows, about
    :data:`~tessella.engine.measure.PIECE_PIXELS`) where the chunks are one page deep, else
    the digest's own pieces (:func:`~tessella.engine.digest._piece_reads`: deeper chunks
    decoded once, pieces of up to 256 MiB)."""
    import functools

    from tessella.engine.digest import _piece_reads, _read
    from tessella.engine.measure import chunks_of

    shape = tuple(int(n) for n in labels.shape)
    chunks = chunks_of(labels)
    if len(shape) >= 2 and 0 not in shape and chunks is not None and len(chunks) == len(shape):
        if all(int(c) == 1 for c in chunks[:-2]):
            return [functools.partial(_read, labels, index) for index in tiff_pieces(labels)]
    return _piece_reads(labels)


def range_and_digest(
    labels: Any, ticker: Ticker, digest: bool = True
) -> tuple[tuple[int, int], dict[str, Any] | None]:
    """``((smallest, largest), digest)`` of ``labels`` on disk, in one reading piece by
    piece: their range ((0, 0) where they hold no pixel) and, with ``digest``, the
    :func:`~tessella.engine.digest.labels_digest` of them (None without; None too for
    negative values, which Export refuses), the same the engine's reads them twice for (its
    range, then its values): the pieces are read in C order (:func:`_c_order_reads`) and
    hashed as each type the digest may
    take (uint16, uint32, uint64) while the values seen so far fit it. ``ticker`` counts
    the pieces (:func:`range_pieces`) and may stop it (:class:`Stopped`)."""
    import hashlib

    from tessella.engine.digest import _CHUNK_VALUES, _streamed_dtype

    low: int | None = None
    top: int | None = None
    if not digest:
        for index in _pieces(labels):
            ticker.tick()
            piece = np.asarray(labels[index])
            if piece.size:
                low = int(piece.min()) if low is None else min(low, int(piece.min()))
                top = int(piece.max()) if top is None else max(top, int(piece.max()))
        return ((0, 0) if low is None or top is None else (low, top)), None
    kind, itemsize = np.dtype(labels.dtype).kind, np.dtype(labels.dtype).itemsize
    if kind == "b" or (kind == "u" and itemsize <= 2):
        types = ["<u2"]
    else:  # (the type the values fit: not known until all are read)
        types = ["<u2", "<u4"] + (["<u8"] if itemsize > 4 else [])
    hashers = {name: hashlib.sha256() for name in types}
    for read in _c_order_reads(labels):
        ticker.tick()
        piece = read()
        if piece.size:
            low = int(piece.min()) if low is None else min(low, int(piece.min()))
            top = int(piece.max()) if top is None else max(top, int(piece.max()))
            for name in list(hashers):  # (a type the values outgrew is no longer hashed)
                if len(hashers) > 1 and top > np.iinfo(name).max:
                    del hashers[name]
        flat = piece.reshape(-1)
        for name, hashed in hashers.items():
            for start in range(0, flat.size, _CHUNK_VALUES):
                chunk = np.ascontiguousarray(flat[start : start + _CHUNK_VALUES], dtype=name)
                hashed.update(chunk.data.cast("B"))
        del piece, flat
    found = (0, 0) if low is None or top is None else (low, top)
    dtype = _streamed_dtype(labels, *found)
    if found[0] < 0 or dtype.str not in hashers:
        return found, None
    shape = [int(n) for n in labels.shape]
    return found, {"shape": shape, "dtype": dtype.name, "sha256": hashers[dtype.str].hexdigest()}


def zarr_pieces(labels: Any, value_range: tuple[int, int], ome: bool) -> int:
    """How many pieces :func:`write_labels_in_pieces` reads (an OME-Zarr's levels included)."""
    from tessella.engine.io._write import _label_chunks, _labels_dtype, level_pieces
    from tessella.engine.measure import piece_slices

    shape = tuple(int(n) for n in labels.shape)
    dtype = _labels_dtype(np.array(value_range, dtype=labels.dtype), None, wide=True)
    blocks = _label_chunks(shape, np.dtype(dtype).itemsize, 512)
    regions = _zarr_regions(labels, blocks)
    reads = len(piece_slices(shape, blocks)) if regions is None else len(regions)
    return reads + (level_pieces(shape, blocks) if ome else 0)


def _zarr_regions(labels: Any, blocks: tuple[int, ...]) -> list[tuple[slice, ...]] | None:
    """How :func:`write_labels_in_pieces` reads ``labels`` on disk whose chunks its pieces
    (whole chunks ``blocks`` of the zarr written, :func:`~tessella.engine.measure.piece_slices`)
    would cut, so that each chunk is decoded once, not once per piece that crosses it (a
    blockwise result's 256-deep chunks, written in chunks 8 deep: 32 times): regions of
    whole chunks of both, along each axis the least common multiple of the two (the whole
    axis where that is longer), in C order; None where the pieces cut no chunk (each read
    once as it is) or a region would pass :data:`TIFF_SLAB_BYTES` (chunks whose sides have
    no small common multiple: read in pieces, as before)."""
    import itertools
    import math

    from tessella.engine.measure import chunks_of, piece_slices

    shape = tuple(int(n) for n in labels.shape)
    chunks = chunks_of(labels)
    if not shape or 0 in shape or chunks is None or len(chunks) != len(shape):
        return None
    chunks = tuple(max(1, min(int(c), n)) for c, n in zip(chunks, shape))
    pieces = piece_slices(shape, blocks)
    first = pieces[0]
    sizes = [s.stop - s.start for s in first]
    if all(p >= n or p % c == 0 for p, c, n in zip(sizes, chunks, shape)):
        return None
    steps = [min(n, math.lcm(c, max(1, min(b, n)))) for c, b, n in zip(chunks, blocks, shape)]
    if math.prod(steps) * np.dtype(labels.dtype).itemsize > TIFF_SLAB_BYTES:
        return None
    return [
        tuple(slice(a, min(a + step, n)) for a, step, n in zip(starts, steps, shape))
        for starts in itertools.product(*(range(0, n, step) for n, step in zip(shape, steps)))
    ]


#: labels on disk whose chunks are several pages deep are read for their TIFF in slabs of
#: whole pages up to this many bytes (as many pages as a chunk holds where they fit), so
#: that each chunk is decoded once (or a few times), not once per page
TIFF_SLAB_BYTES = 2**30
#: ... each slab read in bands of whole chunk rows of up to this many bytes (at least one)
_SLAB_READ_BYTES = 2**27


def tiff_bands(labels: Any, ticker: Ticker) -> Any:
    """``labels`` on disk read for their TIFF, in C order, as :func:`tiff_pieces` reads
    them: where their chunks are one page deep, each page (the axes before the last two) in
    bands of whole rows of chunks, about :data:`~tessella.engine.measure.PIECE_PIXELS` a
    band (at least one chunk row); where they are deeper, a slab of whole pages at a time
    (:func:`_tiff_slabs`), each page of it yielded whole. Each read counted by ``ticker``
    (Cancel seen before it, and before each page of a slab)."""
    slabs = _tiff_slabs(labels)
    if slabs is None:
        for index in tiff_pieces(labels):
            ticker.tick()
            yield np.asarray(labels[index])
        return
    shape = tuple(int(n) for n in labels.shape)
    for slab, reads in slabs:
        sizes = [
            len(range(*s.indices(n))) if isinstance(s, slice) else 1 for s, n in zip(slab, shape)
        ]
        held = np.empty(sizes, dtype=labels.dtype)
        for index in reads:  # (whole chunk rows of the slab: each chunk decoded once)
            ticker.tick()
            rows = index[-2]
            held[..., rows, :] = np.asarray(labels[index]).reshape(held[..., rows, :].shape)
        pages = held.reshape(-1, shape[-2], shape[-1])
        del held
        for page in pages:  # (Cancel seen between two pages too)
            ticker.look()
            yield page
        del pages


def _tiff_slabs(labels: Any) -> list[tuple[tuple, list[tuple]]] | None:
    """How :func:`tiff_bands` reads ``labels`` whose chunks are deeper than one page (None
    where they are one page deep, or unknown): ``(slab, reads)`` in C order. A slab is a
    run of whole pages along the first axis before the last two whose chunks are deeper than
    one (the axes before it: one index; after it: whole), as many as
    :data:`TIFF_SLAB_BYTES` holds, in steps of its chunk depth where one fits (each chunk
    decoded once), else within one chunk (a chunk decoded once per slab it crosses); its
    ``reads``: bands of whole chunk rows of it, up to :data:`_SLAB_READ_BYTES` each."""
    import itertools
    import math

    from tessella.engine.measure import chunks_of

    shape = tuple(int(n) for n in labels.shape)
    chunks = chunks_of(labels)
    if len(shape) < 3 or 0 in shape or chunks is None or len(chunks) != len(shape):
        return None
    deep = [axis for axis in range(len(shape) - 2) if min(int(chunks[axis]), shape[axis]) > 1]
    if not deep:
        return None
    axis = deep[0]
    depth = min(int(chunks[axis]), shape[axis])
    height = shape[-2]
    itemsize = np.dtype(labels.dtype).itemsize
    page_bytes = math.prod(shape[axis + 1 :]) * itemsize  # (one index along axis)
    step = max(1, TIFF_SLAB_BYTES // max(page_bytes, 1))
    if step >= depth:
        step -= step % depth
        runs = [(start, min(start + step, shape[axis])) for start in range(0, shape[axis], step)]
    else:  # (no slab crosses a chunk's edge along the axis)
        runs = [
            (start, min(start + step, top, shape[axis]))
            for top in range(depth, shape[axis] + depth, depth)
            for start in range(top - depth, min(top, shape[axis]), step)
        ]
    chunk_rows = max(1, min(int(chunks[-2]), height))
    slabs = []
    for outer in itertools.product(*(range(n) for n in shape[:axis])):
        for start, stop in runs:
            row_bytes = (stop - start) * page_bytes // height  # (one row of each page)
            rows = chunk_rows * max(1, _SLAB_READ_BYTES // max(row_bytes * chunk_rows, 1))
            whole = (slice(None),) * (len(shape) - axis - 3)
            slab = (*outer, slice(start, stop), *whole, slice(None), slice(None))
            reads = [
                (*outer, slice(start, stop), *whole, slice(y, min(y + rows, height)), slice(None))
                for y in range(0, height, rows)
            ]
            slabs.append((slab, reads))
    return slabs


def tiff_pieces(labels: Any) -> list[tuple]:
    """The reads :func:`tiff_bands` makes: one page at a time, whole chunk rows each, or
    where the chunks are deeper than a page, the reads of its slabs (:func:`_tiff_slabs`)."""
    import itertools

    from tessella.engine.measure import PIECE_PIXELS, chunks_of

    slabs = _tiff_slabs(labels)
    if slabs is not None:
        return [index for _slab, reads in slabs for index in reads]
    shape = tuple(int(n) for n in labels.shape)
    height, width = shape[-2], shape[-1]
    chunks = chunks_of(labels)
    rows = int(chunks[-2]) if chunks is not None and len(chunks) == len(shape) else 256
    rows = max(1, min(rows, height))
    rows *= max(1, PIECE_PIXELS // max(rows * width, 1))
    pages = itertools.product(*(range(n) for n in shape[:-2]))
    return [
        (*page, slice(start, min(start + rows, height)), slice(None))
        for page in pages
        for start in range(0, height, rows)
    ]


def write_labels_in_pieces(
    path: Path,
    labels: Any,
    value_range: tuple[int, int],
    axes: str,
    pixel_size: dict[str, float] | None,
    unit: str,
    ome: bool,
    name: str | None = None,
    attrs: dict | None = None,
    cancel: threading.Event | None = None,
    ticker: Ticker | None = None,
) -> Path:
    """Write ``labels`` on disk (of ``axes``; their smallest and largest value
    ``value_range``, :func:`labels_range`) to ``path`` as the zarr
    :func:`~tessella.engine.io.write_zarr_labels` writes, or with ``ome`` the OME-Zarr
    labels image :func:`~tessella.engine.io._write.write_ome_zarr_labels` writes (levels
    included, named ``name``; ``attrs``: more attributes), a piece at a time. ``path`` is
    written in place: Export writes it under a temporary name and removes it where the
    export fails or is cancelled (:class:`Stopped`, raised between pieces where ``cancel``
    is set; ``ticker``: counts each piece, :func:`zarr_pieces`, and stops it instead)."""
    import zarr

    from tessella.engine.axes import check_axes
    from tessella.engine.io._write import (
        _label_chunks,
        _labels_dtype,
        ome_labels_layout,
        unit_for,
        write_label_levels,
    )
    from tessella.engine.io._zarr import LABELS_ATTR, create_ome_labels

    shape = tuple(int(n) for n in labels.shape)
    ends = np.array(value_range, dtype=labels.dtype)  # (the range: the type it is written as)
    dtype = _labels_dtype(ends, path, wide=True)
    blocks = _label_chunks(shape, np.dtype(dtype).itemsize, 512)
    if ome:
        axes = check_axes(axes, len(shape), str(path))
        layout = ome_labels_layout(axes, pixel_size, unit, name)
        target = create_ome_labels(path, shape, dtype, blocks, layout)
    else:
        target = zarr.create_array(
            str(path), shape=shape, dtype=dtype, chunks=blocks, zarr_format=3
        )
    from tessella.engine.measure import piece_slices

    ticker = Ticker(0, cancel) if ticker is None else ticker
    regions = _zarr_regions(labels, blocks)
    if regions is None:
        for index in piece_slices(shape, blocks):  # (whole chunks of the zarr written)
            ticker.tick()
            target[index] = np.asarray(labels[index]).astype(dtype, copy=False)
    for region in regions or []:  # (whole chunks of both: each decoded once)
        ticker.tick()
        held = np.asarray(labels[region]).astype(dtype, copy=False)
        origin = [s.start for s in region]
        for index in piece_slices(held.shape, blocks):  # (whole chunks of the zarr written)
            ticker.look()
            placed = tuple(slice(s.start + o, s.stop + o) for s, o in zip(index, origin))
            target[placed] = held[index]
        del held
    if ome:
        # (in pieces of whole chunks, each counted; from level 0 just written, in the
        # chunks the levels' pieces are whole chunks of: each decoded once, where the labels'
        # own deeper chunks would be decoded once per piece)
        counted: Any = Ticking(target, ticker)
        write_label_levels(path, counted, axes, blocks)
        if attrs:
            zarr.open_group(str(path), mode="r+").attrs.update(attrs)
    else:
        target.attrs.update(
            {
                "tessella_axes": axes,
                "pixel_size": pixel_size or {},
                "unit": unit_for(unit, "zarr"),
                LABELS_ATTR: True,
                **(attrs or {}),
            }
        )
    return path

"""Export of labels on disk (a zarr-backed blockwise result opened lazily) piece by piece:
their range checked, and their zarr or OME-Zarr (with its lower-resolution levels) written,
a piece of whole chunks at a time (:func:`~tessella.engine.measure.piece_slices`), never
read whole; the same files as the engine's writers make of the labels read into memory
(:func:`~tessella.engine.io.write_zarr_labels`,
:func:`~tessella.engine.io._write.write_ome_zarr_labels`). The CSV's measurements of such
labels are gathered piece by piece by :func:`~tessella.engine.measure.measure_objects`
itself. Used by :func:`._export_write._export_steps` where no output chosen needs the
labels whole (a TIFF, CTC masks and a mask stack still read them whole)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Stopped",
    "is_on_disk",
    "labels_range",
    "store_stamp",
    "write_labels_in_pieces",
]

#: the kinds of output that are written piece by piece from labels on disk
PIECEWISE_KINDS = frozenset({"zarr", "ome_zarr", "csv", "recipe"})


class Stopped(Exception):
    """Export's Cancel, seen between two pieces."""


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
    low: int | None = None
    top: int | None = None
    for index in _pieces(labels):
        if cancel is not None and cancel.is_set():
            raise Stopped
        piece = np.asarray(labels[index])
        if piece.size:
            low = int(piece.min()) if low is None else min(low, int(piece.min()))
            top = int(piece.max()) if top is None else max(top, int(piece.max()))
    return (0, 0) if low is None or top is None else (low, top)


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
) -> Path:
    """Write ``labels`` on disk (of ``axes``; their smallest and largest value
    ``value_range``, :func:`labels_range`) to ``path`` as the zarr
    :func:`~tessella.engine.io.write_zarr_labels` writes, or with ``ome`` the OME-Zarr
    labels image :func:`~tessella.engine.io._write.write_ome_zarr_labels` writes (levels
    included, named ``name``; ``attrs``: more attributes), a piece at a time. ``path`` is
    written in place: Export writes it under a temporary name and removes it where the
    export fails or is cancelled (:class:`Stopped`, raised between pieces where ``cancel``
    is set)."""
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

    for index in piece_slices(shape, blocks):  # (whole chunks of the zarr written)
        if cancel is not None and cancel.is_set():
            raise Stopped
        target[index] = np.asarray(labels[index]).astype(dtype, copy=False)
    if ome:
        if cancel is not None and cancel.is_set():
            raise Stopped
        write_label_levels(path, labels, axes, blocks)  # (in pieces of whole chunks)
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

"""The reader's folders of TIFF files: the frames of a movie as one layer. Part of
:mod:`tessella._io`. No Qt here.

A folder whose TIFF files have one shape (a Cell Tracking Challenge sequence
``01/t000.tif ...``, its ground truth ``01_GT/SEG/man_seg000.tif ...``) opens as one layer
named after the folder, its frames in the order ``tessella segment`` reads them
(:func:`~tessella.engine.io._read.frame_files`: by frame number, ``t9`` before ``t10``): a T
axis before the frames' axes (TYX, TZYX for 3D frames, TYXC), its slider named "t", with the
first frame's pixel size. It is read into memory up to :data:`LAZY_IMAGE_BYTES` (labels: up to
the reader's lazy-labels limit, :func:`~tessella._io._lazy_labels_pixels`), else lazily, one
frame per dask chunk. Integer frames open as labels by the rule for a labels file (Tessella's
tag, a name like labels, a folder named ``masks``, ``labels``, ``gt``..., only 0 and 1).
Files of different shapes that are no movie (DSB2018's images) open as one layer each, up to
:data:`MAX_FOLDER_LAYERS`; a numbered movie with a frame of another shape is refused, naming
that frame and both shapes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ._io import (
    _MICRON,
    AXES_GUESSED_KEY,
    _axes_guessed,
    _binary,
    _image_layers,
    _labels_data,
    _layers_of,
    _lazy_labels_pixels,
    _named_like_labels,
    _placement,
)

__all__ = ["LAZY_IMAGE_BYTES", "MAX_FOLDER_LAYERS", "folder_layers", "holds_tiffs"]

#: a folder of frames whose image takes more bytes than this (1 GiB: 512 frames of 1024²
#: uint16) opens lazily, one frame read from disk per slider step; a smaller one is read
#: into memory. Labels follow the reader's own limit, so that Correct can edit them
LAZY_IMAGE_BYTES = 2**30
#: a folder of TIFF files that are no movie opens as one layer per file, up to this many
MAX_FOLDER_LAYERS = 50


def holds_tiffs(path: Path) -> bool:
    """Whether ``path`` is a folder, not a zarr, holding a ``.tif``/``.tiff`` file."""
    from tessella.engine.io import TIFF_SUFFIXES, is_zarr_path

    try:
        if not path.is_dir() or is_zarr_path(path):
            return False
        return any(child.suffix.lower() in TIFF_SUFFIXES for child in path.iterdir())
    except OSError:  # a folder that cannot be listed is not ours to claim
        return False


def folder_layers(folder: Path) -> list[tuple]:
    """The layers of a folder of TIFF files: one movie of its frames where they have one
    shape, else a layer per file (at most :data:`MAX_FOLDER_LAYERS`); raises ValueError naming
    the frame of a numbered movie whose shape differs from the others', or an unreadable
    file."""
    from tessella.engine.axes import SUPPORTED_AXES
    from tessella.engine.io import list_images
    from tessella.engine.io._read import frame_files, numbered_files

    files = list_images(folder)
    if len(files) == 1:
        return _layers_of(files[0])  # one file is itself, not a movie of one frame
    numbered = numbered_files(files)
    # by frame number where the names say it (as frame_files, which is told only once the
    # files are taken for a movie: it warns of the files it leaves out)
    frames = [path for _n, path in sorted(numbered, key=lambda n_path: n_path[0])] or files
    first = _read(frames[0])
    if "T" + first.axes not in SUPPORTED_AXES:
        why = f"{frames[0].name} is {first.axes}, and T{first.axes} is no movie we read"
        return _each_file(folder, files, why)
    headers = [_header(path) for path in frames]
    shapes = [shape for shape, _dtype in headers]
    common, count = Counter(shapes).most_common(1)[0]
    if count == len(frames):
        dtype = np.result_type(*(dtype for _shape, dtype in headers))
        frames = frame_files(folder)  # the same, or a ValueError naming two of one number
        return _movie_layers(folder, frames, first, dtype)
    if numbered and 2 * count > len(frames):
        odd, shape = next((path, s) for path, s in zip(frames, shapes) if s != common)
        like = next(path for path, s in zip(frames, shapes) if s == common)
        raise ValueError(
            f"{odd}: shape {shape} differs from {like.name}'s {common} (the shape of {count} "
            f"of the folder's {len(frames)} frames); the frames of a time-lapse must all "
            "have one shape"
        )
    return _each_file(folder, files, f"{len(set(shapes))} different shapes")


def _read(path: Path, axes: str | None = None):
    """:func:`~tessella.engine.io.read_image` of ``path``, any failure a ValueError naming it."""
    from tessella.engine.io import read_image

    try:
        return read_image(path, axes)
    except (ValueError, MemoryError):
        raise  # read_image names the file
    except Exception as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from exc


def _header(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """The shape (without the axes of length 1 that reading drops) and type of the TIFF
    ``path``, from its header: the pixels are not read."""
    import tifffile

    from tessella.engine.io._tiff import _tiff_axes, _tiff_error

    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            _axes, drop = _tiff_axes(series.axes, series.shape, strict=False)
            shape = tuple(n for i, n in enumerate(series.shape) if i not in drop)
            return shape, np.dtype(series.dtype)
    except MemoryError:
        raise
    except Exception as exc:  # tifffile and its codecs raise many kinds
        raise ValueError(_tiff_error(path, exc)) from None


def _frame(path: Path, axes: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """The pixels of the frame ``path`` read as ``axes``, of ``shape``, as ``dtype``."""
    data = np.asarray(_read(path, axes).data)
    if data.shape != shape:  # the file changed since its header was read
        raise ValueError(f"{path}: shape {data.shape} differs from the other frames' {shape}")
    return data.astype(dtype, copy=False)


def _movie_layers(folder: Path, frames: list[Path], first, dtype: np.dtype) -> list[tuple]:
    """The layer of ``frames`` (their first one read: ``first``), stacked along a T axis."""
    shape = tuple(first.data.shape)
    pixels = len(frames) * int(np.prod(shape, dtype=np.int64))
    integer = dtype.kind in "iu" and "C" not in first.axes
    labels = integer and (first.labels or _named_like_labels(frames[0]))
    limit = _lazy_labels_pixels() if labels else LAZY_IMAGE_BYTES // dtype.itemsize
    data: Any
    if pixels <= limit:
        data = np.empty((len(frames), *shape), dtype)
        data[0] = first.data
        for t, path in enumerate(frames[1:], start=1):
            data[t] = _frame(path, first.axes, shape, dtype)
        labels = labels or (integer and _binary(data))
    else:
        import dask
        import dask.array as da

        read = dask.delayed(_frame, pure=True)
        data = da.stack(
            [
                da.from_delayed(read(path, first.axes, shape, dtype), shape, dtype=dtype)
                for path in frames
            ]
        )
    axes = "T" + first.axes
    unit = "µm" if first.unit in _MICRON else first.unit
    metadata, kwargs = _placement(folder, folder.name, axes, dict(first.pixel_size), unit)
    if _axes_guessed(frames[0], first.data.ndim):
        metadata[AXES_GUESSED_KEY] = True  # plain 3D frames: ZYX is a guess
    if labels:
        return [(_labels_data(folder, data), {**kwargs, "metadata": metadata}, "labels")]
    return _image_layers(data, axes, kwargs, metadata)


def _each_file(folder: Path, files: list[Path], why: str) -> list[tuple]:
    """The layers of each of ``files`` in turn, which are no movie (``why``); refused, naming
    ``folder``, where they are more than :data:`MAX_FOLDER_LAYERS`."""
    if len(files) > MAX_FOLDER_LAYERS:
        raise ValueError(
            f"{folder}: not opened: its {len(files)} TIFF files are no movie ({why}), and a "
            f"layer for each would be more than {MAX_FOLDER_LAYERS}; open the files you need"
        )
    layers: list[tuple] = []
    for path in files:
        layers += _layers_of(path)
    return layers

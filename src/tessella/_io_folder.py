"""The reader's folders of TIFF files: the frames of a movie as one layer. Part of
:mod:`tessella._io`. No Qt here.

A folder whose TIFF files have one shape (a Cell Tracking Challenge sequence
``01/t000.tif ...``, its ground truth ``01_GT/SEG/man_seg000.tif ...``) opens as one layer
named after the folder, its frames in the order ``tessella segment`` reads them
(:func:`~tessella.engine.io._read.frame_numbers`: by frame number, ``t9`` before ``t10``): a T
axis before the frames' axes (:func:`~tessella.engine.io._read.movie_axes`: TYX, TZYX for 3D
frames, TYXC), its slider named "t", with the first frame's pixel size. An image movie whose
numbers skip frames is stacked in order, the missing numbers said; label frames that skip
frames (CTC's sparse ``SEG``) sit at their frame numbers, the others empty
(:class:`AnnotatedFramesWarning`). It is read into memory up to :func:`lazy_image_bytes`
(labels: up to the reader's lazy-labels limit, :func:`~tessella._io._lazy_labels_pixels`),
else lazily, one frame per dask chunk. Integer frames open as labels by the rule for a labels
file (Tessella's tag, a name like labels, a folder named ``masks``, ``labels``, ``gt``..., only
0 and 1). Files of different shapes that are no movie (DSB2018's images) open as one layer
each, up to :data:`MAX_FOLDER_LAYERS`; a numbered movie with a frame of another shape is
refused, naming that frame and both shapes.
"""

from __future__ import annotations

import re
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
    _whole_number_env,
)

__all__ = [
    "LAZY_IMAGE_BYTES",
    "LAZY_IMAGE_ENV",
    "MAX_FOLDER_LAYERS",
    "AnnotatedFramesWarning",
    "folder_layers",
    "holds_tiffs",
    "lazy_image_bytes",
]

#: a folder of frames whose image takes more bytes than this (1 GiB: 512 frames of 1024²
#: uint16) opens lazily, one frame read from disk per slider step; a smaller one is read
#: into memory. The environment variable :data:`LAZY_IMAGE_ENV` sets another. Labels follow
#: the reader's own limit, so that Correct can edit them
LAZY_IMAGE_BYTES = 2**30
LAZY_IMAGE_ENV = "TESSELLA_LAZY_IMAGE_BYTES"
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


class AnnotatedFramesWarning(UserWarning):
    """Label frames whose numbers skip frames (the Cell Tracking Challenge's sparse ``SEG``
    ground truth) opened at their frame numbers, the frames between empty; napari shows it as
    a notification saying how many are annotated."""


def lazy_image_bytes() -> int:
    """:data:`LAZY_IMAGE_BYTES`, or the number of bytes the environment variable
    :data:`LAZY_IMAGE_ENV` gives, written with thousands separators or not ("2,147,483,648",
    "2147483648"; 0: every folder of image frames lazily); anything else is said in a warning
    naming the variable and its value, and the default holds."""
    return _whole_number_env(
        LAZY_IMAGE_ENV,
        LAZY_IMAGE_BYTES,
        "bytes",
        "2,147,483,648",
        "every folder of image frames",
        "folders of image frames",
    )


def folder_layers(folder: Path) -> list[tuple]:
    """The layers of a folder of TIFF files: one movie of its frames where they have one
    shape, else a layer per file (at most :data:`MAX_FOLDER_LAYERS`); raises ValueError naming
    the frame of a numbered movie whose shape differs from the others', or an unreadable
    file."""
    from tessella.engine.io import list_images
    from tessella.engine.io._read import frame_numbers, movie_axes, numbered_files

    files = list_images(folder)
    if len(files) == 1:
        return _layers_of(files[0])  # one file is itself, not a movie of one frame
    numbered = numbered_files(files)
    # by frame number where the names say it (as frame_numbers, which is told only once the
    # files are taken for a movie: it warns of the files it leaves out)
    frames = [path for _n, path in sorted(numbered, key=lambda n_path: n_path[0])] or files
    first = _read(frames[0])
    if movie_axes(first.axes) is None:
        why = f"{frames[0].name} is {first.axes}, and T{first.axes} is no movie we read"
        return _each_file(folder, files, why)
    headers = [_header(path) for path in frames]
    shapes = [shape for shape, _dtype in headers]
    common, count = Counter(shapes).most_common(1)[0]
    if count == len(frames):
        dtype = np.result_type(*(dtype for _shape, dtype in headers))
        # the same frames, or a ValueError naming two of one number
        by_number = frame_numbers(folder)
        return _movie_layers(folder, by_number, frames if not by_number else None, first, dtype)
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


def _movie_layers(
    folder: Path,
    by_number: dict[int, Path],
    unnumbered: list[Path] | None,
    first,
    dtype: np.dtype,
) -> list[tuple]:
    """The layer of the frames ``by_number`` (or, named without numbers, ``unnumbered``, in
    order; the first one read: ``first``), stacked along a T axis: an image movie in order,
    label frames at their frame numbers (:func:`_label_places`)."""
    from tessella.engine.io._read import say_missing_frames

    frames = unnumbered or list(by_number.values())
    shape = tuple(first.data.shape)
    integer = dtype.kind in "iu" and "C" not in first.axes
    labels = integer and (first.labels or _named_like_labels(frames[0]))
    places = _label_places(folder, by_number) if labels else None
    index, length = places or (list(range(len(frames))), len(frames))
    pixels = length * int(np.prod(shape, dtype=np.int64))
    if labels:
        in_memory = pixels <= _lazy_labels_pixels()
    else:
        in_memory = pixels * dtype.itemsize <= lazy_image_bytes()
    data: Any
    if in_memory:
        data = np.zeros((length, *shape), dtype) if places else np.empty((length, *shape), dtype)
        data[index[0]] = first.data
        for t, path in zip(index[1:], frames[1:]):
            data[t] = _frame(path, first.axes, shape, dtype)
        if integer and not labels and _binary(data):  # 0/1 masks: labels, read in order
            labels, places = True, _label_places(folder, by_number)
            if places is not None:
                index, length = places
                placed = np.zeros((length, *shape), dtype)
                placed[index] = data
                data = placed
    else:
        import dask
        import dask.array as da

        read = dask.delayed(_frame, pure=True)
        stack = [da.zeros(shape, dtype=dtype, chunks=shape)] * length
        for t, path in zip(index, frames):
            stack[t] = da.from_delayed(read(path, first.axes, shape, dtype), shape, dtype=dtype)
        data = da.stack(stack)
    axes = "T" + first.axes
    unit = "µm" if first.unit in _MICRON else first.unit
    metadata, kwargs = _placement(folder, folder.name, axes, dict(first.pixel_size), unit)
    if _axes_guessed(frames[0], first.data.ndim):
        metadata[AXES_GUESSED_KEY] = True  # plain 3D frames: ZYX is a guess
    if labels:
        if places is not None:
            _say_annotated(folder, frames, *places)
        return [(_labels_data(folder, data), {**kwargs, "metadata": metadata}, "labels")]
    say_missing_frames(folder, by_number)
    return _image_layers(data, axes, kwargs, metadata)


def _label_places(folder: Path, by_number: dict[int, Path]) -> tuple[list[int], int] | None:
    """``(index, length)``: where the label frames ``by_number`` (ascending) go in a stack
    of ``length`` frames whose index is the frame number, so that they sit on the frames of
    their movie (CTC's ``SEG`` annotates some frames: ``man_seg002``, ``man_seg005``, ...).
    Numbers count from the first frame of the movie beside them (CTC's ``01`` beside
    ``01_GT/SEG``), which also gives the length, else from 0 (numbers from 0, or CTC's names)
    or 1; None where that is the order they stack in (no frame skipped, as long as the
    movie): they then stack as image frames do."""
    from tessella.engine.io._read import missing_frames

    if not by_number:
        return None  # no numbers: the names' order
    numbers = list(by_number)
    beside = _movie_beside(folder)
    if beside is not None:
        base, length = beside
    else:
        ctc = _CTC_NAME.match(by_number[numbers[0]].name) is not None
        base, length = (0 if numbers[0] == 0 or ctc else 1), 0
    base = min(base, numbers[0])
    index = [n - base for n in numbers]
    length = max(length, index[-1] + 1)
    if length == len(numbers) and not missing_frames(numbers):
        return None
    return index, length


def _movie_beside(folder: Path) -> tuple[int, int] | None:
    """``(first frame number, frames)`` of the movie that the label frames ``folder`` annotate,
    where the Cell Tracking Challenge's layout names it (``01`` beside ``01_GT/SEG`` or
    ``01_GT/TRA``), else None."""
    from tessella.engine.io import list_images
    from tessella.engine.io._read import numbered_files

    parent = folder.parent
    if not parent.name.upper().endswith("_GT") or len(parent.name) <= 3:
        return None
    movie = parent.parent / parent.name[:-3]
    try:
        numbers = [n for n, _path in numbered_files(list_images(movie))]
    except (OSError, ValueError):  # none there, or no TIFFs
        return None
    return (min(numbers), len(numbers)) if numbers else None


#: the Cell Tracking Challenge's ground-truth frames, numbered from 0 as its movies are
_CTC_NAME = re.compile(r"man_(seg|track)[0-9]", re.I)


def _say_annotated(folder: Path, frames: list[Path], index: list[int], length: int) -> None:
    """Say that the label frames ``frames`` of ``folder`` sit at their frame numbers
    (``index``) in a movie of ``length`` frames, the others empty."""
    import warnings

    empty = length - len(frames)
    others = "the other one is empty" if empty == 1 else f"the {empty} others are empty"
    warnings.warn(
        f"'{folder.name}': {len(frames)} annotated frame{'s' if len(frames) > 1 else ''} of "
        f"0-{length - 1} ({frames[0].name} at t={index[0]} ... {frames[-1].name} at "
        f"t={index[-1]}, by their numbers); {others} ({folder})",
        AnnotatedFramesWarning,
        stacklevel=2,
    )


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

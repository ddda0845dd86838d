"""Reading an image file of any supported kind, a folder of frames, an array in memory."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..axes import axes_contradict
from ._image import (
    _SUPPORTED_DTYPES,
    TIFF_SUFFIXES,
    AxesContradictionWarning,
    ImageData,
    is_zarr_path,
)
from ._tiff import _read_tiff
from ._zarr import _read_zarr

__all__ = ["as_array", "read_image", "list_images", "read_frames"]


def as_array(
    data, name: str | os.PathLike, what: str = "its data", index: tuple | None = None
) -> np.ndarray:
    """``data`` (numpy, zarr or dask), or ``data[index]``, in memory; a chunk that cannot be
    read or decoded (a corrupt or missing zarr chunk) raises ValueError naming ``name`` (and
    ``what`` of it was read), not a codec traceback. A zarr array decodes as it is indexed,
    so the index is taken here."""
    if isinstance(data, np.ndarray):
        return data if index is None else data[index]
    try:
        return np.asarray(data if index is None else data[index])
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # codecs raise RuntimeError, ValueError, TypeError, ...
        raise ValueError(f"{name}: cannot read {what} ({type(exc).__name__}: {exc})") from exc


def read_image(path: str | os.PathLike, axes: str | None = None) -> ImageData:
    """Read a TIFF or zarr image with its axes and pixel size.

    ``axes`` overrides what the file's metadata says (ImageJ or OME axes, RGB tags, OME-Zarr
    axes, a zarr array's ``tessella_axes``), with an :class:`AxesContradictionWarning` naming
    the file and both where they contradict. Raises ValueError naming the file for anything
    unreadable or unsupported.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file or folder")
    if is_zarr_path(path):
        image = _read_zarr(path, axes)
    elif path.suffix.lower() in TIFF_SUFFIXES:
        image = _read_tiff(path, axes)
    else:
        raise ValueError(f"{path}: unsupported file type (use .tif/.tiff or .zarr)")
    if image.data.dtype.kind not in _SUPPORTED_DTYPES:
        raise ValueError(f"{path}: unsupported pixel type {image.data.dtype}")
    if 0 in image.data.shape:
        raise ValueError(f"{path}: the image is empty (shape {tuple(image.data.shape)})")
    if axes is not None and axes_contradict(image.axes, image.stated_axes):
        import warnings

        warnings.warn(
            f"{path}: read as {image.axes} as the axes given say, not as "
            f"{image.stated_axes} from its {image.stated_by}",
            AxesContradictionWarning,
            stacklevel=2,
        )
    # a size only for a spatial axis the image has: the metadata's Z spacing does not hold
    # for a volume read as frames (TYX) or channels (CYX)
    dropped = {"T", "C"} | ({"Z"} - set(image.axes))
    image.pixel_size = {k: v for k, v in image.pixel_size.items() if k.upper() not in dropped}
    return image


def natural_key(name: str) -> tuple:
    """A sort key that orders the numbers in a file name by value, as a file browser does:
    ``t2.tif`` before ``t10.tif`` (plain string order puts ``t10`` first). Names equal
    but for zero padding (``t1``/``t01``) or case keep a fixed order by the name itself."""
    parts = re.split(r"([0-9]+)", name)
    return (
        tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in parts if p),
        name,
    )


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The ``.tif``/``.tiff`` files of ``folder`` in natural order (``t2`` before ``t10``)."""
    folder = Path(folder)
    files = sorted(
        (p for p in folder.iterdir() if p.suffix.lower() in TIFF_SUFFIXES),
        key=lambda p: natural_key(p.name),
    )
    if not files:
        raise ValueError(f"{folder}: the folder holds no .tif/.tiff files")
    return files


#: a frame's file name: its last number, between what comes before and after it
_NUMBERED = re.compile(r"^(.*?)([0-9]+)([^0-9]*)\.tiff?$", re.IGNORECASE)


def numbered_files(files: list[Path]) -> list[tuple[int, Path]]:
    """``(number, file)`` of the ``files`` named by the one pattern around a number that more
    than half of them share (``t000.tif``, ``t001.tif``, ...), in the order given; empty
    where no pattern is that common (``a3f9.tif``, ``c07e.tif``: independent images).

    >>> [n for n, _ in numbered_files([Path("t1.tif"), Path("t10.tif"), Path("notes.tif")])]
    [1, 10]
    >>> numbered_files([Path("a3f9.tif"), Path("c07e.tif")])
    []
    """
    groups: dict[tuple[str, str], list[tuple[int, Path]]] = {}
    for path in files:
        match = _NUMBERED.match(path.name)
        if match is not None:
            key = (match[1].lower(), match[3].lower())
            groups.setdefault(key, []).append((int(match[2]), path))
    numbered = max(groups.values(), key=len, default=[])
    return numbered if 2 * len(numbered) > len(files) else []


def frame_files(folder: str | os.PathLike) -> list[Path]:
    """The frames of a time-lapse ``folder`` in order. Where most of its TIFF names share one
    pattern around a number (``t000.tif``, ``frame_12.tiff``), the frames are those, by that
    number; the others (``t3 copy.tif``, ``notes.tif``) are left out with a warning naming
    them, and two files of one number (``t5.tif`` and ``t05.tiff``) are refused. Otherwise
    every TIFF, in natural order (:func:`list_images`)."""
    files = list_images(folder)
    numbered = numbered_files(files)
    if not numbered:
        return files  # no pattern most names share: the names' own order
    by_number: dict[int, Path] = {}
    for number, path in numbered:
        if number in by_number:
            raise ValueError(
                f"{folder}: {by_number[number].name} and {path.name} are both frame {number}; "
                "keep one"
            )
        by_number[number] = path
    kept = set(by_number.values())
    left_out = [path.name for path in files if path not in kept]
    if left_out:
        import warnings

        more = f" and {len(left_out) - 5} more" if len(left_out) > 5 else ""
        example = sorted(by_number.items())[0][1].name
        warnings.warn(
            f"{folder}: left out {', '.join(left_out[:5])}{more}: not named as its frames "
            f"are (like {example})",
            UserWarning,
            stacklevel=3,
        )
    return [by_number[number] for number in sorted(by_number)]


def read_frames(folder: str | os.PathLike) -> ImageData:
    """A folder of 2D frames (e.g. a Cell Tracking Challenge sequence ``t000.tif ...``) as one
    time-lapse ``T`` + the frames' axes, by frame number (``t9.tif`` before ``t10.tif``;
    :func:`frame_files`: files not named as the frames are left out, with a warning); the
    pixel size is the first
    frame's. Every frame must have the first one's shape."""
    folder = Path(folder)
    files = frame_files(folder)
    first = read_image(files[0])
    if "T" in first.axes or "Z" in first.axes:
        raise ValueError(f"{files[0]}: frames of a time-lapse folder must be 2D, got {first.axes}")
    frames = [np.asarray(first.data)]
    for path in files[1:]:
        frame = np.asarray(read_image(path, first.axes).data)
        if frame.shape != frames[0].shape:
            raise ValueError(
                f"{path}: shape {frame.shape} differs from {files[0].name}'s {frames[0].shape}; "
                "the frames of a time-lapse must all have one shape"
            )
        frames.append(frame)
    return ImageData(np.stack(frames), "T" + first.axes, first.pixel_size, first.unit, folder)

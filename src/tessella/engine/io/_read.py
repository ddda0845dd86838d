"""Reading an image file of any supported kind, a folder of frames, an array in memory."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..axes import SUPPORTED_AXES, axes_contradict
from ._image import (
    _SUPPORTED_DTYPES,
    TIFF_SUFFIXES,
    AxesContradictionWarning,
    ImageData,
    is_zarr_path,
)
from ._picture import PICTURE_SUFFIXES, read_picture
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
        words = _chunk_words(data, index, exc)
        if words is not None:  # the chunk files, their pixels and what to do
            raise ValueError(f"{name}: cannot read {what}: {words}") from exc
        raise ValueError(f"{name}: cannot read {what} ({type(exc).__name__}: {exc})") from exc


def _chunk_words(data, index: tuple | None, error: BaseException) -> str | None:
    """The damaged chunk files of the zarr array ``data`` under ``index`` that made a read
    fail with ``error``, their pixels and what to do
    (:func:`~._zarr.unreadable_chunks_words`); None for anything else."""
    from ._zarr import UnreadableChunkError, unreadable_chunks_words

    if isinstance(error, UnreadableChunkError):
        return error.words
    if not hasattr(data, "metadata") or not hasattr(data, "chunks"):
        return None  # (not a zarr array: a dask array names no chunk file)
    try:
        return unreadable_chunks_words(data, Ellipsis if index is None else index, error)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception:
        return None


def read_image(
    path: str | os.PathLike,
    axes: str | None = None,
    *,
    channel: int | None = None,
    series: int | None = None,
    ignore_axes_metadata: bool = False,
) -> ImageData:
    """Read a TIFF or zarr image with its axes and pixel size, or a 2D PNG/JPEG/BMP picture
    (:func:`~._picture.read_picture`: grey YX, colour YXC as an RGB TIFF; no pixel size; a
    JPEG with a warning that it is lossy), or a folder of frames (a Cell Tracking Challenge
    sequence ``01/t000.tif ...``) as one time-lapse, as ``tessella segment`` and the napari
    reader read it (:func:`read_frames`: T before the frames' axes, by frame number, the
    first frame's pixel size; its ``frame_numbers`` those the file names give, None where
    they number no frames).

    ``axes`` name the file's dimensions in the order it stores them; where the file's own
    metadata name them in an order the engine does not read (Fiji's ZCYX hyperstacks), the
    image is transposed (CZYX), each axis keeping its pixel size. ``channel``: that channel
    alone, without C (a channel it lacks is a ValueError naming its count). ``series``: that
    series of a multi-series TIFF (default: the first that is no thumbnail, with a warning
    naming the one read where there are several).

    ``axes`` overrides what the file's metadata says (ImageJ or OME axes, RGB tags, OME-Zarr
    axes, a zarr array's ``tessella_axes``), with an :class:`AxesContradictionWarning` naming
    the file and both where they contradict, but for a reordering of the letters its ImageJ,
    OME, tifffile or OME-Zarr metadata (or ``tessella_axes``) name (CZYX given for a Fiji
    ZCYX hyperstack), which is refused naming both, unless ``ignore_axes_metadata`` (metadata
    that are wrong: ``axes`` are then taken as given, with that warning). Raises ValueError
    naming the file for anything unreadable or unsupported; for a file or folder that is not
    there a :class:`~tessella.engine.errors.MissingFileError`, a ValueError that is also a
    FileNotFoundError (``except OSError`` catches it too).
    """
    path = Path(path)
    if not path.exists():  # (a ValueError and a FileNotFoundError: either except catches it)
        from ..errors import MissingFileError

        raise MissingFileError(f"{path}: no such file or folder", str(path))
    if ignore_axes_metadata and axes is None:
        raise ValueError(f"{path}: ignore_axes_metadata needs the axes to read it with (axes=)")
    if path.is_dir() and not is_zarr_path(path):  # a movie's frames, as the CLI reads them
        return _read_folder(path, axes, channel, series, ignore_axes_metadata)
    if is_zarr_path(path):
        if series is not None:
            raise ValueError(f"{path}: series are a TIFF's; a zarr store holds one image")
        image = _read_zarr(path, axes, channel, ignore_axes_metadata)
    elif path.suffix.lower() in TIFF_SUFFIXES:
        image = _read_tiff(path, axes, channel, series, ignore_axes_metadata)
    elif path.suffix.lower() in PICTURE_SUFFIXES and path.is_file():
        if series is not None:
            raise ValueError(f"{path}: series are a TIFF's; a picture holds one image")
        image = read_picture(path, axes, channel, ignore_axes_metadata)
    else:
        raise ValueError(
            f"{path}: unsupported file type (use .tif/.tiff, .zarr, a PNG/JPEG/BMP picture or "
            "a folder of TIFF frames)"
        )
    if image.data.dtype.kind not in _SUPPORTED_DTYPES:
        raise ValueError(f"{path}: unsupported pixel type {image.data.dtype}")
    if 0 in image.data.shape:
        raise ValueError(f"{path}: the image is empty (shape {tuple(image.data.shape)})")
    if axes is not None and axes_contradict(image.axes, image.stated_axes):
        import warnings

        warnings.warn(_contradiction(path, image), AxesContradictionWarning, stacklevel=2)
    # a size only for a spatial axis the image has: the metadata's Z spacing does not hold
    # for a volume read as frames (TYX) or channels (CYX)
    dropped = {"T", "C"} | ({"Z"} - set(image.axes))
    image.pixel_size = {k: v for k, v in image.pixel_size.items() if k.upper() not in dropped}
    return image


def _read_folder(
    path: Path, axes: str | None, channel: int | None, series, ignore_axes_metadata: bool
) -> ImageData:
    """A folder of frames (``t000.tif ...``) read as one time-lapse, as ``tessella segment``
    and the napari reader read it (:func:`read_frames`: by frame number, its
    ``frame_numbers`` kept); the options that pick part of one file are refused, naming it,
    and so are ``axes`` other than the movie's."""
    given = {"channel": channel, "series": series}
    given["ignore_axes_metadata"] = ignore_axes_metadata or None
    chosen = [name for name, value in given.items() if value is not None]
    if chosen:
        raise ValueError(
            f"{path}: {chosen[0]}= reads part of one file; a folder is read as the frames of "
            "a movie (write the frames wanted to files of their own first)"
        )
    image = read_frames(path)
    if axes is not None and axes.upper() != image.axes:
        raise ValueError(
            f"{path}: a folder of frames is read as a movie, {image.axes} (T and its frames' "
            f"axes, from their files); axes={axes!r} does not fit it"
        )
    return image


def _contradiction(path: Path, image: ImageData) -> str:
    """The warning for axes given that contradict what ``image``'s metadata state, both in the
    order the file stores its dimensions (``image.axes`` and ``stated_axes`` are in the order
    read, after the transpose: XY given for a plain TIFF was said as "read as YX ..., not as
    XY"), and, where the order read puts its axes otherwise than given (XY read as YX), the
    order and shape its labels are written in.

    >>> image = ImageData(np.zeros((347, 260)), "YX", stated_axes="XY", stated_by="TIFF pages",
    ...                   stored_axes="XY")
    >>> print(_contradiction(Path("a.tif"), image))  # doctest: +NORMALIZE_WHITESPACE
    a.tif: read as XY (as given), not as YX from its TIFF pages; its labels are written in
    the model's order, YX: shape (347, 260), not its (260, 347)
    """
    stated = str(image.stated_axes)
    given = "".join(a for a in (image.stored_axes or image.axes) if a in image.axes)
    if sorted(given) != sorted(image.axes):  # (not read from one file: as read)
        given = image.axes
    said = "".join(stated[image.axes.index(a)] for a in given)
    unknown = " (?: not named)" if "?" in said else ""
    message = f"{path}: read as {given} (as given), not as {said} from its {image.stated_by}"
    kept = [a for a in given if a != "C"]  # the labels' axes: all but the channels
    written = [a for a in image.axes if a != "C"]
    if kept == written:
        return message + unknown
    shape = image.data.shape
    as_stored = tuple(int(shape[image.axes.index(a)]) for a in kept)
    as_written = tuple(int(shape[image.axes.index(a)]) for a in written)
    order = "".join(written)
    return f"{message}{unknown}; its labels are written in the model's order, {order}: " + (
        f"shape {as_written}, not its {as_stored}"
        if as_written != as_stored
        else f"transposed from its {''.join(kept)}"
    )


def natural_key(name: str) -> tuple:
    """A sort key that orders the numbers in a file name by value, as a file browser does:
    ``t2.tif`` before ``t10.tif`` (plain string order puts ``t10`` first). Names equal
    but for zero padding (``t1``/``t01``) or case keep a fixed order by the name itself."""
    parts = re.split(r"([0-9]+)", name)
    return (
        tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in parts if p),
        name,
    )


def list_images(folder: str | os.PathLike, pictures: bool = False) -> list[Path]:
    """The ``.tif``/``.tiff`` files of ``folder`` in natural order (``t2`` before ``t10``),
    hidden ones left out: macOS writes a ``._t000.tif`` (AppleDouble, no TIFF) beside each
    file copied to a FAT, exFAT or network drive; with ``pictures`` its PNG/JPEG/BMP files
    too (``tessella segment`` of a folder of independent images)."""
    folder = Path(folder)
    suffixes = TIFF_SUFFIXES + (PICTURE_SUFFIXES if pictures else ())
    files = sorted(
        (
            p
            for p in folder.iterdir()
            if p.suffix.lower() in suffixes and not p.name.startswith(".") and not p.is_dir()
        ),
        key=lambda p: natural_key(p.name),
    )
    if not files:
        what = ".tif/.tiff or PNG/JPEG/BMP" if pictures else ".tif/.tiff"
        raise ValueError(f"{folder}: the folder holds no {what} files")
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


def frame_numbers(folder: str | os.PathLike, files: list[Path] | None = None) -> dict[int, Path]:
    """The frames of a time-lapse ``folder`` by frame number, in that order, where most of its
    TIFF names share one pattern around a number (``t000.tif``, ``frame_12.tiff``,
    ``man_seg002.tif``); the others (``t3 copy.tif``, ``notes.tif``) are left out with a
    warning naming them, and two files of one number (``t5.tif`` and ``t05.tiff``) are
    refused. Empty where no pattern is that common: the frames are then every TIFF in natural
    order (:func:`list_images`). Numbers may skip frames (:func:`missing_frames`). ``files``:
    those of the folder's TIFF files that are the movie (the napari reader's image files of a
    folder that also holds their labels), else all of them."""
    files = list_images(folder) if files is None else files
    numbered = numbered_files(files)
    if not numbered:
        return {}
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
    return dict(sorted(by_number.items()))


def missing_frames(numbers) -> list[int]:
    """The frame numbers between the first and the last of ``numbers`` that are not in it.

    >>> missing_frames([0, 1, 2, 5, 7])
    [3, 4, 6]
    """
    have = set(numbers)
    return [n for n in range(min(have), max(have) + 1) if n not in have] if have else []


class MissingFramesWarning(UserWarning):
    """A folder of numbered frames whose numbers skip some: the movie is stacked in order,
    so from the first gap on a frame's index in the movie is not its number."""


def say_missing_frames(folder: str | os.PathLike, by_number: dict[int, Path]) -> None:
    """Warn (:class:`MissingFramesWarning`) where the numbers of the frames ``by_number``
    (:func:`frame_numbers`) skip frames, naming the missing numbers and the first frame
    whose index is no longer its number."""
    missing = missing_frames(by_number)
    if not missing:
        return
    import warnings

    first = min(by_number)
    shown = ", ".join(str(n) for n in missing[:10])
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    after = next(path for n, path in by_number.items() if n > missing[0])
    warnings.warn(
        f"{folder}: frame{'s' if len(missing) > 1 else ''} {shown}{more} missing (of "
        f"{first}-{max(by_number)}): its {len(by_number)} frames are stacked in order, one "
        f"after the other, so from {after.name} on a frame's index (t) is not its number",
        MissingFramesWarning,
        stacklevel=3,
    )


def movie_axes(frame_axes: str) -> str | None:
    """The axes of a movie of frames of ``frame_axes``: T before them (TYX, TZYX, TYXC), or
    None where frames of those axes stack into no movie Tessella reads (CYX, TYX, ZYXC).

    >>> movie_axes("ZYX"), movie_axes("CYX")
    ('TZYX', None)
    """
    axes = "T" + frame_axes
    return axes if axes in SUPPORTED_AXES else None


def read_frames(folder: str | os.PathLike) -> ImageData:
    """A folder of 2D or 3D frames (e.g. a Cell Tracking Challenge sequence ``t000.tif ...``)
    as one time-lapse: T before the frames' axes (:func:`movie_axes`: TYX, TZYX, TYXC), by
    frame number (``t9.tif`` before ``t10.tif``; :func:`frame_numbers`: files not named as the
    frames are left out, with a warning; numbers that skip frames are said,
    :func:`say_missing_frames`), as napari's reader stacks them; the pixel size is the first
    frame's; its ``frame_numbers`` the frames' numbers (None where the names number no
    frames). Every frame must have the first one's shape; frames of other axes (CYX) are
    refused."""
    folder = Path(folder)
    by_number = frame_numbers(folder)
    files = list(by_number.values()) if by_number else list_images(folder)
    say_missing_frames(folder, by_number)
    first = read_image(files[0])
    axes = movie_axes(first.axes)
    if axes is None:
        raise ValueError(
            f"{files[0]}: the frames of a time-lapse folder are YX, ZYX or YXC (a movie TYX, "
            f"TZYX or TYXC), got {first.axes}"
        )
    frames = [np.asarray(first.data)]
    for path in files[1:]:
        frame = np.asarray(read_image(path, first.axes).data)
        if frame.shape != frames[0].shape:
            raise ValueError(
                f"{path}: shape {frame.shape} differs from {files[0].name}'s {frames[0].shape}; "
                "the frames of a time-lapse must all have one shape"
            )
        frames.append(frame)
    numbers = list(by_number) if by_number else None
    return ImageData(
        np.stack(frames), axes, first.pixel_size, first.unit, folder, frame_numbers=numbers
    )

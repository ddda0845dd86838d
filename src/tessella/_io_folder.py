"""The reader's folders of TIFF files: the frames of a movie as one layer. Part of
:mod:`tessella._io`. No Qt here (but a watch for the layers napari adds, where a viewer is
open: :func:`tessella._io_tracks.follow_when_added`).

A folder whose TIFF files have one shape (a Cell Tracking Challenge sequence
``01/t000.tif ...``, its ground truth ``01_GT/SEG/man_seg000.tif ...``) opens as one layer
named after the folder, its frames in the order ``tessella segment`` reads them
(:func:`~tessella.engine.io._read.frame_numbers`: by frame number, ``t9`` before ``t10``): a T
axis before the frames' axes (:func:`~tessella.engine.io._read.movie_axes`: TYX, TZYX for 3D
frames, TYXC), its slider named "t", its frames' numbers in its metadata
(:data:`FRAME_NUMBERS_KEY`), with the first frame's pixel size (2D frames not named
as times, ``slice_000.tif``, are marked as guessed axes). A movie whose numbers skip frames
is stacked in order, the missing numbers said, label frames too, so that they line up with
their images; only in the Cell Tracking Challenge's layout (``01_GT/SEG`` beside ``01``, or
``man_seg``/``man_track`` names) do label frames that skip frames sit at their frame numbers,
the others empty (:class:`AnnotatedFramesWarning`); its 3D ground truth of single slices
(``man_seg_TTT_ZZZ.tif``) opens as TZYX labels, each slice at its t and z. It is read into
memory up to :func:`lazy_image_bytes` (labels: up to the reader's lazy-labels limit,
:func:`~tessella._io._lazy_labels_pixels`), else lazily, one frame per dask chunk. Integer
frames open as labels by the rule for a labels file (Tessella's tag, a name like labels, a
folder named ``masks``, ``labels``, ``gt``..., only 0 and 1) or, nothing naming them so, by
their content: piecewise constant, each value one region, as instance labels are and
intensity images, smoothed or dim ones included, are not (:func:`_labels_by_content`; 0 and
1 only told by the first frame that is not all 0, the content by it and the middle and last
frames, where they tell, a movie none of whose frames tells being an image). A folder of
images and labels (``cells.tif`` and ``cells_labels.tif``) opens its images and its labels
apart, never as one layer, and so does a mask that nothing names as labels (``roi.tif``: 0
and one other value) among frames that are images by their content, as its own labels (among
label frames, a frame of one object is one of them). Files of
different shapes that are no movie (DSB2018's images) open as one layer each, up to
:data:`MAX_FOLDER_LAYERS`; a numbered movie with a frame of another shape is refused, naming
that frame and both shapes. Hidden files (macOS's ``._t000.tif``) are left out.

Label frames beside a Cell Tracking Challenge track file (a result ``01_RES``:
``maskTTT.tif`` and ``res_track.txt``; its ground truth ``01_GT/TRA``: ``man_trackTTT.tif``
and ``man_track.txt``) open with its divisions, as a Segment run of a time-lapse model
records them, and a Tracks layer beside them (:func:`_with_ctc_tracks`,
:func:`tessella._io_tracks.add_tracks_layer`); a result beside
its movie (``01_RES`` beside ``01``) takes the movie's pixel size, as ``01_GT/SEG`` does.
"""

from __future__ import annotations

import contextlib
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
from ._io_content import _labels_by_content, _piecewise_constant, _say_labels_by_content

__all__ = [
    "FRAME_NUMBERS_KEY",
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
#: layer metadata of a movie read from numbered frames: the frame number of each of its
#: frames (``t052.tif ...``: ``[52, 53, ...]``), in order; Segment's results take it from
#: their image, and Export names the CTC masks by it (``mask052.tif ...``)
FRAME_NUMBERS_KEY = "frame_numbers"


def holds_tiffs(path: Path) -> bool:
    """Whether ``path`` is a folder, not a zarr, holding a ``.tif``/``.tiff`` file that is
    not hidden (macOS's ``._t000.tif`` is none)."""
    from tessella.engine.io import TIFF_SUFFIXES, is_zarr_path

    try:
        if not path.is_dir() or is_zarr_path(path):
            return False
        return any(
            child.suffix.lower() in TIFF_SUFFIXES and not child.name.startswith(".")
            for child in path.iterdir()
        )
    except OSError:  # a folder that cannot be listed is not ours to claim
        return False


class AnnotatedFramesWarning(UserWarning):
    """Label frames of the Cell Tracking Challenge's layout whose numbers skip frames (its
    sparse ``SEG`` ground truth) opened at their frame numbers, the frames between empty;
    napari shows it as a notification saying how many are annotated."""


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
    shape, else a layer per file (at most :data:`MAX_FOLDER_LAYERS`); a folder of images and
    labels (by name or Tessella's tag: ``cells.tif`` and ``cells_labels.tif``, ``t1.tif ...``
    and ``mask1.tif ...``) opens its images so, and its labels so, apart; so does a mask not
    named as labels among images (:func:`_unnamed_masks`: ``roi.tif``, 0/1 or 0/255, beside
    ``t1.tif ...`` whose content is no labels), as labels. The Cell Tracking Challenge's 3D
    ground truth annotating single slices (``man_seg_TTT_ZZZ.tif``) opens as TZYX labels
    (:func:`_ctc_slice_layers`).
    Raises ValueError naming the frame of a numbered movie whose shape differs from the
    others', or an unreadable file."""
    from ._io_tracks import with_recorded_tracks

    return with_recorded_tracks(_with_ctc_tracks(folder, _folder_layers(folder)))


def _folder_layers(folder: Path) -> list[tuple]:
    """:func:`folder_layers` before the tracks of a CTC track file are added."""
    from tessella.engine.io import list_images

    files = list_images(folder)
    if len(files) == 1:
        return _layers_of(files[0])  # one file is itself, not a movie of one frame
    slices = _ctc_slice_layers(folder, files)
    if slices is not None:
        return slices
    frames = _in_frame_order(files)
    headers = {path: _header(path) for path in frames}
    for path in files:  # a movie leaves out the others, but mask1.tif beside t1.tif ...
        if path not in headers:  # is its labels, not a stray file
            with contextlib.suppress(ValueError):
                headers[path] = _header(path)
    marked = {path: _marked_labels(path, *header) for path, header in headers.items()}
    masks, read = _unnamed_masks(files, headers, marked)
    if not masks and len(set(marked.values())) == 1:
        return _series_layers(folder, files, headers, folder.name, marked[frames[0]], read)
    # an image and its labels (cells.tif, cells_labels.tif) are never one layer: the images
    # open as they would alone in the folder (a movie, or a layer each), and so do the labels
    # and the masks not named so (as labels, 0/255 too)
    groups = [
        ([p for p in files if not marked.get(p) and p not in masks], folder.name, False),
        ([p for p in files if marked.get(p)], f"{folder.name} labels", True),
        ([p for p in files if p in masks], f"{folder.name} masks", True),
    ]
    layers: list[tuple] = []
    for group, name, labels in groups:
        if len(group) == 1:
            found = _layers_of(group[0])
        elif group:
            found = _series_layers(folder, group, headers, name, labels, read)
        else:
            continue
        layers += _as_labels(found) if group[0] in masks else found
    return layers


def _unnamed_masks(
    files: list[Path], headers: dict, marked: dict[Path, bool]
) -> tuple[set[Path], dict[Path, Any]]:
    """``(masks, read)``: the files among ``files`` (their ``headers`` read, those ``marked``
    as labels left aside) that are masks of the others though nothing names them so
    (``roi.tif`` beside ``t1.tif ...``): integer, of the frames' shape, holding 0 and one
    other value (0/1, 0/255; :func:`_mask_like`), among frames that are not (a folder of
    masks only, some maybe all 0, is a movie of masks) and that are images by their content
    (:func:`_among_images`: in a folder named without numbers, most of the others that tell
    are not piecewise constant; a folder of instance label frames, one of them holding one
    object, is one movie of labels). They were stacked into the movie of
    images, or left out of a numbered one. Looked for where they would otherwise be lost:
    among the files that a numbered movie leaves out, and, in a folder named without numbers
    whose files have one shape, among them all, their pixels kept (``read``) for the movie
    where it is read into memory; beyond that size, only among the files of another type than
    most (uint8 beside uint16), so that a lazy movie is not read whole to open it."""
    unmarked = [path for path in files if path in headers and not marked[path]]
    if len(unmarked) < 2:
        return set(), {}
    frames = _in_frame_order(unmarked)
    integer = [path for path in unmarked if _integer(headers[path])]
    keep = False
    if frames is not unmarked:  # numbered: the files it leaves out, of the frames' shape
        shape = headers[frames[0]][0]
        movie = set(frames)
        candidates = [p for p in integer if p not in movie and headers[p][0] == shape]
    elif len({headers[path][0] for path in unmarked}) == 1:  # would stack into one movie
        candidates = integer
        shape, dtype = headers[unmarked[0]][0], np.result_type(*(headers[p][1] for p in unmarked))
        keep = len(unmarked) * int(np.prod(shape)) * dtype.itemsize <= lazy_image_bytes()
        if not keep:
            common = Counter(headers[path][1] for path in integer).most_common(1)
            candidates = [p for p in integer if common and headers[p][1] != common[0][0]]
    else:  # files of other shapes open one layer each, as themselves
        return set(), {}
    masks: set[Path] = set()
    blank = 0
    read: dict[Path, Any] = {}
    for path in candidates:
        image = _read(path)
        if _mask_like(image):
            masks.add(path)
        elif not np.asarray(image.data).any():
            blank += 1
        if keep:
            read[path] = image
    if len(masks) + blank == len(unmarked):
        return set(), read  # masks only (some maybe empty): a movie of masks
    if masks and frames is unmarked and not _among_images(unmarked, masks, headers, read, keep):
        # label frames (a.tif b.tif c.tif, instance labels, b holding one object): the
        # one-object frames are frames of the label movie, which splitting them out would break
        return set(), read
    return masks, read


def _among_images(
    files: list[Path], masks: set[Path], headers: dict, read: dict[Path, Any], keep: bool
) -> bool:
    """Whether the frames of ``files`` that are not ``masks`` are images, not labels, by
    their content (:func:`_piecewise_constant`), as most of them that tell say (a tie is no
    majority): frames of another type than integer are images, integer ones are taken from
    those ``read``; where the movie is not read into memory (not ``keep``), the first of them
    that tells is read (kept in ``read`` where it is the first one, which the movie reads
    first), as the rule for a movie of labels reads its first frame that is not empty."""
    others = [path for path in files if path not in masks]
    images = labels = 0
    for path in others:
        if not _integer(headers[path]):
            images += 1
            continue
        image = read.get(path)
        if image is None:
            if keep:
                continue  # not of the frames' shape or type: not read, not told
            image = _read(path)
            if path == others[0]:
                read[path] = image
        said = _piecewise_constant(np.asarray(image.data))
        if said is not None:
            labels += said
            images += not said
            if not keep:
                break  # lazily: the first frame that tells
    return images > labels


def _integer(header: tuple) -> bool:
    """Whether a file of ``header`` (:func:`_header`) holds integers without channels."""
    _shape, dtype, axes, _tagged = header
    return dtype.kind in "iu" and "C" not in axes


def _mask_like(image) -> bool:
    """Whether ``image`` (read) is integer without channels and holds 0 and one other value
    (0/1, 0/255, 0/65535): a mask."""
    data = np.asarray(image.data)
    if data.dtype.kind not in "iu" or "C" in image.axes or data.size == 0 or data.min() != 0:
        return False  # an intensity frame is mostly told here, by its one pass
    top = data.max()
    return bool(top > 0 and np.count_nonzero(data) == np.count_nonzero(data == top))


def _as_labels(layers: list[tuple]) -> list[tuple]:
    """``layers`` of masks, those opened as images (a 0/255 mask, as it opens alone) as
    labels."""
    return [
        (_labels_data(Path(kwargs["metadata"]["path"]), data), kwargs, "labels")
        if kind == "image"
        else (data, kwargs, kind)
        for data, kwargs, kind in layers
    ]


def _in_frame_order(files: list[Path]) -> list[Path]:
    """``files`` by frame number where the names say it, as :func:`frame_numbers` orders
    them (which is told only once the files are taken for a movie: it warns of the files it
    leaves out); else as given."""
    from tessella.engine.io._read import numbered_files

    numbered = numbered_files(files)
    return [path for _n, path in sorted(numbered, key=lambda n_path: n_path[0])] or files


def _marked_labels(path: Path, shape, dtype: np.dtype, axes: str, tagged: bool) -> bool:
    """Whether the TIFF ``path`` (of ``dtype`` and ``axes``, from its header) is labels by
    its name or folder (:func:`~tessella._io._named_like_labels`) or Tessella's tag, as the
    reader takes a single file: integer and without channels."""
    integer = dtype.kind in "iu" and "C" not in axes
    return integer and (tagged or _named_like_labels(path))


def _series_layers(
    folder: Path,
    files: list[Path],
    headers: dict,
    name: str,
    marked: bool,
    read: dict[Path, Any] | None = None,
) -> list[tuple]:
    """The layer ``name`` of the movie of ``files`` of ``folder`` (all labels by name or tag
    where ``marked``; their ``headers`` read; those already ``read``, taken from there), or
    a layer per file where they are no movie."""
    from tessella.engine.io._read import frame_numbers, movie_axes

    read = {} if read is None else read
    frames = _in_frame_order(files)
    numbered = frames is not files
    first = read.pop(frames[0], None)
    first = _read(frames[0]) if first is None else first
    if movie_axes(first.axes) is None:
        why = f"{frames[0].name} is {first.axes}, and T{first.axes} is no movie we read"
        return _each_file(folder, files, why)
    for path in frames:
        if path not in headers:
            headers[path] = _header(path)
    shapes = [headers[path][0] for path in frames]
    common, count = Counter(shapes).most_common(1)[0]
    if count == len(frames):
        dtype = np.result_type(*(headers[path][1] for path in frames))
        # the same frames, or a ValueError naming two of one number
        by_number = frame_numbers(folder, files)
        unnumbered = frames if not by_number else None
        return _movie_layers(folder, name, by_number, unnumbered, first, dtype, marked, read)
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


def _header(path: Path) -> tuple[tuple[int, ...], np.dtype, str, bool]:
    """The shape (without the axes of length 1 that reading drops), type and axes (``?`` for
    those tifffile does not know) of the TIFF ``path``, and whether Tessella tagged it as
    labels, from its header: the pixels are not read."""
    import tifffile

    from tessella.engine.io import LABELS_SOFTWARE
    from tessella.engine.io._tiff import _tiff_axes, _tiff_error

    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            axes, drop = _tiff_axes(series.axes, series.shape, strict=False)
            shape = tuple(n for i, n in enumerate(series.shape) if i not in drop)
            tagged = str(tif.pages[0].software or "").startswith(LABELS_SOFTWARE)
            return shape, np.dtype(series.dtype), axes, tagged
    except MemoryError:
        raise
    except Exception as exc:  # tifffile and its codecs raise many kinds
        raise ValueError(_tiff_error(path, exc)) from None


def _frame(
    path: Path, axes: str, shape: tuple[int, ...], dtype: np.dtype, read: dict | None = None
) -> np.ndarray:
    """The pixels of the frame ``path`` read as ``axes``, of ``shape``, as ``dtype`` (taken
    from ``read`` where it was read so)."""
    image = read.pop(path, None) if read else None
    if image is None or image.axes != axes:
        image = _read(path, axes)
    data = np.asarray(image.data)
    if data.shape != shape:  # the file changed since its header was read
        raise ValueError(f"{path}: shape {data.shape} differs from the other frames' {shape}")
    return data.astype(dtype, copy=False)


def _movie_layers(
    folder: Path,
    name: str,
    by_number: dict[int, Path],
    unnumbered: list[Path] | None,
    first,
    dtype: np.dtype,
    marked: bool,
    read: dict[Path, Any] | None = None,
) -> list[tuple]:
    """The layer ``name`` of the frames ``by_number`` (or, named without numbers,
    ``unnumbered``, in order; the first one read: ``first``, others maybe ``read``), stacked
    along a T axis in
    order; labels (``marked`` by name or tag, else by content: :func:`_labels_content`) of
    the Cell Tracking Challenge's layout at their frame numbers (:func:`_label_places`)."""
    from tessella.engine.io._read import say_missing_frames

    frames = unnumbered or list(by_number.values())
    shape = tuple(first.data.shape)
    labels = _labels_movie(first, frames, dtype, marked, read)
    places = _label_places(folder, by_number) if labels else None
    index, length = places or (list(range(len(frames))), len(frames))
    pixels = length * int(np.prod(shape, dtype=np.int64))
    if labels:
        in_memory = pixels < _lazy_labels_pixels()
    else:
        in_memory = pixels * dtype.itemsize <= lazy_image_bytes()
    data: Any
    if in_memory:
        data = np.zeros((length, *shape), dtype) if places else np.empty((length, *shape), dtype)
        data[index[0]] = first.data
        for t, path in zip(index[1:], frames[1:]):
            data[t] = _frame(path, first.axes, shape, dtype, read)
    else:
        import dask
        import dask.array as da

        load = dask.delayed(_frame, pure=True)
        stack = [da.zeros(shape, dtype=dtype, chunks=shape)] * length
        for t, path in zip(index, frames):
            stack[t] = da.from_delayed(load(path, first.axes, shape, dtype), shape, dtype=dtype)
        data = da.stack(stack)
    axes = "T" + first.axes
    sizes, unit = dict(first.pixel_size), first.unit
    # GOWT1's SEG, a CTC result's masks: no pixel size; their movie's, so that they overlay
    if labels and not sizes:
        sizes, unit = _movie_pixel_size(folder, first) or (sizes, unit)
    unit = "µm" if unit in _MICRON else unit
    metadata, kwargs = _placement(folder, name, axes, sizes, unit)
    if by_number:  # t's frame number, as the files name it: Export's CTC masks keep them
        numbers = list(by_number)
        if places is not None:  # at their numbers: from the first frame of their movie on
            base = numbers[0] - places[0][0]
            numbers = list(range(base, base + length))
        metadata[FRAME_NUMBERS_KEY] = numbers
    if _axes_guessed(frames[0], first.data.ndim):
        metadata[AXES_GUESSED_KEY] = True  # plain 3D frames: ZYX is a guess
    elif first.axes == "YX" and not _TIME_NAME.search(frames[0].name):
        # slice_000.tif ...: maybe the sections of a volume; Segment's Axes may take ZYX
        metadata[AXES_GUESSED_KEY] = True
    if labels and places is not None:
        _say_annotated(folder, frames, *places)
    else:
        say_missing_frames(folder, by_number)
    if labels:
        return [(_labels_data(folder, data), {**kwargs, "metadata": metadata}, "labels")]
    return _image_layers(data, axes, kwargs, metadata)


#: frames named as the times of a movie: ``t000.tif``, ``img_T01.tif``, ``frame_12.tif``,
#: ``time3.tif``, the Cell Tracking Challenge's ``man_seg000.tif``; not ``slice_000.tif``
_TIME_NAME = re.compile(
    r"(?:^|[^a-z])(?:t|tp|time|timepoint|frame)[-_ ]?[0-9]+[^0-9]*\.tiff?$"
    r"|man_(?:seg|track)[0-9]",
    re.I,
)


def _labels_movie(
    first, frames: list[Path], dtype: np.dtype, marked: bool, read: dict[Path, Any] | None = None
) -> bool:
    """Whether the movie of ``frames`` (the first one read: ``first``; of ``dtype``) is labels
    by the rule for a labels file: integer without channels, and ``marked`` as labels by name
    or tag, or, else, by its content (:func:`_labels_content`; frames already ``read`` are
    taken from there, and left there)."""
    integer = dtype.kind in "iu" and "C" not in first.axes
    shape = tuple(first.data.shape)
    return integer and (marked or _labels_content(first, frames, shape, dtype, read))


def _labels_content(
    first,
    frames: list[Path],
    shape: tuple[int, ...],
    dtype: np.dtype,
    read: dict[Path, Any] | None = None,
) -> bool:
    """Whether the integer movie of ``frames`` (the first one read: ``first``) is labels by
    its content: its first frame that is not all 0 (read until one is found, or taken from
    those already ``read``, which stay there for the movie) holds only 0 and 1 (binary masks,
    which as an image look black), or the frames that tell of it, its middle and last frames
    too (:func:`_labels_by_content`: instance labels of many ids, each one region, which no
    intensity image is), say labels, none saying image: one frame does not decide a movie
    (a smoothed movie's frame may look like labels), and where none tells, it is an image.
    The other frames are read only where the first one does not say image. Said in a warning;
    whether the movie is read into memory or lazily."""
    frame = np.asarray(first.data)
    cache = dict(read) if read else None  # _frame takes what it uses out of it
    at = 0
    if not frame.any():
        for at in range(1, len(frames)):
            frame = _frame(frames[at], first.axes, shape, dtype, cache)
            if frame.any():
                break
        else:
            return False
    if _binary(frame):
        return True
    said, values = _labels_by_content(frame)
    if said is False:
        return False
    told = [frames[at]] if said else []
    for i in sorted({(at + len(frames) - 1) // 2, len(frames) - 1} - {at}):
        if i < at:
            continue
        other, count = _labels_by_content(_frame(frames[i], first.axes, shape, dtype, cache))
        if other is False:
            return False
        if other:
            told.append(frames[i])
            values = max(values, count)
    if not told:
        return False
    _say_labels_by_content(frames[0].parent, values, "frames " + ", ".join(p.name for p in told))
    return True


def _label_places(folder: Path, by_number: dict[int, Path]) -> tuple[list[int], int] | None:
    """``(index, length)``: where the label frames ``by_number`` (ascending) go in a stack
    of ``length`` frames whose index is the frame number, so that they sit on the frames of
    their movie (CTC's ``SEG`` annotates some frames: ``man_seg002``, ``man_seg005``, ...),
    in the Cell Tracking Challenge's layout only, where a frame's number is its movie's t:
    numbers count from the first frame of the movie beside them (``01`` beside
    ``01_GT/SEG``), which also gives the length, else, named ``man_seg``/``man_track``, from
    0. None elsewhere (``masks/img1.tif``, ``img3.tif``: they stack in order, as the image
    frames they annotate do, so that a pair lines up) and where that is the order they stack
    in (no frame skipped, as long as the movie)."""
    from tessella.engine.io._read import missing_frames

    if not by_number:
        return None  # no numbers: the names' order
    numbers = list(by_number)
    beside = _movie_beside(folder)
    if beside is not None:
        base, length, _first = beside
    elif _CTC_NAME.match(by_number[numbers[0]].name) is not None:
        base, length = 0, 0
    else:
        return None
    base = min(base, numbers[0])
    index = [n - base for n in numbers]
    length = max(length, index[-1] + 1)
    if length == len(numbers) and not missing_frames(numbers):
        return None
    return index, length


def _movie_beside(folder: Path) -> tuple[int, int, Path] | None:
    """``(first frame number, frames, first frame)`` of the movie that the label frames
    ``folder`` annotate,
    where the Cell Tracking Challenge's layout names it (``01`` beside ``01_GT/SEG`` or
    ``01_GT/TRA``), else None."""
    from tessella.engine.io import list_images
    from tessella.engine.io._read import numbered_files

    parent = folder.parent
    if not parent.name.upper().endswith("_GT") or len(parent.name) <= 3:
        return None
    movie = parent.parent / parent.name[:-3]
    try:
        numbered = sorted(numbered_files(list_images(movie)), key=lambda n_path: n_path[0])
    except (OSError, ValueError):  # none there, or no TIFFs
        return None
    return (numbered[0][0], len(numbered), numbered[0][1]) if numbered else None


def _movie_of_result(folder: Path) -> Path | None:
    """The first frame of the movie whose result the label frames ``folder`` are, where the
    Cell Tracking Challenge's layout names it (``01`` beside the result ``01_RES``), else
    None."""
    from tessella.engine.io import list_images
    from tessella.engine.io._read import numbered_files

    if not folder.name.upper().endswith("_RES") or len(folder.name) <= 4:
        return None
    movie = folder.parent / folder.name[:-4]
    try:
        numbered = sorted(numbered_files(list_images(movie)), key=lambda n_path: n_path[0])
    except (OSError, ValueError):  # none there, or no TIFFs
        return None
    return numbered[0][1] if numbered else None


def _movie_pixel_size(folder: Path, first) -> tuple[dict[str, float], str] | None:
    """The pixel size and unit of the movie beside the label frames ``folder`` (the Cell
    Tracking Challenge's layout: ``01`` beside ``01_GT/SEG``, ``01_GT/TRA`` or the result
    ``01_RES``; its first frame, read), where it has one and its frames have the shape and
    axes of the label frame ``first``; else None."""
    beside = _movie_beside(folder)
    movie_frame = beside[2] if beside is not None else _movie_of_result(folder)
    if movie_frame is None:
        return None
    try:
        frame = _read(movie_frame)
    except (OSError, ValueError):
        return None
    if frame.axes != first.axes or tuple(frame.data.shape) != tuple(first.data.shape):
        return None
    return (dict(frame.pixel_size), frame.unit) if frame.pixel_size else None


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


#: the Cell Tracking Challenge's ground truth of single slices of 3D frames:
#: ``man_seg_TTT_ZZZ.tif`` (slice z ZZZ of frame TTT), and its whole frames ``man_segTTT.tif``
_CTC_SLICE = re.compile(r"^man_seg_?([0-9]+)_([0-9]+)\.tiff?$", re.I)
_CTC_VOLUME = re.compile(r"^man_seg_?([0-9]+)\.tiff?$", re.I)


def _ctc_slice_layers(folder: Path, files: list[Path]) -> list[tuple] | None:
    """The TZYX labels of the Cell Tracking Challenge's 3D ground truth that annotates single
    slices (``man_seg_TTT_ZZZ.tif``: YX, slice ZZZ of frame TTT), each at its (t, z), whole
    frames (``man_segTTT.tif``: ZYX) at their t, the rest empty (said in an
    :class:`AnnotatedFramesWarning`): as long as the movie beside them (``01`` beside
    ``01_GT/SEG``: its frames give T, Z and the pixel size, its Z spacing too) or, without
    it, frames 0 to the last annotated one and slices 0 to the last annotated one (or the
    whole frames' Z), said. In memory up to the lazy-labels limit, else lazily, one frame a
    chunk. None where ``files`` hold no such slices; other files are left out, said; a slice
    or frame that does not fit the movie is refused, naming it."""
    import warnings

    slices: dict[tuple[int, int], Path] = {}
    volumes: dict[int, Path] = {}
    for path in files:
        if (match := _CTC_SLICE.match(path.name)) is not None:
            slices[int(match[1]), int(match[2])] = path
        elif (match := _CTC_VOLUME.match(path.name)) is not None:
            volumes[int(match[1])] = path
    if not slices or 2 * (len(slices) + len(volumes)) <= len(files):
        return None
    headers = {path: _header(path) for path in [*slices.values(), *volumes.values()]}
    if not all(_integer(header) for header in headers.values()):
        return None  # no labels: the folder as any other
    dtype = np.result_type(*(header[1] for header in headers.values()))
    times = sorted({t for t, _z in slices} | set(volumes))
    beside = _movie_beside(folder)
    if beside is not None:
        base, length, movie_frame = beside
        frame = _read(movie_frame)
        if frame.axes != "ZYX":
            raise ValueError(
                f"{folder}: {slices[min(slices)].name} annotates a slice of a 3D frame, but "
                f"the movie's {movie_frame.name} is {frame.axes} (not ZYX)"
            )
        shape = tuple(frame.data.shape)
        sizes, unit = dict(frame.pixel_size), frame.unit
        base = min(base, times[0])
        source = f"T and Z as the movie {movie_frame.parent.name} beside it"
    else:
        first_slice = slices[min(slices)]
        base, length = 0, 0
        depth = max(z for _t, z in slices) + 1
        if len(headers[first_slice][0]) != 2:
            raise ValueError(f"{first_slice}: shape {headers[first_slice][0]} is no slice (YX)")
        ys, xs = headers[first_slice][0]
        for path in volumes.values():
            depth = max(depth, headers[path][0][0])
        shape = (depth, ys, xs)
        image = _read(first_slice)
        sizes = {k: v for k, v in image.pixel_size.items() if k in "YX"}
        unit = image.unit
        parent = folder.parent.name
        where = (
            f"no movie {parent[:-3]} beside {parent}"
            if parent.upper().endswith("_GT") and len(parent) > 3
            else "no movie beside it (01 beside 01_GT/SEG)"
        )
        source = f"{where}: T and Z as far as annotated, no Z spacing"
    length = max(length, times[-1] - base + 1)
    for (_t, z), path in slices.items():
        if headers[path][0] != shape[1:] or z >= shape[0]:
            raise ValueError(
                f"{path}: a slice of {headers[path][0]} at z={z} does not fit the frames of "
                f"{shape} (ZYX; {source})"
            )
    for path in volumes.values():
        if headers[path][0] != shape:
            raise ValueError(f"{path}: shape {headers[path][0]} differs from the frames' {shape}")
    by_t: dict[int, tuple[Path | None, list[tuple[int, Path]]]] = {}
    for t in times:
        by_t[t - base] = (volumes.get(t), sorted((z, p) for (u, z), p in slices.items() if u == t))
    pixels = length * int(np.prod(shape, dtype=np.int64))
    data: Any
    if pixels < _lazy_labels_pixels():
        data = np.zeros((length, *shape), dtype)
        for t, (volume, planes) in by_t.items():
            data[t] = _ctc_frame(volume, planes, shape, dtype)
    else:
        import dask
        import dask.array as da

        build = dask.delayed(_ctc_frame, pure=True)
        stack = [da.zeros(shape, dtype=dtype, chunks=shape)] * length
        for t, (volume, planes) in by_t.items():
            stack[t] = da.from_delayed(build(volume, planes, shape, dtype), shape, dtype=dtype)
        data = da.stack(stack)
    left_out = [path.name for path in files if path not in headers]
    if left_out:
        more = f" and {len(left_out) - 5} more" if len(left_out) > 5 else ""
        warnings.warn(
            f"{folder}: left out {', '.join(left_out[:5])}{more}: not named as its ground "
            f"truth is (like {slices[min(slices)].name})",
            UserWarning,
            stacklevel=3,
        )
    (t0, z0), (t1, z1) = min(slices), max(slices)
    whole = f" and {len(volumes)} whole frame{'s' if len(volumes) > 1 else ''}" if volumes else ""
    warnings.warn(
        f"'{folder.name}': {len(slices)} annotated slice{'s' if len(slices) > 1 else ''}"
        f"{whole} in {len(by_t)} of {length} frames of {shape[0]} slices "
        f"({slices[t0, z0].name} at t={t0 - base}, z={z0} ... {slices[t1, z1].name} at "
        f"t={t1 - base}, z={z1}, by their numbers; {source}); the rest is empty "
        f"({folder})",
        AnnotatedFramesWarning,
        stacklevel=3,
    )
    unit = "µm" if unit in _MICRON else unit
    metadata, kwargs = _placement(folder, folder.name, "TZYX", sizes, unit)
    return [(_labels_data(folder, data), {**kwargs, "metadata": metadata}, "labels")]


def _ctc_frame(
    volume: Path | None,
    planes: list[tuple[int, Path]],
    shape: tuple[int, ...],
    dtype: np.dtype,
) -> np.ndarray:
    """The labels of one frame of ``shape`` (ZYX): the whole frame ``volume`` (or empty),
    then each slice of ``planes`` (``(z, file)``) at its z."""
    frame = np.zeros(shape, dtype)
    if volume is not None:
        frame[...] = _frame(volume, "ZYX", shape, dtype)
    for z, path in planes:
        frame[z] = _frame(path, "YX", shape[1:], dtype)
    return frame


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


#: the Cell Tracking Challenge's track files: a result's and its ground truth's (``TRA``)
CTC_TRACK_FILES = ("res_track.txt", "man_track.txt")


def _ctc_track_file(folder: Path) -> Path | None:
    """The CTC track file of ``folder`` (``res_track.txt`` of a result, ``man_track.txt`` of
    its ground truth's ``TRA``), any case; None where it has none."""
    try:
        found = {child.name.lower(): child for child in folder.iterdir() if child.is_file()}
    except OSError:
        return None
    return next((found[name] for name in CTC_TRACK_FILES if name in found), None)


def _with_ctc_tracks(folder: Path, layers: list[tuple]) -> list[tuple]:
    """``layers`` of ``folder``; where it holds a CTC track file (:func:`_ctc_track_file`)
    beside label frames that open as one movie (a result ``01_RES``'s ``maskTTT.tif``, its
    ground truth's ``TRA/man_trackTTT.tif``), that movie's divisions as a Segment run of a
    time-lapse model records them: in the labels' recorded state (``lineage``, which Export
    writes back to ``res_track.txt`` and Correct renames) and in a Tracks layer beside
    them (one track per label, at its objects' centroids, divisions as graph edges), which
    the widgets take as the labels' own (:data:`~tessella._io.COMPANIONS_KEY`). The file's
    begin and end frames are frame numbers, as the masks' names are (``mask052.tif``: 52).
    What of the file does not fit the masks (a label it lacks, a track in no mask, other
    begin or end frames, a division whose mother does not end before her daughter begins)
    is said in a warning naming the file, and the rest is kept
    (:func:`~tessella.engine.tracking.fit_ctc_tracks`); a file that cannot be read is said,
    and the labels open without divisions. Labels opened lazily are not read whole to open
    them: their divisions are kept with them unchecked against the masks, and no Tracks
    layer is drawn (:func:`_unchecked_lineage`)."""
    import warnings

    from tessella.engine.tracking import fit_ctc_tracks, frame_track_rows, read_ctc_tracks

    track_file = _ctc_track_file(folder)
    if track_file is None:
        return layers
    at = [
        i
        for i, (_data, kwargs, kind) in enumerate(layers)
        if kind == "labels"
        and kwargs.get("metadata", {}).get("path") == str(folder)
        and str(kwargs.get("metadata", {}).get("axes", "")).startswith("T")
    ]
    if len(at) != 1:
        return layers  # (no movie of label frames: one frame, or images)
    data, kwargs, _kind = layers[at[0]]
    try:
        table = read_ctc_tracks(track_file)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        warnings.warn(
            f"{track_file}: not read ({exc}); '{kwargs['name']}' opens without its tracks' "
            "divisions",
            UserWarning,
            stacklevel=3,
        )
        return layers
    metadata = dict(kwargs["metadata"])
    metadata.pop(AXES_GUESSED_KEY, None)  # (``mask052.tif``: the track file says frames)
    if not isinstance(data, np.ndarray):  # opened lazily: not read whole to open it
        layers[at[0]] = (
            data,
            {**kwargs, "metadata": _unchecked_lineage(track_file, table, metadata, kwargs["name"])},
            "labels",
        )
        return layers
    numbers = metadata.get(FRAME_NUMBERS_KEY) or list(range(data.shape[0]))
    rows = []
    spans: dict[int, tuple[int, int]] = {}
    for t in range(data.shape[0]):  # (lazy labels: a frame at a time)
        frame_rows = frame_track_rows(np.asarray(data[t]), t)
        rows.append(frame_rows)
        for label in frame_rows[:, 0].astype(int).tolist():
            first = spans.get(label, (numbers[t], 0))[0]
            spans[label] = (first, numbers[t])
    lineage, problems = fit_ctc_tracks(table, spans)
    if problems:
        kept = sum(1 for k in table if k.id in spans)
        warnings.warn(
            f"{track_file}: does not fit the masks beside it: {'; '.join(problems)}; "
            f"the other tracks of its {kept} in the masks, and {len(lineage)} "
            f"division{'s' if len(lineage) != 1 else ''}, are kept",
            UserWarning,
            stacklevel=3,
        )
    from tessella._widgets._labels_states import STATES_KEY, _fingerprint

    from ._io_tracks import add_tracks_layer

    fingerprint = _fingerprint(data)
    if fingerprint is not None:  # (Export writes them back, after an undo to them too)
        state = {"fingerprint": fingerprint, "recipe": {}, "lineage": lineage, "edited": False}
        metadata[STATES_KEY] = [state]
    add_tracks_layer(layers, at[0], metadata, np.concatenate(rows), lineage, str(track_file))
    return layers


#: labels metadata of a CTC folder opened lazily: why its track file's divisions were not
#: checked against its masks, and no Tracks layer drawn (:func:`_unchecked_lineage`)
CTC_UNCHECKED_KEY = "ctc_tracks_unchecked"


def _unchecked_lineage(track_file: Path, table: list, metadata: dict, name: str) -> dict:
    """``metadata`` of the labels ``name`` of a CTC folder opened lazily (over the reader's
    lazy-labels limit), with the divisions of its track file's rows ``table`` kept with the
    labels (:data:`~tessella._widgets._tracks_layer.LINEAGE_KEY`, which Correct and Export
    read where no Tracks layer is beside them): checked against the file itself only (a
    mother ending before her daughter begins, by the file's begin and end frames), not
    against the masks, and no Tracks layer drawn, as both would read every frame (a TIFF's
    labels are known only once the frame is decoded). Said in a warning and in
    :data:`CTC_UNCHECKED_KEY`."""
    import warnings

    from tessella._widgets._tracks_layer import LINEAGE_KEY
    from tessella.engine.tracking import fit_ctc_tracks

    lineage, problems = fit_ctc_tracks(table, {k.id: (k.start, k.end) for k in table})
    # (the file's own begin and end frames stand for the masks': said as the file's)
    problems = [
        p.replace("in no mask", "no track of the file").replace(" in the masks", " in the file")
        for p in problems
    ]
    n = len(lineage)
    why = (
        f"{track_file.name} was not checked against the masks, and no Tracks layer is drawn: "
        "the labels are opened lazily, and both would read every frame"
    )
    dropped = f"; {'; '.join(problems)}" if problems else ""
    divisions = f"{n} division{'s are' if n != 1 else ' is'}"
    warnings.warn(
        f"'{name}': {why}. The file's {divisions} kept with the labels (Export writes "
        f"{'them' if n != 1 else 'it'} back){dropped}",
        UserWarning,
        stacklevel=4,
    )
    return {**metadata, LINEAGE_KEY: lineage, CTC_UNCHECKED_KEY: why}

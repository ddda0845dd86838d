"""napari reader and writers: TIFF and zarr with axes and pixel size. No Qt here.

The reader opens what :func:`tessella.engine.io.read_image` reads (TIFF with ImageJ/OME
metadata, zarr arrays and OME-Zarr, and a folder of TIFF frames as one movie:
:mod:`tessella._io_folder`) as layers scaled by the pixel size, with the axes in the
layer's ``metadata["axes"]`` for the Segment widget (with ``metadata["axes_guessed"]`` when the
file names none and they are only a guess from the shape). Labels that Segment made (a
blockwise zarr, or a file with its ``.recipe.json`` beside it) carry their recipe, as the
layers Segment adds do, so Export writes it; a recipe that does not reproduce them is said on
open (:class:`LabelsChangedWarning`). Labels are read into memory, so that Correct can edit
them, unless a zarr holds :data:`LAZY_LABELS_PIXELS` or more: those open lazily, which is
said (:class:`LazyLabelsWarning`), 2D ones of more than :data:`PYRAMID_PIXELS` as a
multiscale layer (as big images, :func:`_pyramid`), and their recipe is checked reading them
piece by piece. A mask stack (``segment --stack``'s, Export's) opens as
its objects' labels and their overlaps layer. The writers save a labels layer with its scale
as pixel size, so Fiji and the reader see the same physical size.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._io_axes import _AXIS_NAMES as _AXIS_NAMES
from ._io_axes import (
    _MICRON,
    _NO_UNIT,
    AXES_GUESSED_KEY,
    labels_axes,
    layer_pixel_size,
    pixel_size_of,
)
from ._io_axes import _unit_text as _unit_text
from ._io_axes import named_axes as named_axes
from ._io_axes import recorded_axes as recorded_axes
from ._io_content import ContentLabelsWarning, _labels_by_content, _say_labels_by_content
from ._io_recipe import DIGEST_DAMAGED_NOTE as DIGEST_DAMAGED_NOTE
from ._io_recipe import EXPORT_ONLY_KEYS as EXPORT_ONLY_KEYS
from ._io_recipe import LABELS_CHANGED_NOTE as LABELS_CHANGED_NOTE
from ._io_recipe import RECIPE_KEY as RECIPE_KEY
from ._io_recipe import STACK_DIGEST_KEY as STACK_DIGEST_KEY
from ._io_recipe import ZARR_RECIPE_ATTR as ZARR_RECIPE_ATTR
from ._io_recipe import (
    LabelsChangedWarning,
    _exported_stack,
    _made_beside_labels,
    _recipe_beside,
    _with_recipe,
)
from ._io_recipe import NewerRecipeWarning as NewerRecipeWarning
from ._io_recipe import UnclearRecipeWarning as UnclearRecipeWarning
from ._io_recipe import _is_digest as _is_digest
from ._io_recipe import _recipe_place as _recipe_place
from ._io_recipe import _say_not_reproduced as _say_not_reproduced
from ._io_recipe import recipe_lineage as recipe_lineage

__all__ = [
    "AXES_GUESSED_KEY",
    "COMPANIONS_KEY",
    "COMPANION_OF_KEY",
    "LAZY_LABELS_PIXELS",
    "PYRAMID_PIXELS",
    "STORED_AXES_KEY",
    "ChunksWarning",
    "LabelsChangedWarning",
    "LazyLabelsWarning",
    "MaybeLabelsWarning",
    "axes_named",
    "get_reader",
    "read_layers",
    "write_labels_tiff",
    "write_labels_zarr",
    "labels_axes",
    "pixel_size_of",
]

# an integer TIFF named like labels opens as labels: "nuclei_labels", "LabelImage",
# "labelmap", "cellmask", "mask000", "labelled", ground truth ("gt_cc", "mito_gt", "GT01",
# "ground-truth"), the Cell Tracking Challenge's ground truth ("man_seg000", "man_track000");
# not "Masked_image", "masking", "unlabelled", "labeling", "label-free", nor "gt" inside a
# word ("length", "weight")
_LABELS_NAME = re.compile(
    r"(?<!un)(?:labell?ed|label(?!ing|[-_ ]?free)|mask(?!ed|ing))"
    r"|(?<![a-z])gt(?![a-z])|ground[-_ ]?truth|man_(?:seg|track)[0-9]",
    re.I,
)
# ... and so does an integer file in a folder of such files (DSB2018's "masks/<id>.tif")
_LABELS_FOLDERS = {"mask", "masks", "label", "labels", "gt", "ground_truth", "groundtruth"}
#: labels layer metadata ``{kind: token}``, and the ``token`` in the metadata of the layer the
#: reader opened beside them (``COMPANION_OF_KEY``: a mask stack's "overlaps"): napari adds
#: the two, and the widgets take that layer as the labels' companion
COMPANIONS_KEY = "tessella_companions"
#: the labels metadata key of the mask stack they were read from (a
#: :class:`~tessella.engine.io.MaskCrops`), which Export and Evaluate take as their objects
READ_STACK_KEY = "tessella_read_stack"
COMPANION_OF_KEY = "tessella_companion_of"
#: layer metadata: the axes as the file read stores them (``read_image``'s ``stored_axes``),
#: which Export's recipe records as ``tessella segment``'s does, so ``--recipe`` reads the file
#: again with them
STORED_AXES_KEY = "stored_axes"
#: labels on disk (zarr) with this many pixels or more, all axes together, open lazily: read
#: whole, they would take twice their size at the peak (4.4 GB for 2 GiB of labels) and can
#: exceed the memory (a blockwise result); the size from which Segment defaults to blockwise
#: (``_widgets._blockwise.LARGE_PIXELS``). The environment variable
#: ``TESSELLA_LAZY_LABELS_PIXELS`` sets another (0: every labels zarr lazily; a larger number:
#: larger ones into memory, for Correct)
LAZY_LABELS_PIXELS = 8192 * 8192
LAZY_LABELS_ENV = "TESSELLA_LAZY_LABELS_PIXELS"
#: a lazily read image (zarr, OME-Zarr) whose YX plane holds more pixels than this (16.8
#: million: 4096x4096) opens as a multiscale (pyramid) layer: napari then reads only what it
#: shows, at the resolution the screen needs, where it reads a plane of a single-scale layer
#: whole (a 20000x20000 uint16 mosaic: 9 s and 1.9 GB to open; more than the memory for a
#: larger one). Level 0 is the file's array, which Segment, Evaluate, Tune and Export use;
#: the lower levels are an OME-Zarr image's own, else made on the fly
#: (:func:`_computed_levels`). The environment variable ``TESSELLA_PYRAMID_PIXELS`` sets
#: another (0: every such image as a pyramid). Labels opened lazily (more than
#: :data:`LAZY_LABELS_PIXELS`), 2D, open so as well, with an OME-Zarr's own levels of their
#: data type, else every 2nd, 4th, ... pixel (label IDs exact), as Segment shows a big
#: blockwise result; labels read into memory stay one level, so that Correct can edit them.
#: Only a 2D image (YX, or RGB/RGBA YXC) opens so
PYRAMID_PIXELS = 4096 * 4096
PYRAMID_ENV = "TESSELLA_PYRAMID_PIXELS"
#: a computed pyramid halves the image until its longer side is at most this many pixels
PYRAMID_SMALLEST = 1024
#: a computed pyramid keeps in memory its finest level from 1/4 on (every 4th pixel of every
#: 4th row) that takes at most this many bytes, filled as napari first shows each part of it
#: (the first full view reads the file once, a chunk at a time): zooming out and panning
#: then read nothing more. The finer levels (1/2, and 1/4 of an image above 4 GiB) read
#: the file's chunks under what napari shows, each time
PYRAMID_KEPT_BYTES = 256 * 2**20
#: the pieces in which a computed level reads the file: whole chunks, at least this many
#: pixels along Y and along X
PYRAMID_TILE = 2048

PathOrPaths = str | os.PathLike | Sequence[str | os.PathLike]


# --- reading --------------------------------------------------------------------------------


def get_reader(path: PathOrPaths):
    """The reader for a ``.tif``/``.tiff`` file, a zarr folder or a folder holding TIFF files
    (:func:`~tessella._io_folder.folder_layers`), else None: napari then offers the path to
    its other readers."""
    from tessella.engine.io import TIFF_SUFFIXES, is_zarr_path

    from ._io_folder import holds_tiffs

    if not isinstance(path, (str, os.PathLike)):
        return None  # a list of files: napari offers them one by one or to another reader
    path = Path(path)
    if path.suffix.lower() in TIFF_SUFFIXES or is_zarr_path(path) or holds_tiffs(path):
        return read_layers
    return None


def read_layers(path: PathOrPaths) -> list[tuple]:
    """Layer data tuples for one file or folder (or several); raises ValueError naming a bad
    file. Time-lapse labels whose divisions were read with them (the recipe beside a linked
    movie's file, a CTC folder's track file) get their Tracks layer beside them
    (:func:`~tessella._io_tracks.with_recorded_tracks`; a folder's have theirs already)."""
    from ._io_tracks import with_recorded_tracks

    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    layers: list[tuple] = []
    for one in paths:
        for layer in _layers_of(Path(one)):
            # (labels only: an image split by channel has a list of metadata, one a channel)
            layers += with_recorded_tracks([layer]) if layer[2] == "labels" else [layer]
    return layers


def _layer_name(path: Path) -> str:
    name = path.name
    for suffix in (".ome.tiff", ".ome.tif", ".ome.zarr", ".tiff", ".tif", ".zarr"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or name
    return name


def _valid_unit(unit: str) -> bool:
    """Whether napari (pint) understands ``unit``."""
    import pint

    try:
        pint.get_application_registry().Unit(unit)
    except Exception:
        return False
    return True


def axes_named(metadata: dict) -> bool:
    """Whether a layer's ``metadata["axes"]`` are axes its file named (not the reader's guess
    from the shape, nor absent)."""
    return isinstance(metadata.get("axes"), str) and not metadata.get(AXES_GUESSED_KEY)


def _axes_guessed(path: Path, ndim: int) -> bool:
    """Whether :func:`~tessella.engine.io.read_image` guessed the axes of ``path`` from its
    shape: a TIFF whose axes tifffile does not know (``Q``: a stack written without axes,
    ``I``: a plain multi-page file; 3 or 4 planes that tifffile tagged planar RGB), a zarr
    array without ``tessella_axes``. ImageJ, OME and tifffile's shaped metadata with axes, and
    OME-Zarr, name them; so does a 2D TIFF (YX) or a colour one (its samples)."""
    from tessella.engine.io import is_zarr_path

    try:
        if is_zarr_path(path):
            import zarr

            node = zarr.open(str(path), mode="r")
            return not isinstance(node, zarr.Group) and "tessella_axes" not in node.attrs
        import tifffile

        from tessella.engine.io._tiff import tifffile_planar_rgb

        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            kept = [a for a, n in zip(series.axes, series.shape) if n != 1 or a in "YX"]
            drop = [
                i
                for i, (a, n) in enumerate(zip(series.axes, series.shape))
                if n == 1 and a not in "YX"
            ]
            planar = tifffile_planar_rgb(tif, series, drop)
    except Exception:  # read_image has read it: no reason to fail, but a guess is a guess
        return True
    # (tifffile's planar RGB of 3 or 4 planes: read as a stack, ZYX, a guess too)
    return len(kept) != ndim or planar or any(letter in "QI" for letter in kept)


def _layers_of(path: Path) -> list[tuple]:
    from tessella.engine.io import is_zarr_path, read_image

    if path.is_dir() and not is_zarr_path(path):
        from ._io_folder import folder_layers

        return folder_layers(path)
    from tessella.engine.input_record import READ_KEY, file_as_read

    # the file's size and time as read (taken before: a file written while read differs),
    # for the input_identity of Export's recipe (hashed then only if they are still its)
    as_read = file_as_read(path)
    try:
        image = read_image(path)
    except ValueError:
        raise  # read_image names the file
    except Exception as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from exc
    data, axes = image.data, image.axes
    sizes, unit = dict(image.pixel_size), image.unit
    attrs = getattr(data, "attrs", None)  # a zarr array written by tessella keeps its pixel size
    if not sizes and attrs is not None and isinstance(attrs.get("pixel_size"), dict):
        sizes = {str(k).upper(): float(v) for k, v in attrs["pixel_size"].items()}
        unit = str(attrs.get("unit", unit)) if sizes else unit
    unit = "µm" if unit in _MICRON else unit

    metadata, kwargs = _placement(path, _layer_name(path), axes, sizes, unit)
    if as_read is not None:
        metadata[READ_KEY] = as_read
    if image.stored_axes:  # (what Export's recipe records, as ``tessella segment``'s does)
        metadata[STORED_AXES_KEY] = image.stored_axes
    if _axes_guessed(path, data.ndim):
        metadata[AXES_GUESSED_KEY] = True  # Segment reads a stack as frames for a movie model
    if data.dtype.kind in "iu" and "C" not in axes:
        # a recipe written beside labels says they are labels, though the file lost our tag
        # (re-saved by Fiji or a script) and its name says nothing ("out/cells.tif")
        found = _recipe_beside(path)
        stack = _mask_stack_layers(path, data, kwargs, metadata, found)
        if stack is not None:
            return stack
        named = _named_like_labels(path)
        marked = image.labels or named or _made_beside_labels(found, path)
        if marked or _binary(data) or _piecewise(path, data):
            labels = _labels_data(path, data)
            # labels, whatever the recipe wrote (a one-object --stack output reads back 2D):
            # without ``stack``, a recipe exported from them replays as labels
            if found is not None and "stack" in found:
                found = {k: v for k, v in found.items() if k != "stack"}
            metadata = _with_recipe(metadata, path, labels, found)
            levels = None if isinstance(labels, np.ndarray) else _pyramid(image, axes, exact=True)
            if levels is not None:  # (big 2D labels on disk: as Segment shows its result)
                return [(levels, {**kwargs, "multiscale": True, "metadata": metadata}, "labels")]
            return [(labels, {**kwargs, "metadata": metadata}, "labels")]
    if "C" not in axes and _like_earlier_labels(data):
        _say_maybe_labels(path, data)
    _say_thin_chunks(path, data, axes)
    levels = _pyramid(image, axes)
    if levels is not None:
        return _image_layers(levels, axes, {**kwargs, "multiscale": True}, metadata)
    return _image_layers(data, axes, kwargs, metadata)


def _placement(
    path: Path, name: str, axes: str, sizes: dict[str, float], unit: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(metadata, kwargs)`` of a layer read from ``path`` of ``axes`` (colour included),
    named ``name``: its axes, pixel size and path in the metadata, its scale, slider names
    and units."""
    layer_axes = axes.replace("C", "")
    metadata: dict[str, Any] = {"axes": layer_axes, "path": str(path)}
    if sizes:
        metadata.update(pixel_size=sizes, unit=unit)
    kwargs: dict[str, Any] = {
        "name": name,
        "scale": tuple(sizes.get(axis, 1.0) for axis in layer_axes),
        "axis_labels": tuple(axis.lower() for axis in layer_axes),
    }
    if sizes and unit not in _NO_UNIT and _valid_unit(unit):
        kwargs["units"] = tuple(unit if axis in sizes else "pixel" for axis in layer_axes)
    return metadata, kwargs


def _named_like_labels(path: Path) -> bool:
    """Whether the file ``path`` is named like labels, or lies in a folder named so."""
    folder = path.parent.name.lower().replace("-", "_").replace(" ", "_")
    return _LABELS_NAME.search(path.name) is not None or folder in _LABELS_FOLDERS


def _image_layers(data, axes: str, kwargs: dict, metadata: dict) -> list[tuple]:
    """The image layers of ``data`` of ``axes`` (or of the levels of a pyramid, a list, as
    :func:`_pyramid` gives them): one, colour (RGB/RGBA, YXC) kept in it, or one per
    channel."""
    if "C" not in axes:
        return [(data, {**kwargs, "metadata": metadata}, "image")]
    name = kwargs["name"]
    full = data[0] if isinstance(data, list) else data  # (a pyramid: its level 0)
    channels = full.shape[axes.index("C")]
    if axes.endswith("C") and channels in (3, 4):
        # the layer keeps the colour axis, so its axes do too (as the Segment widget expects)
        return [(data, {**kwargs, "metadata": {**metadata, "axes": axes}, "rgb": True}, "image")]
    # napari splits the channels into layers; per-layer values go as one entry per channel
    split = {key: [value] * channels for key, value in kwargs.items() if key != "name"}
    split["name"] = [f"{name} c{c}" for c in range(channels)]
    split["metadata"] = [dict(metadata, channel=c) for c in range(channels)]
    return [(data, {**split, "channel_axis": axes.index("C")}, "image")]


def _pyramid_pixels() -> int:
    """:data:`PYRAMID_PIXELS`, or the number of pixels the environment variable
    :data:`PYRAMID_ENV` gives (written with thousands separators or not; anything else is
    said in a warning naming the variable, and the default holds)."""
    return _whole_number_env(
        PYRAMID_ENV,
        PYRAMID_PIXELS,
        "pixels",
        "16,777,216",
        "every zarr image",
        "zarr images",
        lazily="as a multiscale (pyramid) layer",
    )


def _pyramid(image, axes: str, exact: bool = False) -> list | None:
    """The levels of a multiscale layer for the image ``image`` (an
    :class:`~tessella.engine.io.ImageData` of ``axes``) that is read lazily (not numpy: a
    zarr array) and 2D (YX, or colour YXC of 3 or 4 samples) with more than
    :func:`_pyramid_pixels` pixels: level 0 its data, then an OME-Zarr image's stored levels
    where it has some, else :func:`_computed_levels`. None for any other image. ``exact``
    (labels, opened lazily: :func:`_labels_data`): stored levels are taken only where they
    have level 0's data type (labels downsampled to floats are no labels); else the computed
    ones, whose pixels are the file's, so that label IDs stay exact."""
    data = image.data
    if isinstance(data, np.ndarray) or axes not in ("YX", "YXC"):
        return None
    if axes == "YXC" and data.shape[-1] not in (3, 4):
        return None  # (napari splits its channels into layers)
    iy, ix = axes.index("Y"), axes.index("X")
    if int(data.shape[iy]) * int(data.shape[ix]) <= _pyramid_pixels():
        return None
    from tessella.engine.io._zarr import ome_levels

    stored = _fitting_levels(data, ome_levels(image), (iy, ix))
    if exact and any(np.dtype(level.dtype) != np.dtype(data.dtype) for level in stored):
        stored = []
    return [data, *(stored or _computed_levels(data, iy, ix))]


def _fitting_levels(data, levels: list, plane: tuple[int, int]) -> list:
    """The ``levels`` (an OME-Zarr image's, after its first) that napari can show over
    ``data`` as a pyramid: each smaller than the one before along Y or X, and no larger
    along either, its other axes (colour) as ``data``'s; the first that is not ends them."""
    fitting: list = []
    before = tuple(int(n) for n in data.shape)
    for level in levels:
        shape = tuple(int(n) for n in level.shape)
        same = len(shape) == len(before) and all(
            shape[i] == before[i] for i in range(len(shape)) if i not in plane
        )
        if not same or any(shape[i] > before[i] for i in plane) or shape == before:
            break
        fitting.append(level)
        before = shape
    return fitting


def _computed_levels(data, iy: int, ix: int) -> list:
    """The levels below ``data`` (a zarr array, or a dask one) of a pyramid that halves Y
    and X (axes ``iy``, ``ix``) until the longer side is at most :data:`PYRAMID_SMALLEST`:
    every 2nd, 4th, ... pixel of every 2nd, 4th, ... row, so that each level's pixels are
    the file's (no new values; labels would stay labels), read lazily (dask) in pieces of
    whole chunks (:func:`_strided_level`). The finest level from 1/4 on that fits
    :data:`PYRAMID_KEPT_BYTES` keeps each piece once read; the coarser levels are taken
    from it, so that the view zoomed out (napari's first) reads the file once, and never
    again. The finer ones read the chunks under what napari shows, each time: a few
    chunks, napari showing them only zoomed in."""
    height, width = int(data.shape[iy]), int(data.shape[ix])
    factors = [2]
    while -(-max(height, width) // factors[-1]) > PYRAMID_SMALLEST:
        factors.append(factors[-1] * 2)
    nbytes = int(np.prod(data.shape, dtype=np.int64)) * np.dtype(data.dtype).itemsize
    kept = next(
        (f for f in factors if f >= 4 and nbytes // (f * f) <= PYRAMID_KEPT_BYTES),
        factors[-1],
    )
    levels: list = []
    for factor in factors:
        if factor <= kept:
            levels.append(_strided_level(data, iy, ix, factor, keep=factor == kept))
        else:
            step = factor // kept
            index = [slice(None)] * data.ndim
            index[iy] = index[ix] = slice(None, None, step)
            levels.append(levels[factors.index(kept)][tuple(index)])
    return levels


def _chunk_sizes(data) -> tuple[int, ...] | None:
    """The chunk shape of a zarr or dask array (a dask array's largest chunk per axis);
    None for an array with none."""
    chunks = getattr(data, "chunks", None)
    if not isinstance(chunks, tuple) or len(chunks) != data.ndim:
        return None
    try:
        return tuple(max(c) if isinstance(c, tuple) else int(c) for c in chunks)
    except (TypeError, ValueError):
        return None


def _strided_level(data, iy: int, ix: int, factor: int, keep: bool):
    """Every ``factor``-th pixel of every ``factor``-th row of ``data`` (axes ``iy``,
    ``ix``), a dask array read in pieces of whole chunks of ``data``, at least
    :data:`PYRAMID_TILE` pixels along each; ``keep``: each piece kept once read."""
    import uuid

    import dask.array as da

    chunks = _chunk_sizes(data) or tuple(int(n) for n in data.shape)
    shape = list(int(n) for n in data.shape)
    pieces = [(n,) for n in shape]  # (other axes: whole)
    for axis in (iy, ix):
        chunk = max(1, chunks[axis])
        tile = -(-max(chunk, PYRAMID_TILE) // chunk) * chunk  # whole chunks
        shape[axis] = -(-shape[axis] // factor)
        pieces[axis] = max(1, tile // factor)  # type: ignore[call-overload]
    reader = _StridedReader(data, (iy, ix), factor, tuple(shape), {} if keep else None)
    return da.from_array(
        reader,
        chunks=tuple(pieces),
        name=f"tessella-level-{factor}-{uuid.uuid4().hex}",
        asarray=True,
        lock=False,
        fancy=False,
        meta=np.empty((0,) * data.ndim, dtype=data.dtype),
    )


class _StridedReader:
    """Every ``factor``-th pixel along the ``plane`` axes of ``source``, as an array that dask
    reads piece by piece (:func:`_strided_level`): a piece ``[a:b]`` is ``source``'s
    ``[a * factor : b * factor : factor]``, read from it (a zarr array reads only the chunks
    that hold those rows); ``kept``: a dict in which each piece read is kept, by its place."""

    def __init__(self, source, plane: tuple[int, int], factor: int, shape, kept: dict | None):
        self.source, self.plane, self.factor, self.kept = source, plane, factor, kept
        self.shape, self.dtype, self.ndim = tuple(shape), np.dtype(source.dtype), len(shape)

    def __getitem__(self, key) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        bounds = tuple(
            k.indices(n)[:2] if isinstance(k, slice) else (k, k + 1)
            for k, n in zip(key, self.shape)
        )
        if self.kept is not None and bounds in self.kept:
            return self.kept[bounds]
        index: list = []
        for axis, (start, stop) in enumerate(bounds):
            if axis in self.plane:
                start, stop = start * self.factor, max(start, stop) * self.factor
            index.append(slice(start, stop, self.factor if axis in self.plane else None))
        piece = np.asarray(self.source[tuple(index)])
        at = tuple(i for i, k in enumerate(key) if not isinstance(k, slice))
        piece = piece.reshape([n for i, n in enumerate(piece.shape) if i not in at])
        if self.kept is not None:
            self.kept[bounds] = piece
        return piece


class ChunksWarning(UserWarning):
    """A zarr image stored in chunks much thinner than a block along an axis (one row of
    pixels each): slow to show and to segment; napari shows it as a notification with the
    ``tessella convert`` command that rechunks it."""


def _say_thin_chunks(path: Path, data, axes: str) -> None:
    """Say, with the ``tessella convert`` command that rechunks it, that the zarr ``data``
    read from ``path`` (of ``axes``) is stored in chunks far thinner than a default block
    along a spatial axis (:func:`~tessella.engine.io._zarr.thin_chunk_axes`)."""
    chunks = None if isinstance(data, np.ndarray) else _chunk_sizes(data)
    spatial = [a for a in axes if a in "ZYX"]
    if chunks is None or not spatial:
        return
    from tessella.engine.blockwise._driver import default_block
    from tessella.engine.commands import convert_command
    from tessella.engine.io._zarr import thin_chunk_axes

    block = default_block(len(spatial))
    sizes = {a: (c, int(n)) for a, c, n in zip(axes, chunks, data.shape)}
    nbytes = int(np.prod(chunks)) * np.dtype(data.dtype).itemsize
    thin = thin_chunk_axes({a: sizes[a] for a in spatial}, {a: block for a in spatial}, nbytes)
    if not thin:
        return
    stem = _layer_name(path)
    rechunked = path.with_name(f"{stem}_rechunked.zarr")
    shown = "x".join(str(c) for c in chunks)
    warnings.warn(
        f"{path}: stored in chunks of {shown} pixels ({axes}), thin along {', '.join(thin)}: "
        "napari and Segment read many small chunks to show or segment any part of it, which "
        f"is slow; rechunk it once: {convert_command(path, rechunked)}",
        ChunksWarning,
        stacklevel=3,
    )


class MaybeLabelsWarning(UserWarning):
    """A zarr opened as an image that may hold labels saved by an earlier Tessella (which did
    not mark them): napari shows it as a notification naming the file and how to open it as
    labels."""


# the attributes, and only those, with which Tessella's labels zarr writer (napari's Save labels
# as zarr, Export, segment -o x.zarr) wrote labels before it marked them (tessella_labels)
_EARLIER_LABELS_ATTRS = {"tessella_axes", "pixel_size", "unit"}


def _like_earlier_labels(data) -> bool:
    """Whether ``data``, opened as an image, is a zarr array as Tessella's labels writer wrote
    labels before it marked them: uint16 or uint32 (the writer's only types) with exactly the
    attributes :data:`_EARLIER_LABELS_ATTRS`. A uint16 image given them as input metadata looks
    the same (hence a message, not labels); ``tessella_labels: false`` says it is an image."""
    attrs = getattr(data, "attrs", None)
    if attrs is None or np.dtype(data.dtype) not in (np.dtype("uint16"), np.dtype("uint32")):
        return False
    try:
        return set(dict(attrs)) == _EARLIER_LABELS_ATTRS
    except Exception:  # attributes that cannot be read are no sign of anything
        return False


def _say_maybe_labels(path: Path, data) -> None:
    """Say that the zarr at ``path`` opened as an image, and how to open it as labels."""
    warnings.warn(
        f"{path}: opened as an image, but it may hold labels saved by an earlier version of "
        f"Tessella (a {np.dtype(data.dtype)} zarr with only the attributes tessella_axes, "
        "pixel_size and unit, as napari's Save labels as zarr, Export without its recipe and "
        "segment -o wrote labels; labels are now marked tessella_labels). If they are labels, "
        "mark the file once and open it again: in Python, "
        f"zarr.open_array(r'{path}', mode='r+').attrs['tessella_labels'] = True (or, for "
        "now, right-click the layer > Convert to Labels). If it is an image, set that "
        "attribute to False and this message goes.",
        MaybeLabelsWarning,
        stacklevel=3,
    )


class LazyLabelsWarning(UserWarning):
    """Labels opened lazily (read from disk as napari shows them), having
    :data:`LAZY_LABELS_PIXELS` pixels or more; napari shows it as a notification."""


def _lazy_labels_pixels() -> int:
    """:data:`LAZY_LABELS_PIXELS`, or the number the environment variable
    :data:`LAZY_LABELS_ENV` gives: a whole number of pixels, written as the lazy-labels message
    prints it or not ("67,108,865", "67_108_865", "67 108 865" or "67108865"). Anything else
    is said in a warning naming the variable and its value, and the default holds."""
    return _whole_number_env(
        LAZY_LABELS_ENV,
        LAZY_LABELS_PIXELS,
        "pixels",
        "67,108,865",
        "every labels zarr and folder of label frames",
        "labels zarrs and folders of label frames",
    )


def _whole_number_env(
    name: str, default: int, unit: str, example: str, every: str, what: str, lazily="lazily"
) -> int:
    """The whole number of ``unit`` that the environment variable ``name`` gives, with or
    without thousands separators ("67,108,865", "67_108_865", "67 108 865" or "67108865"),
    else ``default``; a value that is no such number is said in a warning naming the variable
    and its value (0 opens ``every`` lazily; ``what`` is what opens lazily beyond the limit;
    ``lazily``: how they open, said so)."""
    raw = os.environ.get(name, "")
    given = re.sub(r"[,_\s\u00a0\u202f\u2009']", "", raw)
    if re.fullmatch(r"[0-9]+", given):
        return int(given)
    if raw.strip():
        warnings.warn(
            f"the environment variable {name} is {raw!r}, not a whole number of {unit} (such "
            f"as {example}, or 0 to open {every} {lazily}): ignored, {what} of more than "
            f"{default:,} {unit} open {lazily}",
            UserWarning,
            stacklevel=4,
        )
    return default


def _labels_data(path: Path, data):
    """The data of a labels layer read from ``path``: in memory (numpy), so that Correct can
    edit it, unless it is on disk (zarr, dask) and at least :func:`_lazy_labels_pixels`,
    which stays there, said in a :class:`LazyLabelsWarning` naming the file."""
    if isinstance(data, np.ndarray):
        return data
    pixels = int(np.prod(data.shape, dtype=np.int64))
    limit = _lazy_labels_pixels()
    if pixels < limit:
        return np.asarray(data)
    size = pixels * np.dtype(data.dtype).itemsize
    units = [(2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"), (1, "bytes")]
    scale, unit = next((scale, unit) for scale, unit in units if size >= scale or scale == 1)
    amount = f"{size / scale:.1f} GiB" if unit == "GiB" else f"{size // scale} {unit}"
    from tessella.engine._edit_region import store_of

    # Correct edits a region of 2D labels in a zarr on disk (_correct_region); else a copy
    by_region = data.ndim == 2 and store_of(data) is not None
    region = "Correct's 'Edit the region in view', then 'Write back'; or " if by_region else ""
    warnings.warn(
        f"{path}: opened lazily ({amount} of labels, {limit:,} pixels or more) and "
        "read-only (napari's brush and fill are off); napari reads them from disk as it "
        "shows them. Export writes TIFF, zarr, OME-Zarr, CSV and CTC masks from them a piece "
        "at a time (a mask stack is not offered for them). To edit them: "
        f"{region}an in-memory copy (about twice their size to read): set the environment "
        f"variable {LAZY_LABELS_ENV} to {pixels + 1:,} or more and open the "
        f"{_file_or_folder(path)} again.",
        LazyLabelsWarning,
        stacklevel=2,
    )
    _not_editable_when_added(data)
    return data


def _file_or_folder(path: Path) -> str:
    """What ``path`` is to a user: a "folder" of TIFF frames, else a "file" (a zarr too)."""
    from tessella.engine.io import is_zarr_path

    return "folder" if path.is_dir() and not is_zarr_path(path) else "file"


def _not_editable_when_added(data) -> None:
    """Make the labels layer that napari makes of ``data`` (a zarr opened read-only) not
    editable (``editable = False``): else napari's brush and fill raise "store was opened in
    read-only mode" at every stroke. A reader returns data, not layers, and napari's Labels
    take no ``editable`` argument, so the layer is told by its data when a viewer inserts it:
    every open viewer is watched (the one opening the file need not be the current one),
    until the layer is inserted or control returns to Qt's event loop (napari inserts what
    a reader returns before that: a read whose data no viewer adds leaves no watch behind).
    The watch holds ``data`` weakly. Without a viewer (a script reading files) nothing is
    watched."""
    import weakref

    def watch_for(viewer, stop):
        made_of = weakref.ref(data)

        def read_only(event) -> None:
            layer = event.value
            if getattr(layer, "data", None) is made_of():
                layer.editable = False
                stop()

        return read_only

    _watch_insertions(watch_for)


def _watch_insertions(watch_for) -> None:
    """Connect ``watch_for(viewer, stop)``, a handler of napari's ``layers.events.inserted``,
    to every open viewer (not only the current one), until the handler calls ``stop()`` or
    control returns to Qt's event loop (napari inserts what a reader returns before that, so
    a read whose layers no viewer adds leaves no watch behind). Without a viewer (napari
    absent, a script reading files) nothing is watched. :func:`_not_editable_when_added` and
    :func:`tessella._io_tracks.follow_when_added` watch so."""
    try:
        import napari

        viewers = list(getattr(napari.Viewer, "_instances", ())) or [napari.current_viewer()]
    except Exception:  # napari absent or without a viewer: no layer is made here
        return
    viewers = [viewer for viewer in viewers if viewer is not None]
    if not viewers:
        return
    watches: list[tuple] = []

    def stop() -> None:
        for emitter, watch in watches:
            emitter.disconnect(watch)
        watches.clear()

    for viewer in viewers:
        emitter = viewer.layers.events.inserted
        watch = watch_for(viewer, stop)
        emitter.connect(watch)
        watches.append((emitter, watch))
    from qtpy.QtCore import QTimer

    QTimer.singleShot(0, stop)


def _mask_stack_layers(
    path: Path, data, kwargs: dict, metadata: dict, found: dict | None
) -> list[tuple] | None:
    """The layers of a mask stack (``tessella segment --stack``'s, Export's): the ``(N, Y, X)``
    0/1 masks of objects that may overlap, as Segment shows such objects: their labels
    (object ``n + 1`` is frame ``n``) and, where some hide part of others, an "overlaps"
    layer beside them, which Export and Evaluate take as the labels' (so Export writes
    the stack and measures each object whole). The labels get the recipe beside the file,
    checked against the stack it says it wrote. None when ``path`` holds no mask stack: the
    recipe beside it says ``stack`` (``tessella segment --stack``) or names the file as the
    stack it exported (Export's ``name.stack.tif``), or the file's ImageJ ``Info`` is
    :data:`~tessella.engine.io.MASK_STACK_INFO` (so an ImageJ hyperstack, TYX, or a stack
    saved again by a script without that metadata, ZYX, is not a movie or one 3D object)."""
    from tessella.engine.digest import DIGEST_KEY
    from tessella.engine.io import mask_crops, mask_stack_labels

    if not isinstance(data, np.ndarray) or data.ndim != 3 or not _zeros_and_ones(data):
        return None
    exported = _exported_stack(found, path)
    said = exported or (found is not None and found.get("stack") is True)
    if not (said or _marked_mask_stack(path)):
        return None
    labels, overlaps = mask_stack_labels(data)
    name = kwargs["name"]
    placed = {key: value[-2:] for key, value in kwargs.items() if key != "name"}
    placed["axis_labels"] = ("y", "x")
    meta: dict[str, Any] = {k: v for k, v in metadata.items() if k != AXES_GUESSED_KEY}
    meta["axes"] = "YX"
    if isinstance(meta.get("pixel_size"), dict):
        meta["pixel_size"] = {k: v for k, v in meta["pixel_size"].items() if k in "YX"}
    # the recipe without ``stack``: it makes these labels (replayed, labels, not a stack)
    recipe = None if found is None else {k: v for k, v in found.items() if k != "stack"}
    if recipe is not None and exported:  # Export's: its labels_digest names the labels file
        recipe.pop(DIGEST_KEY, None)  # written beside the stack; the stack's has its own key
        if STACK_DIGEST_KEY in recipe:
            recipe[DIGEST_KEY] = recipe.pop(STACK_DIGEST_KEY)
    labels_meta = dict(_with_recipe(meta, path, labels, recipe, written=data))  # (a copy)
    # the stack itself, which two layers cannot always hold (an object that smaller ones
    # cover whole is in neither; a pixel of three objects keeps two): Export writes it back
    labels_meta[READ_STACK_KEY] = mask_crops(data)
    if not overlaps.any():
        return [(labels, {**placed, "name": name, "metadata": labels_meta}, "labels")]
    token = uuid.uuid4().hex  # pairs the two layers (_companions.companion_layer)
    labels_meta[COMPANIONS_KEY] = {"overlaps": token}
    beside = {**meta, COMPANION_OF_KEY: token}
    return [
        (labels, {**placed, "name": name, "metadata": labels_meta}, "labels"),
        (
            overlaps,
            {**placed, "name": f"{name} overlaps", "metadata": beside, "opacity": 0.6},
            "labels",
        ),
    ]


def _zeros_and_ones(data: np.ndarray) -> bool:
    """Whether integer ``data`` holds no value but 0 and 1."""
    return data.dtype.kind in "iu" and bool(data.min() >= 0 and data.max() <= 1)


def _marked_mask_stack(path: Path) -> bool:
    """Whether the TIFF ``path`` says in its ImageJ metadata that it is a mask stack."""
    from tessella.engine.io import MASK_STACK_INFO, is_zarr_path

    if is_zarr_path(path):
        return False
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            info = (tif.imagej_metadata or {}).get("Info")
    except Exception:  # read_image has read it; the mark is a bonus
        return False
    return info == MASK_STACK_INFO


def _binary(data) -> bool:
    """Whether an integer image holds only 0 and 1, both: a binary mask (ground truth such as
    Lucchi++'s ``mito.tif``), which as an image looks black. An 8-bit image (EM) holds more
    values, so it stays an image; a zarr array is not read whole to find out."""
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "iu":
        return False
    return bool(data.max() == 1 and data.min() == 0)


def _piecewise(path: Path, data) -> bool:
    """Whether integer ``data`` read from ``path`` that nothing names as labels is labels by
    its content: read into memory (a TIFF), piecewise constant with each value one region
    (:func:`~tessella._io_content._labels_by_content`, as instance labels that another tool
    wrote, StarDist's, cellpose's, CellProfiler's, are and intensity images, smoothed or dim
    ones included, are not), as the reader tells a folder's frames, and said in a warning; a
    zarr array (read lazily, from disk as napari shows it) is not read to find out; data
    the rule cannot tell of (too few pixels or values) is an image, as before the rule."""
    if not isinstance(data, np.ndarray):
        return False
    said, values = _labels_by_content(data)
    if said:
        _say_labels_by_content(path, values)
    elif said is None and values:  # piecewise constant, each value one region, but 1-3 values
        import warnings

        warnings.warn(
            f"{path}: opened as an image: it holds {values} value{'s' if values > 1 else ''} "
            "besides 0, piecewise constant as labels are, too few to tell labels (one to three "
            "objects) from a crop of a smoothed image; if it is labels, right-click the layer "
            "> Convert to Labels (or name it NAME_labels.tif)",
            ContentLabelsWarning,
            stacklevel=2,
        )
    return bool(said)


# --- writing --------------------------------------------------------------------------------


def _labels_of(data) -> np.ndarray:
    if isinstance(data, list):  # a multiscale layer: the full resolution
        data = data[0]
    return np.asarray(data)


def _write(path: str, data, meta: dict, write, kind: str) -> list[str]:
    labels = _labels_of(data)
    axes = labels_axes(labels.ndim, meta.get("metadata"), meta.get("axis_labels"))
    metadata = meta.get("metadata")
    pixel_size, unit, _ = layer_pixel_size(
        axes, meta.get("scale"), meta.get("units"), [metadata] if isinstance(metadata, dict) else []
    )
    replaced = Path(path).exists()  # (before writing: whose is the recipe beside it)
    _check_folder_writable(Path(path))
    # the recipe made, and where it goes checked, before the labels are written: a recipe
    # that cannot be written refuses the save, rather than leave the labels without it
    beside, recipe = _recipe_to_save(Path(path), data, labels, axes, meta, kind)
    # napari's save dialog has already asked before replacing a file
    write(path, labels, axes, pixel_size, unit if pixel_size else "µm", overwrite=True)
    return [str(path), *_save_recipe(Path(path), beside, recipe, replaced)]


def _check_folder_writable(path: Path) -> None:
    """OSError in one line naming the folder of ``path`` where no file can be made there
    (read-only, no permission): said before anything is written, rather than as the
    error of a hidden temporary (:func:`~tessella.engine.io._probe.probe_folder`, a real
    write: ``os.access`` says yes to root and misses read-only mounts). A missing folder is
    said by the write itself, naming it."""
    from tessella.engine.io._probe import probe_folder

    try:
        probe_folder(path.parent, path.name)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise type(exc)(
            f"{path.parent}: cannot write there ({_reason(exc)}); nothing was saved"
        ) from None


def _reason(exc: OSError) -> str:
    """An OSError's reason without its paths (the message names the file)."""
    return (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")


def _layer_holding(data, name: object = None) -> tuple[Any, Any] | None:
    """``(viewer, layer)``: the labels layer of an open viewer whose data is ``data`` (the
    layer napari's File > Save is writing; its writer is given the data and attributes only),
    the one named ``name`` (the layer's name napari gives the writer) where several layers
    hold the same array (review r12 L1: the first of them was taken, so saving a Segment
    result whose array a script had added again wrote the other layer's recipe), or None."""
    from napari import Viewer
    from napari.layers import Labels

    holding = [
        (viewer, layer)
        for viewer in list(getattr(Viewer, "_instances", ()))
        for layer in viewer.layers
        if isinstance(layer, Labels) and layer.data is data
    ]
    named = [(v, layer) for v, layer in holding if name is not None and layer.name == name]
    found = named or holding
    return found[0] if found else None


def _recipe_to_save(
    path: Path, data, labels: np.ndarray, axes: str, meta: dict, kind: str
) -> tuple[Path, dict | None]:
    """Write ``name.recipe.json`` beside labels saved by napari's File > Save, as Export
    writes it beside its TIFF (user test s34/t17 #2: the divisions set by hand and the frame
    numbers of a time-lapse were lost, Export's TIFF and recipe kept them): the recipe of the
    labels (saying ``labels_edited`` where they were edited after it), the frame numbers of
    a movie read from numbered frames, the divisions of linked labels (those whose ends are
    both in the labels), the file it is written for (``exported``) and the labels' digest;
    the reader puts them back. Labels without a recipe (a reopened CTC result, labels drawn
    by hand) keep their divisions (where they are linked) and frame numbers (other than 0,
    1, ...) all the same, in a record without a recipe
    (:data:`~tessella._io_recipe.LABELS_RECORD_NOTE`; s35 t19 #3: a corrected CTC result
    saved and reopened had lost them), which the reader puts back
    (:func:`~tessella._io_recipe.labels_record`); without either, they keep none, and the
    recipe of the file they replaced is removed (review r12 M2: hand-drawn labels
    saved over ``cli.tif`` reopened with its nuclei2d recipe). Where ``name.recipe.json`` is
    the recipe of another labels file of that name (``z.zarr``'s, saving ``z.tif``), it is
    left as it is and the recipe goes to ``z.tif.recipe.json``
    (:func:`~tessella.engine.io._kept_recipe.recipe_to_write`). Returns where the recipe
    goes and the recipe or record (None for labels without either), refused before the labels are
    written where a folder has its name (:func:`_check_recipe_writable`);
    :func:`_save_recipe` writes it."""
    from tessella._widgets._companions import tracks_layer
    from tessella._widgets._export_outputs import EDITED_NOTE
    from tessella._widgets._labels_states import recipe_on_screen
    from tessella._widgets._tracks_layer import LINEAGE_KEY, current_lineage
    from tessella.engine.digest import DIGEST_KEY, labels_digest
    from tessella.engine.io._kept_recipe import name_older_shared_recipe, recipe_to_write

    from ._io_folder import FRAME_NUMBERS_KEY
    from ._io_recipe import LABELS_RECORD_NOTE

    given = meta.get("metadata")
    metadata: dict = given if isinstance(given, dict) else {}
    held = _layer_holding(data, meta.get("name"))
    if held is not None:
        viewer, layer = held
        recipe, reproduces = recipe_on_screen(layer)
    else:
        viewer = layer = None
        recipe = metadata.get(RECIPE_KEY) if isinstance(metadata.get(RECIPE_KEY), dict) else None
        reproduces = recipe is not None and not recipe.get("labels_edited", False)
    movie = "T" in axes
    numbers = metadata.get(FRAME_NUMBERS_KEY) if movie else None
    if not (
        isinstance(numbers, list | tuple)
        and len(numbers) == labels.shape[axes.index("T")]
        and all(isinstance(n, int | np.integer) and not isinstance(n, bool) for n in numbers)
        and all(n >= 0 for n in numbers)
    ):
        numbers = None
    lineage = None
    if movie:
        linked = (
            (layer is not None and tracks_layer(viewer, layer) is not None)
            or LINEAGE_KEY in metadata
            or (recipe is not None and "lineage" in recipe)
        )
        found = current_lineage(viewer, layer) if layer is not None else {}
        if found or linked:
            present = set(np.unique(labels).tolist())
            lineage = {c: p for c, p in found.items() if c in present and p in present}
    beside = recipe_to_write(path)
    if recipe is None:
        if numbers is not None and list(numbers) == list(range(len(numbers))):
            numbers = None  # (frames 0, 1, ...: what labels without numbers are numbered)
        if lineage is None and numbers is None:
            # (an older recipe another file of this name has stays its own)
            name_older_shared_recipe(path)
            return beside, None
        # labels made without Segment (a reopened CTC result, drawn by hand) whose divisions
        # or frame numbers are known: kept beside them without a recipe (s35 t19 #3)
        _check_recipe_writable(beside, path)
        record: dict[str, Any] = {"note": LABELS_RECORD_NOTE}
        if numbers is not None:
            record["frame_numbers"] = [int(n) for n in numbers]
        if lineage is not None:
            record["lineage"] = sorted([int(c), int(p)] for c, p in lineage.items())
        record["exported"] = {kind: path.name}
        record[DIGEST_KEY] = labels_digest(labels)
        return beside, record
    _check_recipe_writable(beside, path)
    note = recipe.get("note", EDITED_NOTE)  # (the reader's, where the file changed)
    recipe = {k: v for k, v in recipe.items() if k not in (*EXPORT_ONLY_KEYS, "lineage")}
    if not reproduces:
        recipe.update(labels_edited=True, note=note)
    if numbers is not None:
        recipe["frame_numbers"] = [int(n) for n in numbers]
    if lineage is not None:
        recipe["lineage"] = sorted([int(c), int(p)] for c, p in lineage.items())
    recipe["exported"] = {kind: path.name}
    recipe[DIGEST_KEY] = labels_digest(labels)
    return beside, recipe


def _check_recipe_writable(beside: Path, path: Path) -> None:
    """IsADirectoryError (one line naming the recipe and the labels) where a folder has the
    name the recipe of ``path`` goes to (its folder is checked by
    :func:`_check_folder_writable`)."""
    if beside.is_dir():
        raise IsADirectoryError(
            f"{beside}: a folder of that name is where the recipe of {path.name} goes; "
            "remove or rename it (nothing was saved)"
        )


def _save_recipe(path: Path, beside: Path, recipe: dict | None, replaced: bool) -> list[str]:
    """Write ``recipe`` to ``beside`` (:func:`_recipe_to_save`) once the labels are in
    ``path``; labels without one (``recipe`` None) saved over a file remove that file's
    recipe (its own, or ``NAME.recipe.json`` where it was that file's), so that they do not
    reopen as its result. Where the recipe cannot be written after all (made a folder or
    read-only meanwhile, a full disk), OSError in one line naming it, and labels written
    where there were none are removed again: never labels left silently without their
    recipe. Returns the recipe's path, if written."""
    from tessella.engine.io import write_json
    from tessella.engine.io._kept_recipe import own_recipe_path, shared_recipe_owner
    from tessella.engine.io._zarr import labels_recipe_path

    if recipe is None:
        if replaced:  # the recipe of the labels just replaced (not another file's)
            shared = labels_recipe_path(path)
            theirs = [own_recipe_path(path)]
            if shared_recipe_owner(path) is None:
                theirs.append(shared)
            for found in theirs:
                if found.is_file() or found.is_symlink():
                    found.unlink()
        return []
    try:
        write_json(beside, recipe)
    except OSError as exc:
        if replaced:
            what = f"the labels were saved to {path.name} without it"
        else:
            with contextlib.suppress(OSError):
                _remove_saved(path)
            what = f"{path.name} was not saved"
        raise OSError(
            f"{beside}: cannot write the recipe of {path.name} ({_reason(exc)}); {what}"
        ) from None
    return [str(beside)]


def _remove_saved(path: Path) -> None:
    import shutil

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def write_labels_tiff(path: str, data, meta: dict) -> list[str]:
    """Save a labels layer as TIFF with its axes and pixel size (ImageJ, else OME), its
    recipe, frame numbers and divisions beside it as Export writes them
    (:func:`_recipe_to_save`)."""
    from tessella.engine.io import write_labels

    return _write(path, data, meta, write_labels, "tiff")


def write_labels_zarr(path: str, data, meta: dict) -> list[str]:
    """Save a labels layer as a zarr array with its axes and pixel size in the attributes,
    and its recipe beside it (:func:`_recipe_to_save`)."""
    from tessella.engine.io import write_zarr_labels

    return _write(path, data, meta, write_zarr_labels, "zarr")

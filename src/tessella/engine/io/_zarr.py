"""Reading zarr arrays and OME-Zarr images, and the OME-Zarr layout of their labels."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..axes import SUPPORTED_AXES, check_axes, guess_axes, misplaced_axes, supported_order
from ._image import ImageData
from ._tiff import _tiff_axes, misplaced_message

__all__ = [
    "LABELS_ATTR",
    "_read_zarr",
    "labels_ome",
    "create_ome_labels",
    "_labels_layout",
    "ome_image_of_labels",
    "ome_image_around",
    "labels_recipe_path",
    "older_labels_recipe_path",
    "check_labels_in_ome_image",
    "register_ome_labels",
    "point_labels_at_image",
    "ome_levels",
    "thin_chunk_axes",
]

#: the attribute (``true``) that marks a zarr array as labels: :func:`write_zarr_labels` writes
#: it; a blockwise output is told by its recipe (the ``tessella`` attribute). ``tessella_axes``,
#: ``pixel_size`` and ``unit`` are no mark: they are the input metadata any zarr image may carry
LABELS_ATTR = "tessella_labels"
#: the attribute in which a blockwise run keeps the recipe of the labels it wrote
_RECIPE_ATTR = "tessella"


class UnreadableChunkError(RuntimeError):
    """A zarr chunk file that cannot be read or decoded (damaged, cut short by a copy that
    did not finish), named with its pixels and what to do (``words``, without the store);
    a RuntimeError as zstd's own error, so that whoever caught that catches this."""

    def __init__(self, store, words: str):
        super().__init__(f"{store}: {words}")
        self.words = words


#: at most this many chunks under a read that failed are tried one by one to name the bad ones
CHUNKS_TRIED = 4096


def _chunk_cells(shape, grid, selection) -> list[tuple[int, ...]] | None:
    """The cells of ``grid`` (chunk or shard shape) of an array of ``shape`` under the basic
    ``selection`` (ints, slices, Ellipsis); None for another kind of selection."""
    import itertools

    key = selection if isinstance(selection, tuple) else (selection,)
    if any(k is Ellipsis for k in key):
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        key = key[:at] + (slice(None),) * (len(shape) - len(key) + 1) + key[at + 1 :]
    key = key + (slice(None),) * (len(shape) - len(key))
    ranges = []
    for k, n, c in zip(key, shape, grid):
        if isinstance(k, slice):
            start, stop, step = k.indices(int(n))
            if step != 1:
                start, stop = min(start, stop), max(start, stop) + 1
            if stop <= start:
                return []
            ranges.append(range(start // c, -(-stop // c)))
        elif isinstance(k, int | np.integer):
            i = int(k) % int(n) if n else 0
            ranges.append(range(i // c, i // c + 1))
        else:
            return None
    if int(np.prod([len(r) for r in ranges], dtype=np.int64)) > CHUNKS_TRIED:
        return None
    return list(itertools.product(*ranges))


def unreadable_chunks_words(array, selection, error: BaseException) -> str | None:
    """What to say of a read of ``selection`` from the zarr array ``array`` that failed with
    ``error`` (a codec's, such as "Zstd decompression error: invalid input data"): the chunk
    files under it that fail to read on their own (each tried alone), their pixels, and what
    to do ("chunk file ..."); None where none does (the failure is another's) or they cannot
    be told."""
    shape = tuple(int(n) for n in array.shape)
    grid = tuple(int(c) for c in (getattr(array, "shards", None) or array.chunks))
    cells = _chunk_cells(shape, grid, selection)
    if not cells:
        return None
    bad = []
    for cell in cells:
        region = tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(cell, grid, shape))
        try:
            _plain(array)[region]
        except (MemoryError, KeyboardInterrupt):
            raise
        except Exception:
            bad.append((cell, region))
    if not bad:
        return None
    root = getattr(getattr(array, "store", None), "root", None)
    store = Path(str(root)) if root else None
    folder = store / str(getattr(array, "path", "") or "") if store is not None else None
    files = []
    for cell, region in bad[:3]:
        try:
            name = array.metadata.encode_chunk_key(cell)
        except Exception:
            name = "/".join(map(str, cell))
        where = folder / name if folder is not None else name
        pixels = ", ".join(f"{s.start}:{s.stop}" for s in region)
        files.append(f"{where} (pixels [{pixels}])")
    more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
    plural = len(bad) > 1
    return (
        f"chunk file{'s' if plural else ''} {', '.join(files)}{more} "
        f"cannot be read ({type(error).__name__}: {error}): damaged or cut short (a copy or "
        f"a write that did not finish?). Copy {'them' if plural else 'it'} again from where "
        f"the zarr came from; or delete {'them' if plural else 'it'} to read "
        f"{'their' if plural else 'its'} pixels as {array.fill_value} (the array's fill "
        "value)"
    )


def _store_of(array) -> str:
    """The folder of the zarr store of ``array`` (what messages name), else "the zarr"."""
    root = getattr(getattr(array, "store", None), "root", None)
    return str(root) if root else "the zarr"


def _plain(array):
    """``array`` as a plain zarr array (reads without naming chunks: no recursion)."""
    import zarr

    return zarr.Array(array._async_array) if isinstance(array, NamedChunksArray) else array


def _named_chunks(array):
    """``array`` (a zarr array; anything else as it is) read through
    :class:`NamedChunksArray`."""
    import zarr

    if isinstance(array, zarr.Array) and not isinstance(array, NamedChunksArray):
        return NamedChunksArray(array._async_array)
    return array


def _named_chunks_class():
    import zarr

    class NamedChunksArray(zarr.Array):
        """A zarr array (the same store, metadata and pixels) whose reads that fail on a
        damaged chunk raise :class:`UnreadableChunkError` naming the chunk file, its pixels
        and what to do, as napari's slicing of an opened image gets it (it said only "Zstd
        decompression error: invalid input data")."""

        def __getitem__(self, selection):
            try:
                return super().__getitem__(selection)
            except (MemoryError, KeyboardInterrupt, UnreadableChunkError):
                raise
            except Exception as exc:
                words = unreadable_chunks_words(self, selection, exc)
                if words is None:
                    raise
                raise UnreadableChunkError(_store_of(self), words) from exc

        def __reduce__(self):  # (pickled for workers: a plain array, read the same)
            import zarr

            return (zarr.Array, (self._async_array,))

    NamedChunksArray.__module__ = __name__
    NamedChunksArray.__qualname__ = "NamedChunksArray"
    return NamedChunksArray


NamedChunksArray = _named_chunks_class()


def _read_zarr(
    path: Path, axes: str | None, channel: int | None = None, ignore_metadata: bool = False
) -> ImageData:
    """A zarr array (axes and pixel size in its attributes, as tessella writes them) or an
    OME-Zarr image (its first level); ``channel``: that channel alone, lazily (no C axis).
    Metadata of the wrong shape is a ValueError naming the store, never a KeyError or
    TypeError from deep inside."""
    import zarr

    try:
        node = zarr.open(str(path), mode="r")
    except Exception as exc:
        raise ValueError(f"{path}: cannot open as zarr ({exc})") from None
    if axes is not None and not isinstance(axes, str):
        raise ValueError(f"{path}: axes must be text such as 'YX', got {axes!r}")
    try:
        if isinstance(node, zarr.Group):
            image = _read_ome_zarr(path, node, axes)
        else:
            image = _read_zarr_array(path, _named_chunks(node), axes)
        _warn_unit_case(path, image)
        given = axes is not None and not ignore_metadata
        misplaced = misplaced_axes(image.axes, image.stated_axes) if given else ""
        if misplaced:  # a reordering of what its metadata name: no silent transposition
            raise ValueError(
                misplaced_message(path, image.axes, misplaced, image.stated_axes, image.stated_by)
            )
        image.stored_axes = image.axes
        if channel is not None:
            image = _image_channel(image, channel)
        return _in_supported_order(image)
    except ValueError as exc:  # name the store once
        message = str(exc)
        named = message if message.startswith(str(path)) else f"{path}: {message}"
        raise ValueError(named) from None
    except (KeyError, TypeError, AttributeError, IndexError) as exc:  # metadata of odd shape
        raise ValueError(f"{path}: malformed zarr metadata ({type(exc).__name__}: {exc})") from None


def _warn_unit_case(path: Path, image: ImageData) -> None:
    """Warn, in one line naming the store, where its unit (the ``unit`` attribute, an
    OME-Zarr axis's ``unit``) is a metre of a capital prefix (``Mm``: megametres) that is
    most likely the small one's (mm): kept as the store says, as a TIFF's is
    (:func:`._tiff._warn_unit_case`; a recipe's unit and ``--voxel-size`` refuse it)."""
    import warnings

    from ._tiff import UnitCaseWarning
    from ._write import capital_prefix_misread

    misread = capital_prefix_misread(str(image.unit))
    if misread is None:
        return
    reads_as, meant, symbol = misread
    unit = image.unit
    size = ", ".join(f"{a} {v:g}" for a, v in image.pixel_size.items())
    where = 'its axes\' "unit"' if image.ome is not None else 'its "unit" attribute'
    warnings.warn(
        f"{path}: its unit {unit!r} reads as {reads_as}"
        + (f" (pixel size {size} {unit})" if size else "")
        + f"; kept as the store says. If {meant} are meant, set {where} to "
        + (f"{symbol!r} (or 'µm')" if image.ome is None else f"'{meant[:-6]}meter'")
        + " or give --voxel-size with its unit",
        UnitCaseWarning,
        stacklevel=4,  # (read_image's caller: this, _read_zarr, read_image)
    )


def _stored_axes(axes: str, ndim: int, name: str) -> str:
    """Axes of a zarr array in the order it stores its dimensions, upper-cased: one letter of
    TZCYX per dimension, in any order (:func:`_in_supported_order` transposes them)."""
    upper = axes.upper()
    if len(set(upper)) != len(upper) or set(upper) - set("TZCYX"):
        return check_axes(axes, ndim, name)  # (its message)
    if len(upper) != ndim:
        raise ValueError(f"{name}: axes {upper!r} name {len(upper)} axes but the array has {ndim}")
    return upper


def _in_supported_order(image: ImageData) -> ImageData:
    """``image`` with its axes in an order the engine reads (a ``tessella_axes`` ZCYX as
    CZYX), lazily transposed, its stated axes and OME-Zarr layout following; axes of no
    supported order are refused as :func:`~tessella.engine.axes.check_axes` refuses them."""
    import dataclasses

    order = supported_order(image.axes)
    if order is None:
        raise ValueError(
            f"axes {image.axes!r} are not supported; use one of {', '.join(SUPPORTED_AXES)}"
            " (in any order, the one the array stores them in; or choose a channel: channel= "
            "in Python, --channel on the command line)"
        )
    if order == image.axes:
        return image
    import dask.array as da

    at = [image.axes.index(a) for a in order]
    data = image.data if isinstance(image.data, da.Array) else da.from_zarr(image.data)
    stated = image.stated_axes
    ome = image.ome
    if ome is not None:
        ome = dict(ome, kept=[ome["kept"][i] for i in at])
    return dataclasses.replace(
        image,
        data=data.transpose(at),
        axes=order,
        ome=ome,
        stated_axes=None if stated is None else "".join(stated[i] for i in at),
    )


def _image_channel(image: ImageData, channel: int) -> ImageData:
    """``image`` of its channel ``channel`` alone (lazily: a dask array), without C."""
    import dataclasses

    import dask.array as da

    from ._tiff import _one_channel

    data = image.data
    if "C" in image.axes and not isinstance(data, da.Array):
        data = da.from_zarr(data)
    data, axes, stated = _one_channel(image.path, data, image.axes, image.stated_axes, channel)
    ome = image.ome
    if ome is not None and "C" in image.axes:  # its labels: the layout without C
        at = ome["kept"][image.axes.index("C")]
        ome = dict(ome, kept=[i for i in ome["kept"] if i != at])
    return dataclasses.replace(image, data=data, axes=axes, ome=ome, stated_axes=stated)


def _read_zarr_array(path: Path, array, axes: str | None) -> ImageData:
    attrs: dict[str, Any] = dict(array.attrs)
    # labels: marked by write_zarr_labels, or holding a blockwise run's recipe; an integer
    # image given its axes and pixel size (tessella_axes, pixel_size) stays an image
    labels = attrs.get(LABELS_ATTR) is True or isinstance(attrs.get(_RECIPE_ATTR), dict)
    labels = labels and np.dtype(array.dtype).kind in "iu"
    recorded = attrs.get("tessella_axes")
    if recorded is not None and not isinstance(recorded, str):
        raise ValueError(f"attribute tessella_axes must be text such as 'YX', got {recorded!r}")
    pixel_size = attrs.get("pixel_size") or {}
    if not isinstance(pixel_size, dict):
        raise ValueError(
            f"attribute pixel_size must be an object of axis sizes such as "
            f'{{"Y": 0.5, "X": 0.5}}, got {pixel_size!r}'
        )
    sizes = {
        str(k): _positive_size(v, f"attribute pixel_size {k!r}") for k, v in pixel_size.items()
    }
    unit = str(attrs["unit"]) if sizes and isinstance(attrs.get("unit"), str) else "pixel"
    axes = axes or recorded or guess_axes(array.shape)
    axes = _stored_axes(axes, array.ndim, str(path))
    stated = recorded.upper() if recorded is not None and len(recorded) == array.ndim else None
    return ImageData(
        array,
        axes,
        sizes,
        unit,
        path,
        labels,
        stated_axes=stated,
        stated_by="zarr attribute tessella_axes" if stated else "",
    )


def _positive_size(value: Any, what: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        size = float(value)
    except (TypeError, ValueError):
        size = float("nan")
    if not (np.isfinite(size) and size > 0):
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return size


def _read_ome_zarr(path: Path, node, axes: str | None) -> ImageData:
    """The first level of an OME-Zarr multiscales image. Its singleton axes (writers keep all
    five, TCZYX, for one 2D image) are dropped when ``axes`` is None or names only the others,
    so a recipe's recorded axes ("YX") read the image as it was read before."""
    import zarr

    attrs: dict[str, Any] = dict(node.attrs)  # JSON: its structure is only known by convention
    ome: dict[str, Any] = attrs["ome"] if isinstance(attrs.get("ome"), dict) else {}
    labels = "image-label" in attrs or "image-label" in ome
    multiscales = attrs.get("multiscales") or ome.get("multiscales")
    if not multiscales:
        raise ValueError("a zarr group without OME-Zarr multiscales; name the array")
    if not isinstance(multiscales, list) or not isinstance(multiscales[0], dict):
        raise ValueError(f"OME-Zarr multiscales must be a list of objects, got {multiscales!r}")
    first = multiscales[0]
    datasets = first.get("datasets")
    if (
        not isinstance(datasets, list)
        or not datasets
        or not isinstance(datasets[0], dict)
        or not isinstance(datasets[0].get("path"), str)
    ):
        raise ValueError(
            f"OME-Zarr multiscales lists no datasets (objects with a 'path'), got {datasets!r}"
        )
    dataset = datasets[0]
    try:
        array = node[dataset["path"]]
    except KeyError:
        raise ValueError(f"OME-Zarr dataset {dataset['path']!r} does not exist") from None
    if not isinstance(array, zarr.Array):
        raise ValueError(f"OME-Zarr dataset {dataset['path']!r} is not an array")
    array = _named_chunks(array)  # (a damaged chunk named where napari reads it)
    names = _ome_axis_names(first.get("axes"), array.ndim, dataset["path"], axes)
    sizes: dict[str, float] = {}
    transforms = dataset.get("coordinateTransformations") or []
    for transform in transforms if isinstance(transforms, list) else [transforms]:
        if isinstance(transform, dict) and transform.get("type") == "scale":
            scale = transform.get("scale")
            if not isinstance(scale, list) or len(scale) != array.ndim:
                raise ValueError(
                    f"OME-Zarr dataset {dataset['path']!r}: its scale must list one number per "
                    f"axis ({array.ndim}), got {scale!r}"
                )
            sizes = {
                n: _positive_size(v, f"OME-Zarr scale of axis {n!r}")
                for n, v in zip(names or "", scale)
                if n in "ZYX"
            }
    entries: list = first["axes"] if isinstance(first.get("axes"), list) else []
    units = [a.get("unit") for a in entries if isinstance(a, dict)]
    unit = next((u for u in units if isinstance(u, str) and u), "pixel")
    stored_names = names
    drop: list[int] = []
    if names is not None and (axes is None or len(axes) < array.ndim):
        meta_axes, drop = _tiff_axes(names, tuple(array.shape))
        if axes is not None and len(axes) != array.ndim - len(drop):
            raise ValueError(
                f"axes {axes.upper()!r} name {len(axes)} axes; the array has {array.ndim} "
                f"({names}), {array.ndim - len(drop)} without its axes of length 1"
            )
        axes = axes or meta_axes
        if drop:
            import dask.array as da

            index = tuple(0 if i in drop else slice(None) for i in range(array.ndim))
            array = da.from_zarr(array)[index]  # still lazy
            sizes = {k: v for k, v in sizes.items() if k in axes.upper()}
    if axes is None:  # no axes in the metadata (OME-Zarr before 0.3 implies TCZYX)
        raise ValueError(
            "OME-Zarr multiscales names no axes; give them (axes= in Python, --axes on the "
            "command line)"
        )
    axes = _stored_axes(axes, array.ndim, str(path))
    stated = _ome_stated_axes(first.get("axes"), drop)
    stored = len(drop) + array.ndim
    version = ome.get("version", "0.5") if ome else first.get("version", "0.4")
    scale = next(
        (
            [float(v) for v in t["scale"]]
            for t in (transforms if isinstance(transforms, list) else [transforms])
            if isinstance(t, dict) and t.get("type") == "scale"
        ),
        [1.0] * stored,
    )
    letters = stored_names or axes
    layout = {
        "version": str(version),
        "axes": [
            e if isinstance(e, dict) else _ome_axis(letters[i])
            for i, e in enumerate(entries or [None] * stored)
        ],
        "scale": scale,
        "kept": [i for i in range(stored) if i not in drop],
    }
    if stated is not None and len(stated) != array.ndim:
        stated = None
    return ImageData(
        array,
        axes,
        sizes,
        unit,
        path,
        labels,
        layout,
        stated_axes=stated,
        stated_by="OME-Zarr axes" if stated else "",
    )


def ome_levels(image: ImageData) -> list:
    """The lower-resolution levels of the OME-Zarr image ``image`` (as :func:`_read_zarr`
    read it: its first level, without its axes of length 1, in a supported order), each read
    lazily as that first level is (the same axes dropped and transposed alike): the
    datasets its multiscales lists after the first, in order. ``[]`` where ``image`` is no
    OME-Zarr image, its group lists one dataset, or a level is missing, no array, or has
    other dimensions than the first level (what a viewer would then misplace); only levels
    up to such a one are returned. Nothing is read but metadata."""
    import zarr

    if image.ome is None or image.path is None or "kept" not in image.ome:
        return []
    try:
        node = zarr.open(str(image.path), mode="r")
        if not isinstance(node, zarr.Group):
            return []
        attrs: dict[str, Any] = dict(node.attrs)
        ome: dict[str, Any] = attrs["ome"] if isinstance(attrs.get("ome"), dict) else {}
        multiscales: Any = attrs.get("multiscales") or ome.get("multiscales")
        datasets = multiscales[0]["datasets"]
        first = node[datasets[0]["path"]]
    except Exception:  # read_image read it: a level that cannot be found is no level
        return []
    if not isinstance(first, zarr.Array):
        return []
    kept = [int(i) for i in image.ome["kept"]]
    stored = sorted(kept)
    order = [stored.index(i) for i in kept]
    levels: list = []
    for entry in datasets[1:]:
        try:
            array = node[entry["path"]]
        except Exception:
            break
        if not isinstance(array, zarr.Array) or array.ndim != first.ndim:
            break
        level: Any = _named_chunks(array)
        if len(stored) != array.ndim or order != sorted(order):
            import dask.array as da

            index = tuple(slice(None) if i in kept else 0 for i in range(array.ndim))
            level = da.from_zarr(level)[index].transpose(order)
        levels.append(level)
    return levels


#: a chunk this many times thinner than a block along a spatial axis (or more) is
#: pathological: a 2048-px block of an image stored in rows (1x8192 chunks) reads 2048
#: chunks, showing it in napari reads every chunk under the view
THIN_CHUNK_RATIO = 16

#: a chunk of this many bytes or more is not thin, whatever its shape: reading it costs its
#: bytes, not a request per few pixels (one 512x512 slice of a volume, 256 KiB in uint8, the
#: layout napari shows a volume best from; one row of 8192 uint16 pixels is 16 KiB)
THIN_CHUNK_BYTES = 64 * 1024


def thin_chunk_axes(
    sizes: dict[str, tuple[int, int]], block: dict[str, int], chunk_bytes: int | None = None
) -> list[str]:
    """The spatial axes (of ``sizes``: axis -> ``(chunk, extent)``) along which the chunks
    of a zarr image are :data:`THIN_CHUNK_RATIO` times thinner than the ``block`` (axis ->
    block edge) or more, that block cut to the image's extent: one row of pixels per chunk
    (``{"Y": (1, 8192), "X": (8192, 8192)}`` with 2048-px blocks: ``["Y"]``). A chunk as
    large as the image along an axis is never thin there. Chunks of ``chunk_bytes`` (the
    bytes of one chunk, all axes; None: not known) of :data:`THIN_CHUNK_BYTES` or more are
    thin along no axis, and a chunk holding whole planes of the other spatial axes (one
    slice of a ZYX volume) is not thin along Z: napari shows a volume a slice at a time.
    This is the rule of napari's open hint only: a blockwise run judges what its blocks
    read (``engine.blockwise._store._read_cost``), since a block decodes every chunk it
    touches whole, large or not.

    >>> thin_chunk_axes({"Y": (1, 8192), "X": (8192, 8192)}, {"Y": 2048, "X": 2048}, 16384)
    ['Y']
    >>> thin_chunk_axes({"Y": (256, 20000), "X": (256, 20000)}, {"Y": 2048, "X": 2048})
    []
    >>> slices = {"Z": (1, 64), "Y": (512, 512), "X": (512, 512)}
    >>> thin_chunk_axes(slices, {"Z": 256, "Y": 256, "X": 256}, 512 * 512)
    []
    """
    if chunk_bytes is not None and chunk_bytes >= THIN_CHUNK_BYTES:
        return []
    thin = []
    for axis, (chunk, extent) in sizes.items():
        edge = min(int(block.get(axis, extent)), int(extent))
        if not (0 < chunk < extent and chunk * THIN_CHUNK_RATIO <= edge):
            continue
        others = [(c, n) for a, (c, n) in sizes.items() if a != axis]
        if axis == "Z" and others and all(c >= n for c, n in others):  # whole slices
            continue
        thin.append(axis)
    return thin


def _ome_stated_axes(entries: Any, drop: list[int]) -> str | None:
    """The axis letters OME-Zarr ``axes`` metadata names, without the axes dropped (length 1);
    None where it names none or one Tessella does not know (the axes given say them)."""
    if not isinstance(entries, list):
        return None
    names = [entry.get("name") if isinstance(entry, dict) else entry for entry in entries]
    letters = [n.upper() for n in names if isinstance(n, str)]
    if len(letters) != len(names) or not all(n in ("T", "C", "Z", "Y", "X") for n in letters):
        return None
    return "".join(n for i, n in enumerate(letters) if i not in drop)


def _ome_axis(letter: str) -> dict:
    """OME-Zarr axis metadata for an axis letter (where the input's metadata names none)."""
    kind = {"T": "time", "C": "channel"}.get(letter.upper(), "space")
    return {"name": letter.lower(), "type": kind}


def labels_ome(image: ImageData, label_axes: str) -> dict | None:
    """The layout of the zarr labels of ``label_axes`` (the image's axes without C) of a zarr
    ``image``, as :func:`write_zarr_labels` and blockwise segmentation write them: of an
    OME-Zarr image, its version and, of the label axes, its axis metadata and scale; of a
    plain zarr array, its zarr format alone (``{"zarr_format": 2}``), so that the labels of a
    v2 image are v2, which the tools that read the image read. None for an image that is
    no zarr."""
    from ._write import zarr_format_of

    if image.ome is None:
        form = zarr_format_of(image.path)
        return None if form is None else {"zarr_format": form}
    # (absolute but not resolved: image_source names it relative only where neither it nor
    # the labels' path goes through a symbolic link)
    source = os.path.abspath(image.path) if image.path is not None else None
    return _labels_layout(image.ome, image.axes, label_axes, source)


def _labels_layout(ome: dict, axes: str, label_axes: str, source: str | None) -> dict:
    """:func:`labels_ome` of an image of ``axes`` and OME-Zarr layout ``ome``."""
    keep = [ome["kept"][axes.index(a)] for a in label_axes]
    return {
        "version": ome["version"],
        "axes": [ome["axes"][i] for i in keep],
        "scale": [float(ome["scale"][i]) for i in keep],
        "source": source,
    }


def create_ome_labels(path: str | os.PathLike, shape, dtype, chunks, ome: dict):
    """An empty OME-Zarr labels image at ``path`` (one level, ``0``) of the layout ``ome``
    (:func:`labels_ome`): zarr v2 with "/" chunk keys for OME-Zarr 0.4 and before, zarr v3
    for 0.5. Axis units are spelled as NGFF requires (UDUNITS: "micrometer", not "µm"). The
    image is named as :func:`image_source` names it from ``path`` (labels written elsewhere
    and moved into place: :func:`move_labels_source`). Returns the array."""
    import zarr

    from ._write import _v2_compressor, unit_for

    version = ome["version"]
    v2 = version < "0.5"
    group = zarr.open_group(str(path), mode="w", zarr_format=2 if v2 else 3)
    encoding: dict[str, Any] | None = {"name": "v2", "separator": "/"} if v2 else None
    codecs: dict[str, Any] = {"compressors": _v2_compressor()} if v2 else {}
    array = group.create_array(
        "0",
        shape=shape,
        dtype=dtype,
        chunks=chunks,
        fill_value=0,
        chunk_key_encoding=encoding,
        **codecs,
    )
    axes = []
    for axis in ome["axes"]:
        axis = dict(axis)
        if "unit" in axis:
            unit = unit_for(axis.pop("unit"), "ome-zarr")
            axis.update({"unit": unit} if unit else {})
        axes.append(axis)
    multiscale: dict[str, Any] = {
        "name": ome.get("name") or "tessella labels",
        "axes": axes,
        "datasets": [
            {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": ome["scale"]}]}
        ],
    }
    label: dict[str, Any] = {"version": version}
    if "source" in ome:  # (standalone labels, :func:`~._write.ome_labels_layout`: none)
        label["source"] = {"image": image_source(ome["source"], path)}
    if v2:
        version = "0.4" if version < "0.4" else version  # the layout written is 0.4's
        label["version"] = version
        group.attrs.update(
            {"multiscales": [multiscale | {"version": version}], "image-label": label}
        )
    else:
        group.attrs["ome"] = {"version": version, "multiscales": [multiscale], "image-label": label}
    return array


def _group_metadata(path: Path) -> tuple[int, dict] | None:
    """(zarr format, attributes) of the zarr group at ``path``, read from its metadata files
    (nothing else is opened); None where ``path`` holds no zarr group."""
    import json

    try:
        if (path / "zarr.json").is_file():
            meta = json.loads((path / "zarr.json").read_text())
            if not isinstance(meta, dict) or meta.get("node_type") != "group":
                return None
            attrs = meta.get("attributes")
            return 3, attrs if isinstance(attrs, dict) else {}
        if (path / ".zgroup").is_file():
            attrs = {}
            if (path / ".zattrs").is_file():
                attrs = json.loads((path / ".zattrs").read_text())
            return 2, attrs if isinstance(attrs, dict) else {}
    except (OSError, ValueError):
        return None
    return None


def _ome_attrs(attrs: dict) -> dict:
    """The OME-Zarr metadata among a group's attributes: under ``ome`` (0.5) or top level."""
    return attrs["ome"] if isinstance(attrs.get("ome"), dict) else attrs


def _is_ome_image(path: Path) -> bool:
    """``path`` is an OME-Zarr image group (multiscales), not labels (image-label)."""
    found = _group_metadata(path)
    if found is None:
        return False
    ome = _ome_attrs(found[1])
    return bool(ome.get("multiscales")) and "image-label" not in ome


def ome_image_of_labels(target: str | os.PathLike) -> Path | None:
    """The OME-Zarr image in whose labels group ``target`` lies (``image.zarr/labels/NAME``,
    where OME-NGFF puts an image's labels), else None."""
    target = Path(target)
    if target.parent.name != "labels" or not target.name:
        return None
    image = target.parent.parent
    return image if _is_ome_image(image) else None


def labels_recipe_path(output: str | os.PathLike) -> Path:
    """The ``.recipe.json`` beside labels ``output`` that ``tessella segment`` writes and the
    reader finds: the name less its ``.tif``/``.tiff``/``.zarr``; OME-Zarr labels in an
    image's labels group, which NGFF names without a suffix, keep their whole name
    (``labels/cells.v1`` -> ``cells.v1.recipe.json``: ``cells.v1`` and ``cells.v2`` shared
    ``cells.recipe.json`` before); other names less the text after their last dot.

    >>> labels_recipe_path("out/a.b.zarr").name, labels_recipe_path("out/a.ome.tif").name
    ('a.b.recipe.json', 'a.ome.recipe.json')
    """
    output = Path(output)
    name = output.name
    for suffix in (".tif", ".tiff", ".zarr"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return output.with_name(name[: -len(suffix)] + ".recipe.json")
    if ome_image_of_labels(output) is not None:
        return output.with_name(name + ".recipe.json")
    return output.with_name(name.rsplit(".", 1)[0] + ".recipe.json")


def older_labels_recipe_path(output: str | os.PathLike) -> Path | None:
    """The recipe name an older version gave labels ``output`` (the name less the text after
    its last dot) where :func:`labels_recipe_path` now gives another (dotted OME-Zarr labels
    names: ``labels/cells.v1`` -> ``cells.recipe.json``), so that their recipe is still
    found; None where the two agree, or where that file is no more this output's alone:
    another entry beside it has it as its own recipe (``labels/cells``) or shared it under
    the old rule (``labels/cells.v2``), or the folder cannot be listed."""
    output = Path(output)
    stem = output.name.rsplit(".", 1)[0]
    older = output.with_name(stem + ".recipe.json")
    if older == labels_recipe_path(output):
        return None
    try:
        names = [p.name for p in output.parent.iterdir()]
    except OSError:
        return None
    for name in names:
        if name == output.name or name.endswith(".recipe.json"):
            continue
        if name.rsplit(".", 1)[0] == stem or labels_recipe_path(output.with_name(name)) == older:
            return None
    return older


def ome_image_around(target: str | os.PathLike) -> Path | None:
    """The OME-Zarr image group that ``target`` lies inside (the nearest enclosing one), else
    None: what writing there could clobber."""
    for parent in Path(target).absolute().parents:
        if _is_ome_image(parent):
            return parent
    return None


def check_labels_in_ome_image(
    target: str | os.PathLike,
    source: str | os.PathLike | None,
    name: str | None = None,
    read_with: str | None = None,
) -> Path | None:
    """Refuse (ValueError, one line) labels written to ``target`` inside an OME-Zarr image
    other than as labels of that image in its labels group (``IMAGE/labels/NAME``, OME-NGFF's
    place for them): elsewhere in it the labels could replace the image's own arrays or
    groups; in another image's labels group they would pass for that image's (``source``:
    the path of the image they are of, None where not read from a path; ``name``: how they
    are named, ``source`` unless given); labels of the image read with axes other than its
    OME-Zarr axes (``read_with``: those axes) are none of its labels; and ``IMAGE/labels/NAME``
    that holds something other than OME-Zarr labels is not replaced. The rule of
    ``tessella segment`` in memory and blockwise. Returns that image (whose labels group lists
    the labels once written), None where ``target`` is in none."""
    target = Path(target)
    image = ome_image_around(target)
    if image is None:
        return None
    if target.absolute().parent != image / "labels":
        raise ValueError(
            f"{target} is inside the OME-Zarr image {image}, whose arrays it could replace; "
            f"write its labels to {image / 'labels' / 'NAME'} or outside it"
        )
    if source is None or Path(source).resolve() != image.resolve():
        raise ValueError(
            f"{target}: the labels group of the OME-Zarr image {image} holds that image's "
            f"labels, and these are {source if name is None else name}'s; write them elsewhere"
        )
    if read_with is not None:
        raise ValueError(
            f"{target}: the labels group of the OME-Zarr image {image} holds OME-Zarr labels "
            f"of its axes, and these are read with axes {read_with}; write them elsewhere"
        )
    if target.exists() or target.is_symlink():
        found = _group_metadata(target)
        if found is None or "image-label" not in _ome_attrs(found[1]):
            raise ValueError(f"{target} exists and holds no OME-Zarr labels; it is not replaced")
    return image


def _write_group_attrs(path: Path, form: int, attrs: dict, create: bool) -> None:
    """Replace the attributes of the zarr group at ``path`` (format ``form``), atomically;
    ``create``: make the group first."""
    import json

    from ._write import write_json

    if form == 2:
        if create:
            write_json(path / ".zgroup", {"zarr_format": 2})
        write_json(path / ".zattrs", attrs)
        return
    meta: dict[str, Any] = {"zarr_format": 3, "node_type": "group"}
    if not create:
        meta = json.loads((path / "zarr.json").read_text())
    meta["attributes"] = attrs
    write_json(path / "zarr.json", meta)


#: how many folders above the labels a relative image name may climb (``../../../``): the
#: labels' and the image's common folder further up is no one project's
_MAX_UP = 3


def _through_link(path: str) -> bool:
    """Whether the absolute ``path`` (which may not exist yet) goes through a symbolic link:
    a reader that joins names lexically (OME-Zarr readers, URLs) and the system, which
    follows the link before a ``..``, would resolve a relative name from it differently."""
    return os.path.realpath(path) != os.path.normpath(path)


def image_source(image: str | None, labels: str | os.PathLike) -> str | None:
    """How OME-Zarr labels at ``labels`` name the ``image`` they are of (its absolute path,
    as :func:`labels_ome` gives it) in ``image-label.source.image``: by a path relative to
    the labels (OME-NGFF's form, as ``"../../"`` for labels in the image's labels group), so
    that the two moved together still name each other, where they lie close in one file
    system tree: one device, a common folder at most :data:`_MAX_UP` folders above the
    labels and at least two below the root (not ``/home`` nor ``/mnt``), and neither path
    through a symbolic link (a reader joining the name to the labels' path as the user
    reaches them would land elsewhere than the system does); else by its absolute path.
    Labels moved without their image lose a relative name. ``image`` already relative, or
    None: as is.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()).resolve()
    >>> image_source(str(root / "in" / "img.zarr"), root / "out" / "labels.zarr")
    '../../in/img.zarr'
    >>> far = root / "a" / "b" / "c" / "labels.zarr"  # (four folders up to ``root``)
    >>> image_source(str(root / "in" / "img.zarr"), far) == str(root / "in" / "img.zarr")
    True
    """
    if image is None or not os.path.isabs(image):
        return image
    at = os.path.abspath(labels)
    image = os.path.normpath(image)

    def device(path: Path) -> int:  # (of the nearest folder there: the labels may be unwritten)
        return os.stat(next(p for p in (path, *path.parents) if p.exists())).st_dev

    try:
        common = os.path.commonpath([image, at])
        same = device(Path(image)) == device(Path(at))
        linked = _through_link(image) or _through_link(at)
    except (OSError, ValueError, StopIteration):  # (Windows: on other drives)
        return image
    named = Path(os.path.relpath(image, at)).as_posix()
    below_root = len(Path(common).parts) - 1  # (of "/" or "C:\\" itself: 0)
    if not same or linked or below_root < 2 or named.split("/").count("..") > _MAX_UP:
        return image
    return named


def move_labels_source(
    written: str | os.PathLike, final: str | os.PathLike, image: str | None = None
) -> None:
    """Make the OME-Zarr labels written at ``written``, to be moved to ``final`` (a staging
    or work folder's copy), name their image as :func:`image_source` names it from
    ``final``: a relative ``image-label.source.image`` is relative to where the labels lie.
    ``image``: the image's own path where it is known (a blockwise commit, which a resume
    runs again: its labels may already name the image from ``final``), else the name the
    labels hold, read from ``written``. Nothing where ``written`` holds no OME-Zarr labels
    or names no image."""
    written = Path(written)
    found = _group_metadata(written)
    if found is None:
        return
    form, attrs = found
    label = _ome_attrs(attrs).get("image-label")
    source = label.get("source") if isinstance(label, dict) else None
    if not isinstance(source, dict) or not isinstance(source.get("image"), str):
        return
    if image is not None:
        image = os.path.abspath(image)
    elif os.path.isabs(source["image"]):
        image = source["image"]
    else:
        image = os.path.normpath(written.resolve() / source["image"])
    named = image_source(image, final)
    if named != source["image"]:
        source["image"] = named
        _write_group_attrs(written, form, attrs, create=False)


def point_labels_at_image(labels: str | os.PathLike, name: str | None = None) -> None:
    """Make the OME-Zarr labels image at ``labels`` name its image as NGFF says for labels
    in an image's labels group: ``image-label.source.image`` ``"../../"`` (a relative path;
    they were written naming it by its absolute path); ``name``: its multiscales name (the
    layer name napari-ome-zarr gives it; each was "tessella labels")."""
    labels = Path(labels)
    found = _group_metadata(labels)
    if found is None:
        raise ValueError(f"{labels}: no zarr group")
    form, attrs = found
    ome = _ome_attrs(attrs)
    label = ome.get("image-label")
    if not isinstance(label, dict):
        raise ValueError(f"{labels}: no OME-Zarr labels (image-label)")
    label["source"] = {**(label.get("source") or {}), "image": "../../"}
    multiscales = ome.get("multiscales")
    if name and isinstance(multiscales, list) and multiscales and isinstance(multiscales[0], dict):
        multiscales[0]["name"] = name
    _write_group_attrs(labels, form, attrs, create=False)


def register_ome_labels(target: str | os.PathLike) -> bool:
    """List labels written to ``image.zarr/labels/NAME`` in the image's labels group
    (``labels/.zattrs`` ``{"labels": [..., NAME]}``, made in the image's zarr format and
    OME-Zarr version where there is none), as OME-NGFF readers (napari-ome-zarr) find an
    image's labels. False where ``target`` lies in no OME-Zarr image's labels group. The
    image's own arrays and attributes are not touched; the labels group's other attributes
    and labels are kept."""
    target = Path(target)
    image = ome_image_of_labels(target)
    if image is None:
        return False
    form, image_attrs = _group_metadata(image) or (2, {})
    group = target.parent
    # (a read-modify-write: runs registering labels of one image at once, a job array,
    # each lost the others' names; the attributes are written atomically, temp + replace)
    group.mkdir(parents=True, exist_ok=True)
    with _exclusive(group / ".tessella-labels.lock"):
        return _register_locked(target, group, form, image_attrs)


def list_labels_in_image(
    target: Path, image: Path, then: str, error: type[Exception] = OSError, reason=str
) -> None:
    """:func:`register_ome_labels` of the labels ``target`` written into the labels group of
    the OME-Zarr ``image``, its failure (OSError, ValueError) said in one line as ``error``:
    "GROUP: cannot list NAME among the labels of IMAGE (``reason(exc)``); ``then``" (what was
    done about the labels). The one wording of ``tessella segment``'s and blockwise runs'."""
    try:
        register_ome_labels(target)
    except (OSError, ValueError) as exc:
        raise error(
            f"{target.parent}: cannot list {target.name} among the labels of {image} "
            f"({reason(exc)}); {then}"
        ) from None


def _register_locked(target: Path, group: Path, form: int, image_attrs: dict) -> bool:
    found = _group_metadata(group)
    create = found is None
    attrs = {} if found is None else found[1]
    if create and form == 3:
        version = _ome_attrs(image_attrs).get("version", "0.5")
        attrs = {"ome": {"version": version}}
    elif found is not None:
        form = found[0]  # the group's own format, as it is
    ome = attrs["ome"] if isinstance(attrs.get("ome"), dict) else attrs
    listed = ome.get("labels")
    names = [n for n in listed if isinstance(n, str)] if isinstance(listed, list) else []
    if target.name in names and not create:
        return True
    ome["labels"] = names + ([target.name] if target.name not in names else [])
    _write_group_attrs(group, form, attrs, create)
    return True


@contextlib.contextmanager
def _exclusive(lock: Path, stale_s: float = 60.0):
    """Hold an exclusive lock on the file ``lock`` (made where missing, removed after, so that
    nothing is left where it lies: in an image's labels group, whose entries other OME-Zarr
    readers list) while in the block: ``fcntl.flock`` on POSIX, which the system releases
    when its holder dies; the file is removed by its holder before it unlocks it, and a
    process that locked a file no longer at ``lock`` (removed meanwhile) locks the one there
    now, so that one process at a time holds the file at ``lock``. Elsewhere, or where the
    file system refuses flock, the file ``lock.excl`` made with O_EXCL and removed after,
    retried while another holds it (one older than ``stale_s`` seconds, left by a process
    killed while holding it, taken over)."""
    try:
        import fcntl
    except ImportError:  # (Windows)
        fcntl = None  # type: ignore[assignment]
    while fcntl is not None:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # (a file system without flock: the lock file below)
            os.close(fd)  # (the file is kept: flock may fail for this process alone, e.g.
            break  # ENOLCK, while another holds it; its next holder removes it)
        try:
            there = os.stat(lock)
        except FileNotFoundError:
            there = None
        held = os.fstat(fd)
        if there is None or (there.st_ino, there.st_dev) != (held.st_ino, held.st_dev):
            os.close(fd)  # (removed by the holder before: lock the file there now)
            continue
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()
            os.close(fd)  # (releases the lock)
        return
    excl = lock.with_name(lock.name + ".excl")
    while True:
        try:
            os.close(os.open(excl, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
        except FileExistsError:
            with contextlib.suppress(OSError):
                if time.time() - excl.stat().st_mtime > stale_s:
                    excl.unlink()
                    continue
            time.sleep(0.02)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            excl.unlink()


def _ome_axis_names(entries: Any, ndim: int, dataset: str, axes: str | None) -> str | None:
    """The axis letters of OME-Zarr ``axes`` metadata (``[{"name": "y", ...}, ...]`` or
    ``["y", ...]``), upper-cased; None when absent (the caller's ``axes`` must say them, or the
    array is 5D: OME-Zarr before 0.3 had no axes and always TCZYX)."""
    if entries is None:
        return "TCZYX" if ndim == 5 and axes is None else None
    if not isinstance(entries, list):
        raise ValueError(f"OME-Zarr axes must be a list, got {entries!r}")
    if len(entries) != ndim:
        raise ValueError(
            f"OME-Zarr multiscales names {len(entries)} axes but its dataset {dataset!r} has {ndim}"
        )
    names = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if not isinstance(name, str) or name.upper() not in ("T", "C", "Z", "Y", "X"):
            if axes is not None and len(axes) == ndim:  # the given axes say what each is
                return axes.upper()
            raise ValueError(
                f"OME-Zarr axis {entry!r}: Tessella knows the axes t, c, z, y and x; give "
                "the axes of every dimension (axes= in Python, --axes on the command line)"
            )
        names.append(name.upper())
    return "".join(names)

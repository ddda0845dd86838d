"""Reading images (TIFF with ImageJ/OME metadata, folders of TIFFs, zarr) and writing labels.

Every write is atomic: data goes to a temporary file beside the target, which is renamed over
it only when complete, so a failure never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .axes import axes_contradict, check_axes, guess_axes

if TYPE_CHECKING:
    import zarr

__all__ = [
    "AxesContradictionWarning",
    "ImageData",
    "read_image",
    "read_frames",
    "list_images",
    "write_labels",
    "write_json",
    "write_mask_stack",
    "read_mask_stack",
    "read_masks",
    "write_zarr_labels",
    "labels_ome",
    "create_ome_labels",
    "atomic_path",
    "is_zarr_path",
]

TIFF_SUFFIXES = (".tif", ".tiff")
_SUPPORTED_DTYPES = "biuf"  # bool, int, uint, float


# the TIFF Software tag of labels written by tessella: its reader opens them as labels
LABELS_SOFTWARE = "tessella labels"


class AxesContradictionWarning(UserWarning):
    """Axes given to :func:`read_image` that contradict the axes the file's metadata states:
    the file is read as they say (they override the metadata)."""


@dataclass
class ImageData:
    data: np.ndarray | zarr.Array  # a zarr array for zarr input
    axes: str
    pixel_size: dict[str, float] = field(default_factory=dict)  # axis -> size, in `unit`
    unit: str = "pixel"
    path: Path | None = None
    labels: bool = False  # written as labels (by tessella, or an OME-Zarr image-label)
    #: an OME-Zarr image's layout, which its labels repeat (:func:`labels_ome`): ``version``,
    #: ``axes`` and ``scale`` of each stored axis, ``kept``: the stored axis of each of ``axes``
    ome: dict | None = None
    #: the axes the file's own metadata states, one letter per axis of ``data`` and ``?`` where
    #: it says nothing (an ImageJ stack of unknown planes, a plain TIFF's pages, planes tagged
    #: planar RGB, which a plain ``tifffile.imwrite`` of 3 or 4 planes writes); None when unknown
    stated_axes: str | None = None
    #: what states them: "ImageJ metadata", "OME metadata", "TIFF tags (RGB)", "TIFF
    #: description" (tifffile's), "TIFF pages", "OME-Zarr axes" or "zarr attribute
    #: tessella_axes"
    stated_by: str = ""


def is_zarr_path(path: Path) -> bool:
    path = Path(path)
    return path.suffix == ".zarr" or (
        path.is_dir()
        and (
            (path / ".zarray").exists()
            or (path / "zarr.json").exists()
            or (path / ".zgroup").exists()
        )
    )


def _tiff_axes(series_axes: str, shape: tuple[int, ...]) -> tuple[str, list[int]]:
    """Map tifffile's axes letters to ours; returns the axes and the singleton axes to drop."""
    mapped, drop = [], []
    for i, (letter, n) in enumerate(zip(series_axes, shape)):
        letter = {"S": "C", "Q": "Z", "I": "Z"}.get(letter, letter)
        if letter not in "TZCYX" or (n == 1 and letter not in "YX") or letter in mapped:
            if n != 1:
                raise ValueError(f"unsupported axis {letter!r} of length {n} in {series_axes!r}")
            drop.append(i)
            continue
        mapped.append(letter)
    return "".join(mapped), drop


def _tiff_pixel_size(tif) -> tuple[dict[str, float], str]:
    sizes: dict[str, float] = {}
    unit = "pixel"
    if tif.is_ome and tif.ome_metadata:
        import xml.etree.ElementTree as ET

        root = ET.fromstring(tif.ome_metadata)
        for element in root.iter():
            if element.tag.endswith("Pixels"):
                for axis in "ZYX":
                    value = element.get(f"PhysicalSize{axis}")
                    if value:
                        sizes[axis] = float(value)
                unit = element.get("PhysicalSizeXUnit", "µm" if sizes else "pixel")
                break
        return sizes, unit
    page = tif.pages[0]
    ij = tif.imagej_metadata or {}
    tags = page.tags
    # ImageJ files: pixels per ImageJ's unit, whatever ResolutionUnit says. Others: only a
    # resolution in centimetres is a pixel size; inches (72 dpi from an image editor) and no
    # unit are a print resolution, not one
    res_unit = int(getattr(tags.get("ResolutionUnit"), "value", 2))
    per_um = 1.0 if ij else (1e-4 if res_unit == 3 else None)
    # 1/1 is the default resolution, not a size, unless ImageJ names a unit (a 1 µm pixel)
    ij_unit = str(ij.get("unit", "")).strip() not in ("", "pixel", "pixels")
    for axis, tag in (("X", "XResolution"), ("Y", "YResolution")):
        if tag in tags and per_um is not None:
            num, den = tags[tag].value
            if num and den and (num != 1 or den != 1 or ij_unit):
                sizes[axis] = den / num / per_um
    if "spacing" in ij:
        sizes["Z"] = float(ij["spacing"])
    if sizes:
        unit = ij.get("unit", "pixel") if ij else "µm"
        unit = {"micron": "µm", "um": "µm", "\\u00B5m": "µm"}.get(unit, unit)
    return sizes, unit


def _tiff_error(path, exc: Exception) -> str:
    """One line for a TIFF that cannot be read: a cut or corrupt file raises anything from
    tifffile's own TiffFileError to a codec's DeflateError or an IndexError."""
    import tifffile

    plain = isinstance(exc, tifffile.TiffFileError | OSError | ValueError) and str(exc)
    return f"{path}: cannot read as TIFF ({exc if plain else f'{type(exc).__name__}: {exc}'})"


def _read_tiff(path: Path, axes: str | None) -> ImageData:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            data = series.asarray()
            meta_axes, drop = _tiff_axes(series.axes, series.shape)
            stated, stated_by = _tiff_stated_axes(series, drop)
            sizes, unit = _tiff_pixel_size(tif)
            labels = str(tif.pages[0].software or "").startswith(LABELS_SOFTWARE)
    except MemoryError:
        raise
    except Exception as exc:  # tifffile and its codecs raise many kinds (DeflateError, ...)
        raise ValueError(_tiff_error(path, exc)) from None
    if drop and data.ndim == len(series.axes):
        data = data.squeeze(axis=tuple(drop))
    if axes is None:
        # without metadata, a stack of 3 or 4 planes is a stack like any other (ZYX, which
        # the CLI refuses for 2D models with a hint to give --axes TYX or CYX), not colour
        axes = meta_axes if len(meta_axes) == data.ndim else guess_axes(data.shape)
    axes = check_axes(axes, data.ndim, str(path))
    if stated is not None and len(stated) != data.ndim:
        stated = None
    return ImageData(data, axes, sizes, unit, path, labels, stated_axes=stated, stated_by=stated_by)


def _tiff_stated_axes(series, drop: list[int]) -> tuple[str | None, str]:
    """What a TIFF's metadata says each kept axis is (``?``: nothing) and what says it.
    tifffile names axes it knows nothing of Q or I, and a plain ``imwrite`` of 3 or 4 planes
    tags them planar RGB (S first), so those are ``?``; Y and X are the pages' own."""
    letters = [letter for i, letter in enumerate(series.axes) if i not in drop]
    kind = getattr(series, "kind", "")
    last = len(letters) - 1
    stated = "".join(
        "?" if letter in "QI" or (letter == "S" and i != last) else {"S": "C"}.get(letter, letter)
        for i, letter in enumerate(letters)
    )
    if any(letter not in "TZCYX?" for letter in stated):
        return None, ""
    if kind in ("imagej", "ome"):
        return stated, {"imagej": "ImageJ metadata", "ome": "OME metadata"}[kind]
    if stated.endswith("C"):
        return stated, "TIFF tags (RGB)"
    return stated, "TIFF description" if set(stated) & set("TZC") else "TIFF pages"


def _read_zarr(path: Path, axes: str | None) -> ImageData:
    """A zarr array (axes and pixel size in its attributes, as tessella writes them) or an
    OME-Zarr image (its first level). Metadata of the wrong shape is a ValueError naming the
    store, never a KeyError or TypeError from deep inside."""
    import zarr

    try:
        node = zarr.open(str(path), mode="r")
    except Exception as exc:
        raise ValueError(f"{path}: cannot open as zarr ({exc})") from None
    if axes is not None and not isinstance(axes, str):
        raise ValueError(f"{path}: axes must be text such as 'YX', got {axes!r}")
    try:
        if isinstance(node, zarr.Group):
            return _read_ome_zarr(path, node, axes)
        return _read_zarr_array(path, node, axes)
    except ValueError as exc:  # name the store once
        message = str(exc)
        named = message if message.startswith(str(path)) else f"{path}: {message}"
        raise ValueError(named) from None
    except (KeyError, TypeError, AttributeError, IndexError) as exc:  # metadata of odd shape
        raise ValueError(f"{path}: malformed zarr metadata ({type(exc).__name__}: {exc})") from None


def _read_zarr_array(path: Path, array, axes: str | None) -> ImageData:
    attrs: dict[str, Any] = dict(array.attrs)
    labels = "tessella_axes" in attrs  # written by write_zarr_labels or blockwise
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
    axes = check_axes(axes, array.ndim, str(path))
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
        raise ValueError("OME-Zarr multiscales names no axes; pass the axes (--axes)")
    axes = check_axes(axes, array.ndim, str(path))
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
    """The OME-Zarr layout of labels of ``label_axes`` (the image's axes without C) of an
    OME-Zarr ``image``, as :func:`write_zarr_labels` and blockwise segmentation write them:
    the image's version and, of the label axes, its axis metadata and scale. None for an
    image that is no OME-Zarr."""
    if image.ome is None:
        return None
    source = str(Path(image.path).resolve()) if image.path is not None else None
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
    for 0.5. Returns the array."""
    import zarr

    version = ome["version"]
    v2 = version < "0.5"
    group = zarr.open_group(str(path), mode="w", zarr_format=2 if v2 else 3)
    encoding: dict[str, Any] | None = {"name": "v2", "separator": "/"} if v2 else None
    array = group.create_array(
        "0", shape=shape, dtype=dtype, chunks=chunks, fill_value=0, chunk_key_encoding=encoding
    )
    multiscale = {
        "name": "tessella labels",
        "axes": list(ome["axes"]),
        "datasets": [
            {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": ome["scale"]}]}
        ],
    }
    label = {"version": version, "source": {"image": ome.get("source")}}
    if v2:
        version = "0.4" if version < "0.4" else version  # the layout written is 0.4's
        label["version"] = version
        group.attrs.update(
            {"multiscales": [multiscale | {"version": version}], "image-label": label}
        )
    else:
        group.attrs["ome"] = {"version": version, "multiscales": [multiscale], "image-label": label}
    return array


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
                "the axes of every dimension (--axes)"
            )
        names.append(name.upper())
    return "".join(names)


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
            f"{path}: read as {image.axes} as the axes given say, but its {image.stated_by} "
            f"say {image.stated_axes}",
            AxesContradictionWarning,
            stacklevel=2,
        )
    return image


def list_images(folder: str | os.PathLike) -> list[Path]:
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in TIFF_SUFFIXES)
    if not files:
        raise ValueError(f"{folder}: the folder holds no .tif/.tiff files")
    return files


def read_frames(folder: str | os.PathLike) -> ImageData:
    """A folder of 2D frames (e.g. a Cell Tracking Challenge sequence ``t000.tif ...``) as one
    time-lapse ``T`` + the frames' axes, in file-name order; the pixel size is the first
    frame's. Every frame must have the first one's shape."""
    folder = Path(folder)
    files = list_images(folder)
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


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, overwrite: bool = True):
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; pass overwrite=True to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _default_mode())  # mkstemp makes 0600 files; keep the usual permissions
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _labels_dtype(labels: np.ndarray):
    top = int(labels.max()) if labels.size else 0
    if labels.size and int(labels.min()) < 0:
        raise ValueError(f"labels must not be negative (found {int(labels.min())})")
    return np.uint16 if top <= np.iinfo(np.uint16).max else np.uint32


def write_labels(
    path: str | os.PathLike,
    labels: np.ndarray,
    axes: str = "YX",
    pixel_size: dict[str, float] | None = None,
    unit: str = "µm",
    overwrite: bool = True,
) -> Path:
    """Write labels as TIFF (uint16, or uint32 above 65,535 objects) with axes and pixel size.

    uint16 labels become an ImageJ hyperstack (Fiji reads the scale); uint32 ones, which
    ImageJ cannot hold, an OME-TIFF with physical sizes. The write is atomic.
    """
    import tifffile

    path = Path(path)
    labels = np.asarray(labels)
    dtype = _labels_dtype(labels)
    axes = check_axes(axes, labels.ndim, str(path))
    pixel_size = pixel_size or {}
    resolution = None
    if "X" in pixel_size and "Y" in pixel_size:
        resolution = (1.0 / pixel_size["X"], 1.0 / pixel_size["Y"])
    with atomic_path(path, overwrite) as tmp:
        metadata: dict[str, Any]
        if dtype == np.uint16:
            metadata = {"axes": axes}
            if pixel_size:
                metadata["unit"] = "micron" if unit in ("µm", "um", "micron") else unit
            if "Z" in pixel_size:
                metadata["spacing"] = pixel_size["Z"]
            tifffile.imwrite(
                tmp,
                labels.astype(dtype),
                imagej=True,
                resolution=resolution,
                metadata=metadata,
                compression="zlib",
                software=LABELS_SOFTWARE,
            )
        else:
            metadata = {"axes": axes}
            for axis, size in pixel_size.items():
                metadata[f"PhysicalSize{axis}"] = size
                metadata[f"PhysicalSize{axis}Unit"] = unit
            tifffile.imwrite(
                tmp,
                labels.astype(dtype),
                ome=True,
                metadata=metadata,
                compression="zlib",
                software=LABELS_SOFTWARE,
            )
    return path


def write_mask_stack(
    path: str | os.PathLike,
    masks: np.ndarray,
    overwrite: bool = True,
    *,
    pixel_size: dict[str, float] | None = None,
    unit: str = "µm",
) -> Path:
    """Write objects that may overlap as an ``(N, Y, X)`` uint8 stack of 0/1 masks, one per
    object, atomically, with the pixel size as :func:`write_labels` writes it.

    The stack is an ImageJ hyperstack whose frames are the objects (Fiji shows one mask per
    frame, white on black, with its pixel size; frame n is object n). Frames rather than
    channels: napari splits channels into one layer per object. ``pixel_size`` may name
    more axes than ``Y`` and ``X`` (a labels layer's, say); only those two are written.

    >>> import tempfile
    >>> masks = np.zeros((2, 4, 5), bool)
    >>> masks[0, :2], masks[1, 1:] = True, True  # two objects sharing a row
    >>> path = Path(tempfile.mkdtemp()) / "worms.tif"
    >>> _ = write_mask_stack(path, masks, pixel_size={"Y": 0.3, "X": 0.3})
    >>> back = read_image(path)
    >>> back.data.shape, back.axes, back.pixel_size == {"Y": 0.3, "X": 0.3}, back.unit
    ((2, 4, 5), 'TYX', True, 'µm')
    """
    import tifffile

    masks = np.asarray(masks, bool)
    if masks.ndim != 3:
        raise ValueError(f"{path}: a mask stack is (N, Y, X), got shape {masks.shape}")
    y_size, x_size = ((pixel_size or {}).get(axis) for axis in "YX")
    resolution = None
    metadata: dict[str, Any] = {"axes": "TYX", "min": 0, "max": 1}  # (Fiji's display range)
    if y_size and x_size:
        resolution = (1.0 / x_size, 1.0 / y_size)
        metadata["unit"] = "micron" if unit in ("µm", "um", "micron") else unit
    with atomic_path(path, overwrite) as tmp:
        if len(masks):
            tifffile.imwrite(
                tmp,
                masks.astype(np.uint8),
                imagej=True,
                resolution=resolution,
                metadata=metadata,
                compression="zlib",
            )
        else:  # no objects (nothing to measure): ImageJ has no empty hyperstack
            tifffile.imwrite(
                tmp, masks.astype(np.uint8), photometric="minisblack", metadata={"axes": "QYX"}
            )
    return Path(path)


def read_mask_stack(path: str | os.PathLike, ndim: int = 2) -> np.ndarray:
    """Objects as an ``(N, *spatial)`` bool stack from a mask stack (``ndim + 1`` axes) or a
    label image (``ndim`` axes; its objects then do not overlap)."""
    return read_masks(path, ndim)[0]


def read_masks(path: str | os.PathLike, ndim: int = 2, ignore_label: int | None = None):
    """``(objects, unannotated)``: :func:`read_mask_stack`'s objects, and with
    ``ignore_label`` the pixels of that value (not annotated; left out of every object), else
    None (:func:`tessella.engine.evaluation.mask_stack_objects`)."""
    import tifffile

    from .evaluation import mask_stack_objects

    if is_zarr_path(Path(path)):
        data = np.asarray(read_image(path).data)
    else:
        try:
            with tifffile.TiffFile(path) as tif:  # imread returns None for a cut directory
                data = tif.series[0].asarray()
        except MemoryError:
            raise
        except Exception as exc:  # a codec's error, an IndexError from a cut file, ...
            raise ValueError(_tiff_error(path, exc)) from None
    return mask_stack_objects(data, ndim, ignore_label, str(path))


def _json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as None: JSON has no NaN (Python writes a bare
    ``NaN`` that other readers refuse)."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def write_json(path: str | os.PathLike, data: dict, overwrite: bool = True) -> Path:
    """Write ``data`` as JSON, atomically; NaN and infinities become null."""
    with atomic_path(path, overwrite) as tmp:
        tmp.write_text(json.dumps(_json_safe(data), indent=2, default=str) + "\n")
    return Path(path)


def write_zarr_labels(
    path: str | os.PathLike,
    labels: np.ndarray,
    axes: str = "YX",
    pixel_size: dict[str, float] | None = None,
    unit: str = "µm",
    overwrite: bool = True,
    chunks: int = 512,
    ome: dict | None = None,
) -> Path:
    """Write labels as a zarr array (with ``tessella_axes`` and pixel size in its attributes),
    or with ``ome`` (:func:`labels_ome` of an OME-Zarr image) as OME-Zarr labels of that
    image's version, axes and scale, as blockwise segmentation writes them.

    Written under a temporary name and renamed into place when complete.
    """
    import shutil

    import zarr

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    labels = np.asarray(labels)
    tmp = path.with_name(f".{path.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        shape, dtype = labels.shape, _labels_dtype(labels)
        blocks = tuple(min(chunks, n) for n in labels.shape)
        if ome is not None:
            if len(ome["axes"]) != labels.ndim:
                raise ValueError(f"{path}: OME-Zarr axes {ome['axes']} for {axes} labels")
            create_ome_labels(tmp, shape, dtype, blocks, ome)[...] = labels
        else:
            array = zarr.create_array(str(tmp), shape=shape, dtype=dtype, chunks=blocks)
            array[...] = labels
            array.attrs.update(
                {"tessella_axes": axes, "pixel_size": pixel_size or {}, "unit": unit}
            )
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path

"""Atomic writes: labels as TIFF or zarr, JSON."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..axes import check_axes
from ._image import LABELS_SOFTWARE
from ._zarr import LABELS_ATTR, create_ome_labels

__all__ = [
    "atomic_path",
    "write_labels",
    "write_json",
    "write_zarr_labels",
    "_default_mode",
    "_json_safe",
]


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
    elif pixel_size and dtype == np.uint16:
        # an ImageJ TIFF holds X and Y together, and a unit without them is read as 1 x 1
        # pixels of it: a size the input did not give stays unknown, never an invented 1
        import warnings

        warnings.warn(
            f"{path}: written without a pixel size: the one given, {pixel_size}, has none "
            f"for {' or '.join(a for a in 'YX' if a not in pixel_size)}",
            UserWarning,
            stacklevel=2,
        )
        pixel_size = {}
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


def _label_chunks(shape: tuple[int, ...], itemsize: int, chunks: int) -> tuple[int, ...]:
    """The chunks :func:`write_zarr_labels` writes: ``chunks`` along each axis, except the axes
    before the last two (Z, T): 1, and the one before Y and X as deep as a row of chunks stays
    within the digest's piece (:data:`~tessella.engine.digest._PIECE_BYTES`, 128 MiB), so that
    the reader checks a recipe's digest decoding each chunk once, and napari showing one plane
    of labels opened lazily decodes a few planes, not 512 (512³ uint32 chunks were 512 MiB).

    >>> _label_chunks((512, 2048, 2048), 4, 512), _label_chunks((4, 64, 256, 256), 2, 512)
    ((8, 512, 512), (1, 64, 256, 256))
    >>> _label_chunks((3000, 5000), 4, 512)
    (512, 512)
    """
    from ..digest import _PIECE_BYTES

    blocks = [min(chunks, n) for n in shape]
    if len(shape) >= 3:
        blocks[: len(shape) - 3] = [1] * (len(shape) - 3)
        plane = itemsize * math.prod(shape[-2:])
        blocks[-3] = max(1, min(blocks[-3], _PIECE_BYTES // plane))
    return tuple(blocks)


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
        blocks = _label_chunks(shape, np.dtype(dtype).itemsize, chunks)
        if ome is not None:
            if len(ome["axes"]) != labels.ndim:
                raise ValueError(f"{path}: OME-Zarr axes {ome['axes']} for {axes} labels")
            create_ome_labels(tmp, shape, dtype, blocks, ome)[...] = labels
        else:
            array = zarr.create_array(str(tmp), shape=shape, dtype=dtype, chunks=blocks)
            array[...] = labels
            array.attrs.update(
                {
                    "tessella_axes": axes,
                    "pixel_size": pixel_size or {},
                    "unit": unit,
                    LABELS_ATTR: True,  # (the reader's mark: the other keys an image may carry)
                }
            )
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path

"""Objects that may overlap: writing and reading stacks of 0/1 masks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._image import is_zarr_path
from ._read import read_image
from ._tiff import _tiff_error
from ._write import atomic_path, unit_for

__all__ = [
    "MASK_STACK_INFO",
    "write_mask_stack",
    "read_mask_stack",
    "read_masks",
    "mask_stack_labels",
    "MaskCrops",
    "mask_crops",
    "masks_from_crops",
]

#: the ImageJ ``Info`` of a mask stack :func:`write_mask_stack` wrote (Fiji keeps it when it
#: saves the file again): the napari reader opens such a file as objects, not as a movie
MASK_STACK_INFO = "tessella mask stack: frame n is object n (0/1), objects may overlap"


def write_mask_stack(
    path: str | os.PathLike,
    masks: np.ndarray,
    overwrite: bool = True,
    *,
    pixel_size: dict[str, float] | None = None,
    unit: str = "µm",
    make_parents: bool = False,
) -> Path:
    """Write objects that may overlap as an ``(N, Y, X)`` uint8 stack of 0/1 masks, one per
    object, atomically, with the pixel size as :func:`write_labels` writes it. The folder of
    ``path`` must exist (FileNotFoundError naming it), unless ``make_parents``: then the
    missing folders are made, and removed again where the write fails.

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
    # (min, max: Fiji's display range; Info: what the frames are, for the reader and Fiji)
    metadata: dict[str, Any] = {"axes": "TYX", "min": 0, "max": 1, "Info": MASK_STACK_INFO}
    if y_size and x_size:
        resolution = (1.0 / x_size, 1.0 / y_size)
        metadata["unit"] = unit_for(unit, "imagej")  # ("micron", Fiji's µm: ASCII)
    with atomic_path(path, overwrite, make_parents) as tmp:
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

    from ..evaluation import mask_stack_objects

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


def mask_stack_labels(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, overlaps)`` of an ``(N, Y, X)`` mask stack, as Segment shows objects that
    overlap: ``labels`` paints object ``n + 1`` (``masks[n]``) larger objects first, so the
    smaller shows where they overlap (what ``tessella segment`` writes without ``--stack``);
    ``overlaps`` paints each object that ``labels`` hides in part whole, smaller over larger
    (Segment's overlaps layer), zeros where none is hidden. uint16 (uint32 above 65,535).

    >>> masks = np.zeros((2, 3, 5), bool)
    >>> masks[0, 1], masks[1, :, 2] = True, True  # a long object crossed by a short one
    >>> labels, overlaps = mask_stack_labels(masks)
    >>> labels.tolist()
    [[0, 0, 2, 0, 0], [1, 1, 2, 1, 1], [0, 0, 2, 0, 0]]
    >>> overlaps.tolist()
    [[0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]]
    """
    masks = np.asarray(masks, bool)
    if masks.ndim != 3:
        raise ValueError(f"a mask stack is (N, Y, X), got shape {masks.shape}")
    dtype = np.uint16 if len(masks) <= np.iinfo(np.uint16).max else np.uint32
    sizes = masks.reshape(len(masks), -1).sum(axis=1)
    labels = np.zeros(masks.shape[1:], dtype)
    for k in np.argsort(-sizes, kind="stable"):
        labels[masks[k]] = k + 1
    overlaps = np.zeros_like(labels)
    for k in np.argsort(sizes, kind="stable"):
        if (masks[k] & (labels != k + 1)).any():
            overlaps[masks[k] & (overlaps == 0)] = k + 1
    return labels, overlaps


@dataclass(frozen=True)
class MaskCrops:
    """An ``(N, Y, X)`` mask stack kept small: each object's mask cropped to its bounding box
    (``crops[n]`` at ``corners[n]``), so it costs about what its objects cover, not
    ``N x Y x X``. :func:`mask_crops` makes one, :func:`masks_from_crops` gives the stack back."""

    shape: tuple[int, int, int]
    corners: tuple[tuple[int, int], ...]
    crops: tuple[np.ndarray, ...]


def mask_crops(masks: np.ndarray) -> MaskCrops:
    """``masks`` (``(N, Y, X)``, 0/1) as :class:`MaskCrops`; an empty mask keeps a 0 x 0 crop.

    >>> masks = np.zeros((2, 4, 6), bool)
    >>> masks[0, 1:3, 2:5] = masks[1, 3, 0] = True
    >>> kept = mask_crops(masks)
    >>> kept.corners, [c.shape for c in kept.crops]
    (((1, 2), (3, 0)), [(2, 3), (1, 1)])
    >>> bool((masks_from_crops(kept) == masks).all())
    True
    """
    masks = np.asarray(masks, bool)
    if masks.ndim != 3:
        raise ValueError(f"a mask stack is (N, Y, X), got shape {masks.shape}")
    corners, crops = [], []
    for mask in masks:
        rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
        if rows.size == 0:
            corners.append((0, 0))
            crops.append(np.zeros((0, 0), bool))
            continue
        y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        corners.append((y0, x0))
        crops.append(mask[y0:y1, x0:x1].copy())
    shape = (int(masks.shape[0]), int(masks.shape[1]), int(masks.shape[2]))
    return MaskCrops(shape, tuple(corners), tuple(crops))


def masks_from_crops(kept: MaskCrops) -> np.ndarray:
    """The ``(N, Y, X)`` bool stack :func:`mask_crops` was given."""
    masks = np.zeros(kept.shape, bool)
    for n, ((y0, x0), crop) in enumerate(zip(kept.corners, kept.crops)):
        masks[n, y0 : y0 + crop.shape[0], x0 : x0 + crop.shape[1]] = crop
    return masks

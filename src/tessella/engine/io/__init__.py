"""Reading images (TIFF with ImageJ/OME metadata, folders of TIFFs, zarr, 2D PNG/JPEG/BMP
pictures) and writing labels.

Every write is atomic: data goes to a temporary file beside the target, which is renamed over
it only when complete, so a failure never leaves a half-written file. A write killed before it
finished (kill -9, a power cut) leaves hidden files beside the target, which the next write of
it recovers (:func:`recover_leftovers`; :func:`find_leftovers` lists them).
"""

from __future__ import annotations

from ._image import LABELS_SOFTWARE as LABELS_SOFTWARE
from ._image import (
    TIFF_SUFFIXES,
    AxesContradictionWarning,
    ImageData,
    is_zarr_path,
)
from ._leftovers import find_leftovers, recover_leftovers
from ._masks import (
    MASK_STACK_INFO,
    MaskCrops,
    mask_crops,
    mask_stack_labels,
    masks_from_crops,
    read_mask_stack,
    read_masks,
    write_mask_stack,
)
from ._picture import PICTURE_SUFFIXES, LossyPictureWarning
from ._read import as_array, list_images, read_frames, read_image
from ._write import _default_mode as _default_mode
from ._write import _json_safe as _json_safe
from ._write import atomic_path, write_json, write_labels, write_zarr_labels
from ._zarr import LABELS_ATTR, create_ome_labels, labels_ome
from ._zarr import _labels_layout as _labels_layout

# LABELS_SOFTWARE, _default_mode (registry), _json_safe (CLI) and _labels_layout (blockwise)
# are importable from here too
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
    "mask_stack_labels",
    "MaskCrops",
    "mask_crops",
    "masks_from_crops",
    "MASK_STACK_INFO",
    "write_zarr_labels",
    "labels_ome",
    "create_ome_labels",
    "LABELS_ATTR",
    "atomic_path",
    "find_leftovers",
    "recover_leftovers",
    "is_zarr_path",
    "as_array",
    "TIFF_SUFFIXES",
    "PICTURE_SUFFIXES",
    "LossyPictureWarning",
]

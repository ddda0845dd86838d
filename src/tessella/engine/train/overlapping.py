"""Training data whose objects overlap (crossing worms): one binary mask per object.

The layout is ``images/NAME.tif`` with ``masks/NAME.tif``: an ``(N, H, W)`` stack of object
masks (BBBC010's ``worm_masks`` are such stacks) or an ordinary label image (objects then do
not overlap). The files may be symbolic links.

The objects of a sample travel as one integer *bitmask* image: bit ``k`` is set where object
``k`` is (at most :data:`MAX_OBJECTS` objects per image), so random crops and flips apply to it
as to any label image. :func:`bitmask_to_stack` gives the masks back.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ..evaluation import mask_stack_objects
from ..io import read_image
from ..normalize import normalize
from .data import Sample, selects

__all__ = [
    "MAX_OBJECTS",
    "as_overlapping",
    "stack_to_bitmask",
    "bitmask_to_stack",
    "load_overlapping_pairs",
]

MAX_OBJECTS = 62


def stack_to_bitmask(masks: np.ndarray, name: str = "masks") -> np.ndarray:
    """``(N, H, W)`` masks -> int64 bitmask image."""
    masks = np.asarray(masks) > 0
    if len(masks) > MAX_OBJECTS:
        raise ValueError(f"{name}: {len(masks)} objects; at most {MAX_OBJECTS} per image")
    bits = np.zeros(masks.shape[1:], np.int64)
    for k, mask in enumerate(masks):
        bits[mask] |= np.int64(1) << k
    return bits


def bitmask_to_stack(bits: np.ndarray) -> np.ndarray:
    """int64 bitmask image -> ``(N, H, W)`` bool masks of the objects present (in bit order)."""
    present = np.bitwise_or.reduce(bits.ravel()) if bits.size else 0
    ks = [k for k in range(MAX_OBJECTS + 1) if (int(present) >> k) & 1]
    return np.stack([(bits >> k) & 1 == 1 for k in ks]) if ks else np.zeros((0, *bits.shape), bool)


def _as_masks(data: np.ndarray, image_shape, name: str, ignore_label=None):
    """The object masks and the unannotated pixels (or None) of a masks file."""
    if data.shape[-len(image_shape) :] != tuple(image_shape) or data.ndim > len(image_shape) + 1:
        raise ValueError(
            f"{name}: expected an (N, H, W) stack of object masks or a label image matching "
            f"the image {tuple(image_shape)}, got shape {data.shape}"
        )
    return mask_stack_objects(data, len(image_shape), ignore_label, name)


def as_overlapping(samples: list[Sample]) -> list[Sample]:
    """Samples with label images (objects that do not overlap, e.g. napari labels layers) as
    the patches method trains on them: their labels as bitmask images."""
    from ..metrics import labels_to_stack

    return [replace(s, labels=stack_to_bitmask(labels_to_stack(s.labels), s.name)) for s in samples]


def load_overlapping_pairs(
    directory, normalization=None, exclude=(), ignore_label: int | None = None
) -> list[Sample]:
    """Samples whose ``labels`` are bitmask images (see the module docstring). With
    ``ignore_label``, pixels of that value (in any plane of a stack) are not annotated: left
    out of every object and marked in :attr:`Sample.ignore`."""
    directory = Path(directory)
    normalization = normalization or {"low": 1.0, "high": 99.8}
    image_dir, mask_dir = directory / "images", directory / "masks"
    if not image_dir.is_dir() or not mask_dir.is_dir():
        raise ValueError(
            f"{directory} must hold images/ and masks/ (an (N, H, W) stack of object masks, "
            "or a label image, per image)"
        )
    samples = []
    for path in sorted(image_dir.glob("*.tif*")):
        if any(selects(e, path.name) for e in exclude):
            continue
        mask_path = mask_dir / path.name
        if not mask_path.is_file():
            raise ValueError(f"{path.name}: no matching masks file {mask_path}")
        image = np.asarray(read_image(path).data)
        if image.ndim != 2:
            raise ValueError(f"{path}: expected a 2D image, got shape {image.shape}")
        masks, unannotated = _as_masks(
            np.asarray(read_image(mask_path).data), image.shape, str(mask_path), ignore_label
        )
        normalized = normalize(image[None], normalization)
        bits = stack_to_bitmask(masks, str(mask_path))
        ignore = unannotated if unannotated is not None and unannotated.any() else None
        samples.append(Sample(normalized, bits, path.name, ignore=ignore))
    if not samples:
        raise ValueError(f"{image_dir} holds no TIFF files (after excluding {list(exclude)})")
    return samples

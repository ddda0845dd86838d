"""Labels that hold a binary (semantic) mask where an instance method needs one ID per object:
refused before anything is trained, as ``tessella evaluate`` notes such ground truth."""

from __future__ import annotations

import re

from ..evaluation import binary_mask_pieces

__all__ = ["_refuse_binary_masks"]


def _refuse_binary_masks(samples: list, method: str, where: str) -> None:
    """Refuse (ValueError, one line naming ``where``, if any, and the files or layers) the
    samples of an instance method whose labels are a binary mask: every sample with objects
    holds only 0 and one value, in two or more separate pieces in at least one of them, so
    each image's objects would be learnt (and scored) as one object. Labels where some image
    holds several IDs are taken as labels (an image of one object in pieces, as a crop can
    cut it, is then no mistake); samples read from membrane maps (``boundaries/``) are not
    labels.

    >>> import numpy as np
    >>> from .data import Sample
    >>> mask = np.array([[1, 1, 0, 1]], np.int32)
    >>> _refuse_binary_masks([Sample(None, mask, "a.tif")], "boundary", "data")
    Traceback (most recent call last):
    ...
    ValueError: data: the labels of 'a.tif' hold only 0 and 1 (2 separate pieces in 'a.tif'): ...
    >>> _refuse_binary_masks([Sample(None, mask * [[1, 2, 0, 3]], "a.tif")], "boundary", "data")
    """
    pieces: dict[str, int] = {}  # the file or layer: the most pieces of one of its samples
    value = 0
    for sample in samples:
        if sample.boundary is not None or not sample.labels.any():
            continue
        binary = binary_mask_pieces(sample.labels)
        if binary is None:  # several IDs: labels
            return
        value = binary[0]
        name = re.sub(r"\[[^\]]*\]$", "", sample.name)  # a slice or frame: its file
        pieces[name] = max(pieces.get(name, 0), binary[1])
    several = {name: count for name, count in pieces.items() if count >= 2}
    if not several:
        return
    names = [f"'{name}'" for name in several]
    listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    most = max(several, key=lambda name: several[name])
    prefix = f"{where}: " if where else ""
    raise ValueError(
        f"{prefix}the labels of {listed} hold only 0 and {value} ({several[most]} separate "
        f"pieces in '{most}'): a binary mask, which the {method} method would learn as one "
        "object per image; give each object its own ID (e.g. scipy.ndimage.label, where "
        "objects do not touch), or train the semantic method on it"
    )

"""A digest of labels that a recipe written beside them records, so a reader can tell whether
the labels file still holds the labels the recipe describes. No Qt here.

``tessella segment`` and the Export panel record :func:`labels_digest` of the labels they
write in the ``name.recipe.json`` beside ``name.tif``/``name.zarr``; the napari reader checks
it with :func:`digest_matches` when it reattaches the recipe.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

__all__ = ["DIGEST_KEY", "digest_matches", "labels_digest"]

#: the recipe key that holds :func:`labels_digest` of the labels written beside it
DIGEST_KEY = "labels_digest"

# values are cast and hashed this many at a time: no copy of a whole large array
_CHUNK_VALUES = 2**22


def _canonical_dtype(labels: np.ndarray) -> np.dtype:
    """The type the digest hashes ``labels``' values as: uint16, uint32 above 65,535, uint64
    above 2**32 - 1 (the types the labels writers use, so a file they wrote is hashed as it
    reads back, without a cast); int64 for negative values, which no writer writes."""
    if labels.dtype.kind not in "iub":
        raise ValueError(f"labels must be integers, got {labels.dtype}")
    if labels.dtype.kind == "b" or (labels.dtype.kind == "u" and labels.dtype.itemsize <= 2):
        return np.dtype("<u2")
    if labels.size == 0:
        return np.dtype("<u2")
    if labels.dtype.kind == "i" and int(labels.min()) < 0:
        return np.dtype("<i8")
    top = int(labels.max())
    for dtype in ("<u2", "<u4"):
        if top <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype("<u8")


def labels_digest(labels: np.ndarray) -> dict[str, Any]:
    """``{"shape", "dtype", "sha256"}`` of ``labels``' values: the SHA-256 of their bytes in C
    order, little-endian, as ``dtype`` (uint16, uint32 above 65,535 or uint64 above
    2**32 - 1, whatever type they are held in: a file re-saved as another integer type with
    the same values has the same digest).

    0.2-0.5 s for 8192 x 8192 uint32 labels, 0.1-0.25 s for uint16 ones (one core with
    SHA-NI, idle to busy): a fraction of writing them as a compressed TIFF (3-4 s).

    >>> labels = np.zeros((2, 3), np.int32)
    >>> labels[0, 1] = 7
    >>> digest = labels_digest(labels)
    >>> digest["shape"], digest["dtype"], digest["sha256"][:12]
    ([2, 3], 'uint16', 'fa2a032c1833')
    >>> digest == labels_digest(labels.astype(np.uint32))
    True
    """
    labels = np.asarray(labels)
    dtype = _canonical_dtype(labels)
    flat = labels.reshape(-1)  # (a copy only when labels are not contiguous)
    hashed = hashlib.sha256()
    if flat.dtype == dtype and flat.flags.c_contiguous:
        hashed.update(flat.data.cast("B"))
    else:
        for start in range(0, flat.size, _CHUNK_VALUES):
            chunk = np.ascontiguousarray(flat[start : start + _CHUNK_VALUES], dtype=dtype)
            hashed.update(chunk.data.cast("B"))
    return {"shape": list(labels.shape), "dtype": dtype.name, "sha256": hashed.hexdigest()}


def digest_matches(digest: Any, labels: np.ndarray) -> bool:
    """Whether ``labels`` are the labels ``digest`` (:func:`labels_digest`, as read from a
    recipe) describes. A digest that is not one (edited by hand, cut short) matches nothing:
    it cannot vouch for the labels.

    Axes of length 1 are left out of the comparison of shapes: a TIFF reader drops them
    (labels written as 1 x Y x X read back as Y x X), and they do not change the values'
    bytes in C order, so the SHA-256 is the same with or without them.

    >>> labels = np.arange(6, dtype=np.uint16).reshape(2, 3)
    >>> digest = labels_digest(labels)
    >>> digest_matches(digest, labels), digest_matches(digest, labels.T)
    (True, False)
    >>> digest_matches(labels_digest(labels[np.newaxis]), labels)
    True
    >>> digest_matches({"sha256": "0"}, labels)
    False
    """
    if not isinstance(digest, dict):
        return False
    shape, dtype, sha256 = digest.get("shape"), digest.get("dtype"), digest.get("sha256")
    if not isinstance(shape, list) or not isinstance(sha256, str) or not isinstance(dtype, str):
        return False
    labels = np.asarray(labels)
    if _without_ones(labels.shape) != _without_ones(shape) or labels.dtype.kind not in "iub":
        return False
    found = labels_digest(labels)
    return found["dtype"] == dtype and found["sha256"] == sha256


def _without_ones(shape: Any) -> list[Any]:
    """``shape`` without its axes of length 1 (which readers may drop or add)."""
    return [length for length in shape if length != 1]

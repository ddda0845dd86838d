"""Labels that hold a binary (semantic) mask where an instance method needs one ID per object:
refused before anything is trained, as ``tessella evaluate`` notes such ground truth; a mask of
one piece covering most of every image is warned about."""

from __future__ import annotations

import re
import warnings

from ..evaluation import COLLAPSED_FRACTION, binary_mask_pieces
from ._intensity_labels import _refuse_intensity_labels

__all__ = ["_refuse_binary_masks"]

#: a piece under this fraction of an image's largest piece is a stray bit of the annotation,
#: not another object (2 of BBBC010's 713 single-worm masks hold a 1-pixel one)
SPECK = 0.01


def _refuse_binary_masks(samples: list, method: str, where: str) -> str:
    """Refuse (ValueError, one line naming ``where``, if any, and the files or layers) the
    samples of an instance method whose labels are a binary mask: every sample with objects
    holds only 0 and one value, in two or more separate pieces in at least one of them, so
    each image's objects would be learnt (and scored) as one object. Pixels touching at a
    corner are one piece (a thin object drawn diagonally) and pieces under :data:`SPECK` of
    the largest are not counted, so crops of one object each are taken. Labels where some
    image holds several IDs are taken as labels (an image of one object in pieces, as a crop can
    cut it, is then no mistake); samples read from membrane maps (``boundaries/``) are not
    labels. Where every such sample is one piece covering at least
    :data:`~tessella.engine.evaluation.COLLAPSED_FRACTION` of its pixels (touching objects
    of a mask join into one), the run goes on with a warning: one large object per image is
    also what crops of single objects hold; that warning is returned too (for the card to
    record), else "". Labels that look like an intensity image (a grey image given as the
    labels: :func:`~._intensity_labels._refuse_intensity_labels`) are refused first, in its
    words.

    >>> import numpy as np
    >>> from .data import Sample
    >>> mask = np.array([[1, 1, 0, 1]], np.int32)
    >>> _refuse_binary_masks([Sample(None, mask, "a.tif")], "boundary", "data")
    Traceback (most recent call last):
    ...
    ValueError: data: the labels of 'a.tif' hold only 0 and 1 (2 separate pieces in 'a.tif'): ...
    >>> _refuse_binary_masks([Sample(None, mask * [[1, 2, 0, 3]], "a.tif")], "boundary", "data")
    ''
    """
    _refuse_intensity_labels(samples, where)  # (an image given as the labels)
    pieces: dict[str, int] = {}  # the file or layer: the most pieces of one of its samples
    covered: dict[str, float] = {}  # and the least fraction of a sample its mask covers
    value = 0
    for sample in samples:
        if sample.boundary is not None or not sample.labels.any():
            continue
        binary = binary_mask_pieces(sample.labels, SPECK)
        if binary is None:  # several IDs: labels
            return ""
        value = binary[0]
        name = re.sub(r"\[[^\]]*\]$", "", sample.name)  # a slice or frame: its file
        pieces[name] = max(pieces.get(name, 0), binary[1])
        fraction = float((sample.labels != 0).mean())
        covered[name] = min(covered.get(name, 1.0), fraction)
    prefix = f"{where}: " if where else ""
    several = {name: count for name, count in pieces.items() if count >= 2}
    if not several:
        if covered and min(covered.values()) >= COLLAPSED_FRACTION:
            least = min(covered, key=lambda name: covered[name])
            said = (
                f"{prefix}the labels of {_listed(covered)} hold only 0 and {value}, one piece "
                f"covering {covered[least]:.0%} or more of each image ('{least}'): a binary mask "
                f"of touching objects? The {method} method learns it as one object per image; "
                "give each object its own ID where there are several"
            )
            # 4: here, _training_samples, _train_steps, then train_steps' line
            warnings.warn(said, stacklevel=4)
            return said
        return ""
    most = max(several, key=lambda name: several[name])
    raise ValueError(
        f"{prefix}the labels of {_listed(several)} hold only 0 and {value} ({several[most]} "
        f"separate pieces in '{most}'): a binary mask, which the {method} method would learn "
        "as one object per image; give each object its own ID (e.g. scipy.ndimage.label(mask, "
        "np.ones((3,) * mask.ndim)), where objects do not touch), or train the semantic "
        "method on it"
    )


def _listed(names) -> str:
    """A few of ``names``, quoted, then how many more."""
    quoted = [f"'{name}'" for name in names]
    return ", ".join(quoted[:3]) + (f" and {len(quoted) - 3} more" if len(quoted) > 3 else "")

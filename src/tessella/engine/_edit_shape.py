"""Shape cues for :func:`tessella.engine.edit.suspicious_objects` on images of elongated
objects (worms): two worms merged at a crossing make one object of about median area but an
X or Y shape, which the size rule misses (s35 t21 #7: BBBC010 D17, worms2d's label 8, 1659 px
among single worms of 446-1305 px)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: the median of (skeleton length)² / area of an image's objects above which they count as
#: elongated and their shapes are looked at (BBBC010's worms: 11-14; round nuclei: under 1)
ELONGATED = 6.0
#: fewest objects in an image for its median to say what a single object looks like
MIN_OBJECTS = 5
#: objects whose skeletons tell whether an image's objects are elongated (those nearest the
#: median area), before every object's skeleton is computed
SAMPLE = 15
#: a skeleton this many times the image's median length is flagged "long"
LONG_FACTOR = 1.6
#: arms of a skeleton shorter than this many object widths (median area / median length)
#: are spurs of its outline, not arms
SPUR_WIDTHS = 3.0


def _skeleton(mask: np.ndarray) -> np.ndarray:
    from skimage.morphology import skeletonize

    return skeletonize(np.pad(mask, 1))[1:-1, 1:-1]


def _arms(skeleton: np.ndarray, shortest: float) -> int:
    """How many arms of ``skeleton`` (the stretches between an end and a branch point, or
    the whole line) are at least ``shortest`` pixels long: 1 for a line (a single worm, its
    spurs left out), 3 or more for an X or a Y (two worms merged where they cross)."""
    around = ndi.convolve(skeleton.astype(np.int32), np.ones((3, 3), np.int32), mode="constant")
    neighbours = (around - 1) * skeleton
    ends = skeleton & (neighbours == 1)
    branch = skeleton & (neighbours >= 3)
    near_branch = ndi.binary_dilation(branch, np.ones((3, 3), bool)) & skeleton
    pieces, count = ndi.label(skeleton & ~near_branch, np.ones((3, 3), bool))
    lengths = np.bincount(pieces.ravel(), minlength=count + 1)
    with_end = np.unique(pieces[ends])
    with_end = with_end[with_end > 0]
    return int(np.count_nonzero(lengths[with_end] >= shortest))


def shape_cues(frame: np.ndarray, ids: np.ndarray, sizes, z_limit: float) -> dict:
    """``{label: [(reason, severity), ...]}`` for the objects ``ids`` of the 2D ``frame``
    (``sizes``: their pixel counts) shaped unlike the image's single objects, where those are
    elongated (:data:`ELONGATED`): "branched into N long arms" (an X or a Y: two objects
    merged where they cross) and "long (skeleton L px, F× the median)". Empty for images of
    round objects, of fewer than :data:`MIN_OBJECTS` objects, or not 2D."""
    if frame.ndim != 2 or len(ids) < MIN_OBJECTS or frame.dtype.kind not in "iu":
        return {}
    top = int(ids.max())
    if top > 4 * frame.size + 65536:  # (IDs too large to index boxes by)
        return {}
    boxes = ndi.find_objects(frame, max_label=top)
    sizes = np.asarray(sizes, float)

    def length(label: int) -> tuple[int, np.ndarray]:
        box = boxes[label - 1]
        skeleton = _skeleton(frame[box] == label)
        return int(np.count_nonzero(skeleton)), skeleton

    middle = np.argsort(np.abs(sizes - np.median(sizes)), kind="stable")[:SAMPLE]
    sample = [length(int(ids[n]))[0] for n in middle]
    if np.median(np.square(sample) / sizes[middle]) < ELONGATED:
        return {}
    skeletons = {int(label): length(int(label)) for label in ids.tolist()}
    median_length = float(np.median([n for n, _ in skeletons.values()])) or 1.0
    width = float(np.median(sizes)) / median_length
    shortest = max(SPUR_WIDTHS * width, 0.2 * median_length)
    cues: dict = {}
    for label, (pixels, skeleton) in skeletons.items():
        found = []
        arms = _arms(skeleton, shortest)
        if arms >= 3:
            found.append((f"branched into {arms} long arms", z_limit + arms - 2))
        ratio = pixels / median_length
        if ratio >= LONG_FACTOR:
            words = f"long (skeleton {pixels} px, {ratio:.1f}× the median)"
            found.append((words, z_limit * ratio / LONG_FACTOR))
        if found:
            cues[label] = found
    return cues

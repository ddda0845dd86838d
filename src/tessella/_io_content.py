"""The reader's content rule for integer pixels that nothing names as labels: instance labels
are piecewise constant, each value one region, intensity images are not
(:func:`_labels_by_content`). Used by the reader for a file (:func:`tessella._io._layers_of`)
and for a folder's frames (:mod:`tessella._io_folder`), after the rules by tag, name and
recipe. Where it cannot tell, a file is an image (the cheaper mistake: napari's Convert to
Labels fixes it, while labels cannot be picked as Segment's image). No Qt here."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

#: an integer image is labels by its content where more than this fraction of its pairs of
#: neighbouring pixels (right, down) that are both not 0 (nor at a saturated maximum) are
#: equal, and (:data:`REGIONS_PER_VALUE`) its values are each one region. Measured on the
#: shared data sets: label images 0.966-1.0, intensity images 0.015-0.778 as distributed, but
#: denoised or dim ones reach 0.99 (DSB2018 Gaussian sigma 2: 61 of 557 above 0.9; at a
#: quarter of the gain 63; GOWT1 sigma 3): the regions tell those apart
PIECEWISE_EQUAL = 0.9
#: the most connected regions (8-connected, per YX plane) per value not 0 of a label image:
#: measured 1.0-1.01 in DSB2018's 664 masks, 1.0-1.07 in CTC GOWT1/SIM+ SEG and TRA, 1.0-1.43
#: in BBBC010's worms numbered (overlapping worms cut one another), while a grey level of an
#: image lies in many places: 3.5-708 in the smoothed, median-filtered and dim images
#: (>>1-3) of DSB2018, GOWT1, SIM+, BBBC010, ISBI and the fixtures that pass the pairs' rule
REGIONS_PER_VALUE = 1.5
#: fewer values not 0, or fewer pairs of neighbouring pixels both not 0, tell nothing: a crop
#: of a smoothed image holds 1-3 grey levels of one region each, as 1-3 objects would
#: (64x64 crops smoothed: 3 values of 1 region, 8060 pairs)
MIN_VALUES = 4
MIN_PAIRS = 1024
#: where more than this share of the borders of its regions not 0 are with other values than
#: 0, and more than this share of those step by 1, an image's grey levels are graded, as a
#: smoothed image's bands are (a 64x64 crop of one, 4 levels nested: 1.0 and 1.0); label
#: images' objects mostly border 0 (at most 0.16 of their borders with another id: DSB2018,
#: CTC, BBBC010, the fixtures), whatever their ids
STEPS_SHARE = 0.5
#: YX planes of a stack whose regions are counted (evenly spaced), to bound the reader's cost
REGION_PLANES = 8


class ContentLabelsWarning(UserWarning):
    """A file or folder opened as labels by its content alone; napari shows it as a
    notification."""


def _labels_by_content(data: np.ndarray) -> tuple[bool | None, int]:
    """``(said, values)``: whether the integer ``data`` (2D or more: each YX plane) is
    instance labels by its content, and how many values not 0 the planes looked at hold.
    Labels where all hold:

    - piecewise constant: more than :data:`PIECEWISE_EQUAL` of its pairs of neighbouring
      pixels along Y and X that are both not 0 are equal;
    - each value one region: the connected regions of equal value not 0 (8-connected, per YX
      plane; up to :data:`REGION_PLANES` planes; the maximum counted, a saturated image's
      flat top lying in many places) are at most :data:`REGIONS_PER_VALUE` per value.
      A smoothed or dim image is flat in places too (Gaussian-denoised, at a quarter of the
      gain), but each of its grey levels is a band around every object or a scatter;
    - not graded: its regions do not mostly border one another stepping by 1
      (:data:`STEPS_SHARE`), as the few nested bands of a crop of a smoothed image do.

    None (telling nothing) where fewer than :data:`MIN_PAIRS` such pairs or, piecewise
    constant, fewer than :data:`MIN_VALUES` values are (all 0, a crop, one to three objects,
    which a crop of a smoothed image looks like); False for other types.

    Pixels at the maximum of ``data`` are left out where it holds other values than 0 and
    that maximum: an intensity image clipped there (overexposed brightfield, 255, or a 12-bit
    camera's 4095) is flat where it saturates, as labels are, while a label image loses one
    object of its many; a mask of one value (0/255) keeps its pairs."""
    if data.dtype.kind not in "iu" or data.ndim < 2:
        return False, 0
    top = data.max()
    nonzero = int(np.count_nonzero(data))
    clipped = top != 0 and nonzero > int(np.count_nonzero(data == top))
    planes = data.reshape(-1, *data.shape[-2:])
    from tessella.engine._neighbours import equal_neighbour_pairs

    equal, pairs = equal_neighbour_pairs(planes, top, clipped)
    if pairs < MIN_PAIRS:
        return None, 0
    if equal <= PIECEWISE_EQUAL * pairs:
        return False, 0
    from skimage.measure import label

    full = [i for i, plane in enumerate(planes) if plane.any()]
    chosen = full[:: -(-len(full) // REGION_PLANES)] if full else []
    regions = counted = steps = contacts = edges = 0
    values: set[int] = set()
    for i in chosen:
        plane = planes[i]
        inside = plane != 0
        found = np.unique(plane[inside])
        regions += int(label(plane, background=0, connectivity=2).max())
        counted += found.size
        values.update(found.tolist())
        for a, b, in_a, in_b in (
            (plane[:, 1:], plane[:, :-1], inside[:, 1:], inside[:, :-1]),
            (plane[1:], plane[:-1], inside[1:], inside[:-1]),
        ):
            touch = in_a & in_b & (a != b)
            step = np.abs(a[touch].astype(np.int64) - b[touch].astype(np.int64))
            contacts += step.size
            steps += int(np.count_nonzero(step == 1))
            edges += int(np.count_nonzero(in_a ^ in_b))
    if len(values) < MIN_VALUES:
        return None, len(values)
    # grey levels stepping by 1 into one another, hardly bordering 0: the bands of a smoothed
    # image (a crop of 4 nested levels is 4 regions), where objects mostly border 0
    graded = contacts > STEPS_SHARE * (contacts + edges) and steps > STEPS_SHARE * contacts
    return regions <= REGIONS_PER_VALUE * counted and not graded, len(values)


def _piecewise_constant(data: np.ndarray) -> bool | None:
    """Whether the integer ``data`` is instance labels by its content
    (:func:`_labels_by_content`); None where it cannot tell."""
    return _labels_by_content(data)[0]


def _say_labels_by_content(path: Path | str, values: int, frames: str = "") -> None:
    """Say that ``path`` (a file, or a folder's movie told by ``frames``) opened as labels by
    its content alone, and how to open it as an image."""
    told = f" (told by {frames})" if frames else ""
    warnings.warn(
        f"{path}: opened as labels by its content (piecewise constant, {values} values, each "
        f"one region){told}; nothing else names it labels. If it is an image, right-click the "
        "layer > Convert to Image, or open it with napari's builtin reader",
        ContentLabelsWarning,
        stacklevel=3,
    )

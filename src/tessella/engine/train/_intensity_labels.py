"""Labels that are an intensity image (the image itself, or another image, given as the labels:
a grey image in a Labels layer, a ``masks/`` file that is a picture): refused before anything is
trained, naming the file or layer, as binary masks are (:mod:`._binary_labels`). Trained on,
each grey level would be learnt as an object (or, for the semantic method, nearly every pixel
as foreground): a run that ends with a loss several times a real one's and nothing said.

Told apart by content, with the reader's figures (:mod:`tessella._io_content`), measured on
every mask set and image of the shared data (:func:`intensity_labels_figures`):

- label images are piecewise constant: of the pairs of neighbouring pixels (along Y and X)
  that are both labelled, nearly all are equal (DSB2018's 664 masks, CTC GOWT1/SIM+ SEG and
  TRA, BBBC010's worms, ISBI boundaries, Lucchi++ mitochondria binary or numbered, the
  fixtures: 0.97 and more), while an image's grey levels change from pixel to pixel (0.8 and
  less, most under 0.5: DSB2018's fluorescence, brightfield and H&E images, CTC frames,
  BBBC010, ISBI, Lucchi++);
- for an instance method, each value is one region (at most 1.5 8-connected regions per value
  in every mask set, overlapping worms cut one another), while a grey level of a smoothed or
  flat image lies in many places (3.5 and more per value, :data:`PIECES_PER_VALUE` leaves a
  margin for a 3D object cut by a plane in two). A semantic model's labels are a foreground
  mask and need not be: only the first rule holds for it.

Labels with fewer than :data:`MIN_PAIRS` pairs of labelled neighbours (a few painted objects,
a crop) or, piecewise constant, fewer than :data:`MIN_VALUES` values tell nothing and are taken
as labels."""

from __future__ import annotations

import re

import numpy as np

from .._neighbours import equal_neighbour_pairs

__all__ = ["_refuse_intensity_labels", "intensity_labels_figures", "intensity_labels_problem"]

#: labels where more than this share of pairs of neighbouring labelled pixels are equal (the
#: reader's :data:`tessella._io_content.PIECEWISE_EQUAL`)
EQUAL_SHARE = 0.9
#: an instance method's labels are refused where their values lie in more separate pieces
#: (8-connected, per YX plane) than this on average: 1.0-1.43 in the shared mask sets, 3.5 and
#: more for an image's grey levels (the reader's rule says labels at 1.5)
PIECES_PER_VALUE = 3.0
#: fewer pairs of neighbouring labelled pixels, or fewer values not 0, tell nothing
MIN_PAIRS = 1024
MIN_VALUES = 4
#: YX planes of a stack looked at (evenly spaced), to bound the cost on a volume or time-lapse
PLANES = 8


def intensity_labels_figures(labels: np.ndarray) -> tuple[float, int, float] | None:
    """``(equal, values, pieces)`` of the integer ``labels`` (2D or more: each YX plane, up to
    :data:`PLANES` of them): the share of pairs of neighbouring pixels along Y and X, both not
    0 (nor at a saturated maximum, as the reader leaves out an overexposed image's flat top),
    that are equal; how many values not 0 the planes hold; and the 8-connected regions of
    equal value per value, on average over the planes (0.0 where the values are not counted:
    ``equal`` at most :data:`EQUAL_SHARE`, which says enough). None where fewer than
    :data:`MIN_PAIRS` such pairs are there (nothing to tell by)."""
    data = np.asarray(labels)
    if data.dtype.kind not in "iub" or data.ndim < 2:
        return None
    planes = data.reshape(-1, *data.shape[-2:])
    full = [i for i, plane in enumerate(planes) if plane.any()]
    if not full:
        return None
    planes = planes[full[:: -(-len(full) // PLANES)]]
    top = planes.max()
    clipped = bool(top != 0 and np.count_nonzero(planes) > np.count_nonzero(planes == top))
    equal, pairs = equal_neighbour_pairs(planes, top, clipped)
    if pairs < MIN_PAIRS:
        return None
    share = equal / pairs
    values = int(np.unique(planes[planes != 0]).size)
    if share <= EQUAL_SHARE:
        return share, values, 0.0
    from skimage.measure import label

    regions = counted = 0
    for plane in planes:
        regions += int(label(plane, background=0, connectivity=2).max())
        counted += int(np.unique(plane[plane != 0]).size)
    return share, values, regions / max(counted, 1)


def intensity_labels_problem(labels: np.ndarray, objects: bool = True) -> str | None:
    """Why ``labels`` look like an intensity image rather than labels (the words after "the
    labels of NAME"), or None: see the module docstring. ``objects``: for an instance method
    (each value must be one region), else the semantic method (a foreground mask)."""
    figures = intensity_labels_figures(labels)
    return None if figures is None else _problem(figures, objects)


def _problem(figures: tuple[float, int, float], objects: bool) -> str | None:
    """:func:`intensity_labels_problem` of labels of these :func:`intensity_labels_figures`."""
    share, values, pieces = figures
    if share <= EQUAL_SHARE:
        return (
            f"change from pixel to pixel as an image's grey levels do ({values} values; "
            f"{share:.0%} of neighbouring labelled pixels equal, where labels have nearly all)"
        )
    if objects and values >= MIN_VALUES and pieces > PIECES_PER_VALUE:
        return (
            f"hold {values} values, each in {pieces:.1f} separate pieces on average, as an "
            "image's grey levels lie (an object's ID is one region)"
        )
    return None


def _refuse_intensity_labels(samples: list, where: str = "", objects: bool = True) -> None:
    """Refuse (ValueError, one line naming ``where``, if any, and the files or layers) samples
    whose labels look like an intensity image (:func:`intensity_labels_problem`), judged per
    file or layer (a volume's slices, a time-lapse's frames: their file, judged on the first
    of its samples with labels). Samples read from membrane maps (``boundaries/``) are not
    labels, and not looked at; bitmask labels whose objects far apart share bits
    (:attr:`~._samples.Sample.shared`) are judged as a semantic model's (a shared bit lies
    in several pieces).

    >>> from .data import Sample
    >>> ramp = np.add.outer(np.arange(64), np.arange(64)).astype(np.uint16) + 1
    >>> _refuse_intensity_labels([Sample(None, ramp, "grey.tif")], "data")
    Traceback (most recent call last):
    ...
    ValueError: data: the labels of 'grey.tif' change from pixel to pixel as an image's ...
    >>> disks = np.zeros((64, 64), np.int32)
    >>> for i in range(4):
    ...     disks[16 * i + 2 : 16 * i + 14, 10:50] = i + 1
    >>> _refuse_intensity_labels([Sample(None, disks, "labels.tif")], "data")
    """
    problems: dict[str, str] = {}
    seen: set[str] = set()
    for sample in samples:
        name = re.sub(r"\[[^\]]*\]$", "", sample.name)  # a slice or frame: its file
        if sample.boundary is not None or name in seen or not sample.labels.any():
            continue
        figures = intensity_labels_figures(sample.labels)
        if figures is None:  # (too few labelled pixels to tell: its next slice or frame)
            continue
        seen.add(name)
        # bitmask labels whose far-apart objects share a bit: that value lies in pieces
        problem = _problem(figures, objects and not getattr(sample, "shared", 0))
        if problem is not None:
            problems[name] = problem
    if not problems:
        return
    prefix = f"{where}: " if where else ""
    first = next(iter(problems))
    others = len(problems) - 1
    also = f" ({others} more: {_listed(list(problems)[1:])})" if others else ""
    raise ValueError(
        f"{prefix}the labels of '{first}' {problems[first]}{also}: an intensity image, not "
        "labels? Give the labels (masks) of each image: 0 for background and one ID per "
        "object" + ("" if objects else " (or a foreground mask: 0 and 1)")
    )


def _listed(names) -> str:
    """A few of ``names``, quoted, then how many more."""
    quoted = [f"'{name}'" for name in names]
    return ", ".join(quoted[:3]) + (f" and {len(quoted) - 3} more" if len(quoted) > 3 else "")

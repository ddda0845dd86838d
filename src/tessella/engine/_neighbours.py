"""Pairs of neighbouring pixels of a label image that are equal: the figure by which the
reader (:mod:`tessella._io_content`) and Train (:mod:`.train._intensity_labels`) tell labels
from an intensity image (labels are piecewise constant). A module of its own, light to import:
the reader asks it of every integer file it opens."""

from __future__ import annotations

import numpy as np

__all__ = ["equal_neighbour_pairs"]


def equal_neighbour_pairs(planes, top, clipped: bool) -> tuple[int, int]:
    """``(equal, pairs)``: of the pairs of neighbouring pixels along Y and X of each YX plane
    in ``planes`` that are both looked at (not 0, nor at ``top`` where ``clipped``: an
    intensity image saturated there is flat as labels are), how many are equal, and how many
    there are; the reader's rule (:func:`tessella._io_content._labels_by_content`) and
    :func:`.train._intensity_labels.intensity_labels_figures` both count so."""
    equal = pairs = 0
    for plane in planes:
        inside = plane != 0
        if clipped:
            inside &= plane != top
        for a, b, both in (
            (plane[:, 1:], plane[:, :-1], inside[:, 1:] & inside[:, :-1]),
            (plane[1:], plane[:-1], inside[1:] & inside[:-1]),
        ):
            pairs += int(np.count_nonzero(both))
            equal += int(np.count_nonzero(both & (a == b)))
    return equal, pairs

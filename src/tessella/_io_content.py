"""The reader's content rule for integer pixels that nothing names as labels: instance labels
are piecewise constant, intensity images are not (:func:`_piecewise_constant`). Used by the
reader for a file (:func:`tessella._io._layers_of`) and for a folder's frames
(:mod:`tessella._io_folder`), after the rules by tag, name and recipe. No Qt here."""

from __future__ import annotations

import numpy as np

#: an integer image is labels by its content where more than this fraction of its pairs of
#: neighbouring pixels (right, down) that are both not 0 (nor at a saturated maximum:
#: :func:`_piecewise_constant`) are equal. Measured on the shared data sets: label images
#: 0.966-1.0 (DSB2018's 664 masks 0.966-1.0, 0.973-1.0 without their largest id; the
#: fixtures' masks 0.984-1.0, CTC SEG/TRA,
#: BBBC010's worm masks, Lucchi++'s mito, ISBI's boundaries 0.997-1.0), intensity images
#: 0.015-0.778 (DSB2018's 664 images, fluorescence, brightfield, H&E, up to 0.778; CTC GOWT1
#: up to 0.456; BBBC010, Lucchi++, ISBI, SIM+, the fixtures up to 0.113). Counted over all
#: pairs, a DSB2018 fluorescence image whose background is 86 % exactly 0 reaches 0.898 and
#: the fixtures' 3D masks fall to 0.924: too close to tell
PIECEWISE_EQUAL = 0.9


def _piecewise_constant(data: np.ndarray) -> bool | None:
    """Whether the integer ``data`` (2D or more: each YX plane) is piecewise constant, as
    label images are and intensity images (noise) are not: more than
    :data:`PIECEWISE_EQUAL` of its pairs of neighbouring pixels along Y and X that are both
    not 0 are equal; None where no such pair is (all 0, or single pixels), which tells
    nothing; False for other types.

    Pixels at the maximum of ``data`` are left out of the pairs where it holds other values
    than 0 and that maximum: an intensity image clipped there (overexposed brightfield, 255,
    or a 12-bit camera's 4095) is flat where it saturates, as labels are, while a label image
    loses one object of its many (DSB2018's masks: 0.973-1.0 without it); a mask of one
    value (0/255) keeps its pairs. Measured on real images scaled until they clip: an EM
    slice (ISBI 2012) 83 % saturated scores 0.794 with those pixels, 98 % 0.968; a DSB2018
    brightfield image 97 % saturated 0.972; without them at most 0.39."""
    if data.dtype.kind not in "iu" or data.ndim < 2:
        return False
    top = data.max()
    nonzero = int(np.count_nonzero(data))
    clipped = top != 0 and nonzero > int(np.count_nonzero(data == top))
    equal = pairs = 0
    for plane in data.reshape(-1, *data.shape[-2:]):
        inside = plane != 0
        if clipped:
            inside &= plane != top
        for a, b, both in (
            (plane[:, 1:], plane[:, :-1], inside[:, 1:] & inside[:, :-1]),
            (plane[1:], plane[:-1], inside[1:] & inside[:-1]),
        ):
            pairs += int(np.count_nonzero(both))
            equal += int(np.count_nonzero(both & (a == b)))
    return equal > PIECEWISE_EQUAL * pairs if pairs else None

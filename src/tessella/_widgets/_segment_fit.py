"""How well an image volume fits the models the Segment panel could preselect for it: the
engine's input check (:mod:`~tessella.engine.pipeline._input_check`: the normalised input's
10th, 50th and 90th percentiles against the range the model's card records for its training
images) on a small sample of the volume, as each model would read it: a 3D model the sampled
slices as one volume, a 2D model each slice on its own.

The panel preselects a 3D model for a volume only where the model shown was not chosen by the
user, the 3D model's check passes, and the volume fits it better than the model shown
(:meth:`.SegmentModels._volume_model`). On the bundled models the check alone does not decide
it: nuclei2d inverts a bright background, so an EM volume passes nuclei2d's check as well as
em-mito3d's (a Lucchi++ crop: percentiles 0.22, 0.45, 0.76 against nuclei2d's training 0.00-0.16,
0.00-0.57, 0.01-0.88, within the 0.1 margin); how far the percentiles fall outside each training
range (0.06 for nuclei2d, 0.02 for em-mito3d there) tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FAR_APART",
    "PAIRS",
    "SLICES",
    "WINDOW",
    "Fit",
    "Likeness",
    "fit",
    "read_sample",
    "slice_likeness",
    "volume_sample",
]

#: Z slices sampled, spread evenly from the first to the last
SLICES = 5
#: the side of the window (centred in each sampled slice) read of it at most
WINDOW = 512
#: pairs of neighbouring slices compared by :func:`slice_likeness`, spread evenly over Z,
#: each the central window of at most :data:`PAIR_WINDOW` px a side
PAIRS = 4
PAIR_WINDOW = 256
#: neighbouring slices less alike than this share of neighbouring pixels' likeness are
#: sections far apart for the pixel size (:attr:`Likeness.far_apart`). Measured (correlation
#: of neighbouring slices / of neighbouring pixels, 4 pairs of 256² windows): ISBI 2012
#: ssTEM (4x4x50 nm) 0.29 / 0.88 = 0.33, its 8x128x128 crops 0.08-0.42 (20 crops); Lucchi++
#: FIB-SEM (5 nm isotropic) val 0.94, train 1.00, its crops 0.99-1.01; fixtures/img3d 1.02
FAR_APART = 0.7


@dataclass(frozen=True)
class Fit:
    """A model's input check on a volume's sample: ``passes`` (most parts judged look like
    its training images, as the check that warns at Run judges them) and ``outside`` (how
    far, on average over the parts, the largest of their percentiles lies outside the card's
    training range, without its margin: 0 inside it)."""

    passes: bool
    outside: float


def volume_sample(data: Any, axes: str) -> np.ndarray:
    """Up to :data:`SLICES` Z slices of ``data`` (axes ``axes``, with Z), spread evenly,
    each the central window of at most :data:`WINDOW` px a side, as a numpy array in the
    same axes: a few small reads of a lazy array (zarr, dask), never the whole of it."""
    z = axes.index("Z")
    depth = int(data.shape[z])
    picks = sorted({int(round(p)) for p in np.linspace(0, depth - 1, min(SLICES, depth))})
    window: list[Any] = []
    for axis, size in zip(axes, data.shape):
        start = max(0, (int(size) - WINDOW) // 2)
        window.append(slice(start, start + WINDOW) if axis in "YX" else slice(None))
    parts = []
    for pick in picks:
        where = list(window)
        where[z] = pick
        parts.append(np.asarray(data[tuple(where)]))
    return np.stack(parts, axis=z)


@dataclass(frozen=True)
class Likeness:
    """How alike a volume's neighbouring slices are (``slices``: the mean correlation of
    the windows of neighbouring slices) against its neighbouring pixels within a slice
    (``pixels``: the mean correlation of each window with itself shifted by a pixel along Y
    and along X). In a volume sampled about as finely in Z as in Y and X (FIB-SEM, a
    confocal stack of fine steps) both are alike; serial sections far thicker than a pixel
    (ssTEM) give slices much less alike than pixels: :attr:`far_apart`."""

    slices: float
    pixels: float

    @property
    def far_apart(self) -> bool:
        return self.slices < FAR_APART * self.pixels


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    a = a.astype(np.float32).ravel()
    b = b.astype(np.float32).ravel()
    a -= a.mean()
    b -= b.mean()
    norm = float(np.sqrt(float(np.dot(a, a)) * float(np.dot(b, b))))
    return float(np.dot(a, b)) / norm if norm > 0 else None


def slice_likeness(data: Any, axes: str) -> Likeness | None:
    """The :class:`Likeness` of the Z neighbours of ``data`` (axes ``axes``, with Z; a channel
    axis is averaged), from :data:`PAIRS` pairs of neighbouring slices spread evenly, the
    central window of at most :data:`PAIR_WINDOW` px a side of each (a few small reads of a
    lazy array); None where it says nothing: one slice, or blank windows only."""
    z = axes.index("Z")
    depth = int(data.shape[z])
    if depth < 2:
        return None
    starts = sorted({int(round(p)) for p in np.linspace(0, depth - 2, min(PAIRS, depth - 1))})
    window: list[Any] = []
    for axis, size in zip(axes, data.shape):
        start = max(0, (int(size) - PAIR_WINDOW) // 2)
        window.append(slice(start, start + PAIR_WINDOW) if axis in "YX" else slice(None))
    plane = [axis for axis in axes if axis != "Z"]
    slices: list[float] = []
    pixels: list[float] = []
    for start in starts:
        where = list(window)
        where[z] = slice(start, start + 2)
        pair = np.moveaxis(np.asarray(data[tuple(where)]), z, 0)
        if "C" in plane:
            pair = pair.mean(axis=1 + plane.index("C"))
        first, second = pair[0], pair[1]
        across = _correlation(first, second)
        down = _correlation(first[:-1], first[1:])
        along = _correlation(first[:, :-1], first[:, 1:])
        if across is None or down is None or along is None:  # a blank window: nothing to say
            continue
        slices.append(across)
        pixels.extend((down, along))
    if not slices:
        return None
    return Likeness(float(np.mean(slices)), float(np.mean(pixels)))


def read_sample(data: Any, axes: str) -> tuple[np.ndarray, Likeness | None]:
    """What the panel judges a volume by: its :func:`volume_sample` and the
    :func:`slice_likeness` of its slices (in a worker for a lazy array)."""
    return volume_sample(data, axes), slice_likeness(data, axes)


def _outside(quantiles: tuple[float, ...], stats: dict) -> float:
    """The largest distance of ``quantiles`` outside the range ``stats`` records (0 inside)."""
    return max(
        max(0.0, low - value, value - high)
        for value, low, high in zip(quantiles, stats["low"], stats["high"])
    )


def fit(sample: np.ndarray, axes: str, card: Any, invert: bool | None = None) -> Fit | None:
    """The input check of model ``card`` on ``sample`` (a :func:`volume_sample`, axes
    ``axes``) read as the model reads it, with the panel's Intensities choice ``invert``;
    None where it says nothing: the card records no training range (a model trained before
    the field existed), or every sampled slice is blank."""
    from tessella.engine.normalize import blank_slices
    from tessella.engine.pipeline._input_check import (
        PartsJudge,
        _card_range,
        input_quantiles,
    )
    from tessella.engine.pipeline._inputs import _model_channels, _model_input

    stats = _card_range(card)
    if stats is None:
        return None
    z = axes.index("Z")
    judge = PartsJudge(card, "", 1 if "Z" in card.spatial_axes else sample.shape[z])
    outside = []
    if "Z" in card.spatial_axes:  # a 3D model: the slices as one volume, blank ones left out
        blank = blank_slices(_model_channels(sample, axes, card))
        if len(blank) == sample.shape[z]:
            return None
        data = _model_input(sample, axes, card, "sample", invert, blank)
        judge.see(0, "", data, blank)
        quantiles = input_quantiles(data, blank)
        outside = [] if quantiles is None else [_outside(quantiles, stats)]
    else:  # a 2D model: slice by slice, each normalised on its own
        slice_axes = axes.replace("Z", "")
        for index in range(sample.shape[z]):
            data = _model_input(np.take(sample, index, axis=z), slice_axes, card, "", invert)
            judge.see(index, "", data)
            quantiles = input_quantiles(data)
            if quantiles is not None:
                outside.append(_outside(quantiles, stats))
    if not outside:
        return None
    return Fit(not judge.verdict(), float(np.mean(outside)))

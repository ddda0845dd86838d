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

__all__ = ["SLICES", "WINDOW", "Fit", "fit", "volume_sample"]

#: Z slices sampled, spread evenly from the first to the last
SLICES = 5
#: the side of the window (centred in each sampled slice) read of it at most
WINDOW = 512


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

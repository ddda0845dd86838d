"""Time-lapse segmentation with consistent IDs (microscopy-dl-suite seed), 2D + time.

A :class:`~tessella.engine.models.TemporalUNet` reads a window of frames around frame ``t`` and
predicts, for frame ``t``, a foreground probability and a *centre* map: each cell's distance
to its own border divided by its largest one (1 at the centre, falling to 0 at the border and
where cells touch). Post-processing, in the order of :func:`postprocess_series`:

1. Temporal gap filling: a Gaussian of ``temporal_sigma`` frames along T on the foreground
   probability (0 = off), so a cell that fades for a frame is not lost.
2. Per frame: foreground above ``threshold``, holes filled (``fill_holes``).
3. Split of touching cells (``split``): seeds are the connected regions where the centre map
   (smoothed with a Gaussian of one pixel) exceeds ``seed_threshold``; a seeded watershed on
   the centre map (flooding down from the centres) assigns the rest of the foreground.
   Without ``split``, connected components.
4. Objects under ``min_size`` pixels go.
5. Linking (``link``): :func:`tessella.engine.tracking.link` gives one cell one ID across the
   movie (IoU then centroid distance ``max_distance``, divisions), with the lineage.

:func:`postprocess` does steps 2-4 for one frame (no smoothing, no linking); the Tune widget
shows it for the current frame first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..params import param
from ._base import Prediction
from .semantic import _drop_small

__all__ = [
    "CONTEXT_AFTER",
    "CONTEXT_BEFORE",
    "NAME",
    "OUTPUT_KINDS",
    "Params",
    "activate",
    "context_frames",
    "out_channels",
    "postprocess",
    "postprocess_frame",
    "postprocess_series",
    "postprocess_series_steps",
    "smooth_along_time",
    "smooth_foreground",
]

NAME = "temporal"
#: the network reads a window of frames; the pipeline stacks them along channels
TEMPORAL = True
OUTPUT_KINDS = {"foreground": "scalar", "centre": "scalar"}


@dataclass(frozen=True)
class Params:
    threshold: float = param(0.5, 0.0, 1.0, "Foreground where the probability is above this.")
    seed_threshold: float = param(
        0.5, 0.0, 1.0, "Split: cell centres where the centre map is above this.", only_with="split"
    )
    temporal_sigma: float = param(
        1.0, 0.0, 10.0, "Gap filling: Gaussian along time on the foreground, in frames (0 = off)."
    )
    fill_holes: bool = param(True, help="Fill holes inside each cell.")
    split: bool = param(True, help="Split touching cells by a seeded watershed on the boundaries.")
    min_size: int = param(100, 0, 1_000_000_000, "Discard objects with fewer pixels; 0 = no limit.")
    link: bool = param(True, help="Give each cell one ID across frames (tracking).")
    min_iou: float = param(
        0.2, 0.0, 1.0, "Linking: frame-to-frame matches need this IoU.", only_with="link"
    )
    max_distance: float = param(
        40.0,
        0.0,
        10_000.0,
        "Linking: cells that no longer overlap may move this many pixels.",
        only_with="link",
    )
    divisions: bool = param(
        True, help="Linking: detect divisions (mother -> two daughters).", only_with="link"
    )


def out_channels(ndim: int) -> tuple[int, ...]:
    """Foreground and centre-map logits."""
    return (1, 1)


def activate(raw, ndim: int) -> dict:
    """Raw network output ``(batch, 2, H, W)`` -> foreground probability and centre map."""
    import torch

    return {"foreground": torch.sigmoid(raw[:, 0:1]), "centre": torch.sigmoid(raw[:, 1:2])}


def _maps(prediction: Prediction) -> tuple[np.ndarray, np.ndarray]:
    foreground = np.asarray(prediction.arrays["foreground"])
    centre = np.asarray(prediction.arrays["centre"])
    if foreground.ndim != 3 or foreground.shape[0] != 1 or centre.shape != foreground.shape:
        raise ValueError(
            f"temporal predictions must hold foreground and centre of shape (1, Y, X), got "
            f"{foreground.shape} and {centre.shape}"
        )
    return foreground[0], centre[0]


def _segment_frame(foreground: np.ndarray, centre: np.ndarray, params: Params) -> np.ndarray:
    from skimage.segmentation import watershed

    mask = foreground > params.threshold
    if params.fill_holes:
        mask = ndimage.binary_fill_holes(mask)
    if params.split:
        centre = ndimage.gaussian_filter(centre, 1.0)  # no seeds from single-pixel noise
        markers, _ = ndimage.label(mask & (centre > params.seed_threshold))
        labels = watershed(-centre, markers, mask=mask)
        # foreground no seed reached (bits without a centre): its own components
        rest, n_rest = ndimage.label(mask & (labels == 0))
        if n_rest:
            labels = np.where(rest > 0, rest + labels.max(), labels)
    else:
        labels, _ = ndimage.label(mask)
    return _drop_small(labels, labels > 0, params.min_size)


def postprocess(prediction: Prediction, params: Params) -> np.ndarray:
    """One frame's labels (steps 2-4): no temporal smoothing and no linking."""
    foreground, centre = _maps(prediction)
    return _segment_frame(foreground, centre, params)


def smooth_foreground(predictions: list[Prediction], sigma: float, frames=None) -> np.ndarray:
    """The foreground probabilities of ``frames`` (default all), Gaussian-smoothed along
    time with ``sigma`` frames (edges reflect). Only the frames within 4 sigma are read.

    The predictions of part of a movie (``segment_steps(..., frames=A:B)``) carry the
    foreground of the movie's frames around it (:data:`CONTEXT_BEFORE` in the first one's
    ``meta``, :data:`CONTEXT_AFTER` in the last one's, as far as :func:`context_frames`
    reaches): they are smoothed with those, so that a frame of the part is smoothed as in
    the whole movie."""
    count = len(predictions)
    frames = list(range(count)) if frames is None else list(frames)
    if sigma <= 0:
        return np.stack([_maps(predictions[t])[0] for t in frames])
    before = list(predictions[0].meta.get(CONTEXT_BEFORE, ())) if count else []
    after = list(predictions[-1].meta.get(CONTEXT_AFTER, ())) if count else []
    reach = int(np.ceil(4 * sigma))
    # indices into before + predictions + after
    low = max(min(frames) + len(before) - reach, 0)
    high = min(max(frames) + len(before) + reach + 1, len(before) + count + len(after))

    def foreground(i: int) -> np.ndarray:
        if i < len(before):
            return np.asarray(before[i])[0]
        if i < len(before) + count:
            return _maps(predictions[i - len(before)])[0]
        return np.asarray(after[i - len(before) - count])[0]

    stack = np.stack([foreground(i) for i in range(low, high)])
    return smooth_along_time(stack, sigma)[[t + len(before) - low for t in frames]]


#: ``meta`` key of the first prediction of part of a movie: the foreground maps ``(1, Y, X)``
#: of the movie's frames before it, in order, that smoothing along time reads
CONTEXT_BEFORE = "context_before"
#: ``meta`` key of its last prediction: the foreground maps of the frames after it
CONTEXT_AFTER = "context_after"


def context_frames(params: Params) -> int:
    """How many frames on either side of part of a movie its labels depend on beyond the
    network's window: those the smoothing along time reads (``ceil(4 * temporal_sigma)``),
    whose predictions the pipeline makes too, so that part of a movie is segmented as the
    whole movie segments it.

    >>> context_frames(Params(temporal_sigma=1.0)), context_frames(Params(temporal_sigma=0))
    (4, 0)
    """
    return int(np.ceil(4 * params.temporal_sigma)) if params.temporal_sigma > 0 else 0


def smooth_along_time(stack: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian of ``sigma`` frames along axis 0 (edges repeated; 0 = unchanged). A frame's
    value depends only on the frames within ``ceil(4 * sigma)`` of it, so a stack that holds
    those (or reaches the movie's ends) gives it exactly as the whole movie would."""
    if sigma <= 0:
        return stack
    return ndimage.gaussian_filter1d(stack, sigma, axis=0, mode="nearest", truncate=4.0)


def postprocess_frame(predictions: list[Prediction], t: int, params: Params) -> np.ndarray:
    """Frame ``t``'s labels with temporal smoothing (steps 1-4), reading only its neighbours:
    what Tune shows for the current frame before the whole movie is redone."""
    foreground = smooth_foreground(predictions, params.temporal_sigma, [t])[0]
    return _segment_frame(foreground, _maps(predictions[t])[1], params)


def postprocess_series_steps(predictions: list[Prediction], params: Params):
    """:func:`postprocess_series` as a generator: yields each frame's index once it is
    segmented, returns ``(labels, lineage)`` after linking (closing it stops between frames)."""
    from ..tracking import link

    foreground = smooth_foreground(predictions, params.temporal_sigma)
    frames = []
    for t, (f, p) in enumerate(zip(foreground, predictions)):
        frames.append(_segment_frame(f, _maps(p)[1], params))
        yield t
    labels = np.stack(frames)
    if not params.link:
        return labels, {}
    return link(labels, params.min_iou, params.max_distance, params.divisions)


def postprocess_series(
    predictions: list[Prediction], params: Params
) -> tuple[np.ndarray, dict[int, int]]:
    """Labels for the whole movie (TYX) and the lineage ``{child track: parent track}``
    (empty without ``link``: IDs are then per frame, 1..n in each, which the pipeline
    numbers across the movie: :func:`~tessella.engine.pipeline.number_frames`)."""
    from ..pipeline import run_steps

    return run_steps(postprocess_series_steps(predictions, params))

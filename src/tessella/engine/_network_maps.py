"""A segmentation result's single-channel network outputs as maps of its labels' shape: what
the panels draw and measure (Correct's watershed heights and review, Export's
``mean_confidence``) and ``tessella segment --csv`` measures, one rule for both (the CLI had a
copy of the panel's). Light to import: numpy only."""

from __future__ import annotations

import numpy as np

__all__ = ["confidence_map", "network_map"]


def network_map(result, key: str, shape=None) -> np.ndarray | None:
    """The single-channel network output ``key`` of ``result`` (a
    :class:`~tessella.engine.pipeline.SegmentResult`), stacked over time like its labels;
    None when the method has no such output (or its shape is not ``shape``)."""
    predictions = list(getattr(result, "predictions", ()) or ())
    maps = [p.arrays[key][0] for p in predictions if key in p.arrays]
    if not maps or len(maps) != len(predictions):
        return None
    if any(p.arrays[key].shape[0] != 1 for p in predictions):
        return None
    stacked = maps[0] if maps[0].ndim == np.ndim(result.labels) else np.stack(maps)
    return stacked if shape is None or stacked.shape == tuple(shape) else None


def confidence_map(result, shape=None) -> np.ndarray | None:
    """How sure the network is, per pixel: the seed map (embedding) or the foreground
    probability (boundary, semantic); None for a method with neither (worms2d's patches, a
    time-lapse model's centres)."""
    for key in ("seed", "foreground"):
        found = network_map(result, key, shape)
        if found is not None:
            return found
    return None

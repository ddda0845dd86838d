"""What every method family shares: the cached network output."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Prediction", "relative_spacing"]


@dataclass
class Prediction:
    """Named float arrays from the network, each ``(channels, *spatial)``; safe to cache.

    ``meta`` holds what post-processing needs to interpret them (e.g. the embedding grid
    spacing) so that ``postprocess(prediction, params)`` needs nothing else.
    """

    arrays: dict[str, np.ndarray]
    spatial_axes: str
    meta: dict = field(default_factory=dict)

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        return next(iter(self.arrays.values())).shape[1:]


def relative_spacing(prediction: Prediction, ndim: int) -> np.ndarray:
    """Voxel size per spatial axis in units of the finest axis (all ones when unknown)."""
    spacing = prediction.meta.get("spacing")
    if spacing is None:
        return np.ones(ndim)
    spacing = np.asarray(spacing, np.float64).reshape(-1)
    if spacing.size != ndim or not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
        raise ValueError(f"spacing must be {ndim} positive numbers, got {list(spacing)}")
    return spacing / spacing.min()

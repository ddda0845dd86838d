"""What every method family shares: the cached network output."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Prediction"]


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

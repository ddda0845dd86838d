"""The Segment results kept for the Tune widget (and the network maps Correct reads from
them), keyed by the labels layer they were placed in."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np
from psygnal import Signal

from tessella.engine._network_maps import confidence_map as confidence_map
from tessella.engine._network_maps import network_map as network_map

if TYPE_CHECKING:
    from napari.components import LayerList
    from napari.layers import Layer

    from tessella.engine.pipeline import SegmentResult

__all__ = [
    "MAX_RESULTS",
    "ResultCache",
    "results",
    "register",
    "get",
    "discard",
    "network_map",
    "confidence_map",
    "height_map",
]

MAX_RESULTS = 4


def _key(layer: Layer | Hashable) -> Hashable:
    """A layer's ``unique_id`` (a UUID in recent napari), or the id itself."""
    return getattr(layer, "unique_id", layer)


class ResultCache:
    """``{labels layer unique_id: SegmentResult}``, most recent last, at most ``max_results``."""

    #: emitted with a layer id whenever the result for that layer is added, replaced or dropped
    changed = Signal(object)

    def __init__(self, max_results: int = MAX_RESULTS):
        self.max_results = max_results
        self._results: OrderedDict[Hashable, SegmentResult] = OrderedDict()

    def register(
        self, layer: Layer, result: SegmentResult, layers: LayerList | None = None
    ) -> None:
        """Keep ``result`` for ``layer``; with ``layers``, drop it when the layer is removed."""
        key = _key(layer)
        self._results.pop(key, None)
        self._results[key] = result
        if layers is not None:
            layers.events.removed.connect(self._on_layer_removed)  # connecting twice is a no-op
        while len(self._results) > self.max_results:
            oldest = next(iter(self._results))
            del self._results[oldest]
            self.changed.emit(oldest)
        self.changed.emit(key)

    def get(self, layer: Layer | Hashable) -> SegmentResult | None:
        """The result placed in ``layer`` (a layer or its ``unique_id``), or None."""
        return self._results.get(_key(layer))

    def discard(self, layer: Layer | Hashable) -> None:
        """Forget the result for ``layer`` if there is one."""
        key = _key(layer)
        if self._results.pop(key, None) is not None:
            self.changed.emit(key)

    def clear(self) -> None:
        for key in list(self._results):
            self.discard(key)

    def __contains__(self, layer: Layer | Hashable) -> bool:
        return _key(layer) in self._results

    def __len__(self) -> int:
        return len(self._results)

    def _on_layer_removed(self, event) -> None:
        self.discard(event.value)


#: the cache shared by every widget of the session
results = ResultCache()
register = results.register
get = results.get
discard = results.discard


def height_map(result: SegmentResult, shape=None) -> np.ndarray | None:
    """High inside objects and low between them, for a seeded watershed split: the seed map
    (or a time-lapse model's centre map), one minus the boundary probability, or the
    foreground probability."""
    for key in ("seed", "centre"):
        high_inside = network_map(result, key, shape)
        if high_inside is not None:
            return high_inside
    boundary = network_map(result, "boundary", shape)
    if boundary is not None:
        return 1.0 - boundary
    return network_map(result, "foreground", shape)

"""Correct's review: step through the objects of a labels layer that look wrong (unusually
small or large, or of low confidence): the review of :class:`.correct.CorrectWidget`, a mixin."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Labels

from . import _results
from ._correct_edits import _axes_of, _how_to_copy, _on_disk

if TYPE_CHECKING:
    from tessella.engine.edit import Suspect

__all__ = ["CorrectReview"]


def _digest(data: np.ndarray) -> bytes:
    """A fingerprint of the labels, to know when the suspicious-object list is stale."""
    return hashlib.blake2b(
        memoryview(np.ascontiguousarray(data)).cast("B"), digest_size=16
    ).digest()


class CorrectReview:
    """Mixin for :class:`.correct.CorrectWidget`: the suspicious objects of the chosen labels
    layer, one at a time (uses the widget's ``viewer``, ``labels_layer``, ``_say``, ...)."""

    def _confidence_map(self, layer: Labels) -> np.ndarray | None:
        result = _results.get(layer)
        return None if result is None else _results.confidence_map(result, layer.data.shape)

    # --- review -----------------------------------------------------------------------------

    def suspects(self) -> list[Suspect]:
        """The chosen layer's suspicious objects, recomputed when its labels changed."""
        from tessella.engine.edit import suspicious_objects

        layer = self.labels_layer
        if layer is None:
            return []
        key = (layer.unique_id, _digest(np.asarray(layer.data)))
        if key != self._suspects_key:
            self._suspects = suspicious_objects(
                np.asarray(layer.data), self._confidence_map(layer), axes=_axes_of(layer)
            )
            self._suspects_key = key
            self._suspect_index = -1
        return self._suspects

    def step_suspicious(self, step: int = 1) -> Suspect | None:
        """Centre the view on the next (or previous) suspicious object and select it."""
        layer = self.labels_layer
        if layer is None:
            self._say("Next suspicious: add or choose a labels layer first.")
            return None
        if not isinstance(layer.data, np.ndarray):  # read whole, twice, on the GUI thread
            self._say(
                f"Next suspicious: layer '{layer.name}' is not in memory ({_on_disk(layer)}), "
                "and finding its suspicious objects would read it whole here; to review a "
                f"copy, {_how_to_copy(layer)}",
                "error",
            )
            return None
        suspects = self.suspects()
        if not suspects:
            self.suspect_label.setText(f"Nothing unusual in '{layer.name}'")
            self._say(f"Nothing unusual in '{layer.name}'", None)
            return None
        self._suspect_index = (self._suspect_index + step) % len(suspects)
        suspect = suspects[self._suspect_index]
        world = np.asarray(layer.data_to_world(suspect.centroid))
        displayed = list(self.viewer.dims.displayed)
        for axis in range(layer.ndim):
            if axis not in displayed:
                self.viewer.dims.set_point(axis, world[axis])
        camera = self.viewer.scene.camera if hasattr(self.viewer, "scene") else self.viewer.camera
        camera.center = tuple(world[displayed])
        layer.selected_label = suspect.label
        self.set_selection([suspect.label])
        confidence = "" if suspect.confidence is None else f", confidence {suspect.confidence:.2f}"
        frame = "" if suspect.frame is None else f" in frame {suspect.frame}"
        found = (
            f"{self._suspect_index + 1} of {len(suspects)}: label {suspect.label}{frame} is "
            f"{suspect.reason} ({suspect.size} px{confidence})"
        )
        self.suspect_label.setText(found)
        self._say(f"Suspicious in '{layer.name}': {found}", None)
        return suspect

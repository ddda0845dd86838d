"""Layer choosers shared by the dock widgets."""

from __future__ import annotations

__all__ = ["fill_layer_combo", "find_layer"]


def find_layer(viewer, layer_id):
    """The layer of ``viewer`` whose ``unique_id`` is ``layer_id``, or None."""
    return next((layer for layer in viewer.layers if layer.unique_id == layer_id), None)


def fill_layer_combo(combo, viewer, layers) -> bool:
    """List ``layers`` in ``combo``, keeping the chosen one (else the active layer) chosen.

    Signals are blocked while filling; returns True when the chosen layer changed, so the
    caller can run its own handler once.
    """
    previous = combo.currentData()
    active = viewer.layers.selection.active
    combo.blockSignals(True)
    combo.clear()
    for layer in layers:
        combo.addItem(layer.name, layer.unique_id)
    index = combo.findData(previous)
    if index < 0 and active is not None:
        index = combo.findData(active.unique_id)
    combo.setCurrentIndex(max(index, 0) if layers else -1)
    combo.blockSignals(False)
    return combo.currentData() != previous

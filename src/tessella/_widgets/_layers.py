"""Layer choosers shared by the dock widgets."""

from __future__ import annotations

__all__ = ["LayerWatcher", "fill_layer_combo", "find_layer", "full_resolution"]


def scrolling_layout(widget):
    """A QVBoxLayout for ``widget``'s controls inside a scroll area that fills ``widget``:
    a tall panel then scrolls in a short window instead of forcing the window taller than
    the screen. Panels with a run button use :func:`._layout.panel_layout`, which also
    keeps that button, the progress and the status out of the scrolling part."""
    from ._layout import panel_layout

    return panel_layout(widget)[0]


def find_layer(viewer, layer_id):
    """The layer of ``viewer`` whose ``unique_id`` is ``layer_id``, or None."""
    return next((layer for layer in viewer.layers if layer.unique_id == layer_id), None)


def full_resolution(layer):
    """The array behind ``layer`` at full resolution, not read: level 0 of a multiscale
    layer (a big zarr image, a big 2D blockwise result), else ``layer.data``. A panel reads
    a layer through this: ``np.asarray(layer.data)`` on a multiscale layer gives its lowest
    resolution level."""
    return layer.data[0] if getattr(layer, "multiscale", False) else layer.data


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


class LayerWatcher:
    """Mixin for dock widgets: ``_refresh_layers()`` runs whenever layers are added, removed,
    reordered or renamed (call ``_watch_layers()`` once ``self.viewer`` is set).

    Connections are to bound methods, which napari holds weakly, so a closed widget is not
    kept alive by the viewer. ``_layer_removed(layer)`` is a hook for per-layer state.
    """

    def _watch_layers(self) -> None:
        layers = self.viewer.layers
        layers.events.inserted.connect(self._on_layer_inserted)
        layers.events.removed.connect(self._on_layer_removed)
        layers.events.reordered.connect(self._refresh_layers)
        for layer in layers:
            layer.events.name.connect(self._refresh_layers)

    def _on_layer_inserted(self, event) -> None:
        event.value.events.name.connect(self._refresh_layers)
        self._refresh_layers()

    def _on_layer_removed(self, event) -> None:
        event.value.events.name.disconnect(self._refresh_layers)
        self._layer_removed(event.value)
        self._refresh_layers()

    def _layer_removed(self, layer) -> None:
        """Forget what the widget kept about ``layer`` (nothing by default)."""

    def event(self, event) -> bool:
        """Notice the panel being closed: napari takes a docked widget out of its dock
        (``setParent(None)``) when its "x" is clicked; ``_panel_closed()`` then stops what
        the widget runs, which would otherwise go on unseen."""
        from qtpy.QtCore import QEvent

        if event.type() == QEvent.Type.ParentChange:
            if self.parent() is not None:
                self._docked = True
            elif getattr(self, "_docked", False):
                self._docked = False
                self._panel_closed()
        return super().event(event)  # type: ignore[misc]

    def _panel_closed(self) -> None:
        """Stop running work when the panel is closed (nothing by default)."""

    def _refresh_layers(self, event=None) -> None:
        raise NotImplementedError

"""Evaluate's errors layers: one per prediction (``"<prediction> errors @<IoU>"``), updated by
every evaluation, and marked out of date when what it describes changes (a mixin of
:class:`.evaluate.EvaluateWidget`).

An errors layer shows the mistakes of one prediction against one ground truth as they were
when scored. When either layer leaves the viewer, or its data are replaced (Segment run again
into it, ``layer.data = ...``), the errors layer is hidden and its name ends in ``(stale)``,
as Segment's companion layers (tracks, overlaps) are hidden with their labels
(:mod:`._companions`): kept rather than removed (removing layers from a layer-list callback
crashes napari under software OpenGL), and said on the status line. The next evaluation of
that prediction, or of a new prediction of the name it described, updates it and shows it
again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from napari.utils.notifications import show_info

from ._evaluate_run import ERROR_COLORS, ERRORS_KEY
from ._labels_states import _restart_history
from ._layers import find_layer
from ._placement import last_axes

if TYPE_CHECKING:
    from napari.layers import Labels

__all__ = ["STALE_KEY", "EvaluateErrors"]

#: errors layer metadata: why it no longer describes its layers (absent while it does)
STALE_KEY = "tessella_errors_stale"
_STALE = " (stale)"


class EvaluateErrors:
    """Mixin for :class:`.evaluate.EvaluateWidget`: the errors layer of each prediction
    (uses the widget's ``viewer``, ``errors_checkbox``, ``_set_status``, ``_changed_during``
    and the state its ``__init__`` sets: ``_scored``, ``last_evaluation``,
    ``_error_layers``, ``_error_runs``, ``_data_versions``)."""

    def _watch_data(self, *layers) -> tuple:
        """Notice when the data of ``layers`` (a pair about to be scored) are replaced;
        their data versions now."""
        for layer in layers:
            layer.events.data.connect(self._on_data_replaced)  # (connecting twice: once)
        return tuple(self._data_versions.get(layer.unique_id, 0) for layer in layers)

    def _on_data_replaced(self, event) -> None:
        layer = getattr(event, "source", None)
        if layer is None:
            return
        layer_id = layer.unique_id
        self._data_versions[layer_id] = self._data_versions.get(layer_id, 0) + 1
        self._errors_out_of_date(layer_id, "replaced")

    def _layer_removed(self, layer) -> None:
        super()._layer_removed(layer)  # type: ignore[misc]
        self._errors_out_of_date(layer.unique_id, "removed")
        self._error_layers.pop(layer.unique_id, None)  # (its layer is taken over by name)

    def _errors_out_of_date(self, layer_id: str, how: str) -> None:
        """Hide, and name as stale, the errors layers that describe the layer ``layer_id``,
        which was ``how`` ("removed", "replaced"); say so."""
        for errors_id, run in list(self._error_runs.items()):
            if layer_id not in (run.pred_id, run.truth_id):
                continue
            del self._error_runs[errors_id]
            errors = find_layer(self.viewer, errors_id)
            if errors is None:
                continue
            what = "prediction" if layer_id == run.pred_id else "ground truth"
            name = run.pred_name if layer_id == run.pred_id else run.truth_name
            why = f"the {what} '{name}' was {how}"
            shown = errors.name
            errors.metadata = {**errors.metadata, STALE_KEY: why}
            errors.visible = False
            errors.name = shown + _STALE
            text = f"'{shown}' is out of date ({why}): hidden, and named '{errors.name}'. "
            text += "Evaluate again to update it."
            self._set_status(text)
            show_info(f"Evaluate: {text}")

    def _on_show_errors_toggled(self, checked: bool) -> None:
        if checked and self.last_evaluation is not None:
            changed = self._changed_during(self._scored)
            if changed:  # (never errors that no longer describe their layers)
                self._set_status(
                    f"No errors layer: {changed} since the evaluation. Evaluate again."
                )
            else:
                self._place_errors()
        elif not checked and self._scored is not None:
            layer = find_layer(self.viewer, self._error_layers.get(self._scored.pred_id))
            if layer is not None:
                layer.visible = False

    def _stale_layer_of(self, pred_name: str):
        """An out-of-date errors layer that described a prediction named ``pred_name`` and
        is no prediction's now (its prediction was removed), to take over; else None."""
        taken = set(self._error_layers.values())
        for layer in self.viewer.layers:
            if (
                layer.metadata.get(ERRORS_KEY) == pred_name
                and STALE_KEY in layer.metadata
                and layer.unique_id not in taken
            ):
                return layer
        return None

    def _place_errors(self) -> Labels:
        """Show the last evaluation's errors in its prediction's error layer, made if needed."""
        run, errors = self._scored, self.last_evaluation.errors
        name = f"{run.pred_name} errors @{run.threshold:g}"
        # the prediction's units too: napari drops every layer's units (the scale bar's)
        # when one layer has its default "pixel" among layers in µm
        placement = {  # (the last axes: overlapping masks of an (N, Y, X) prediction)
            **last_axes(dict(run.world), errors.ndim),
            "units": run.units[-errors.ndim :],
            "axis_labels": run.axis_labels[-errors.ndim :],
        }
        layer = find_layer(self.viewer, self._error_layers.get(run.pred_id))
        if layer is None:
            layer = self._stale_layer_of(run.pred_name)
        if layer is not None and layer.ndim != errors.ndim:
            self.viewer.layers.remove(layer)
            layer = None
        if layer is None:
            layer = self.viewer.add_labels(
                errors,
                name=name,
                colormap=ERROR_COLORS,
                opacity=0.8,
                metadata={ERRORS_KEY: run.pred_name},
                **placement,
            )
        else:
            layer.data = errors
            _restart_history(layer)  # (napari keeps it: Ctrl+Z would write old steps)
            layer.name = name
            for key, value in placement.items():
                setattr(layer, key, value)
            kept = {key: value for key, value in layer.metadata.items() if key != STALE_KEY}
            layer.metadata = {**kept, ERRORS_KEY: run.pred_name}
            layer.visible = True
        self._error_layers[run.pred_id] = layer.unique_id
        self._error_runs[layer.unique_id] = run
        return layer

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

While an errors layer is shown, the layers it describes (its prediction, the prediction's
"overlaps" and the ground truth) are drawn as outlines (napari's ``contour``), so that the
errors are the only filled objects: napari's random label colours include red and cyan, and a
missed object filled cyan looked like a predicted one of that colour. Hiding the errors layer
(its eye, "Show errors" unticked, out of date, removed) fills them again; a layer already
drawn as outlines, or whose outline the user changed meanwhile, is left as it is.

Where one of those layers has planes of more than :data:`OUTLINE_MAX_PIXELS` (2048 x 2048,
the size above which Evaluate scores a pair in a worker), they are dimmed instead (opacity
:data:`DIMMED`), still filled: napari draws outlines on the GUI thread at every redraw, and a
4096 x 4096 pair outlined took 0.5-2.5 s to show its errors and 0.5-1.7 s a redraw (0.15-0.3 s
dimmed). The status line says so; hiding the errors gives them their opacity back (unless the
user changed it meanwhile), and a layer drawn as outlines, or already as faint, is left as it
is.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from napari.utils.notifications import show_info

from ._companions import companion_layer
from ._evaluate_run import ERROR_COLORS, ERRORS_KEY, SYNC_MAX_PIXELS
from ._labels_states import _restart_history
from ._layers import find_layer
from ._placement import last_axes

if TYPE_CHECKING:
    from napari.layers import Labels

__all__ = ["DIMMED", "OUTLINE", "OUTLINE_MAX_PIXELS", "STALE_KEY", "EvaluateErrors"]

#: errors layer metadata: why it no longer describes its layers (absent while it does)
STALE_KEY = "tessella_errors_stale"
_STALE = " (stale)"
#: the outline (napari's ``contour``, pixels) of the layers an errors layer describes while it
#: is shown
OUTLINE = 1
#: layers with planes (their last two axes; a multiscale layer's level 0) of more pixels than
#: this are dimmed rather than outlined while their errors are shown: napari computes outlines
#: on the GUI thread at every redraw (a 4096 x 4096 layer: about 1 s a refresh outlined, 0.15 s
#: filled; 2048 x 2048: 0.3-0.6 s against 0.1 s)
OUTLINE_MAX_PIXELS = SYNC_MAX_PIXELS
#: the opacity of the layers dimmed (napari's default for labels is 0.7)
DIMMED = 0.3


#: the status line's clause on the layers outlined (or dimmed) while the errors are shown
_OUTLINED_SAID = r"; errors filled, [^\n]*? outlined"


def _plane(layer) -> tuple[int, int]:
    """The size (rows, columns) of the planes of ``layer`` (its level 0 where multiscale)."""
    shape = tuple(layer.data[0].shape if layer.multiscale else layer.data.shape)
    return (int(shape[-2]), int(shape[-1])) if len(shape) >= 2 else (1, int(shape[-1]))


class EvaluateErrors:
    """Mixin for :class:`.evaluate.EvaluateWidget`: the errors layer of each prediction
    (uses the widget's ``viewer``, ``errors_checkbox``, ``_set_status``, ``_changed_during``
    and the state its ``__init__`` sets: ``_scored``, ``last_evaluation``,
    ``_error_layers``, ``_error_runs``, ``_data_versions``, ``_outlined``,
    ``_outlined_by``; ``_dimmed`` is made here)."""

    @property
    def _dimmed(self) -> dict[str, tuple[float, float]]:
        """Layer id -> (its opacity before, the opacity Evaluate dimmed it to): the layers
        dimmed rather than outlined, as too large to outline."""
        return self.__dict__.setdefault("_dimmed_layers", {})

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
        self._fill_again(layer.unique_id)  # (an errors layer removed: its layers filled)
        self._outlined.pop(layer.unique_id, None)
        self._dimmed.pop(layer.unique_id, None)
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
        layer.events.visible.connect(self._on_errors_visibility)  # (connecting twice: once)
        self._outline_for(layer.unique_id, run)
        return layer

    # --- the layers described, as outlines while their errors are shown -------------------------

    def _on_errors_visibility(self, event) -> None:
        """An errors layer shown (its layers drawn as outlines, while it is current) or
        hidden (filled again)."""
        errors = getattr(event, "source", None)
        if errors is None:
            return
        run = self._error_runs.get(errors.unique_id)
        if errors.visible and run is not None:
            self._outline_for(errors.unique_id, run)
        elif not errors.visible:
            self._fill_again(errors.unique_id)

    def _outline_for(self, errors_id: str, run) -> None:
        """Draw the layers the errors layer ``errors_id`` describes (``run``'s prediction, its
        "overlaps" and ground truth) as outlines, those filled now (dimmed instead where one
        has planes of more than :data:`OUTLINE_MAX_PIXELS`); those it described before and no
        longer does filled again (their opacity given back)."""
        from napari.layers import Labels

        pred = find_layer(self.viewer, run.pred_id)
        described = [pred, find_layer(self.viewer, run.truth_id)]
        if pred is not None:
            described.append(companion_layer(self.viewer, pred, "overlaps"))
        layers = [
            layer
            for layer in described
            if isinstance(layer, Labels) and ERRORS_KEY not in layer.metadata
        ]
        before = self._outlined_by.get(errors_id, ())
        self._outlined_by[errors_id] = tuple(layer.unique_id for layer in layers)
        large = any(math.prod(_plane(layer)) > OUTLINE_MAX_PIXELS for layer in layers)
        for layer in layers:
            if layer.unique_id in self._outlined or layer.unique_id in self._dimmed:
                continue
            if layer.contour != 0:  # (drawn as outlines by the user: theirs)
                continue
            if not large:
                self._outlined[layer.unique_id] = OUTLINE
                layer.contour = OUTLINE
            elif layer.opacity > DIMMED:
                self._dimmed[layer.unique_id] = (float(layer.opacity), DIMMED)
                layer.opacity = DIMMED
        now = self._outlined_by[errors_id]
        self._fill_layers([layer_id for layer_id in before if layer_id not in now])

    def _outlined_roles(self, errors_id: str, run) -> list[str]:
        """What the errors layer ``errors_id`` (of ``run``) has drawn as outlines while it is
        shown: "prediction" (or its "overlaps"), "ground truth" (a layer outlined before is
        the user's and left out), which the status line joins by "and" and ends in
        "outlined"; those dimmed instead, as too large to outline, in one item that ends in
        "rather than"."""
        shown = self._outlined_by.get(errors_id, ())

        def roles(ids) -> list[str]:
            said = ["prediction"] if any(i != run.truth_id for i in ids) else []
            return said + (["ground truth"] if run.truth_id in ids else [])

        outlined = roles([i for i in shown if i in self._outlined])
        dimmed = [i for i in shown if i in self._dimmed]
        if not dimmed:
            return outlined
        layers = [find_layer(self.viewer, i) for i in dimmed]
        rows, columns = max((_plane(layer) for layer in layers if layer is not None), key=math.prod)
        why = f"{rows} x {columns} pixels: too large to redraw fast"
        return [f"{' and '.join(roles(dimmed))} dimmed ({why}) rather than"]

    def _fill_again(self, errors_id: str) -> None:
        """The errors layer ``errors_id`` is hidden (or gone): the layers it outlined filled
        again, but those another shown errors layer describes; the status line, where it
        said them outlined (or dimmed) for it, says so no longer."""
        self._fill_layers(self._outlined_by.pop(errors_id, ()))
        scored = getattr(self, "_scored", None)
        if scored is None or self._error_layers.get(scored.pred_id) != errors_id:
            return
        text = self.status_label.text()
        said = re.sub(_OUTLINED_SAID, "; errors hidden, the layers drawn as before", text, count=1)
        if said != text:
            self._set_status(said, details=None)  # (its tooltip: the same evaluation)

    def _fill_layers(self, layer_ids) -> None:
        still = {layer_id for ids in self._outlined_by.values() for layer_id in ids}
        for layer_id in layer_ids:
            if layer_id in still:
                continue
            layer = find_layer(self.viewer, layer_id)
            if layer_id in self._outlined:
                outline = self._outlined.pop(layer_id)
                if layer is not None and layer.contour == outline:  # (unless changed by hand)
                    layer.contour = 0
            if layer_id in self._dimmed:
                before, dimmed = self._dimmed.pop(layer_id)
                if layer is not None and math.isclose(layer.opacity, dimmed):  # (as above)
                    layer.opacity = before

"""Tune's parameters: the controls follow the labels on screen, and a change of a value
schedules an update (:class:`TuneParams`, a mixin of :class:`.tune.TuneWidget`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from . import _results
from ._tune_controls import _decimals, _lowest_means, _odd_only, _set_value
from ._tune_frames import _slice_preview
from ._tune_notices import show_error

if TYPE_CHECKING:
    from tessella.engine.params import ParamSpec

__all__ = ["LINKING_ACTS", "TuneParams"]

#: the tooltip's word on a time-lapse's linking parameters (:meth:`TuneParams._links`)
LINKING_ACTS = (
    "Acts when the whole movie is post-processed (Apply to all, or Segment): the preview of "
    "the frame on screen is not linked, so a change here runs none."
)


class TuneParams:
    """Mixin for :class:`.tune.TuneWidget`: the parameters the controls show and their
    changes (uses the widget's ``controls``, ``_params``, ``_start``, ``_say``, ...)."""

    # --- parameters ---------------------------------------------------------------------------

    def _show_params(self, params) -> None:
        for name, control in self.controls.items():
            _set_value(control, getattr(params, name))
        self._grey_out_switched_off(params)

    def _grey_out_switched_off(self, params) -> None:
        """Grey out the controls of parameters whose switch (``ParamSpec.only_with``) is off
        in ``params`` (a time-lapse's tracking parameters with ``link`` off), their tooltip
        saying why; the others as they were built (those the labels' axes leave nothing to
        act on stay greyed out)."""
        for name, switch in self._switches.items():
            control, label = self.controls.get(name), self._row_labels.get(name)
            if control is None or label is None or name in self._no_axis:
                continue
            on = bool(getattr(params, switch, True))
            tip = self._tips[name]
            if not on:
                tip = f"Not used now: {name} acts only while {switch} is on. {tip}"
            for widget in (control, label):
                widget.setEnabled(on)
                widget.setToolTip(tip)

    def enterEvent(self, event) -> None:
        """The pointer comes to the controls: first make them show what the labels on
        screen were made with (Ctrl+Z may have undone an update since)."""
        self.follow_labels_on_screen()
        super().enterEvent(event)

    def _updating(self, layer_id) -> bool:
        """Whether an update of ``layer_id`` is due or running."""
        return layer_id in self._requests or layer_id in self._due

    def follow_labels_on_screen(self) -> bool:
        """Show the parameters of the labels on screen when they are a recorded state other
        than the controls' (an undone or redone update, or a preview of one frame or slice);
        True if the controls changed."""
        from tessella.engine.params import make_params

        layer, result = self.labels_layer, self.result
        if layer is None or result is None or self._updating(layer.unique_id):
            return False
        state = _results.state_on_screen(layer)  # not hand-edited labels: no parameters made
        if state is None or state["fingerprint"] == self._in_step.get(layer.unique_id):
            return False
        values = state.get("preview")  # a preview: the parameters the controls showed
        if values is None and (state.get("edited") or not state["recipe"].get("params")):
            return False
        try:
            params = make_params(self.method.Params, **(values or state["recipe"]["params"]))
        except ValueError:  # a recipe of an older version of the method
            return False
        if values is None:  # labels one set of parameters made (an undo back to them)
            self._part_params.pop(layer.unique_id, None)
        if params == self.params:
            return False
        self._params[layer.unique_id] = self._written_with[layer.unique_id] = params
        self._in_step[layer.unique_id] = state["fingerprint"]
        for control in self.controls.values():  # shown, not applied: they are on screen
            control.blockSignals(True)
        try:
            self._show_params(params)
        finally:
            for control in self.controls.values():
                control.blockSignals(False)
        lineage = state.get("lineage")
        if lineage is not None and _results.tracks_layer(self.viewer, layer) is not None:
            linked = bool(getattr(params, "link", True))
            _results.show_tracks(self.viewer, layer, np.asarray(layer.data), lineage, linked)
        if values is not None and state.get("edited"):
            self._say(
                ": the controls show the parameters of the preview on screen (one frame or "
                "slice; Apply to all to make them the labels' recipe)",
                layer,
            )
        else:
            self._say(": the controls show the parameters of the labels on screen", layer)
        return True

    def _on_param_changed(self, spec: ParamSpec, value) -> None:
        if spec.kind is float and spec.low is not None and spec.high is not None:
            value = round(float(value), _decimals(spec) + 1)  # not the slider's float noise
        if _odd_only(spec) and value > 0 and value % 2 == 0:
            # shown as it acts: an even size acts as the next odd one, so a value dragged
            # or clicked to lands there; only a single step down from that odd size goes on
            # to the odd size below (else the control could never step down past it)
            before = None if self.params is None else getattr(self.params, spec.name)
            if before == value + 1:
                value -= 1
            elif spec.high is None or value + 1 <= spec.high:
                value += 1  # (at an even top of the range it stays: the help says how it acts)
        self.set_param(spec.name, value)

    def set_param(self, name: str, value) -> bool:
        """Validate ``name=value`` and schedule an update; False (and an error) if invalid."""
        from tessella.engine.params import make_params

        if self.result is None:
            return False
        try:
            params = make_params(self.method.Params, self.params, **{name: value})
        except ValueError as exc:
            show_error(f"Tune: {exc}")
            self._show_params(self.params)
            return False
        if self._applying_to_all():  # any change: the whole result, not a part of it
            self._apply_to_all_again(params, name)
        elif not self._not_in_preview(name):
            self._use_params(params)
        else:
            self._keep_for_apply_to_all(params, name)
        return True

    def _not_in_preview(self, name: str) -> bool:
        """Whether ``name`` cannot act in the chosen result's preview: it acts along Z, and a
        volume's preview is one slice in 2D (but for the semantic method's ``z_median``,
        made on the slices around it as *Apply to all* makes it: :mod:`._tune_masks`), or it
        links a movie's frames (:meth:`_links`), and the preview is one frame. A preview
        would change nothing."""
        from tessella.engine.params import param_specs

        from ._tune_masks import acts_in_preview

        if self._links(name):
            return True
        if not self._whole_volume():
            return False
        if acts_in_preview(self.method, self.result.axes, name):
            return False
        return any(s.name == name and "Z" in s.needs for s in param_specs(self.method.Params))

    def _links(self, name: str) -> bool:
        """Whether ``name`` is a linking parameter of the chosen movie: ``link`` or one that
        acts only with it, of a method that links the frames (``postprocess_series``) of a
        result of several frames. The preview of a frame is never linked
        (:func:`._tune_frames._postprocess_frames`)."""
        from tessella.engine.params import param_specs

        result, method = self.result, self.method
        if result is None or len(result.predictions) < 2:
            return False
        if not hasattr(method, "postprocess_series"):
            return False
        spec = {spec.name: spec for spec in param_specs(method.Params)}.get(name)
        return spec is not None and (name == "link" or spec.only_with == "link")

    def _applying_to_all(self) -> bool:
        """Whether *Apply to all* of the chosen layer runs or is due (Reset or Load recipe of
        a volume or movie waiting for the quiet period counts: it redoes all of it too)."""
        layer_id = self.layer_combo.currentData()
        running = self._requests.get(layer_id)
        return (running is not None and running.apply_all) or self._due.get(layer_id) is True

    def _apply_to_all_again(self, params, name: str) -> None:
        """A change of ``name`` while *Apply to all* runs (or is due): that run is
        superseded, as by any change, and *Apply to all* starts again with ``params``. The
        user asked for all of it: a preview of the frame or slice on screen would drop the
        *Apply to all* and leave that part at the new value and the rest at the old ones
        (user test s29/t1 P8); a change no preview shows, kept for a later *Apply to all*,
        would be dropped (the run under way would end with the old value in the labels and
        the new one in the controls)."""
        self._use_params(params, whole=True)
        layer = self.labels_layer
        if layer is not None and self._applying_to_all():
            if self._not_in_preview(name):
                why = self._why_no_preview(name, params)
            else:
                part = "slice" if self._whole_volume() else "frame"
                why = f"so that every {part} gets it, not only the one on screen"
            self._say(
                f": {_named(params, name)} changed during Apply to all, which starts again "
                f"with it ({why})",
                layer,
            )

    def _why_no_preview(self, name: str, params) -> str:
        """Why a change of ``name`` to its value in ``params`` runs no preview."""
        if not self._links(name):
            return "it acts across slices; the preview of one slice is 2D"
        if name != "link":
            what = "it acts on how the frames are linked"
        elif getattr(params, name):
            what = "it links the frames"
        else:
            what = "it leaves the frames unlinked, each object with its own ID"
        return f"{what}; the preview of one frame is not linked"

    def _keep_for_apply_to_all(self, params, name: str) -> None:
        """Show ``params`` without running a preview, which could not show the change of
        ``name``; the status says that it acts at *Apply to all*. Nothing to run:
        :attr:`update_finished` says so at once unless an update is under way or due."""
        layer_id, layer = self.layer_combo.currentData(), self.labels_layer
        self._params[layer_id] = params
        self._show_params(params)
        if layer is None:
            return
        state = _results.state_on_screen(layer)
        if state is not None:  # the controls stay on these labels (an undo moves them)
            self._in_step[layer_id] = state["fingerprint"]
        self._say(
            f": {_named(params, name)} applies at Apply to all "
            f"({self._why_no_preview(name, params)}, so none was run)",
            layer,
        )
        if not self._requests and not self._due:
            self.update_finished.emit()

    def _use_params(self, params, whole: bool = False) -> None:
        """Show ``params`` and update the labels with them: the frame or slice on screen, or
        with ``whole`` the whole volume or movie (as *Apply to all*)."""
        layer_id = self.layer_combo.currentData()
        self._params[layer_id] = params
        self._changed_at[layer_id] = time.perf_counter()
        self._show_params(params)
        # coalesced: runs with the latest values when the quiet period or the preview under
        # way ends
        self._due[layer_id] = whole or self._due.get(layer_id, False)
        if not self._timer.isActive():
            self._run_due(layer_id)

    def _run_due(self, layer_id) -> None:
        """Start the update due for ``layer_id`` (chosen or not), unless it waits for the
        preview of that layer under way: a quick one, or one that cannot stop part way, is
        shown first, then this one starts (:meth:`_on_finished`); a slow one that can stop
        is dropped for it (:meth:`_abandon`: the newest value wins, the layer keeping the
        last preview that finished). An update of the whole volume supersedes a preview,
        and any change supersedes *Apply to all*, which would keep the user waiting frame
        after frame."""
        whole = self._due.get(layer_id)
        if whole is None:
            return
        running = self._requests.get(layer_id)
        dropped = None
        if running is not None and not running.apply_all and not whole:
            if not self._abandon(running):
                return
            dropped = running
        del self._due[layer_id]
        self._start(apply_all=whole, layer_id=layer_id)
        request = self._requests.get(layer_id)
        if dropped is not None and request is not None and request is not dropped:
            self._say_updating(request, dropped)

    def _on_quiet_period_over(self) -> None:
        for layer_id in list(self._due):
            self._run_due(layer_id)

    def _whole_volume(self) -> bool:
        """Whether the chosen result is a volume whose changes are previewed slice by slice:
        Reset and Load recipe then redo it whole (a preview of one slice in 2D would leave
        the volume different from what the parameters make)."""
        result = self.result
        return result is not None and _slice_preview(self.method, result)

    def _redo_all(self) -> bool:
        """Whether Reset and Load recipe redo all of the chosen result, as *Apply to all*
        does: a volume previewed slice by slice, or a movie (a preview of the frame on screen
        would leave the other frames, and the tracks, made with the values before, while the
        controls show the new ones)."""
        result = self.result
        return result is not None and (len(result.predictions) > 1 or self._whole_volume())

    def reset(self) -> None:
        """Go back to the model card's default parameters (for a volume or a movie, of all
        of it)."""
        from tessella.engine.pipeline import resolve_params

        if self.result is not None:
            self._use_params(resolve_params(self.result.model), whole=self._redo_all())

    def _on_reset_clicked(self) -> None:
        self.reset()


def _named(params, name: str) -> str:
    """``name`` and its value in ``params`` as the status line says them: "min_iou=0.6",
    "link off", "z_median off" (what its lowest value means, as its control shows)."""
    from tessella.engine.params import param_specs

    value = getattr(params, name)
    if isinstance(value, bool):
        return f"{name} {'on' if value else 'off'}"
    spec = {spec.name: spec for spec in param_specs(type(params))}.get(name)
    means = "" if spec is None or value != spec.low else _lowest_means(spec)
    return f"{name} {means}" if means else f"{name}={value}"

"""Evaluate's default pair of layers: the prediction is the newest result (the labels layer
Segment made, or a reopened export of one, added or selected in the layer list last), its
ground truth a layer that fits it by shape (the same shape; an (N, Y, X) stack of object
masks of a (Y, X) prediction's image size; a Cell Tracking Challenge SEG layer whose
annotated frames lie in it), a name like "ground truth" only breaking ties. Where no layer
fits, the status line says so before Evaluate is clicked (the picking of
:class:`.evaluate.EvaluateWidget`, a mixin)."""

from __future__ import annotations

import weakref

import numpy as np
from napari.layers import Labels

from tessella._io_recipe import RECIPE_KEY

from ._evaluate_kinds import _layer_array
from ._evaluate_run import ERRORS_KEY, _shape_problem

__all__ = ["EvaluatePicks", "fit_rank", "is_result", "looks_like_mask_stack"]

_TRUTH_WORDS = ("truth", "gt", "ground", "annot", "mask", "manual")


def _looks_like_truth(name: str) -> bool:
    words = name.lower().replace("_", " ").replace("-", " ").split()
    return any(word.startswith(_TRUTH_WORDS) for word in words)


def is_result(layer: Labels) -> bool:
    """Whether ``layer`` holds a segmentation result: Segment's (or Tune's) labels, or an
    exported result reopened (its recipe read with it)."""
    return RECIPE_KEY in layer.metadata


def _shape(layer: Labels) -> tuple[int, ...]:
    return tuple(_layer_array(layer).shape)


#: layer -> (id of its data, whether it looks like a stack of object masks): looked at once
_STACK_LOOKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def looks_like_mask_stack(layer: Labels) -> bool:
    """Whether an (N, Y, X) labels layer is a stack of object masks rather than a time-lapse
    or a volume: its recorded axes (named by its file, its recipe or its ``axis_labels``;
    not the reader's guess from the shape, which calls any plain 3D TIFF ZYX and names its
    sliders so) have no T or Z, and its planes hold one object each where their neighbours have none
    (:func:`~tessella.engine.evaluation.mask_stack_reason`, on a sample of at most
    :data:`._evaluate_kinds.GUESS_SAMPLE_PIXELS` pixels as "Ground truth is" looks at it; a
    lazy layer's at most :data:`._evaluate_kinds.GUESS_SYNC_PIXELS`, read once)."""
    from tessella._io import AXES_GUESSED_KEY, recorded_axes
    from tessella._io_axes import named_axes
    from tessella.engine.evaluation import mask_stack_reason, sample_planes

    from ._evaluate_kinds import GUESS_SAMPLE_PIXELS, GUESS_SYNC_PIXELS

    metadata = dict(layer.metadata)
    labels = getattr(layer, "axis_labels", None)
    if metadata.get(AXES_GUESSED_KEY):  # (the reader names the axes it guessed: no evidence)
        guessed = metadata.pop("axes", None)
        if isinstance(guessed, str) and named_axes(labels, 3) == guessed:
            labels = None
    axes = recorded_axes(3, metadata, labels)
    if axes is not None and set("TZ") & set(axes):
        return False
    data = _layer_array(layer)
    seen = _STACK_LOOKS.get(layer)
    if seen is not None and seen[0] == id(data):
        return seen[1]
    budget = GUESS_SAMPLE_PIXELS if isinstance(data, np.ndarray) else GUESS_SYNC_PIXELS
    try:
        looks = mask_stack_reason(sample_planes(data, budget)[0]) is not None
    except Exception:  # (unreadable: scoring it says why)
        looks = False
    _STACK_LOOKS[layer] = (id(data), looks)
    return looks


def fit_rank(pred: Labels, truth: Labels) -> int | None:
    """How ``truth`` fits as the ground truth of ``pred`` by its shape: 0 the same shape (a
    time-lapse's frames included); 1 an (N, Y, X) stack of object masks of a (Y, X)
    prediction's image size (:func:`looks_like_mask_stack`: not a time-lapse or a volume of
    that size); 2 a Cell Tracking Challenge SEG layer whose annotated frames (slices) lie in
    the prediction, as the panel scores it; None where it does not fit."""
    pred_shape, truth_shape = _shape(pred), _shape(truth)
    if pred_shape == truth_shape:
        return 0
    if (
        len(pred_shape) == 2
        and len(truth_shape) == 3
        and truth_shape[1:] == pred_shape
        and looks_like_mask_stack(truth)
    ):
        return 1
    if not truth.metadata.get("path"):
        return None
    from tessella.engine.evaluation import places_misfit

    from .evaluate import _ctc_file_place, _ctc_places

    places = _ctc_places(truth)
    if places is None:
        return None
    if _ctc_file_place(truth) is not None:
        shapes = [truth_shape]
    else:
        shapes = [truth_shape[len(place) :] for place in places]
    return None if places_misfit(places, shapes, pred_shape) else 2


def _fits_at_all(pred: Labels, truth: Labels) -> bool:
    """Whether the panel can score ``truth`` against ``pred`` as some kind: :func:`fit_rank`,
    or overlapping masks of a prediction that is a stack of masks itself."""
    if fit_rank(pred, truth) is not None:
        return True
    return not _shape_problem(pred, _shape(pred), truth, _shape(truth), "overlapping")


def no_fit_note(pred: Labels) -> str:
    """The status line where no labels layer fits the prediction ``pred``."""
    shape = _shape(pred)
    stack = f" (or is an (N, {shape[0]}, {shape[1]}) stack of its masks)" if len(shape) == 2 else ""
    return (
        f"No labels layer has the shape of '{pred.name}' {shape}{stack}: open its ground "
        "truth, or choose one."
    )


class EvaluatePicks:
    """Mixin for :class:`.evaluate.EvaluateWidget`: the default prediction and ground truth
    (uses the widget's ``viewer``, combos, ``prediction_layer``, ``truth_layer``,
    ``_pick``, ``_set_status``, ``_run``, ``_truth_by_hand``). The prediction follows the
    newest result: added, or selected in the layer list, last; one chosen in the combo is kept
    until another result is added or selected after it (or it is removed)."""

    def _init_picks(self) -> None:
        self._tick = 0
        self._recency: dict[str, int] = {}  # layer id -> when it was added or selected
        self._pred_by_hand: tuple[str, int] | None = None  # (layer id, when) chosen by hand
        self._truth_for: str | None = None  # the prediction the ground truth was picked for
        self._fit_note = ""  # the status line's note that nothing fits, while shown
        self._before_note = ""  # the status line before that note
        self._ready_note = self.status_label.text()  # the status line before any evaluation
        for layer in self.viewer.layers:  # the layer list's order, the active layer newest
            self._touch(layer)
        if self.viewer.layers.selection.active is not None:
            self._touch(self.viewer.layers.selection.active)
        self.viewer.layers.selection.events.active.connect(self._on_active_layer)

    def _touch(self, layer) -> None:
        self._tick += 1
        self._recency[layer.unique_id] = self._tick

    def _on_layer_inserted(self, event) -> None:
        self._touch(event.value)
        super()._on_layer_inserted(event)  # type: ignore[misc]

    def _on_active_layer(self, event=None) -> None:
        """A labels layer selected in the layer list is the newest: a result then becomes
        the prediction (an error map, never scored, is passed over)."""
        layer = self.viewer.layers.selection.active
        if not isinstance(layer, Labels) or ERRORS_KEY in layer.metadata:
            return
        self._touch(layer)
        if is_result(layer) and layer.unique_id != self.pred_combo.currentData():
            self._refresh_layers()

    def _prediction_by_hand(self) -> None:
        """The prediction was chosen in its combo: kept until a newer result comes."""
        self._tick += 1
        self._pred_by_hand = (self.pred_combo.currentData(), self._tick)

    def _default_prediction(self, labels: list[Labels], companions: set) -> Labels | None:
        """The prediction to choose: one chosen by hand while no result was added or
        selected after it, else the newest result; without results the one chosen (the
        active layer at first), another than a name like "ground truth" or a result's
        companion where there is one."""
        results = [
            layer for layer in labels if is_result(layer) and layer.unique_id not in companions
        ]
        if self._pred_by_hand is not None:
            layer_id, when = self._pred_by_hand
            chosen = next((layer for layer in labels if layer.unique_id == layer_id), None)
            newer = [r for r in results if self._recency.get(r.unique_id, 0) > when]
            if chosen is not None and not newer:
                return chosen
            self._pred_by_hand = None
        if results:
            return max(results, key=lambda layer: self._recency.get(layer.unique_id, 0))
        layer = self.prediction_layer
        others = [
            other
            for other in labels
            if not _looks_like_truth(other.name) and other.unique_id not in companions
        ]
        if (
            layer is not None
            and others
            and (_looks_like_truth(layer.name) or layer.unique_id in companions)
        ):
            return others[0]
        return layer

    def _truth_kept(self) -> bool:
        """Whether the ground truth chosen by hand stays: another layer than the prediction,
        that fits it (once the prediction changed: one chosen by hand that does not fit the
        prediction it was chosen for is the user's to keep)."""
        pred, truth = self.prediction_layer, self.truth_layer
        if not self._truth_by_hand or truth is None or pred is truth:
            return False
        if pred is None or self._truth_for == pred.unique_id:
            return True
        return _fits_at_all(pred, truth)

    def _pick_truth(self, labels: list[Labels], companions: set) -> None:
        """Choose the likeliest ground truth of the prediction: another layer that fits it
        (the same shape first, then a stack of its masks, then a SEG layer annotating some of
        its frames), not a result, a name like "ground truth" and then the newest breaking
        ties; never a companion of a result (none chosen when only those are left). Where
        none fits, the choice stays (a name like "ground truth" where it must change) and
        the status line says so."""
        pred = self.prediction_layer
        self._truth_for = None if pred is None else pred.unique_id
        others = [other for other in labels if other.unique_id != self.pred_combo.currentData()]
        candidates = [other for other in others if other.unique_id not in companions]
        ranked = [] if pred is None else [(fit_rank(pred, other), other) for other in candidates]
        fitting = [(rank, other) for rank, other in ranked if rank is not None]
        if fitting:
            _rank, best = min(
                fitting,
                key=lambda pair: (
                    is_result(pair[1]),
                    pair[0],
                    not _looks_like_truth(pair[1].name),
                    -self._recency.get(pair[1].unique_id, 0),
                ),
            )
            self._pick(self.truth_combo, best)
            self._say_fit("")
            return
        current = self.truth_layer
        if current is None or current not in candidates:
            candidates.sort(key=lambda other: not _looks_like_truth(other.name))
            if candidates:
                self._pick(self.truth_combo, candidates[0])
            elif others:
                self._picking = True
                try:
                    self.truth_combo.setCurrentIndex(-1)
                finally:
                    self._picking = False
        self._say_fit(no_fit_note(pred) if pred is not None and candidates else "")

    def _check_fit(self) -> None:
        """Say on the status line whether a labels layer fits the prediction (the ground
        truth chosen by hand kept)."""
        pred, truth = self.prediction_layer, self.truth_layer
        if pred is None or truth is None or pred is truth or _fits_at_all(pred, truth):
            self._say_fit("")
            return
        labels = [layer for layer in self._labels_layers() if layer is not pred]
        if any(fit_rank(pred, layer) is not None for layer in labels):
            self._say_fit("")  # (one fits: the user chose another, and the scoring says why)
        else:
            self._say_fit(no_fit_note(pred))

    def _say_ready(self) -> None:
        """Say on the status line what the chosen pair is ready for ("Click Evaluate to score
        'P' against 'G'.", or which layer is missing), while it says that of an earlier pair:
        not over an evaluation's report, a note that nothing fits or any other message."""
        if self._run is not None or self.status_label.text() != self._ready_note:
            return
        pred, truth = self.prediction_layer, self.truth_layer
        if pred is None:
            note = "Add two labels layers: a prediction (a Segment result) and its ground truth."
        elif truth is None or truth is pred:
            note = f"Open the ground truth of '{pred.name}' (a labels layer), or choose one."
        else:
            note = f"Click Evaluate to score '{pred.name}' against '{truth.name}'."
        self._ready_note = note
        self._set_status(note)

    def _say_fit(self, note: str) -> None:
        """Show ``note`` (nothing fits) on the status line, or take a note shown before back
        (the line as it was) once something fits; not while an evaluation runs."""
        if self._run is not None:
            return
        shown = self.status_label.text()
        if note:
            if shown != self._fit_note or not self._fit_note:
                self._before_note = shown
            self._fit_note = note
            if shown != note:
                self._set_status(note)
        elif self._fit_note:
            if shown == self._fit_note:
                self._set_status(self._before_note)
            self._fit_note = ""

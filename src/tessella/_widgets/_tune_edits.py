"""Tune's status line follows hand edits of the labels it names (napari's brush, fill or
eraser, Correct's Merge or Split, an undo of them): it said "...: 14 objects" after Correct
had merged two of them. Edits are counted once they pause (:data:`EDIT_COUNT_MS`), never at
each stroke (:class:`TuneEdits`, a mixin of :class:`.tune.TuneWidget`)."""

from __future__ import annotations

import weakref

from . import _results, _tune_writing
from ._correct_edits import _history_length
from ._layers import find_layer
from ._tune_writing import PREVIEW_STATE_BYTES, _small
from ._words import counted

__all__ = ["EDIT_COUNT_MS", "LayerSlot", "TuneEdits"]

#: the status line counts the objects of edited labels this long after the last edit
EDIT_COUNT_MS = 250

#: what the status line says of labels edited since Tune or Segment wrote them
EDITED = "edited (painting or Correct) since these values made them"


def _steps(layer) -> tuple:
    """How many steps ``layer``'s labels can undo and redo (None each where this napari
    does not say: then always counted again)."""
    steps = (_history_length(layer, "undo"), _history_length(layer, "redo"))
    return (object(),) if None in steps else steps


class LayerSlot:
    """``method(layer_id, event)`` connected to one layer's event, holding the widget of
    ``method`` weakly: napari holds a callback that is not a bound method (a
    ``functools.partial``) strongly, which kept every closed Tune panel alive, counting the
    objects of each edit for a status line no one sees. Calling it once the widget is gone
    does nothing."""

    def __init__(self, method, layer_id) -> None:
        self._method = weakref.WeakMethod(method)
        self.layer_id = layer_id

    def __call__(self, event=None) -> None:
        method = self._method()
        if method is not None:
            method(self.layer_id, event)


class TuneEdits:
    """Mixin for :class:`.tune.TuneWidget`: the status line follows hand edits (uses the
    widget's ``_count_timer``, ``_hand_edited``, ``_counted_at``, ``_own_labels``,
    ``_edited``, ``_parts_now``, ``_status_names``,
    ``_layer_slots``, ``_requests``, ``_say``, ``_find_layer``, ``viewer``)."""

    def _hear_edits(self, layer) -> None:
        """Hear of ``layer``'s edits: each new step of its undo history (napari's ``paint``:
        a brush stroke, a fill, Correct, Tune's own writes) and each redraw (``set_data``:
        an undo or redo announces no step, only this). Not once the panel was closed
        (napari's "x" takes it out of its dock, :meth:`_panel_closed`)."""
        if layer.unique_id in self._layer_slots or getattr(self, "_docked", None) is False:
            return
        slots = (
            LayerSlot(self._on_paint, layer.unique_id),
            LayerSlot(self._on_labels_redrawn, layer.unique_id),
        )
        layer.events.paint.connect(slots[0])
        layer.events.set_data.connect(slots[1])
        self._layer_slots[layer.unique_id] = slots

    def _stop_hearing_edits(self, layer) -> None:
        """Disconnect what :meth:`_hear_edits` connected to ``layer``'s events."""
        slots = self._layer_slots.pop(layer.unique_id, None)
        if slots is not None:
            layer.events.paint.disconnect(slots[0])
            layer.events.set_data.disconnect(slots[1])

    def _panel_closed(self) -> None:
        """The panel was closed (napari only takes it out of its dock): it hears of no edit
        any more and counts nothing (an update under way still lands in its layer)."""
        for layer_id, _slots in list(self._layer_slots.items()):
            layer = find_layer(self.viewer, layer_id)
            if layer is None:
                self._layer_slots.pop(layer_id)
            else:
                self._stop_hearing_edits(layer)
        self._count_timer.stop()
        self._hand_edited.clear()
        self._counted_at.clear()
        self._own_labels.clear()  # (edits are not heard now: look at the labels again)
        super()._panel_closed()  # type: ignore[misc]

    def _on_hand_edit(self, layer_id) -> None:
        """``layer_id``'s labels were edited by hand (a new step of its undo history that
        Tune did not write): its status is due once the edits pause."""
        self._hand_edited.add(layer_id)
        self._count_later()

    def _on_labels_redrawn(self, layer_id, event=None) -> None:
        """The labels were redrawn (an undo or redo announces no new step, only this; so do
        moves through the slices, and Tune's own writes): count them again once this pauses,
        if they were edited by hand since Tune last said how many there are and their undo
        history moved since they were counted (not at each move through the slices)."""
        self._recipe_follows_undo(layer_id)  # (labels too large to fingerprint)
        if layer_id not in self._hand_edited or _results.tool_is_writing(layer_id):
            return
        layer = self._find_layer(layer_id)
        if layer is not None and self._counted_at.get(layer_id) != _steps(layer):
            self._count_later()

    def _count_later(self) -> None:
        """(Re)start the pause after which edited labels are counted; nothing once the
        panel is gone (the layer's events still reach it until the layer goes)."""
        try:
            self._count_timer.start()
        except RuntimeError:  # the panel was closed and deleted
            self._hand_edited.clear()

    def _counted_by_tune(self, layer_id) -> None:
        """Tune has just written ``layer_id``'s labels and says what they hold."""
        self._hand_edited.discard(layer_id)
        self._counted_at.pop(layer_id, None)
        layer = self._find_layer(layer_id)
        mark = None if layer is None else _tune_writing._history_mark(layer)
        if mark is not None:  # (its own labels: not looked at again until they change)
            self._own_labels[layer_id] = mark
        else:
            self._own_labels.pop(layer_id, None)

    def _holds_hand_edits(self, layer) -> bool:
        """Whether ``layer``'s labels hold edits an update of them would replace: edits heard
        while the panel listened (``_edited``), or found in the labels themselves, however
        the panels were opened (r9 finding 2: edits made before Tune was opened, by Correct
        or the brush, went unwarned and their divisions were lost): labels that are no
        recorded state (:mod:`._labels_states`: Segment's result, Tune's updates and
        previews) and not every frame or slice as Tune wrote it, or a state remembered as
        edited (an undo back to edits an update replaced, a Relabel), not a preview. Labels
        not fingerprinted (lazy, or over :data:`._labels_states.MAX_FINGERPRINT_BYTES`) are
        judged by what was heard only. The labels are looked at again only once changed
        since Tune last wrote or looked at them (their undo history moved)."""
        from ._labels_states import STATES_KEY, _fingerprint

        layer_id = layer.unique_id
        if layer_id in self._edited:
            return True
        mark = _tune_writing._history_mark(layer)
        if mark is not None and self._own_labels.get(layer_id) == mark:
            return False
        states = layer.metadata.get(STATES_KEY)
        fingerprint = _fingerprint(layer.data) if states else None
        if fingerprint is None:
            return False
        state = next((s for s in reversed(states) if s["fingerprint"] == fingerprint), None)
        if state is not None:
            edited = bool(state.get("edited")) and state.get("preview") is None
        else:  # (a preview too large to record, an Apply to all stopped part way: Tune's)
            parts = self._parts_now(layer_id)
            edited = not (parts and all(p is not None for p in parts))
        if not edited and mark is not None:
            self._own_labels[layer_id] = mark
        return edited

    def _say_edited(self) -> None:
        """The edits paused: the status line, if it names edited labels, says how many
        objects they hold now (a movie's tracks, or labels over :data:`PREVIEW_STATE_BYTES`
        or not in memory, are not counted: that it was edited only). Not while an update of
        them runs: it says what it wrote."""
        if self._status_names is None:
            return
        layer_id = self._status_names[0]
        layer = self._find_layer(layer_id)
        if layer is None or layer_id not in self._hand_edited or layer_id in self._requests:
            return
        self._counted_at[layer_id] = _steps(layer)
        result = _results.get(layer_id)
        movie = result is not None and "T" in result.axes
        if movie or not _small(layer.data, PREVIEW_STATE_BYTES):
            self._say(f": {EDITED}; moving a control replaces the edits", layer)
            return
        try:
            count = counted(_tune_writing._count_objects(layer.data), "object")
        except Exception:  # (a slot of a timer: say edited, uncounted)
            self._say(f": {EDITED}", layer)
            return
        self._say(f": {count} now, {EDITED}", layer)

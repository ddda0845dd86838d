"""Tune's status line follows hand edits of the labels it names (napari's brush, fill or
eraser, Correct's Merge or Split, an undo of them): it said "...: 14 objects" after Correct
had merged two of them. Edits are counted once they pause (:data:`EDIT_COUNT_MS`), never at
each stroke (:class:`TuneEdits`, a mixin of :class:`.tune.TuneWidget`)."""

from __future__ import annotations

from . import _results, _tune_writing
from ._correct_edits import _history_length
from ._tune_writing import PREVIEW_STATE_BYTES, _small
from ._words import counted

__all__ = ["EDIT_COUNT_MS", "TuneEdits"]

#: the status line counts the objects of edited labels this long after the last edit
EDIT_COUNT_MS = 250

#: what the status line says of labels edited since Tune or Segment wrote them
EDITED = "edited (painting or Correct) since these values made them"


def _steps(layer) -> tuple:
    """How many steps ``layer``'s labels can undo and redo (None each where this napari
    does not say: then always counted again)."""
    steps = (_history_length(layer, "undo"), _history_length(layer, "redo"))
    return (object(),) if None in steps else steps


class TuneEdits:
    """Mixin for :class:`.tune.TuneWidget`: the status line follows hand edits (uses the
    widget's ``_count_timer``, ``_hand_edited``, ``_counted_at``, ``_status_names``,
    ``_requests``, ``_say``, ``_find_layer``)."""

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
        count = counted(_tune_writing._count_objects(layer.data), "object")
        self._say(f": {count} now, {EDITED}", layer)

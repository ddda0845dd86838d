"""Correct's lineage edits of a tracked time-lapse: *Set parent* (make the selected track a
daughter of another: a division the linker missed), *Break track here* (from the frame on
screen on, the selected object is a new track: a mis-link) and *Swap from here* (from the
frame on screen on, the first selected object goes on as the second's track and the second
as the first's). A mixin of :class:`.correct.CorrectWidget`.

Each is one step of the labels layer's napari history, as Correct's other edits: the Undo and
Redo buttons and Ctrl+Z / Shift+Ctrl+Z on the layer undo it, the lineage with it
(:func:`._tracks_layer.follow_lineage_steps`). The lineage goes where Export reads it: the
Tracks layer beside the labels (added where there is none) and the recorded state of the
labels on screen (:func:`._tracks_layer.put_lineage`). Set parent changes no pixel: its step
writes one pixel of the daughter and puts it back, so that napari's history holds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtWidgets import QGridLayout, QGroupBox, QPushButton, QSpinBox

from ._correct_edits import (
    _frame_numbers,
    _history,
    _recording,
    _time_axis,
    _widen_for,
)
from ._frame_words import frame_name
from ._tracks_layer import current_lineage, note_lineage_step, put_lineage, tracks_layer

if TYPE_CHECKING:
    from napari.layers import Labels

    from tessella.engine.edit import Edit

__all__ = ["CorrectLineage", "SET_PARENT", "BREAK_TRACK", "SWAP_TRACKS"]

SET_PARENT = "Set parent"
BREAK_TRACK = "Break track here"
SWAP_TRACKS = "Swap from here"


class CorrectLineage:
    """Mixin: the Tracks box of the Correct panel and its three lineage edits (uses the
    widget's ``viewer``, ``labels_layer``, ``_selection``, ``_frame_scope``, ``_say``,
    ``set_selection``, ``edited`` and ``_show_history``)."""

    def _make_tracks_box(self) -> QGroupBox:
        self.parent_spin = QSpinBox()
        self.parent_spin.setRange(0, 2**31 - 1)
        self.parent_spin.setSpecialValueText("none")
        self.parent_spin.setPrefix("parent ")
        self.parent_spin.setToolTip(
            "The mother track of the selected track (none: a track that starts by itself)"
        )
        self.set_parent_button = QPushButton(SET_PARENT)
        self.set_parent_button.setToolTip(
            "Make the selected track a daughter of the track in 'parent', or of the second "
            "selected track (select daughter, then mother): a division. The mother must end "
            "before the daughter begins, as in a CTC res_track.txt"
        )
        self.break_track_button = QPushButton(BREAK_TRACK)
        self.break_track_button.setToolTip(
            "From the frame on screen on, the one selected object is a new track with no "
            "parent (a mis-link); its daughters follow the new track"
        )
        self.swap_tracks_button = QPushButton(SWAP_TRACKS)
        self.swap_tracks_button.setToolTip(
            "Select two tracks A, B: from the frame on screen on, A goes on as track B and B "
            "as track A (the linker exchanged them); where B ended before, A continues B "
            "(not where B ended by dividing: remove that division first with Set parent)"
        )
        box = QGroupBox("Tracks")
        grid = QGridLayout(box)
        grid.addWidget(self.parent_spin, 0, 0)
        grid.addWidget(self.set_parent_button, 0, 1)
        grid.addWidget(self.break_track_button, 1, 0)
        grid.addWidget(self.swap_tracks_button, 1, 1)
        box.setVisible(False)  # shown for time-lapse labels only
        self._tracks_box = box
        self.set_parent_button.clicked.connect(self.set_parent)
        self.break_track_button.clicked.connect(self.break_track)
        self.swap_tracks_button.clicked.connect(self.swap_tracks)
        return box

    def _show_tracks_box(self) -> None:
        layer = self.labels_layer
        self._tracks_box.setVisible(layer is not None and _time_axis(layer) is not None)

    # --- the edits ----------------------------------------------------------------------------

    def _movie(self, what: str) -> tuple[Labels, int] | None:
        """The chosen layer and its T axis, if it is a time-lapse in memory (else said)."""
        from ._correct_edits import _being_written

        layer = self.labels_layer
        if layer is None:
            self._say(f"{what}: add or choose a labels layer first.")
            return None
        t_axis = _time_axis(layer)
        if t_axis is None:
            self._say(
                f"{what}: '{layer.name}' is no time-lapse (no T among its axes): it has no tracks",
                "error",
            )
            return None
        if not isinstance(layer.data, np.ndarray):
            self._say(f"{what}: layer '{layer.name}' is not in memory", "error")
            return None
        if _being_written(self, what, layer):
            return None
        return layer, t_axis

    def _begin(self, what: str, tracks: int | None = None) -> tuple | None:
        """What the lineage edit ``what`` starts from: the selected IDs, the time-lapse
        (:meth:`_movie`), its T axis, the frame on screen (``tracks`` given: exactly that many
        tracks selected, the edit taking effect from the frame on screen on; else None),
        the words of its frames and the lineage now. None where one is missing (said)."""
        ids = self._selection(what, tracks or 1)
        found = None if ids is None else self._movie(what)
        if ids is None or found is None:
            return None
        layer, t_axis = found
        frame = None
        if tracks is not None:
            if len(ids) != tracks:
                wanted = "one track" if tracks == 1 else "two tracks (A, B)"
                self._say(f"{what}: select exactly {wanted}, not {len(ids)}.")
                return None
            frame = self._frame_on_screen(what, layer, t_axis)
            if frame is None:
                return None
        name = self._frame_words(layer, t_axis)
        return ids, layer, t_axis, frame, name, current_lineage(self.viewer, layer)

    def _frame_words(self, layer, t_axis: int):
        numbers = _frame_numbers(layer, t_axis)
        return lambda t: frame_name(int(t), numbers)

    def set_parent(self) -> bool:
        """Make the one selected track a daughter of the track in the parent box (none: no
        parent)."""
        from tessella.engine.tracking._lineage_edits import set_parent, track_spans

        what = SET_PARENT
        begun = self._begin(what)
        if begun is None:
            return False
        ids, layer, t_axis, _, name, before = begun
        if len(ids) == 2:  # daughter, then mother (picked in that order)
            self.parent_spin.setValue(ids[1])
        elif len(ids) != 1:
            self._say(
                f"{what}: select one track (the daughter; her mother in 'parent') or two "
                f"(the daughter, then the mother), not {len(ids)}."
            )
            return False
        child, parent = ids[0], self.parent_spin.value()
        try:
            after = set_parent(layer.data, before, child, parent, t_axis, name)
        except ValueError as exc:
            how = ""
            if "Break track" in str(exc):  # (the mother overlaps: the panel's way to break)
                start = track_spans(layer.data, [child], t_axis)[child][0]
                how = (
                    f". To break it: select {parent}, go to {name(start)}, click "
                    f"'{BREAK_TRACK}' (its new track can then be a daughter too)"
                )
            self._say(f"{what} on '{layer.name}': {exc}{how}", "error")
            return False
        spans = track_spans(layer.data, [child, parent], t_axis)
        start, end = spans[child]
        if after == before:
            said = f"already a daughter of track {parent}" if parent else "already no parent"
            self._say(f"{what} on '{layer.name}': track {child} has {said}", None)
            return False
        if parent:
            description = f"set the parent of track {child} to {parent}"
            words = (
                f"track {child} ({name(start)} to {name(end)}) is now a daughter of track "
                f"{parent}, which ends in {name(spans[parent][1])}"
            )
        else:
            description = f"remove the parent of track {child}"
            words = f"track {child} ({name(start)} to {name(end)}) now starts by itself"
        self._lineage_step(layer, t_axis, None, before, after, description, "", child)
        daughters = sorted(c for c, p in after.items() if p == parent) if parent else []
        if len(daughters) > 2:  # (valid CTC, but a cell divides into two: most likely a slip)
            others = ", ".join(str(d) for d in daughters if d != child)
            words += (
                f". Track {parent} now has {len(daughters)} daughters "
                f"({', '.join(map(str, daughters))}): a cell divides into two. If one is a "
                f"mistake, Undo, or select her ({others}), set 'parent' to 0 and click "
                f"'{SET_PARENT}'"
            )
            self._say(f"{description} on '{layer.name}': {words}", "warning")
            return True
        self._say(f"{description} on '{layer.name}': {words}", None)
        return True

    def break_track(self) -> bool:
        """From the frame on screen on, the one selected object is a new track."""
        from tessella.engine.tracking._lineage_edits import break_track

        what = BREAK_TRACK
        begun = self._begin(what, 1)
        if begun is None:
            return False
        ids, layer, t_axis, frame, name, before = begun
        try:
            change, new_id, after = break_track(layer.data, before, ids[0], frame, t_axis, name)
        except ValueError as exc:
            self._say(f"{what} on '{layer.name}': {exc}", "error")
            return False
        scope = f" in {name(frame)}"
        widened = self._lineage_step(
            layer, t_axis, change, before, after, change.description, scope, ids[0]
        )
        daughters = sorted(c for c, p in after.items() if p == new_id)
        said = f"{change.description} on '{layer.name}'{scope}: {change.size:,} px changed"
        if daughters:
            tracks = ", ".join(map(str, daughters))
            said += f"; the daughters {tracks} now follow track {new_id}"
        said += (
            f"; to make {new_id} a daughter of {ids[0]} (a division), click '{SET_PARENT}' "
            f"with parent {ids[0]}"
        )
        self._say(said if widened is None else f"{said}; {widened}", None)
        self.set_selection([new_id])
        self.parent_spin.setValue(ids[0])
        return True

    def swap_tracks(self) -> bool:
        """From the frame on screen on, the first selected object goes on as the second's
        track and the second as the first's."""
        from tessella.engine.tracking._lineage_edits import swap_tracks

        what = SWAP_TRACKS
        begun = self._begin(what, 2)
        if begun is None:
            return False
        ids, layer, t_axis, frame, name, before = begun
        a, b = ids
        try:
            change, after = swap_tracks(layer.data, before, a, b, frame, t_axis, name)
        except ValueError as exc:
            self._say(f"{what} on '{layer.name}': {exc}", "error")
            return False
        scope = f" from {name(frame)} on"
        self._lineage_step(layer, t_axis, change, before, after, change.description, scope, a)
        self._say(
            f"{change.description} on '{layer.name}'{scope}: {change.size:,} px changed; "
            f"from there on {a} goes on as track {b}",
            None,
        )
        return True

    def _frame_on_screen(self, what: str, layer, t_axis: int) -> int | None:
        """The frame on screen (said where it lies outside the labels)."""
        shown = layer.world_to_data(self.viewer.dims.point)[t_axis]
        frame, count = int(np.round(shown)), layer.data.shape[t_axis]
        if not 0 <= frame < count:
            self._say(f"{what}: frame {frame} on screen is not in '{layer.name}'", "error")
            return None
        return frame

    def _lineage_step(
        self,
        layer,
        t_axis: int,
        change: Edit | None,
        before: dict,
        after: dict,
        description: str,
        scope: str,
        track: int,
    ) -> str | None:
        """Record one undoable step: ``change`` (None: no pixel changes; one pixel of
        ``track`` written and put back, so that napari's history holds the step) and the
        lineage going from ``before`` to ``after``. Returns what widening the layer's type
        for a new ID says (None: none was needed)."""
        widened = None
        if change is None:
            where = tuple(i[:1] for i in np.nonzero(layer.data == track))
            value = int(layer.data[where][0])
            with _recording(layer, description, scope), layer.block_history():
                layer.data_setitem(where, value - 1, refresh=False)
                layer.data_setitem(where, value)
            put_lineage(self.viewer, layer, after)
        else:
            # the Tracks layer first: the redraw of the frames written follows its lineage;
            # the state of the labels before the edit (an undo back to them) keeps its own
            put_lineage(self.viewer, layer, after, state=False)
            widened = _widen_for(layer, change.values)
            with _recording(layer, description, scope), layer.block_history():
                layer.data_setitem(change.indices, change.values)
            put_lineage(self.viewer, layer, after)  # (labels that are a recorded state)
        history = _history(layer, "undo")
        if history:
            note_lineage_step(layer, history[-1], before, after)
        if tracks_layer(self.viewer, layer) is None:  # (labels with no tracks drawn)
            put_lineage(self.viewer, layer, after)
        self._show_history()
        self.edited.emit(description)
        return widened

"""The Correct dock widget: merge, split, delete, fill holes, remove small, relabel; on a
tracked time-lapse set a track's parent, break a track, swap two tracks; with undo.

Every operation is computed by :mod:`tessella.engine.edit` and written through
``Labels.data_setitem`` inside ``Labels.block_history()``, so it is one step of napari's own
undo history: the Undo/Redo buttons here and Ctrl+Z / Shift+Ctrl+Z on the layer undo the same
steps, mixed with the user's painting. The buttons are greyed out while the chosen layer has
nothing to undo or redo.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Labels
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ._correct_edits import (
    ALL_FRAMES,
    LINES_LAYER,
    SEEDS_LAYER,
    CorrectEdits,
    _history_length,
    _time_axis,
    _z_axis,
)
from ._correct_edits import _axes_of as _axes_of  # tests import it from here
from ._correct_lineage import BREAK_TRACK, SET_PARENT, SWAP_TRACKS, CorrectLineage
from ._correct_region import (
    REGION_BUTTON,
    WRITE_BUTTON,
    CorrectRegion,
    barrier_words,
    being_written,
    forget_written,
    written_back_to,
)
from ._correct_review import CorrectReview
from ._labels_states import restart_history_on_new_data
from ._layers import LayerWatcher, fill_layer_combo, find_layer
from ._layout import panel_layout, status_label
from ._object_stack import follow_overlaps
from ._tracks_layer import forget_lineage_steps

if TYPE_CHECKING:
    import napari.viewer

    from tessella.engine.edit import Suspect

__all__ = ["CorrectWidget", "LINES_LAYER", "SEEDS_LAYER", "ids_text", "parse_ids"]


#: the tooltips of the Undo and Redo buttons, enabled and greyed out (a layer's name goes in)
_CAN = {
    "undo": "Undo the last change to '{}' (as Ctrl+Z on it)",
    "redo": "Redo the last change undone on '{}' (as Shift+Ctrl+Z on it)",
}
_NOTHING = {
    "undo": "Nothing to undo on '{}': no change since its labels were added or replaced, "
    "or every change undone",
    "redo": "Nothing to redo on '{}': no change undone since its last change",
}


#: the most label IDs one "Selected" text may name (a range such as 1-10000000 is a typo)
MAX_SELECTED = 100_000

#: the longest text the "Selected" box keeps (Qt's default, 32,767 characters, cut a list of
#: a few thousand IDs short without a word): room for MAX_SELECTED IDs of 30 characters
MAX_SELECTION_TEXT = 32 * MAX_SELECTED

#: what parse_ids reads as the dash of a range: the hyphen, and the en dash, em dash and
#: minus sign of text pasted from a spreadsheet or a document
_DASHES = re.compile("[\u2013\u2014\u2212]")


def parse_ids(text: str) -> list[int]:
    """``"3-5, 9 12"`` -> ``[3, 4, 5, 9, 12]``: IDs and ranges of IDs (both ends included,
    the dash a hyphen, an en or em dash or a minus sign), separated by commas or spaces, each
    ID once in the order given. Raises ValueError naming the bad entry (``'x'``, ``'0'``,
    ``'5-3'``, ``'²'``) in one line."""
    ids: dict[int, None] = {}
    text = _DASHES.sub("-", text.strip())
    for token in re.split(r"[\s,]+", re.sub(r"\s*-\s*", "-", text)):
        if not token:
            continue
        first, dash, last = token.partition("-")
        if not dash:
            last = first
        # (isdecimal: what int() reads; '²'.isdigit() is true, and int('²') raises)
        if not (first.isdecimal() and last.isdecimal()) or not int(first):
            what = "a range of label IDs" if dash else "a label ID"
            raise ValueError(f"'{token}' is not {what} (positive whole numbers, e.g. 3, 7 or 3-5)")
        low, high = int(first), int(last)
        if high < low:
            raise ValueError(
                f"'{token}' is not a range: {low} is larger than {high} (write {high}-{low})"
            )
        if len(ids) + high - low + 1 > MAX_SELECTED:
            raise ValueError(f"'{token}': too many label IDs (at most {MAX_SELECTED:,} in all)")
        ids.update(dict.fromkeys(range(low, high + 1)))
    return list(ids)


def ids_text(ids) -> str:
    """``[7, 3, 4, 5, 6, 9]`` -> ``"7, 3-6, 9"``: what :func:`parse_ids` reads back as the
    same IDs in the same order (Merge on a movie keeps the first ID), all of them (never cut
    short, unlike :func:`tessella.engine._edit_changes.id_words`), runs of three or more
    IDs that follow each other as ranges. Text among them (a script's ``"4-6"``) is written
    as it is."""
    pieces: list[str] = []
    run: list[int] = []  # [first, last] of the run under way

    def close() -> None:
        if run:
            first, last = run
            if last - first >= 2:
                pieces.append(f"{first}-{last}")
            else:
                pieces.extend(str(i) for i in range(first, last + 1))
            run.clear()

    for item in ids:
        try:
            i = int(item)
        except (TypeError, ValueError):
            close()
            pieces.append(str(item))
            continue
        if run and i == run[1] + 1:
            run[1] = i
        else:
            close()
            run.extend((i, i))
    close()
    return ", ".join(pieces)


def _top_step(layer, which: str) -> frozenset | None:
    """The identities of the pieces (atoms) of the step ``layer`` undoes (``which``: "undo")
    or redoes next: napari moves a step's atoms, not copies, between its two histories, so
    an undo is told from a new edit by them. None when there is none or it cannot be read."""
    from ._correct_edits import _history

    history = _history(layer, which)
    try:
        return frozenset(id(atom) for atom in history[-1])  # type: ignore[index]
    except (TypeError, IndexError, KeyError):
        return None


def _tessella_layer(layer) -> bool:
    """Whether ``layer`` is one Tessella shows and removes by itself: the "(blocks so far)"
    preview of a blockwise run, or Evaluate's errors layer."""
    from ._blockwise import PREVIEW_KEY
    from .evaluate import ERRORS_KEY

    return PREVIEW_KEY in layer.metadata or ERRORS_KEY in layer.metadata


class CorrectWidget(
    CorrectEdits, CorrectLineage, CorrectRegion, CorrectReview, LayerWatcher, QWidget
):
    """Correct a labels layer; every change is one undoable step of the layer's history."""

    #: emitted with the operation's description after each change that altered pixels
    edited = Signal(str)

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self._suspects: list[Suspect] = []
        self._suspects_key: tuple | None = None  # (layer id, labels digest) they were found on
        self._suspect_index = -1
        self._picking: Labels | None = None  # the layer whose clicks pick labels
        # the chosen layer, just removed: its name, and whether to warn (the user's layer)
        self._removed: tuple[str, bool] | None = None
        # the ids of the layers the user chose in the Labels box or changed through this
        # panel (an edit, Undo, Redo, Pick): their removal warns; the layer the box merely
        # fell on (the active or first labels layer) goes quietly, in the status line
        self._worked_on: set = set()
        self._batches = 0  # nested batches of layer changes under way (viewer.layers.clear())
        # (layer id, steps to undo, steps to redo) of the chosen layer when last looked at: an
        # undo or redo not sent from here (Ctrl+Z on the layer) is seen by how they moved
        self._history_seen: tuple | None = None
        self._stepping = False  # Undo or Redo of this panel under way (it says what it did)

        self.layer_combo = QComboBox()
        self.selection_edit = QLineEdit()
        self.selection_edit.setMaxLength(MAX_SELECTION_TEXT)
        self.selection_edit.setPlaceholderText("label IDs, e.g. 12, 15 or 3-7")
        self.selection_edit.setToolTip(
            "The labels Merge, Delete, Split and Fill holes act on: IDs and ranges, e.g. "
            "3-5, 9 (3, 4, 5 and 9)"
        )
        self.pick_button = QPushButton("Pick")
        self.pick_button.setCheckable(True)
        self.pick_button.setToolTip("Click objects in the canvas to add or remove them")

        self.all_frames_checkbox = QCheckBox(ALL_FRAMES)
        self.all_frames_checkbox.setToolTip(
            "Ticked: Merge and Delete act on the selected tracks in every frame of the movie. "
            "Unticked: they, and Split by watershed (one frame at a time), act in the frame on "
            "screen"
        )
        self.all_frames_checkbox.setVisible(False)  # shown for time-lapse labels only
        self.merge_button = QPushButton("Merge")
        self.delete_button = QPushButton("Delete")
        self.fill_button = QPushButton("Fill holes")
        self.fill_button.setToolTip("Fill holes in the selected labels (all labels if none)")
        self.relabel_button = QPushButton("Relabel 1..N")
        self.min_size_spin = QSpinBox()
        self.min_size_spin.setRange(1, 10**9)
        self.min_size_spin.setValue(25)
        self.min_size_spin.setSuffix(" px")
        self.remove_small_button = QPushButton("Remove smaller than")
        self.draw_line_button = QPushButton("Draw split line")
        self.draw_line_button.setToolTip(f"Draw lines across objects in the '{LINES_LAYER}' layer")
        self.split_line_button = QPushButton("Split along lines")
        self.pieces_spin = QSpinBox()
        self.pieces_spin.setRange(2, 50)
        self.pieces_spin.setPrefix("into ")
        self.pieces_spin.setToolTip(
            f"Pieces for an automatic split; points in a '{SEEDS_LAYER}' layer set them instead"
        )
        self.split_seeds_button = QPushButton("Split by watershed")
        self.split_seeds_button.setToolTip(
            "Watershed on the network's seed map (else the distance to the border), from the "
            f"highest peaks or from the points of the '{SEEDS_LAYER}' layer"
        )
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.previous_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next suspicious ▶")
        self.next_button.setToolTip(
            "Go to objects unusually small or large for this image, or of low confidence"
        )
        self.suspect_label = QLabel("")
        self.suspect_label.setWordWrap(True)
        # (laid out as soon as its text is set: a long status wraps and shows whole, tabbed
        # with other panels too: s35 t21 #4, its second line was hidden behind the tab bar)
        self.status_label = status_label("Ready")

        form = QFormLayout()
        form.addRow("Labels", self.layer_combo)
        selection_row = QHBoxLayout()
        selection_row.addWidget(self.selection_edit, 1)
        selection_row.addWidget(self.pick_button)
        form.addRow("Selected", selection_row)

        edits = QGroupBox("Edit")
        self._edits_box = edits  # (disabled while the chosen region is written back)
        grid = QGridLayout(edits)
        grid.addWidget(self.all_frames_checkbox, 0, 0, 1, 2)  # (hidden: the row takes no room)
        grid.addWidget(self.merge_button, 1, 0)
        grid.addWidget(self.delete_button, 1, 1)
        grid.addWidget(self.fill_button, 2, 0)
        grid.addWidget(self.relabel_button, 2, 1)
        grid.addWidget(self.remove_small_button, 3, 0)
        grid.addWidget(self.min_size_spin, 3, 1)
        grid.addWidget(self.draw_line_button, 4, 0)
        grid.addWidget(self.split_line_button, 4, 1)
        grid.addWidget(self.split_seeds_button, 5, 0)
        grid.addWidget(self.pieces_spin, 5, 1)
        history = QHBoxLayout()
        history.addWidget(self.undo_button)
        history.addWidget(self.redo_button)
        review = QGroupBox("Review")
        review_layout = QVBoxLayout(review)
        steps = QHBoxLayout()
        steps.addWidget(self.previous_button)
        steps.addWidget(self.next_button)
        review_layout.addLayout(steps)
        review_layout.addWidget(self.suspect_label)

        layout, footer = panel_layout(self)  # the edits scroll; the status stays
        layout.addLayout(form)
        layout.addWidget(self._make_region_box())  # (labels on disk: shown for them only)
        layout.addWidget(edits)
        layout.addWidget(self._make_tracks_box())  # (time-lapse labels: shown for them only)
        layout.addLayout(history)
        layout.addWidget(review)
        layout.addStretch(1)
        footer.addWidget(self.status_label)

        # (filling the box blocks its signals: this is a choice, the user's or a script's)
        self.layer_combo.currentIndexChanged.connect(self._on_layer_chosen)
        self.edited.connect(self._note_worked_on)
        for button in (self.undo_button, self.redo_button, self.pick_button):
            button.clicked.connect(self._note_worked_on)
        self.pick_button.toggled.connect(self._on_pick_toggled)
        # the selected objects are marked in the canvas (_correct_review.MARK_LAYER)
        self.selection_edit.textChanged.connect(self._mark_typed)  # (after a pause)
        self.edited.connect(self._mark_selection)
        self.viewer.dims.events.point.connect(self._follow_marks)
        self.viewer.dims.events.ndisplay.connect(self._follow_marks)
        self.all_frames_checkbox.toggled.connect(self._show_scope)
        # (each button's failure is said on the status line: raised out of a Qt slot in a
        # plain script, it aborted the process, edits and all: s34/t17 #1)
        for button, what, slot in (
            (self.merge_button, "Merge", self.merge),
            (self.delete_button, "Delete", self.delete),
            (self.fill_button, "Fill holes", self.fill_holes),
            (self.relabel_button, "Relabel", self.relabel),
            (self.remove_small_button, "Remove small", self.remove_small),
            (self.draw_line_button, "Draw split line", self.draw_split_line),
            (self.split_line_button, "Split along lines", self.split_along_lines),
            (self.split_seeds_button, "Split by watershed", self.split_watershed),
            (self.undo_button, "Undo", self.undo),
            (self.redo_button, "Redo", self.redo),
            (self.next_button, "Next suspicious", lambda: self.step_suspicious(+1)),
            (self.previous_button, "Previous suspicious", lambda: self.step_suspicious(-1)),
        ):
            button.clicked.connect(self._guarded(what, slot))
        # (the tracks' and the region's buttons, connected by their mixins: guarded too)
        for button, what, slot in (
            (self.set_parent_button, SET_PARENT, self.set_parent),
            (self.break_track_button, BREAK_TRACK, self.break_track),
            (self.swap_tracks_button, SWAP_TRACKS, self.swap_tracks),
            (self.region_button, REGION_BUTTON, self.edit_region_in_view),
            (self.write_button, WRITE_BUTTON, self.write_back),
        ):
            try:
                button.clicked.disconnect(slot)
            except (TypeError, RuntimeError):  # (connected otherwise: left as it is)
                continue
            button.clicked.connect(self._guarded(what, slot))
        self._watch_layers()
        # napari removes layers in a batch when the viewer clears or closes, or the user
        # deletes the selected layers: one message at its end, not one per layer
        events = self.viewer.layers.events
        if hasattr(events, "begin_batch") and hasattr(events, "end_batch"):
            events.begin_batch.connect(self._on_begin_batch)
            events.end_batch.connect(self._on_end_batch)
        self._refresh_layers()

    def _guarded(self, what: str, slot):
        """``slot`` for a button's ``clicked``: any error it raises ends in an error message
        on the status line (and the traceback in the log), not out of the Qt slot."""

        def guarded(*_args) -> None:
            try:
                slot()
            except Exception as exc:  # raised out of a Qt slot, it would abort a plain script
                import logging

                logging.getLogger(__name__).exception("Correct: %s failed", what)
                layer = self.labels_layer
                on = "" if layer is None else f" on '{layer.name}'"
                self._say(
                    f"{what}{on} failed: {type(exc).__name__}: {exc} (please report it; "
                    "Undo takes back any change it made)",
                    "error",
                )

        return guarded

    # --- layers -----------------------------------------------------------------------------

    @property
    def labels_layer(self) -> Labels | None:
        return find_layer(self.viewer, self.layer_combo.currentData())

    def _refresh_layers(self, event=None) -> None:
        labels = [layer for layer in self.viewer.layers if isinstance(layer, Labels)]
        for layer in labels:  # any layer Correct can undo on: replaced data, no stale steps
            restart_history_on_new_data(layer)
            self._follow_history(layer)
            # its "overlaps" layer (the reader's, beside a reopened mask stack, too) follows
            follow_overlaps(self.viewer, layer)
        if fill_layer_combo(self.layer_combo, self.viewer, labels):
            self._on_layer_changed(self.layer_combo.currentIndex())
        self._show_history()
        self._show_scope()
        if not self._batches:
            self._say_removed()

    def _follow_history(self, layer: Labels) -> None:
        """Grey out Undo and Redo as ``layer``'s history changes, if it is the chosen layer:
        napari announces each new step (``paint``: an edit here, a brush stroke, a fill, a
        Tune update; it clears the steps to redo), the refresh after an undo or redo (``set_data``,
        as at each move through the slices: only looked at, cheaply) and new data (``data``:
        connected after :func:`restart_history_on_new_data`, so the history is seen restarted).
        An undo on a hidden layer refreshes nothing: seen when the pointer comes to the panel
        (:meth:`enterEvent`). Connecting twice connects once."""
        for emitter in (layer.events.paint, layer.events.set_data, layer.events.data):
            emitter.connect(self._show_history)
        layer.events.paint.connect(self._note_hand_edit)  # (Next suspicious: by hand)
        layer.events.paint.connect(self._say_painted)

    def _say_painted(self, event) -> None:
        """A step was recorded on the chosen layer: the status line no longer shows the last
        edit of this panel as if it were the latest (user test s34/t17 #7: after a brush
        stroke it still said "merge 72, 101 into 72 ... 26 px changed"). An edit of this
        panel then says what it did over this; Tune's and Segment's writes say their own."""
        from ._labels_states import tool_is_writing

        layer = getattr(event, "source", None)
        if layer is None or layer is not self.labels_layer or tool_is_writing(layer.unique_id):
            return
        count = 0
        for atom in getattr(event, "value", None) or ():
            try:
                if hasattr(atom, "slice_key"):  # (napari's masked paint: a brush, a fill)
                    mask = atom.mask
                    count += int(
                        np.count_nonzero(mask) if mask is not None else np.size(atom.old_values)
                    )
                else:  # (indices, before, after): data_setitem
                    count += int(np.size(atom[1]))
            except (TypeError, IndexError, ValueError, AttributeError):
                continue
        self._say(
            f"'{layer.name}' changed outside this panel (a brush, eraser or fill stroke): "
            f"{count:,} px; Undo takes it back",
            None,
        )

    def _show_history(self, event=None) -> None:
        """Enable Undo and Redo only where the chosen layer has a step to undo or redo (or
        where this napari does not say), their tooltips saying why they are greyed out."""
        layer = self.labels_layer
        for button, which in ((self.undo_button, "undo"), (self.redo_button, "redo")):
            if layer is None:
                enabled, text = False, "Add or choose a labels layer first"
            else:
                steps = _history_length(layer, which)
                enabled = steps is None or steps > 0
                text = (_CAN if enabled else _NOTHING)[which].format(layer.name)
                if steps is None:  # napari's history unreadable (_correct_edits._history)
                    text += "; this napari does not tell whether there is one"
                elif steps == 0 and which == "undo" and written_back_to(layer):
                    text = barrier_words(layer)
                if being_written(layer):
                    enabled, text = False, f"'{layer.name}' is being written back"
            button.setEnabled(enabled)
            button.setToolTip(text)
        self._say_outside_step(layer)

    def _say_outside_step(self, layer: Labels | None) -> None:
        """Where the chosen layer's history moved one step back (or forward) since it was
        last looked at, and not through this panel's Undo or Redo (napari's Ctrl+Z or
        Shift+Ctrl+Z on the layer, ``layer.undo()``), the status line says what was undone
        or redone, as Undo and Redo here do: it went on showing the edit just undone (user
        test s29/t1 P13). A step back and one to redo more is an undo; napari announces it
        only by the redraw (or not at all on a hidden layer: seen when the pointer comes to
        the panel, :meth:`enterEvent`)."""
        from ._correct_edits import _step_words

        if layer is None:
            self._history_seen = None
            return
        seen = (
            layer.unique_id,
            _history_length(layer, "undo"),
            _history_length(layer, "redo"),
            _top_step(layer, "undo"),
            _top_step(layer, "redo"),
        )
        before, self._history_seen = self._history_seen, seen
        if self._stepping or before is None or before[0] != seen[0] or None in seen[1:3]:
            return
        if None in before[1:3]:
            return
        moved = (seen[1] - before[1], seen[2] - before[2])
        # the step moved from one history to the other (a new edit after an undo also adds
        # a step to undo and drops the one to redo, but it is another step)
        if moved == (-1, 1) and seen[4] is not None and seen[4] == before[3]:
            which, done, keys = "redo", "Undid", "Ctrl+Z"  # the step undone is now to redo
        elif moved == (1, -1) and seen[3] is not None and seen[3] == before[4]:
            which, done, keys = "undo", "Redid", "Shift+Ctrl+Z"
        else:
            return
        words = _step_words(layer, which)
        if words is None:
            return
        description, scope = words
        self._say(f"{done} ({keys} on the layer): {description} on '{layer.name}'{scope}", None)

    def enterEvent(self, event) -> None:
        """The pointer came to the panel: show the chosen layer's history as it is now (an
        undo or redo on a hidden layer, Ctrl+Z, announces nothing; its lineage edits then
        bring their lineage back here)."""
        from ._tracks_layer import follow_lineage_steps

        if self.labels_layer is not None:
            follow_lineage_steps(self.viewer, self.labels_layer)
        self._show_history()
        self._show_scope()
        super().enterEvent(event)

    def _say_removed(self) -> None:
        """Say that the chosen layer was removed and which layer the next edit goes to (maybe
        a ground truth). A warning only when the user removed the layer they were editing (one
        they chose here or changed through this panel) and another is left; the status line
        alone when none is left (as when the viewer clears or closes), for a layer the panel
        had merely fallen on (a training pair's labels deleted by a user who never used
        Correct) and for Tessella's own layers (a blockwise preview, Evaluate's errors)."""
        if self._removed is None:
            return
        (name, warn), self._removed = self._removed, None
        layer = self.labels_layer
        if layer is None:
            self._say(f"Correct: '{name}' was removed; no labels layer is left to edit", None)
        else:
            self._say(
                f"Correct: '{name}' was removed; now editing '{layer.name}'",
                "warning" if warn else None,
            )

    def _on_begin_batch(self, event=None) -> None:
        self._batches += 1

    def _on_end_batch(self, event=None) -> None:
        self._batches = max(self._batches - 1, 0)
        if not self._batches:
            self._say_removed()

    def _layer_removed(self, layer) -> None:
        if layer is self._picking:
            self.pick_button.setChecked(False)
        # in a batch, the first: the layer the user was editing, not those chosen after it
        worked_on = layer.unique_id in self._worked_on
        self._regions.pop(layer.unique_id, None)  # (a region layer: its region goes with it)
        self._object_edits.pop(layer.unique_id, None)
        forget_lineage_steps(layer.unique_id)  # (its lineage edits: no undo to follow)
        forget_written(layer.unique_id)
        self._worked_on.discard(layer.unique_id)
        if layer.unique_id == self.layer_combo.currentData() and self._removed is None:
            self._removed = (layer.name, worked_on and not _tessella_layer(layer))

    def _on_layer_chosen(self, index: int) -> None:
        """A layer was chosen in the Labels box (filling it blocks its signals): the user's
        layer from now on, whose removal warns."""
        self._note_worked_on()
        self._on_layer_changed(index)

    def _note_worked_on(self, *_args) -> None:
        """The chosen layer was chosen or changed through this panel (:attr:`_worked_on`)."""
        layer_id = self.layer_combo.currentData()
        if layer_id is not None:
            self._worked_on.add(layer_id)

    def _on_layer_changed(self, index: int) -> None:
        self.pick_button.setChecked(False)
        self.selection_edit.clear()
        self._suspects_key = None
        layer = self.labels_layer
        self.status_label.setText("Ready" if layer is None else f"Editing '{layer.name}'")
        self._show_history()
        self._show_scope()
        self._show_region()

    def _show_scope(self, _checked: bool | None = None) -> None:
        """Show the 'All frames' box for time-lapse labels only (their axes have a T), and
        say in Merge's and Delete's tooltips where they act."""
        layer = self.labels_layer
        movie = layer is not None and _time_axis(layer) is not None
        self.all_frames_checkbox.setVisible(movie)
        volume = layer is not None and _z_axis(layer) is not None
        self.min_size_spin.setSuffix(" voxels" if volume else " px")
        self._show_tracks_box()
        if not movie:
            merge = "Join the selected labels into the smallest of their IDs"
            delete = "Delete the selected labels"
        elif self.all_frames_checkbox.isChecked():
            merge = "Join the selected tracks in every frame into the first selected ID"
            delete = "Delete the selected tracks in every frame"
        else:
            merge = (
                "Join the selected labels in the frame on screen into the first selected ID "
                f"(its track goes on); tick '{ALL_FRAMES}' to join whole tracks"
            )
            delete = (
                f"Delete the selected labels in the frame on screen; tick '{ALL_FRAMES}' to "
                "delete whole tracks"
            )
        self.merge_button.setToolTip(merge)
        self.delete_button.setToolTip(delete)

    def _say(self, message: str, kind: str | None = "info") -> None:
        """Show ``message`` in the status line and, as a notification of ``kind`` ("info",
        "warning", "error"; None: none, for what the status line alone reports), the same
        text: the two always agree."""
        self.status_label.setText(message)
        notify = {"info": show_info, "warning": show_warning, "error": show_error}.get(kind or "")
        if notify is not None:
            notify(message)

    # --- selection --------------------------------------------------------------------------

    def selected_ids(self) -> list[int]:
        return parse_ids(self.selection_edit.text())

    def set_selection(self, ids) -> None:
        """Select ``ids`` (in this order: Merge on a movie keeps the first), ranges written
        as ranges (:func:`ids_text`)."""
        self.selection_edit.setText(ids_text(ids))
        self.mark_now()

    def _panel_closed(self) -> None:
        """The panel was closed: clicks on the layer no longer pick for it, and the marks of
        the selected objects go."""
        self.pick_button.setChecked(False)
        self.stop_marking_later()
        self._cancel_region_work()  # (a Write back cut short puts the labels back)
        marks = self._mark_layer()
        if marks is not None and len(marks.data):
            marks.data = []

    def _on_pick_toggled(self, checked: bool) -> None:
        if self._picking is not None:
            if self._pick in self._picking.mouse_drag_callbacks:
                self._picking.mouse_drag_callbacks.remove(self._pick)
            self._picking = None
        layer = self.labels_layer
        if checked and layer is not None:
            layer.mode = "pan_zoom"  # clicks pick, they do not paint
            layer.mouse_drag_callbacks.append(self._pick)
            self._picking = layer
            self.viewer.layers.selection.active = layer
            self.status_label.setText("Click objects to select them; click again to unselect")
        elif checked:
            self.pick_button.setChecked(False)

    def _pick(self, layer: Labels, event) -> None:
        """Mouse callback: toggle the clicked label in the selection."""
        if event.type != "mouse_press":
            return
        value = layer.get_value(
            event.position,
            view_direction=event.view_direction,
            dims_displayed=event.dims_displayed,
            world=True,
        )
        if not value:
            return
        try:
            ids = self.selected_ids()
        except ValueError as exc:  # a typo in the box: not replaced by the clicked ID
            self._say(
                f"Pick: {exc}; the selection is left as it is: correct it, then click again",
                "error",
            )
            return
        value = int(value)
        if value in ids:
            ids.remove(value)
        elif len(ids) >= MAX_SELECTED:
            self._say(
                f"Pick: label {value} not added: at most {MAX_SELECTED:,} label IDs can be "
                "selected",
                "error",
            )
            return
        else:
            ids.append(value)
        self.set_selection(ids)
        if value not in ids:
            self._say(f"Pick: unselected {value}", None)
            return
        said = f"Pick: selected {value}"
        under = self._hidden_under(layer, event, value)
        if under:  # (at a crossing: the worm on top picked, the overlaps layer shows others)
            names = ", ".join(map(str, under))
            them = "it" if len(under) == 1 else "them"
            said += (
                f", on top here; under it here, hidden: {names} (the overlaps layer's colour "
                f"there); to select {them}, type {names} in the box"
            )
        self._say(said, None)

    def _hidden_under(self, layer: Labels, event, value: int) -> list[int]:
        """The objects the "overlaps" layer beside ``layer`` shows under the pixel clicked
        (``event``), other than ``value``, the one picked there: a worm hidden under the worm
        on top at a crossing, in the colour the canvas shows there (s35 t21 #5)."""
        from ._object_stack import overlaps_layer

        overlaps = overlaps_layer(self.viewer, layer)
        if overlaps is None or not isinstance(overlaps.data, np.ndarray):
            return []
        hidden = overlaps.get_value(
            event.position,
            view_direction=event.view_direction,
            dims_displayed=event.dims_displayed,
            world=True,
        )
        try:
            hidden = int(hidden) if hidden is not None else 0
        except (TypeError, ValueError):
            return []
        return [hidden] if hidden > 0 and hidden != value else []

    def relabel(self) -> bool:
        """Relabel 1..N (:meth:`.CorrectEdits.relabel`), the selection following its objects
        to their new IDs: the old IDs name other objects after it, and a Delete then erased
        another nucleus (user test s34/t17 #3)."""
        layer = self.labels_layer
        selected = self._selection_or_empty()
        present = None
        if selected and layer is not None and isinstance(layer.data, np.ndarray):
            present = np.unique(layer.data)  # (relabel_sequential: 1..N in this order)
            present = present[present > 0]
        self._renumbering = True  # (the objects are renumbered, not edited by hand)
        try:
            done = super().relabel()
        finally:
            self._renumbering = False
        if not done or present is None:
            return done
        new_ids = np.searchsorted(present, selected)
        kept = [
            int(i) + 1
            for old, i in zip(selected, new_ids)
            if i < present.size and present[i] == old
        ]
        gone = len(selected) - len(kept)
        if kept != selected:
            self.set_selection(kept)
            note = f"; the selection follows its objects: now {ids_text(kept) or 'none'}"
            if gone:
                note += f" ({gone} selected ID{'s' if gone > 1 else ''} had no object)"
            self._say(self.status_label.text() + note, None)
        return done

    def _selection_or_empty(self) -> list[int]:
        try:
            return self.selected_ids()
        except ValueError:
            return []

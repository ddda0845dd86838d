"""The Correct dock widget: merge, split, delete, fill holes, remove small, relabel; with undo.

Every operation is computed by :mod:`tessella.engine.edit` and written through
``Labels.data_setitem`` inside ``Labels.block_history()``, so it is one step of napari's own
undo history: the Undo/Redo buttons here and Ctrl+Z / Shift+Ctrl+Z on the layer undo the same
steps, mixed with the user's painting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Labels, Points, Shapes
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
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

from . import _results
from ._layers import LayerWatcher, fill_layer_combo, find_layer
from ._layout import panel_layout

if TYPE_CHECKING:
    import napari.viewer

    from tessella.engine.edit import Edit, Suspect

__all__ = ["CorrectWidget", "LINES_LAYER", "SEEDS_LAYER", "parse_ids"]

LINES_LAYER = "split lines"  # the Shapes layer the user draws split lines in
SEEDS_LAYER = "split seeds"  # the Points layer of watershed seeds


def parse_ids(text: str) -> list[int]:
    """``"3, 7 12"`` -> ``[3, 7, 12]``; raises ValueError naming the bad entry."""
    ids = []
    for token in text.replace(",", " ").split():
        if not token.isdigit() or int(token) == 0:
            raise ValueError(f"'{token}' is not a label ID (a positive whole number)")
        ids.append(int(token))
    return ids


def _tessella_layer(layer) -> bool:
    """Whether ``layer`` is one Tessella shows and removes by itself: the "(blocks so far)"
    preview of a blockwise run, or Evaluate's errors layer."""
    from ._blockwise import PREVIEW_KEY
    from .evaluate import ERRORS_KEY

    return PREVIEW_KEY in layer.metadata or ERRORS_KEY in layer.metadata


def _digest(data: np.ndarray) -> bytes:
    """A fingerprint of the labels, to know when the suspicious-object list is stale."""
    return hashlib.blake2b(
        memoryview(np.ascontiguousarray(data)).cast("B"), digest_size=16
    ).digest()


def _axes_of(layer: Labels) -> str | None:
    """The labels' axes (e.g. "TYX"), if known: as their file named them, as Segment read the
    image it made them from, as their napari ``axis_labels`` say, else as the reader guessed
    (:func:`tessella._io.recorded_axes`, as Export and Evaluate take them)."""
    from tessella._io import recorded_axes

    return recorded_axes(layer.ndim, layer.metadata, layer.axis_labels)


class CorrectWidget(LayerWatcher, QWidget):
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
        self._batches = 0  # nested batches of layer changes under way (viewer.layers.clear())

        self.layer_combo = QComboBox()
        self.selection_edit = QLineEdit()
        self.selection_edit.setPlaceholderText("label IDs, e.g. 12, 15")
        self.selection_edit.setToolTip("The labels Merge, Delete, Split and Fill holes act on")
        self.pick_button = QPushButton("Pick")
        self.pick_button.setCheckable(True)
        self.pick_button.setToolTip("Click objects in the canvas to add or remove them")

        self.merge_button = QPushButton("Merge")
        self.merge_button.setToolTip("Join the selected labels into the smallest of their IDs")
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
        self.status_label = QLabel("Ready")
        self.status_label.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Labels", self.layer_combo)
        selection_row = QHBoxLayout()
        selection_row.addWidget(self.selection_edit, 1)
        selection_row.addWidget(self.pick_button)
        form.addRow("Selected", selection_row)

        edits = QGroupBox("Edit")
        grid = QGridLayout(edits)
        grid.addWidget(self.merge_button, 0, 0)
        grid.addWidget(self.delete_button, 0, 1)
        grid.addWidget(self.fill_button, 1, 0)
        grid.addWidget(self.relabel_button, 1, 1)
        grid.addWidget(self.remove_small_button, 2, 0)
        grid.addWidget(self.min_size_spin, 2, 1)
        grid.addWidget(self.draw_line_button, 3, 0)
        grid.addWidget(self.split_line_button, 3, 1)
        grid.addWidget(self.split_seeds_button, 4, 0)
        grid.addWidget(self.pieces_spin, 4, 1)
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
        layout.addWidget(edits)
        layout.addLayout(history)
        layout.addWidget(review)
        layout.addStretch(1)
        footer.addWidget(self.status_label)

        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self.pick_button.toggled.connect(self._on_pick_toggled)
        self.merge_button.clicked.connect(self.merge)
        self.delete_button.clicked.connect(self.delete)
        self.fill_button.clicked.connect(self.fill_holes)
        self.relabel_button.clicked.connect(self.relabel)
        self.remove_small_button.clicked.connect(self.remove_small)
        self.draw_line_button.clicked.connect(self.draw_split_line)
        self.split_line_button.clicked.connect(self.split_along_lines)
        self.split_seeds_button.clicked.connect(self.split_watershed)
        self.undo_button.clicked.connect(self.undo)
        self.redo_button.clicked.connect(self.redo)
        self.next_button.clicked.connect(lambda: self.step_suspicious(+1))
        self.previous_button.clicked.connect(lambda: self.step_suspicious(-1))
        self._watch_layers()
        # napari removes layers in a batch when the viewer clears or closes, or the user
        # deletes the selected layers: one message at its end, not one per layer
        events = self.viewer.layers.events
        if hasattr(events, "begin_batch") and hasattr(events, "end_batch"):
            events.begin_batch.connect(self._on_begin_batch)
            events.end_batch.connect(self._on_end_batch)
        self._refresh_layers()

    # --- layers -----------------------------------------------------------------------------

    @property
    def labels_layer(self) -> Labels | None:
        return find_layer(self.viewer, self.layer_combo.currentData())

    def _refresh_layers(self, event=None) -> None:
        labels = [layer for layer in self.viewer.layers if isinstance(layer, Labels)]
        if fill_layer_combo(self.layer_combo, self.viewer, labels):
            self._on_layer_changed(self.layer_combo.currentIndex())
        if not self._batches:
            self._say_removed()

    def _say_removed(self) -> None:
        """Say that the chosen layer was removed and which layer the next edit goes to (maybe
        a ground truth). A warning only when the user removed the layer they were editing and
        another is left; the status line alone when none is left (as when the viewer clears
        or closes) and for Tessella's own layers (a blockwise preview, Evaluate's errors)."""
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
        if layer.unique_id == self.layer_combo.currentData() and self._removed is None:
            self._removed = (layer.name, not _tessella_layer(layer))

    def _on_layer_changed(self, index: int) -> None:
        self.pick_button.setChecked(False)
        self.selection_edit.clear()
        self._suspects_key = None
        layer = self.labels_layer
        self.status_label.setText("Ready" if layer is None else f"Editing '{layer.name}'")

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
        self.selection_edit.setText(", ".join(str(i) for i in ids))

    def _panel_closed(self) -> None:
        """The panel was closed: clicks on the layer no longer pick for it."""
        self.pick_button.setChecked(False)

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
        ids = self._selection_or_empty()
        ids = [i for i in ids if i != value] if value in ids else [*ids, int(value)]
        self.set_selection(ids)

    def _selection_or_empty(self) -> list[int]:
        try:
            return self.selected_ids()
        except ValueError:
            return []

    # --- operations -------------------------------------------------------------------------

    def _apply(self, what: str, make_edit: Callable[[np.ndarray], Edit]) -> bool:
        """Compute an edit on the chosen layer's data and record it as one undo step."""
        layer = self.labels_layer
        if layer is None:
            self._say(f"{what}: add or choose a labels layer first.")
            return False
        if not isinstance(layer.data, np.ndarray):
            message = (
                f"layer '{layer.name}' is not in memory ({type(layer.data).__name__}, e.g. a "
                "blockwise result on disk); to edit a copy, open its .zarr with File > Open "
                "(Tessella reads labels into memory), then Export the result"
            )
            self._say(f"{what}: {message}", "error")
            return False
        try:
            change = make_edit(layer.data)
        except ValueError as exc:
            self._say(f"{what} on layer '{layer.name}': {exc}", "error")
            return False
        if change.size == 0:
            self._say(f"{what} on '{layer.name}': nothing to change", None)
            return False
        renamed = self._rename_tracks(layer, change.renamed) if change.renamed else None
        with layer.block_history():
            layer.data_setitem(change.indices, change.values)
        if renamed is not None:  # Ctrl+Z and Redo find each side's divisions again
            _results.remember_edited_state(layer, renamed)
        # the Tracks layer beside a time-lapse follows the step (_results.follow_edits)
        done = f"{change.description} on '{layer.name}': {change.size} px changed"
        self._say(done, None)
        self.edited.emit(change.description)
        return True

    def _rename_tracks(self, layer, renamed: dict[int, int]) -> dict | None:
        """Before objects of a time-lapse change IDs (relabel): the divisions drawn beside
        it, renamed the same way; the labels before the change are remembered with the old
        ones. Returns the renamed lineage (None without a Tracks layer)."""
        tracks = _results.tracks_layer(self.viewer, layer)
        if tracks is None:
            return None
        lineage = _results.lineage_on_screen(layer)
        if lineage is None:
            lineage = tracks.metadata.get(_results.LINEAGE_KEY) or {}
        _results.remember_edited_state(layer, lineage)
        # divisions whose ends are gone for now (kept for an undo) have no new IDs: they stay
        # with the labels before the change, whose state remembers them
        present = set(np.unique(layer.data).tolist())
        new = {
            renamed.get(int(c), int(c)): renamed.get(int(p), int(p))
            for c, p in lineage.items()
            if int(c) in present and int(p) in present
        }
        tracks.metadata = {**tracks.metadata, _results.LINEAGE_KEY: new}
        return new

    def _selection(self, what: str, at_least: int = 1) -> list[int] | None:
        try:
            ids = self.selected_ids()
        except ValueError as exc:
            self._say(f"{what}: {exc}", "error")
            return None
        if len(ids) < at_least:
            wanted = "a label" if at_least == 1 else f"{at_least} labels"
            self._say(f"{what}: select {wanted} first (type IDs or use Pick).")
            return None
        return ids

    def merge(self) -> bool:
        from tessella.engine.edit import merge

        ids = self._selection("Merge", 2)
        if ids is None or not self._apply("Merge", lambda data: merge(data, ids)):
            return False
        self.set_selection([min(ids)])
        return True

    def delete(self) -> bool:
        from tessella.engine.edit import delete

        ids = self._selection("Delete")
        if ids is None or not self._apply("Delete", lambda data: delete(data, ids)):
            return False
        self.selection_edit.clear()
        return True

    def fill_holes(self) -> bool:
        from tessella.engine.edit import fill_holes

        try:
            ids = self.selected_ids() or None
        except ValueError as exc:
            self._say(f"Fill holes: {exc}", "error")
            return False
        layer = self.labels_layer
        axes = _axes_of(layer) if layer is not None else None
        return self._apply("Fill holes", lambda data: fill_holes(data, ids, axes=axes))

    def remove_small(self) -> bool:
        from tessella.engine.edit import remove_small

        layer = self.labels_layer
        axes = _axes_of(layer) if layer is not None else None
        size = self.min_size_spin.value()
        return self._apply("Remove small", lambda data: remove_small(data, size, axes=axes))

    def relabel(self) -> bool:
        from tessella.engine.edit import relabel_sequential

        return self._apply("Relabel", relabel_sequential)

    def _find_helper(self, name: str, kind: type):
        """The ``name`` layer of ``kind`` drawn for the chosen labels layer's dimensions
        (lines drawn over a 2D image mean nothing on a slice of a volume)."""
        layer = self.labels_layer
        for candidate in self.viewer.layers:
            if isinstance(candidate, kind) and candidate.name == name:
                if layer is None or candidate.ndim == layer.ndim:
                    return candidate
        return None

    def _helper_layer(self, name: str, kind: type):
        layer = self.labels_layer
        found = self._find_helper(name, kind)
        if found is not None:
            return found
        if layer is None:
            return None
        for other in [c for c in self.viewer.layers if isinstance(c, kind) and c.name == name]:
            self.viewer.layers.remove(other)  # drawn for a layer of other dimensions
        # where the labels lie, units too (napari drops every layer's units, the scale bar's
        # included, when one layer has other units)
        options = {"name": name, "ndim": layer.ndim, **_results.placement(layer)}
        if kind is Shapes:
            return self.viewer.add_shapes(edge_color="yellow", edge_width=2, **options)
        return self.viewer.add_points(face_color="yellow", size=6, **options)

    def draw_split_line(self) -> None:
        """Add (or choose) the split-lines layer in line-drawing mode."""
        if self.labels_layer is None:
            self._say("Draw split line: add or choose a labels layer first.")
            return
        shapes = self._helper_layer(LINES_LAYER, Shapes)
        self.viewer.layers.selection.active = shapes
        shapes.mode = "add_line"
        self.status_label.setText("Drag a line across the object, then click 'Split along lines'")

    def _to_labels_coords(self, helper, points: np.ndarray) -> np.ndarray:
        layer = self.labels_layer
        return np.array([layer.world_to_data(helper.data_to_world(p)) for p in points])

    def split_along_lines(self) -> bool:
        """Split the object each line in the split-lines layer crosses; clear the lines."""
        from tessella.engine.edit import split_line

        shapes = self._find_helper(LINES_LAYER, Shapes)
        if shapes is None or not len(shapes.data):
            self._say("Split along lines: draw a line first ('Draw split line').")
            return False
        if self.viewer.dims.ndisplay != 2:
            self._say("Split along lines: switch the viewer to 2D to draw and split.", "error")
            return False
        plane = tuple(self.viewer.dims.displayed[-2:])
        ids = self._selection_or_empty()
        label = ids[0] if len(ids) == 1 else None
        lines = [self._to_labels_coords(shapes, line) for line in shapes.data]
        done = False
        for line in lines:
            done |= self._apply(
                "Split along line", lambda data, line=line: split_line(data, label, line, plane)
            )
        if done:
            shapes.data = []
            self.viewer.layers.selection.active = self.labels_layer
        return done

    def _height_map(self, layer: Labels) -> np.ndarray | None:
        """The cached network map behind ``layer`` that is high inside objects, if any."""
        result = _results.get(layer)
        return None if result is None else _results.height_map(result, layer.data.shape)

    def _confidence_map(self, layer: Labels) -> np.ndarray | None:
        result = _results.get(layer)
        return None if result is None else _results.confidence_map(result, layer.data.shape)

    def split_watershed(self) -> bool:
        from tessella.engine.edit import split_seeds

        ids = self._selection("Split by watershed")
        layer = self.labels_layer
        if ids is None:
            return False
        if layer is None:
            self._say("Split by watershed: add or choose a labels layer first.")
            return False
        if len(ids) != 1:
            self._say(f"Split by watershed: select exactly one label, not {len(ids)}.")
            return False
        points = self._find_helper(SEEDS_LAYER, Points)
        seeds = None
        if points is not None and len(points.data):
            seeds = self._to_labels_coords(points, points.data)
        height = self._height_map(layer)
        pieces = self.pieces_spin.value()

        def split(data: np.ndarray) -> Edit:
            try:
                return split_seeds(data, ids[0], seeds=seeds, height=height, pieces=pieces)
            except ValueError as exc:
                if seeds is None and "peaks" in str(exc):  # no two nuclei in the map: ask
                    hint = f"put one point per piece inside it in a '{SEEDS_LAYER}' points layer"
                    raise ValueError(f"{exc}; {hint}") from None
                raise

        done = self._apply("Split by watershed", split)
        if done and points is not None:
            points.data = np.empty((0, points.ndim))
        return done

    def undo(self) -> None:
        layer = self.labels_layer
        if layer is None:
            self._say("Undo: add or choose a labels layer first.")
            return
        layer.undo()
        _results.sync_tracks(layer)  # a hidden layer emits no refresh
        self._say(f"Undone on '{layer.name}'", None)

    def redo(self) -> None:
        layer = self.labels_layer
        if layer is None:
            self._say("Redo: add or choose a labels layer first.")
            return
        layer.redo()
        _results.sync_tracks(layer)
        self._say(f"Redone on '{layer.name}'", None)

    # --- review -----------------------------------------------------------------------------

    def suspects(self) -> list[Suspect]:
        """The chosen layer's suspicious objects, recomputed when its labels changed."""
        from tessella.engine.edit import suspicious_objects

        layer = self.labels_layer
        if layer is None:
            return []
        key = (layer.unique_id, _digest(np.asarray(layer.data)))
        if key != self._suspects_key:
            self._suspects = suspicious_objects(
                np.asarray(layer.data), self._confidence_map(layer), axes=_axes_of(layer)
            )
            self._suspects_key = key
            self._suspect_index = -1
        return self._suspects

    def step_suspicious(self, step: int = 1) -> Suspect | None:
        """Centre the view on the next (or previous) suspicious object and select it."""
        layer = self.labels_layer
        if layer is None:
            self._say("Next suspicious: add or choose a labels layer first.")
            return None
        suspects = self.suspects()
        if not suspects:
            self.suspect_label.setText(f"Nothing unusual in '{layer.name}'")
            self._say(f"Nothing unusual in '{layer.name}'", None)
            return None
        self._suspect_index = (self._suspect_index + step) % len(suspects)
        suspect = suspects[self._suspect_index]
        world = np.asarray(layer.data_to_world(suspect.centroid))
        displayed = list(self.viewer.dims.displayed)
        for axis in range(layer.ndim):
            if axis not in displayed:
                self.viewer.dims.set_point(axis, world[axis])
        camera = self.viewer.scene.camera if hasattr(self.viewer, "scene") else self.viewer.camera
        camera.center = tuple(world[displayed])
        layer.selected_label = suspect.label
        self.set_selection([suspect.label])
        confidence = "" if suspect.confidence is None else f", confidence {suspect.confidence:.2f}"
        frame = "" if suspect.frame is None else f" in frame {suspect.frame}"
        found = (
            f"{self._suspect_index + 1} of {len(suspects)}: label {suspect.label}{frame} is "
            f"{suspect.reason} ({suspect.size} px{confidence})"
        )
        self.suspect_label.setText(found)
        self._say(f"Suspicious in '{layer.name}': {found}", None)
        return suspect

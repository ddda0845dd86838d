"""Correct on labels on disk (a big blockwise result, opened lazily and read-only): the region
in view is loaded into an editable labels layer placed over it, edited with every Correct
tool, and written back into the zarr (:mod:`tessella.engine._edit_region`), in a worker
(a mixin of :class:`.correct.CorrectWidget`)."""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Labels
from qtpy.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from ._busy_stores import is_busy
from ._layers import find_layer, full_resolution
from ._workers import ThreadWarningsWorker, close_when_finished, report_runtime_errors

if TYPE_CHECKING:
    from tessella.engine._edit_region import Region

__all__ = ["REGION_KEY", "CorrectRegion", "on_disk_store"]

#: the metadata key of a region layer: ``{"path", "source", "box"}`` (the zarr, the lazy
#: layer's unique_id, the level-0 box as ``[[start, stop], ...]``)
REGION_KEY = "tessella_region"

REGION_BUTTON = "Edit the region in view"
WRITE_BUTTON = "Write back"

# Kept with the region layers, not in a panel, for every Correct panel: one closed and opened
# again (napari makes a new widget) finds the regions it loaded and their edits (s32/r6
# finding 2). Keyed by the region layer's unique_id; a layer's entries go when a panel sees
# it removed.
#: region layer unique_id -> its :class:`~tessella.engine._edit_region.Region`
_REGIONS: dict[str, Region] = {}
#: region layer unique_id -> its Deletes and Merges not yet written back, in order: (the
#: step's pixels before it in the layer's history, weakly; ID -> ID it became)
_OBJECT_EDITS: dict[str, list[tuple[weakref.ref | None, dict[int, int]]]] = {}
#: the region layers whose Write back runs: not editable meanwhile (an edit made then was
#: lost, s32/r6 finding 1) -> whether they were editable and their undo history (napari
#: clears it when a layer is made not editable: put back after)
_WRITING: dict[str, tuple[bool, dict]] = {}
_HISTORIES = ("_undo_history", "_redo_history")
#: region layer unique_id -> the file its last Write back of whole-object Deletes or Merges
#: went into: its undo history was started over then (an Undo past it changed only the region
#: and the next Write back renumbered the object, its part outside left deleted or merged:
#: s32/r7 finding 1), so Undo at the start of the history says why
_WRITTEN: dict[str, str] = {}


def _lock(layer: Labels) -> None:
    """Make the region ``layer`` not editable while it is written back, keeping its undo
    history to put back (:func:`_unlock`)."""
    inner = getattr(layer, "__wrapped__", layer)  # (a plugin's proxy warns on private names)
    kept = {name: getattr(inner, name) for name in _HISTORIES if hasattr(inner, name)}
    _WRITING[layer.unique_id] = (bool(layer.editable), kept)
    layer.editable = False


def _unlock(viewer, layer_id: str) -> None:
    """The region layer ``layer_id`` as it was before its Write back: editable again (where
    it was), with its undo history; nothing where already done or the layer is gone."""
    editable, kept = _WRITING.pop(layer_id, (None, {}))
    layer = find_layer(viewer, layer_id)
    if editable is None or layer is None:
        return
    layer.editable = editable
    inner = getattr(layer, "__wrapped__", layer)
    for name, history in kept.items():
        setattr(inner, name, history)


def written_back_to(layer) -> str | None:
    """The file a Write back of whole-object edits from the region ``layer`` went into (its
    steps before it cannot be undone), or None."""
    return None if layer is None else _WRITTEN.get(getattr(layer, "unique_id", None) or "")


def barrier_words(layer) -> str:
    """What Undo says at the start of a region layer's history after a Write back of
    whole-object edits (:func:`written_back_to`)."""
    return (
        f"'{layer.name}' was already written back to {written_back_to(layer)}: the edits "
        f"before the {WRITE_BUTTON} can't be undone here"
    )


def forget_written(layer_id: str) -> None:
    """The region layer ``layer_id`` was removed: its Write back barrier goes with it."""
    _WRITTEN.pop(layer_id, None)


def being_written(layer) -> bool:
    """Whether ``layer`` is a region layer whose Write back runs (its edits wait)."""
    return layer is not None and getattr(layer, "unique_id", None) in _WRITING


def _rename_in_layer(layer: Labels, renamed: dict[int, int]) -> None:
    """Give the pixels of each ID of ``renamed`` in ``layer`` the ID it was written as, as
    one step of the layer's undo history (its steps before are kept); the label selected
    for painting follows."""
    from tessella.engine._edit_region import _mapped

    data = layer.data
    coords = np.nonzero(np.isin(data, np.array(list(renamed), dtype=data.dtype)))
    if coords[0].size:  # (one pass over the region, whatever the number of IDs)
        layer.data_setitem(coords, _mapped(data[coords], renamed))
    selected = int(layer.selected_label)
    if selected in renamed:
        layer.selected_label = renamed[selected]


def on_disk_store(layer) -> tuple | None:
    """``(folder, key)`` of the zarr behind a labels layer not in memory (level 0 a zarr array
    on disk: a blockwise result, as Segment shows it or as File > Open reopens it); None for
    any other layer."""
    from tessella.engine._edit_region import store_of

    if not isinstance(layer, Labels) or isinstance(layer.data, np.ndarray):
        return None
    return store_of(full_resolution(layer))


def _box_words(box) -> str:
    return ", ".join(f"{s.start}:{s.stop}" for s in box)


def view_box(viewer, layer: Labels, side: int) -> tuple[tuple[slice, ...], str]:
    """The level-0 pixels of ``layer`` (2D) in the canvas, clamped to the labels and to
    ``side`` pixels along each axis (around the view's centre), and the words that say it
    was cut ("" where not)."""
    scene = getattr(viewer, "scene", None)
    camera = scene.camera if scene is not None else viewer.camera
    canvas = getattr(scene, "canvas", None) or viewer.canvas
    height, width = canvas.size
    zoom = float(camera.zoom)
    centre = np.array(camera.center[-2:], dtype=float)
    half = np.array([height, width], dtype=float) / zoom / 2
    point = np.array(viewer.dims.point, dtype=float)
    corners = []
    for corner in (centre - half, centre + half):
        point[-2:] = corner
        corners.append(np.array(layer.world_to_data(point))[-2:])
    low, high = np.minimum(*corners), np.maximum(*corners)
    shape = full_resolution(layer).shape[-2:]
    box, cut = [], False
    for lo, hi, n in zip(low, high, shape):
        start, stop = max(0, math.floor(lo + 0.5)), min(int(n), math.ceil(hi + 0.5))
        if stop - start > side:
            middle = (start + stop) // 2
            start, stop, cut = middle - side // 2, middle - side // 2 + side, True
        box.append(slice(start, stop))
    words = f" (the view holds more than {side:,} pixels along a side: its middle)" if cut else ""
    return tuple(box), words


def _refresh_lazy(layer: Labels, box: tuple[slice, ...]) -> None:
    """Show the labels written into the zarr behind ``layer`` over ``box``: level 0 and the
    levels stored in the zarr are read from disk as shown; the levels kept in memory (the
    downsampled copy of a Segment result) get their pixels over ``box`` again; the computed
    ones (every 2nd, 4th ... pixel, some kept once read) are made again."""
    if not getattr(layer, "multiscale", False):
        layer.refresh()
        return
    from tessella._io import _computed_levels

    levels = list(layer.data)
    base = levels[0]
    shape = tuple(int(n) for n in base.shape)
    fresh = {tuple(int(n) for n in level.shape): level for level in _computed_levels(base, 0, 1)}
    for i, level in enumerate(levels[1:], start=1):
        size = tuple(int(n) for n in level.shape)
        if isinstance(level, np.ndarray):
            factors = [max(1, round(n / m)) for n, m in zip(shape, size)]
            where = tuple(slice(-(-s.start // f), -(-s.stop // f)) for s, f in zip(box, factors))
            source = tuple(
                slice(w.start * f, max(w.start, w.stop) * f - (f - 1), f)
                for w, f in zip(where, factors)
            )
            level[where] = np.asarray(base[source])
        elif size in fresh and type(level).__module__.startswith("dask"):  # (not a zarr's)
            levels[i] = fresh[size]
    editable = layer.editable
    layer.data = levels
    layer.editable = editable
    layer.refresh()


def _first_ids(ids, count: int = 5) -> str:
    """The first ``count`` of ``ids``, and how many there are where that is more."""
    ids = list(ids)
    shown = ", ".join(str(i) for i in ids[:count])
    return shown if len(ids) <= count else f"{shown}… ({len(ids)} objects)"


def _whole_words(result, unit: str = "px") -> str:
    """What the status line says of the objects a Write back deleted or merged whole
    (``unit``: "voxels" in a volume)."""
    if not result.whole:
        return ""
    deleted = [k for k, v in result.whole.items() if v == 0]
    merged = [f"{k} → {v}" for k, v in result.whole.items() if v != 0]
    parts = []
    if deleted:
        parts.append(f"deleted {_first_ids(deleted)}")
    if merged:
        parts.append(f"merged {_first_ids(merged)}")
    return (
        f"; whole objects {' and '.join(parts)} in the file ({result.outside:,} {unit} of them "
        "outside the region)"
    )


def _cut_words(result) -> str:
    """What the status line says of the objects that cross the region's edge and were
    changed inside it only (a brush, the eraser, a split)."""
    if not result.cut:
        return ""
    return (
        f"; objects {_first_ids(result.cut)} cross the region's edge and were changed only "
        "inside it (their part outside is as it was: load a region holding them whole to "
        "edit them there)"
    )


def _mark_edited(layer: Labels) -> None:
    """The recipe of ``layer`` (Segment's, or the reader's) says its labels were edited
    after the run, as the file's recipe now does: Export then writes it saying so."""
    from tessella._io import RECIPE_KEY
    from tessella.engine._edit_region import EDITED_NOTE

    recipe = layer.metadata.get(RECIPE_KEY)
    if isinstance(recipe, dict) and not recipe.get("labels_edited"):
        marked = {**recipe, "labels_edited": True}
        marked.setdefault("note", EDITED_NOTE)
        layer.metadata = {**layer.metadata, RECIPE_KEY: marked}


class CorrectRegion:
    """Mixin for :class:`.correct.CorrectWidget`: the "Labels on disk" box (uses the widget's
    ``viewer``, ``labels_layer``, ``layer_combo``, ``_say``)."""

    def _make_region_box(self) -> QGroupBox:
        from tessella.engine._edit_region import REGION_MAX_PIXELS

        self._regions = _REGIONS  # (shared by the panels: the state goes with the layer)
        self._object_edits = _OBJECT_EDITS
        self._region_worker = None
        self._region_what = ""  # what the worker does (REGION_BUTTON or WRITE_BUTTON)
        side = math.isqrt(REGION_MAX_PIXELS)
        self.region_button = QPushButton(REGION_BUTTON)
        self.region_button.setToolTip(
            "Load the labels on screen (at full resolution, at most "
            f"{side:,} × {side:,} pixels) into an editable layer placed over them; every "
            f"edit here then works on it, and '{WRITE_BUTTON}' saves it into the .zarr"
        )
        self.write_button = QPushButton(WRITE_BUTTON)
        self.write_button.setToolTip(
            "Write the edited region into the .zarr it was loaded from (refused where the "
            "file changed there since); new IDs are made unique in the whole file"
        )
        self.region_cancel = QPushButton("Cancel")
        self.region_progress = QProgressBar()
        self.region_progress.setVisible(False)
        self.region_note = QLabel("")
        self.region_note.setWordWrap(True)
        box = QGroupBox("Labels on disk")
        column = QVBoxLayout(box)
        column.addWidget(self.region_note)
        row = QHBoxLayout()
        row.addWidget(self.region_button)
        row.addWidget(self.write_button)
        row.addWidget(self.region_cancel)
        column.addLayout(row)
        column.addWidget(self.region_progress)
        self.region_button.clicked.connect(self.edit_region_in_view)
        self.write_button.clicked.connect(self.write_back)
        self.region_cancel.clicked.connect(self._cancel_region_work)
        self._region_box = box
        box.setVisible(False)  # (until :meth:`_show_region` finds labels on disk chosen)
        return box

    # --- which layer ------------------------------------------------------------------------

    def _region_of(self, layer) -> Region | None:
        return None if layer is None else self._regions.get(layer.unique_id)

    def _show_region(self) -> None:
        """Show the box for labels on disk and for the regions loaded from them."""
        if not hasattr(self, "_region_box"):
            return
        layer = self.labels_layer
        region = self._region_of(layer)
        store = None if layer is None or region is not None else on_disk_store(layer)
        busy = self._region_worker is not None
        self._region_box.setVisible(region is not None or store is not None or busy)
        self.region_button.setVisible(store is not None)
        self.write_button.setVisible(region is not None)
        self.region_button.setEnabled(not busy)
        self.write_button.setEnabled(not busy)
        self.region_cancel.setVisible(busy)
        writing = being_written(layer)
        edits = getattr(self, "_edits_box", None)
        if edits is not None:
            edits.setEnabled(not writing)
        if writing:
            for button in (self.undo_button, self.redo_button):
                button.setEnabled(False)
        if region is not None:
            self.region_note.setText(
                f"A region [{_box_words(region.box)}] of {region.path.name}: edit it here, "
                f"then '{WRITE_BUTTON}'. Delete and Merge act on the whole objects there "
                "(their parts outside the region too); the brush, eraser, fill and splits "
                "on the region only. The labels on disk show beneath it (a deleted object "
                "too, until written back: hide them to see the region alone)"
            )
        elif store is not None:
            self.region_note.setText(
                "These labels are on disk (read-only here): zoom to the part to correct, "
                f"then '{REGION_BUTTON}'"
            )

    # --- load -------------------------------------------------------------------------------

    def edit_region_in_view(self) -> bool:
        """Load the level-0 labels in view of the chosen layer on disk into a new labels
        layer over them (in a worker); False where refused (said)."""
        from tessella.engine._edit_region import REGION_MAX_PIXELS, region_steps

        what = REGION_BUTTON
        layer = self.labels_layer
        store = None if layer is None else on_disk_store(layer)
        if layer is None or store is None:
            self._say(f"{what}: choose labels on disk (a big blockwise result) first", "error")
            return False
        if self._region_worker is not None:
            return False
        if full_resolution(layer).ndim != 2 or self.viewer.dims.ndisplay != 2:
            self._say(f"{what}: only 2D labels shown in 2D can be loaded by region", "error")
            return False
        box, cut = view_box(self.viewer, layer, math.isqrt(REGION_MAX_PIXELS))
        if any(s.stop <= s.start for s in box):
            self._say(f"{what}: the labels are not in view; pan to them first", "error")
            return False
        path, key = store
        source = layer.unique_id
        self._say(f"{what}: reading [{_box_words(box)}] of {path.name}{cut}…", None)

        def loaded(region) -> None:
            self._add_region_layer(source, region, cut)

        self._start_region_work(region_steps, (path, key, box), loaded, what)
        return True

    def _add_region_layer(self, source: str, region: Region, cut: str) -> None:
        lazy = find_layer(self.viewer, source)
        if lazy is None:
            self._say(f"{REGION_BUTTON}: the layer was removed while its region was read", None)
            return
        start = np.array([s.start for s in region.box], dtype=float)
        scale = np.array(lazy.scale, dtype=float)
        options = {
            "name": f"{lazy.name} [{_box_words(region.box)}]",
            "scale": tuple(scale),
            "translate": tuple(np.array(lazy.translate, dtype=float) + start * scale),
            "metadata": {
                REGION_KEY: {
                    "path": str(region.path),
                    "source": source,
                    "box": [[s.start, s.stop] for s in region.box],
                },
                "axes": lazy.metadata.get("axes", "YX"),
            },
        }
        for name in ("axis_labels", "units"):
            try:
                options[name] = tuple(getattr(lazy, name))
            except (AttributeError, TypeError):
                pass
        # opaque: its labels, not a blend with the same labels on disk beneath (a merge
        # shows in one colour)
        edit = self.viewer.add_labels(region.labels.copy(), opacity=1.0, **options)
        self._regions[edit.unique_id] = region
        index = self.layer_combo.findData(edit.unique_id)
        if index >= 0:
            self.layer_combo.setCurrentIndex(index)
        height, width = region.labels.shape
        self._say(
            f"{REGION_BUTTON}: '{edit.name}' holds {height:,} × {width:,} pixels of "
            f"{region.path.name}{cut}, over the labels on disk; edit it, then '{WRITE_BUTTON}' "
            f"(the file's largest ID: {region.top:,}; new IDs are numbered above it)",
            None,
        )
        self._show_region()

    # --- whole objects ---------------------------------------------------------------------

    def _note_object_edit(self, layer, mapping: dict[int, int]) -> None:
        """After Delete or Merge on a region layer: record ``mapping`` (an ID -> the ID it
        became, 0: deleted) with the step it made in the layer's undo history, so that
        Write back applies it to the whole objects in the file while that step is not
        undone."""
        from ._correct_edits import _before_arrays, _history

        if layer is None or self._region_of(layer) is None or not mapping:
            return
        history = _history(layer, "undo")
        ref = None  # (a napari whose history cannot be read: kept until written back)
        if history is not None:
            try:
                befores = _before_arrays(history[-1])
            except (TypeError, IndexError, KeyError):
                befores = []
            if not befores:
                return
            ref = weakref.ref(befores[0])
        self._object_edits.setdefault(layer.unique_id, []).append((ref, dict(mapping)))

    def _whole_object_edits(self, layer) -> dict[int, int]:
        """The Deletes and Merges made on the region ``layer`` that are in effect, one after
        the other: an ID loaded -> the ID it is now (0: deleted). One whose step is in the
        layer's undo history is; one in its redo history (undone) is not; one in neither
        (napari keeps 100 steps; a new edit after an undo drops those to redo; a napari
        whose history cannot be read) is where none of its IDs is left in the region."""
        from ._correct_edits import _before_arrays, _history

        def steps(which: str) -> set[int]:
            history = _history(layer, which)
            return {id(b) for step in list(history or ()) for b in _before_arrays(step)}

        done, undone = steps("undo"), steps("redo")
        present: set[int] | None = None
        result: dict[int, int] = {}
        for ref, mapping in self._object_edits.get(layer.unique_id, []):
            before = None if ref is None else ref()
            if before is not None and id(before) in undone:
                continue
            if before is None or id(before) not in done:
                if present is None:
                    present = set(np.unique(np.asarray(layer.data)).tolist())
                if present & {k for k, v in mapping.items() if k != v}:
                    continue  # (its objects are back: undone)
            for key, now in result.items():
                result[key] = mapping.get(now, now)
            for key, now in mapping.items():
                result.setdefault(key, now)
        return {k: v for k, v in result.items() if k != v}

    # --- write back -------------------------------------------------------------------------

    def write_back(self) -> bool:
        """Write the chosen region layer into its zarr (in a worker); False where refused."""
        from tessella.engine._edit_region import write_region_steps

        what = WRITE_BUTTON
        layer = self.labels_layer
        region = self._region_of(layer)
        if layer is None or region is None:
            self._say(f"{what}: choose a region loaded with '{REGION_BUTTON}' first", "error")
            return False
        if self._region_worker is not None:
            return False
        if is_busy(region.path):  # (Export reads it in passes: its files would disagree)
            self._say(
                f"{what}: Export is reading {region.path.name} now; write back once it has "
                "finished",
                "error",
            )
            return False
        if tuple(layer.data.shape) != tuple(region.labels.shape):
            self._say(f"{what}: '{layer.name}' is no longer the region's size", "error")
            return False
        edit_id = layer.unique_id
        # the lazy layer shown beneath (found at the end even where the region layer is gone)
        source_id = (layer.metadata.get(REGION_KEY) or {}).get("source")
        objects = self._whole_object_edits(layer)
        self._say(f"{what}: writing '{layer.name}' into {region.path.name}…", None)
        # not editable while written: an edit meanwhile would not be in the file, and the
        # renumbering at the end is applied to the layer (s32/r6 finding 1)
        _lock(layer)

        def written(result) -> None:
            self._region_written(edit_id, region, result, source_id, barrier=bool(objects))

        def ended() -> None:
            _unlock(self.viewer, edit_id)

        data = np.array(layer.data, copy=True)
        self._start_region_work(write_region_steps, (region, data, objects), written, what, ended)
        return True

    def _region_written(
        self, edit_id: str, region: Region, result, source_id=None, barrier: bool = False
    ) -> None:
        """After a Write back of ``region``: the layer renumbered as written, the lazy layer
        shown again. Where it wrote Deletes or Merges to whole objects (``barrier``), the
        layer's undo history starts over: an Undo of one would bring back only its pixels in
        the region, and the next Write back would renumber them while its part outside stayed
        deleted or merged in the file (s32/r7 finding 1)."""
        from ._labels_states import _restart_history

        edit = find_layer(self.viewer, edit_id)
        if result.box is None:
            self._say(f"{WRITE_BUTTON}: nothing changed in the region", None)
            return
        self._object_edits.pop(edit_id, None)  # (written: not applied again)
        if edit is not None and (result.renamed or barrier):
            _unlock(self.viewer, edit_id)
        if edit is not None and result.renamed:  # the IDs written (unique in the file)
            _rename_in_layer(edit, result.renamed)  # (one undoable step; history kept)
        barrier_words = ""
        if edit is not None and barrier:
            _restart_history(edit)  # (after the renumbering: it is part of what was written)
            _WRITTEN[edit_id] = region.path.name
            barrier_words = "; the edits before it can no longer be undone here"
        source = None if source_id is None else find_layer(self.viewer, source_id)
        if source is not None:
            _refresh_lazy(source, result.spans or result.box)
            _mark_edited(source)
        renamed = ""
        if result.renamed:
            pairs = ", ".join(f"{a} → {b}" for a, b in list(result.renamed.items())[:5])
            more = "…" if len(result.renamed) > 5 else ""
            renamed = f"; new IDs renumbered above the file's: {pairs}{more}"
        from ._correct_edits import _z_axis

        unit = "voxels" if edit is not None and _z_axis(edit) is not None else "px"
        self._say(
            f"{WRITE_BUTTON}: {result.pixels:,} {unit} changed in {region.path.name} "
            f"[{_box_words(result.box)}]{renamed}{_whole_words(result, unit)}"
            f"{_cut_words(result)}"
            f"{barrier_words}",
            "info",
        )

    # --- the worker -------------------------------------------------------------------------

    def _start_region_work(self, steps, args, done, what: str, ended=None) -> None:
        """Run the engine's ``steps(*args)`` in a worker, its progress on the bar, ``done``
        called with what it returns, ``ended`` (where given) when it ends, however (done,
        failed, cancelled, the panel closed); a failure said (the widget usable again)."""
        from napari.qt.threading import create_worker
        from napari.utils.notifications import show_warning

        from tessella.engine._edit_region import RegionChangedError

        from ._workers import show_progress

        words = {
            "reading": "reading",
            "maximum": "finding the largest ID",
            "checking": "checking the file",
            "writing": "writing",
            "objects": "whole objects",
            "recipe": "recording the edit in the recipe",
        }

        def progress(step) -> None:
            if self._region_worker is not worker:  # (cancelled: its last steps)
                return
            self.region_progress.setVisible(True)
            label = words.get(step.stage, step.stage)
            show_progress(self.region_progress, step.done, max(step.total, 1), f"{label}: %v / %m")

        def failed(exc) -> None:
            kept = ""
            if what == WRITE_BUTTON and not isinstance(exc, RegionChangedError):
                kept = "; nothing was written (the file holds its labels as before)"
            self._say(f"{what}: {exc}{kept}", "error")

        def finished() -> None:
            if ended is not None:
                ended()
            self._region_worker = None
            try:
                self.region_progress.setVisible(False)
                self._show_region()
                self._show_history()  # (Undo and Redo again, after a Write back)
            except RuntimeError:  # (the panel was deleted meanwhile: napari closing)
                pass

        worker = create_worker(
            report_runtime_errors(steps),
            *args,
            _worker_class=ThreadWarningsWorker,
            _start_thread=False,
            _connect={"errored": failed},
        )
        close_when_finished(worker)
        self._region_worker = worker
        self._region_what = what
        worker.yielded.connect(progress)
        worker.returned.connect(done)
        worker.warned.connect(lambda args: show_warning(f"{what}: {args[0]}"))
        worker.finished.connect(finished)
        self._show_region()
        worker.start()

    def _cancel_region_work(self) -> None:
        """Stop the load or Write back under way (a Write back cut short puts the labels
        there before back: :func:`~tessella.engine._edit_region.write_region_steps`)."""
        worker = getattr(self, "_region_worker", None)
        if worker is not None:
            worker.quit()
            if self._region_what == WRITE_BUTTON:
                self._say("Cancelled: a Write back cut short writes nothing", None)
            else:
                self._say(f"Cancelled: '{REGION_BUTTON}' loaded no region", None)

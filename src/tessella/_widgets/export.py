"""The Export dock widget: labels as TIFF and zarr, objects that overlap as a mask stack,
measurements as CSV, the recipe as JSON, tracks in the Cell Tracking Challenge format.

Every file is written atomically by :mod:`tessella.engine.io`; nothing is written when any
target already exists and "Overwrite existing files" is off, nor when any output cannot be
made (each is checked before the first is written). The measurements come from
:func:`tessella.engine.measure.measure_objects`, so a script gets the same table.

The mask stack's default (ticked where the chosen labels' objects overlap) follows hand edits
of the labels (painting, Correct, Ctrl+Z): :data:`STACK_RECHECK_MS` after the last change,
and again when Export is pressed. Checking costs about 15-40 ms on a 520x696 worms image,
too much for every step of a brush stroke on the GUI thread.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from napari.layers import Image, Labels
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from . import _results
from ._layers import LayerWatcher, fill_layer_combo, find_layer
from ._layout import panel_layout
from .segment import RECIPE_KEY, SOURCE_ID_KEY, SOURCE_KEY

if TYPE_CHECKING:
    import napari.viewer

__all__ = ["ExportWidget", "OUTPUT_SUFFIXES", "STACK_RECHECK_MS", "base_path", "measure_stack"]

#: the mask stack's default is checked again this long after the last edit of the labels
STACK_RECHECK_MS = 250

#: what a recipe file says when replaying it does not give the exported labels
EDITED_NOTE = (
    "The labels were changed after segmentation (edited by hand, or a Tune preview of one "
    "slice or frame not applied to all); replaying this recipe gives them as they were before."
)

#: the mask stack's tooltip where the labels' objects overlap
STACK_TIP = (
    "Objects that overlap (e.g. crossing worms): one 0/1 mask per object, (N, Y, X), as "
    "'tessella segment --stack' writes ('tessella evaluate --overlapping' reads it); "
    "the CSV then measures each object whole, hidden parts included"
)

#: what each output adds to the base path
OUTPUT_SUFFIXES = {
    "tiff": ".tif",
    "stack": ".stack.tif",  # (N, Y, X) 0/1 masks, as `tessella segment --stack` writes
    "zarr": ".zarr",
    "csv": ".csv",
    "recipe": ".recipe.json",
    "ctc": "_RES",  # a folder: maskTTT.tif + res_track.txt
}


def base_path(text: str, name: str = "labels") -> Path | None:
    """The base the outputs are named after: ``~`` expanded, an output suffix dropped; a
    folder (one that exists, or text ending in a slash) holds them, named ``name``."""
    text = text.strip()
    if not text:
        return None
    path = Path(text).expanduser()
    if text.endswith(("/", os.sep)):
        return path / name
    stem = path.name
    suffixes = (*OUTPUT_SUFFIXES.values(), ".tiff", ".json")
    for suffix in sorted(suffixes, key=len, reverse=True):  # ".stack.tif" before ".tif"
        if stem.lower().endswith(suffix) and len(stem) > len(suffix):
            return path.with_name(stem[: -len(suffix)])
    return path / name if path.is_dir() else path


def folder_to_make(text: str, base: Path) -> Path | None:
    """The folder Export makes to hold the outputs named after ``base`` (None when it
    exists); ValueError, saying why, when they cannot go there. Only the folder that a
    *Save as* ``text`` ending in a slash names is made, and only inside an existing folder:
    a typo in a parent folder is refused, never made into a new tree of folders.

    >>> folder_to_make("/no_such_folder/sub/name", Path("/no_such_folder/sub/name"))
    Traceback (most recent call last):
    ...
    ValueError: folder '/no_such_folder' does not exist; create it first, or choose another
    """
    if "\0" in text:
        raise ValueError("the path has a character that cannot be in a file name (a NUL byte)")
    folder = base.parent
    if folder.is_dir():
        return None
    chain = [folder, *folder.parents]
    found = next((n for n, path in enumerate(chain) if path.exists()), len(chain) - 1)
    if chain[found].exists() and not chain[found].is_dir():
        raise ValueError(f"'{chain[found]}' is a file, not a folder")
    missing = chain[max(found - 1, 0)]  # the first folder of the path that does not exist
    if missing == folder and text.strip().endswith(("/", os.sep)):
        return folder
    raise ValueError(f"folder '{missing}' does not exist; create it first, or choose another")


def _write_error(exc: Exception, target: Path) -> str:
    """Why ``target`` could not be written, naming it rather than the temporary file that
    :func:`tessella.engine.io.atomic_path` writes first."""
    import errno
    import re

    if isinstance(exc, OSError) and exc.strerror:
        if exc.errno == errno.ENOENT and target.parent.is_dir():
            return f"cannot write {target}: '{target.parent}' takes no new files"
        return f"cannot write {target}: {exc.strerror}"
    text = str(exc)
    folder, name = re.escape(str(target.parent) + os.sep), re.escape(target.name)
    text = re.sub(rf"{folder}\.{name}\.[^'\"\s]*tmp", str(target), text)  # (.NAME.XXXX.tmp)
    return f"cannot write {text if str(target) in text else f'{target}: {text}'}"


@dataclass(frozen=True)
class _Output:
    kind: str  # a key of OUTPUT_SUFFIXES
    path: Path


@dataclass(frozen=True)
class _Stack:
    """A 2D labels layer's objects whole, overlaps kept: ``masks[n]`` is object ``ids[n]``."""

    masks: np.ndarray  # (N, Y, X) bool
    ids: np.ndarray  # (N,) label IDs
    source: str  # where the whole objects came from, for the status line


def overlaps_layer(viewer, layer: Labels) -> Labels | None:
    """The "overlaps" layer Segment or Tune placed beside ``layer`` (objects hidden in part,
    each painted whole), when it fits them."""
    overlaps = _results.companion_layer(viewer, layer, "overlaps")
    if not isinstance(overlaps, Labels) or overlaps.data.shape != layer.data.shape:
        return None
    return overlaps


def network_instances(layer: Labels):
    """``(method, result)`` when ``layer`` holds a result whose method keeps overlapping
    objects (``instances``: patches) of one 2D image, else None."""
    from tessella.engine.methods import get_method

    result = _results.get(layer)
    if result is None or len(result.predictions) != 1 or result.labels.ndim != 2:
        return None
    name = getattr(getattr(result.model, "card", None), "method", None)
    try:
        method = get_method(name) if isinstance(name, str) else None
    except (KeyError, ValueError):
        return None
    return (method, result) if hasattr(method, "instances") and result.params is not None else None


def object_stack(viewer, layer: Labels, labels: np.ndarray) -> _Stack:
    """The objects of the 2D ``labels`` (of ``layer``) whole, overlaps kept, as Export writes
    its mask stack and Evaluate scores them against overlapping masks.

    * Labels as the network's result made them (after Tune too): its instances, what
      ``tessella segment --stack`` writes.
    * Labels edited since: each object of the labels as it is now, with the parts of it
      that other objects hid taken from the network (an object erased is left out, a
      part erased stays out, one painted in is taken as painted).
    * No network result behind them (any more): each object of the labels with its
      hidden part from the "overlaps" layer beside them (where two hidden objects
      overlap each other, that layer shows one of them only).
    """
    found = network_instances(layer)
    if found is not None:
        stack = network_stack(layer, labels, *found)
        if stack is not None:
            return stack
    overlaps = overlaps_layer(viewer, layer)
    hidden = None if overlaps is None else np.asarray(overlaps.data)
    under = set() if hidden is None else set(np.unique(hidden).tolist())
    ids = np.unique(labels[labels > 0])
    masks = np.zeros((ids.size, *labels.shape), bool)
    for n, label in enumerate(ids.tolist()):
        masks[n] = labels == label
        if label in under:
            masks[n] |= hidden == label
    source = "the labels with their overlaps layer" if hidden is not None else "the labels"
    return _Stack(masks, ids, source)


def network_stack(layer, labels: np.ndarray, method, result) -> _Stack | None:
    """:func:`object_stack` from ``method.instances`` of ``result``, with the parameters
    of the labels on screen; None when these labels are not (edits of) that result's."""
    from tessella.engine.params import make_params

    recipe, _reproduces = _results.recipe_on_screen(layer)
    params = result.params
    recorded = recipe.get("params") if isinstance(recipe, dict) else None
    if isinstance(recorded, dict):
        try:
            params = make_params(method.Params, **recorded)
        except (TypeError, ValueError):
            return None
    prediction = result.predictions[0]
    masks = np.asarray(method.instances(prediction, params), bool)
    if masks.ndim != 3 or masks.shape[1:] != labels.shape or labels.dtype.kind not in "iu":
        return None
    labelled = labels > 0
    rows, cols = np.nonzero(labelled)
    ids = labels[rows, cols].astype(np.int64)
    fits = ids <= len(masks)
    if fits.all() and np.array_equal(masks.any(axis=0), labelled):
        if masks[ids - 1, rows, cols].all():  # object k in mask k - 1: the result itself
            return _Stack(masks, np.arange(1, len(masks) + 1), "the network's instances")
    # edited: what the labels were (object k where it showed), to tell the hidden parts
    before = np.asarray(method.postprocess(prediction, params))
    if before.shape != labels.shape or 2 * np.count_nonzero(before[labelled] == ids) < ids.size:
        return None  # not these labels' result (most objects differ)
    found = np.unique(ids)
    stack = np.zeros((found.size, *labels.shape), bool)
    for n, label in enumerate(found.tolist()):
        stack[n] = labels == label
        if label <= len(masks):
            stack[n] |= masks[label - 1] & (before != label)
    return _Stack(stack, found, "the edited labels, hidden parts from the network")


def measure_stack(masks: np.ndarray, ids, **options) -> dict[str, np.ndarray]:
    """:func:`~tessella.engine.measure.measure_objects` of objects that may overlap, each
    measured whole: ``masks[n]`` (an ``(N, Y, X)`` stack) is object ``ids[n]``. The objects
    are spread over as few label images as keep them apart; ``options`` go to
    ``measure_objects``. Rows are sorted by label.

    >>> masks = np.zeros((2, 4, 6), bool)
    >>> masks[0, :, :4] = masks[1, 1:3, 2:] = True  # crossing: both cover 4 pixels
    >>> measure_stack(masks, [1, 2])["area_px"].tolist()
    [16, 8]
    """
    from tessella.engine.measure import measure_objects

    masks = np.asarray(masks, bool)
    ids = np.asarray(ids, np.int64)
    if masks.ndim < 3 or len(ids) != len(masks):
        raise ValueError(f"a mask stack of {len(ids)} objects, got shape {masks.shape}")
    dtype = np.uint16 if ids.max(initial=0) <= np.iinfo(np.uint16).max else np.int64
    planes: list[np.ndarray] = []
    for mask, label in zip(masks, ids):
        plane = next((p for p in planes if not p[mask].any()), None)
        if plane is None:
            plane = np.zeros(masks.shape[1:], dtype)
            planes.append(plane)
        plane[mask] = label
    tables = [measure_objects(plane, **options) for plane in planes]
    if not tables:
        return measure_objects(np.zeros(masks.shape[1:], dtype), **options)
    table = {name: np.concatenate([t[name] for t in tables]) for name in tables[0]}
    order = np.argsort(table["label"], kind="stable")
    return {name: values[order] for name, values in table.items()}


def _pixel_size(viewer, layer, axes: str) -> tuple[dict[str, float] | None, str, str]:
    """``(sizes, unit, note)``: the pixel size Export writes for ``layer``, its unit, and what
    the status line says about a guessed unit (:func:`tessella._io.layer_pixel_size`; the
    pixel size may be the one the reader recorded for the image Segment made it from)."""
    from tessella._io import layer_pixel_size

    source = find_layer(viewer, layer.metadata.get(SOURCE_ID_KEY))
    sizes, unit, guessed = layer_pixel_size(
        axes,
        layer.scale,
        getattr(layer, "units", None),  # (napari before 0.5 has none)
        [layer.metadata, getattr(source, "metadata", {})],
    )
    if not guessed or sizes is None:
        return sizes, unit, ""
    shown = ", ".join(f"{axis} {size:g}" for axis, size in sizes.items())  # every axis
    return sizes, unit, f"the scale ({shown}) has no unit: written as {unit}"


def _fits(image, labels) -> bool:
    """Whether ``image`` can give ``labels``' objects their mean intensity (same pixels; an RGB
    image's colour axis aside)."""
    if image is None:
        return False
    shape = tuple(image.data.shape[: labels.ndim])
    return shape == tuple(labels.data.shape) and (image.ndim == labels.ndim or image.rgb)


class ExportWidget(LayerWatcher, QWidget):
    """Export a labels layer, its measurements and its recipe next to each other."""

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer

        self.labels_combo = QComboBox()
        self.image_combo = QComboBox()
        self.image_combo.setToolTip("Image whose mean intensity per object goes in the CSV")
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("folder/name (no extension)")
        self.path_edit.setToolTip(
            "Outputs are named after this: name.tif, name.zarr, name.csv, name.recipe.json"
        )
        self.browse_button = QPushButton("Browse…")
        self.tiff_checkbox = QCheckBox("Labels as TIFF (.tif, with pixel size)")
        self.tiff_checkbox.setChecked(True)
        self.stack_checkbox = QCheckBox("Overlapping objects whole, as a mask stack (.stack.tif)")
        self.stack_checkbox.setToolTip(STACK_TIP)
        self.zarr_checkbox = QCheckBox("Labels as zarr (.zarr)")
        self.csv_checkbox = QCheckBox("Measurements (.csv)")
        self.csv_checkbox.setChecked(True)
        self.csv_checkbox.setToolTip(
            "One row per object: size, centroid, bounding box, mean intensity, mean confidence"
        )
        self.ctc_checkbox = QCheckBox("Tracks, Cell Tracking Challenge format (_RES folder)")
        self.ctc_checkbox.setToolTip(
            "Time-lapses: maskTTT.tif per frame and res_track.txt (label, first and last frame, "
            "parent) in a folder NAME_RES"
        )
        self.recipe_checkbox = QCheckBox("Recipe (.recipe.json)")
        self.recipe_checkbox.setChecked(True)
        self.overwrite_checkbox = QCheckBox("Overwrite existing files")
        self.export_button = QPushButton("Export")
        self.status_label = QLabel("Ready")
        self.status_label.setWordWrap(True)

        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Labels", self.labels_combo)
        form.addRow("Intensity", self.image_combo)
        form.addRow("Save as", path_row)
        layout, footer = panel_layout(self)  # the choices scroll; Export and status stay
        layout.addLayout(form)
        for checkbox in (
            self.tiff_checkbox,
            self.stack_checkbox,
            self.zarr_checkbox,
            self.csv_checkbox,
            self.ctc_checkbox,
            self.recipe_checkbox,
            self.overwrite_checkbox,
        ):
            layout.addWidget(checkbox)
        layout.addStretch(1)
        footer.addWidget(self.export_button)
        footer.addWidget(self.status_label)

        self.labels_combo.currentIndexChanged.connect(self._on_labels_changed)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.export_button.clicked.connect(self._on_export_clicked)
        self._stack_state: tuple | None = None  # (layer, stack possible, overlaps) last seen
        self._edits_heard: Labels | None = None  # the labels layer whose edits are followed
        self._stack_timer = QTimer(self, singleShot=True, interval=STACK_RECHECK_MS)
        self._stack_timer.timeout.connect(self._update_stack_checkbox)
        self._watch_layers()
        changed = _results.results.changed  # Segment registers its result after the labels
        changed.connect(self._on_results_changed)
        # the cache outlives viewers: stop hearing from it once this widget is gone
        self.destroyed.connect(lambda *_: changed.disconnect(self._on_results_changed))
        self._refresh_layers()

    # --- layers -----------------------------------------------------------------------------

    @property
    def labels_layer(self) -> Labels | None:
        return find_layer(self.viewer, self.labels_combo.currentData())

    @property
    def image_layer(self) -> Image | None:
        """The intensity image, or None for "none"."""
        return find_layer(self.viewer, self.image_combo.currentData())

    def _refresh_layers(self, event=None) -> None:
        labels = [layer for layer in self.viewer.layers if isinstance(layer, Labels)]
        changed = fill_layer_combo(self.labels_combo, self.viewer, labels)
        self._fill_image_combo()
        if changed:
            self._on_labels_changed(self.labels_combo.currentIndex())
        self._update_recipe_checkbox()
        self._update_stack_checkbox()

    def _on_results_changed(self, layer_id) -> None:
        self._update_stack_checkbox()

    def _fill_image_combo(self) -> None:
        """ "none", then the image layers; the choice is kept while its layer exists."""
        previous = self.image_combo.currentData()
        self.image_combo.blockSignals(True)
        self.image_combo.clear()
        self.image_combo.addItem("none", None)
        for layer in self.viewer.layers:
            if isinstance(layer, Image):
                self.image_combo.addItem(layer.name, layer.unique_id)
        index = self.image_combo.findData(previous) if previous is not None else 0
        self.image_combo.setCurrentIndex(max(index, 0))
        self.image_combo.blockSignals(False)

    def _on_labels_changed(self, index: int) -> None:
        """Offer the image the labels were segmented from for the intensities."""
        layer = self.labels_layer
        if layer is not None:
            source = layer.metadata.get(SOURCE_KEY)
            images = [
                (i, find_layer(self.viewer, self.image_combo.itemData(i)))
                for i in range(1, self.image_combo.count())
            ]
            source_id = layer.metadata.get(SOURCE_ID_KEY)
            if source_id is not None:  # made by Segment: that image, even renamed, or none
                found = [i for i, im in images if im is not None and im.unique_id == source_id]
            elif source:  # (labels from before the id was recorded: by name)
                found = [i for i, im in images if im is not None and im.name == source]
            else:  # labels of unknown source: an image of their shape
                found = [i for i, im in images if _fits(im, layer)]
            found = [i for i in found if _fits(dict(images)[i], layer)]  # e.g. CYX: none
            if found:
                self.image_combo.setCurrentIndex(found[0])
            elif source_id is not None or source or not _fits(self.image_layer, layer):
                self.image_combo.setCurrentIndex(0)  # never another image's intensities
        self._hear_edits_of(layer)
        self._update_recipe_checkbox()
        self._update_stack_checkbox()

    def _hear_edits_of(self, layer: Labels | None) -> None:
        """Follow the edits of ``layer`` (only): painting and Correct (``paint``), new data
        (``data``), and Ctrl+Z, which only redraws it (``set_data``)."""
        if layer is self._edits_heard:
            return
        self._stop_hearing_edits()
        if layer is not None:
            for emitter in (layer.events.paint, layer.events.data, layer.events.set_data):
                emitter.connect(self._on_labels_edited)
        self._edits_heard = layer

    def _stop_hearing_edits(self) -> None:
        self._stack_timer.stop()
        layer, self._edits_heard = self._edits_heard, None
        if layer is not None:
            for emitter in (layer.events.paint, layer.events.data, layer.events.set_data):
                emitter.disconnect(self._on_labels_edited)

    def _layer_removed(self, layer) -> None:
        if layer is self._edits_heard:
            self._stop_hearing_edits()

    def _on_labels_edited(self, event=None) -> None:
        """The chosen labels changed (or were redrawn): check the mask stack's default once
        the edits pause, where a stack can be written (else nothing there depends on them)."""
        if self._stack_state is not None and self._stack_state[1]:
            self._stack_timer.start()

    def _recipe(self) -> dict | None:
        layer = self.labels_layer
        recipe = None if layer is None else layer.metadata.get(RECIPE_KEY)
        return recipe if isinstance(recipe, dict) else None

    def _recipe_to_write(
        self,
        outputs: Sequence[_Output] = (),
        stack: _Stack | None = None,
        labels: np.ndarray | None = None,
    ) -> tuple[dict, bool]:
        """The recipe of the labels on screen (after Ctrl+Z, the parameters that made them),
        and whether it reproduces them; when not (hand edits, a Tune preview of one slice or
        frame, a labels file changed after its recipe), the file says so. It names the files
        this export writes beside it (``exported``: output kind -> file name), with the
        ``labels_digest`` of ``labels`` when they are among them (the reader checks that the
        file still holds them), and, with a mask stack, how many objects it holds and where
        they came from (``stack_objects``, ``stack_from``)."""
        from tessella.engine.digest import DIGEST_KEY, labels_digest

        found, reproduces = _results.recipe_on_screen(self.labels_layer)
        recipe = found or {}  # (only asked for labels that have one)
        if not reproduces:  # (the reader's note, when the labels file changed)
            recipe = {**recipe, "labels_edited": True, "note": recipe.get("note", EDITED_NOTE)}
        exported = {o.kind: o.path.name for o in outputs if o.kind != "recipe"}
        if exported:
            recipe = {**recipe, "exported": exported}
        if labels is not None and {"tiff", "zarr"} & set(exported):
            recipe = {**recipe, DIGEST_KEY: labels_digest(labels)}
        if stack is not None and "stack" in exported:
            recipe = {**recipe, "stack_objects": len(stack.ids), "stack_from": stack.source}
        return recipe, reproduces

    def _update_recipe_checkbox(self) -> None:
        has_recipe = self._recipe() is not None
        self.recipe_checkbox.setEnabled(has_recipe)
        self.recipe_checkbox.setToolTip(
            "How the labels were made: model, its checksum, parameters"
            if has_recipe
            else "This labels layer was not made by Segment, so it has no recipe"
        )

    # --- objects that overlap ---------------------------------------------------------------

    def _overlaps_layer(self) -> Labels | None:
        """The "overlaps" layer beside the chosen labels (:func:`overlaps_layer`)."""
        layer = self.labels_layer
        return None if layer is None else overlaps_layer(self.viewer, layer)

    def _can_stack(self) -> bool:
        """Whether a mask stack can be written: 2D labels whose objects may overlap (a result
        of a method that keeps them, or an "overlaps" layer beside the labels)."""
        layer = self.labels_layer
        if layer is None or layer.multiscale or layer.ndim != 2:
            return False
        return self._overlaps_layer() is not None or network_instances(layer) is not None

    def _overlapping(self, layer: Labels) -> tuple[int, int]:
        """``(overlapping, objects)``: how many objects of the 2D ``layer`` share pixels with
        another in the stack :meth:`_object_stack` writes, and how many it holds."""
        labels = np.asarray(layer.data)
        found = network_instances(layer)
        try:
            stack = None if found is None else network_stack(layer, labels, *found)
        except Exception:  # (a default only: Export says what fails, should it be ticked)
            stack = None
        if stack is not None:
            masks = stack.masks
            shared = masks.sum(axis=0, dtype=np.int64) > 1
            return int(masks[:, shared].any(axis=1).sum()), len(stack.ids)
        # the labels with the overlaps layer: object b is hidden where that layer shows it
        # over another object a (the stack's masks of a and b then share the pixel)
        ids = np.unique(labels[labels > 0])
        overlaps = self._overlaps_layer()
        if overlaps is None:
            return 0, ids.size
        hidden = np.asarray(overlaps.data)
        shared = (labels > 0) & (hidden > 0) & (hidden != labels) & np.isin(hidden, ids)
        both = np.union1d(hidden[shared], labels[shared])
        return both.size, ids.size

    def _stack_offer(self) -> tuple[bool, int, str]:
        """``(possible, overlapping, tooltip)``: whether a mask stack can be written for the
        chosen labels, how many of their objects overlap another, and what the option's
        tooltip says (why it is off, where it is)."""
        layer = self.labels_layer
        if layer is None:
            return False, 0, "Choose a labels layer"
        name = layer.name
        if layer.multiscale or layer.ndim != 2:
            what = "multiscale" if layer.multiscale else f"{layer.ndim}D"
            why = f"'{name}' is {what}: a mask stack holds the overlapping objects of one 2D image"
            return False, 0, f"{why} (e.g. worms2d's crossing worms)"
        if not self._can_stack():
            why = (
                f"No objects overlap in '{name}': it has no overlaps layer beside it and is no "
                "result of a method that keeps overlapping objects (e.g. worms2d), so the "
                "labels already hold each object whole"
            )
            return False, 0, why
        overlapping, objects = self._overlapping(layer)
        if not overlapping:
            why = (
                f"No objects overlap in '{name}' (none hides part of another), so the labels "
                "already hold each object whole: off. Tick it to write the stack anyway (one "
                "0/1 mask per object, as 'tessella segment --stack' writes)"
            )
            return True, 0, why
        tip = f"{STACK_TIP}. In '{name}', {overlapping} of {objects} objects overlap another"
        return True, overlapping, tip

    def _update_stack_checkbox(self) -> None:
        """Offer the mask stack where the labels' objects may overlap (a result of a method
        that keeps them, or an "overlaps" layer beside them), ticked where some do; the
        tooltip says why it is off or disabled. Other labels, or other data behind them (a
        result registered, an overlaps layer added or removed), bring back the default."""
        self._stack_timer.stop()
        possible, overlapping, tip = self._stack_offer()
        layer = self.labels_layer
        state = (None if layer is None else layer.unique_id, possible, overlapping > 0)
        if state != self._stack_state:
            self._stack_state = state
            self.stack_checkbox.setChecked(overlapping > 0)
        self.stack_checkbox.setEnabled(possible)
        self.stack_checkbox.setToolTip(tip)

    def _object_stack(self, layer: Labels, labels: np.ndarray) -> _Stack:
        """The objects of 2D ``labels`` whole, overlaps kept (:func:`object_stack`)."""
        return object_stack(self.viewer, layer, labels)

    # --- paths ------------------------------------------------------------------------------

    def _on_browse_clicked(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            "Export as (the extension is added for each output)",
            self.path_edit.text() or self._default_base(),
            "All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.path_edit.setText(str(base_path(path)))

    def _default_base(self) -> str:
        layer = self.labels_layer
        return str(Path.home() / layer.name) if layer is not None else str(Path.home())

    def outputs(self) -> list[_Output]:
        """The files the current settings write (the recipe only when the layer has one)."""
        layer = self.labels_layer
        base = base_path(self.path_edit.text(), layer.name if layer is not None else "labels")
        if base is None:
            return []
        chosen = {
            "tiff": self.tiff_checkbox.isChecked(),
            "stack": self.stack_checkbox.isChecked() and self._can_stack(),
            "zarr": self.zarr_checkbox.isChecked(),
            "csv": self.csv_checkbox.isChecked(),
            "recipe": self.recipe_checkbox.isChecked() and self._recipe() is not None,
            "ctc": self.ctc_checkbox.isChecked() and self._is_time_lapse(),
        }
        return [
            _Output(kind, base.with_name(base.name + suffix))
            for kind, suffix in OUTPUT_SUFFIXES.items()
            if chosen[kind]
        ]

    # --- exporting --------------------------------------------------------------------------

    def _on_export_clicked(self) -> None:
        self.export()

    def export(self) -> list[Path]:
        """Write the chosen outputs; returns the files written (none when refused or failed)."""
        from tessella._io import labels_axes
        from tessella.engine.io import write_json, write_labels, write_mask_stack, write_zarr_labels
        from tessella.engine.measure import measure_objects, write_csv
        from tessella.engine.tracking import write_ctc

        layer = self.labels_layer
        if layer is None:
            show_info("Export: add a labels layer first.")
            return []
        if base_path(self.path_edit.text()) is None:
            show_info("Export: choose where to save (the 'Save as' path) first.")
            return []
        if self._stack_state is not None and self._stack_state[1]:
            self._update_stack_checkbox()  # the default of the labels as they are now
        outputs = self.outputs()
        skipped_recipe = self.recipe_checkbox.isChecked() and self._recipe() is None
        if not outputs:
            message = "Export: nothing chosen to write."
            if skipped_recipe:
                message += f" '{layer.name}' has no recipe (it was not made by Segment)."
            show_info(message)
            self.status_label.setText(message)
            return []
        try:
            make_folder = folder_to_make(self.path_edit.text(), outputs[0].path)
        except ValueError as exc:
            show_error(f"Export: nothing written; {exc}.")
            self.status_label.setText(f"Nothing written: {exc}.")
            return []
        overwrite = self.overwrite_checkbox.isChecked()
        existing = [str(output.path) for output in outputs if output.path.exists()]
        if existing and not overwrite:
            message = (
                f"Export: nothing written; {', '.join(existing)} already "
                f"{'exists' if len(existing) == 1 else 'exist'}. Tick 'Overwrite existing "
                "files' to replace, or choose another name."
            )
            show_error(message)
            self.status_label.setText(message)
            return []

        labels = np.asarray(layer.data[0] if layer.multiscale else layer.data)
        kinds = [output.kind for output in outputs]
        try:  # every output made or checked before the first is written: a failure writes none
            axes = labels_axes(labels.ndim, layer.metadata, layer.axis_labels)
            if labels.dtype.kind not in "iu" or (labels.size and labels.min() < 0):
                raise ValueError("labels must be integers of 0 and more")
            pixel_size, unit, unit_note = _pixel_size(self.viewer, layer, axes)
            stack = self._object_stack(layer, labels) if "stack" in kinds else None
            table = None
            if "csv" in kinds:
                options: dict[str, Any] = {
                    "image": self._intensity(),
                    "confidence": self._confidence(layer, labels),
                    "spacing": None if unit == "pixel" else pixel_size,  # no physical size
                    "axes": axes,
                    "unit": unit,
                }
                if stack is not None:  # each object whole, its hidden parts included
                    table = measure_stack(stack.masks, stack.ids, **options)
                else:
                    table = measure_objects(labels, **options)
            ctc = self._ctc_tracks(labels, axes) if "ctc" in kinds else None
        except ValueError as exc:
            show_error(f"Export: nothing written; cannot export '{layer.name}': {exc}")
            self.status_label.setText(f"Nothing written: {exc}")
            return []

        if make_folder is not None:
            try:
                make_folder.mkdir()
            except OSError as exc:
                message = f"cannot make the folder {make_folder}: {exc.strerror or exc}"
                show_error(f"Export: nothing written; {message}")
                self.status_label.setText(f"Nothing written: {message}.")
                return []
        written: list[Path] = []
        reproduces = True
        new = {o.path for o in outputs if not o.path.exists()}  # removed again on a failure
        # the recipe last: it names the files written before it
        for output in sorted(outputs, key=lambda o: o.kind == "recipe"):
            try:
                if output.kind == "tiff":
                    write_labels(output.path, labels, axes, pixel_size, unit, overwrite)
                elif output.kind == "stack":
                    assert stack is not None
                    write_mask_stack(
                        output.path, stack.masks, overwrite, pixel_size=pixel_size, unit=unit
                    )
                elif output.kind == "zarr":
                    write_zarr_labels(output.path, labels, axes, pixel_size, unit, overwrite)
                elif output.kind == "csv":
                    assert table is not None
                    write_csv(output.path, table, overwrite)
                elif output.kind == "ctc":
                    with warnings.catch_warnings():  # its notes go in the status line
                        warnings.simplefilter("ignore", UserWarning)
                        write_ctc(labels, None, output.path, overwrite, tracks=ctc)
                else:
                    recipe, reproduces = self._recipe_to_write(outputs, stack, labels)
                    write_json(output.path, recipe, overwrite)
            except Exception as exc:  # any failure: say which file, keep the widget usable
                show_error(f"Export: {_write_error(exc, output.path)}")
                kept = self._remove_new(written, new)
                if make_folder is not None and not kept:
                    try:
                        make_folder.rmdir()  # (only when empty)
                    except OSError:
                        pass
                done = f"; kept {', '.join(p.name for p in kept)} (overwritten)" if kept else ""
                self.status_label.setText(f"Failed on {output.path}; nothing else written{done}.")
                return []
            written.append(output.path)

        order = [o.path for o in outputs]
        written.sort(key=order.index)
        folder = written[0].parent
        names = [p.name for p in written]
        if table is not None:
            names[kinds.index("csv")] += f" ({len(table['label'])} objects)"
        if stack is not None:
            names[kinds.index("stack")] += f" ({len(stack.ids)} whole objects: {stack.source})"
        message = f"Wrote {', '.join(names)} to {folder}"
        if make_folder is not None:
            message += " (a new folder)"
        if stack is not None and table is not None:
            message += "; the CSV measures each object whole (the stack)"
        if skipped_recipe:
            message += f"; no recipe ('{layer.name}' was not made by Segment)"
        if unit_note and any(o.kind in ("tiff", "zarr", "csv") for o in outputs):
            message += f"; {unit_note} (set the layer's units to say otherwise)"
        if ctc is not None and ctc.notes():
            message += "; CTC: " + "; ".join(ctc.notes())
        if "recipe" in kinds and not reproduces:
            message += (
                f". The labels were changed after '{layer.name}' was segmented (by hand, or a "
                "Tune preview not applied to all): the recipe makes them as they were before"
            )
            show_info(f"Export: {message}.")
        self.status_label.setText(message + ".")
        return written

    @staticmethod
    def _remove_new(written: list[Path], new: set[Path]) -> list[Path]:
        """After a failure: remove the outputs this export wrote that were not there before;
        returns those it replaced (with Overwrite), which stay."""
        import shutil

        for path in written:
            if path in new:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        return [path for path in written if path not in new]

    def _is_time_lapse(self) -> bool:
        from tessella._io import labels_axes

        layer = self.labels_layer
        if layer is None:
            return False
        try:
            return "T" in labels_axes(layer.ndim, layer.metadata, layer.axis_labels)
        except ValueError:
            return False

    def _ctc_tracks(self, labels: np.ndarray, axes: str):
        """What the CTC folder will hold (maskTTT.tif, res_track.txt), with divisions from the
        layer's recorded lineage, its Tracks layer or its result; tracks that skip frames (a
        cell erased from a frame) are split at the gaps. ValueError when it cannot be
        written."""
        from tessella.engine.tracking import ctc_tracks

        if axes != "TYX":
            raise ValueError(f"CTC export needs 2D frames over time (TYX), not {axes}")
        tracks = _results.tracks_layer(self.viewer, self.labels_layer)
        result = _results.get(self.labels_layer)
        lineage = {}
        recorded = _results.lineage_on_screen(self.labels_layer)  # after Ctrl+Z too
        if recorded is not None:
            lineage = recorded
        elif tracks is not None:  # every division drawn, those Correct hid for now included
            lineage = tracks.metadata.get(_results.LINEAGE_KEY) or {
                int(c): int(p[0]) for c, p in tracks.graph.items() if p
            }
        elif result is not None and result.lineage:
            lineage = dict(result.lineage)
        return ctc_tracks(labels, lineage)

    def _intensity(self) -> np.ndarray | None:
        layer = self.image_layer
        if layer is None:
            return None
        return np.asarray(layer.data[0] if layer.multiscale else layer.data)

    def _confidence(self, layer: Labels, labels: np.ndarray) -> np.ndarray | None:
        """The network's confidence map behind ``layer`` (stacked over time), if any."""
        result = _results.get(layer)
        return None if result is None else _results.confidence_map(result, labels.shape)

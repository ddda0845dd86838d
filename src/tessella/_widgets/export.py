"""The Export dock widget: labels as TIFF, zarr and OME-Zarr, objects that overlap as a mask stack,
measurements as CSV, the recipe as JSON, tracks in the Cell Tracking Challenge format.

Every file is written atomically by :mod:`tessella.engine.io`; nothing is written when any
target already exists and "Overwrite existing files" is off, nor when any output cannot be
made (each is checked before the first is written). The measurements come from
:func:`tessella.engine.measure.measure_objects`, so a script gets the same table. The file an
image was read from is hashed for the recipe's ``input_identity`` in a worker, before the
outputs are written, and only while it is the file read (Export's button is Cancel meanwhile).
Labels on disk (a zarr-backed blockwise result) and labels in memory of more than
:data:`~._export_write.WORKER_PIXELS` are read, measured and written in a worker too, once
every refusal has been said (the progress bar counts the steps, and for labels on disk the
pieces read, all passes together; Cancel stops after the step it is in, or for labels on
disk before the next piece, and removes what the export wrote); smaller ones at once, by
the same steps. Labels on disk are never read whole: every output but a mask stack is
written from them a piece at a time (:mod:`._export_lazy`); a mask stack, whose masks are
each of the image's size, is not offered for them (its tooltip says why).

The mask stack's default (ticked where the chosen labels' objects overlap) follows hand edits
of the labels (painting, Correct, Ctrl+Z): :data:`STACK_RECHECK_MS` after the last change,
and again when Export is pressed. Checking costs about 15-40 ms on a 520x696 worms image,
too much for every step of a brush stroke on the GUI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Image, Labels
from qtpy.QtCore import QTimer, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from . import _results
from ._export_lazy import STACK_REFUSAL, is_on_disk
from ._export_outputs import (
    CTC_TIP,
    FIRST_FRAME_TIP,
    OUTPUT_SUFFIXES,
    ExportOutputs,
    base_path,
    is_recorded_input,
    recorded_input,
)
from ._export_write import ExportWriting
from ._layers import LayerWatcher, fill_layer_combo, find_layer
from ._layout import panel_layout, status_label
from ._object_stack import (
    _Stack,
    has_read_stack,
    measure_stack,
    network_instances,
    network_stack,
    object_stack,
    overlaps_layer,
    read_stack,
)
from .segment import RECIPE_KEY, SOURCE_ID_KEY, SOURCE_KEY

if TYPE_CHECKING:
    import napari.viewer
    from superqt.utils import WorkerBase

__all__ = ["ExportWidget", "OUTPUT_SUFFIXES", "STACK_RECHECK_MS", "base_path", "measure_stack"]

#: the mask stack's default is checked again this long after the last edit of the labels
STACK_RECHECK_MS = 250

#: the tooltip of Export's "Length along the skeleton" option
LENGTH_TIP = (
    "Adds length_px (and length_um... with a pixel size) to the CSV: each 2D object's length "
    "along its skeleton, as 'tessella segment --csv' measures it (worms: each whole, from "
    "the mask stack). Ticked by default for a model's worms (worms2d), off for other labels: "
    "it costs about 0.6 ms an object in memory, 1.5 ms on disk, each object's box read on its "
    "own (a 4096² result of 8256 nuclei: 13 s instead of 0.6 s)"
)

#: the Intensity box's tooltip (then why its image was chosen, or none)
INTENSITY_TIP = "Image whose mean intensity per object goes in the CSV"

#: the OME-Zarr labels option's tooltip
OME_ZARR_TIP = (
    "A standalone OME-Zarr labels image (NGFF 0.4: one scale level, axes with their units, "
    "the pixel size as its scale), whose voxel size neuroglancer, webknossos and "
    "napari-ome-zarr read; Tessella reopens it as labels, with its recipe"
)

#: the mask stack's tooltip where the labels' objects overlap
STACK_TIP = (
    "Objects that overlap (e.g. crossing worms): one 0/1 mask per object, (N, Y, X), as "
    "'tessella segment --stack' writes ('tessella evaluate --overlapping' reads it); "
    "the CSV then measures each object whole, hidden parts included"
)


def _fits(image, labels) -> bool:
    """Whether ``image`` can give ``labels``' objects their mean intensity (same pixels; an RGB
    image's colour axis aside)."""
    if image is None:
        return False
    shape = tuple(image.data.shape[: labels.ndim])
    return shape == tuple(labels.data.shape) and (image.ndim == labels.ndim or image.rgb)


def _mebibytes(size: int) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{max(size // 2**20, 1)} MiB"


def _listed(names: list[str], most: int = 3) -> str:
    shown = ", ".join(f"'{name}'" for name in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _described_by(layer) -> list:
    """The events of ``layer`` that change what its labels are: its axis names (napari 0.5
    and later) and its metadata (the recipe)."""
    events = layer.events
    return [getattr(events, name) for name in ("axis_labels", "metadata") if hasattr(events, name)]


class ExportWidget(ExportOutputs, ExportWriting, LayerWatcher, QWidget):
    """Export a labels layer, its measurements and its recipe next to each other."""

    #: the files an export wrote, at its end (none when refused, failed or cancelled); an
    #: export whose input file is hashed first ends after :meth:`export` returns
    exported = Signal(list)

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer

        self.labels_combo = QComboBox()
        self.image_combo = QComboBox()
        self.image_combo.setToolTip(INTENSITY_TIP)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("folder/name (no extension)")
        self.path_edit.setToolTip(
            "Outputs are named after this: name.tif, name.zarr, name.ome.zarr, name.csv, "
            "name.recipe.json (a name typed with .ome.zarr ticks the OME-Zarr labels)"
        )
        self.browse_button = QPushButton("Browse…")
        self.tiff_checkbox = QCheckBox("Labels as TIFF (.tif, with pixel size)")
        self.tiff_checkbox.setChecked(True)
        self.stack_checkbox = QCheckBox("Overlapping objects whole, as a mask stack (.stack.tif)")
        self.stack_checkbox.setToolTip(STACK_TIP)
        self.zarr_checkbox = QCheckBox("Labels as zarr (.zarr)")
        self.zarr_checkbox.setToolTip(
            "A zarr array with Tessella's attributes (axes, pixel size), which Tessella "
            "reopens; other tools see no voxel size: tick OME-Zarr for them"
        )
        self.ome_zarr_checkbox = QCheckBox("Labels as OME-Zarr (.ome.zarr, with voxel size)")
        self.ome_zarr_checkbox.setToolTip(OME_ZARR_TIP)
        self.csv_checkbox = QCheckBox("Measurements (.csv)")
        self.csv_checkbox.setChecked(True)
        self.csv_checkbox.setToolTip(
            "One row per object: size, centroid, bounding box, mean intensity, mean confidence"
        )
        # the CSV's length_px (length_<unit>): ticked by default for worms
        # (_update_length_checkbox), indented under Measurements as its part
        self.length_checkbox = QCheckBox("Length along the skeleton (2D objects)")
        self._length_row = QWidget()
        length_row = QHBoxLayout(self._length_row)
        length_row.setContentsMargins(20, 0, 0, 0)
        length_row.addWidget(self.length_checkbox)
        length_row.addStretch(1)
        self.ctc_checkbox = QCheckBox("Tracks, Cell Tracking Challenge format (_RES folder)")
        self.ctc_checkbox.setToolTip(CTC_TIP)
        # the movie's number of its first frame, for labels that record no frame numbers
        # (a TYX stack, labels not read from t052.tif ...): shown only for those, CTC ticked
        self.first_frame_spin = QSpinBox()
        self.first_frame_spin.setRange(0, 99999)
        self.first_frame_spin.setToolTip(FIRST_FRAME_TIP)
        self._first_frame_row = QWidget()
        first_frame = QHBoxLayout(self._first_frame_row)
        first_frame.setContentsMargins(20, 0, 0, 0)  # (under the CTC option, as its part)
        first_frame.addWidget(QLabel("First frame number"))
        first_frame.addWidget(self.first_frame_spin)
        first_frame.addStretch(1)
        self._first_frame_row.setVisible(False)
        self.recipe_checkbox = QCheckBox("Recipe (.recipe.json)")
        self.recipe_checkbox.setChecked(True)
        self.overwrite_checkbox = QCheckBox("Overwrite existing files")
        self.export_button = QPushButton("Export")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip(
            "Stop the export after the step it is in (labels on disk: before the next piece "
            "it reads): the files it wrote are removed"
        )
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("")  # "%v / %m: writing name.tif" while a worker writes
        self.progress_bar.setValue(0)
        self.status_label = status_label("Ready")  # (laid out as soon as it is set)

        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Labels", self.labels_combo)
        form.addRow("Intensity", self.image_combo)
        form.addRow("Save as", path_row)
        layout, footer = panel_layout(self)  # the choices scroll; Export and status stay
        self._choices = layout.parentWidget()  # locked while the input file is hashed
        layout.addLayout(form)
        for checkbox in (
            self.tiff_checkbox,
            self.stack_checkbox,
            self.zarr_checkbox,
            self.ome_zarr_checkbox,
            self.csv_checkbox,
            self._length_row,
            self.ctc_checkbox,
            self._first_frame_row,
            self.recipe_checkbox,
            self.overwrite_checkbox,
        ):
            layout.addWidget(checkbox)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        footer.addLayout(buttons)
        footer.addWidget(self.progress_bar)
        footer.addWidget(self.status_label)

        self.labels_combo.currentIndexChanged.connect(self._on_labels_changed)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.path_edit.textEdited.connect(self._follow_typed_suffix)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.ctc_checkbox.toggled.connect(self._update_first_frame)
        self.csv_checkbox.toggled.connect(self._update_length_checkbox)
        #: hashing the input file for the recipe, or writing labels on disk or big ones
        self.worker: WorkerBase | None = None
        self._writing = None  # what the worker writes (_export_write._Plan), while it does
        # (labels id, image id or None, why): the Intensity image offered for those labels,
        # while it is the one chosen (_offer_intensity)
        self._intensity_offer: tuple[str, str | None, str] | None = None
        self._stack_state: tuple | None = None  # (layer, stack possible, overlaps) last seen
        self._length_state: tuple | None = None  # (layer, its default) last seen
        self._edits_heard: Labels | None = None  # the labels layer whose edits are followed
        self._stack_timer = QTimer(self, singleShot=True, interval=STACK_RECHECK_MS)
        self._stack_timer.timeout.connect(self._update_stack_checkbox)
        # the CTC option follows edits too (Ctrl+Z back to unlinked labels, IDs linked by hand)
        self._ctc_timer = QTimer(self, singleShot=True, interval=STACK_RECHECK_MS)
        self._ctc_timer.timeout.connect(self._update_ctc_checkbox)
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
        elif self._offered_image_chosen() and self.labels_layer is not None:
            # (an image opened after the labels, e.g. the one their recipe names: offered
            # again, unless another was chosen by hand meanwhile)
            self._offer_intensity(self.labels_layer)
        self._update_recipe_checkbox()
        self._update_stack_checkbox()
        self._update_length_checkbox()
        self._update_ctc_checkbox()

    def _on_results_changed(self, layer_id) -> None:
        self._update_stack_checkbox()
        self._update_length_checkbox()
        self._update_ctc_checkbox()

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
        """Offer the image the labels were made from for the intensities."""
        layer = self.labels_layer
        if layer is not None:
            self._offer_intensity(layer)
        self.first_frame_spin.setValue(0)  # (another movie's first frame is not this one's)
        self._hear_edits_of(layer)
        self._update_recipe_checkbox()
        self._update_stack_checkbox()
        self._update_length_checkbox()
        self._update_ctc_checkbox()

    def _offer_intensity(self, layer: Labels) -> None:
        """Choose the Intensity image for ``layer``: the image Segment made it from (even
        renamed; none where it is gone, never a look-alike); for labels read from a file,
        the image their recipe names (``input``, ``input_identity``: a ``tessella segment``
        output), none where that is not open; for labels that name none, the only open image
        of their shape, a guess said as such, and none where several have it (never the
        first of them: a lab's images often all have the camera's size). Why is kept for the
        tooltip and the status line (:meth:`_intensity_said`)."""
        images = [
            (i, find_layer(self.viewer, self.image_combo.itemData(i)))
            for i in range(1, self.image_combo.count())
        ]
        fitting = [(i, im) for i, im in images if im is not None and _fits(im, layer)]
        source, source_id = layer.metadata.get(SOURCE_KEY), layer.metadata.get(SOURCE_ID_KEY)
        named, identity = recorded_input(layer.metadata.get(RECIPE_KEY))
        why = ""
        if source_id is not None or source:
            if source_id is not None:  # made by Segment: that image, even renamed, or none
                ours = [im for _i, im in images if im is not None and im.unique_id == source_id]
            else:  # (labels from before the id was recorded: by name)
                ours = [im for _i, im in images if im is not None and im.name == source]
            found = [(i, im) for i, im in fitting if im.unique_id in {o.unique_id for o in ours}]
            if not found:
                what = f"'{ours[0].name}'" if ours else f"('{source}')"
                not_there = "does not have the labels' shape" if ours else "is not open"
                why = f"the image they were segmented from {what} {not_there}"
        elif named or identity is not None:  # the input their recipe names, or none
            found = [(i, im) for i, im in fitting if is_recorded_input(im, named, identity)]
            what = named or "the file its input_identity records"
            if found:
                why = f"the image their recipe names ({what})"
            else:
                why = (
                    f"the image their recipe names ({what}) is not open (open it, or choose "
                    "one under Intensity)"
                )
        elif len(fitting) == 1:
            found = fitting
            why = (
                "a guess: the only open image of the labels' shape (they name none they "
                "were made from)"
            )
        else:
            found = []
            if fitting:
                names = [im.name for _i, im in fitting]
                why = (
                    f"{len(fitting)} open images have the labels' shape ({_listed(names)}) "
                    "and the labels name none of them: choose one under Intensity"
                )
        index, chosen = found[0] if found else (0, None)
        self.image_combo.setCurrentIndex(index)  # never another image's intensities unsaid
        chosen_id = None if chosen is None else chosen.unique_id
        self._intensity_offer = (layer.unique_id, chosen_id, why)
        self.image_combo.setToolTip(f"{INTENSITY_TIP} ({why})" if why else INTENSITY_TIP)

    def _offered_image_chosen(self) -> bool:
        """Whether the Intensity image chosen is the one offered for the labels chosen."""
        offer, layer = self._intensity_offer, self.labels_layer
        return (
            offer is not None
            and layer is not None
            and offer[0] == layer.unique_id
            and offer[1] == self.image_combo.currentData()
        )

    def _intensity_said(self, image: Image | None) -> str:
        """What the status line says of the CSV's mean intensity: the image measured (or
        none), and why where it was offered for a reason the user may not expect."""
        offer = self._intensity_offer
        why = offer[2] if offer is not None and self._offered_image_chosen() else ""
        if image is None:
            if why:
                return f"no mean intensity: {why}"
            layer = self.labels_layer
            images = [im for im in self.viewer.layers if isinstance(im, Image)]
            if layer is None or not any(_fits(im, layer) for im in images):
                return ""  # (no image could give it)
            return "no mean intensity (Intensity: none)"
        said = f"mean intensity of '{image.name}'"
        return f"{said}, {why}" if why else said

    def _hear_edits_of(self, layer: Labels | None) -> None:
        """Follow the edits of ``layer`` (only): painting and Correct (``paint``), new data
        (``data``), and Ctrl+Z, which only redraws it (``set_data``); and what says whether
        they are frames with tracks (its axis names, its recipe in ``metadata``)."""
        if layer is self._edits_heard:
            return
        self._stop_hearing_edits()
        if layer is not None:
            for emitter in (layer.events.paint, layer.events.data, layer.events.set_data):
                emitter.connect(self._on_labels_edited)
            for emitter in _described_by(layer):
                emitter.connect(self._on_labels_described)
        self._edits_heard = layer

    def _stop_hearing_edits(self) -> None:
        self._stack_timer.stop()
        self._ctc_timer.stop()
        layer, self._edits_heard = self._edits_heard, None
        if layer is not None:
            for emitter in (layer.events.paint, layer.events.data, layer.events.set_data):
                emitter.disconnect(self._on_labels_edited)
            for emitter in _described_by(layer):
                emitter.disconnect(self._on_labels_described)

    def _layer_removed(self, layer) -> None:
        if layer is self._edits_heard:
            self._stop_hearing_edits()

    # Only labels and images are Export's business: a layer of another kind coming or going
    # (the "selected objects" marks Correct adds while a worm is edited, a region drawn)
    # leaves its choices as they are, and the mask stack's default unscanned while editing
    def _on_layer_inserted(self, event) -> None:
        event.value.events.name.connect(self._refresh_layers)
        if isinstance(event.value, (Labels, Image)):
            self._refresh_layers()

    def _on_layer_removed(self, event) -> None:
        event.value.events.name.disconnect(self._refresh_layers)
        self._layer_removed(event.value)
        if isinstance(event.value, (Labels, Image)):
            self._refresh_layers()

    def _on_labels_edited(self, event=None) -> None:
        """The chosen labels changed (or were redrawn): check the mask stack's default once
        the edits pause, where a stack can be written (else nothing there depends on them)."""
        if self._stack_state is not None and self._stack_state[1]:
            self._stack_timer.start()
        layer = self._edits_heard
        # whether Segment's movie labels have tracks may change with an edit (a Ctrl+Z back
        # to labels made with link off, IDs linked by hand); other labels' offer does not
        if layer is not None and layer.ndim == 3:
            if RECIPE_KEY in layer.metadata or _results.get(layer) is not None:
                self._ctc_timer.start()

    def _on_labels_described(self, event=None) -> None:
        """The chosen labels' axis names or metadata changed: offer CTC as they now say."""
        self._ctc_timer.start()

    # --- objects that overlap ---------------------------------------------------------------

    def _overlaps_layer(self) -> Labels | None:
        """The "overlaps" layer beside the chosen labels (:func:`overlaps_layer`)."""
        layer = self.labels_layer
        return None if layer is None else overlaps_layer(self.viewer, layer)

    def _can_stack(self) -> bool:
        """Whether a mask stack can be written: 2D labels whose objects may overlap (a result
        of a method that keeps them, an "overlaps" layer beside the labels, or a mask stack
        the reader opened them from)."""
        layer = self.labels_layer
        if layer is None or layer.multiscale or layer.ndim != 2:
            return False
        if is_on_disk(layer.data):  # (STACK_REFUSAL: never read whole for it)
            return False
        return (
            self._overlaps_layer() is not None
            or network_instances(layer) is not None
            or has_read_stack(layer)  # (its overlaps layer may have been closed)
        )

    def _overlapping(self, layer: Labels) -> tuple[int, int]:
        """``(overlapping, objects)``: how many objects of the 2D ``layer`` share pixels with
        another in the stack :meth:`_object_stack` writes, and how many it holds."""
        labels = np.asarray(layer.data)
        found = network_instances(layer)
        try:
            stack = None if found is None else network_stack(layer, labels, *found)
            stack = read_stack(layer, labels) if stack is None else stack
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
        if is_on_disk(layer.data):
            data = layer.data
            size = _mebibytes(int(np.prod(data.shape[-2:])))  # (each 0/1 mask: a byte a pixel)
            return False, 0, f"No mask stack of '{name}': {STACK_REFUSAL.format(size=size)}"
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

    def _update_length_checkbox(self) -> None:
        """Offer the CSV's length along the skeleton for 2D labels (YX, TYX; a volume has
        none), ticked by default for elongated objects that may overlap (worms2d's result,
        labels with an overlaps layer or read from a mask stack), off for others (round
        nuclei: some 12 times the CSV's time for a number nobody reads; the same for labels
        in memory and on disk); other labels bring back the default. The tooltip says what it
        measures and costs."""
        from tessella._io import labels_axes
        from tessella.engine.axes import spatial_of

        layer = self.labels_layer
        flat = False
        if layer is not None:
            try:
                axes = labels_axes(layer.ndim, layer.metadata, layer.axis_labels)
                flat = spatial_of(axes) == "YX"
            except ValueError:
                flat = False
        elongated = layer is not None and (
            network_instances(layer) is not None
            or has_read_stack(layer)
            or self._overlaps_layer() is not None
        )
        state = (None if layer is None else layer.unique_id, flat and elongated)
        if state != self._length_state:
            self._length_state = state
            self.length_checkbox.setChecked(flat and elongated)
        self.length_checkbox.setEnabled(flat and self.csv_checkbox.isChecked())
        if layer is not None and not flat:
            tip = f"'{layer.name}' is a volume: the length along the skeleton is of 2D objects"
        else:
            tip = LENGTH_TIP
        self.length_checkbox.setToolTip(tip)

    def _object_stack(self, layer: Labels, labels: np.ndarray) -> _Stack:
        """The objects of 2D ``labels`` whole, overlaps kept (:func:`object_stack`)."""
        return object_stack(self.viewer, layer, labels)

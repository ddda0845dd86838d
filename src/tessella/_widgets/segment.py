"""The Segment dock widget: image layer, axes, model, device, tiling, TTA; Run and Cancel.

The widget only reads its controls and drives :func:`tessella.engine.pipeline.segment_steps` in
a napari thread worker, so ``tessella.segment(image, model, axes, tile=..., tta=...)`` gives the
same labels. The engine is imported when the widget is built and torch when a run loads its
model (in the worker thread), never when napari starts.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from napari.layers import Image
from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)
from superqt.utils import GeneratorWorker

from .._io import AXES_GUESSED_KEY, RECIPE_KEY, axes_named  # RECIPE_KEY: what reproduces it
from . import _results
from ._blockwise import BlockwisePreview, blockwise_steps, default_output, is_large
from ._layers import LayerWatcher, fill_layer_combo, find_layer
from ._layout import panel_layout
from ._models import listen as listen_for_models
from ._workers import close_when_finished, report_runtime_errors

if TYPE_CHECKING:
    import napari.viewer

    from tessella.engine.pipeline import SegmentResult
    from tessella.engine.progress import Progress
    from tessella.engine.registry import ModelCard

__all__ = ["SegmentWidget", "guess_layer_axes"]

SOURCE_KEY = "tessella_source"  # output layer metadata: the image layer it was computed from
SOURCE_ID_KEY = "tessella_source_id"  # ... and that layer's unique_id (survives a rename)
#: output layer metadata: ``{"kind": "labels" (or a network map's key), "layer_id": the layer's
#: own unique_id, "result": which model on which axes made it, "name": the name Segment gave
#: it}`` while the layer is the image's current result of that kind from that model, which a
#: new run of the same model replaces (a copy of the layer has another unique_id; a kept edited
#: or renamed result loses the entry)
OUTPUT_KEY = "tessella_output"
#: output labels metadata: True once the user painted or corrected them (Tune's updates are not
#: edits); kept in the layer so that any Segment panel, also one opened later, knows
EDITED_KEY = "tessella_edited"
#: said in a kept blockwise preview's name while a run with other settings was refused
EARLIER_SETTINGS = "earlier settings"
#: image layer metadata: the ``axis_labels`` Segment gave a layer whose axes the reader guessed
AXIS_LABELS_KEY = "tessella_axis_labels"


@report_runtime_errors
def _segment_steps(image: Any, **options) -> Generator[Progress, None, SegmentResult]:
    from tessella.engine.pipeline import segment_steps

    return (yield from segment_steps(image, **options))


def _layer_array(layer: Image):
    """The full-resolution data of an image layer (level 0 of a pyramid)."""
    return layer.data[0] if layer.multiscale else layer.data


def guess_layer_axes(layer: Image) -> str:
    """The axes of an image layer's data, or "" when there is no sensible guess.

    The layer's ``metadata["axes"]`` wins when it names every axis; otherwise RGB -> YXC,
    2D -> YX, 3D -> ZYX, 4D -> TZYX (ZYXC when the last axis has 3 or 4 entries).
    """
    from tessella.engine.axes import guess_axes

    shape = _layer_array(layer).shape
    axes = layer.metadata.get("axes")
    if isinstance(axes, str) and len(axes) == len(shape):
        return axes.upper()
    try:
        return guess_axes(shape, rgb=bool(layer.rgb))
    except ValueError:
        return ""


def _spatial_transform(layer: Image, axes: str) -> tuple[tuple, tuple, tuple]:
    """The layer's scale, translate and units on the axes the labels keep (all but C)."""
    # napari gives an RGB layer no dimension for its colour axis
    layer_axes = axes.replace("C", "") if layer.rgb else axes
    if len(layer_axes) == layer.ndim:
        keep = [i for i, axis in enumerate(layer_axes) if axis != "C"]
    else:  # the engine rejects these axes; the transform is never used
        keep = list(range(layer.ndim))
    units = tuple(layer.units[i] for i in keep)
    return tuple(np.asarray(layer.scale)[keep]), tuple(np.asarray(layer.translate)[keep]), units


def _watch_edits(layer) -> None:
    """Note in ``layer``'s metadata (:data:`EDITED_KEY`) when the user paints or corrects it:
    painting, filling and Correct's edits all go through the layer's undo history, which emits
    ``paint``; so do Tune's updates, which are told apart. The layer holds the callback, which
    finds the layer in the event (a plugin sees the layer through a proxy made for each call,
    which a callback must not keep)."""

    def on_paint(event) -> None:
        painted = getattr(event, "source", None)
        if painted is None or _results.tool_is_writing(painted.unique_id):
            return
        if not painted.metadata.get(EDITED_KEY):
            painted.metadata = {**painted.metadata, EDITED_KEY: True}

    layer.events.paint.connect(on_paint)


def _is_output(layer, image_id, kind: str, result_key: dict | None = None) -> bool:
    """Whether ``layer`` is the current ``kind`` result Segment placed for image ``image_id``
    (with ``result_key``: made by that model on those axes, :func:`_result_key`)."""
    mark = layer.metadata.get(OUTPUT_KEY)
    return (
        isinstance(mark, dict)
        and mark.get("kind") == kind
        and mark.get("layer_id") == layer.unique_id
        and layer.metadata.get(SOURCE_ID_KEY) == image_id
        and (result_key is None or mark.get("result") == result_key)
    )


def _result_key(card: ModelCard, axes: str) -> dict:
    """What makes results of one kind: the model (its name and weights) and the image's axes
    (a stack read as a volume or as frames gives a different result)."""
    return {"model": card.name, "model_sha256": card.sha256, "axes": axes}


def _renamed(layer) -> bool:
    """Whether the user renamed a result layer since Segment placed it: a result to keep."""
    mark = layer.metadata.get(OUTPUT_KEY)
    return isinstance(mark, dict) and mark.get("name") not in (None, layer.name)


def _unmark(layer) -> None:
    """``layer`` is no longer the result a new run replaces (the user's to keep)."""
    layer.metadata = {k: v for k, v in layer.metadata.items() if k != OUTPUT_KEY}


@dataclass(frozen=True)
class _Run:
    """Where a run's result goes, fixed when Run is clicked."""

    layer_id: str
    name: str
    scale: tuple
    translate: tuple
    units: tuple
    show_outputs: bool
    started: float
    tuned: bool = False  # the previous result's (tuned) parameters were kept
    #: the model and axes (:func:`_result_key`): the result of the same ones is replaced
    result_key: dict | None = None


def _smallest_tile(card: ModelCard) -> int:
    """The smallest tile the Segment panel offers for the card's model: its halo on both
    sides, a blending ramp as wide, and a core of twice the halo (at least one step of the
    network's size multiple, 2 ** (levels - 1) for our U-Nets), rounded up to that multiple.
    A tile steps by its core, so a core of one multiple (16 px for nuclei2d's 112-px tile)
    made a 1024² image thousands of tiles, each predicted mostly for its halo."""
    halo = int(card.defaults.get("halo", 32))
    features = card.raw.get("architecture", {}).get("args", {}).get("features") or [0] * 5
    multiple = 2 ** (len(features) - 1)
    return -(-(3 * halo + max(2 * halo, multiple)) // multiple) * multiple


class SegmentWidget(LayerWatcher, QWidget):
    """Segment an image layer with an instance segmentation model.

    The result is a Labels layer named ``"<image> labels"`` with the image's scale and
    translate and the recipe in its metadata. Running the same model again on the same image
    (and axes) replaces the data of the layer Segment made for it with that model (if it
    still exists; found by its metadata, so also after the panel was closed and opened again),
    unless the user has painted or corrected that layer since: then it is kept and a new layer
    is added (or it is replaced when "Replace edited results" is on). Another model adds its
    own layer, named after it (``"<image> labels (em-mito3d)"``), so results can be compared.
    A result the user renamed is kept. Other layers, copies of a result included, are never
    touched.
    """

    #: emitted after every run (done, failed or cancelled) once the controls are usable again
    run_finished = Signal()

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        from tessella.engine.axes import SUPPORTED_AXES
        from tessella.engine.device import DEVICE_CHOICES

        self.viewer = napari_viewer
        self.worker: GeneratorWorker | None = None
        self._run: _Run | None = None  # the run in progress
        self._cards: dict[str, ModelCard] = {}  # model folder -> card
        self._preview: BlockwisePreview | None = None  # the blockwise run in progress

        self.layer_combo = QComboBox()
        self._time_preferred = False  # the Axes show TYX because a time-lapse model asked
        self.axes_combo = QComboBox()
        self.axes_combo.setEditable(True)
        self.axes_combo.addItems(SUPPORTED_AXES)
        self.axes_combo.setToolTip("What each axis of the image is (C: channel, T: time)")
        self.model_combo = QComboBox()
        self.load_model_button = QPushButton("Load model…")
        self.load_model_button.setToolTip(
            "Add a model: its card.json (beside model.safetensors) or a bioimage.io package"
        )
        self.device_combo = QComboBox()
        self.device_combo.addItems(DEVICE_CHOICES)
        self.tile_spin = QSpinBox()
        self.tile_spin.setRange(32, 8192)
        self.tile_spin.setSingleStep(32)
        self.tile_spin.setSuffix(" px")
        self.tile_spin.setToolTip(
            "Edge of the windows the network sees; smaller uses less memory but is slower "
            "(each window also computes its halo: near the minimum most of the work is halo, "
            "tens of times slower). The default is the model's, reduced when the device's "
            "free memory is short"
        )
        self.invert_combo = QComboBox()
        for text, value in (
            ("As the model says", None),
            ("Invert (dark objects on a bright field)", True),
            ("Keep as they are", False),
        ):
            self.invert_combo.addItem(text, value)
        self.invert_combo.setToolTip(
            "How the image's intensities reach the network. nuclei2d inverts bright-background "
            "images (brightfield, H&E) itself; choose Invert or Keep where it guesses wrong, or "
            "Invert to show dark objects to a model trained on bright ones"
        )
        self.tta_checkbox = QCheckBox("Test-time augmentation")
        self.tta_checkbox.setToolTip("Average over flips and rotations: better, 4-8x slower")
        self.outputs_checkbox = QCheckBox("Show network outputs")
        self.outputs_checkbox.setToolTip(
            "Also add the network's maps (seed map, boundary or foreground probability) as "
            "image layers"
        )
        self.blockwise_checkbox = QCheckBox("Blockwise into zarr (bigger than memory)")
        self.blockwise_checkbox.setToolTip(
            "Segment block by block into a zarr on disk, stitching objects across blocks; "
            "resumable: Run again after a cancel continues"
        )
        self.blockwise_edit = QLineEdit()
        self.blockwise_edit.setPlaceholderText("output .zarr")
        self.block_spin = QSpinBox()
        self.block_spin.setRange(64, 16384)
        self.block_spin.setSingleStep(256)
        self.block_spin.setValue(2048)
        self.block_spin.setSuffix(" px blocks")
        self.replace_edited_checkbox = QCheckBox("Replace edited results")
        self.replace_edited_checkbox.setToolTip(
            "Off: a result layer you painted or corrected is kept and a new layer is added"
        )
        self.run_button = QPushButton("Run")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("")  # "%v / %m tiles" once a run starts
        self.progress_bar.setValue(0)
        self.status_label = QLabel("Ready")
        self.status_label.setWordWrap(True)

        model_row = QHBoxLayout()
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.load_model_button)
        form = QFormLayout()
        form.addRow("Image", self.layer_combo)
        form.addRow("Axes", self.axes_combo)
        form.addRow("Model", model_row)
        form.addRow("Device", self.device_combo)
        form.addRow("Tile size", self.tile_spin)
        form.addRow("Intensities", self.invert_combo)
        form.addRow(self.tta_checkbox)
        form.addRow(self.outputs_checkbox)
        form.addRow(self.replace_edited_checkbox)
        form.addRow(self.blockwise_checkbox)
        self.blockwise_row = QWidget()
        blockwise_layout = QHBoxLayout(self.blockwise_row)
        blockwise_layout.setContentsMargins(0, 0, 0, 0)
        blockwise_layout.addWidget(self.blockwise_edit, 1)
        blockwise_layout.addWidget(self.block_spin)
        form.addRow(self.blockwise_row)
        self.blockwise_row.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout, footer = panel_layout(self)  # the form scrolls; Run and the status stay
        layout.addLayout(form)
        layout.addStretch(1)
        footer.addLayout(buttons)
        footer.addWidget(self.progress_bar)
        footer.addWidget(self.status_label)

        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self.axes_combo.currentTextChanged.connect(self._name_layer_axes)
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self.device_combo.currentIndexChanged.connect(self._on_model_changed)
        self.load_model_button.clicked.connect(self._on_load_model_clicked)
        self.run_button.clicked.connect(self._on_run_clicked)
        self.blockwise_checkbox.toggled.connect(self.blockwise_row.setVisible)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self._watch_layers()

        self._fill_models()
        self._refresh_layers()
        listen_for_models(self, self._on_model_added)

    # --- layers -----------------------------------------------------------------------------

    @property
    def image_layer(self) -> Image | None:
        """The image layer chosen in the combo box."""
        return self._find_layer(self.layer_combo.currentData())

    def _find_layer(self, layer_id: str | None):
        return find_layer(self.viewer, layer_id)

    def _refresh_layers(self, event=None) -> None:
        """List the image layers, keeping the chosen one (else the active one) chosen."""
        images = [layer for layer in self.viewer.layers if isinstance(layer, Image)]
        if fill_layer_combo(self.layer_combo, self.viewer, images):
            self._on_layer_changed(self.layer_combo.currentIndex())

    def _on_layer_changed(self, index: int) -> None:
        layer = self.image_layer
        if layer is not None:
            self.axes_combo.blockSignals(True)  # the layer's dimensions are named once, below
            try:
                self.axes_combo.setCurrentText(guess_layer_axes(layer))
                self._time_preferred = False  # TYX set for a time-lapse model, not by the user
                self._prefer_time_axis()
            finally:
                self.axes_combo.blockSignals(False)
            self._name_layer_axes()
            # lazy (dask, zarr) or huge layers default to blockwise mode, into a zarr beside
            # the layer's file (else in the working folder)
            self.blockwise_checkbox.setChecked(is_large(_layer_array(layer)))
            self.blockwise_edit.setText(str(default_output(layer)))

    # --- models -----------------------------------------------------------------------------

    def _fill_models(self) -> None:
        from tessella.engine.pipeline import DEFAULT_MODEL
        from tessella.engine.registry import list_models

        for card, directory, origin in list_models():
            self._add_model_item(card, directory, origin)
        for index in range(self.model_combo.count()):
            if self._cards[self.model_combo.itemData(index)].name == DEFAULT_MODEL:
                self.model_combo.setCurrentIndex(index)
                break
        self._on_model_changed(self.model_combo.currentIndex())

    def _add_model_item(self, card: ModelCard, directory: Path, origin: str) -> None:
        key = str(Path(directory).resolve())
        self._cards[key] = card
        source = ", bioimage.io package" if card.raw.get("imported_from") else ""
        self.model_combo.addItem(f"{card.name} ({card.method}, {card.spatial_axes}{source})", key)
        self.model_combo.setItemData(
            self.model_combo.count() - 1, f"{origin} model in {key}", Qt.ItemDataRole.ToolTipRole
        )

    def _on_model_added(self, directory) -> None:
        """A model trained in this session: list it, keeping the chosen one."""
        from tessella.engine.registry import ModelError, read_card

        key = str(Path(directory).resolve())
        if key not in self._cards:
            try:
                self._add_model_item(read_card(Path(key)), Path(key), "user")
            except ModelError:
                return

    def add_model(self, directory: str | Path) -> bool:
        """Add the model in ``directory`` (a model folder, its card.json, or a bioimage.io
        package .zip) to the list and choose it; False if it is not one."""
        from tessella.engine.registry import ModelError, find_model, read_card

        try:
            directory = find_model(directory) if Path(directory).is_file() else directory
        except ModelError as exc:
            show_error(f"Cannot use {directory} as a model: {exc}")
            return False
        key = str(Path(directory).resolve())
        if key not in self._cards:
            try:
                card = read_card(Path(key))
            except ModelError as exc:
                show_error(f"Cannot use {directory} as a model: {exc}")
                return False
            self._add_model_item(card, Path(key), "user")
        self.model_combo.setCurrentIndex(self.model_combo.findData(key))
        return True

    def _on_load_model_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Choose a model: its card.json, or a bioimage.io package",
            "",
            "Tessella models (card.json *.zip)",
        )
        if path:
            self.add_model(path)

    def _on_model_changed(self, index: int) -> None:
        card = self._cards.get(self.model_combo.currentData())
        if card is not None:
            self.tile_spin.setMinimum(_smallest_tile(card))
            self.tile_spin.setValue(self._default_tile(card))
            self.tta_checkbox.setChecked(bool(card.defaults.get("tta", False)))
            self._prefer_time_axis()

    def _prefer_time_axis(self) -> None:
        """A time-lapse model reads a 3D stack as frames (TYX), not as a volume (ZYX),
        unless the layer's file named its axes (the reader's guess from the shape alone does
        not count); choosing another model afterwards brings back the axes guessed for the
        layer."""
        card = self._cards.get(self.model_combo.currentData())
        layer = self.image_layer
        if card is None or layer is None:
            return
        current = self.axes_combo.currentText().strip().upper()
        if int(card.input.get("window", 1)) <= 1:
            if self._time_preferred and current == "TYX":
                self.axes_combo.setCurrentText(guess_layer_axes(layer))
            self._time_preferred = False
            return
        if not axes_named(layer.metadata) and current == "ZYX":
            self.axes_combo.setCurrentText("TYX")
            self._time_preferred = True

    def _name_layer_axes(self, text: str | None = None) -> None:
        """Name the dimensions of the chosen layer after the Axes (napari's slider says "t"
        once a stack is read as TYX) when the reader only guessed its axes, as long as its
        ``axis_labels`` are the reader's or ones set here: never names the user gave, nor
        those of a file that named its axes."""
        from tessella.engine.axes import SUPPORTED_AXES

        layer = self.image_layer
        if layer is None or not layer.metadata.get(AXES_GUESSED_KEY):
            return
        axes = self.axes_combo.currentText().strip().upper()
        if axes not in SUPPORTED_AXES:  # (also while the user is typing)
            return
        guess = str(layer.metadata.get("axes", "")).upper()
        if layer.rgb:  # napari gives the colour axis no dimension
            axes, guess = axes.replace("C", ""), guess.replace("C", "")
        if len(axes) != layer.ndim:
            return
        wanted = tuple(axes.lower())
        current = tuple(str(label) for label in layer.axis_labels)
        ours = {tuple(guess.lower()), tuple(layer.metadata.get(AXIS_LABELS_KEY) or ())}
        if current == wanted or current not in ours:
            return
        layer.axis_labels = wanted
        layer.metadata = {**layer.metadata, AXIS_LABELS_KEY: list(wanted)}

    def _default_tile(self, card: ModelCard) -> int:
        """The card's tile size, smaller when free memory on the chosen device is short."""
        from tessella.engine.device import suggest_tile

        largest = int(card.defaults.get("tile", 1024))
        features = card.raw.get("architecture", {}).get("args", {}).get("features")
        if not features:
            return largest
        device = self.device_combo.currentText()
        return suggest_tile(features, len(card.spatial_axes), largest, device)

    # --- running ----------------------------------------------------------------------------

    def _on_run_clicked(self) -> None:
        layer = self.image_layer
        model = self.model_combo.currentData()
        if layer is None:
            show_info("Segment: add an image layer first.")
            return
        if model is None:
            show_info("Segment: no model installed; add one with 'Load model…'.")
            return
        if self._run is not None:  # Run is disabled while running; this guards calls from code
            show_info("Segment: a run is in progress; cancel it first.")
            return
        axes = self.axes_combo.currentText().strip().upper()
        scale, translate, units = _spatial_transform(layer, axes)
        if self.blockwise_checkbox.isChecked():
            self._start_blockwise(layer, model, axes, scale, translate, units)
            return
        card = self._cards[model]
        params = self._tuned_params(layer, model, axes)
        self._run = _Run(
            layer.unique_id,
            layer.name,
            scale,
            translate,
            units,
            self.outputs_checkbox.isChecked(),
            time.perf_counter(),
            tuned=params is not None and params != self._default_params(model),
            result_key=_result_key(card, axes),
        )
        # superqt's worker class, not napari's: napari's would also post every error to the
        # notification manager as a traceback, doubling the one-line message shown here.
        worker = create_worker(
            _segment_steps,
            _layer_array(layer),
            model=model,
            params=params,
            axes=axes or None,
            tta=self.tta_checkbox.isChecked(),
            tile=self.tile_spin.value(),
            device=self.device_combo.currentText(),
            invert=self.invert_combo.currentData(),
            name=layer.name,
            spacing=tuple(s for a, s in zip(axes.replace("C", ""), scale) if a in "ZYX"),
            _worker_class=GeneratorWorker,
            _ignore_errors=True,
            _start_thread=False,
        )
        self._connect(worker)
        self.progress_bar.setFormat("%v / %m tiles")
        self.progress_bar.setRange(0, 0)  # busy until the first tile count arrives
        self.status_label.setText(f"'{layer.name}': loading the model…")
        worker.start()

    def _default_params(self, model) -> dict:
        """The card's parameters (without loading the network)."""
        from tessella.engine.methods import get_method
        from tessella.engine.params import make_params, params_to_dict

        card = self._cards[model]
        method = get_method(card.method)
        return params_to_dict(make_params(method.Params, **card.defaults.get("params", {})))

    def _tuned_params(self, layer, model, axes: str) -> dict | None:
        """The parameters of this image's previous result when it came from the same model
        (tuned in Tune, and on screen): a new run (say with TTA) keeps them. None: the card's."""
        card = self._cards.get(model)
        if card is None:
            return None
        previous = self._previous_output(layer.unique_id, "labels", _result_key(card, axes))
        if previous is None:  # (a renamed or edited result still passes on its values)
            return None
        recipe, _reproduces = _results.recipe_on_screen(previous)
        if not recipe or recipe.get("model_sha256") != card.sha256:
            return None
        return recipe.get("params") or None

    def _start_blockwise(self, layer, model, axes, scale, translate, units) -> None:
        out = Path(self.blockwise_edit.text().strip()).expanduser()
        if not out.name.endswith(".zarr"):
            show_error(f"Segment: blockwise output '{out}' must be a .zarr folder.")
            return
        if out.exists():  # a finished result: never replaced from here; offer a free name
            free = next(
                candidate
                for i in range(1, 10_000)
                if not (
                    candidate := out.with_name(f"{out.name[: -len('.zarr')]} [{i}].zarr")
                ).exists()
            )
            self.blockwise_edit.setText(str(free))
            message = (
                f"'{out}' holds an earlier result, which is kept; the output is now "
                f"'{free.name}': Run again to write it there (or delete the old one)."
            )
            show_info(f"Segment: {message}")
            self.status_label.setText(message)
            return
        options = {"scale": scale, "translate": translate, "units": units}
        self._run = _Run(
            layer.unique_id, layer.name, scale, translate, units, False, time.perf_counter()
        )
        from tessella.engine.blockwise import blockwise_support

        graph = blockwise_support(self._cards[model].method).stitch == "graph"
        self._preview = BlockwisePreview(
            self.viewer, out, f"{layer.name} labels", options, superpixels=graph
        )
        worker = create_worker(
            blockwise_steps,
            _layer_array(layer),
            out,
            model=model,
            axes=axes or None,
            block=self.block_spin.value(),
            tta=self.tta_checkbox.isChecked(),
            tile=self.tile_spin.value(),
            device=self.device_combo.currentText(),
            invert=self.invert_combo.currentData(),
            _worker_class=GeneratorWorker,
            _ignore_errors=True,
            _start_thread=False,
        )
        self._connect(worker)
        self.progress_bar.setFormat("%v / %m blocks")
        self.progress_bar.setRange(0, 0)
        self.status_label.setText(f"'{layer.name}': blockwise into {out}…")
        worker.start()

    def _connect(self, worker) -> None:
        close_when_finished(worker)  # first: Cancel then leaves no suspended generator
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        worker.warned.connect(self._on_warned)
        worker.aborted.connect(self._on_aborted)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self._set_running(True)

    def _on_cancel_clicked(self) -> None:
        if self.worker is not None:
            self.worker.quit()  # takes effect at the engine's next yield (after this tile)
        self.cancel_button.setEnabled(False)
        if self._preview is not None:  # the bar counts blocks; the one in progress is dropped
            self.status_label.setText(
                "Cancelling: finished blocks are kept, the block in progress is redone by the "
                "next Run…"
            )
        else:
            self.status_label.setText("Cancelling after the current tile…")

    def _panel_closed(self) -> None:
        """The panel was closed: a run in progress stops and adds nothing."""
        if self._run is not None and self.worker is not None:
            self._closed_run = self._run
            self._on_cancel_clicked()
            show_info(f"Segment: the panel was closed; the run on '{self._run.name}' stopped.")

    def _set_running(self, running: bool) -> None:
        for control in (
            self.layer_combo,
            self.axes_combo,
            self.model_combo,
            self.load_model_button,
            self.device_combo,
            self.tile_spin,
            self.invert_combo,
            self.tta_checkbox,
            self.outputs_checkbox,
            self.replace_edited_checkbox,
            self.blockwise_checkbox,
            self.blockwise_edit,
            self.block_spin,
            self.run_button,
        ):
            control.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _on_progress(self, progress: Progress) -> None:
        name = self._run.name
        if self._preview is not None:  # blockwise: progress over blocks
            if progress.stage != "fingerprint":  # past the plan: this run's settings
                self._unmark_earlier_preview()
            if progress.total:
                self.progress_bar.setRange(0, progress.total)
                self.progress_bar.setValue(progress.done)
            if getattr(progress, "region", None) is not None and progress.stage == "segment":
                self._preview.block_done()
            self.status_label.setText(
                f"'{name}': {progress.stage}, {progress.done} of {progress.total}"
            )
            return
        if progress.stage == "predict":
            self.progress_bar.setRange(0, progress.total)
            self.progress_bar.setValue(progress.done)
            self.status_label.setText(
                f"'{name}': predicting, tile {progress.done} of {progress.total}"
            )
        else:
            stage = "post-processing" if progress.stage == "postprocess" else progress.stage
            self.status_label.setText(f"'{name}': {stage}…")

    def _on_returned(self, result: SegmentResult) -> None:
        run = self._run
        if run is not None and run is getattr(self, "_closed_run", None):
            return  # finished as the panel closed: nobody asked for it any more
        if self._preview is not None:  # blockwise: the labels are in the output zarr
            layer = self._preview.finish(
                {SOURCE_KEY: run.name, SOURCE_ID_KEY: run.layer_id, RECIPE_KEY: result.recipe}
            )
            what = "objects"
            if "lineage" in result.recipe and _results.is_linked(result.recipe):
                # a linked movie: tracks from the zarr, frame by frame
                lineage = {int(child): int(parent) for child, parent in result.recipe["lineage"]}
                _results.show_tracks(self.viewer, layer, layer.data, lineage)
                what = "tracks"
            seconds = time.perf_counter() - run.started
            resumed = f", {result.resumed} blocks resumed" if result.resumed else ""
            again = self._preview.started_again.replace(": starting again", ": started again")
            self.status_label.setText(
                f"'{run.name}': {result.n_objects} {what} in {seconds:.1f} s "
                f"({result.n_blocks} blocks{resumed}), written to {result.path}"
                + (f"; {again}" if again else "")
            )
            return
        metadata = {SOURCE_KEY: run.name, SOURCE_ID_KEY: run.layer_id, RECIPE_KEY: result.recipe()}
        labels_layer, replaced = self._place_output(run, "labels", result.labels, metadata)
        _results.note_labels_state(labels_layer, metadata[RECIPE_KEY]["params"], result.lineage)
        _results.register(labels_layer, result, self.viewer.layers)  # for the Tune widget
        if result.lineage is not None:  # a time-lapse method linked the frames
            _results.show_tracks(self.viewer, labels_layer, result.labels, result.lineage)
        if len(result.predictions) == 1 and result.labels.ndim == 2:  # objects may overlap
            from tessella.engine.methods import get_method

            method = get_method(result.model.card.method)
            hidden = _results.overlap_labels(
                method, result.predictions[0], result.params, result.labels
            )
            _results.show_overlaps(self.viewer, labels_layer, hidden)
        if run.show_outputs:  # every single-channel map: seed, boundary, foreground...
            for key in result.predictions[0].arrays:
                output = _results.network_map(result, key, result.labels.shape)
                if output is not None:
                    self._place_output(run, key, output, metadata)
        self.progress_bar.setValue(self.progress_bar.maximum())
        objects = np.unique(result.labels[result.labels > 0]).size
        seconds = time.perf_counter() - run.started
        linked = result.lineage is not None and getattr(result.params, "link", True) is not False
        what = "tracks" if linked else "objects"
        kept = " (with the parameters tuned before)" if run.tuned else ""
        if self._find_layer(run.layer_id) is None:  # removed while the network ran
            kept += "; the image was removed during the run, its labels were kept"
        placed = f"replaced '{labels_layer.name}'" if replaced else f"added '{labels_layer.name}'"
        self.status_label.setText(
            f"'{run.name}': {objects} {what} in {seconds:.1f} s, {placed}{kept}"
        )

    def _previous_output(self, image_id, kind: str, result_key: dict | None = None):
        """The ``kind`` layer Segment placed for image ``image_id`` (with ``result_key``: by
        that model on those axes) and a new run replaces (by any Segment panel of the viewer,
        this one or one closed since), or None."""
        return next(
            (lay for lay in self.viewer.layers if _is_output(lay, image_id, kind, result_key)),
            None,
        )

    def _new_name(self, run: _Run, kind: str) -> str:
        """``"<image> <kind>"``, or with the model's name (``"<image> labels (em-mito3d)"``)
        when a layer of that name holds another model's result, so the names tell apart the
        results of the models compared on one image."""
        name = f"{run.name} {kind}"
        ours = run.result_key or {}
        model = {k: ours.get(k) for k in ("model", "model_sha256")}
        for layer in self.viewer.layers:
            if layer.name != name:
                continue
            recipe = layer.metadata.get(RECIPE_KEY)
            mark = layer.metadata.get(OUTPUT_KEY)
            if isinstance(recipe, dict) and {k: recipe.get(k) for k in model} != model:
                return f"{name} ({ours.get('model')})"
            theirs = mark.get("result") if isinstance(mark, dict) else None
            if isinstance(theirs, dict) and theirs.get("axes") != ours.get("axes"):
                return f"{name} ({ours.get('model')}, {ours.get('axes')})"
        return name

    def _place_output(self, run: _Run, kind: str, data: np.ndarray, metadata: dict):
        """Replace the data of the previous ``kind`` layer the same model made for the image,
        or add one. Returns ``(layer, replaced)``: whether an existing layer was replaced."""
        layer = self._previous_output(run.layer_id, kind, run.result_key)
        if layer is not None and _renamed(layer):  # a result the user named: kept
            _unmark(layer)
            layer = None
        if layer is not None and layer.metadata.get(EDITED_KEY):
            if not self.replace_edited_checkbox.isChecked():
                show_info(f"Segment: kept '{layer.name}', which you edited; added a new layer.")
                _unmark(layer)
                layer = None
        if layer is not None and layer.ndim == data.ndim:
            with _results.writing(layer):  # the new result, not an edit
                layer.data = data
                layer.scale = run.scale
                layer.translate = run.translate
                layer.units = run.units
                kept = {k: v for k, v in layer.metadata.items() if k != EDITED_KEY}
                layer.metadata = {**kept, **metadata}
            return layer, True
        if layer is not None:  # of other dimensions: a new layer takes its place
            _unmark(layer)
        options = {"scale": run.scale, "translate": run.translate, "units": run.units}
        options["metadata"] = metadata
        name = self._new_name(run, kind)
        if kind == "labels":
            layer = self.viewer.add_labels(data, name=name, **options)
            _watch_edits(layer)
        else:
            layer = self.viewer.add_image(
                data, name=name, colormap="magma", blending="additive", **options
            )
        mark = {"kind": kind, "layer_id": layer.unique_id, "result": run.result_key}
        layer.metadata = {**layer.metadata, OUTPUT_KEY: {**mark, "name": layer.name}}
        return layer, False

    def _on_errored(self, exc: Exception) -> None:
        text = str(exc)
        if "; pass overwrite=True" in text:  # the engine's advice is for the command line
            text = text.split("; pass overwrite=True")[0] + (
                "; choose another blockwise output, or Run with the settings it had to resume it "
                "(to start again, delete that hidden folder)"
            )
            text += self._mark_earlier_preview()
        show_error(f"Segment failed on layer '{self._run.name}': {text}")
        self.status_label.setText(f"'{self._run.name}': failed ({text})")

    def _mark_earlier_preview(self) -> str:
        """A run refused because the unfinished run into its output had other settings: the
        preview a cancelled run kept shows blocks made with those settings, not the panel's.
        It is kept (the user may want to look at them before choosing what to do) and its
        name says so, until a run resumes in it (:meth:`_unmark_earlier_preview`). Returns
        the sentence naming it for the message ("" when none is shown)."""
        preview = self._preview
        if preview is None or preview.opened or not preview.is_preview():
            return ""
        layer = preview.layer
        if layer not in self.viewer.layers:
            return ""
        if not layer.name.endswith(f"{EARLIER_SETTINGS})"):  # "x (blocks so far)" ->
            name = layer.name  # "x (blocks so far, earlier settings)"
            mark = f", {EARLIER_SETTINGS})" if name.endswith(")") else f" ({EARLIER_SETTINGS})"
            layer.name = name.removesuffix(")") + mark
        return f"; its blocks so far are shown in '{layer.name}'"

    def _unmark_earlier_preview(self) -> None:
        """The engine took this run's settings (it resumes in the kept preview): that preview
        shows this run's blocks again."""
        layer = self._preview.layer if self._preview is not None else None
        if layer is None:
            return
        for mark, end in ((f", {EARLIER_SETTINGS})", ")"), (f" ({EARLIER_SETTINGS})", "")):
            if layer.name.endswith(mark):
                layer.name = layer.name.removesuffix(mark) + end
                return

    def _on_warned(self, warning_args: tuple) -> None:
        from tessella.engine.blockwise import StartedAgainWarning

        warning = warning_args[0]
        if self._preview is not None and isinstance(warning, StartedAgainWarning):
            self._preview.start_again(warning)  # (other pixels: an array, chunk files)
            self.status_label.setText(f"'{self._run.name}': {self._preview.started_again}…")
        show_warning(str(warning))

    def _on_aborted(self) -> None:
        if self._preview is not None:
            from tessella.engine.blockwise import work_dir

            preview, self._preview = self._preview, None  # kept: _on_finished leaves it
            if not work_dir(preview.out).exists():  # while an array input was hashed
                preview.discard()
                self.status_label.setText(f"'{self._run.name}': cancelled; nothing was written.")
                return
            shown = ""
            if preview.is_preview() and preview.layer in self.viewer.layers:
                shown = f" (shown in '{preview.layer.name}')"
            self.status_label.setText(
                f"'{self._run.name}': cancelled; finished blocks are kept on disk{shown}: Run "
                "again to resume."
            )
            return
        self.status_label.setText(f"'{self._run.name}': cancelled; no layer was added.")

    def _on_finished(self) -> None:
        if self.progress_bar.maximum() == 0:  # failed before the first tile: no count
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)
            self.progress_bar.setFormat("")
        if self._preview is not None and self._preview.is_preview() and self._preview.opened:
            self._preview.discard()  # failed mid-run (one refused at the start keeps the
            # preview an earlier, cancelled run left)
        self._run = None
        self._preview = None
        self._set_running(False)
        self.run_finished.emit()

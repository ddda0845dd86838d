"""The Segment dock widget: image layer, axes, model, device, tiling, TTA; Run and Cancel.

The widget only reads its controls and drives :func:`tessella.engine.pipeline.segment_steps` in
a napari thread worker, so ``tessella.segment(image, model, axes, tile=..., tta=...)`` gives the
same labels. The engine is imported when the widget is built and torch when a run loads its
model (in the worker thread), never when napari starts.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QCoreApplication, QEvent, Signal
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
from superqt.utils import GeneratorWorker

from .._io import RECIPE_KEY  # what reproduces a result (Export imports it from here)
from ._blockwise import BlockwisePreview, bar_format
from ._frame_words import part_name, recorded_frame_numbers
from ._layers import LayerWatcher
from ._layout import panel_layout
from ._models import listen as listen_for_models
from ._segment_blockwise import EARLIER_SETTINGS, SegmentBlockwise
from ._segment_image import AXIS_LABELS_KEY, SegmentImage, _layer_array, guess_layer_axes
from ._segment_models import SegmentModels
from ._segment_models import _smallest_tile as _smallest_tile  # tests import it from here
from ._segment_outputs import (
    EDITED_KEY,
    OUTPUT_KEY,
    SOURCE_ID_KEY,
    SOURCE_KEY,
    SegmentOutputs,
    _Frames,
    _result_key,
    _Run,
    _spatial_transform,
    channels_note,
)
from ._segment_params import SegmentParams
from ._workers import (
    ThreadWarningsWorker,
    close_when_finished,
    report_runtime_errors,
    show_progress,
)

if TYPE_CHECKING:
    import napari.viewer

    from tessella.engine.pipeline import SegmentResult
    from tessella.engine.progress import Progress
    from tessella.engine.registry import ModelCard

__all__ = [  # with the metadata keys of the mixins' modules, importable here as before
    "AXIS_LABELS_KEY",
    "EARLIER_SETTINGS",
    "EDITED_KEY",
    "OUTPUT_KEY",
    "RECIPE_KEY",
    "SOURCE_ID_KEY",
    "SOURCE_KEY",
    "SegmentWidget",
    "guess_layer_axes",
]


def _predicted_parts(shape: tuple, axes: str, card: ModelCard) -> tuple[int, str]:
    """How many parts the network predicts one after the other for an image of ``shape`` and
    ``axes`` (the frames of a movie, the slices of a volume a 2D model segments slice by
    slice), and what one is called: the engine counts tiles over all of them, one tile a
    part where the part fits in a tile."""
    if len(shape) != len(axes):  # axes the engine refuses: it predicts nothing
        return 1, "frame"
    sizes = dict(zip(axes, shape))
    frames = sizes.get("T", 1)
    slices = sizes.get("Z", 1) if card.spatial_axes == "YX" else 1
    return frames * slices, "slice" if slices > 1 else "frame"


def _frame_numbers(layer, shape: tuple, axes: str) -> tuple:
    """The frame numbers the reader recorded for a movie ``layer`` read with ``axes`` (one a
    frame of its T axis), or () (no T axis, none recorded, or not one a frame)."""
    if "T" not in axes or len(shape) != len(axes):
        return ()
    return recorded_frame_numbers(layer, shape[axes.index("T")])


class StatusLabel(QLabel):
    """The panel's status line, word-wrapped, laid out again as soon as its text changes. Qt
    lays a new text out on a later turn of the event loop (the label, then the footer and
    the panel, each asking the next): until then a status wrapped over more lines than the
    one before is squeezed into the old height, its lines cut through the middle, and that
    stays on screen for as long as the GUI thread is busy (at 1366x768, seconds while a
    blockwise preview is redrawn after a block). Here the footer takes the status's height
    at once; the dock follows on the next turn (until then the options above scroll)."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:
        super().setText(text)
        if self.isVisible():
            # label -> footer -> panel (its height: _layout._FitContent): a request each
            for _ in range(4):
                QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


@report_runtime_errors
def _segment_steps(image: Any, **options) -> Generator[Progress, None, SegmentResult]:
    from tessella.engine.pipeline import segment_steps

    return (yield from segment_steps(image, **options))


class SegmentWidget(
    SegmentImage,
    SegmentModels,
    SegmentOutputs,
    SegmentParams,
    SegmentBlockwise,
    LayerWatcher,
    QWidget,
):
    """Segment an image layer with an instance segmentation model.

    The result is a Labels layer named ``"<image> labels (<model>)"`` (``"nuclei labels
    (nuclei2d)"``, :func:`._segment_outputs.result_name`) with the image's scale and
    translate and the recipe in its metadata. Running the same model again on the same image
    (and axes) replaces the data of the layer Segment made for it with that model (if it
    still exists; found by its metadata, so also after the panel was closed and opened again),
    unless the user has painted or corrected that layer since: then it is kept and a new layer
    is added (or it is replaced when "Replace edited results" is on). Another model adds its
    own layer (``"<image> labels (em-mito3d)"``), so results can be compared.
    A result the user renamed is kept. Other layers, copies of a result included, are never
    touched. *Parameters* chooses the post-processing parameters of a Run, in memory and
    blockwise (:mod:`._segment_params`): by default the previous result's (tuned) values.
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
        self._stage = ""  # the stage of the blockwise run in progress
        self._tiles_a_part = 0  # the tiles of a frame (or slice) in the run's count, if known
        self._slices_a_frame = 0  # a movie of volumes segmented slice by slice: Z's size
        self._stage_clock = None  # the stage's time-left estimate (_segment_blockwise._Estimate)
        self._resumed = 0  # the blocks an earlier run kept, which the blockwise run resumes
        #: the output of a blockwise run cancelled before it kept anything: its work folder
        #: goes once the run has finished
        self._empty_work: Path | None = None
        #: the run stopped because its image layer was removed, and that layer's name then
        self._removed: tuple[_Run, str] | None = None
        #: the results the panel hid under a newer one of their image (unique_ids)
        self._hidden_results: set[str] = set()

        self.layer_combo = QComboBox()
        self._time_preferred = False  # the Axes show TYX because a time-lapse model asked
        self.axes_combo = QComboBox()
        self.axes_combo.setEditable(True)
        self.axes_combo.addItems(SUPPORTED_AXES)
        self.axes_combo.setToolTip("What each axis of the image is (C: channel, T: time)")
        self.frames_edit = QLineEdit()
        self.frames_edit.setPlaceholderText("all")
        self.frames_edit.setToolTip(
            "A time-lapse: segment frames A to B - 1 only, typed A:B (A: that frame alone), by "
            "the frame numbers of its files (t052.tif: 52) where it was read from a folder of "
            "them, else as the T slider shows them; empty: every frame. The labels keep their "
            "frames' numbers and lie on them. A time-lapse model reads the frames around them "
            "as a run of the whole movie does, so each frame is segmented as in it"
        )
        self.model_combo = QComboBox()
        #: image layer unique_id -> the model chosen for it (:meth:`_note_model_choice`)
        self._chosen_models: dict[str, str] = {}
        self._preselecting = False  # the model is being preselected for the image chosen
        self._model_preselected = False  # the model shown was preselected, not chosen
        self._user_model: str | None = None  # the model the user chose last (its key)
        self._model_note = ""  # the status line's note on the model preselected, if shown
        self._volume_note = ""  # that note for a volume, or a movie keeping the chosen model
        #: a volume layer's sample (unique_id -> array) and each model's fit on it
        self._samples: dict[str, Any] = {}
        self._fits: dict[str, dict] = {}
        self._sample_workers: set = set()  # the workers reading a lazy layer's sample
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
            "image layers below the labels, at half opacity; the first is shown, the others "
            "hidden (tick their eye). A new Run replaces them"
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
        self.block_spin.setSuffix(" px blocks")
        self.block_spin.setToolTip(
            "Edge of the blocks along every spatial axis, Z included (a volume's blocks are "
            "cubes, cut to the image's size; a time-lapse is blocked frame by frame). Each "
            "block is segmented in memory with its halo, so smaller blocks use less memory. "
            "Unless you set it, it follows the image and its axes as 'tessella segment "
            "--blockwise' picks it: 2048 px for 2D images and time-lapses, 256 px for volumes"
        )
        #: whether the user set the block size (else it follows the layer and its axes)
        self._block_chosen = False
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
        self.status_label = StatusLabel("Ready")

        model_row = QHBoxLayout()
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.load_model_button)
        form = QFormLayout()
        form.addRow("Image", self.layer_combo)
        form.addRow("Axes", self.axes_combo)
        self.frames_label = QLabel("Frames")
        self.frames_label.setToolTip(self.frames_edit.toolTip())
        form.addRow(self.frames_label, self.frames_edit)
        form.addRow("Model", model_row)
        form.addRow("Parameters", self._make_params_combo())
        # device and tile size share a row: the panel stays as tall as before Parameters
        # came (docked above Train at 1366x768, Train's options keep their height)
        compute_row = QHBoxLayout()
        compute_row.addWidget(self.device_combo, 1)
        tile_label = QLabel("Tile size")
        tile_label.setToolTip(self.tile_spin.toolTip())
        compute_row.addWidget(tile_label)
        compute_row.addWidget(self.tile_spin, 1)
        form.addRow("Device", compute_row)
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
        self.axes_combo.currentTextChanged.connect(self._on_axes_edited)  # (first: whose)
        self.axes_combo.currentTextChanged.connect(self._name_layer_axes)
        self.axes_combo.currentTextChanged.connect(self._show_default_block)
        self.axes_combo.currentTextChanged.connect(self._on_axes_chosen)
        self.axes_combo.currentTextChanged.connect(self._show_frames_row)
        self.layer_combo.currentIndexChanged.connect(self._show_frames_row)
        # what "As tuned on this image" gives follows the image, its axes and the results'
        # recipes (Tune changes them): _segment_params._tuned_elsewhere
        self.layer_combo.currentIndexChanged.connect(self._fill_params)
        self.axes_combo.currentTextChanged.connect(self._fill_params)
        self.block_spin.valueChanged.connect(self._on_block_changed)
        self.model_combo.currentIndexChanged.connect(self._note_model_choice)
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self.model_combo.currentIndexChanged.connect(self._on_model_chosen)  # (status)
        self.model_combo.currentIndexChanged.connect(self._fill_params)
        self.device_combo.currentIndexChanged.connect(self._on_model_changed)
        self.load_model_button.clicked.connect(self._on_load_model_clicked)
        self.run_button.clicked.connect(self._on_run_clicked)
        self.blockwise_checkbox.toggled.connect(self.blockwise_row.setVisible)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self._watch_layers()
        for watched in self.viewer.layers:
            watched.events.metadata.connect(self._fill_params)

        self._show_default_block()
        self._fill_models()
        self._refresh_layers()
        self._show_frames_row()
        listen_for_models(self, self._on_model_added)

    # --- running ----------------------------------------------------------------------------

    def _on_run_clicked(self) -> None:
        layer = self.image_layer
        model = self.model_combo.currentData()
        if layer is None:
            show_info("Segment: add an image layer first.")
            self.status_label.setText("Add an image layer first.")
            return
        if model is None:
            show_info("Segment: no model installed; add one with 'Load model…'.")
            self.status_label.setText("No model installed; add one with 'Load model…'.")
            return
        if self._run is not None:  # Run is disabled while running; this guards calls from code
            show_info("Segment: a run is in progress; cancel it first.")
            return
        axes = self._axes_to_run(layer)
        if axes is None:
            return
        scale, translate, units = _spatial_transform(layer, axes)
        chosen = self._params_to_run(layer, model, axes)
        if chosen is None:
            return
        params, params_from = chosen
        if self.blockwise_checkbox.isChecked() and self.frames_edit.text().strip():
            if "T" in axes and not self.frames_edit.isHidden():
                self._refuse(
                    f"not run: Frames segments part of '{layer.name}' in memory; Blockwise "
                    "reads the whole image (empty Frames, or untick Blockwise)"
                )
                return
        if self.blockwise_checkbox.isChecked():
            self._start_blockwise(layer, model, axes, scale, translate, units, params, params_from)
            return
        card = self._cards[model]
        spacing = tuple(s for a, s in zip(axes.replace("C", ""), scale) if a in "ZYX")
        _warn_unknown_z_spacing(layer.name, card, axes, spacing)
        image = _layer_array(layer)
        parts, part = _predicted_parts(image.shape, axes, card)
        sizes = dict(zip(axes, image.shape))
        movie_of_slices = part == "slice" and "T" in axes and len(axes) == len(image.shape)
        numbers = _frame_numbers(layer, image.shape, axes)
        frames = self._frames_to_run(layer, image.shape, axes, numbers, card, params)
        if frames is False:
            return
        if frames is not None:  # the frames predicted, their labels placed on their frames
            parts = parts // sizes["T"] * len(frames.predicted)
            translate = _frames_translate(translate, scale, axes, frames.picked.start)
        self._slices_a_frame = sizes.get("Z", 0) if movie_of_slices else 0
        self._run = _Run(
            layer.unique_id,
            layer.name,
            scale,
            translate,
            units,
            self.outputs_checkbox.isChecked(),
            time.perf_counter(),
            params_from=params_from,
            result_key=_result_key(card, axes, frames),
            parts=parts,
            part=part,
            averaged=channels_note(image.shape, axes, card),
            frame_numbers=numbers,
            frames=frames,
        )
        # superqt's worker class, not napari's: napari's would also post every error to the
        # notification manager as a traceback, doubling the one-line message shown here.
        worker = create_worker(
            _segment_steps,
            image,
            model=model,
            params=params,
            axes=axes,
            tta=self.tta_checkbox.isChecked(),
            tile=self.tile_spin.value(),
            device=self.device_combo.currentText(),
            invert=self.invert_combo.currentData(),
            # quoted: the engine's messages name it ("'constant' is constant ..."), and a
            # layer's name may read as a word
            name=f"'{layer.name}'",
            spacing=spacing,
            frames=None if frames is None else frames.picked,
            _worker_class=ThreadWarningsWorker,  # warned: this run's warnings, no others
            _ignore_errors=True,
            _start_thread=False,
        )
        self._connect(worker)
        self.progress_bar.setFormat("")  # "%v / %m tiles" (or frames) from the first count
        self.progress_bar.setRange(0, 0)  # busy until the first tile count arrives
        said = f" ({params_from})" if params_from else ""
        if frames is not None:
            said += f", {frames.said}"
        said += _cpu_note(image.shape, axes, card, self, frames)
        self._predict_clock = None
        self.status_label.setText(f"'{layer.name}': loading the model{said}…")
        worker.start()

    def _frames_to_run(self, layer, shape: tuple, axes: str, numbers: tuple, card, params):
        """The frames *Frames* picks (:class:`~._segment_outputs._Frames`), None for every
        frame (empty, or an image without T), or False where the text is refused: said on
        the status line and in a notification, in one line naming the layer and its frames
        (:func:`~tessella.engine.pipeline.chosen_frames`)."""
        from tessella.engine.pipeline import chosen_frames, frames_context, predicted_frames

        text = self.frames_edit.text().strip()
        if not text or "T" not in axes or len(shape) != len(axes):
            return None
        count = shape[axes.index("T")]
        try:
            picked, picked_numbers = chosen_frames(
                text, count, list(numbers) or None, f"'{layer.name}'"
            )
        except ValueError as exc:
            self._refuse(f"not run: {exc}")
            return False
        predicted = predicted_frames(picked, count, frames_context(card, params))
        return _Frames(picked, tuple(picked_numbers), predicted)

    def _refresh_layers(self, event=None) -> None:
        """The image layers listed, and the labels layers whose parameters a Run can take."""
        super()._refresh_layers(event)
        self._fill_params()

    def _on_layer_inserted(self, event) -> None:
        event.value.events.metadata.connect(self._fill_params)  # (a recipe tuned: Parameters)
        super()._on_layer_inserted(event)

    def _on_layer_removed(self, event) -> None:
        event.value.events.metadata.disconnect(self._fill_params)
        super()._on_layer_removed(event)

    def _connect(self, worker) -> None:
        close_when_finished(worker)  # first: Cancel then leaves no suspended generator
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        worker.warned.connect(self._on_warned)
        worker.aborted.connect(self._bar_cancelled)  # (first: before the run is forgotten)
        worker.aborted.connect(self._on_aborted)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self._set_running(True)

    def _on_cancel_clicked(self) -> None:
        if self.worker is not None:
            self.worker.quit()  # takes effect at the engine's next yield (after this tile)
        self.cancel_button.setEnabled(False)
        if self._preview is not None and self._stage == "scan":  # before any block's labels
            self.status_label.setText("Cancelling the intensity scan (no block is segmented yet)…")
        elif self._preview is not None and self._stage in ("", "fingerprint"):
            self.status_label.setText("Cancelling…")
        elif self._preview is not None:  # the bar counts blocks; the one in progress is dropped
            self.status_label.setText(
                "Cancelling: finished blocks are kept, the block in progress is redone by the "
                "next Run…"
            )
        else:
            unit = self._run.part if self._run is not None and self._one_tile_a_part else "tile"
            self.status_label.setText(f"Cancelling after the current {unit}…")

    def _bar_cancelled(self) -> None:
        """A cancelled run's bar says where it stopped: "cancelled at 2 of 6 frames" (or
        tiles, slices), not a count "2 / 6 frames" left as if the run were still going
        (user test s31/t7, finding 6). A blockwise run's bar keeps its count of the blocks
        kept on disk, which Run again resumes."""
        bar = self.progress_bar
        if self._preview is not None or bar.maximum() <= 0:  # (no count yet: reset later)
            return
        unit = bar.format().removeprefix("%v / %m ")
        if bar.format() == f"%v / %m {unit}" and bar.value() < bar.maximum():
            bar.setFormat(f"cancelled at %v of %m {unit}")
        else:
            bar.setFormat("cancelled")

    def _panel_closed(self) -> None:
        """The panel was closed: a run in progress stops and adds nothing."""
        if self._run is not None and self.worker is not None:
            self._closed_run = self._run
            self._on_cancel_clicked()
            show_info(f"Segment: the panel was closed; the run on '{self._run.name}' stopped.")

    def _layer_removed(self, layer) -> None:
        """The image layer of the run in progress was removed: the run stops as Cancel stops
        it (after the current tile or block) and adds no layer; the status line says why."""
        super()._layer_removed(layer)
        run = self._run
        if run is None or self.worker is None or layer.unique_id != run.layer_id:
            return
        if self._removed is not None and self._removed[0] is run:
            return
        self._removed = (run, layer.name)
        self.worker.quit()  # takes effect at the engine's next yield
        self.cancel_button.setEnabled(False)
        self.status_label.setText(f"Stopping: layer '{layer.name}' was removed during the run…")

    def _stopped_for_removal(self) -> str:
        """The start of the status line of a run stopped because its image layer was removed
        ("" when it was not)."""
        removed = self._removed
        if removed is None or removed[0] is not self._run:
            return ""
        return f"Stopped: layer '{removed[1]}' was removed during the run"

    def _set_running(self, running: bool) -> None:
        for control in (
            self.layer_combo,
            self.axes_combo,
            self.frames_edit,
            self.model_combo,
            self.load_model_button,
            self.params_combo,
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
        if self._stopped_for_removal():  # (counts sent before it stopped: no preview added)
            return
        name = self._run.name
        if self._preview is not None:  # blockwise: progress over blocks
            if progress.stage != "fingerprint":  # past the plan: this run's settings
                self._unmark_earlier_preview()
            self._stage = progress.stage
            if progress.total:
                show_progress(
                    self.progress_bar, progress.done, progress.total, bar_format(progress.stage)
                )
            if progress.stage == "segment" and getattr(progress, "region", None) is not None:
                self._preview.block_done()
            elif progress.stage == "segment" and progress.done and not self._preview.opened:
                # the stage's start of a resumed run: the blocks an earlier run (cancelled,
                # perhaps in another napari session) kept are shown at once, not with the
                # first block this run finishes (user test s32/t9, finding 8)
                self._resumed = progress.done
                self._preview.block_done()
            self.status_label.setText(self._blockwise_status(progress))
            return
        if progress.stage == "predict":
            unit = self._unit(progress.total)
            show_progress(self.progress_bar, progress.done, progress.total, f"%v / %m {unit}s")
            left = self._time_left(progress)
            self.status_label.setText(f"'{name}': {self._predicting(progress)}{left}")
        else:
            stage = "post-processing" if progress.stage == "postprocess" else progress.stage
            self.status_label.setText(f"'{name}': {stage}…")

    #: (time, windows done) at the first window this run predicted: its rate is timed from
    #: there (loading the model and preparing the network left out)
    _predict_clock: tuple[float, int] | None = None

    def _time_left(self, progress: Progress) -> str:
        """ ", about 12 min left" of the network pass, from the rate of the windows done since
        the first one (none before a second window is done)."""
        now = time.perf_counter()
        clock = self._predict_clock
        if clock is None or progress.done < clock[1]:
            if progress.done:
                self._predict_clock = (now, progress.done)
            return ""
        since, done = now - clock[0], progress.done - clock[1]
        if done <= 0 or progress.done >= progress.total:
            return ""
        from ._segment_blockwise import time_left

        return f", {time_left(since / done * (progress.total - progress.done))}"

    @property
    def _one_tile_a_part(self) -> bool:
        """Whether the run in progress predicts each frame (or slice) in one tile, as its
        last count says: the bar then counts frames, not tiles."""
        return self._tiles_a_part == 1

    def _unit(self, total: int) -> str:
        """What the count of ``total`` the engine gives counts: the frames of a movie (or the
        slices of a volume segmented slice by slice) when each is one tile, else tiles."""
        run = self._run
        parts = run.parts if run is not None else 1
        self._tiles_a_part = total // parts if parts and total % parts == 0 else 0
        if parts > 1 and self._tiles_a_part == 1:
            return run.part
        return "tile"

    def _predicting(self, progress: Progress) -> str:
        """What is being predicted. A frame (or slice) is named as napari's slider shows it,
        from 0, with the movie's own number where its files gave one
        (:func:`._frame_words.frame_name`), and counted from 1 as a user reads a count (the
        engine counts those done: 0 before the first): "predicting frame 1 (t053), 2 of 6",
        "predicting slice 3, 4 of 10", "predicting frame 1 (t053) slice 2, 7 of 12" (a
        movie of volumes a 2D model segments slice by slice); tiles are counted, with the
        frame they lie in where a movie has several tiles a frame: "predicting tile 5 of 40,
        in frame 1 (t053)"; "predicting tile 5 of 8" otherwise (user test s31/t7, finding 5:
        "frame 2 of 6 (t053)" named the slider's frame 1)."""
        unit = self._unit(progress.total)
        run = self._run
        at = min(progress.done + 1, progress.total) if progress.total else progress.done
        counted = f"{at} of {progress.total}"
        if run is None or run.parts <= 1:
            return f"predicting {unit} {counted}"
        per = self._tiles_a_part
        if unit == "tile" and per <= 1:  # (tiles not one frame's many: no frame to name)
            return f"predicting {unit} {counted}"
        part = at if unit != "tile" else min((max(at, 1) - 1) // per + 1, run.parts)
        # (a run of some frames: counted from the first frame it predicts)
        first = 0 if run.frames is None else run.frames.predicted.start
        first *= max(self._slices_a_frame, 1) if run.part == "slice" else 1
        index = first + max(part, 1) - 1
        name = part_name(index, run.frame_numbers, run.part, self._slices_a_frame)
        if unit == "tile":
            return f"predicting tile {counted}, in {name}"
        return f"predicting {name}, {counted}"

    def _on_errored(self, exc: Exception) -> None:
        text = str(exc)
        if "; pass overwrite=True" in text:  # the engine's advice is for the command line
            text = text.split("; pass overwrite=True")[0] + (
                "; choose another blockwise output, or Run with the settings it had to resume it "
                "(to start again, delete that hidden folder)"
            )
            text += self._mark_earlier_preview()
        quoted = f"'{self._run.name}'"
        if text.startswith(quoted):  # the engine's message names the layer: once is enough
            show_error(f"Segment failed: {text}")  # the problem in the first words shown
            self.status_label.setText(f"Failed: {text}")
            return
        show_error(f"Segment failed on layer {quoted}: {text}")
        self.status_label.setText(f"{quoted}: failed ({text})")

    def _on_warned(self, warning_args: tuple) -> None:
        from tessella.engine.blockwise import StartedAgainWarning

        warning = warning_args[0]
        if self._preview is not None and isinstance(warning, StartedAgainWarning):
            self._preview.start_again(warning)  # (other pixels: an array, chunk files)
            self.status_label.setText(f"'{self._run.name}': {self._preview.started_again}…")
        show_warning(_z_spacing_words(warning, None if self._run is None else self._run.name))

    def _on_finished(self) -> None:
        if self._stopped_for_removal() or self.progress_bar.maximum() == 0:
            # stopped as its image was removed, or failed before the first tile: no count
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)
            self.progress_bar.setFormat("")
        if self._preview is not None and self._preview.is_preview() and self._preview.opened:
            self._preview.discard()  # failed mid-run (one refused at the start keeps the
            # preview an earlier, cancelled run left)
        self._run = None
        self._removed = None
        self._preview = None
        self._stage = ""
        self._resumed = 0
        self._tiles_a_part = 0
        self._slices_a_frame = 0
        self._remove_empty_work()
        self._set_running(False)
        self.run_finished.emit()


#: a run of at least this many windows on the CPU is said to be long before it starts
LONG_CPU_WINDOWS = 40


def _cpu_note(shape: tuple, axes: str, card, widget, frames) -> str:
    """What the status line adds when Run starts a long run on the CPU: how many frames (or
    slices) of how many windows each the network reads, and for a movie of all its frames
    that *Frames* segments part of it ("; on the CPU: 92 frames x 4 windows of 1024 px =
    368 windows, minutes to hours (Frames A:B segments part of it)"); "" for a short run, or
    on a GPU. The time left follows once the first windows are done."""
    from tessella.engine.device import resolve_device
    from tessella.engine.tiling import tile_grid

    if len(shape) != len(axes) or resolve_device(widget.device_combo.currentText()) != "cpu":
        return ""
    sizes = dict(zip(axes, shape))
    spatial = tuple(sizes.get(a, 1) for a in card.spatial_axes)
    tile, halo = widget.tile_spin.value(), int(card.defaults.get("halo", 32))
    ndim = len(spatial)
    windows = tile_grid(spatial, (tile,) * ndim, (halo,) * ndim).n_tiles
    parts, part = _predicted_parts(shape, axes, card)
    if frames is not None:
        parts = parts // sizes["T"] * len(frames.predicted)
    if parts * windows < LONG_CPU_WINDOWS:
        return ""
    hint = " (Frames A:B segments part of it)" if "T" in axes and frames is None else ""
    return (
        f"; on the CPU: {parts} {part}s x {windows} window{'s' * (windows != 1)} of {tile} px "
        f"= {parts * windows} windows, seconds each{hint}"
    )


def _frames_translate(translate: tuple, scale: tuple, axes: str, first: int) -> tuple:
    """The labels' ``translate`` (on the axes they keep: all but C) where they hold the
    frames from index ``first`` on: moved along T by as many frames, so that they lie on
    their frames."""
    kept = axes.replace("C", "")
    t = kept.index("T")
    moved = list(translate)
    moved[t] = float(translate[t]) + first * float(scale[t])
    return tuple(moved)


def _warn_unknown_z_spacing(name: str, card, axes: str, spacing: tuple) -> None:
    """A notification where a 2D boundary model is about to segment a volume whose layer has
    no scale (napari's 1 on every axis, as for a TIFF without a pixel size): it would join
    objects across slices as if the sections were as thin as a pixel is wide
    (``boundary.unknown_z_spacing_note``). In memory: the engine is given the scale as the
    spacing, so it does not warn itself (it does for a blockwise run of such a layer, whose
    scale of 1 is no pixel size: :func:`_z_spacing_words` says that one)."""
    from tessella.engine.methods.boundary import unknown_z_spacing_note

    note = unknown_z_spacing_note(
        f"'{name}'",
        card,
        axes,
        None if all(s == 1 for s in spacing) else spacing,
        _z_spacing_fixes(name),
        missing=Z_SCALE_MISSING,
    )
    if note is not None:
        show_warning(note)


#: what lacks the voxel size of a layer, in the words of the warning of an unknown Z spacing
Z_SCALE_MISSING = "the layer has no Z scale"


def _z_spacing_fixes(name: str) -> str:
    """How a napari user gives layer ``name`` its voxel size or segments its slices one by
    one (the end of the warning of an unknown Z spacing): the scale with its units, as a
    scale set alone is taken as µm (a result exported in µm, 1000 times too big: user
    test s33/t11 #2c); napari 0.9's ``Layer.units`` takes one unit for all axes."""
    layer = f"viewer.layers['{name}']"
    return (
        f"set the layer's scale and units (e.g. {layer}.scale = (50, 4, 4); {layer}.units = "
        "'nm' for 50 nm sections of 4 nm pixels) or segment the slices separately with Axes TYX"
    )


def _z_spacing_words(warning, name: str | None) -> str:
    """An engine warning as the panel shows it: the engine's ``UnknownZSpacingWarning`` (a
    2D boundary model on a stack of unknown voxel size) naming the layer ``name`` and the
    panel's ways out (the layer's scale, Axes TYX) instead of the Python API's; any other
    as it is."""
    from tessella.engine.methods.boundary import UnknownZSpacingWarning

    if not isinstance(warning, UnknownZSpacingWarning) or name is None:
        return str(warning)
    return warning.reworded(_z_spacing_fixes(name), f"'{name}'", Z_SCALE_MISSING)

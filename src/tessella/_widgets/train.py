"""The Train dock widget: train or fine-tune a model on image + labels layers, then compare.

It drives :func:`tessella.engine.train.loop.train_steps`, the code ``tessella train`` runs, in
a thread worker: a live loss and validation-score plot, Cancel (the best model so far is kept;
a run cancelled before its first validation leaves nothing behind). The model is written as a
user model folder (weights + card with data, command and scores) and appears at once in the
Segment widget's list. *Compare* runs the base and the new model on a pair's image and scores
both against its labels.
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Image, Labels
from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)
from superqt.utils import GeneratorWorker

from .._io import axes_named
from ._layers import LayerWatcher, fill_layer_combo, find_layer
from ._layout import panel_layout
from ._models import listen as listen_for_models
from ._models import model_events
from ._plot import LinePlot
from ._workers import close_when_finished, report_runtime_errors
from .segment import guess_layer_axes

if TYPE_CHECKING:
    import napari.viewer

__all__ = ["REGION_LAYER", "TrainWidget", "layer_samples"]

NEW = "new:"  # base-combo data prefix for a model trained from scratch
REGION_LAYER = "compare region"  # a Shapes layer whose last rectangle bounds the comparison
INVERT = "invert_bright_background"  # the card's normalization key the invert box sets


def _base_card(base: str) -> dict:
    """The raw card in directory ``base`` ({} when it cannot be read: training then reports
    the problem)."""
    from tessella.engine.registry import ModelError, read_card

    try:
        return read_card(Path(base)).raw
    except ModelError:
        return {}


def _base_normalization(base: str) -> dict:
    """The ``normalization`` of the card in directory ``base`` ({} when it cannot be read)."""
    return _base_card(base).get("normalization", {})


def one_decoder_choice(base: str) -> tuple[bool, bool]:
    """(whether the one-decoder box can be changed, whether it is ticked) for starting point
    ``base``: a new embedding model or a two-decoder embedding base can have one decoder; a
    one-decoder base already has it; other methods have one decoder per output anyway."""
    if base.startswith(NEW):
        return base[len(NEW) :] == "embedding", False
    card = _base_card(base)
    if card.get("method") != "embedding":
        return False, False
    branches = len(card.get("architecture", {}).get("args", {}).get("out_channels", ()))
    return branches > 1, branches == 1


def training_axes(image_layer: Image, temporal: bool) -> str:
    """The axes an image layer is trained (and compared) with: its guessed axes, except that
    for a time-lapse model a 3D stack without a T axis is a movie (TYX), as Segment takes it
    (unless the layer's file named its axes: a volume named ZYX stays one; the reader's guess
    from the shape alone does not count)."""
    axes = guess_layer_axes(image_layer)
    if temporal and not axes_named(image_layer.metadata) and "T" not in axes and axes[:1] == "Z":
        return "T" + axes[1:]
    return axes


def _pair_arrays(image_layer: Image, labels_layer: Labels) -> tuple[np.ndarray, np.ndarray]:
    """The image and labels of a training pair in memory, refused by layer name when the
    labels cannot be instance labels or the image holds NaN or infinite values."""
    from tessella.engine.train.data import check_finite

    image = np.asarray(image_layer.data[0] if image_layer.multiscale else image_layer.data)
    target = np.asarray(labels_layer.data)
    _check_labels(labels_layer, target)
    check_finite(image, f"image '{image_layer.name}'")
    return image, target


def _check_labels(labels_layer: Labels, target: np.ndarray) -> None:
    """Refuse labels that cannot be instance labels, naming the layer."""
    if not np.issubdtype(target.dtype, np.integer):
        raise ValueError(f"labels '{labels_layer.name}' must be integers, not {target.dtype}")
    if target.size and target.min() < 0:
        raise ValueError(
            f"labels '{labels_layer.name}' hold negative values (down to {target.min()}): "
            "label IDs are 0 (background) or positive"
        )


def layer_samples(
    pairs, ndim: int, normalization: dict | None = None, window: int | None = None
) -> list:
    """Training samples from ``(image layer, labels layer)`` pairs, normalised as
    ``normalization`` (a card's; default percentiles 1-99.8) says; a volume pair gives one
    sample per labelled slice for a 2D model. ``window``: a time-lapse model's frames per
    window; a movie (TYX) pair gives one sample per labelled frame, as ``tessella train
    temporal`` reads an ``images/`` + ``masks/`` folder. Raises ValueError naming a
    mismatched pair."""
    from tessella.engine.axes import spatial_of, to_model_layout
    from tessella.engine.train.data import load_pairs

    normalization = normalization or {"low": 1.0, "high": 99.8}
    if window is not None:
        return _movie_samples(pairs, window, normalization)
    images, labels, names = [], [], []
    for image_layer, labels_layer in pairs:
        image, target = _pair_arrays(image_layer, labels_layer)
        axes = guess_layer_axes(image_layer)
        if "T" in axes:
            raise ValueError(
                f"image '{image_layer.name}' is a time-lapse (axes {axes}): a time-lapse model "
                "(cells2dt, or a new temporal model) trains on it; other models on 2D images "
                "or volumes"
            )
        if not axes:
            raise ValueError(f"image '{image_layer.name}': train on 2D or 3D images")
        spatial = spatial_of(axes)
        data = to_model_layout(image, axes, spatial, 1)  # (1, *spatial), channels averaged
        if data.shape[1:] != target.shape:
            raise ValueError(
                f"labels '{labels_layer.name}' {target.shape} do not match image "
                f"'{image_layer.name}' {data.shape[1:]}"
            )
        if len(spatial) == 3 and ndim == 2:  # slices of a volume for a 2D model
            for z in range(target.shape[0]):
                if target[z].any():
                    images.append(data[0, z])
                    labels.append(target[z])
                    names.append(f"{labels_layer.name} [z={z}]")
        elif len(spatial) == ndim:
            images.append(data[0])
            labels.append(target)
            names.append(labels_layer.name)
        else:
            raise ValueError(f"image '{image_layer.name}' is {spatial}; the model is {ndim}D")
    if not images or not any(label.any() for label in labels):
        raise ValueError("the labels layers hold no objects to learn from")
    spatial_axes = "ZYX" if ndim == 3 else "YX"
    return load_pairs(images, labels, spatial_axes, 1, normalization, names)


def _movie_samples(pairs, window: int, normalization: dict) -> list:
    """A time-lapse model's samples: each labelled frame's labels with the window of frames
    around it (frames beyond an end repeat it), each frame normalised alone. A 2D image is a
    one-frame movie."""
    from tessella.engine.axes import spatial_of, to_model_layout
    from tessella.engine.train.data import Sample
    from tessella.engine.train.timelapse import stack_window, window_indices

    samples = []
    for image_layer, labels_layer in pairs:
        image, target = _pair_arrays(image_layer, labels_layer)
        axes = training_axes(image_layer, temporal=True)
        if "T" not in axes and spatial_of(axes) == "YX":  # one frame: a one-frame movie
            axes, image, target = "T" + axes, image[None], target[None]
        if "T" not in axes or spatial_of(axes) != "YX":
            raise ValueError(
                f"image '{image_layer.name}' (axes {axes or '?'}): a time-lapse model trains "
                "on a movie (TYX) or a 2D image"
            )
        frame_axes = axes.replace("T", "")
        frames = np.moveaxis(image, axes.index("T"), 0)
        yx = tuple(frames.shape[1 + frame_axes.index(a)] for a in "YX")
        if target.shape != (len(frames), *yx):
            raise ValueError(
                f"labels '{labels_layer.name}' {target.shape} do not match image "
                f"'{image_layer.name}' {(len(frames), *yx)} (TYX)"
            )
        layout = [to_model_layout(f, frame_axes, "YX", 1) for f in frames]
        for t in range(len(frames)):
            if target[t].any():
                stacked = stack_window(
                    [layout[i] for i in window_indices(t, len(frames), window)], normalization
                )
                name = f"{labels_layer.name} [t={t}]"
                samples.append(Sample(stacked, target[t].astype(np.int32), name))
    if not samples:
        raise ValueError("the labels layers hold no objects to learn from")
    return samples


@report_runtime_errors
def _train(config, samples) -> Generator:
    from tessella.engine.train.data import split_holdout
    from tessella.engine.train.loop import train_steps

    train, held = split_holdout(samples, 0.2, config.seed)
    return (yield from train_steps(config, train, held))


@report_runtime_errors
def _compare(image, labels, axes: str, models: list[str], ignore_label=None) -> Generator:
    """Yield ``(model, labels, scores)`` for each model on ``image``; pixels of
    ``ignore_label`` in ``labels`` (not annotated) are left out of the scores."""
    from tessella.engine.evaluation import score_pairs, unannotated_left_out
    from tessella.engine.pipeline import run_steps, segment_steps

    for model in models:
        result = run_steps(segment_steps(image, model, axes))
        truth, scored, _ = unannotated_left_out(labels, result.labels, ignore_label)
        pairs = [(truth, scored)]
        if "T" in result.axes:  # a movie is scored frame by frame (a track is no object),
            t = result.axes.index("T")  # over the frames that hold annotated objects
            pairs = [
                (np.take(truth, i, t), np.take(scored, i, t))
                for i in range(truth.shape[t])
                if np.take(truth, i, t).any()
            ] or pairs
        scores = score_pairs(pairs)
        yield model, result.labels, scores


@dataclass
class _Run:
    out: Path
    base: str | None
    total_steps: int
    started: float
    ignore_label: int | None = None
    temporal: bool = False
    error: str | None = None  # why the run failed, if it did


def ema_decay(steps: int) -> float:
    """The moving average's decay per step: it spans about a fifth of ``steps`` (10-500)."""
    return 1.0 - 1.0 / min(500.0, max(10.0, steps / 5))


class TrainWidget(LayerWatcher, QWidget):
    """Train or fine-tune a model on pairs of image and labels layers."""

    #: emitted when a training run ends (done, cancelled or failed) and the widget is usable
    run_finished = Signal()
    #: emitted when a comparison ends
    compare_finished = Signal()

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        from tessella.engine.device import DEVICE_CHOICES

        self.viewer = napari_viewer
        self.worker: GeneratorWorker | None = None
        self._run: _Run | None = None
        self.pairs: list[tuple[str, str]] = []  # (image id, labels id)
        self.last_model: Path | None = None
        self.last_base: str | None = None
        self.last_ignore_label: int | None = None  # the last run's, for Compare's scores
        self.last_temporal = False  # whether the last model is a time-lapse one (Compare)
        self._compare_error: str | None = None  # why the last Compare failed, if it did
        self.comparison: dict[str, dict] = {}
        self._offset = np.zeros(2)  # where the compared region starts, in labels pixels
        self._losses: list[tuple[float, float]] = []
        self._scores: list[tuple[float, float]] = []

        self.image_combo = QComboBox()
        self.labels_combo = QComboBox()
        self.add_pair_button = QPushButton("Add pair")
        self.remove_pair_button = QPushButton("Remove")
        self.pair_list = QListWidget()
        self.pair_list.setMaximumHeight(80)
        self.base_combo = QComboBox()
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("or a folder with images/ and masks/ (or boundaries/)")
        self.folder_edit.setToolTip("Train on the files of a folder instead of layers")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("name of the new model")
        self.patch_spin = _spin(32, 1024, 256, 32, " px")
        self.epochs_spin = _spin(1, 10_000, 10, 1, "")
        self.steps_spin = _spin(1, 10_000, 25, 5, "")
        self.minutes_spin = _spin(0, 24 * 60, 0, 5, " min")
        self.minutes_spin.setSpecialValueText("no limit")
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(1e-5, 1e-1)
        self.lr_spin.setSingleStep(1e-4)
        self.lr_spin.setValue(3e-4)
        self.average_check = QCheckBox("Average the weights (steadier)")
        self.average_check.setToolTip(
            "Validate and save a moving average of the weights over about the last fifth of the "
            "steps (exponential, as `tessella train --ema`): scores vary less from epoch to epoch"
        )
        self.invert_check = QCheckBox("Invert bright-background images")
        self.invert_check.setToolTip(
            "Brightfield and H&E images (dark objects on a bright field: a normalised median "
            "above 0.3) reach the network inverted, like fluorescence, in training and in use "
            "(as `tessella train --invert-bright-background`); follows the starting model"
        )
        self.ignore_spin = _spin(0, 2**31 - 1, 0, 1, "")
        self.ignore_spin.setSpecialValueText("none")
        self.ignore_spin.setToolTip(
            "Sparse annotations: paint this label over the parts you did not annotate; they are "
            "left out of the loss and of validation, so the objects there are not taught as "
            "background (as `tessella train --ignore-label N`). none: every unlabelled pixel "
            "is background"
        )
        self.one_decoder_check = QCheckBox("One decoder (faster model)")
        self.one_decoder_check.setToolTip(
            "Embedding: one decoder for offsets, sigmas and seeds instead of two, about a third "
            "less work per pixel (as `tessella train --one-decoder`); a two-decoder starting "
            "model is merged and its seed map distilled (`--distil 10`)"
        )
        self.device_combo = QComboBox()
        self.device_combo.addItems(DEVICE_CHOICES)
        self.train_button = QPushButton("Train")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.compare_button = QPushButton("Compare with base")
        self.compare_button.setEnabled(False)
        self.region_button = QPushButton("Draw region")
        self.region_button.setToolTip(
            f"Draw a rectangle in the '{REGION_LAYER}' layer: Compare runs there only"
        )
        self.progress_bar = QProgressBar()
        self.plot = LinePlot("step", "loss / score")
        self.status_label = QLabel("Add pairs of image and labels layers, then Train.")
        self.status_label.setWordWrap(True)

        pair_row = QHBoxLayout()
        pair_row.addWidget(self.add_pair_button)
        pair_row.addWidget(self.remove_pair_button)
        form = QFormLayout()
        form.addRow("Image", self.image_combo)
        form.addRow("Labels", self.labels_combo)
        form.addRow(pair_row)
        form.addRow("Pairs", self.pair_list)
        form.addRow("Folder", self.folder_edit)
        form.addRow("Start from", self.base_combo)
        form.addRow("Save as", self.name_edit)
        form.addRow("Patch", self.patch_spin)
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("Steps per epoch", self.steps_spin)
        form.addRow("Time budget", self.minutes_spin)
        form.addRow("Learning rate", self.lr_spin)
        form.addRow("Unannotated label", self.ignore_spin)
        form.addRow("", self.average_check)
        form.addRow("", self.invert_check)
        form.addRow("", self.one_decoder_check)
        form.addRow("Device", self.device_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.cancel_button)
        layout, footer = panel_layout(self)  # the options scroll; Train to status stay
        layout.addLayout(form)
        layout.addStretch(1)
        footer.addLayout(buttons)
        footer.addWidget(self.progress_bar)
        footer.addWidget(self.plot)
        compare_row = QHBoxLayout()
        compare_row.addWidget(self.region_button)
        compare_row.addWidget(self.compare_button, 1)
        footer.addLayout(compare_row)
        footer.addWidget(self.status_label)

        self.add_pair_button.clicked.connect(self._on_add_pair)
        self.remove_pair_button.clicked.connect(self._on_remove_pair)
        self.base_combo.currentIndexChanged.connect(self._on_base_changed)
        self.train_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._on_cancel)
        self.compare_button.clicked.connect(self.compare)
        self.region_button.clicked.connect(self.draw_region)
        self._watch_layers()
        listen_for_models(self, self._fill_bases)
        self._fill_bases()
        self._refresh_layers()

    # --- choices ----------------------------------------------------------------------------

    def _refresh_layers(self, event=None) -> None:
        layers = self.viewer.layers
        fill_layer_combo(self.image_combo, self.viewer, [x for x in layers if isinstance(x, Image)])
        fill_layer_combo(
            self.labels_combo, self.viewer, [x for x in layers if isinstance(x, Labels)]
        )
        self.pairs = [p for p in self.pairs if all(find_layer(self.viewer, i) for i in p)]
        self._show_pairs()

    def _show_pairs(self) -> None:
        self.pair_list.clear()
        for image_id, labels_id in self.pairs:
            image, labels = find_layer(self.viewer, image_id), find_layer(self.viewer, labels_id)
            self.pair_list.addItem(f"{image.name}  ↔  {labels.name}")

    def add_pair(self, image: Image, labels: Labels) -> None:
        pair = (image.unique_id, labels.unique_id)
        if pair not in self.pairs:
            self.pairs.append(pair)
            self._show_pairs()

    def _on_add_pair(self) -> None:
        image = find_layer(self.viewer, self.image_combo.currentData())
        labels = find_layer(self.viewer, self.labels_combo.currentData())
        if image is None or labels is None:
            show_info("Train: choose an image layer and its labels layer first.")
            return
        self.add_pair(image, labels)

    def _on_remove_pair(self) -> None:
        row = self.pair_list.currentRow()
        if 0 <= row < len(self.pairs):
            del self.pairs[row]
            self._show_pairs()

    def _fill_bases(self, event=None) -> None:
        from tessella.engine.pipeline import DEFAULT_MODEL
        from tessella.engine.registry import list_models
        from tessella.engine.train.methods import trainable_methods

        current = self.base_combo.currentData()
        self.base_combo.blockSignals(True)
        self.base_combo.clear()
        default = 0  # the bundled default model (nuclei2d), the one Segment starts with
        for card, directory, origin in list_models():
            if card.name == DEFAULT_MODEL and origin == "bundled":
                default = self.base_combo.count()
            self.base_combo.addItem(f"{card.name} ({card.method}, {origin})", str(directory))
        for method in trainable_methods():
            self.base_combo.addItem(f"new {method} model", NEW + method)
        index = self.base_combo.findData(current)
        self.base_combo.setCurrentIndex(index if index >= 0 else default)
        self.base_combo.blockSignals(False)
        if current is None:
            self._on_base_changed(self.base_combo.currentIndex())

    def _on_base_changed(self, index: int) -> None:
        base = self.base_combo.currentData() or ""
        new = base.startswith(NEW)
        self.lr_spin.setValue(1e-3 if new else 3e-4)  # fine-tuning takes smaller steps
        self.invert_check.setChecked(not new and bool(_base_normalization(base).get(INVERT)))
        changeable, ticked = one_decoder_choice(base)
        self.one_decoder_check.setChecked(ticked)
        self.one_decoder_check.setEnabled(changeable and self._run is None)
        stem = base[len(NEW) :] if new else Path(base).name
        self.name_edit.setText(f"my-{stem}" if new else f"{stem}-finetuned")

    # --- training ---------------------------------------------------------------------------

    def _chosen_pairs(self) -> list[tuple[Image, Labels]]:
        ids = self.pairs or [(self.image_combo.currentData(), self.labels_combo.currentData())]
        pairs = [(find_layer(self.viewer, i), find_layer(self.viewer, j)) for i, j in ids]
        return [(i, j) for i, j in pairs if i is not None and j is not None]

    def _out_dir(self, name: str) -> Path:
        from tessella.engine.registry import user_model_dirs

        return user_model_dirs()[0] / name

    def start(self) -> bool:
        """Train on the chosen pairs; False (with a message) when the request is not valid."""
        from tessella.engine.methods import get_method
        from tessella.engine.registry import load_model
        from tessella.engine.train.data import apply_ignore_label
        from tessella.engine.train.loop import TrainConfig, training_normalization
        from tessella.engine.train.methods import get_training
        from tessella.engine.train.overlapping import as_overlapping, load_overlapping_pairs
        from tessella.engine.train.timelapse import load_timelapse_samples

        if self._run is not None:
            show_info("Train: a run is in progress; cancel it first.")
            return False
        name = self.name_edit.text().strip()
        base = self.base_combo.currentData() or ""
        folder = self.folder_edit.text().strip()
        pairs = [] if folder else self._chosen_pairs()
        try:
            if not pairs and not folder:
                raise ValueError("add a pair of image and labels layers, or give a folder")
            if not name or any(c in name for c in "/\\:") or name.startswith("."):
                raise ValueError(f"'{name}' is not a usable model name")
            out = self._out_dir(name)
            if out.exists():
                raise ValueError(f"a model '{name}' exists in {out.parent}; choose another name")
            invert = self.invert_check.isChecked()
            window = 3  # a new time-lapse model's frames per window (TrainConfig's default)
            if base.startswith(NEW):
                method, ndim, base_path = base[len(NEW) :], 2, None
                norm = training_normalization(None, invert)
            else:
                card = load_model(base).card
                method, ndim, base_path = card.method, len(card.spatial_axes), base
                norm = training_normalization(card.raw, invert)
                window = int(card.raw.get("input", {}).get("window", window))
            temporal = bool(getattr(get_method(method), "TEMPORAL", False))
            ignore_label = self.ignore_spin.value() or None
            overlapping = get_training(method).overlapping  # patches: bitmask labels
            if folder and temporal:  # images/ + masks/ TYX stacks, or a CTC sequence
                samples = load_timelapse_samples(
                    Path(folder).expanduser(), window, "centre", 1, norm
                )
            elif folder and overlapping:  # masks are (N, H, W) stacks or label images
                samples = load_overlapping_pairs(
                    Path(folder).expanduser(), norm, ignore_label=ignore_label
                )
            elif folder:
                from tessella.engine.train.data import load_folder_pairs

                spatial = "ZYX" if ndim == 3 else "YX"
                samples = load_folder_pairs(
                    Path(folder).expanduser(), spatial, 1, norm, ignore_label=ignore_label
                )
            else:
                samples = layer_samples(
                    [(i, j) for i, j in pairs], ndim, norm, window if temporal else None
                )
            if ignore_label is not None:  # checked here, before a worker starts
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", UserWarning)
                    marked = apply_ignore_label(samples, ignore_label, bool(folder) and overlapping)
                for warning in caught[:1]:  # an ID clash: said once, the run goes ahead
                    show_warning(f"Train: {warning.message}")
                if overlapping:  # marked here, as bitmasks cannot be marked later
                    samples = marked
            if overlapping and not folder:
                samples = as_overlapping(samples)
        except ValueError as exc:
            show_error(f"Train: {exc}")
            self.status_label.setText(f"Not started: {exc}")
            return False
        described = folder or ", ".join(f"{i.name} + {j.name}" for i, j in pairs)
        minutes = self.minutes_spin.value()
        total = self.epochs_spin.value() * self.steps_spin.value()
        # ticked and changeable: a new one-decoder model, or a two-decoder base to merge
        merge = self.one_decoder_check.isChecked() and self.one_decoder_check.isEnabled()
        config = TrainConfig(
            method=method,
            data=f"napari layers: {described}",
            out=str(out),
            base=base_path,
            name=name,
            ndim=ndim,
            epochs=self.epochs_spin.value(),
            steps_per_epoch=self.steps_spin.value(),
            batch_size=4,
            patch=self.patch_spin.value(),
            lr=self.lr_spin.value(),
            ema=ema_decay(total) if self.average_check.isChecked() else 0.0,
            invert_bright_background=invert,
            ignore_label=ignore_label,
            one_decoder=merge,
            distil=10.0 if merge and base_path else 0.0,
            window=window,
            device=self.device_combo.currentText(),
            time_budget=minutes * 60 if minutes else None,
            command=f"napari Train widget on {described}",
        )
        worker = create_worker(
            _train,
            config,
            samples,
            _worker_class=GeneratorWorker,
            _ignore_errors=True,
            _start_thread=False,
        )
        close_when_finished(worker)  # first: the log is closed before a cancelled run is removed
        worker.yielded.connect(self._on_progress)
        worker.errored.connect(self._on_errored)
        worker.warned.connect(self._on_warned)  # superqt's worker does not notify by itself
        worker.finished.connect(self._on_finished)
        total = config.epochs * config.steps_per_epoch
        self._run = _Run(out, base_path, total, time.perf_counter(), ignore_label, temporal)
        self._losses, self._scores = [], []
        self.plot.clear()
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(0)
        self.status_label.setText(f"Training '{name}' on {len(samples)} images…")
        self.worker = worker
        self._set_running(True)
        worker.start()
        return True

    def _set_running(self, running: bool) -> None:
        for control in (
            self.image_combo,
            self.labels_combo,
            self.add_pair_button,
            self.remove_pair_button,
            self.base_combo,
            self.name_edit,
            self.folder_edit,
            self.patch_spin,
            self.epochs_spin,
            self.steps_spin,
            self.minutes_spin,
            self.lr_spin,
            self.ignore_spin,
            self.average_check,
            self.invert_check,
            self.device_combo,
            self.train_button,
        ):
            control.setEnabled(not running)
        changeable, _ticked = one_decoder_choice(self.base_combo.currentData() or "")
        self.one_decoder_check.setEnabled(not running and changeable)
        self.cancel_button.setEnabled(running)
        self.compare_button.setEnabled(not running and self.last_model is not None)

    def _on_progress(self, progress) -> None:
        self.progress_bar.setValue(min(progress.step, self.progress_bar.maximum()))
        if progress.message:
            if progress.val_score is not None and progress.message.startswith("{"):
                self._scores.append((progress.step, progress.val_score))
                self.plot.set_series("validation score", self._scores)
                self.status_label.setText(
                    f"Base model: validation score {progress.val_score:.3f}"
                    if progress.epoch == 0  # a fine-tune first scores where it starts
                    else f"Epoch {progress.epoch} of {progress.epochs}: validation score "
                    f"{progress.val_score:.3f} (best {progress.best_score:.3f})"
                )
            return
        if not np.isfinite(progress.loss):  # a skipped step (a NaN loss) has none to plot
            return
        self._losses.append((progress.step, progress.loss))
        if len(self._losses) % 5 == 1:  # repaint now and then, not every step
            self.plot.set_series("loss", self._losses)

    def _on_cancel(self) -> None:
        if self.worker is not None:
            self.worker.quit()  # at the next training step
        self.cancel_button.setEnabled(False)
        self.status_label.setText("Cancelling after the current step…")

    def _panel_closed(self) -> None:
        """The panel was closed: training stops as Cancel stops it (the best model so far is
        kept), rather than going on unseen."""
        if self._run is not None and self.worker is not None:
            self._on_cancel()
            show_info(
                f"Train: the panel was closed; training '{self._run.out.name}' stops after "
                "the current step (the best model so far is kept; nothing before the first "
                "epoch has ended)."
            )

    def _on_errored(self, exc: Exception) -> None:
        if self._run is not None:
            self._run.error = str(exc)
        show_error(f"Train failed: {exc}")
        self.status_label.setText(f"Training failed: {exc}")

    def _on_warned(self, warning_args: tuple) -> None:
        show_warning(f"Train: {warning_args[0]}")

    def _on_finished(self) -> None:
        run, self._run = self._run, None
        self.plot.set_series("loss", self._losses)
        saved = (run.out / "card.json").is_file()
        if saved:
            self.last_model, self.last_base = run.out, run.base
            self.last_ignore_label, self.last_temporal = run.ignore_label, run.temporal
            model_events.added.emit(run.out)
            cancelled = self.worker is not None and self.worker.abort_requested
            what = "Cancelled; kept the best model so far" if cancelled else "Saved"
            if run.error is not None:
                what = f"Training failed: {run.error}. Kept the best model so far"
            best = f" (best validation score {max(s for _, s in self._scores):.3f})"
            base_score = self._scores[0][1] if run.base and self._scores else None
            if base_score is not None and all(s <= base_score for _, s in self._scores[1:]):
                best = (  # the engine keeps the base until an epoch beats it
                    f": no epoch beat the base model's validation score {base_score:.3f}, so "
                    "its weights were kept unchanged (more epochs or another learning rate?)"
                )
            self.status_label.setText(
                f"{what}: '{run.out.name}' in {run.out.parent}"
                + (best if self._scores else "")
                + f", {time.perf_counter() - run.started:.0f} s"
            )
        else:  # stopped before it had a model: leave nothing half-made
            shutil.rmtree(run.out, ignore_errors=True)
            if run.error is None:
                epochs_scored = self._scores[1 if run.base else 0 :]  # not the base's
                self.status_label.setText(
                    "Stopped; no model was saved."
                    if epochs_scored
                    else "Stopped before the first epoch ended; nothing saved."
                )
        self._set_running(False)
        self.run_finished.emit()

    # --- comparing --------------------------------------------------------------------------

    def draw_region(self) -> None:
        """Add (or choose) the compare-region layer in rectangle mode."""
        from napari.layers import Shapes

        region = next(
            (x for x in self.viewer.layers if isinstance(x, Shapes) and x.name == REGION_LAYER),
            None,
        )
        if region is None:
            region = self.viewer.add_shapes(
                name=REGION_LAYER, edge_color="cyan", face_color="transparent", edge_width=2
            )
        self.viewer.layers.selection.active = region
        region.mode = "add_rectangle"

    def _region(self, labels_layer: Labels) -> tuple[slice, ...] | None:
        """The labels' index box under the last rectangle of the region layer, if any."""
        from napari.layers import Shapes

        region = next(
            (x for x in self.viewer.layers if isinstance(x, Shapes) and x.name == REGION_LAYER),
            None,
        )
        if region is None or not len(region.data):
            return None
        corners = np.array(
            [labels_layer.world_to_data(region.data_to_world(p)) for p in region.data[-1]]
        )
        box = []
        for axis, n in enumerate(labels_layer.data.shape):
            if axis < labels_layer.ndim - 2:  # leading axes (Z): keep all
                box.append(slice(None))
                continue
            low = int(np.clip(np.floor(corners[:, axis].min()), 0, n))
            high = int(np.clip(np.ceil(corners[:, axis].max()), 0, n))
            box.append(slice(low, high))
        if any(s.stop is not None and s.stop - s.start < 16 for s in box):
            raise ValueError("the compare region is too small (or outside the image)")
        return tuple(box)

    def compare(self) -> bool:
        """Run the base model and the new one on the first pair (within the region drawn in
        the compare-region layer, if any); add both, score both against the labels."""
        pairs = self._chosen_pairs()
        if self.last_model is None or not pairs:
            show_info("Compare: train a model first.")
            return False
        image_layer, labels_layer = pairs[0]
        axes = training_axes(image_layer, self.last_temporal)
        try:
            box = self._region(labels_layer)
        except ValueError as exc:
            show_error(f"Compare: {exc}")
            return False
        image, labels = np.asarray(image_layer.data), np.asarray(labels_layer.data)
        self._offset = np.zeros(labels.ndim)
        if box is not None:
            spatial = [i for i, a in enumerate(axes) if a in "ZYX"]
            index = [slice(None)] * image.ndim
            for i, s in zip(spatial, box):
                index[i] = s
            image, labels = image[tuple(index)], labels[box]
            self._offset = np.array([s.start or 0 for s in box], float)
        models = [str(self.last_model)]
        if self.last_base:
            models.insert(0, self.last_base)
        worker = create_worker(
            _compare,
            image,
            labels,
            axes,
            models,
            self.last_ignore_label,
            _worker_class=GeneratorWorker,
            _ignore_errors=True,
            _start_thread=False,
        )
        self.comparison, self._compare_error = {}, None
        close_when_finished(worker)
        worker.yielded.connect(lambda item: self._on_compared(image_layer, item))
        worker.errored.connect(self._on_compare_errored)
        worker.finished.connect(self._on_compare_finished)
        self.compare_button.setEnabled(False)
        self.status_label.setText(f"Comparing on '{image_layer.name}'…")
        self.worker = worker
        worker.start()
        return True

    def _on_compared(self, image_layer: Image, item) -> None:
        model, labels, scores = item
        name = f"{image_layer.name} by {Path(model).name}"
        existing = next((x for x in self.viewer.layers if x.name == name), None)
        if existing is not None:
            self.viewer.layers.remove(existing)
        scale = np.asarray(image_layer.scale[-labels.ndim :])
        translate = np.asarray(image_layer.translate[-labels.ndim :]) + self._offset * scale
        self.viewer.add_labels(labels, name=name, scale=scale, translate=translate, opacity=0.6)
        self.comparison[Path(model).name] = scores

    def _on_compare_errored(self, exc: Exception) -> None:
        self._compare_error = str(exc)
        show_error(f"Compare failed: {exc}")

    def _on_compare_finished(self) -> None:
        lines = [
            f"{name}: AP(0.5) {s['ap']['0.5']:.3f}, avS {s['avs']:.3f}"
            for name, s in self.comparison.items()
        ]
        error, self._compare_error = self._compare_error, None
        if error is not None:
            lines.append(f"Compare failed: {error}")
        if self.worker is not None and self.worker.abort_requested and error is None:
            lines.append("cancelled")
        text = "Against the labels: " + "; ".join(lines) if self.comparison else "; ".join(lines)
        self.status_label.setText(text or "Compare gave no scores.")
        self.compare_button.setEnabled(True)
        self.compare_finished.emit()


def _spin(low: int, high: int, value: int, step: int, suffix: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setSingleStep(step)
    spin.setSuffix(suffix)
    return spin

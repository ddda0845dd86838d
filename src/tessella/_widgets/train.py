"""The Train dock widget: train or fine-tune a model on image + labels layers, then compare.

It drives :func:`tessella.engine.train.loop.train_steps`, the code ``tessella train`` runs, in
a thread worker: a live loss and validation-score plot, Cancel (the best model so far is kept;
a run cancelled before its first validation leaves nothing behind). The model is written as a
user model folder (weights + card with data, command and scores) and appears at once in the
Segment widget's list. *Compare* runs the base and the new model on a pair's image and scores
both against its labels.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

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
from ._train_requests import as_different, counted, refuse_missing_layers, refuse_unwritable
from ._workers import (
    ThreadWarningsWorker,
    caught_warnings_of_this_thread,
    close_when_finished,
    report_runtime_errors,
)
from .segment import guess_layer_axes

if TYPE_CHECKING:
    import napari.viewer

__all__ = [
    "REGION_LAYER",
    "TrainWidget",
    "default_holdout",
    "layer_samples",
    "stopped_run",
]

NEW = "new:"  # base-combo data prefix for a model trained from scratch
REGION_LAYER = "compare region"  # a Shapes layer whose last rectangle bounds the comparison
INVERT = "invert_bright_background"  # the card's normalization key the invert box sets
#: the share of 2D images held out at random to score each epoch (``--val-fraction``)
HOLDOUT_FRACTION = 0.2
#: what the last Train panel of a viewer trained, for a panel reopened in that viewer
_LAST: WeakKeyDictionary = WeakKeyDictionary()


def _base_card(base: str) -> dict:
    """The raw card in directory ``base`` ({} when it cannot be read: training then reports
    the problem)."""
    from tessella.engine.registry import ModelError, read_card

    try:
        return read_card(Path(base)).raw
    except ModelError:
        return {}


def _base_kind(base: str) -> tuple[str, int, bool]:
    """(method, spatial dimensions, whether time-lapse) of a model trained from ``base``."""
    from tessella.engine.methods import get_method

    if base.startswith(NEW):
        method, ndim = base[len(NEW) :], 2
    else:
        card = _base_card(base)
        method = str(card.get("method", ""))
        model_input = card.get("input", {})
        ndim = len(model_input.get("axes", "YX")) if isinstance(model_input, dict) else 2
    try:
        temporal = bool(getattr(get_method(method), "TEMPORAL", False))
    except ValueError:
        temporal = False
    return method, ndim, temporal


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
    pairs,
    ndim: int,
    normalization: dict | None = None,
    window: int | None = None,
    holdout=(),
) -> list:
    """Training samples from ``(image layer, labels layer)`` pairs, normalised as
    ``normalization`` (a card's; default percentiles 1-99.8) says; a volume pair gives one
    sample per labelled slice for a 2D model (named ``LABELS[z=N]``), a 3D model one per slab
    between the z ranges that the ``holdout`` selectors (``LABELS[z=A:B]``) cut, as ``tessella
    train`` cuts a volume file. ``window``: a time-lapse model's frames per window; a movie
    (TYX) pair gives one sample per labelled frame (``LABELS[t=N]``), as ``tessella train
    temporal`` reads an ``images/`` + ``masks/`` folder. Raises ValueError naming a
    mismatched pair."""
    from tessella.engine.axes import spatial_of, to_model_layout
    from tessella.engine.train.data import load_pairs, slab_bounds

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
                    names.append(f"{labels_layer.name}[z={z}]")
        elif len(spatial) == 3 and ndim == 3:  # slabs cut where a hold-out range starts/ends
            slabs = slab_bounds(holdout, labels_layer.name, target.shape[0])
            for start, stop in slabs:
                images.append(data[0, start:stop])
                labels.append(target[start:stop])
                whole = len(slabs) == 1
                names.append(labels_layer.name + ("" if whole else f"[z={start}:{stop}]"))
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
                name = f"{labels_layer.name}[t={t}]"
                samples.append(Sample(stacked, target[t].astype(np.int32), name))
    if not samples:
        raise ValueError("the labels layers hold no objects to learn from")
    return samples


def default_holdout(pairs, ndim: int, temporal: bool) -> list[str]:
    """The hold-out the panel proposes for ``pairs``: for each volume (or movie, for a
    time-lapse model) the last fifth of its labelled slices (frames), at least one, as one
    contiguous range in ``--holdout``'s syntax, ``LABELS[z=A:B]`` (``[t=A:B]``); a slice's
    neighbours are near copies of it, so a random set of them would score the model on what it
    learnt. Nothing for 2D images: a random fifth of them is held out."""
    selectors = []
    for image_layer, labels_layer in pairs:
        axes = training_axes(image_layer, temporal)
        axis = "t" if temporal and "T" in axes else "z" if "Z" in axes else None
        target = labels_layer.data
        if axis is None or len(target.shape) != 3:
            continue
        labelled = [i for i in range(target.shape[0]) if np.any(target[i])]
        if len(labelled) < 2:
            continue
        first = labelled[-max(1, round(len(labelled) * HOLDOUT_FRACTION))]
        selectors.append(f"{labels_layer.name}[{axis}={first}:{target.shape[0]}]")
    return selectors


def _selectors(text: str) -> tuple[str, ...]:
    """The comma-separated hold-out selectors of the Hold out field."""
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _log_entries(out: Path) -> list[dict]:
    """The epoch entries of ``out/train.log`` (none when it cannot be read)."""
    entries = []
    try:
        lines = (out / "train.log").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "epoch" in entry:
            entries.append(entry)
    return entries


def _history(state: dict) -> list[dict]:
    """The epoch entries a checkpoint holds (those of ``train.log`` up to its epoch; none
    when it has none or they cannot be read)."""
    try:
        history = json.loads(state.get("history", "[]"))
    except (TypeError, ValueError):
        return []
    if not isinstance(history, list):
        return []
    return [e for e in history if isinstance(e, dict) and isinstance(e.get("epoch"), int)]


def trained_seconds(out: Path) -> float:
    """The seconds the stopped run in model folder ``out`` has trained, as its checkpoint
    holds them: the engine counts a resumed run's time budget from these, not from
    ``train.log`` (which may be missing or behind the checkpoint). 0 when it cannot be read
    (the engine then refuses to resume)."""
    seconds = _checkpoint(out).get("seconds", 0.0)
    return float(seconds) if isinstance(seconds, int | float) else 0.0


def _checkpoint(out: Path) -> dict:
    """The checkpoint in model folder ``out``, mapped rather than read: a few numbers are
    needed from it, not the weights and optimizer state ({} when it cannot be read: the
    engine then says why)."""
    import torch

    from tessella.engine.train.loop import CHECKPOINT

    try:
        state = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # truncated, not a checkpoint, unreadable
        return {}
    return state if isinstance(state, dict) else {}


def stopped_run(out: Path) -> str | None:
    """How the run in model folder ``out`` stopped before its last epoch ("after epoch 2 of
    5, cancelled") when it left a checkpoint to resume from; None for a finished run or a
    folder without a checkpoint. The card's ``training.stopped`` says it; a run killed outright
    (no mark) is told by its log ending before the epochs its card asked for."""
    from tessella.engine.train.loop import CHECKPOINT

    if not (out / CHECKPOINT).is_file():
        return None
    training = _read_json(out / "card.json").get("training", {})
    stopped = training.get("stopped") if isinstance(training, dict) else None
    if isinstance(stopped, dict):
        return (
            f"after epoch {stopped.get('after_epoch', '?')} of {stopped.get('of_epochs', '?')}, "
            f"{stopped.get('why', 'stopped')}"
        )
    config = training.get("config", {}) if isinstance(training, dict) else {}
    epochs = config.get("epochs") if isinstance(config, dict) else None
    done = max((int(e.get("epoch", 0)) for e in _log_entries(out)), default=0)
    if not isinstance(epochs, int):
        return None if (out / "card.json").is_file() else f"after epoch {done}"
    return f"after epoch {done} of {epochs}" if done < epochs else None


def free_name(directory: Path, name: str) -> str:
    """``name``, or ``name-2``, ``name-3``... (a trailing ``-N`` counted on) when a model
    folder of that name is in ``directory``."""
    if not (directory / name).exists():
        return name
    match = re.fullmatch(r"(.*)-(\d+)", name)
    stem, n = (match[1], int(match[2])) if match else (name, 1)
    while (directory / f"{stem}-{n + 1}").exists():
        n += 1
    return f"{stem}-{n + 1}"


@report_runtime_errors
def _train(config, samples, held) -> Generator:
    from tessella.engine.train.loop import train_steps

    return (yield from train_steps(config, samples, held))


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
    pairs: tuple = ()  # the (image id, labels id) pairs it trained on
    described: str = ""  # the layers (or folder) it trained on, as the card says
    resumed: bool = False  # it continues a stopped run in ``out``


def _nothing_yet(best: float | None, base: str | None) -> str:
    """A hint when a new model's (no ``base``) best validation score is still 0."""
    if base is not None or best is None or best > 0:
        return ""
    return (
        ". It finds nothing on the hold-out yet: a new model often needs many more steps "
        "(more epochs, or a time budget) before its first objects; or start from a "
        "trained model"
    )


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
        self.last_pairs: tuple = ()  # the (image id, labels id) pairs it was trained on
        self.last_described = ""  # what it was trained on, in words
        self._auto_holdout = ""  # the hold-out last proposed (replaced while not edited)
        self._compare_error: str | None = None  # why the last Compare failed, if it did
        self._compared = ""  # the labels and image Compare scores, in words
        self.comparison: dict[str, dict] = {}
        self._offset = np.zeros(2)  # where the compared region starts, in labels pixels
        self._losses: list[tuple[float, float]] = []  # (step, loss) of every step drawn
        self._scores: list[tuple[float, float]] = []
        self._curves_of: Path | None = None  # the model folder whose run the curves show
        self._stop_why: str | None = None  # why this panel stopped the run: its card says so

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
        self.holdout_edit = QLineEdit()
        self.holdout_edit.setPlaceholderText("a random fifth of the images")
        self.holdout_edit.setToolTip(
            "What is held out of training to score each epoch and keep the best one: labels "
            "layer names (a folder's file names), or a range of a volume's slices as "
            "LABELS[z=A:B] (slices A to B-1) or of a movie's frames as LABELS[t=A:B], "
            "comma-separated, as `tessella train --holdout`. Proposed: the last fifth of each "
            "volume's labelled slices (movie's frames): neighbouring slices are near copies, so "
            "a random set of them would score the model on what it learnt. Empty: a random "
            "fifth of the images. The card records what was held out."
        )
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("name of the new model")
        self.patch_spin = _spin(32, 1024, 256, 32, " px")
        self.epochs_spin = _spin(1, 10_000, 10, 1, "")
        self.steps_spin = _spin(1, 10_000, 25, 5, "")
        self.minutes_spin = _spin(0, 24 * 60, 0, 5, " min")
        self.minutes_spin.setSpecialValueText("no limit")
        self.minutes_spin.setToolTip(
            "Stop training after this many minutes; Resume trains this many minutes more "
            "(`tessella train --time-budget` with --resume counts the time already trained)"
        )
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
        self.resume_button = QPushButton("Resume")
        self.resume_button.setEnabled(False)
        self.resume_button.setToolTip(
            "Continue the stopped run of the model named in Save as from its checkpoint, with "
            "its settings (as `tessella train --resume`), for at most Time budget minutes "
            "more; train on the same pairs"
        )
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
        # shown once there is something to plot: empty, it took the options' room
        self.plot.setVisible(False)
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
        form.addRow("Hold out", self.holdout_edit)
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
        buttons.addWidget(self.resume_button)
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
        self.resume_button.clicked.connect(self.resume)
        self.name_edit.textChanged.connect(self._update_resume)
        self.image_combo.currentIndexChanged.connect(self._update_holdout)
        self.labels_combo.currentIndexChanged.connect(self._update_holdout)
        self.folder_edit.textChanged.connect(self._update_holdout)
        self.cancel_button.clicked.connect(self._on_cancel)
        self.compare_button.clicked.connect(self.compare)
        self.region_button.clicked.connect(self.draw_region)
        self._watch_layers()
        listen_for_models(self, self._fill_bases)
        self._fill_bases()
        self._refresh_layers()
        self._restore_last()

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
        self._update_holdout()

    def _update_holdout(self, *args) -> None:
        """Propose the hold-out for the chosen pairs and starting model (the last fifth of a
        volume's slices or a movie's frames), unless the field holds the user's own."""
        if not hasattr(self, "holdout_edit") or self._run is not None:  # building; running
            return
        text = self.holdout_edit.text().strip()
        if text and text != self._auto_holdout:
            return
        proposed = ""
        if not self.folder_edit.text().strip():
            _method, ndim, temporal = _base_kind(self.base_combo.currentData() or "")
            try:
                proposed = ", ".join(default_holdout(self._chosen_pairs(), ndim, temporal))
            except (AttributeError, TypeError, ValueError, IndexError):
                proposed = ""  # an odd layer: Train says what is wrong with it
        self._auto_holdout = proposed
        self.holdout_edit.setText(proposed)

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
        self.name_edit.setText(self._free_name(f"my-{stem}" if new else f"{stem}-finetuned"))
        self._update_holdout()

    def _free_name(self, name: str) -> str:
        return free_name(self._out_dir(name).parent, name)

    # --- training ---------------------------------------------------------------------------

    def _chosen_pairs(self) -> list[tuple[Image, Labels]]:
        ids = self.pairs or [(self.image_combo.currentData(), self.labels_combo.currentData())]
        pairs = [(find_layer(self.viewer, i), find_layer(self.viewer, j)) for i, j in ids]
        return [(i, j) for i, j in pairs if i is not None and j is not None]

    def _out_dir(self, name: str) -> Path:
        from tessella.engine.registry import user_model_dirs

        return user_model_dirs()[0] / name

    def start(self, resume: bool = False) -> bool:
        """Train on the chosen pairs; False (with a message) when the request is not valid.
        ``resume``: continue the stopped run of the model named in Save as (see
        :meth:`resume`)."""
        from tessella.engine.methods import get_method
        from tessella.engine.registry import load_model
        from tessella.engine.train.data import apply_ignore_label, split_holdout
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
            stopped = stopped_run(out)
            if out.exists() and not (resume and stopped):
                raise ValueError(
                    f"a model '{name}' exists in {out.parent}"
                    + (
                        f" (its run stopped {stopped}): Resume continues it, or choose another name"
                        if stopped
                        else f"; choose another name (e.g. {self._free_name(name)})"
                    )
                )
            holdout = _selectors(self.holdout_edit.text())
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
                    Path(folder).expanduser(), spatial, 1, norm, (), holdout, ignore_label
                )
            else:
                samples = layer_samples(
                    [(i, j) for i, j in pairs], ndim, norm, window if temporal else None, holdout
                )
            if ignore_label is not None:  # checked here, before a worker starts
                with caught_warnings_of_this_thread(UserWarning) as caught:
                    marked = apply_ignore_label(samples, ignore_label, bool(folder) and overlapping)
                for warning in caught[:1]:  # an ID clash: said once, the run goes ahead
                    show_warning(f"Train: {warning.message}")
                if overlapping:  # marked here, as bitmasks cannot be marked later
                    samples = marked
            if overlapping and not folder:
                samples = as_overlapping(samples)
            if holdout and not folder:  # said of layers, not of files as the engine says
                refuse_missing_layers(holdout, samples, pairs)
            # held out here, before a worker starts: a name that picks nothing is refused
            samples, held = split_holdout(samples, HOLDOUT_FRACTION, 0, holdout)
            if not samples:
                raise ValueError(
                    f"the hold-out ({', '.join(holdout)}) is every image: leave some to train on"
                )
            refuse_unwritable(out.parent)  # last: it makes the folder
        except ValueError as exc:
            show_error(f"Train: {exc}")
            refused = f"Not started: {exc}"
            if self.last_model is not None:  # nothing started or replaced: it is still there
                refused += ("" if refused.endswith(".") else ".") + (
                    f" Compare still runs the last model, '{self.last_model.name}'."
                )
            self.status_label.setText(refused)
            return False
        # the card records what was held out: the selectors, or the images drawn at random
        # (one image is trained on and scored on: nothing held out)
        same = len(held) == 1 and len(samples) == 1 and held[0] is samples[0]
        held_out = holdout or (() if same else tuple(dict.fromkeys(s.name for s in held)))
        described = folder or ", ".join(f"{i.name} + {j.name}" for i, j in pairs)
        minutes = self.minutes_spin.value()
        # the engine's budget counts the time already trained (as --time-budget with
        # --resume), from the checkpoint's seconds; the panel's is this session's: a Resume
        # trains that many minutes more
        trained = trained_seconds(out) if resume else 0.0
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
            time_budget=trained + minutes * 60 if minutes else None,
            resume=resume,
            val_fraction=HOLDOUT_FRACTION,
            holdout=held_out,
            command=f"napari Train widget on {described}",
        )
        worker = create_worker(
            _train,
            config,
            samples,
            held,
            _worker_class=ThreadWarningsWorker,
            _ignore_errors=True,
            _start_thread=False,
        )
        # first: the log is closed before a cancelled run is removed; the card says why it stopped
        self._stop_why = None
        close_when_finished(worker, lambda: self._why_stopped(worker))
        worker.yielded.connect(self._on_progress)
        worker.errored.connect(self._on_errored)
        # superqt's worker does not notify by itself; this one's warned carries only the
        # warnings of its own thread (a warning raised on the GUI thread meanwhile is not Train's)
        worker.warned.connect(self._on_warned)
        worker.finished.connect(self._on_finished)
        total = config.epochs * config.steps_per_epoch
        self._run = _Run(
            out,
            base_path,
            total,
            time.perf_counter(),
            ignore_label,
            temporal,
            pairs=tuple((i.unique_id, j.unique_id) for i, j in pairs),
            described=described,
            resumed=resume,
        )
        drawn = self._losses if resume and self._curves_of == out else []
        self._losses, self._scores, self._curves_of = [], [], out
        self.plot.clear()
        self.plot.setVisible(True)
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(0)
        if resume:  # the curves so far: the steps drawn here, else the run's log
            self._resume_curves(out, config.steps_per_epoch, drawn)
        self.status_label.setText(
            f"{'Resuming' if resume else 'Training'} '{name}'"
            + (f" for at most {minutes} min more" if resume and minutes else "")
            + f" on {counted(samples)}, "
            + (
                "scored on the same one (add another pair to hold one out)…"
                if same
                else f"holding out {counted(held)}: {', '.join(held_out)}…"
            )
        )
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
            self.holdout_edit,
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
        self._update_resume()

    def _update_resume(self, *args) -> None:
        """Offer Resume while Save as names a model folder whose run stopped early."""
        name = self.name_edit.text().strip()
        usable = bool(name) and not any(c in name for c in "/\\:") and not name.startswith(".")
        stopped = stopped_run(self._out_dir(name)) if usable else None
        self.resume_button.setEnabled(self._run is None and stopped is not None)
        self.resume_button.setToolTip(
            f"Continue '{name}', stopped {stopped}, from its checkpoint with the settings it "
            "was started with (as `tessella train --resume`), for at most Time budget minutes "
            "more; train on the same pairs"
            if stopped
            else "Continue a stopped run: name its model in Save as"
        )

    def resume(self) -> bool:
        """Continue the stopped run of the model named in Save as from its checkpoint: the
        settings it was started with (starting model, epochs, steps, patch, learning rate,
        hold-out, averaging, unannotated label) are put back in the panel first, then it
        trains on the chosen pairs, as ``tessella train --resume`` does, for at most the
        Time budget's minutes more (no limit: to its last epoch)."""
        name = self.name_edit.text().strip()
        if self._run is not None:
            show_info("Train: a run is in progress; cancel it first.")
            return False
        out = self._out_dir(name) if name else None
        if out is None or stopped_run(out) is None:
            show_error(f"Train: no stopped run named '{name}' to resume")
            self.status_label.setText(f"Not resumed: no stopped run named '{name}'")
            return False
        self._show_run_settings(out)
        return self.start(resume=True)

    def _show_run_settings(self, out: Path) -> None:
        """Put the settings the run in model folder ``out`` started with (its card's) back in
        the panel, and its name in Save as."""
        name = out.name
        training = _read_json(out / "card.json").get("training", {})
        config = training.get("config", {}) if isinstance(training, dict) else {}
        if isinstance(config, dict) and config:
            base = config.get("base") or NEW + str(config.get("method", ""))
            index = self.base_combo.findData(base)
            if index >= 0:
                self.base_combo.setCurrentIndex(index)  # resets the name, put back below
            for spin, key in (
                (self.epochs_spin, "epochs"),
                (self.steps_spin, "steps_per_epoch"),
                (self.patch_spin, "patch"),
            ):
                if isinstance(config.get(key), int):
                    spin.setValue(config[key])
            if isinstance(config.get("lr"), float | int):
                self.lr_spin.setValue(float(config["lr"]))
            self.ignore_spin.setValue(int(config.get("ignore_label") or 0))
            self.average_check.setChecked(bool(config.get("ema")))
            self.invert_check.setChecked(bool(config.get(INVERT)))
            self.holdout_edit.setText(", ".join(config.get("holdout") or ()))
        self.name_edit.setText(name)

    def _resume_curves(self, out: Path, steps_per_epoch: int, drawn=()) -> None:
        """The loss and score curves of a resumed run up to where it stopped, which is where
        its checkpoint is (``train.log`` may be missing, or behind or ahead of it): the loss
        of each step of the epochs kept, as the checkpoint keeps them, else as this panel
        drew them (``drawn``: (step, loss) points; those of an epoch cut short are dropped,
        as the run does it again); after those, one point per epoch, its mean loss, and the
        scores, from the checkpoint's history, else the log."""
        from tessella.engine.train.loop import checkpoint_losses

        state = _checkpoint(out)
        entries = _history(state) or _log_entries(out)
        epoch = state.get("epoch")
        if isinstance(epoch, int):
            entries = [e for e in entries if int(e["epoch"]) <= epoch]
        else:  # no checkpoint to tell (the engine refuses to resume then): the log's
            epoch = max((int(e["epoch"]) for e in entries), default=None)
        kept = None if epoch is None else epoch * steps_per_epoch
        points = checkpoint_losses(state) or list(drawn)
        self._losses = [(x, y) for x, y in points if kept is None or x <= kept]
        covered = max((x for x, _ in self._losses), default=0)
        for entry in entries:
            step = int(entry["epoch"]) * steps_per_epoch
            score = next((v for k, v in entry.items() if k.startswith("val_")), None)
            if isinstance(score, float | int):
                self._scores.append((step, float(score)))
            if isinstance(entry.get("loss"), float | int) and step > covered:
                self._losses.append((step, float(entry["loss"])))
        self.plot.set_series("loss", self._losses)
        self.plot.set_series("validation score", self._scores)
        self.progress_bar.setValue(
            int(min(max((s for s, _ in self._scores), default=0), self.progress_bar.maximum()))
        )

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
                    + _nothing_yet(progress.best_score, self._run.base if self._run else "")
                )
            return
        if not np.isfinite(progress.loss):  # a skipped step (a NaN loss) has none to plot
            return
        self._losses.append((progress.step, progress.loss))
        if len(self._losses) % 5 == 1:  # repaint now and then, not every step
            self.plot.set_series("loss", self._losses)

    def _why_stopped(self, worker):
        """The engine's TrainingStopped saying why ``worker``'s run was stopped, when not by
        Cancel (closing the generator records "cancelled"): this panel closed, or the viewer
        (napari quits the workers of a window that closes); None when it was not stopped.
        Called once the worker has finished, even after the widget was deleted."""
        from tessella.engine.train.loop import TrainingStopped

        if not worker.abort_requested:
            return None
        why = self._stop_why or "viewer closed"
        return None if why == "cancelled" else TrainingStopped(why)

    def _on_cancel(self) -> None:
        if self._stop_why is None:
            self._stop_why = "cancelled"
        if self.worker is not None:
            self.worker.quit()  # at the next training step
        self.cancel_button.setEnabled(False)
        self.status_label.setText("Cancelling after the current step…")

    def _panel_closed(self) -> None:
        """The panel was closed: training stops as Cancel stops it (the best model so far is
        kept), rather than going on unseen."""
        if self._run is not None and self.worker is not None:
            if self._stop_why is None:  # a run already cancelled stays "cancelled"
                self._stop_why = "panel closed"
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
            self.last_pairs, self.last_described = run.pairs, run.described
            self._remember()
            model_events.added.emit(run.out)
            cancelled = self.worker is not None and self.worker.abort_requested
            what = "Cancelled; kept the best model so far" if cancelled else "Saved"
            if run.error is not None:
                what = f"Training failed: {run.error}. Kept the best model so far"
            best = ""
            base_score = self._scores[0][1] if run.base and self._scores else None
            if self._scores:
                best_score = max(s for _, s in self._scores)
                hint = _nothing_yet(best_score, run.base).replace(". It", "; it")
                if base_score is None:
                    best = f" (best validation score {best_score:.3f}{hint})"
                else:  # what the fine-tune gained
                    shown, base_shown = as_different(best_score, base_score)
                    best = f" (best validation score {shown}, base {base_shown})"
            if base_score is not None and all(s <= base_score for _, s in self._scores[1:]):
                best = (  # the engine keeps the base until an epoch beats it
                    f": no epoch beat the base model's validation score {base_score:.3f}, so "
                    "its weights were kept unchanged (more epochs or another learning rate?)"
                )
            stopped = stopped_run(run.out)
            self.status_label.setText(
                f"{what}: '{run.out.name}' in {run.out.parent}"
                + (best if self._scores else "")
                + f", {time.perf_counter() - run.started:.0f} s"
                + (f". It stopped {stopped}: Resume continues it" if stopped else "")
            )
            if stopped is None:  # finished: the next run needs a name of its own
                self.name_edit.setText(self._free_name(run.out.name))
        # a checkpoint without a card (the card could not be written: a full disk, or a
        # stop before the first best model was) is what Resume continues: never removed
        resumable = None if saved else stopped_run(run.out)
        if not saved and run.error is not None:
            self._forget_last_model()
        if not saved and resumable is None and not run.resumed:
            shutil.rmtree(run.out, ignore_errors=True)  # stopped before it had a model
        if resumable is not None:
            kept = f"; its checkpoint ({resumable}) is kept in {run.out}: Resume continues it"
            self.status_label.setText(
                (f"Training failed: {run.error}" if run.error is not None else "Stopped")
                + f"; no model was saved{kept}"
            )
        elif not saved and run.error is None:
            epochs_scored = self._scores[1 if run.base else 0 :]  # not the base's
            self.status_label.setText(
                "Stopped; no model was saved."
                if epochs_scored
                else "Stopped before the first epoch ended; nothing saved."
            )
        self._set_running(False)
        self.run_finished.emit()

    def _remember(self) -> None:
        """Keep the last model for a Train panel reopened in this viewer."""
        _LAST[self.viewer] = {
            "model": self.last_model,
            "base": self.last_base,
            "ignore_label": self.last_ignore_label,
            "temporal": self.last_temporal,
            "pairs": self.last_pairs,
            "described": self.last_described,
            "curves": (list(self._losses), list(self._scores)),  # its run's, to draw again
        }
        self._show_compare_label()

    def _restore_last(self) -> None:
        """A panel reopened in a viewer takes up the last model trained there, if its
        folder still holds it (Compare runs it again)."""
        last = _LAST.get(self.viewer)
        if not last or not (Path(last["model"]) / "card.json").is_file():
            return
        self.last_model, self.last_base = Path(last["model"]), last["base"]
        self.last_ignore_label, self.last_temporal = last["ignore_label"], last["temporal"]
        self.last_pairs, self.last_described = last["pairs"], last["described"]
        self._show_compare_label()
        self.compare_button.setEnabled(self._run is None)
        text = (
            f"Last model: '{self.last_model.name}' in {self.last_model.parent}"
            f" (trained on {self.last_described}); Compare runs it."
        )
        stopped = stopped_run(self.last_model)
        if stopped is not None:  # its run stopped (Cancel, this panel closed): offer Resume
            self._show_run_settings(self.last_model)
            self._losses, self._scores = (list(c) for c in last.get("curves", ([], [])))
            self._curves_of = self.last_model
            self.plot.set_series("loss", self._losses)
            self.plot.set_series("validation score", self._scores)
            self.plot.setVisible(bool(self._losses or self._scores))
            self.pairs = [p for p in self.last_pairs if all(find_layer(self.viewer, i) for i in p)]
            self._show_pairs()
            text += f" Its run stopped {stopped}: Resume continues it"
            text += " on the same pairs." if self.pairs else " (add the pairs it trained on)."
        self.status_label.setText(text)

    def _forget_last_model(self) -> None:
        """After a failed run (one the engine refused included) that saved no model,
        Compare no longer offers the model trained before: next to the failure of another
        model it read as that one's. A request refused before a run starts keeps it."""
        self.last_model, self.last_base, self.last_pairs = None, None, ()
        _LAST.pop(self.viewer, None)
        self.compare_button.setEnabled(False)
        self._show_compare_label()

    def _show_compare_label(self) -> None:
        """Compare with base, or, for a model with no base, with the labels only."""
        with_base = self.last_model is None or bool(self.last_base)
        self.compare_button.setText("Compare with base" if with_base else "Compare with labels")
        self.compare_button.setToolTip(
            "Segment the pair's image with the starting model and the new one, and score both "
            "against its labels"
            if with_base
            else "Segment the pair's image with the new model (it has no starting model) and "
            "score it against the labels"
        )

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

    def _compare_pair(self) -> tuple[Image, Labels]:
        """The pair Compare runs on: the first of the Pairs list; with none listed, the pair
        the model was trained on, while its layers are there (else the Image and Labels
        boxes, for a model not trained on layers). ValueError when the layers it was trained
        on are gone and no pair is listed: the boxes may pair any image with any labels."""
        listed = [(find_layer(self.viewer, i), find_layer(self.viewer, j)) for i, j in self.pairs]
        trained = [
            (find_layer(self.viewer, i), find_layer(self.viewer, j)) for i, j in self.last_pairs
        ]
        for image, labels in [*listed, *trained]:
            if image is not None and labels is not None:
                return image, labels
        if self.last_pairs:
            raise ValueError(
                f"the layers '{self.last_model.name if self.last_model else ''}' was trained "
                f"on ({self.last_described}) are gone; add a pair (an image and its labels) "
                "to compare on"
            )
        image = find_layer(self.viewer, self.image_combo.currentData())
        labels = find_layer(self.viewer, self.labels_combo.currentData())
        if image is None or labels is None:
            raise ValueError("add a pair (an image and its labels) to compare on")
        return image, labels

    def compare(self) -> bool:
        """Run the base model and the new one on a pair (see :meth:`_compare_pair`), within
        the region drawn in the compare-region layer, if any; add both, score both against
        the labels, and name the image and labels in the status."""
        if self.last_model is None:
            show_info("Compare: train a model first.")
            return False
        try:
            image_layer, labels_layer = self._compare_pair()
        except ValueError as exc:
            show_error(f"Compare: {exc}")
            self.status_label.setText(f"Not compared: {exc}")
            return False
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
            _worker_class=ThreadWarningsWorker,
            _ignore_errors=True,
            _start_thread=False,
        )
        self.comparison, self._compare_error = {}, None
        close_when_finished(worker)
        worker.yielded.connect(lambda item: self._on_compared(image_layer, item))
        worker.errored.connect(self._on_compare_errored)
        worker.warned.connect(lambda args: show_warning(f"Compare: {args[0]}"))
        worker.finished.connect(self._on_compare_finished)
        self.compare_button.setEnabled(False)
        self._compared = f"'{labels_layer.name}' on '{image_layer.name}'"
        self.status_label.setText(f"Comparing: {self._compared}…")
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
        self.viewer.add_labels(
            labels,
            name=name,
            scale=scale,
            translate=translate,
            units=image_layer.units[-labels.ndim :],  # (other units: napari drops them all)
            axis_labels=image_layer.axis_labels[-labels.ndim :],
            opacity=0.6,
        )
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
        text = (
            f"Against {self._compared}: " + "; ".join(lines)
            if self.comparison
            else "; ".join(lines)
        )
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

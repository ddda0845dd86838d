"""The Train dock widget: train or fine-tune a model on image + labels layers, then compare.

It drives :func:`tessella.engine.train.loop.train_steps`, the code ``tessella train`` runs, in
a thread worker: a live loss and validation-score plot, Cancel (the best model so far is kept;
a run cancelled before its first validation leaves nothing behind). The model is written as a
user model folder (weights + card with data, command and scores) and appears at once in the
Segment widget's list. *Compare* runs the base and the new model on a pair's image and scores
both against its labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from napari.utils.notifications import show_error as show_error  # looked up here: see below
from napari.utils.notifications import show_info as show_info
from napari.utils.notifications import show_warning as show_warning
from qtpy.QtCore import Qt, Signal
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
    QSizePolicy,
    QSpinBox,
    QWidget,
)
from superqt.utils import FunctionWorker, GeneratorWorker

from ._layers import LayerWatcher
from ._layout import panel_layout
from ._models import listen as listen_for_models
from ._plot import COLORS, LinePlot
from ._train_choices import TrainChoices
from ._train_comparing import TrainComparing
from ._train_data import NEW as NEW  # tests import it from here
from ._train_data import REGION_LAYER, default_holdout, layer_samples
from ._train_data import training_axes as training_axes  # (tests, too)
from ._train_restoring import TrainRestoring
from ._train_running import TrainRunning
from ._train_runs import _Run, stopped_run
from ._train_starting import TrainStarting

if TYPE_CHECKING:
    import napari.viewer

# the mixins look show_info, show_warning and show_error up here (_train_notices): replacing
# them here (as tests do) replaces them everywhere
__all__ = [
    "REGION_LAYER",
    "TrainWidget",
    "default_holdout",
    "layer_samples",
    "stopped_run",
]


class TrainWidget(
    TrainChoices, TrainStarting, TrainRunning, TrainRestoring, TrainComparing, LayerWatcher, QWidget
):
    """Train or fine-tune a model on pairs of image and labels layers."""

    #: emitted when a training run ends (done, cancelled or failed) and the widget is usable
    run_finished = Signal()
    #: emitted when a comparison ends
    compare_finished = Signal()

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        from tessella.engine.device import DEVICE_CHOICES
        from tessella.engine.train._config import DEFAULT_BATCH_SIZE, default_lr

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
        self.last_held: dict = {}  # the pairs it held out, whole or in part (_Run.held)
        self._auto_holdout = ""  # the hold-out last proposed (replaced while not edited)
        # the model folder of a stopped run and the hold-out its run drew at random: its
        # Resume holds those out again (they are not put in Hold out)
        self._drawn_holdout: tuple[Path | None, tuple[str, ...]] = (None, ())
        # the model folder of a stopped run whose settings are in the panel (put back, or
        # its run stopped here), those settings as shown and when its checkpoint was
        # written: Resume tells the user's changes since from them
        self._restored: tuple[Path | None, dict, int | None] = (None, {}, None)
        self._running_settings: dict = {}  # those of the run under way, as shown
        self._resume_changes: list[str] = []  # the user's changes a Resume applies, in words
        self._compare_error: str | None = None  # why the last Compare failed, if it did
        # Compare's reading of a folder run's held-out files, and whether it has just added
        # their layers (the Compare it then runs finds them)
        self._held_out_worker: FunctionWorker | None = None
        self._held_out_added = False
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
        # long layer names (a 64-character file stem) neither widen the dock nor need a
        # sideways scroll bar: elided in the middle, whole in each item's tooltip; the combos
        # ask for a few characters' width, not their longest entry's
        self.pair_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.pair_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for combo in (self.image_combo, self.labels_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(16)
        self.base_combo = QComboBox()
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("or a folder with images/ and masks/ (or boundaries/)")
        self.folder_edit.setToolTip("Train on the files of a folder instead of layers")
        self.holdout_edit = QLineEdit()
        self.holdout_edit.setPlaceholderText("a volume's last fifth, a random fifth of 2D images")
        self.holdout_edit.setToolTip(
            "What is held out of training to score each epoch and keep the best one: labels "
            "layer names (a folder's file names), or a range of a volume's slices as "
            "LABELS[z=A:B] (slices A to B-1) or of a movie's frames as LABELS[t=A:B], "
            "comma-separated, as `tessella train --holdout`. Proposed: the last fifth of each "
            "volume's labelled slices (movie's frames): neighbouring slices are near copies, so "
            "a random set of them would score the model on what it learnt. Empty: the same "
            "last fifth of each volume (a folder's too) and a random fifth of the 2D images. "
            "The card records what was held out."
        )
        self.val_folder_edit = QLineEdit()
        self.val_folder_edit.setPlaceholderText("or a folder with images/ and masks/ to score on")
        self.val_folder_edit.setToolTip(
            "Score each epoch on the files of this folder (images/ and masks/, or boundaries/, "
            "as Folder) instead of holding out some of the training data, as `tessella train "
            "--val-data`: every pair (or the whole Folder) is trained on. Leave Hold out empty "
            "with it. A run started with --val-data puts its folder here; Resume scores on it "
            "again."
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
        # the batch `tessella train` takes (the engine's, one source for both)
        self.batch_spin = _spin(1, 256, DEFAULT_BATCH_SIZE, 1, "")
        self.batch_spin.setToolTip(
            "Crops per training step (as `tessella train --batch-size`): more is steadier and "
            "slower per step; fewer fits a small GPU"
        )
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(1e-5, 1e-1)
        self.lr_spin.setSingleStep(1e-4)
        self.lr_spin.setValue(default_lr(True))  # (set again with the starting model)
        self.lr_spin.setToolTip(
            "As `tessella train --lr`; it decays to 0 over the run. Proposed: 3e-4 to fine-tune "
            "a model, 1e-3 for a new one, as `tessella train` takes unless told"
        )
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
        # fixed colours: a fine-tune's base is scored (step 0) before its first loss
        self.plot = LinePlot(
            "step",
            "loss",
            colors={"loss": COLORS[0], "validation score": COLORS[1]},
            height=140,
        )
        # the validation score on an axis of its own (0-1): on the loss's (about 2 at the
        # start of a run) it was drawn flat at the bottom; named for the method at start
        self.score_plot = LinePlot(
            "step",
            "validation score",
            y_range=(0.0, 1.0),
            colors={"validation score": COLORS[1]},
            height=140,
        )
        for plot in (self.plot, self.score_plot):
            plot.setMinimumHeight(120)
            # shown once there is something to plot: empty, it took the options' room
            plot.setVisible(False)
        # how long Train trains and what it holds out, as the spins and Hold out stand
        self.plan_label = QLabel()
        self.plan_label.setWordWrap(True)
        # wrapped to the dock's width, never widening it (its option words are long)
        policy = self.plan_label.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
        self.plan_label.setSizePolicy(policy)
        self.plan_label.setToolTip(
            "The panel's run is short by default (10 epochs of 25 steps) and holds out a fifth "
            "of the images to score each epoch; `tessella train` trains 50 of 100 and holds "
            "out a tenth unless told. The model's card records the settings used."
        )
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
        form.addRow("Hold-out folder", self.val_folder_edit)
        form.addRow("Start from", self.base_combo)
        form.addRow("Save as", self.name_edit)
        form.addRow("Patch", self.patch_spin)
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("Steps per epoch", self.steps_spin)
        form.addRow("Time budget", self.minutes_spin)
        form.addRow("Batch size", self.batch_spin)
        form.addRow("Learning rate", self.lr_spin)
        form.addRow("Run", self.plan_label)
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
        footer.addWidget(self.score_plot)
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
        self.folder_edit.textEdited.connect(self._on_folder_edited)  # typed, not set
        for spin in (self.epochs_spin, self.steps_spin, self.batch_spin, self.minutes_spin):
            spin.valueChanged.connect(self._update_plan)
        self.holdout_edit.textChanged.connect(self._update_plan)
        self.folder_edit.textChanged.connect(self._update_plan)
        self.val_folder_edit.textChanged.connect(self._update_holdout)
        self.val_folder_edit.textChanged.connect(self._update_plan)
        self._update_plan()
        self.cancel_button.clicked.connect(self._on_cancel)
        self.compare_button.clicked.connect(self.compare)
        self.region_button.clicked.connect(self.draw_region)
        self._watch_layers()
        listen_for_models(self, self._fill_bases)
        self._fill_bases()
        self._refresh_layers()
        self._restore_last()

    def _update_plan(self, *args) -> None:
        """Say in Run how long Train would train and what it would hold out."""
        from ._train_plan import plan_in_words

        self.plan_label.setText(
            plan_in_words(
                self.epochs_spin.value(),
                self.steps_spin.value(),
                self.batch_spin.value(),
                self.holdout_edit.text(),
                bool(self.folder_edit.text().strip()),
                self.minutes_spin.value(),
                self.val_folder_edit.text().strip(),
            )
        )


def _spin(low: int, high: int, value: int, step: int, suffix: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setSingleStep(step)
    spin.setSuffix(suffix)
    return spin

"""The Evaluate dock widget: score a labels layer against a ground-truth labels layer.

The widget reads its controls and calls :func:`tessella.engine.evaluation.evaluate_labels`
(:func:`~tessella.engine.evaluation.evaluate_masks` for overlapping masks), so its scores are
what ``tessella evaluate PRED GT`` prints for the same arrays with the flag of the ground
truth's kind ("Ground truth is": instances, ``--gt-binary``, ``--gt-boundaries``,
``--gt-boundaries-3d`` or ``--overlapping``; chosen from the data when the layers change).
Pairs up to :data:`SYNC_MAX_PIXELS` pixels are scored at once (a 2048 x 2048 image takes about
half a second); larger ones in a thread worker, with a progress bar and Cancel (the scoring
stops after the image it is matching, or the group of overlapping masks; one large image
counted on the bar by its parts of 2048 x 2048 pixels, at the next part). "Show errors" puts the
unmatched objects in a labels layer ``"<prediction> errors @<IoU>"``: false positives red, false
negatives cyan, a false positive lying on a missed object red hatched with cyan lines, both
shown (crossing worms; a fragment of a missed cell) (and yellow, not annotated, the predicted
objects of cell size touching no ground-truth object in annotated frames whose ground truth
looks sparse, annotating only some cells: a CTC SEG folder such as GOWT1's; the counts table
counts them apart from FP, while AP and F1 count them as false positives, as ``tessella
evaluate`` does), the only filled objects
while it is shown (its prediction and ground truth are drawn as outlines meanwhile, dimmed
instead above 2048 x 2048 pixels a plane). Each
prediction has one such layer, updated by every evaluation; hidden and named ``(stale)`` when
its prediction or ground truth is removed, has its
data replaced (:mod:`._evaluate_errors`) or is edited (painted, filled, corrected, an undo or
redo; a type Correct widens for a split's new IDs is the same labels). "Score annotated frames
only" scores ground truth that annotates some frames or slices only there (checked by itself for
a Cell Tracking Challenge SEG folder the reader opened, sparse or annotating every frame), as
``tessella evaluate`` scores such a folder, with SEG (the Cell Tracking Challenge's score of
the annotated cells, ``--metric seg``) first. A tracked prediction (a time-lapse model's
result, a CTC result reopened) against a CTC ground truth with ``TRA`` (beside its ``SEG``
folder, or opened itself) has its links and divisions scored too, as ``tessella evaluate RES
NN_GT --ctc`` scores them (:mod:`._evaluate_links`). Until an evaluation (or another
message) takes it, the status line names the pair Evaluate will score, or the layer missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Labels
from napari.utils.notifications import show_info
from qtpy.QtCore import QSize, Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QWidget,
)
from superqt.utils import FunctionWorker

from ._correct_edits import _history_length, being_widened
from ._evaluate_errors import EvaluateErrors
from ._evaluate_kinds import GUESS_SAMPLE_PIXELS, GUESS_SYNC_PIXELS, TRUTH_KINDS, EvaluateKinds
from ._evaluate_picks import EvaluatePicks
from ._evaluate_run import (
    ERRORS_KEY,
    SCORE_ROWS,
    SYNC_MAX_PIXELS,
    VRAND_COLUMNS,
    VRAND_ROWS,
    EvaluateRun,
    _Run,
)
from ._evaluate_run import _frame_axis as _frame_axis  # tests import it from here
from ._evaluate_stale import RESULTS_CAPTION, EvaluateStale
from ._labels_states import tool_is_writing
from ._layers import LayerWatcher, fill_layer_combo, find_layer
from ._layout import panel_layout
from ._plot import LinePlot

if TYPE_CHECKING:
    import napari.viewer

    from tessella.engine.evaluation import Evaluation

__all__ = [
    "ERRORS_KEY",
    "EvaluateWidget",
    "GUESS_SAMPLE_PIXELS",
    "GUESS_SYNC_PIXELS",
    "SYNC_MAX_PIXELS",
]

#: the counts table's headers, short: six columns of 53 px at the dock's default width clipped
#: "Predicted" ("Predictec"); each says itself in full in its tooltip (COUNT_TIPS)
COUNT_COLUMNS = ("Pred.", "Truth", "TP", "FP", "FN")
COUNT_TIPS = (
    "Predicted objects",
    "Ground-truth objects",
    "True positives: predicted objects matched to a ground-truth object",
    "False positives: predicted objects matched to none (red in the errors layer)",
    "False negatives: ground-truth objects matched to none (cyan in the errors layer)",
)
#: the AP plot's height (LinePlot's own minimum, 170, is more than make run's layout spares)
PLOT_HEIGHT = 130
_KIND_TIP = (
    "What the ground-truth layer holds, as `tessella evaluate` flags say it:\n"
    "instances: each object its own ID;\n"
    "binary mask: 0/1, each connected piece an object (--gt-binary);\n"
    "boundary map: 1 = membrane, the regions inside are the objects, each 2D section scored "
    "on its own (--gt-boundaries);\n"
    "boundary map, 3D: the same, its regions connected across sections, one volume "
    "(--gt-boundaries-3d);\n"
    "overlapping masks: an (N, Y, X) stack, one object per plane, scored one-to-one against "
    "the prediction's objects whole (--overlapping)"
)

_ANNOTATED_TIP = (
    "Ground truth that annotates only some frames (or slices) of a movie, as the Cell "
    "Tracking Challenge's SEG folders do:\nscore only those, as its SEG measure does, not "
    "the empty rest as frames without cells (every predicted object there a false "
    "positive),\nand shows SEG, the Cell Tracking Challenge's score of the annotated cells.\n"
    "On by itself for a SEG folder the reader opened, whether it annotates some frames "
    "(GOWT1's) or every frame (SIM+'s): its files say which frames and slices;\non other "
    "labels it scores the frames holding an object, along the first axis\n(a frame "
    "annotated as holding no cells is then left out too)"
)


def _companion_ids(viewer, labels: list[Labels]) -> set:
    """The ids of the layers Segment or Tune placed beside a result (its "overlaps"): part
    of that prediction, never its ground truth by default. One is known by its name too
    ("NAME overlaps" beside labels "NAME"): the layer list changes before it is recorded."""
    from . import _results

    found = [_results.companion_layer(viewer, layer, "overlaps") for layer in labels]
    names = {f"{layer.name} overlaps" for layer in labels}
    return {layer.unique_id for layer in found if layer is not None} | {
        layer.unique_id for layer in labels if layer.name in names
    }


def _wrapped_label() -> QLabel:
    """A label whose text wraps at the panel's width, never sets it. Its width is the
    panel's, never its own: QLabel's hint (531 px for a guess's note) made the body's hinted
    height that of a wide body, the note on fewer lines than the dock's width gives it, and
    the panel, no taller than that hint, scrolled the rest (the AP plot's x axis) out of
    sight; a label on one line ("Foreground IoU: — (objects overlap: AP only, as
    --overlapping)", 416 px) made the body wider than the dock, cut at its right edge with
    the tables' last columns."""
    label = QLabel()
    label.setWordWrap(True)
    policy = label.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    label.setSizePolicy(policy)
    return label


def _read_only_table(rows: int, columns: int) -> QTableWidget:
    table = QTableWidget(rows, columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    row_header = table.verticalHeader()
    row_header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    # rows as tall as their text (Qt's default, about 30 px, made the scores table 172 px:
    # in make run's layout it was cut after Recall, the plot below the fold)
    row_header.setMinimumSectionSize(1)
    row_header.setDefaultSectionSize(table.fontMetrics().height() + 6)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    height = table.horizontalHeader().sizeHint().height() + table.verticalHeader().length()
    table.setFixedHeight(height + 2 * table.frameWidth() + 2)
    return table


class EvaluateWidget(
    EvaluateStale, EvaluateKinds, EvaluateRun, EvaluateErrors, EvaluatePicks, LayerWatcher, QWidget
):
    """Score a predicted labels layer against a ground-truth labels layer.

    The scores table holds AP, precision, recall and F1 at IoU 0.5 to 0.9 and avS (mean AP),
    with foreground IoU below it; the counts table the objects of both layers and the true and
    false positives and false negatives at the error IoU. ``last_scores`` is the dict
    ``tessella evaluate --metric ap --metric iou`` reports (``--overlapping``: AP only); of a
    boundary map (2D sections or 3D), ``--metric vrand`` too: V_rand and VOI, each with its
    split and merge parts, shown above the AP table (``vrand_table``, hidden otherwise).
    "Ground truth is" (``kind_combo``) is chosen from the data whenever the pair of layers
    changes, saying why in ``kind_label``; a choice made by hand is then replaced. A lazy
    (dask, zarr) or large ground truth is looked at in a thread worker (``kind_worker``), from
    a sample of it; ``kind_guessed`` is emitted when the guess is shown.
    """

    #: emitted after every evaluation (done or failed) once the controls are usable again
    evaluation_finished = Signal()
    #: emitted when "Ground truth is" was guessed for a pair (at once, or by a worker)
    kind_guessed = Signal()

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.worker: FunctionWorker | None = None
        self.last_scores: dict | None = None
        self.last_evaluation: Evaluation | None = None
        self._run: _Run | None = None  # the evaluation in progress
        self._closed_run: _Run | None = None  # the one in progress when the panel was closed
        # the run in a worker: scoring several images (a count of them came), and counting an
        # image's parts of pixels (one image of more than 2048 x 2048: Cancel acts at the next)
        self._several_images = self._scoring_parts = False
        self._scored: _Run | None = None  # the evaluation behind the tables
        self._error_layers: dict[str, str] = {}  # prediction layer id -> error layer id
        self._error_runs: dict[str, _Run] = {}  # error layer id -> the run it shows, if current
        self._outlined: dict[str, int] = {}  # layer id -> the outline Evaluate drew it with
        self._outlined_by: dict[str, tuple] = {}  # shown error layer id -> the layers outlined
        self._data_versions: dict[str, int] = {}  # layer id -> times its data were changed
        self._replaced_at: dict[str, int] = {}  # layer id -> its version when last replaced
        self._undo_lengths: dict[str, tuple] = {}  # layer id -> its undo and redo steps
        self._widened: dict[str, tuple[str, str]] = {}  # layer id -> types of a widening
        self._truth_by_hand = False  # the ground truth was chosen by the user: kept
        self._picking = False  # the widget itself sets a choice
        self._kind_pair: tuple | None = None  # the (prediction, truth) the kind was guessed for
        self.kind_worker: FunctionWorker | None = None  # guessing from a sample, if any
        self._worker_pair: tuple | None = None  # the pair kind_worker guesses for
        self._guessing: tuple | None = None  # the pair the worker's guess is still wanted for
        self._kind_said: tuple | None = None  # the guess shown, (kind, why) and its line

        self.pred_combo = QComboBox()
        self.pred_combo.setToolTip("The labels to score")
        self.truth_combo = QComboBox()
        self.truth_combo.setToolTip(
            "The reference labels, of the same shape (an (N, Y, X) stack of overlapping "
            "object masks for a (Y, X) prediction)"
        )
        self.kind_combo = QComboBox()
        for text, kind in TRUTH_KINDS:
            self.kind_combo.addItem(text, kind)
        self.kind_combo.setToolTip(_KIND_TIP)
        self.kind_label = _wrapped_label()
        self.iou_label = _wrapped_label()
        self.iou_label.setToolTip(
            "Foreground IoU: every object's pixels as one mask, against the ground truth's "
            "(`tessella evaluate --metric iou`; the headline score of semantic models such as "
            "em-mito2d)"
        )
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(0.05, 1.0)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setValue(0.5)
        self.threshold_spin.setToolTip(
            "An object counts as matched (a true positive) where it overlaps a ground-truth "
            "object at least this much (IoU): the TP / FP / FN table and the errors layer use "
            "it; the score table is at 0.5 to 0.9 whatever it is"
        )
        self.ignore_spin = QSpinBox()
        self.ignore_spin.setRange(0, 2**31 - 1)
        self.ignore_spin.setSpecialValueText("none")
        self.ignore_spin.setToolTip(
            "Sparse ground truth: pixels of this label were not annotated and are not scored\n"
            "(as `tessella evaluate --ignore-label N`). none: every unlabelled pixel is "
            "background"
        )
        self.annotated_checkbox = QCheckBox("Score annotated frames only")
        self.annotated_checkbox.setToolTip(_ANNOTATED_TIP)
        self._annotated_for: str | None = None  # the ground truth it was last set for
        self.errors_checkbox = QCheckBox("Show errors")
        self.errors_checkbox.setToolTip(
            "Add a layer: red = predicted objects with no match (false positives),\n"
            "cyan = ground-truth objects with no match (false negatives);\n"
            "red hatched with cyan lines = a false positive lying on a missed object (both);\n"
            "yellow = not annotated: in frames whose ground truth looks sparse (many predicted\n"
            "cells there touch none of its objects), the predicted objects of cell size\n"
            "touching no ground-truth object (smaller debris stays red; the counts table\n"
            "counts them apart from FP, AP and precision as false positives).\n"
            "While it is shown, the prediction and ground truth are drawn as outlines\n"
            "(dimmed instead where a plane is larger than 2048 x 2048 pixels, as outlines\n"
            "are slow to redraw), so that the errors stand out (hide it to restore them)"
        )
        self.evaluate_button = QPushButton("Evaluate")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip(
            "Stop a large pair's scoring after the image (frame, section), or the group of "
            "overlapping masks, being matched; one large image at its next part of "
            "2048 x 2048 pixels"
        )
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)  # shown while a pair is scored in a worker
        self.status_label = QLabel("Choose a prediction and its ground truth.")
        self.status_label.setWordWrap(True)
        self.scores_table = _read_only_table(len(SCORE_ROWS) + 1, 5)
        self.scores_table.setHorizontalHeaderLabels(["0.5", "0.6", "0.7", "0.8", "0.9"])
        self.scores_table.setVerticalHeaderLabels([label for _, label in SCORE_ROWS] + ["avS"])
        self.scores_table.setSpan(len(SCORE_ROWS), 0, 1, 5)
        self.scores_table.setToolTip("Columns: IoU threshold. AP = TP / (TP + FP + FN)")
        # V_rand and VOI, the EM scores of a boundary map's cells (shown for those kinds)
        self.vrand_label = QLabel("V_rand (1 = no error) and VOI (nats, 0 = no error)")
        self.vrand_table = _read_only_table(len(VRAND_ROWS), len(VRAND_COLUMNS))
        self.vrand_table.setHorizontalHeaderLabels(list(VRAND_COLUMNS))
        self.vrand_table.setVerticalHeaderLabels([label for _, label in VRAND_ROWS])
        self.vrand_table.setToolTip(
            "The cells between the membranes against the prediction's objects, as `tessella "
            "evaluate --metric vrand --gt-boundaries` scores them (ISBI 2012's measures): "
            "V_rand, the adapted Rand score, and VOI, the variation of information, over the "
            "ground truth's cells only; split: the prediction cuts a cell, merge: it joins "
            "cells. Means over the sections (images) with a cell"
        )
        self.vrand_label.setVisible(False)
        self.vrand_table.setVisible(False)
        self.counts_table = _read_only_table(1, len(COUNT_COLUMNS))
        self.counts_table.setHorizontalHeaderLabels(list(COUNT_COLUMNS))
        for column, tip in enumerate(COUNT_TIPS):
            self.counts_table.horizontalHeaderItem(column).setToolTip(tip)
        self.counts_table.verticalHeader().hide()
        self.counts_label = _wrapped_label()
        # short: in a 1500 x 1000 window, under a guess's six-line note, the body then fits
        # the dock (at 200 it scrolled, the plot's x axis below the fold); in make run's
        # 1600 x 1000 layout (Evaluate a tab below Segment) the scores, counts and plot then
        # fit the body's view together, which an evaluation scrolls to (_show_results)
        self.plot = LinePlot("IoU threshold", "AP", x_range=(0.5, 1.0), y_range=(0.0, 1.0))
        self.plot.setMinimumHeight(PLOT_HEIGHT)
        self.plot.sizeHint = lambda: QSize(320, PLOT_HEIGHT)  # type: ignore[method-assign]

        form = QFormLayout()
        form.addRow("Prediction", self.pred_combo)
        form.addRow("Ground truth", self.truth_combo)
        form.addRow("Ground truth is", self.kind_combo)
        form.addRow(self.kind_label)
        form.addRow("Matched at IoU ≥", self.threshold_spin)
        form.addRow("Unannotated label", self.ignore_spin)
        checkboxes = QHBoxLayout()  # (one row: the results need the height)
        checkboxes.addWidget(self.annotated_checkbox)
        checkboxes.addWidget(self.errors_checkbox)
        checkboxes.addStretch(1)
        form.addRow(checkboxes)
        layout, footer = panel_layout(self)  # the options and scores scroll
        self._body = layout.parentWidget()
        buttons = QHBoxLayout()
        buttons.addWidget(self.evaluate_button)
        buttons.addWidget(self.cancel_button)
        footer.addLayout(buttons)
        footer.addWidget(self.progress_bar)
        footer.addWidget(self.status_label)
        layout.addLayout(form)
        layout.addWidget(self.vrand_label)
        layout.addWidget(self.vrand_table)
        self._results_caption = _wrapped_label()  # (names the pair scored when out of date)
        self._results_caption.setText(RESULTS_CAPTION)
        layout.addWidget(self._results_caption)
        layout.addWidget(self.scores_table)
        layout.addWidget(self.iou_label)
        layout.addWidget(self.counts_label)
        layout.addWidget(self.counts_table)
        layout.addWidget(self.plot)
        layout.addStretch(1)
        self._set_counts_caption(self.threshold_spin.value())

        self.evaluate_button.clicked.connect(self._on_evaluate_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.pred_combo.currentIndexChanged.connect(self._on_prediction_changed)
        self.truth_combo.currentIndexChanged.connect(self._on_truth_changed)
        self.kind_combo.activated.connect(self._on_kind_chosen)
        self.errors_checkbox.toggled.connect(self._on_show_errors_toggled)
        self._init_stale()  # (after the controls' own handlers: it reads what they chose)
        self._init_picks()
        self._watch_layers()
        self._refresh_layers()

    # --- layers -----------------------------------------------------------------------------

    @property
    def prediction_layer(self) -> Labels | None:
        """The labels layer chosen as the prediction."""
        return find_layer(self.viewer, self.pred_combo.currentData())

    @property
    def truth_layer(self) -> Labels | None:
        """The labels layer chosen as the ground truth."""
        return find_layer(self.viewer, self.truth_combo.currentData())

    def _labels_layers(self) -> list[Labels]:
        return [
            layer
            for layer in self.viewer.layers
            if isinstance(layer, Labels) and ERRORS_KEY not in layer.metadata
        ]

    def _refresh_layers(self, event=None) -> None:
        """List the labels layers (not error maps) and choose the pair
        (:class:`._evaluate_picks.EvaluatePicks`): the newest result as the prediction,
        unless one was chosen by hand since; a ground truth that fits it, never the
        prediction itself or a result's companion layers ("overlaps"). A ground truth chosen
        by hand is kept while it fits the prediction."""
        labels = self._labels_layers()
        companions = _companion_ids(self.viewer, labels)
        fill_layer_combo(self.pred_combo, self.viewer, labels)
        chosen = self._default_prediction(labels, companions)
        if chosen is not None and chosen.unique_id != self.pred_combo.currentData():
            self._pick(self.pred_combo, chosen)
        if fill_layer_combo(self.truth_combo, self.viewer, labels):
            self._truth_by_hand = False  # the layer chosen by hand is gone
        if self._truth_kept():
            self._truth_for = self.pred_combo.currentData()
            self._check_fit()
        else:
            self._pick_truth(labels, companions)
        self._guess_kind()
        self._sync_annotated()
        self._say_ready()
        self._sync_stale()  # (a layer scored removed, or another pair chosen)

    def _pick(self, combo: QComboBox, layer: Labels) -> None:
        self._picking = True
        try:
            combo.setCurrentIndex(combo.findData(layer.unique_id))
        finally:
            self._picking = False

    def _on_prediction_changed(self, _index: int) -> None:
        if self._picking:
            return
        self._prediction_by_hand()
        if self._truth_kept():
            self._truth_for = self.pred_combo.currentData()
            self._check_fit()
        else:
            labels = self._labels_layers()
            self._pick_truth(labels, _companion_ids(self.viewer, labels))
        self._guess_kind()
        self._sync_annotated()
        self._say_ready()

    def _on_truth_changed(self, _index: int) -> None:
        if self._picking:
            return
        self._truth_by_hand = self.truth_combo.currentData() is not None
        self._truth_for = self.pred_combo.currentData()
        self._check_fit()
        self._guess_kind()
        self._sync_annotated()
        self._say_ready()

    # --- ground truth of some frames ----------------------------------------------------------

    def _sync_annotated(self) -> None:
        """When the ground truth changes: "Score annotated frames only" checked where it is
        a Cell Tracking Challenge SEG folder the reader opened (its ``path``,
        :func:`ctc_annotated`), whether it annotates some of the movie's frames or slices or
        every frame (SEG is then shown), unchecked otherwise; the choice is kept while the
        ground truth stays the same layer."""
        from tessella.engine.evaluation import annotated_summary, annotated_text
        from tessella.engine.evaluation._sparse import place_words

        truth = self.truth_layer
        truth_id = None if truth is None else truth.unique_id
        if truth_id == self._annotated_for:
            return
        self._annotated_for = truth_id
        places = None if truth is None else _ctc_places(truth)
        self.annotated_checkbox.setChecked(places is not None)
        tip = _ANNOTATED_TIP
        if truth is not None and places is not None and _ctc_file_place(truth) is not None:
            tip += f"\n\n'{truth.name}': its SEG file annotates {place_words(places[0])}"
        elif truth is not None and places is not None:
            summary = annotated_summary(places, tuple(truth.data.shape))
            tip += f"\n\n'{truth.name}': " + annotated_text(summary, "its SEG files")
        self.annotated_checkbox.setToolTip(tip)

    def _annotated_places(self, truth: Labels, truth_data, kind: str) -> tuple[list, str]:
        """``(places, how)``: where ``truth`` is annotated, scored alone: the frames and
        slices its SEG files name, and those the user has painted an object into since
        (:func:`_painted_places`), else the frames (first axis) holding an object.
        ValueError for a kind or a layer that has no such frames."""
        from tessella.engine.evaluation import annotated_with_objects

        if kind not in ("labels", "binary"):
            raise ValueError(
                f"ground truth '{truth.name}' must be instances or a binary mask, "
                f"not {dict((k, t) for t, k in TRUTH_KINDS)[kind]}"
            )
        places = _ctc_places(truth)
        if places is not None and _ctc_file_place(truth) is not None:
            return places, f"by the SEG file '{truth.name}'"
        if places is not None:
            how = f"by the SEG files of '{truth.name}'"
            painted = _painted_places(truth_data, places)
            if painted:
                how += f" and {_places_said(painted)} painted in the layer"
            return sorted(places + painted), how
        if len(truth_data.shape) < 3:
            raise ValueError(f"ground truth '{truth.name}' has no frames (2D)")
        places = annotated_with_objects(np.asarray(truth_data))
        if not places:
            raise ValueError(f"ground truth '{truth.name}' holds no object")
        return places, "the frames of the first axis holding a ground-truth object"

    def _annotated_by_files(self, truth: Labels) -> bool:
        """Whether ``truth`` is a SEG folder's layer whose files say where it is annotated
        (scored so against a prediction of another length, as ``tessella evaluate``)."""
        return _ctc_places(truth) is not None

    def _truth_in_place(self, truth: Labels, truth_data, places: list, pred: Labels, shape):
        """``(truth_data, places)`` as scored: as they are, but for the layer of one SEG
        file (a SEG folder of one file opens as that file) against a prediction of frames:
        its image placed at the file's frame (slice) in labels of the prediction's
        ``shape``, as ``tessella evaluate`` places it (of the prediction's shape already:
        one image, ``places`` None). ValueError where it does not fit there."""
        from tessella.engine.evaluation import places_misfit

        if _ctc_file_place(truth) is None:
            return truth_data, places
        if tuple(truth_data.shape) == tuple(shape):
            return truth_data, None
        places = _file_place_by_number(truth, places, pred, shape)
        why = places_misfit(
            places, [tuple(truth_data.shape)], tuple(shape), f"prediction '{pred.name}'"
        )
        if why:
            raise ValueError(f"ground truth '{truth.name}' {why}")
        image = np.asarray(truth_data)
        placed = np.zeros(tuple(shape), image.dtype)
        placed[tuple(places[0])] = image
        return placed, places

    # --- the labels changed ------------------------------------------------------------------

    def _watch_data(self, *layers) -> tuple:
        """Notice when the data of ``layers`` (a pair about to be scored) are replaced
        (:meth:`EvaluateErrors._watch_data`) or edited: painted, filled, drawn or corrected
        (napari's ``events.paint``, once per stroke or edit), or an edit undone or redone
        (napari announces that only as a redraw, ``events.set_data``, which slicing emits
        too: told by the lengths of the undo history). Their data versions now."""
        for layer in layers:  # (connecting twice: once)
            layer.events.paint.connect(self._on_labels_painted)
            layer.events.set_data.connect(self._on_labels_redrawn)
            self._undo_lengths[layer.unique_id] = _undo_lengths(layer)
        return super()._watch_data(*layers)

    def _on_data_replaced(self, event) -> None:
        """New data, or the same labels in a wider type (Correct widening a uint8 layer for
        a split's new IDs, which then edits it): not new labels, so nothing is out of date
        until that edit, which says so."""
        layer = getattr(event, "source", None)
        if layer is None:
            return
        widened = being_widened(layer)
        if widened is not None:
            self._widened[layer.unique_id] = widened
            return
        super()._on_data_replaced(event)
        self._replaced_at[layer.unique_id] = self._data_versions[layer.unique_id]
        self._undo_lengths[layer.unique_id] = _undo_lengths(layer)
        self._sync_stale()  # (the scores of the labels before)

    def _on_labels_painted(self, event) -> None:
        layer = getattr(event, "source", None)
        if layer is not None:
            self._labels_edited(layer)

    def _on_labels_redrawn(self, event) -> None:
        """A redraw: an undo or redo when the undo history changed without an edit."""
        layer = getattr(event, "source", None)
        if layer is None or being_widened(layer) is not None:
            return
        lengths = _undo_lengths(layer)
        if None in lengths or lengths == self._undo_lengths.get(layer.unique_id, lengths):
            return
        self._labels_edited(layer)

    def _labels_edited(self, layer) -> None:
        """The labels of ``layer`` changed in place: edited by the user, or new labels a tool
        wrote as an undo step (Tune: "replaced", as new data are)."""
        layer_id = layer.unique_id
        self._undo_lengths[layer_id] = _undo_lengths(layer)
        version = self._data_versions[layer_id] = self._data_versions.get(layer_id, 0) + 1
        widened = self._widened.pop(layer_id, None)
        how = "edited"
        if tool_is_writing(layer_id):
            self._replaced_at[layer_id] = version
            how = "replaced"
        elif widened is not None:
            how += f", its data type widened from {widened[0]} to {widened[1]} for new IDs"
        self._errors_out_of_date(layer_id, how)
        self._sync_stale()

    def _how_changed(self, layer_id: str, version: int) -> str:
        """How the layer ``layer_id`` changed since its data ``version``: "replaced" (new
        data, at least once), else "edited"."""
        return "replaced" if self._replaced_at.get(layer_id, 0) > version else "edited"

    # --- the panel closed ---------------------------------------------------------------------

    def _panel_closed(self) -> None:
        """The panel was closed during an evaluation in a worker: it stops, as Segment's and
        Train's runs do, so nothing is added to the viewer afterwards (no errors layer of a
        panel the user has closed). ``quit()`` stops the scoring at its next step (after the
        image being matched) and keeps the worker from emitting ``returned``; a result already
        on its way is dropped by :meth:`_on_returned`."""
        run = self._run
        if run is None or self.worker is None:
            return
        self._closed_run = run
        self._on_cancel_clicked()
        text = f"the evaluation of '{run.pred_name}' against '{run.truth_name}' was stopped"
        self._set_status(f"The panel was closed; {text}.")
        show_info(f"Evaluate: the panel was closed; {text}: no scores or errors layer shown.")

    def _on_returned(self, result: Evaluation) -> None:
        if self._run is not None and self._run is self._closed_run:
            return  # finished as the panel closed: nobody asked for it any more
        super()._on_returned(result)
        self._show_results()

    def _show_results(self) -> None:
        """Scroll the body to the scores, counts and AP plot just shown, where they are out of
        its view (a short dock: make run's layout gives Evaluate about 390 px): the plot's
        bottom, then the caption above the scores, in view; the options scroll up out of it
        (the Evaluate button and the status line stay, below the body)."""
        scroll = self._body.parentWidget()
        while scroll is not None and not isinstance(scroll, QScrollArea):
            scroll = scroll.parentWidget()
        if scroll is None:
            return
        layout = self._body.layout()
        if layout is not None:
            layout.activate()
        scroll.ensureWidgetVisible(self.plot, 0, 0)
        scroll.ensureWidgetVisible(self._results_caption, 0, 0)
        if self.vrand_label.isVisibleTo(self):  # (above the scores: a boundary map's first)
            scroll.ensureWidgetVisible(self.vrand_label, 0, 0)

    def _on_errored(self, exc: Exception) -> None:
        if self._run is not None and self._run is self._closed_run:
            return  # (a dropped evaluation's failure is of no interest either)
        super()._on_errored(exc)


def _ctc_places(truth: Labels) -> list | None:
    """Where the ground truth ``truth`` is annotated, where the reader opened it from a Cell
    Tracking Challenge SEG folder (its ``path``), placed as the reader places them: some of
    its frames or slices (GOWT1's), or every frame (SIM+'s: scored there too, so that SEG,
    the CTC's headline score, is shown); None otherwise (also where they do not fit its
    shape: the layer is not that folder's labels any more)."""
    from tessella.engine.evaluation import ctc_annotated
    from tessella.engine.evaluation._sparse import check_places

    place = _ctc_file_place(truth)
    if place is not None:
        return [place]
    places = ctc_annotated(truth.metadata.get("path"))
    shape = tuple(truth.data.shape)
    if places is None:
        return None
    try:
        check_places(places, shape)
    except ValueError:
        return None
    return places


def _ctc_file_place(truth: Labels) -> tuple[int, ...] | None:
    """The frame ``(t,)`` or slice ``(t, z)`` that the one SEG file ``truth`` was opened
    from annotates (a SEG folder of one file opens as that file, as does the file alone),
    counted as in its folder (:func:`ctc_annotated_files`); None for any other layer."""
    from pathlib import Path

    from tessella.engine.evaluation import ctc_annotated_files

    path = truth.metadata.get("path")
    if not path or not Path(path).is_file():
        return None
    path = Path(path)
    for place, file in ctc_annotated_files(path.parent) or []:
        if file.name == path.name:
            return place
    return None


def _file_place_by_number(truth: Labels, places: list, pred: Labels, shape) -> list:
    """The place of the one SEG file ``truth`` in the prediction ``pred`` (of ``shape``) by
    the movie's frame numbers, where ``pred`` records them (a prediction of frames 52-58:
    ``man_seg054.tif`` is its frame 2); ``places`` as given otherwise. ValueError naming
    both where the prediction does not hold the file's frame."""
    from pathlib import Path

    from tessella.engine.evaluation import numbers_said
    from tessella.engine.evaluation._sparse import _CTC_FRAME, _CTC_SLICE

    from ._frame_words import recorded_frame_numbers

    numbers = recorded_frame_numbers(pred, int(shape[0])) if len(shape) >= 3 else ()
    name = Path(str(truth.metadata.get("path", ""))).name
    match = _CTC_SLICE.match(name) or _CTC_FRAME.match(name)
    if not numbers or match is None:
        return places
    number = int(match[1])
    if number not in numbers:
        raise ValueError(
            f"ground truth '{truth.name}' annotates frame {number}; prediction '{pred.name}' "
            f"holds frames {numbers_said(numbers)} (the movie's frame numbers the reader "
            "recorded)"
        )
    return [(numbers.index(number), *places[0][1:])]


def _painted_places(data, places: list) -> list:
    """The frames (2D slices of a 3D movie) of a SEG layer's ``data`` that hold an object
    where its files annotate none (``places``): painted in napari since, scored as well. A
    lazy stack (dask: the files as the reader read them, never painted) is not looked at."""
    from tessella.engine.evaluation import annotated_with_objects

    if type(data).__module__.split(".")[0] == "dask":
        return []
    frames = {place[0] for place in places if len(place) == 1}
    named = set(map(tuple, places))
    return [
        place
        for place in annotated_with_objects(np.asarray(data), slices=True)
        if place not in named and place[0] not in frames
    ]


def _places_said(places: list) -> str:
    """Places in words, a few of them named: ``"1 slice (t=0, z=2)"``, ``"2 frames (t=3,
    5)"``.

    >>> _places_said([(0, 2)]), _places_said([(3,), (5,)])
    ('1 slice (t=0, z=2)', '2 frames (t=3, 5)')
    """
    word = "frame" if len(places[0]) == 1 else "slice"
    named = [
        ", ".join(f"{a}={i}" for a, i in zip("tz", place)) if word == "slice" else str(place[0])
        for place in places[:4]
    ]
    if word == "frame":
        named[0] = f"t={named[0]}"
    more = ", …" if len(places) > 4 else ""
    sep = "; " if word == "slice" else ", "
    return f"{len(places)} {word}{'s' if len(places) > 1 else ''} ({sep.join(named)}{more})"


def _undo_lengths(layer) -> tuple[int | None, int | None]:
    """How many steps ``layer`` can undo and redo (None where this napari does not say)."""
    return _history_length(layer, "undo"), _history_length(layer, "redo")

"""The Evaluate dock widget: score a labels layer against a ground-truth labels layer.

The widget reads its controls and calls :func:`tessella.engine.evaluation.evaluate_labels`
(:func:`~tessella.engine.evaluation.evaluate_masks` for overlapping masks), so its scores are
what ``tessella evaluate PRED GT`` prints for the same arrays with the flag of the ground
truth's kind ("Ground truth is": instances, ``--gt-binary``, ``--gt-boundaries``,
``--gt-boundaries-3d`` or ``--overlapping``; chosen from the data when the layers change).
Pairs up to :data:`SYNC_MAX_PIXELS` pixels are scored at once (a 2048 x 2048 image takes
about half a second); larger ones in a thread worker. "Show errors" puts the unmatched
objects in a labels layer ``"<prediction> errors @<IoU>"``: false positives red, false
negatives cyan. Each prediction has one such layer, updated by every evaluation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Labels
from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)
from superqt.utils import FunctionWorker

from tessella.engine import evaluation

from ._layers import LayerWatcher, fill_layer_combo, find_layer
from ._layout import panel_layout
from ._placement import last_axes, placement_note, world_transform
from ._plot import LinePlot
from ._workers import WorkerFailed

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

#: pairs with more pixels than this are scored in a thread worker
SYNC_MAX_PIXELS = 2048 * 2048
#: ground truth (and prediction) in memory up to this many pixels is looked at on the GUI
#: thread to guess what it is (at most about 0.04 s for masks and membrane maps, 0.1 s for
#: pixel noise); larger or lazy ones in a thread worker, from a sample
GUESS_SYNC_PIXELS = 2**20
#: the most pixels of the ground truth (and of the prediction) read to guess what it is: a
#: larger or lazy array is judged from a sample of its planes (``sample_planes``)
GUESS_SAMPLE_PIXELS = 2**22
#: error layer metadata: the prediction layer it shows the errors of
ERRORS_KEY = "tessella_errors_of"
#: error layer colours: false positives (1) red, false negatives (2) cyan
ERROR_COLORS = {
    evaluation.FALSE_POSITIVE: "#ff4d4d",
    evaluation.FALSE_NEGATIVE: "#00e5ff",
    None: "transparent",
}
SCORE_ROWS = (("ap", "AP"), ("precision", "Precision"), ("recall", "Recall"), ("f1", "F1"))
COUNT_COLUMNS = ("Predicted", "Truth", "TP", "FP", "FN")
_TRUTH_WORDS = ("truth", "gt", "ground", "annot", "mask", "manual")
#: the "Ground truth is" choices: (text, kind of :data:`evaluation.GROUND_TRUTH_KINDS`)
TRUTH_KINDS = (
    ("instances (labels)", "labels"),
    ("binary mask", "binary"),
    ("boundary map", "boundaries"),
    ("boundary map, 3D", "boundaries3d"),
    ("overlapping masks", "overlapping"),
)
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


def _layer_array(layer: Labels):
    """The full-resolution data of a labels layer (level 0 of a pyramid)."""
    return layer.data[0] if layer.multiscale else layer.data


def _looks_like_truth(name: str) -> bool:
    words = name.lower().replace("_", " ").replace("-", " ").split()
    return any(word.startswith(_TRUTH_WORDS) for word in words)


def _frame_axis(*layers: Labels) -> int | None:
    """The T axis of time-lapse labels, if any: the axes their file named, Segment's recipe,
    their napari ``axis_labels``, else the reader's guess (:func:`tessella._io.recorded_axes`,
    as Correct and Export take them)."""
    from tessella._io import recorded_axes

    for layer in layers:
        axes = recorded_axes(layer.ndim, layer.metadata, layer.axis_labels)
        if axes and "T" in axes:
            return axes.index("T")
    return None


def _panel_note(note: str) -> str:
    """An engine note as the panel says it: ``kind='binary'`` is the "Ground truth is"
    choice (``choose Ground truth is: binary mask to ...``), the flag of ``tessella evaluate``
    kept beside it."""
    import re

    texts = {kind: text for text, kind in TRUTH_KINDS}
    note = re.sub(r"kind='(\w+)'", lambda match: f"Ground truth is: {texts[match[1]]}", note)
    return note.replace("take it as Ground truth is", "choose Ground truth is").replace(
        "(`tessella evaluate", "(as `tessella evaluate"
    )


def _evaluate(
    labels_true,
    labels_pred,
    threshold: float,
    frame_axis=None,
    ignore_label=None,
    names=("ground truth", "prediction"),
    kind: str = "labels",
) -> Evaluation:
    try:
        if kind == "overlapping":
            return evaluation.evaluate_masks(
                np.asarray(labels_true), np.asarray(labels_pred), threshold, ignore_label, names
            )
        return evaluation.evaluate_labels(
            np.asarray(labels_true),
            np.asarray(labels_pred),
            threshold,
            frame_axis,
            ignore_label,
            names,
            kind,
            ("ap", "iou"),  # foreground IoU: the headline score of semantic models
        )
    except RuntimeError as exc:  # superqt drops RuntimeErrors silently (see _workers)
        raise WorkerFailed(str(exc)) from exc


def _guess(pair: tuple, name: str, truth, prediction) -> tuple:
    """``(pair, name, (kind, why) or None, error)``: what the ground truth ``truth`` of the
    layer pair ``pair`` is, from at most :data:`GUESS_SAMPLE_PIXELS` of its pixels (and of
    ``prediction``'s), for the panel to show if the pair is still chosen."""
    try:
        guess = evaluation.ground_truth_kind(
            truth, prediction.shape, prediction, GUESS_SAMPLE_PIXELS
        )
    except Exception as exc:  # a guess only: a layer that cannot be read is said so
        return pair, name, None, f"{type(exc).__name__}: {exc}"
    return pair, name, guess, ""


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


def _prediction_masks(viewer, layer: Labels) -> tuple[np.ndarray, str]:
    """``(masks, source)``: the objects of the prediction ``layer`` whole, for scoring against
    overlapping ground-truth masks, as Export writes its mask stack (what ``tessella evaluate
    --overlapping`` then reads): a result's network instances (worms2d), else its objects
    with the hidden parts its "overlaps" layer shows, else the layer's own objects (an
    ``(N, Y, X)`` layer is a stack already)."""
    from .export import network_instances, object_stack, overlaps_layer

    labels = np.asarray(_layer_array(layer))
    if labels.ndim != 2:
        return labels, "its planes"
    if network_instances(layer) is None and overlaps_layer(viewer, layer) is None:
        return labels, "the labels"  # (a label image is read as the stack of its objects)
    stack = object_stack(viewer, layer, labels)
    return stack.masks, stack.source


def _shape_problem(pred: Labels, pred_shape, truth: Labels, truth_shape, kind: str) -> str:
    """Why the arrays of a pair cannot be scored as ``kind`` ("" when they can)."""
    pred_shape, truth_shape = tuple(pred_shape), tuple(truth_shape)
    names = f"prediction '{pred.name}' has shape {pred_shape} but ground truth '{truth.name}'"
    if kind == "overlapping":  # any number of objects in each: the image size counts
        if (
            len(pred_shape) == 3
            and len(truth_shape) in (2, 3)
            and truth_shape[-2:] == pred_shape[1:]
        ):
            return ""  # a stack of masks against a stack, or labels
        if len(pred_shape) == 2 and truth_shape[-2:] == pred_shape and len(truth_shape) <= 3:
            return ""
        return (
            f"{names} has shape {truth_shape}: overlapping masks are an (N, Y, X) stack of one "
            "image's objects, against (Y, X) labels or a stack of the same image size."
        )
    if pred_shape == truth_shape:
        return ""
    stacks = len(truth_shape) == 3 and truth_shape[1:] in (pred_shape, pred_shape[1:])
    hint = (
        " It is a stack of object masks? Choose Ground truth is: overlapping masks."
        if stacks and len(pred_shape) in (2, 3)
        else ""
    )
    return f"{names} has shape {truth_shape}; they must be equal.{hint}"


@dataclass(frozen=True)
class _Run:
    """What an evaluation scores and where its error layer goes, fixed when it starts."""

    pred_id: str
    pred_name: str
    truth_id: str
    truth_name: str
    threshold: float
    ignore_label: int | None
    world: tuple  # the prediction's world transform (name, values), for its errors layer
    started: float
    notes: tuple[str, ...] = ()  # the widget's own warnings, after those of the scores
    kind: str = "labels"  # what the ground truth is (a key of GROUND_TRUTH_KINDS)
    units: tuple = ()  # the prediction's, for its errors layer
    axis_labels: tuple = ()
    masks_from: str = ""  # overlapping: where the prediction's whole objects came from


def _read_only_table(rows: int, columns: int) -> QTableWidget:
    table = QTableWidget(rows, columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    height = table.horizontalHeader().sizeHint().height() + table.verticalHeader().length()
    table.setFixedHeight(height + 2 * table.frameWidth() + 2)
    return table


def _set_cell(table: QTableWidget, row: int, column: int, text: str) -> None:
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
    table.setItem(row, column, item)


class EvaluateWidget(LayerWatcher, QWidget):
    """Score a predicted labels layer against a ground-truth labels layer.

    The scores table holds AP, precision, recall and F1 at IoU 0.5 to 0.9 and avS (mean AP),
    with foreground IoU below it; the counts table the objects of both layers and the true and
    false positives and false negatives at the error IoU. ``last_scores`` is the dict
    ``tessella evaluate --metric ap --metric iou`` reports (``--overlapping``: AP only).
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
        self._scored: _Run | None = None  # the evaluation behind the tables
        self._error_layers: dict[str, str] = {}  # prediction layer id -> error layer id
        self._truth_by_hand = False  # the ground truth was chosen by the user: kept
        self._picking = False  # the widget itself sets a choice
        self._kind_pair: tuple | None = None  # the (prediction, truth) the kind was guessed for
        self.kind_worker: FunctionWorker | None = None  # guessing from a sample, if any
        self._worker_pair: tuple | None = None  # the pair kind_worker guesses for
        self._guessing: tuple | None = None  # the pair the worker's guess is still wanted for

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
        self.kind_label = QLabel()
        self.kind_label.setWordWrap(True)
        self.iou_label = QLabel()
        self.iou_label.setToolTip(
            "Foreground IoU: every object's pixels as one mask, against the ground truth's "
            "(`tessella evaluate --metric iou`; the headline score of semantic models such as "
            "em-mito2d)"
        )
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(0.05, 1.0)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setValue(0.5)
        self.threshold_spin.setToolTip("IoU at which objects count as matched for TP/FP/FN")
        self.ignore_spin = QSpinBox()
        self.ignore_spin.setRange(0, 2**31 - 1)
        self.ignore_spin.setSpecialValueText("none")
        self.ignore_spin.setToolTip(
            "Sparse ground truth: pixels of this label were not annotated and are not scored\n"
            "(as `tessella evaluate --ignore-label N`). none: every unlabelled pixel is "
            "background"
        )
        self.errors_checkbox = QCheckBox("Show errors")
        self.errors_checkbox.setToolTip(
            "Add a layer: red = predicted objects with no match (false positives),\n"
            "cyan = ground-truth objects with no match (false negatives)"
        )
        self.evaluate_button = QPushButton("Evaluate")
        self.status_label = QLabel("Choose a prediction and its ground truth.")
        self.status_label.setWordWrap(True)
        self.scores_table = _read_only_table(len(SCORE_ROWS) + 1, 5)
        self.scores_table.setHorizontalHeaderLabels(["0.5", "0.6", "0.7", "0.8", "0.9"])
        self.scores_table.setVerticalHeaderLabels([label for _, label in SCORE_ROWS] + ["avS"])
        self.scores_table.setSpan(len(SCORE_ROWS), 0, 1, 5)
        self.scores_table.setToolTip("Columns: IoU threshold. AP = TP / (TP + FP + FN)")
        self.counts_table = _read_only_table(1, len(COUNT_COLUMNS))
        self.counts_table.setHorizontalHeaderLabels(list(COUNT_COLUMNS))
        self.counts_table.verticalHeader().hide()
        self.counts_label = QLabel()
        self.plot = LinePlot("IoU threshold", "AP", x_range=(0.5, 1.0), y_range=(0.0, 1.0))

        form = QFormLayout()
        form.addRow("Prediction", self.pred_combo)
        form.addRow("Ground truth", self.truth_combo)
        form.addRow("Ground truth is", self.kind_combo)
        form.addRow(self.kind_label)
        form.addRow("Error IoU", self.threshold_spin)
        form.addRow("Unannotated label", self.ignore_spin)
        form.addRow(self.errors_checkbox)
        layout, footer = panel_layout(self)  # the options and scores scroll
        footer.addWidget(self.evaluate_button)
        footer.addWidget(self.status_label)
        layout.addLayout(form)
        layout.addWidget(QLabel("Scores by IoU threshold"))
        layout.addWidget(self.scores_table)
        layout.addWidget(self.iou_label)
        layout.addWidget(self.counts_label)
        layout.addWidget(self.counts_table)
        layout.addWidget(self.plot)
        layout.addStretch(1)
        self._set_counts_caption(self.threshold_spin.value())

        self.evaluate_button.clicked.connect(self._on_evaluate_clicked)
        self.pred_combo.currentIndexChanged.connect(self._on_prediction_changed)
        self.truth_combo.currentIndexChanged.connect(self._on_truth_changed)
        self.kind_combo.activated.connect(self._on_kind_chosen)
        self.errors_checkbox.toggled.connect(self._on_show_errors_toggled)
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
        """List the labels layers (not error maps); a new choice avoids scoring a layer by
        itself and a result's own companion layers ("overlaps"), preferring a name like
        "ground truth" for the truth. A ground truth chosen by hand is kept."""
        labels = self._labels_layers()
        companions = _companion_ids(self.viewer, labels)
        changed = fill_layer_combo(self.pred_combo, self.viewer, labels)
        same = self.pred_combo.currentData() == self.truth_combo.currentData()
        if changed or same:  # a layer scored by itself is never kept as a choice
            layer = self.prediction_layer
            others = [
                other
                for other in labels
                if not _looks_like_truth(other.name) and other.unique_id not in companions
            ]
            if (
                layer is not None
                and others
                and (_looks_like_truth(layer.name) or layer.unique_id in companions)
            ):
                self._pick(self.pred_combo, others[0])
        if fill_layer_combo(self.truth_combo, self.viewer, labels):
            self._truth_by_hand = False  # the layer chosen by hand is gone
        if (
            not self._truth_by_hand
            or self.truth_combo.currentData() == self.pred_combo.currentData()
        ):
            self._pick_truth(labels, companions)
        self._guess_kind()

    def _pick(self, combo: QComboBox, layer: Labels) -> None:
        self._picking = True
        try:
            combo.setCurrentIndex(combo.findData(layer.unique_id))
        finally:
            self._picking = False

    def _pick_truth(self, labels: list[Labels], companions: set) -> None:
        """Choose the likeliest ground truth of the prediction: another layer, a name like
        "ground truth" first, never a companion of a result (none chosen when only those
        are left)."""
        pred_id = self.pred_combo.currentData()
        others = [other for other in labels if other.unique_id != pred_id]
        candidates = [other for other in others if other.unique_id not in companions]
        candidates.sort(key=lambda other: not _looks_like_truth(other.name))
        if candidates:
            self._pick(self.truth_combo, candidates[0])
        elif others:
            self._picking = True
            try:
                self.truth_combo.setCurrentIndex(-1)
            finally:
                self._picking = False

    def _on_prediction_changed(self, _index: int) -> None:
        if self._picking:
            return
        if (
            not self._truth_by_hand
            or self.truth_combo.currentData() == self.pred_combo.currentData()
        ):
            labels = self._labels_layers()
            self._pick_truth(labels, _companion_ids(self.viewer, labels))
        self._guess_kind()

    def _on_truth_changed(self, _index: int) -> None:
        if self._picking:
            return
        self._truth_by_hand = self.truth_combo.currentData() is not None
        self._guess_kind()

    def _guess_kind(self) -> None:
        """Choose "Ground truth is" from the data of a new pair of layers, saying why. Small
        arrays in memory are looked at here; larger or lazy ones (dask, zarr: read from
        disk) in a thread worker, from a sample of at most :data:`GUESS_SAMPLE_PIXELS`
        pixels, "instances" being chosen meanwhile."""
        pred, truth = self.prediction_layer, self.truth_layer
        pair = (self.pred_combo.currentData(), self.truth_combo.currentData())
        if pair == self._kind_pair:
            return
        self._kind_pair = pair
        self._guessing = None  # (a guess still running is for another pair: dropped)
        if pred is None or truth is None or pred is truth:
            self.kind_label.setText("")
            return
        pred_data, data = _layer_array(pred), _layer_array(truth)
        at_hand = all(
            isinstance(array, np.ndarray) and array.size <= GUESS_SYNC_PIXELS
            for array in (data, pred_data)
        )
        if at_hand:
            self._show_kind(_guess(pair, truth.name, data, pred_data))
            return
        self.kind_combo.setCurrentIndex(self.kind_combo.findData("labels"))
        lazy = "" if isinstance(data, np.ndarray) else " is lazy (read from disk)"
        self.kind_label.setText(
            f"'{truth.name}'{lazy}: guessing what it is in the background; taken as instances "
            "meanwhile"
        )
        self._guessing = pair
        worker = create_worker(
            _guess,
            pair,
            truth.name,
            data,
            pred_data,
            _worker_class=FunctionWorker,
            _start_thread=False,
        )
        worker.returned.connect(self._on_kind_guessed)
        self.kind_worker, self._worker_pair = worker, pair
        worker.start()

    def _on_kind_guessed(self, result: tuple) -> None:
        """The worker's guess, shown if still wanted: not when another pair is chosen now, or
        the kind was chosen by hand meanwhile."""
        if result[0] == self._worker_pair:
            self.kind_worker = None  # (the latest worker is done)
        if result[0] == self._guessing:
            self._guessing = None
            self._show_kind(result)

    def _show_kind(self, result: tuple) -> None:
        _pair, name, guess, error = result
        if guess is None:
            self.kind_combo.setCurrentIndex(self.kind_combo.findData("labels"))
            self.kind_label.setText(
                f"'{name}' could not be read to guess what it is ({error}): taken as "
                "instances; choose what it is"
            )
        else:
            kind, why = guess
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
            text = dict((k, t) for t, k in TRUTH_KINDS)[kind]
            self.kind_label.setText(f"'{name}': {why}, so taken as {text}.")
        self.kind_guessed.emit()

    def _on_kind_chosen(self, _index: int) -> None:
        """A kind chosen by hand while a guess runs is kept: the guess is dropped."""
        if self._guessing is not None:
            self._guessing = None
            name = self.truth_layer.name if self.truth_layer is not None else "ground truth"
            self.kind_label.setText(
                f"'{name}' taken as {self.kind_combo.currentText()}, as chosen (before the "
                "guess from a sample was done)"
            )

    @property
    def truth_kind(self) -> str:
        """What the ground truth is: a key of :data:`evaluation.GROUND_TRUTH_KINDS`."""
        return self.kind_combo.currentData()

    # --- evaluating -------------------------------------------------------------------------

    def _on_evaluate_clicked(self) -> None:
        pred, truth = self.prediction_layer, self.truth_layer
        if pred is None or truth is None:
            show_info("Evaluate: add two labels layers, a prediction and its ground truth.")
            return
        if self._run is not None:  # the button is disabled meanwhile; this guards calls
            show_info("Evaluate: an evaluation is in progress.")
            return
        if pred is truth:
            message = (
                f"'{pred.name}' is both the prediction and the ground truth; choose two layers."
            )
            show_error(f"Evaluate: {message}")
            self.status_label.setText(f"Not evaluated: {message}")
            return
        pred_data, truth_data = _layer_array(pred), _layer_array(truth)
        ignore_label = self.ignore_spin.value() or None
        if ignore_label is not None:
            from tessella.engine.evaluation import ignore_label_clash

            clash = ignore_label_clash(int(np.max(truth_data)), ignore_label, f"'{truth.name}'")
            if clash:
                show_warning(f"Evaluate: {clash}")
        kind = self.truth_kind
        message = _shape_problem(pred, pred_data.shape, truth, truth_data.shape, kind)
        if message:
            show_error(f"Evaluate: {message}")
            self.status_label.setText(f"Not evaluated: {message}")
            return
        masks_from = ""
        if kind == "overlapping":  # the prediction's objects whole, as Export's mask stack
            pred_data, masks_from = _prediction_masks(self.viewer, pred)
        self._run = _Run(
            pred.unique_id,
            pred.name,
            truth.unique_id,
            truth.name,
            round(self.threshold_spin.value(), 2),
            self.ignore_spin.value() or None,
            tuple(world_transform(pred).items()),
            time.perf_counter(),
            tuple(note for note in [placement_note(pred, truth)] if note),
            kind,
            tuple(pred.units),
            tuple(pred.axis_labels),
            masks_from,
        )
        self._set_running(True)
        frame_axis = _frame_axis(pred, truth) if kind in ("labels", "binary") else None
        names = (f"ground truth '{truth.name}'", f"prediction '{pred.name}'")
        args = (truth_data, pred_data, self._run.threshold, frame_axis, self._run.ignore_label)
        if np.prod(pred_data.shape) <= SYNC_MAX_PIXELS:
            try:
                result = _evaluate(*args, names, kind)
            except (ValueError, TypeError, MemoryError, WorkerFailed) as exc:
                self._on_errored(exc)
            else:
                self._on_returned(result)
            self._on_finished()
            return
        self.status_label.setText(f"Evaluating '{pred.name}' against '{truth.name}'…")
        worker = create_worker(
            _evaluate,
            *args,
            names,
            kind,
            _worker_class=FunctionWorker,
            _ignore_errors=True,
            _start_thread=False,
        )
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        worker.start()

    def _set_running(self, running: bool) -> None:
        controls = (
            self.pred_combo,
            self.truth_combo,
            self.kind_combo,
            self.threshold_spin,
            self.ignore_spin,
        )
        for control in controls:
            control.setEnabled(not running)
        self.evaluate_button.setEnabled(not running)

    def _on_returned(self, result: Evaluation) -> None:
        run = self._run
        seconds = time.perf_counter() - run.started  # scoring only, not drawing
        self._scored = run
        self.last_evaluation = result
        self.last_scores = result.scores
        scores = result.scores
        for row, (key, _label) in enumerate(SCORE_ROWS):
            for column, value in enumerate(scores[key].values()):
                _set_cell(self.scores_table, row, column, f"{value:.3f}")
        _set_cell(self.scores_table, len(SCORE_ROWS), 0, f"{scores['avs']:.3f}")
        iou = scores.get("foreground_iou")
        self.iou_label.setText(
            "Foreground IoU: — (objects overlap: AP only, as --overlapping)"
            if iou is None
            else f"Foreground IoU: {iou:.3f}"
        )
        counts = (result.n_pred, result.n_true, result.tp, result.fp, result.fn)
        for column, count in enumerate(counts):
            _set_cell(self.counts_table, 0, column, str(count))
        self._set_counts_caption(run.threshold)
        self.plot.set_series("AP", ((float(key), value) for key, value in scores["ap"].items()))
        removed = self._removed_during(run)
        if removed:  # as Segment does: the scores of the layers as they were, no orphan layer
            text = f"{removed} removed during the run: no errors layer added"
            show_info(f"Evaluate: the scores are those of the layers when it started; {text}.")
            summary = f"Scores of '{run.pred_name}' against '{run.truth_name}' when the run "
            summary += f"started ({seconds:.2f} s): avS {scores['avs']:.3f}; {text}."
        else:
            if self.errors_checkbox.isChecked():
                self._place_errors()
            summary = f"'{run.pred_name}' against '{run.truth_name}' "
            summary += f"({dict((k, t) for t, k in TRUTH_KINDS)[run.kind]}): "
            summary += f"avS {scores['avs']:.3f}"
            semantic = run.kind in ("binary", "boundaries", "boundaries3d")
            if semantic and scores.get("foreground_iou") is not None:
                summary += f", foreground IoU {scores['foreground_iou']:.3f}"
            if run.masks_from:
                summary += f"; the prediction's {result.n_pred} objects whole from {run.masks_from}"
            summary += f" ({seconds:.2f} s)"
        notes = (*(_panel_note(note) for note in result.notes), *run.notes)
        self.status_label.setText(summary + "".join(f"\nWarning: {note}" for note in notes))
        for note in notes:  # inputs that score little, or not as shown, for no real reason
            show_warning(f"Evaluate: {note}")

    def _removed_during(self, run: _Run) -> str:
        """What of ``run``'s layers is no longer in the viewer, in words ("" when none)."""
        gone = [
            f"{what} '{name}'"
            for what, layer_id, name in (
                ("the prediction", run.pred_id, run.pred_name),
                ("the ground truth", run.truth_id, run.truth_name),
            )
            if find_layer(self.viewer, layer_id) is None
        ]
        if not gone:
            return ""
        return f"{' and '.join(gone)} {'was' if len(gone) == 1 else 'were'}"

    def _set_counts_caption(self, threshold: float) -> None:
        self.counts_label.setText(f"Objects; TP / FP / FN at IoU {threshold:g}")

    def _on_errored(self, exc: Exception) -> None:
        run = self._run
        show_error(f"Evaluate failed on '{run.pred_name}' against '{run.truth_name}': {exc}")
        self.status_label.setText(f"Not evaluated: {exc}")

    def _on_finished(self) -> None:
        self.worker = None
        self._run = None
        self._set_running(False)
        self.evaluation_finished.emit()

    # --- error layer ------------------------------------------------------------------------

    def _on_show_errors_toggled(self, checked: bool) -> None:
        if checked and self.last_evaluation is not None:
            if not self._removed_during(self._scored):  # (never the errors of a removed layer)
                self._place_errors()
        elif not checked and self._scored is not None:
            layer = find_layer(self.viewer, self._error_layers.get(self._scored.pred_id))
            if layer is not None:
                layer.visible = False

    def _place_errors(self) -> Labels:
        """Show the last evaluation's errors in its prediction's error layer, made if needed."""
        run, errors = self._scored, self.last_evaluation.errors
        name = f"{run.pred_name} errors @{run.threshold:g}"
        # the prediction's units too: napari drops every layer's units (the scale bar's)
        # when one layer has its default "pixel" among layers in µm
        placement = {  # (the last axes: overlapping masks of an (N, Y, X) prediction)
            **last_axes(dict(run.world), errors.ndim),
            "units": run.units[-errors.ndim :],
            "axis_labels": run.axis_labels[-errors.ndim :],
        }
        layer = find_layer(self.viewer, self._error_layers.get(run.pred_id))
        if layer is not None and layer.ndim != errors.ndim:
            self.viewer.layers.remove(layer)
            layer = None
        if layer is None:
            layer = self.viewer.add_labels(
                errors,
                name=name,
                colormap=ERROR_COLORS,
                opacity=0.8,
                metadata={ERRORS_KEY: run.pred_name},
                **placement,
            )
            self._error_layers[run.pred_id] = layer.unique_id
            return layer
        layer.data = errors
        layer.name = name
        for key, value in placement.items():
            setattr(layer, key, value)
        layer.metadata = {**layer.metadata, ERRORS_KEY: run.pred_name}
        layer.visible = True
        return layer

"""The Evaluate dock widget: score a labels layer against a ground-truth labels layer.

The widget reads its controls and calls :func:`tessella.engine.evaluation.evaluate_labels`, so
its scores are what ``tessella evaluate PRED GT`` prints for the same arrays. Pairs up to
:data:`SYNC_MAX_PIXELS` pixels are scored at once (a 2048 x 2048 image takes about half a
second); larger ones in a thread worker. "Show errors" puts the unmatched objects in a labels
layer ``"<prediction> errors @<IoU>"``: false positives red, false negatives cyan. Each
prediction has one such layer, updated by every evaluation.
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
from ._plot import LinePlot
from ._workers import WorkerFailed

if TYPE_CHECKING:
    import napari.viewer

    from tessella.engine.evaluation import Evaluation

__all__ = ["ERRORS_KEY", "EvaluateWidget", "SYNC_MAX_PIXELS"]

#: pairs with more pixels than this are scored in a thread worker
SYNC_MAX_PIXELS = 2048 * 2048
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


def _evaluate(
    labels_true,
    labels_pred,
    threshold: float,
    frame_axis=None,
    ignore_label=None,
    names=("ground truth", "prediction"),
) -> Evaluation:
    try:
        return evaluation.evaluate_labels(
            np.asarray(labels_true),
            np.asarray(labels_pred),
            threshold,
            frame_axis,
            ignore_label,
            names,
        )
    except RuntimeError as exc:  # superqt drops RuntimeErrors silently (see _workers)
        raise WorkerFailed(str(exc)) from exc


def _placement(layer: Labels) -> str:
    return ", ".join(
        f"{what} ({', '.join(f'{value:g}' for value in values)})"
        for what, values in (("scale", layer.scale), ("translate", layer.translate))
    )


def _placement_note(pred: Labels, truth: Labels) -> str:
    """A warning when the layers of a pair do not lie on each other on the canvas: the
    scores compare the arrays pixel by pixel, whatever their scale and translate."""
    if np.allclose(pred.scale, truth.scale) and np.allclose(pred.translate, truth.translate):
        return ""
    return (
        f"prediction '{pred.name}' has {_placement(pred)} but ground truth '{truth.name}' has "
        f"{_placement(truth)}: the scores compare their pixels one to one, not what the "
        "canvas shows"
    )


@dataclass(frozen=True)
class _Run:
    """What an evaluation scores and where its error layer goes, fixed when it starts."""

    pred_id: str
    pred_name: str
    truth_id: str
    truth_name: str
    threshold: float
    ignore_label: int | None
    scale: tuple
    translate: tuple
    started: float
    notes: tuple[str, ...] = ()  # the widget's own warnings, after those of the scores


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

    The scores table holds AP, precision, recall and F1 at IoU 0.5 to 0.9 and avS (mean AP);
    the counts table the objects of both layers and the true and false positives and false
    negatives at the error IoU. ``last_scores`` is the dict ``tessella evaluate`` reports.
    """

    #: emitted after every evaluation (done or failed) once the controls are usable again
    evaluation_finished = Signal()

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.worker: FunctionWorker | None = None
        self.last_scores: dict | None = None
        self.last_evaluation: Evaluation | None = None
        self._run: _Run | None = None  # the evaluation in progress
        self._scored: _Run | None = None  # the evaluation behind the tables
        self._error_layers: dict[str, str] = {}  # prediction layer id -> error layer id

        self.pred_combo = QComboBox()
        self.pred_combo.setToolTip("The labels to score")
        self.truth_combo = QComboBox()
        self.truth_combo.setToolTip("The reference labels, of the same shape")
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
        form.addRow("Error IoU", self.threshold_spin)
        form.addRow("Unannotated label", self.ignore_spin)
        form.addRow(self.errors_checkbox)
        layout, footer = panel_layout(self)  # the options and scores scroll
        footer.addWidget(self.evaluate_button)
        footer.addWidget(self.status_label)
        layout.addLayout(form)
        layout.addWidget(QLabel("Scores by IoU threshold"))
        layout.addWidget(self.scores_table)
        layout.addWidget(self.counts_label)
        layout.addWidget(self.counts_table)
        layout.addWidget(self.plot)
        layout.addStretch(1)
        self._set_counts_caption(self.threshold_spin.value())

        self.evaluate_button.clicked.connect(self._on_evaluate_clicked)
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

    def _refresh_layers(self, event=None) -> None:
        """List the labels layers (not error maps); a new choice avoids scoring a layer by
        itself, preferring a name like "ground truth" for the truth."""
        labels = [
            layer
            for layer in self.viewer.layers
            if isinstance(layer, Labels) and ERRORS_KEY not in layer.metadata
        ]
        changed = fill_layer_combo(self.pred_combo, self.viewer, labels)
        same = self.pred_combo.currentData() == self.truth_combo.currentData()
        if changed or same:  # a layer scored by itself is never kept as a choice
            layer = self.prediction_layer
            others = [other for other in labels if not _looks_like_truth(other.name)]
            if layer is not None and _looks_like_truth(layer.name) and others:
                self.pred_combo.setCurrentIndex(self.pred_combo.findData(others[0].unique_id))
        fill_layer_combo(self.truth_combo, self.viewer, labels)
        pred_id = self.pred_combo.currentData()
        if self.truth_combo.currentData() == pred_id:
            others = [other for other in labels if other.unique_id != pred_id]
            others.sort(key=lambda other: not _looks_like_truth(other.name))
            if others:
                self.truth_combo.setCurrentIndex(self.truth_combo.findData(others[0].unique_id))

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
        if pred_data.shape != truth_data.shape:
            message = (
                f"prediction '{pred.name}' has shape {tuple(pred_data.shape)} but ground truth "
                f"'{truth.name}' has shape {tuple(truth_data.shape)}; they must be equal."
            )
            show_error(f"Evaluate: {message}")
            self.status_label.setText(f"Not evaluated: {message}")
            return
        self._run = _Run(
            pred.unique_id,
            pred.name,
            truth.unique_id,
            truth.name,
            round(self.threshold_spin.value(), 2),
            self.ignore_spin.value() or None,
            tuple(pred.scale),
            tuple(pred.translate),
            time.perf_counter(),
            tuple(note for note in [_placement_note(pred, truth)] if note),
        )
        self._set_running(True)
        frame_axis = _frame_axis(pred, truth)
        names = (f"ground truth '{truth.name}'", f"prediction '{pred.name}'")
        args = (truth_data, pred_data, self._run.threshold, frame_axis, self._run.ignore_label)
        if np.prod(pred_data.shape) <= SYNC_MAX_PIXELS:
            try:
                result = _evaluate(*args, names)
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
        for control in (self.pred_combo, self.truth_combo, self.threshold_spin, self.ignore_spin):
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
            summary = f"'{run.pred_name}' against '{run.truth_name}': avS {scores['avs']:.3f} "
            summary += f"({seconds:.2f} s)"
        notes = (*result.notes, *run.notes)
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
                scale=run.scale,
                translate=run.translate,
                metadata={ERRORS_KEY: run.pred_name},
            )
            self._error_layers[run.pred_id] = layer.unique_id
            return layer
        layer.data = errors
        layer.name = name
        layer.scale = run.scale
        layer.translate = run.translate
        layer.metadata = {**layer.metadata, ERRORS_KEY: run.pred_name}
        layer.visible = True
        return layer

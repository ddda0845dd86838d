"""Evaluate's scores marked out of date: the scores table, counts, foreground IoU line, V_rand
table and AP plot greyed, and said so, once they no longer describe what the panel would
score (a mixin of :class:`.evaluate.EvaluateWidget`).

They are out of date when the chosen Prediction or Ground truth is another layer than the pair
scored (a layer removed or added, the pair switched: user test s33 t13 #7 read the previous
pair's table under a new pair, nothing greyed, the status line naming the old pair), when
"Ground truth is", "Matched at IoU", "Unannotated label" or "Score annotated frames only"
differ from the scoring's, and when a layer scored was edited (painted, filled, Correct's
edits, an undo or redo), had its data replaced (Segment or Tune run into it) or was removed:
the data versions that :mod:`._evaluate_errors` keeps (napari's ``events.data``, ``paint``
and ``set_data`` with the undo history). Choosing the pair and settings scored again (its
data unchanged) shows them as current again.

The caption above the tables says whose scores they are; the status line says so, and what
differs, where it showed the evaluation's report (a message about something else, such as
an errors layer out of date or a pair that could not be scored, is left as it is); the
report comes back with the scores' current look.
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtGui import QBrush, QColor

from ._evaluate_kinds import TRUTH_KINDS

__all__ = ["RESULTS_CAPTION", "STALE_GREY", "EvaluateStale"]

#: the caption above the scores table while they are current
RESULTS_CAPTION = "Scores by IoU threshold"
#: the colour of out-of-date scores, counts and AP curve
STALE_GREY = "#808080"


def _kind_text(kind: str) -> str:
    return dict((k, text) for text, k in TRUTH_KINDS).get(kind, kind)


def _none(value) -> str:
    return "none" if value is None else str(value)


class EvaluateStale:
    """Mixin for :class:`.evaluate.EvaluateWidget` (before :class:`._evaluate_run.EvaluateRun`
    in its bases: it wraps ``_set_status``, ``_on_returned`` and ``_on_finished``): the
    results greyed while out of date, ``results_stale`` saying why ("" while current)."""

    def _init_stale(self) -> None:
        self.results_stale = ""  # why the scores shown are out of date ("": current)
        self._scored_said = ""  # the status line of the evaluation shown (its report)
        self._scored_tip = ""
        self._stale_said = ""  # the status line that says the scores are out of date
        self._status_kind = "other"  # what the status line says: "report", "stale", "other"
        self._new_report = False  # an evaluation just shown: its look set once it has finished
        for signal in (
            self.pred_combo.currentIndexChanged,
            self.truth_combo.currentIndexChanged,
            self.kind_combo.currentIndexChanged,
            self.threshold_spin.valueChanged,
            self.ignore_spin.valueChanged,
            self.annotated_checkbox.toggled,
        ):
            signal.connect(self._sync_stale)

    # --- the status line ------------------------------------------------------------------

    def _set_status(self, text: str, details: str | None = "") -> None:
        super()._set_status(text, details)  # type: ignore[misc]
        if text == self._stale_said and text:
            self._status_kind = "stale"
        elif text == self._scored_said and text:
            self._status_kind = "report"
        elif details is None and self._status_kind == "report":
            self._scored_said = text  # (the report reworded: errors hidden, layers filled)
        else:
            self._status_kind = "other"

    def _on_returned(self, result) -> None:
        super()._on_returned(result)  # type: ignore[misc]
        self._scored_said = self.status_label.text()
        self._scored_tip = self.status_label.toolTip()
        self._status_kind = "report"
        self._stale_said = ""
        self._new_report = True  # (set by _sync_stale once the run has finished)

    def _on_finished(self) -> None:
        super()._on_finished()  # type: ignore[misc]
        self._sync_stale()  # (what changed while it ran, or a run that failed)

    # --- out of date ----------------------------------------------------------------------

    def _stale_reasons(self, run) -> str:
        """What differs between the evaluation ``run`` shown and what Evaluate would score
        now, in words joined by "; " ("" when nothing does)."""
        reasons = []
        changed = self._changed_during(run)
        if changed:
            reasons.append(changed + ("" if changed.endswith("removed") else " since"))
        pred, truth = self.prediction_layer, self.truth_layer
        pair = (
            None if pred is None else pred.unique_id,
            None if truth is None else truth.unique_id,
        )
        if pair != (run.pred_id, run.truth_id):
            if not self._pair_chosen():
                reasons.append("no pair is chosen now")
            else:
                reasons.append(f"'{pred.name}' against '{truth.name}' is chosen now")
            return "; ".join(reasons)
        if self.truth_kind != run.kind:
            reasons.append(
                f"Ground truth is: {_kind_text(self.truth_kind)} now "
                f"(scored as {_kind_text(run.kind)})"
            )
        threshold = round(self.threshold_spin.value(), 2)
        if threshold != run.threshold:
            reasons.append(
                f"matched at IoU {threshold:g} now (TP / FP / FN and errors at {run.threshold:g})"
            )
        ignore = self.ignore_spin.value() or None
        if ignore != run.ignore_label:
            reasons.append(
                f"unannotated label {_none(ignore)} now (scored with {_none(run.ignore_label)})"
            )
        if self.annotated_checkbox.isChecked() != bool(run.annotated_how):
            ticked = "ticked" if self.annotated_checkbox.isChecked() else "unticked"
            reasons.append(f"Score annotated frames only is {ticked} now")
        return "; ".join(reasons)

    def _pair_chosen(self) -> bool:
        """Whether two layers are chosen (a prediction and another layer as ground truth)."""
        pred, truth = self.prediction_layer, self.truth_layer
        return pred is not None and truth is not None and truth is not pred

    def _sync_stale(self, *_args, force: bool = False, say: bool = True) -> None:
        """Grey the results, and say why, when they no longer describe what Evaluate would
        score (:meth:`_stale_reasons`); show them as current again, and the evaluation's
        report, when they do. Not while an evaluation runs (its controls are off)."""
        run = getattr(self, "_scored", None)
        if run is None or self._run is not None or self.last_evaluation is None:
            return
        if self._new_report:  # (its tables new, in their colours; scores of layers changed
            # during the run greyed at once, its report saying so already)
            self._new_report, force, say = False, True, False
        why = self._stale_reasons(run)
        if why == self.results_stale and not force:
            return
        self.results_stale = why
        self._grey_results(bool(why))
        caption = RESULTS_CAPTION
        if why:
            caption += f": out of date, of '{run.pred_name}' against '{run.truth_name}'"
        self._results_caption.setText(caption)
        self._results_caption.setToolTip(why and f"Out of date: {why}. Click Evaluate.")
        shown = self._status_kind
        if why:
            if not self._pair_chosen():
                then = "Choose a prediction and its ground truth, then click Evaluate."
            else:
                target = "the pair chosen now" if "chosen now" in why else "it again"
                then = f"Click Evaluate to score {target}."
            text = (
                f"Out of date: the scores shown are of '{run.pred_name}' against "
                f"'{run.truth_name}' ({_kind_text(run.kind)}); {why}. {then}"
            )
            self._stale_said = text
            if say and shown in ("report", "stale"):
                self._set_status(text)
        else:
            self._stale_said = ""
            if shown == "stale":
                self._set_status(self._scored_said, details=None)
                self.status_label.setToolTip(self._scored_tip)
                self._status_kind = "report"

    def _grey_results(self, stale: bool) -> None:
        """The tables' numbers, the foreground IoU line and the AP curve grey (``stale``),
        or in their own colours."""
        brush = QBrush(QColor(STALE_GREY)) if stale else None
        for table in (self.scores_table, self.counts_table, self.vrand_table):
            for row in range(table.rowCount()):
                for column in range(table.columnCount()):
                    item = table.item(row, column)
                    if item is not None:
                        item.setData(Qt.ItemDataRole.ForegroundRole, brush)
        self.iou_label.setStyleSheet(f"color: {STALE_GREY};" if stale else "")
        self.plot.colors = {"AP": STALE_GREY} if stale else {}
        self.plot.update()

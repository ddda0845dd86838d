"""The last model a Train panel trained, kept for a panel reopened in the same viewer
(:class:`TrainRestoring`, a mixin of :class:`.train.TrainWidget`)."""

from __future__ import annotations

from pathlib import Path
from weakref import WeakKeyDictionary

from ._layers import find_layer
from ._train_runs import stopped_run

__all__ = ["TrainRestoring"]


#: what the last Train panel of a viewer trained, for a panel reopened in that viewer
_LAST: WeakKeyDictionary = WeakKeyDictionary()


class TrainRestoring:
    """Mixin for :class:`.train.TrainWidget`: remember, restore and forget the last model."""

    def _remember(self) -> None:
        """Keep the last model for a Train panel reopened in this viewer."""
        _LAST[self.viewer] = {
            "model": self.last_model,
            "base": self.last_base,
            "ignore_label": self.last_ignore_label,
            "temporal": self.last_temporal,
            "pairs": self.last_pairs,
            "described": self.last_described,
            "held": self.last_held,
            "curves": (list(self._losses), list(self._scores)),  # its run's, to draw again
            "x_range": self.plot.x_range,  # the run's steps, 0 to its last: drawn so again
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
        self.last_held = last.get("held", {})
        self._show_compare_label()
        self.compare_button.setEnabled(self._run is None)
        text = (
            f"Last model: '{self.last_model.name}' in {self.last_model.parent}"
            f" (trained on {_shortened(self.last_described)}); Compare runs it."
        )
        stopped = stopped_run(self.last_model)
        if stopped is not None:  # its run stopped (Cancel, this panel closed): offer Resume
            self._show_run_settings(self.last_model)
            self._losses, self._scores = (list(c) for c in last.get("curves", ([], [])))
            self._curves_of = self.last_model
            self._show_score_name(self.last_model)
            # the steps of the whole run, as its panel drew them: fitted to the curves, the two
            # plots' x axes differed (the scores start after the first epoch) and a stopped
            # run's curve filled the width as a finished one's
            steps = self.epochs_spin.value() * self.steps_spin.value()  # (the run's)
            for plot in (self.plot, self.score_plot):
                plot.x_range = last.get("x_range") or (0.0, float(steps))
            self.plot.set_series("loss", self._losses)
            self.score_plot.set_series("validation score", self._scores)
            self.plot.setVisible(bool(self._losses or self._scores))
            self.score_plot.setVisible(bool(self._losses or self._scores))
            self.pairs = [p for p in self.last_pairs if all(find_layer(self.viewer, i) for i in p)]
            self._show_pairs()
            folder = self.folder_edit.text().strip()  # its folder, put back
            text += f" Its run stopped {stopped}: Resume continues it"
            text += (
                f" on the folder {folder}."
                if folder
                else " on the same pairs."
                if self.pairs
                else f" (list the pairs it trained on: {_shortened(self.last_described)})."
            )
        self.status_label.setText(text)

    def _forget_last_model(self) -> None:
        """After a failed run (one the engine refused included) that saved no model,
        Compare no longer offers the model trained before: next to the failure of another
        model it read as that one's. A request refused before a run starts keeps it."""
        self.last_model, self.last_base, self.last_pairs = None, None, ()
        self.last_held = {}
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


def _shortened(text: str, most: int = 160) -> str:
    """``text`` (the layers a run trained on, which 64-character file names make a dozen
    lines long) cut to about ``most`` characters, saying how many pairs are left out.

    >>> _shortened("a + b, c + d", 6)
    'a + b, … (1 pair more)'
    """
    if len(text) <= most:
        return text
    pairs = text.split(", ")
    kept = []
    for pair in pairs:
        if kept and len(", ".join([*kept, pair])) > most:
            break
        kept.append(pair)
    left = len(pairs) - len(kept)
    if not left:
        return text[: most - 1] + "…"
    return ", ".join(kept) + f", … ({left} pair{'s' if left > 1 else ''} more)"

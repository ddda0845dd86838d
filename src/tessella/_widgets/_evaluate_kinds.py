"""Evaluate's "Ground truth is": what the ground truth of the chosen pair of layers holds
(instances, a binary mask, a boundary map, overlapping masks), guessed from its data whenever
the pair changes: small arrays in memory at once, larger or lazy ones in a thread worker from
a sample (the guessing of :class:`.evaluate.EvaluateWidget`, a mixin)."""

from __future__ import annotations

import numpy as np
from napari.layers import Labels
from napari.qt.threading import create_worker
from napari.utils.notifications import show_warning
from qtpy.QtCore import QEvent
from qtpy.QtWidgets import QApplication

from tessella.engine import evaluation

from ._layers import full_resolution
from ._workers import ThreadWarningsFunctionWorker

__all__ = ["GUESS_SAMPLE_PIXELS", "GUESS_SYNC_PIXELS", "TRUTH_KINDS", "EvaluateKinds"]

#: ground truth (and prediction) in memory up to this many pixels is looked at on the GUI
#: thread to guess what it is (at most about 0.04 s for masks and membrane maps, 0.1 s for
#: pixel noise); larger or lazy ones in a thread worker, from a sample
GUESS_SYNC_PIXELS = 2**20
#: about the most pixels of the ground truth (and of the prediction) read to guess what it
#: is: a larger or lazy array is judged from samples of it (``sample_pixels`` of
#: :func:`evaluation.ground_truth_kind`)
GUESS_SAMPLE_PIXELS = 2**22
#: the "Ground truth is" choices: (text, kind of :data:`evaluation.GROUND_TRUTH_KINDS`)
TRUTH_KINDS = (
    ("instances (labels)", "labels"),
    ("binary mask", "binary"),
    ("boundary map", "boundaries"),
    ("boundary map, 3D", "boundaries3d"),
    ("overlapping masks", "overlapping"),
)


def _layer_array(layer: Labels):
    """The full-resolution data of a labels layer (level 0 of a pyramid)."""
    return full_resolution(layer)


def _ctc_seg(layer: Labels) -> bool:
    """Whether the reader opened ``layer`` from a Cell Tracking Challenge SEG folder (its
    ``path`` that folder, or one of its ``man_seg`` files): instances, never guessed (a few
    frames of one or two annotated cells each, GOWT1's, looked like a binary mask)."""
    from pathlib import Path

    from tessella.engine.evaluation import ctc_annotated_files

    path = layer.metadata.get("path") if isinstance(layer.metadata, dict) else None
    if not path or not isinstance(path, (str, Path)):
        return False
    path = Path(path)
    if path.is_file():
        return any(file.name == path.name for _, file in ctc_annotated_files(path.parent) or [])
    return ctc_annotated_files(path) is not None


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


class EvaluateKinds:
    """Mixin for :class:`.evaluate.EvaluateWidget`: "Ground truth is" (``kind_combo``) chosen
    from the data of each new pair of layers, saying why in ``kind_label`` (uses the widget's
    combos, ``prediction_layer``, ``truth_layer``, ``kind_guessed`` and the guessing state its
    ``__init__`` sets: ``kind_worker``, ``_kind_pair``, ``_worker_pair``, ``_guessing``)."""

    def _explain_kind(self, text: str) -> None:
        """Say ``text`` under "Ground truth is", the panel laid out for it at once: the label
        as tall as its lines wrapped at its width. (Qt lays out at the next turn of the event
        loop: until then new, longer text was drawn in the old height, its first line under
        the combo box and its last cut off, as a screenshot taken on ``kind_guessed`` showed.)"""
        label = self.kind_label
        label.setText(text)
        for _ in range(4):  # (a layout done may ask its parent's for another round)
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            if label.height() >= label.heightForWidth(label.width()):
                break
            widget = label.parentWidget()
            while widget is not None:  # (not posted yet: activate the layouts up the chain)
                if widget.layout() is not None:
                    widget.layout().activate()
                widget = widget.parentWidget()

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
        self._kind_said = None  # (a guess for this pair, once shown)
        if pred is None or truth is None or pred is truth:
            self._explain_kind("")
            return
        if _ctc_seg(truth):  # (its files say what it is: no guess, and no worker)
            why = "the reader opened it from a Cell Tracking Challenge SEG folder (man_seg files)"
            self._show_kind((pair, truth.name, ("labels", why), ""))
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
        self._explain_kind(
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
            _worker_class=ThreadWarningsFunctionWorker,  # warned: this guess's warnings only
            _start_thread=False,
        )
        worker.returned.connect(self._on_kind_guessed)
        worker.warned.connect(lambda args: show_warning(f"Evaluate: {args[0]}"))
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
            self._explain_kind(
                f"'{name}' could not be read to guess what it is ({error}): taken as "
                "instances; choose what it is"
            )
        else:
            kind, why = guess
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
            text = dict((k, t) for t, k in TRUTH_KINDS)[kind]
            advice = ""
            if why.startswith("only 0 in the sample"):  # (a sample can miss sparse annotation)
                where = (
                    "to a few planes, or to a small part of them,"
                    if " planes" in why
                    else "to a small part of the image"
                )
                advice = (
                    f" Annotation kept {where} can lie outside the sample: if it is not "
                    "instances, choose its kind in 'Ground truth is' above."
                )
            self._explain_kind(f"'{name}': {why}, so taken as {text}.{advice}")
        self._kind_said = (guess, self.kind_label.text())
        self.kind_guessed.emit()

    def _on_kind_chosen(self, _index: int) -> None:
        """A kind chosen by hand while a guess runs is kept: the guess is dropped. Chosen
        after the guess, the line under the combo says so (it kept saying "so taken as" the
        kind guessed), with what was guessed and why; the guess's own words come back when
        its kind is chosen again."""
        name = self.truth_layer.name if self.truth_layer is not None else "ground truth"
        chosen = self.kind_combo.currentText()
        if self._guessing is not None:
            self._guessing = None
            self._explain_kind(
                f"'{name}' taken as {chosen}, as chosen (before the guess from a sample was done)"
            )
            return
        said = getattr(self, "_kind_said", None)
        if said is None or said[0] is None:
            return
        (kind, why), text = said
        if kind == self.truth_kind:
            self._explain_kind(text)
            return
        guessed = dict((k, t) for t, k in TRUTH_KINDS)[kind]
        self._explain_kind(f"'{name}' taken as {chosen}, as chosen; guessed {guessed}: {why}.")

    @property
    def truth_kind(self) -> str:
        """What the ground truth is: a key of :data:`evaluation.GROUND_TRUTH_KINDS`."""
        return self.kind_combo.currentData()

"""Evaluate's "Ground truth is": what the ground truth of the chosen pair of layers holds
(instances, a binary mask, a boundary map, overlapping masks), guessed from its data whenever
the pair changes: small arrays in memory at once, larger or lazy ones in a thread worker from
a sample (the guessing of :class:`.evaluate.EvaluateWidget`, a mixin)."""

from __future__ import annotations

import math
import re

import numpy as np
from napari.layers import Labels
from napari.qt.threading import create_worker
from napari.utils.notifications import show_warning
from qtpy.QtCore import QEvent
from qtpy.QtWidgets import QApplication

from tessella.engine import evaluation

from ._workers import ThreadWarningsFunctionWorker

__all__ = ["GUESS_SAMPLE_PIXELS", "GUESS_SYNC_PIXELS", "TRUTH_KINDS", "EvaluateKinds"]

#: ground truth (and prediction) in memory up to this many pixels is looked at on the GUI
#: thread to guess what it is (at most about 0.04 s for masks and membrane maps, 0.1 s for
#: pixel noise); larger or lazy ones in a thread worker, from a sample
GUESS_SYNC_PIXELS = 2**20
#: about the most pixels of the ground truth (and of the prediction) read to guess what it
#: is: a larger or lazy array is judged from samples of it (:func:`_guess_kind`)
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
    return layer.data[0] if layer.multiscale else layer.data


#: how a pieces count reads in :func:`evaluation.ground_truth_kind`'s words: a sample's
#: pieces are not the array's, so it is left out of a guess from a sample
_PIECES = re.compile(r" \(\d+ connected pieces?\)")


def _read(array, windows: list[tuple]) -> list[np.ndarray]:
    """The ``windows`` (index tuples) of ``array``, numpy or lazy (a dask array's computed
    together, its graph optimised once)."""
    parts = [array[window] for window in windows]
    if hasattr(array, "__dask_graph__"):
        import dask

        parts = list(dask.compute(*parts))
    return [np.asarray(part) for part in parts]


def _fit(height: int, width: int, pixels: int) -> tuple[int, int]:
    """The height and width of a window of about ``pixels`` pixels, as square as a
    ``height`` x ``width`` plane allows."""
    h = min(height, max(1, math.isqrt(max(1, pixels))))
    w = min(width, max(1, pixels // h))
    return min(height, max(1, pixels // w)), w


def _around(centre: int, size: int, extent: int) -> slice:
    start = min(max(0, centre - size // 2), extent - size)
    return slice(start, start + size)


def _wider_look(array, probe_pixels: int, close_pixels: int) -> tuple[np.ndarray, np.ndarray, str]:
    """``(probe, close, words)``: a second look at a large ``array`` for
    :func:`_guess_kind`, and what it was in words. ``probe``: about ``probe_pixels`` pixels
    as small windows spread over it, 3 x 3 over a 2D image, one on each of up to 32 planes
    spread over the depth of a larger array, their place in the plane going round a 3 x 3
    grid from plane to plane (so that annotation kept to some planes, or to one part of
    them, is found); ``close``: about ``close_pixels`` more as one window (a pair of
    neighbouring planes' windows) around the probe window holding most annotation, large
    enough to hold a good many cells of a membrane map whose cells are larger than the
    probe's or the engine's windows; none (an empty array) when the probe found nothing."""
    shape = tuple(int(size) for size in array.shape)
    height, width = shape[-2:]
    count = math.prod(shape[:-2])
    picks = np.unique(np.linspace(0, count - 1, min(count, 32)).astype(int)).tolist()
    places = 9 if count == 1 else 1  # windows per picked plane
    h, w = _fit(height, width, probe_pixels // (len(picks) * places))
    tops = np.unique(np.linspace(0, height - h, 3).astype(int)).tolist()
    lefts = np.unique(np.linspace(0, width - w, 3).astype(int)).tolist()
    grid = [(top, left) for top in tops for left in lefts]
    probes = [  # (plane, top, left)
        (plane, *grid[(i * places + j) % len(grid)])
        for i, plane in enumerate(picks)
        for j in range(places)
    ]

    def plane_index(plane: int) -> tuple:
        return tuple(int(k) for k in np.unravel_index(plane, shape[:-2]))

    probe = np.stack(
        _read(
            array,
            [
                (*plane_index(plane), slice(top, top + h), slice(left, left + w))
                for plane, top, left in probes
            ],
        )
    )
    fullest = int(np.argmax(np.count_nonzero(probe.reshape(len(probe), -1), axis=1)))
    plane, top, left = probes[fullest]
    where = "it" if count == 1 else f"{len(picks)} planes"
    words = f"then {len(probes)} small windows over {where}"
    if not probe[fullest].any():  # (nothing to look closer at)
        return probe, probe[:0], words
    planes = [plane] if count == 1 else [min(plane, count - 2), min(plane, count - 2) + 1]
    close_h, close_w = _fit(height, width, close_pixels // len(planes))
    window = (_around(top + h // 2, close_h, height), _around(left + w // 2, close_w, width))
    close = np.stack(_read(array, [(*plane_index(k), *window) for k in planes]))
    pair = "" if count == 1 else f" of planes {planes[0]}-{planes[1]}"
    words += f" and {close_h} x {close_w}{pair} around the fullest"
    return probe, close, words


def _guess_kind(truth, prediction, budget: int) -> tuple[str, str]:
    """``(kind, why)``: :func:`evaluation.ground_truth_kind` of the ground truth ``truth``
    against ``prediction``, an array larger than ``budget`` pixels judged from samples of
    about ``budget`` pixels in all, the rest never read.

    Half of them are the engine's sample (:func:`evaluation.sample_planes`: 9 windows of a
    2D image, 16 planes' central windows of a volume), judged as the engine judges it. When
    that shows only 0, 0 and one value (a binary mask?) or a stack of object masks, the
    other half takes a wider look (:func:`_wider_look`): annotation kept to a few planes or
    to one part of them, or a membrane map whose cells are larger than the engine's
    windows, looked empty, like a binary mask or (a membrane map in two of the planes
    sampled) like a stack of object masks from the engine's sample alone."""
    truth_shape = tuple(int(size) for size in truth.shape)
    shape = tuple(int(size) for size in prediction.shape)
    small = math.prod(truth_shape) <= budget and math.prod(shape) <= budget
    by_shape = len(truth_shape) == len(shape) + 1 == 3 and truth_shape[1:] == shape
    stacks = len(truth_shape) == len(shape) == 3 and truth_shape[1:] == shape[1:]
    if small or by_shape or (stacks and truth_shape != shape):  # (mask stacks: as before)
        return evaluation.ground_truth_kind(truth, shape, prediction, budget)
    sample, words = evaluation.sample_planes(truth, budget // 2)
    # a prediction of the ground truth's shape, sampled alike; else no shape to compare
    kind, why = evaluation.ground_truth_kind(sample, sample.shape if stacks else (), None)
    if not words:  # (the whole ground truth, under half the budget)
        return kind, why
    if kind == "boundaries" or (kind == "labels" and sample.any()):
        return kind, f"{why} (guessed from a sample: {words})"
    # nothing seen: mostly more places to look; else a closer look where most is
    half = budget - budget // 2
    probe_pixels = half // 4 if sample.any() else half * 3 // 4
    probe, close, more = _wider_look(truth, probe_pixels, half - probe_pixels)
    said = f" (guessed from a sample: {words}; {more})"
    if kind == "overlapping":  # (a membrane map in a few of the planes sampled looks alike)
        closer = evaluation.ground_truth_kind(close, (), None) if close.any() else ("", "")
        if closer[0] == "boundaries":
            return "boundaries", closer[1] + said
        return kind, f"{why} (guessed from a sample: {words})"
    values = np.unique(np.concatenate([part[part != 0] for part in (sample, probe, close)]))
    if not values.size:
        return "labels", f"only 0 in the sample: nothing annotated to tell what it is{said}"
    if len(values) > 1:
        return "labels", f"many object IDs: instance labels{said}"
    if close.any():
        kind, why = evaluation.ground_truth_kind(close, (), None)
    elif kind != "binary":  # (annotation only in the probe's windows)
        kind, why = evaluation.ground_truth_kind(probe, (), None)
    return kind, _PIECES.sub("", why) + said


def _guess(pair: tuple, name: str, truth, prediction) -> tuple:
    """``(pair, name, (kind, why) or None, error)``: what the ground truth ``truth`` of the
    layer pair ``pair`` is, from at most :data:`GUESS_SAMPLE_PIXELS` of its pixels (and of
    ``prediction``'s), for the panel to show if the pair is still chosen."""
    try:
        guess = _guess_kind(truth, prediction, GUESS_SAMPLE_PIXELS)
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
        self.kind_label.setText(text)
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)

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
            self._explain_kind("")
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
            self._explain_kind(f"'{name}': {why}, so taken as {text}.")
        self.kind_guessed.emit()

    def _on_kind_chosen(self, _index: int) -> None:
        """A kind chosen by hand while a guess runs is kept: the guess is dropped."""
        if self._guessing is not None:
            self._guessing = None
            name = self.truth_layer.name if self.truth_layer is not None else "ground truth"
            self._explain_kind(
                f"'{name}' taken as {self.kind_combo.currentText()}, as chosen (before the "
                "guess from a sample was done)"
            )

    @property
    def truth_kind(self) -> str:
        """What the ground truth is: a key of :data:`evaluation.GROUND_TRUTH_KINDS`."""
        return self.kind_combo.currentData()

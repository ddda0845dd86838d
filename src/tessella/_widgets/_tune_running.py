"""Tune's runs: starting a thread worker for the frames or slice to update, superseding,
cancelling, progress, and the end of a run, failed or not (:class:`TuneRunning`, a mixin of
:class:`.tune.TuneWidget`)."""

from __future__ import annotations

import time
from functools import partial

import numpy as np
from napari.layers import Labels
from napari.qt.threading import create_worker
from superqt.utils import GeneratorWorker

from tessella.engine.params import params_to_dict

from . import _results
from ._frame_words import frame_name, recorded_frame_numbers
from ._tune_frames import _postprocess_frames, _Request, _slice_preview, part_unit
from ._tune_notices import show_error, show_warning
from ._workers import ThreadWarningsWorker, close_when_finished, show_progress

__all__ = ["CANCEL_AFTER_MS", "CANCEL_TIP", "NEWEST_AFTER_MS", "ONE_PIECE_TIP", "TuneRunning"]

#: a slice preview offers Cancel once it has run this long: a dragged slider previews slice
#: after slice, most in a fraction of it, and Cancel flickered on and off with each; a
#: preview that runs this long says "updating ..." in the status line
CANCEL_AFTER_MS = 300
#: a newer value drops the preview under way once that preview has run this long, where it
#: can stop part way (:func:`_stoppable`): the newest value wins, and quicker previews are
#: still shown one after the other while a slider is dragged
NEWEST_AFTER_MS = 250

#: Cancel's tooltip
CANCEL_TIP = (
    "Stop Apply to all after the current frame, or the preview of a volume's slice (its "
    "labels stay as they were)"
)
#: Cancel's tooltip while *Apply to all* post-processes a volume, in one call of the method
#: that cannot stop part way: Cancel is off then (it looked active but changed nothing,
#: the whole volume updated anyway: user test s35/t20 #4)
ONE_PIECE_TIP = (
    "Off while Apply to all updates this volume: a volume is post-processed in one piece, "
    "which cannot stop part way (Ctrl+Z undoes it once done). A slice preview and a movie's "
    "Apply to all can be cancelled."
)


class TuneRunning:
    """Mixin for :class:`.tune.TuneWidget`: its runs (uses the widget's ``_requests``,
    ``_worker_of``, ``_due``, ``_on_frame``, ...)."""

    # --- running ------------------------------------------------------------------------------

    def _current_frame(self, layer: Labels, axes: str) -> int | None:
        """The data index along T of the frame on screen, None without a T axis."""
        if "T" not in axes:
            return None
        t_axis = axes.index("T")
        position = layer.world_to_data(self.viewer.dims.point)[t_axis]
        return int(np.clip(round(position), 0, layer.data.shape[t_axis] - 1))

    def _current_slice(self, layer: Labels, axes: str) -> int:
        """The data index along Z of the slice on screen."""
        z_axis = axes.index("Z")
        position = layer.world_to_data(self.viewer.dims.point)[z_axis]
        return int(np.clip(round(position), 0, layer.data.shape[z_axis] - 1))

    def _on_apply_all_clicked(self) -> None:
        self._changed_at[self.layer_combo.currentData()] = time.perf_counter()
        self._start(apply_all=True)

    def _on_cancel_clicked(self) -> None:
        """Stop *Apply to all* after the frame being computed, or the slice preview of a
        volume under way between two of the slices it makes to judge its objects' sizes
        (seconds at a very low threshold on a large volume): its labels are dropped, the
        layer keeps those on screen, and a change made meanwhile that waited for it goes
        with it (:meth:`_say_cancelled` brings the controls back to the labels' values)."""
        layer_id = self.layer_combo.currentData()
        request, worker = self._requests.get(layer_id), self.worker
        if worker is None:
            return
        if request is not None and not request.apply_all:
            request.notes["quit"] = request.notes["cancelled"] = True
            self._due.pop(layer_id, None)
        worker.quit()  # after the frame being computed

    def _offer_cancel(self, request: _Request) -> None:
        """Cancel for ``request``, the chosen layer's run just started: at once for *Apply to
        all*; for the preview of a volume's slice once it has run :data:`CANCEL_AFTER_MS`
        (:meth:`_on_cancel_due`), or at once where the preview before it, which it followed
        without a pause (a slider dragged over slow previews), offered it already; never for
        other previews, nor for *Apply to all* of a volume (one call of the method: its
        tooltip says why, :data:`ONE_PIECE_TIP`)."""
        self._cancel_timer.stop()
        one_piece = request.apply_all and "T" not in request.axes  # (a volume, one call)
        self.cancel_button.setToolTip(ONE_PIECE_TIP if one_piece else CANCEL_TIP)
        if request.apply_all or not _cancellable(request):
            self.cancel_button.setEnabled(request.apply_all and not one_piece)
        elif not self.cancel_button.isEnabled():
            self._cancel_timer.start(CANCEL_AFTER_MS)

    def _on_cancel_due(self) -> None:
        """A slice preview has run :data:`CANCEL_AFTER_MS`: Cancel, where it still runs."""
        request = self._requests.get(self.layer_combo.currentData())
        if request is not None and _cancellable(request):
            self.cancel_button.setEnabled(True)

    def _abandon(self, request: _Request) -> bool:
        """Whether the preview ``request`` under way gives way now to the newer values due
        for its layer (:meth:`_run_due`): it can stop part way (:func:`_stoppable`) and has
        run :data:`NEWEST_AFTER_MS`; its labels are dropped and it stops at its next step
        (a row of the ball, a slice of the slab), while the layer keeps the labels of the
        last preview that finished. Sooner, the check comes again when it will have run
        that long (:attr:`_newest_timer`). A preview that cannot stop part way is shown
        first, then the newer values run (two running at once would share the cores)."""
        if not _stoppable(request):
            return False
        ran = (time.perf_counter() - request.notes.get("began", 0.0)) * 1000
        if ran >= NEWEST_AFTER_MS:
            return True
        if not self._newest_timer.isActive():
            self._newest_timer.start(int(NEWEST_AFTER_MS - ran) + 1)
        return False

    def _say_updating(self, request: _Request, dropped: _Request | None = None) -> None:
        """The status line says that ``request``, a preview of the chosen layer, runs (it
        has run :data:`CANCEL_AFTER_MS`, or it replaced the preview ``dropped``): which part,
        with which values (those that differ from the labels on screen); the labels shown
        stay those of the last preview that finished until it is done."""
        layer = self._find_layer(request.layer_id)
        if layer is None or request.layer_id != self.layer_combo.currentData():
            return
        if not self._latest(request) or request.apply_all:
            return
        result = _results.get(request.layer_id)
        shown = self._written_with.get(request.layer_id, None if result is None else result.params)
        text = f": updating {_part_name(request)}{_changed(request.params, shown)}…"
        if dropped is not None:
            gone = _changed(dropped.params, shown)
            text += f" (the preview{gone} was dropped for the newer value)"
        self._say(text, layer)

    def _on_slow(self) -> None:
        """The chosen layer's preview has run :data:`CANCEL_AFTER_MS`: "updating ..."."""
        request = self._requests.get(self.layer_combo.currentData())
        if request is not None and request.layer_id not in self._due:
            self._say_updating(request)

    def _supersede(self, layer_id) -> None:
        """Make ``layer_id``'s running request stale (its worker stops at its next frame, a
        slice preview of a volume between two slices it makes); drop a change due for it."""
        self._due.pop(layer_id, None)
        request = self._requests.pop(layer_id, None)
        if request is not None:  # (a slice preview stops growing its slab: _sized_in_the_volume)
            request.notes["quit"] = True
        self._progress.pop(layer_id, None)
        worker = self._worker_of.pop(layer_id, None)
        if worker is not None:
            worker.quit()

    def _start(self, apply_all: bool, layer_id=None) -> None:
        """Post-process with ``layer_id``'s parameters (the chosen layer's by default) and
        write the labels into that layer."""
        from tessella.engine.methods import get_method

        if layer_id is None:
            layer_id = self.layer_combo.currentData()
        layer, result = self._find_layer(layer_id), _results.get(layer_id)
        if layer is None or result is None:
            return
        if self._refuse_if_reshaped(layer, result):
            self._supersede(layer_id)  # (nothing runs for it now)
            if not self._requests and not self._due:
                self.update_finished.emit()
            return
        method = get_method(result.model.card.method)
        params = self._params.get(layer_id, result.params)
        self._supersede(layer_id)
        self._timer.start()  # changes in the next DEBOUNCE_MS wait and run together
        if self._holds_hand_edits(layer):  # an undo back to them is known so, lineage too
            self._edited.add(layer.unique_id)  # (the update says it replaced them)
            tracks = _results.tracks_layer(self.viewer, layer)
            shown = None if tracks is None else tracks.metadata.get(_results.LINEAGE_KEY)
            if tracks is not None and shown is None:
                shown = {int(c): int(p[0]) for c, p in tracks.graph.items() if p}
            if tracks is None:  # (deleted: the divisions kept with the labels, set by hand)
                from ._tracks_layer import kept_lineage

                shown = kept_lineage(layer)
            _results.remember_edited_state(layer, shown)
        current = self._current_frame(layer, result.axes)
        n_frames = len(result.predictions)
        frames = tuple(range(n_frames)) if apply_all else (current or 0,)
        plane = None
        if not apply_all and _slice_preview(method, result):
            plane = self._current_slice(layer, result.axes)
        started = self._changed_at.pop(layer_id, None)
        request = _Request(
            layer.unique_id,
            result.axes,
            n_frames,
            params,
            frames,
            apply_all,
            plane,
            layer_name=layer.name,
            method=method,
            started=time.perf_counter() if started is None else started,
            frame_numbers=recorded_frame_numbers(layer, n_frames) if "T" in result.axes else (),
            unit=part_unit(layer, result.axes),
        )
        worker = create_worker(
            _postprocess_frames,
            method,
            result.predictions,
            request.params,
            frames,
            plane,
            apply_all and hasattr(method, "postprocess_series"),
            # objects that overlap (one 2D image): their "overlaps" layer follows
            hasattr(method, "instances") and n_frames == 1 and plane is None,
            # a slice's objects are judged by their size in the volume, as Apply to all does
            plane is not None and _in_memory(layer),
            request.notes,
            _worker_class=ThreadWarningsWorker,  # warned: this run's warnings, no others
            _ignore_errors=True,
            _start_thread=False,
        )
        close_when_finished(worker)
        worker.yielded.connect(partial(self._on_frame, request))
        worker.errored.connect(partial(self._on_errored, request))
        worker.warned.connect(lambda args: show_warning(f"Tune: {args[0]}"))
        worker.finished.connect(partial(self._on_finished, request, worker))
        self._requests[layer_id], self._worker_of[layer_id] = request, worker
        self._failed.discard(layer_id)
        self._workers.add(worker)
        if layer_id == self.layer_combo.currentData():
            self._offer_cancel(request)
            self._slow_timer.start(CANCEL_AFTER_MS)  # (_on_slow: "updating ...")
        self._set_progress(request, 0)
        if apply_all and self._written_with.get(layer_id) != params:
            # (else the frames or slice previewed with these values are not older)
            self._stale[layer.unique_id] = set(range(n_frames))
        request.notes["began"] = time.perf_counter()  # (_abandon)
        worker.start()

    def _refuse_if_reshaped(self, layer: Labels, result) -> bool:
        """Whether ``layer``'s data no longer have the shape of the labels Segment made from
        ``result`` (the user cropped, transposed or replaced them): Tune's labels would
        replace the user's data whole, and a frame or slice would land in the wrong place.
        The status line then says so, the layer is left as it is, and the controls go back
        to the values of the labels last written (True)."""
        shape, made = tuple(np.shape(layer.data)), tuple(result.labels.shape)
        if shape == made:
            return False
        back = self._written_with.get(layer.unique_id, result.params)
        self._params[layer.unique_id] = back
        if layer.unique_id == self.layer_combo.currentData():
            self._show_params(back)
        self._say(
            f" no longer has the shape Segment made ({_sized(shape)}, not {_sized(made)}): "
            "Tune left it as it is; run Segment again to tune it",
            layer,
        )
        return True

    def _latest(self, request: _Request) -> bool:
        """Whether ``request`` is the latest of its layer (else its labels are dropped)."""
        return self._requests.get(request.layer_id) is request

    def _set_progress(self, request: _Request, done: int) -> None:
        """Count ``done`` parts of ``request``; the progress bar shows it when its layer is
        the one chosen."""
        self._progress[request.layer_id] = done
        if request.layer_id == self.layer_combo.currentData():
            self._show_progress(request)

    def _show_progress(self, request: _Request) -> None:
        """The progress bar shows ``request``'s count, painted with the next paint of the
        window (:func:`._workers.show_progress`: setValue repainted at once, about 20 ms with
        the viewer's canvas in the window, twice per slice preview of a volume)."""
        done = self._progress.get(request.layer_id, 0)
        show_progress(self.progress_bar, done, len(request.frames), _bar_format(request))

    def _on_errored(self, request: _Request, exc: Exception) -> None:
        """Say that the latest update of a layer failed, with which values and why; the
        controls go back to the values of the labels on screen when it wrote none of them."""
        if self._latest(request):
            self._failed.add(request.layer_id)
            layer = self._find_layer(request.layer_id)  # not the one chosen now: it may differ
            name = request.layer_name if layer is None else layer.name
            show_error(f"Tune failed on layer '{name}': {exc}")
            back = self._take_back(request)
            before = params_to_dict(back if back is not None else request.params)
            tried = params_to_dict(request.params)
            changed = ", ".join(f"{k}={v}" for k, v in tried.items() if v != before.get(k))
            what = f"post-processing failed with {changed or 'these values'} ({exc})"
            if back is not None:
                what += "; the controls are back to the values of the labels on screen"
            if layer is None:
                self._say(f"'{name}': {what}")
            else:
                self._say(f": {what}", layer)

    def _take_back(self, request: _Request):
        """After ``request`` failed: its layer's parameters back to those of the labels last
        written into it (the labels on screen), shown when that layer is chosen; returns
        them, or None when left as they are (a newer change is due, the run wrote part of a
        movie before it failed, or the result is gone)."""
        layer_id = request.layer_id
        result = _results.get(layer_id)
        due = layer_id in self._due
        if result is None or due or request.written or self._params.get(layer_id) != request.params:
            return None
        back = self._written_with.get(layer_id, result.params)
        self._params[layer_id] = back
        if layer_id == self.layer_combo.currentData():
            self._show_params(back)
        return back

    def _on_finished(self, request: _Request, worker: GeneratorWorker) -> None:
        self._workers.discard(worker)
        self._renumber_the_rest(request)
        if not self._latest(request):
            return
        del self._requests[request.layer_id]
        self._worker_of.pop(request.layer_id, None)
        self._progress.pop(request.layer_id, None)
        if worker.abort_requested and request.layer_id not in self._failed:
            self._say_cancelled(request)
        if not self._timer.isActive():  # (else the change due starts when it fires)
            self._run_due(request.layer_id)  # a change made while this preview ran
        chosen = request.layer_id == self.layer_combo.currentData()
        if chosen and request.layer_id not in self._requests:  # (else the next one's: started)
            self._cancel_timer.stop()
            self.cancel_button.setEnabled(False)
            self.cancel_button.setToolTip(CANCEL_TIP)
        if not self._requests and not self._due:  # every layer's latest is done
            self.update_finished.emit()

    def _say_cancelled(self, request: _Request) -> None:
        """Say what a cancelled *Apply to all* left: how many frames of a movie still show
        the earlier parameters. A volume is post-processed in one piece, which Cancel stops
        only before it starts: it is all updated, or not at all. A slice preview cancelled:
        :meth:`_say_preview_cancelled`."""
        layer = self._find_layer(request.layer_id)
        if request.notes.get("cancelled"):
            self._say_preview_cancelled(request, layer)
            return
        if "T" not in request.axes:
            if request.written:
                self._say(
                    ": the whole volume was updated before Cancel could stop it (a volume is "
                    "post-processed in one piece)",
                    layer,
                )
            else:
                self._say(
                    ": cancelled before the volume was updated: its labels are as they were", layer
                )
            return
        left, n = len(self._stale.get(request.layer_id, ())), request.n_frames
        frames = request.unit if n == 1 else f"{request.unit}s"
        show = "shows" if left == 1 else "show"
        self._say(f": cancelled; {left} of {n} {frames} still {show} the earlier parameters", layer)

    def _say_preview_cancelled(self, request: _Request, layer: Labels | None) -> None:
        """A slice preview was cancelled: its labels were dropped, and the layer's
        parameters (the controls, where it is chosen) go back to those of the labels on
        screen, so that the controls say what made them; the status says so, and which
        values were not previewed."""
        layer_id = request.layer_id
        result = _results.get(layer_id)
        back = self._written_with.get(layer_id, None if result is None else result.params)
        tried = params_to_dict(request.params)
        before = {} if back is None else params_to_dict(back)
        changed = ", ".join(f"{k}={v}" for k, v in tried.items() if v != before.get(k))
        what = frame_name(request.plane, unit="slice") if request.plane is not None else "frame"
        if request.plane is None and "T" in request.axes:
            what = frame_name(request.frames[0], request.frame_numbers, request.unit)
        text = f": the preview of {what}{f' ({changed})' if changed else ''} was cancelled"
        if back is not None and self._params.get(layer_id) != back:
            self._params[layer_id] = back
            if layer_id == self.layer_combo.currentData():
                self._show_params(back)
            text += "; the labels and the controls are as they were"
        else:
            text += "; the labels are as they were"
        if layer is None:
            self._say(f"'{request.layer_name}'{text}")
        else:
            self._say(text, layer)


def _cancellable(request: _Request) -> bool:
    """Whether Cancel can stop ``request``: *Apply to all*, or the preview of a volume's
    slice (it may go through many of the other slices to judge its objects' sizes)."""
    return request.apply_all or request.plane is not None


def _stoppable(request: _Request) -> bool:
    """Whether the preview ``request`` stops part way when superseded, so that a newer value
    need not wait for it: the preview of a volume's slice, between two rows of its ball or
    two slices of its slab (:mod:`._tune_frames`), seconds at a large radius. Not other
    previews, made in one call of the method (a newer value waits for them); not *Apply to
    all*, which a change supersedes at once."""
    return not request.apply_all and request.plane is not None


def _part_name(request: _Request) -> str:
    """What a preview updates, as the status line names it: "slice 12", "frame 3", "the
    image"."""
    if request.plane is not None:
        return frame_name(request.plane, unit="slice")
    if "T" in request.axes:
        return frame_name(request.frames[0], request.frame_numbers, request.unit)
    return "the image"


def _changed(params, shown) -> str:
    """ " with radius=9": the values of ``params`` other than those of ``shown`` (the
    parameters of the labels on screen), "" where none differ."""
    tried = params_to_dict(params)
    before = {} if shown is None else params_to_dict(shown)
    changed = ", ".join(f"{k}={v}" for k, v in tried.items() if v != before.get(k))
    return f" with {changed}" if changed else ""


def _in_memory(layer: Labels) -> bool:
    """Whether ``layer``'s labels are in memory: a slice preview of them judges its objects'
    sizes in the volume (in its worker, from the prediction's other slices); not a volume
    read lazily, too large to go through while a slider is dragged."""
    return isinstance(layer.data, np.ndarray)


def _bar_format(request: _Request) -> str:
    """The progress bar's text for ``request``, naming what it counts as the status line
    does: "%v / %m frames" for a movie's *Apply to all*, "frame 3 preview" for one frame
    (the slider's frame 3; "frame 1 (t053) preview" where the movie's files numbered it:
    :func:`._frame_words.frame_name`), "slice 12 preview" for one slice of a volume,
    "%v / %m volume" and "%v / %m image" for a volume or an image post-processed in one
    piece."""
    if request.plane is not None:
        return f"{frame_name(request.plane, unit='slice')} preview"
    if "T" in request.axes and not request.apply_all:
        return f"{frame_name(request.frames[0], request.frame_numbers, request.unit)} preview"
    if "T" in request.axes:
        return f"%v / %m {request.unit}s"
    return "%v / %m volume" if "Z" in request.axes else "%v / %m image"


def _sized(shape: tuple) -> str:
    """A shape as the status line writes it: "256x200"."""
    return "x".join(map(str, shape))

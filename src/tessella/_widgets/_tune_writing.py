"""Tune's writes: the labels a run yields go into their layer, one undo step each, and the
status line says what made them, how long it took and how many objects they hold
(:class:`TuneWriting`, a mixin of :class:`.tune.TuneWidget`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from napari.layers import Image, Labels
from qtpy.QtWidgets import QWidget

from tessella.engine.params import params_to_dict

from . import _results
from ._correct_edits import _history_length
from ._frame_words import frame_name, recorded_frame_numbers
from ._labels_states import _restart_history, _values_checksum
from ._tune_frames import _Request, part_unit
from ._tune_merges import kept_merges
from ._tune_notices import show_warning
from ._words import counted

__all__ = ["PREVIEW_STATE_BYTES", "TuneWriting"]

#: a preview of one frame or slice is recorded as a state of labels up to this size (bytes),
#: so that the controls follow an undo back to it; checksumming larger labels at each
#: preview would slow the slider (about 40 ms here for this size)
PREVIEW_STATE_BYTES = 2**26


#: how many of Tune's own steps of a layer's undo history are remembered (:meth:`TuneWriting.
#: _note_tune_step`): the user's steps since are read back to the last of them
TUNE_STEPS = 64

#: how the recipe's note starts when Tune left the labels' parts with other parameters
MIXED_NOTE = "Not one set of parameters"


#: how many (labels, parameters) each frame or slice remembers (:class:`_Parts`): an undo or
#: redo back to one of them finds its parameters again; older ones are forgotten (an undo
#: that far back is said as labels changed since, not as a set of parameters)
PART_WRITES = 16


@dataclass
class _Parts:
    """The parameters Tune wrote into each frame (a movie) or slice (a volume) of a layer's
    labels, each with the fingerprint of the labels they made there: an undo or redo, which
    napari announces to no one, brings a part back to labels Tune wrote with other values
    (or none it wrote), so each part's parameters are those of the labels it holds now, found
    again by their fingerprint (None: labels Tune did not write, or a part not in memory:
    changed since, not said to be any set)."""

    axis: int  # the frames' or slices' axis of the labels
    #: each part's writes, oldest first: ``(fingerprint, params)``
    writes: list[list[tuple[str | None, Any]]]
    #: the parameters of each part's labels when last looked (None: unknown)
    now: list[Any] = field(default_factory=list)
    #: the layer's data and undo history when :attr:`now` was found (:func:`_history_mark`);
    #: None: look again
    seen: tuple | None = None
    #: the same just after the user's latest edit (the redraws it brings are no undo)
    painted: tuple | None = None

    def wrote(self, part: int, labels, params) -> None:
        """Tune has just written ``labels`` (the part as it is now) with ``params``."""
        fingerprint = _part_fingerprint(labels)
        kept = [w for w in self.writes[part] if w[0] != fingerprint or fingerprint is None]
        self.writes[part] = [*kept, (fingerprint, params)][-PART_WRITES:]
        self.now[part] = params if fingerprint is not None else None

    def look(self, data) -> list:
        """Each part's parameters in ``data`` (the layer's labels): those of the newest write
        whose labels it holds, or None."""
        self.now = []
        whole = isinstance(data, np.ndarray) and data.ndim > self.axis
        if not (whole and data.shape[self.axis] == len(self.writes)):  # (reshaped: none)
            data = None
        for part, writes in enumerate(self.writes):
            labels = None if data is None else _part_of(data, self.axis, part)
            fingerprint = _part_fingerprint(labels)
            found = [p for f, p in writes if fingerprint is not None and f == fingerprint]
            self.now.append(found[-1] if found else None)
        return self.now


def _part_of(data: np.ndarray, axis: int, part: int) -> np.ndarray:
    """Frame or slice ``part`` along ``axis`` of ``data`` (a view)."""
    return data[(slice(None),) * axis + (part,)]


def _part_fingerprint(labels) -> str | None:
    """The fingerprint of one frame or slice (None: not an array in memory): of its shape and
    label values, not of its data type (:func:`._labels_states._values_checksum`), so that the
    same labels in another type match. Not bounded by
    :data:`._labels_states.MAX_FINGERPRINT_BYTES` as the whole layer's: one part is small."""
    if not isinstance(labels, np.ndarray):
        return None
    return f"{'x'.join(map(str, labels.shape))}-{_values_checksum(labels):08x}"


def _history_mark(layer: Labels) -> tuple | None:
    """What changes when ``layer``'s labels change without Tune (an undo, a redo, another
    array): its array and the lengths of its undo and redo histories (a new edit after an
    undo is heard through ``paint``: :meth:`TuneWriting._parts_changed`). None where this
    napari does not say (then always looked at again)."""
    steps = (_history_length(layer, "undo"), _history_length(layer, "redo"))
    return None if None in steps else (id(layer.data), *steps)


def _count_objects(labels: np.ndarray) -> int:
    """How many objects (positive IDs) ``labels`` hold: a negative label (-1 painted by hand
    in int32 labels) is no object."""
    if labels.size == 0:
        return 0
    top = int(labels.max())
    if top <= 0:
        return 0
    # counting IDs is ~10x faster than sorting the pixels (bincount takes no negative ID)
    if top <= 4 * labels.size and int(labels.min()) >= 0:
        ids = labels.ravel().astype(np.intp, copy=False)  # (bincount takes no uint64)
        return int(np.count_nonzero(np.bincount(ids)[1:]))
    return int(np.unique(labels[labels > 0]).size)


def _canvas_drawn(widget: QWidget):
    """The ``frameSwapped`` signal of the viewer's canvas, emitted when it has drawn a frame:
    the largest OpenGL widget shown in the window ``widget`` is docked in. None when there
    is none (not docked, a viewer not shown)."""
    from qtpy.QtOpenGLWidgets import QOpenGLWidget

    shown = [c for c in widget.window().findChildren(QOpenGLWidget) if c.isVisible()]
    if not shown:
        return None
    return max(shown, key=lambda canvas: canvas.width() * canvas.height()).frameSwapped


def _model_name(request: _Request) -> str:
    """ "the boundary model's " (its method's NAME), for the status line; "" without one."""
    name = getattr(request.method, "NAME", None)
    return f"the {name} model's " if name else ""


def _sizes_note(request: _Request) -> str:
    """What a slice preview's status adds about the objects its size limits judged in the
    volume, not by their area on the slice (:func:`._tune_frames._sized_in_the_volume`):
    "; 3 objects under min_size on this slice kept: judged by their size in the volume"; ""
    when none."""
    kept, dropped = request.notes.get("kept", 0), request.notes.get("dropped", 0)
    said = []
    if kept:
        said.append(f"{counted(kept, 'object')} under min_size on this slice kept")
    if dropped:
        said.append(f"{counted(dropped, 'object')} within max_size on this slice left out")
    its = "its" if kept + dropped == 1 else "their"
    return f"; {', '.join(said)}: judged by {its} size in the volume" if said else ""


def _unseen(viewer, layer: Labels, request: _Request, t: int | None) -> str:
    """What the status line adds when the labels ``request`` just wrote into ``layer`` (part
    ``t``) cannot be seen: the layer hidden, or covered by a visible labels layer above it
    of the same shape (another model's result on the same image, at napari's opacity of 0.5
    or more, its objects filled: not drawn as outlines nor showing its selected label only;
    not its own overlaps layer) whose objects lie over a quarter or more of the pixels of
    the objects of the part written (the changes there hardly show), or has objects there
    when the part written has none; or by a visible image layer above it (opacity 0.5 or
    more, not blended additive or minimum) over the whole of it. Tune leaves the layers as
    the user arranged them (two results compared on one image), so it says which layer to
    hide; "" when they show. Reads the part written of each labels layer above (a slice or
    a frame), in memory only."""
    if not layer.visible:
        return "; the layer is hidden (its eye is off in the layer list)"
    layers = list(viewer.layers)
    if layer not in layers:
        return ""
    index: list = [slice(None)] * layer.ndim
    if request.plane is not None:
        index[request.axes.index("Z")] = request.plane
    elif "T" in request.axes and t is not None:  # (a frame of Apply to all too)
        index[request.axes.index("T")] = t
    shape = np.shape(layer.data)
    ours = np.asarray(layer.data[tuple(index)]) != 0
    drawn = int(np.count_nonzero(ours))
    own = _results.companion_layer(viewer, layer, "overlaps")
    covers = "; '{}' above it in the layer list covers it: hide that layer to see it"
    for upper in reversed(layers[layers.index(layer) + 1 :]):  # the topmost first
        if (
            upper is own
            or not upper.visible
            or upper.opacity < 0.5
            or upper.blending in ("additive", "minimum")
        ):
            continue
        if isinstance(upper, Image):
            if _spans(upper, layer):
                return covers.format(upper.name)
            continue
        if (
            not isinstance(upper, Labels)
            or getattr(upper, "contour", 0) > 0  # (outlines: the layer below shows through)
            or getattr(upper, "show_selected_label", False)
            or not isinstance(upper.data, np.ndarray)
            or upper.data.shape != shape
        ):
            continue
        theirs = upper.data[tuple(index)] != 0
        # (none left here: any object of the layer above is what the canvas shows instead)
        if (np.count_nonzero(ours & theirs) * 4 >= drawn) if drawn else theirs.any():
            return covers.format(upper.name)
    return ""


def _spans(upper, layer) -> bool:
    """Whether the image layer ``upper`` lies over the whole of ``layer`` in the plane
    shown (the last two world axes of both; napari's extents)."""
    try:
        theirs = np.asarray(upper.extent.world, float)[:, -2:]
        ours = np.asarray(layer.extent.world, float)[:, -2:]
    except (AttributeError, TypeError, ValueError, IndexError):
        return False
    if theirs.shape != (2, 2) or ours.shape != (2, 2):
        return False
    return bool((theirs[0] <= ours[0] + 1e-6).all() and (theirs[1] >= ours[1] - 1e-6).all())


def _renumbered(before: np.ndarray, after: np.ndarray) -> tuple[int, int]:
    """``(changed, total)``: of the ``total`` objects of ``after`` that lie on objects of
    ``before`` (the same frame or slice), how many have another ID than the object of
    ``before`` they share the most pixels with.

    >>> _renumbered(np.array([[5, 5, 0, 7]]), np.array([[5, 5, 0, 1]]))
    (1, 2)
    """
    from tessella.engine.tracking import frame_overlaps

    rows = frame_overlaps(before, after)
    rows = rows[(rows[:, 0] > 0) & (rows[:, 1] > 0)]
    if not rows.size:
        return 0, 0
    rows = rows[np.lexsort((-rows[:, 2], rows[:, 1]))]  # by new ID, the most shared first
    first = np.ones(len(rows), bool)
    first[1:] = rows[1:, 1] != rows[:-1, 1]
    best = rows[first]
    return int(np.count_nonzero(best[:, 0] != best[:, 1])), len(best)


def _renumbered_note(layer: Labels, request: _Request, index: tuple, before: np.ndarray) -> str:
    """What the status line of *Apply to all* adds when objects of the part on screen
    (``before`` it, at ``index`` of ``layer``) got other IDs: "; 84 of the 96 objects on slice
    5 have other IDs than before (...)". Apply to all numbers its objects as Segment and a
    replay of the recipe do, so that its labels are theirs, bit for bit; a user who noted IDs
    on a preview to correct them finds other ones (user test s35/t20 #7). "" when none did."""
    changed, total = _renumbered(before, np.asarray(layer.data[index]))
    if not changed:
        return ""
    if "T" in request.axes:
        t = next(i for i, part in enumerate(index) if not isinstance(part, slice))
        where = frame_name(index[t], request.frame_numbers, request.unit)
    else:
        where = frame_name(next(p for p in index if not isinstance(p, slice)), unit="slice")
    have = "has" if changed == 1 else "have"
    return (
        f"; {changed} of the {counted(total, 'object')} on {where} {have} other IDs than "
        "before (Apply to all numbers them as Segment and the recipe do: look the IDs up again)"
    )


def _merges_words(merges: dict) -> str:
    """What a preview's status adds when it kept the user's merges on its part: "; your
    merge of 67 into 63 kept"."""
    said = ", ".join(f"{old} into {new}" for old, new in sorted(merges.items()))
    return f"; your {'merges' if len(merges) > 1 else 'merge'} of {said} kept"


def _edits_back(restarted: str | None) -> str:
    """Whether Ctrl+Z brings back the edits an update replaced (not once ``restarted``:
    why the update restarted the layer's undo history)."""
    if restarted == "too large a change to undo":
        return "the change was too large to undo, so they are lost"
    if restarted is not None:
        return f"the update restarted the undo history ({restarted}), so they are lost"
    return "Ctrl+Z brings them back"


def _small(data, limit: int) -> bool:
    """Whether ``data`` is an array in memory of at most ``limit`` bytes (not lazy labels)."""
    return isinstance(data, np.ndarray) and data.nbytes <= limit


class TuneWriting:
    """Mixin for :class:`.tune.TuneWidget`: writing the labels of a run (uses the widget's
    ``viewer``, ``status_label``, ``_stale``, ``_say``, ...)."""

    def _on_frame(self, request: _Request, item: tuple) -> None:
        if not self._latest(request):
            return  # superseded: a newer request's labels are on the way
        if request.notes.get("cancelled"):
            return  # a preview cancelled (_on_cancel_clicked): the labels stay as they are
        t, labels, *hidden = item  # (hidden: the objects labels of overlapping ones hide)
        layer = self._find_layer(request.layer_id)
        if layer is None:
            return
        self._parts_now(request.layer_id)  # (an undo or an edit since: before this write)
        result = _results.get(request.layer_id)
        if result is not None and self._refuse_if_reshaped(layer, result):  # during the run
            self._failed.add(request.layer_id)  # (stopped, not "cancelled")
            worker = self._worker_of.get(request.layer_id)
            if worker is not None:
                worker.quit()
            return
        if t is None:  # a time-lapse, post-processed and linked as a whole
            from ._correct_edits import _history
            from ._tracks_layer import current_lineage, keep_lineage, note_lineage_step

            labels, lineage = labels
            before = current_lineage(self.viewer, layer)  # (what the user saw: an undo's)
            history = _history(layer, "undo")
            last = history[-1] if history else None
            restarted = _results.write_labels(
                layer, labels if layer.ndim == labels.ndim else labels[0]
            )
            # the new divisions are the labels' from now on, also once their Tracks layer is
            # deleted (not those set by hand before); Ctrl+Z of this write brings those back
            keep_lineage(layer, lineage or {})
            history = _history(layer, "undo")
            if restarted is None and history and history[-1] is not last:
                note_lineage_step(layer, history[-1], before, lineage or {})
            self._counted_by_tune(request.layer_id)  # (the status says what it holds)
            self._stale[request.layer_id] = set()
            self._note_parts(request, None)
            self._written_with[request.layer_id] = request.params
            _results.note_labels_state(layer, params_to_dict(request.params), lineage)
            self._in_step.pop(request.layer_id, None)
            # unlinked (link off), every object has its own ID: no tracks to draw, the
            # Tracks layer is hidden (shown again when linked)
            linked = bool(getattr(request.params, "link", True))
            _results.show_tracks(self.viewer, layer, labels, lineage, linked)
            self._warn_if_edited(layer, request, restarted)
            timed = f"in {(time.perf_counter() - request.started) * 1000:.0f} ms"
            count = _count_objects(labels)
            if linked:
                done = f"{counted(count, 'track')}, linked {timed}"
            else:
                done = (
                    f"{counted(count, 'object')}, not linked (link is off: each object has "
                    f"its own ID, no tracks), {timed}"
                )
            self._say(f": {counted(request.n_frames, 'frame')}, {done}", layer)
            self._say_restarted(restarted)
            self._time_the_drawing(timed)
            return
        if labels is None:  # a time-lapse frame done; the labels come after linking
            self._set_progress(request, request.frames.index(t) + 1)
            return
        # one undo step per update (Ctrl+Z brings back the labels before it, corrections
        # included), unless too large to record: then the status says so
        replaced = False  # (a slice or frame preview over the user's edits of it)
        shown = self._shown_before(layer, request, t)  # (Apply to all: the part on screen)
        if request.plane is not None or "T" in request.axes:
            from tessella.engine.tracking import carry_ids

            index: list = [slice(None)] * layer.ndim
            if request.plane is not None:  # a preview of one slice of the volume
                index[request.axes.index("Z")] = request.plane
            else:
                index[request.axes.index("T")] = t
            if not request.apply_all:
                # a frame or slice previewed alone keeps the IDs of the objects it had (a
                # linked movie's tracks, a volume's 3D objects); new ones get IDs no other
                # frame or slice uses
                before = np.asarray(layer.data[tuple(index)])
                # (said once written: _warn_if_part_edited)
                replaced = self._part_edited(request, layer, t, before)
                merges = self._user_merges(layer, request, t, before) if replaced else None
                # (in the labels' type: new IDs beyond a narrower layer's are not cast to it)
                wide = np.promote_types(before.dtype, labels.dtype)
                before = before.astype(wide, copy=False)
                next_id = int(np.max(layer.data, initial=0)) + 1
                if merges is not None:  # (the user's merges there kept: s35/t20 #1)
                    earlier, merged, only = merges
                    labels = kept_merges(earlier.astype(wide), merged, labels, next_id)
                    replaced = not only  # (merges only: nothing of theirs replaced)
                    request.notes["merges_kept"] = _merges_words(merged)
                    request.notes["merged"] = merged
                else:
                    labels = carry_ids(before, labels, next_id)
            last = self._last_step(layer)
            restarted = _results.write_labels(layer, labels, tuple(index))
            self._note_tune_step(
                layer, last, restarted, request.plane if request.plane is not None else t
            )
            if request.plane is None:
                request.written.add(t)
                _results.follow_tracks(self.viewer, layer, [t])  # the frame's tracks, if drawn
        else:
            last = self._last_step(layer)
            restarted = _results.write_labels(layer, labels)
            self._note_tune_step(layer, last, restarted, None)
            request.written.add(t)  # (Apply to all of a volume: all of it, Cancel or not)
            if hidden:  # objects overlap: their layer follows, redrawn only when they changed
                self._show_overlaps(layer, hidden[0])
        if shown is not None:
            request.notes["renumbered"] = _renumbered_note(layer, request, *shown)
        self._counted_by_tune(request.layer_id)  # (the status says what it holds)
        timed = self._record(layer, request, t, labels)
        if request.plane is None and (request.apply_all or request.n_frames == 1):
            self._warn_if_edited(layer, request, restarted)  # (a part alone: maybe not theirs)
        elif replaced:
            self._warn_if_part_edited(layer, request, t, restarted)
        self._say_restarted(restarted)
        self._time_the_drawing(timed)

    def _last_step(self, layer: Labels):
        """The newest step of ``layer``'s undo history, or None."""
        from ._correct_edits import _history

        history = _history(layer, "undo")
        return history[-1] if history else None

    def _note_tune_step(self, layer: Labels, last, restarted: str | None, part) -> None:
        """Remember the step Tune's write just added to ``layer``'s undo history (none where
        the newest is still ``last``), and which part it wrote (``part``: a slice or frame;
        None: all of it), so that the user's own steps since are told from Tune's
        (:func:`._tune_merges.user_steps_of_part`). A restarted history forgets them."""
        steps = self._tune_steps.setdefault(layer.unique_id, {})
        if restarted is not None:
            steps.clear()
        step = self._last_step(layer)
        if step is None or step is last:
            return
        steps[id(step)] = (step, part)
        while len(steps) > TUNE_STEPS:  # (the oldest first: dicts keep their order)
            del steps[next(iter(steps))]

    def _user_merges(self, layer: Labels, request: _Request, t, before: np.ndarray):
        """``(earlier, merges, only)`` (:func:`._tune_merges.merged_ids`) for the part a
        preview is about to replace (a volume's slice, a movie's frame ``t``), where the user
        merged objects there since Tune last wrote it, as Correct records merges; None
        otherwise (no merge, or edits this cannot read: the brush's)."""
        from ._correct_edits import _history
        from ._tune_merges import merged_ids, user_steps_of_part

        if request.plane is not None:
            axis, part = request.axes.index("Z"), request.plane
        else:
            axis, part = request.axes.index("T"), t
        history = _history(layer, "undo")
        if history is None or layer.ndim != len(request.axes):
            return None
        steps = user_steps_of_part(history, self._tune_steps.get(layer.unique_id, {}), part)
        if not steps:
            return None
        try:
            found = merged_ids(before, steps, axis, part)
        except (IndexError, ValueError, TypeError):  # (steps that do not fit these labels)
            return None
        return found if found[1] else None

    def _shown_before(self, layer: Labels, request: _Request, t) -> tuple | None:
        """Before *Apply to all* writes the part of ``layer`` on screen (the slice shown of
        a volume, or the frame ``t`` when it is the one shown): ``(index, labels)``, that
        part's index in the layer and a copy of its labels, so that the status can say which
        of its objects got other IDs (:func:`_renumbered_note`); None otherwise."""
        if not request.apply_all or not isinstance(layer.data, np.ndarray):
            return None
        index: list = [slice(None)] * layer.ndim
        if "T" in request.axes:
            if t != self._current_frame(layer, request.axes):
                return None
            index[request.axes.index("T")] = t
        elif "Z" in request.axes:
            index[request.axes.index("Z")] = self._current_slice(layer, request.axes)
        else:
            return None
        return tuple(index), np.array(layer.data[tuple(index)])

    def _say_restarted(self, restarted: str | None) -> None:
        """Add to the status line why the labels just written restarted the layer's undo
        history (:func:`._labels_states.write_labels`), if they did."""
        if restarted is not None:
            self.status_label.setText(
                f"{self.status_label.text()} ({restarted}: history restarted)"
            )

    def _time_the_drawing(self, timed: str) -> None:
        """Labels were just set: once the canvas has drawn them, the status line's ``timed``
        ("updated in 6 ms") gains the drawing's time ("updated in 6 ms + 58 ms drawing"), if
        it still says the same; the two are what the user waits from the value change."""
        self._drawing = (self.status_label.text(), timed, time.perf_counter())
        if self._drawn is None:
            self._drawn = _canvas_drawn(self)
            if self._drawn is not None:
                self._drawn.connect(self._on_canvas_drawn)

    def _on_canvas_drawn(self) -> None:
        if self._drawn is not None:
            self._drawn.disconnect(self._on_canvas_drawn)
            self._drawn = None
        if self._drawing is None:
            return
        text, timed, written = self._drawing
        self._drawing = None
        if self.status_label.text() == text:
            drawn = f"{timed} + {(time.perf_counter() - written) * 1000:.0f} ms drawing"
            self.status_label.setText(text.replace(timed, drawn, 1))

    def _show_overlaps(self, layer: Labels, hidden: np.ndarray) -> None:
        """Show ``hidden`` in the "overlaps" layer beside ``layer``. A redraw costs tens of
        ms on the GUI thread (napari recolours every pixel), so the layer is left alone when
        its objects did not change, and otherwise only its pixels are rewritten: Tune never
        moves the labels nor changes their shape, so the layer stays where it is (setting
        ``data`` or its placement would also recompute the viewer's extent). Nothing
        overlapping any more empties it (it stays, with the user's colours and opacity)."""
        shown = _results.companion_layer(self.viewer, layer, "overlaps")
        if shown is None:  # added where something overlaps, as Segment does
            _results.show_overlaps(self.viewer, layer, hidden)
            return
        data = shown.data
        if isinstance(data, np.ndarray) and data.shape == hidden.shape:
            if not np.array_equal(data, hidden):
                data[...] = hidden
                _restart_history(shown)  # (a step painted before would undo into new objects)
                shown.refresh()
        else:
            shown.data = hidden
            _restart_history(shown)

    def _renumber_the_rest(self, request: _Request) -> None:
        """After *Apply to all* on a movie segmented frame by frame stopped part way
        (cancelled, superseded, failed): the frames it wrote are numbered from 1 on, so the
        frames it did not reach, numbered as before, may hold the same IDs for other objects.
        They are renumbered after the largest ID of the movie, in one undo step."""
        from tessella.engine.pipeline import number_frame

        n = request.n_frames
        if not request.apply_all or "T" not in request.axes or not 0 < len(request.written) < n:
            return
        layer, result = self._find_layer(request.layer_id), _results.get(request.layer_id)
        if layer is None or not isinstance(layer.data, np.ndarray) or result is None:
            return
        if layer.data.shape != result.labels.shape:  # (reshaped by the user: not Tune's)
            return
        axis = request.axes.index("T")
        data = np.moveaxis(layer.data, axis, 0)
        after = int(data.max(initial=0))
        renumbered = data.copy()
        for t in sorted(set(range(n)) - request.written):
            renumbered[t], after = number_frame(data[t], after)
        if after > np.iinfo(layer.data.dtype).max:
            return  # (IDs beyond the layer's type: left as they are)
        kept = self._parts_now(request.layer_id)  # (renumbered, they keep their parameters)
        _results.write_labels(layer, np.moveaxis(renumbered, 0, axis))
        parts = self._part_params.get(request.layer_id)
        if parts is not None and kept is not None and parts.axis == axis:
            for t in sorted(set(range(n)) - request.written):
                if t < len(kept) and kept[t] is not None:
                    parts.wrote(t, _part_of(layer.data, axis, t), kept[t])
            parts.seen = _history_mark(layer)

    def _warn_if_edited(self, layer: Labels, request: _Request, restarted: str | None) -> None:
        """Say once, when it happens, that an update of the whole layer replaced the user's
        own edits, and whether Ctrl+Z can bring them back (not once ``restarted``: why the
        update restarted the layer's undo history)."""
        if request.layer_id in self._edited:
            self._edited.discard(request.layer_id)
            show_warning(
                f"Tune: this update replaced your edits of '{layer.name}' (painting or "
                f"corrections); {_edits_back(restarted)}. Tune before correcting."
            )

    def _warn_if_part_edited(
        self, layer: Labels, request: _Request, t: int, restarted: str | None
    ) -> None:
        """A preview of one slice of a volume (or one frame of a movie, ``t``) has just
        replaced the user's edits of that slice (:meth:`_part_edited`): say so, naming it,
        since its objects now differ from the same objects' on the other slices (a 3D object
        merged in Correct is cut in two there, user test s35/t20 #1). The edits of the other
        slices stay, and are said when an update replaces them."""
        if request.plane is not None:
            unit, where = "slice", frame_name(request.plane, unit="slice")
        else:
            unit, where = request.unit, frame_name(t, request.frame_numbers, request.unit)
        what, cut = "painting or corrections", "merged or painted"
        if request.notes.get("merged"):  # (kept: :meth:`_user_merges`)
            what, cut = "painting or corrections; your merges there are kept", "painted"
        show_warning(
            f"Tune: this preview of {where} replaced your edits of '{layer.name}' on that "
            f"{unit} ({what}), so objects you {cut} across {unit}s may be cut there; "
            f"{_edits_back(restarted)}. The other {unit}s keep theirs. Tune before correcting."
        )

    def _part_edited(self, request: _Request, layer: Labels, t: int, before) -> bool:
        """Whether the slice ``request.plane`` (a volume's) or the frame ``t`` (a movie's)
        that a preview is about to replace, ``before`` it, holds the user's edits: the layer
        was edited (``_edited``) and that part is not as Tune last wrote it (:class:`_Parts`:
        changed since), or, where Tune wrote none of it yet, not as Segment made it. Asked
        before the write (the parts are looked at again when the labels changed since:
        :meth:`_parts_now`, at the start of the write)."""
        if request.layer_id not in self._edited or request.apply_all:
            return False
        if request.plane is not None:
            axis, part = request.axes.index("Z"), request.plane
        elif "T" in request.axes and t is not None:
            axis, part = request.axes.index("T"), t
        else:
            return False
        parts = self._part_params.get(request.layer_id)
        if parts is not None and parts.axis == axis and part < len(parts.now):
            return parts.now[part] is None
        return not self._as_segment_made(request.layer_id, axis, part, before)

    def _as_segment_made(self, layer_id, axis: int, part: int, labels) -> bool:
        """Whether ``labels`` are part ``part`` (along ``axis``) of Segment's labels of
        ``layer_id``'s result, as they came (False where that cannot be told)."""
        result = _results.get(layer_id)
        made = None if result is None else result.labels
        if not isinstance(made, np.ndarray) or not isinstance(labels, np.ndarray):
            return False
        if made.ndim <= axis or part >= made.shape[axis]:
            return False
        made = _part_of(made, axis, part)
        return made.shape == labels.shape and bool(np.array_equal(made, labels))

    def _record(self, layer: Labels, request: _Request, t: int, labels: np.ndarray) -> str:
        """Note in the status which parameters made the labels, and in the layer's recipe
        once they made all of them; a preview of one slice or frame is noted as such (an
        undo back to it brings its parameters back to the controls). The status says how
        long since the values were set, and how many objects ``labels`` (an image, the frame
        or slice previewed, or the whole volume of *Apply to all*) hold; returns its
        "updated in N ms"."""
        mixed = self._note_parts(request, t)
        self._written_with[request.layer_id] = request.params
        if not request.apply_all:  # (before the state is noted: it keeps this recipe)
            self._mark_recipe_mixed(layer, mixed)
        stale = self._stale.setdefault(request.layer_id, set())
        if not request.apply_all:
            stale.update(range(request.n_frames))
        if request.plane is None:
            stale.discard(t)
        fingerprint = None
        if request.plane is None and not stale:
            _results.note_labels_state(layer, params_to_dict(request.params))
        elif not request.apply_all and _small(layer.data, PREVIEW_STATE_BYTES):
            fingerprint = _results.note_preview_state(layer, params_to_dict(request.params))
        if fingerprint is None:
            self._in_step.pop(request.layer_id, None)
        else:  # (the state of labels a preview left as they were keeps its parameters)
            self._in_step[request.layer_id] = fingerprint
        done = request.frames.index(t) + 1
        self._set_progress(request, done)
        unit = request.unit
        what = f" {frame_name(t, request.frame_numbers, unit)}" if request.n_frames > 1 else ""
        if request.plane is not None:
            what = f" slice {request.plane}"
        if request.apply_all:
            what = f" {done} of {counted(request.n_frames, unit)}"
            if "T" not in request.axes:  # a volume, post-processed as a whole
                what = " the whole volume"
        method = request.method
        hint = "" if request.apply_all or not stale else f"; {len(stale)} more: Apply to all"
        if hint and mixed:  # the frames now hold other parameters: which, where
            hint = f"; {mixed}: Apply to all to make them one"
        if hint and hasattr(method, "postprocess_series") and getattr(request.params, "link", 1):
            hint += " (it also links the IDs across frames)"
        if request.plane is not None:
            from tessella.engine.params import param_specs

            from ._tune_masks import acts_in_preview

            across = [
                spec.name
                for spec in param_specs(method.Params)
                if "Z" in spec.needs and not acts_in_preview(method, request.axes, spec.name)
            ]
            without = f", without {', '.join(across)}" if across else ""
            without += _sizes_note(request)
            preview = f"a 2D preview{without}"
            joined = request.notes.get("in_3d")
            if joined:  # the boundary method's slice of the volume's objects (t11 #4)
                preview = "the slice of Apply to all's 3D objects"
            elif joined is not None:
                preview += (
                    f"; {_model_name(request)}Apply to all joins the slices in 3D, so its"
                    " objects and counts can differ"
                )
            hint = f" ({preview}); Apply to all for the volume"
            if mixed:
                hint = f" ({preview}); {mixed}: Apply to all to make them one"
        timed = f"updated in {(time.perf_counter() - request.started) * 1000:.0f} ms"
        # an image, a frame or a slice, a whole volume: everything gone shows (a movie's
        # frames, one by one: the count of the frame just done would read as the movie's)
        count = ""
        if not request.apply_all or "T" not in request.axes:
            count = f": {counted(_count_objects(labels), 'object')}"
        elif len(request.written) == request.n_frames and _small(layer.data, PREVIEW_STATE_BYTES):
            # the last part of Apply to all: all of them (numbered across the movie or stack,
            # so one ID is one object), as a volume's count (user test s35/t20 #8)
            count = f": {counted(_count_objects(layer.data), 'object')} in all {unit}s"
        if "T" not in request.axes or len(request.written) == request.n_frames:  # (the last)
            count += request.notes.pop("renumbered", "")
        count += request.notes.pop("merges_kept", "")
        unseen = _unseen(self.viewer, layer, request, t)
        self._say(f"{what}: {timed}{count}{hint}{unseen}", layer)
        return timed

    # --- the parameters of each frame or slice ------------------------------------------------

    def _part_count(self, request: _Request) -> int:
        """How many parts of ``request``'s labels Tune may write with different parameters:
        a movie's frames, a volume's slices (previewed slice by slice); 1 otherwise."""
        if "T" in request.axes:
            return request.n_frames
        result = _results.get(request.layer_id)
        if "Z" in request.axes and result is not None:
            from ._tune_frames import _slice_preview

            if request.method is not None and _slice_preview(request.method, result):
                return int(result.labels.shape[request.axes.index("Z")])
        return 1

    def _note_parts(self, request: _Request, t: int | None) -> str | None:
        """Note the parameters ``request`` has just written into part ``t`` of its labels
        (``None``: all of them, a linked movie): a frame or slice previewed alone keeps its
        own, *Apply to all* gives them to each part it writes. Returns what the parts hold
        when they are not one set (:meth:`_mixed`), else None."""
        n = self._part_count(request)
        if n < 2:
            return None
        layer_id = request.layer_id
        layer = self._find_layer(layer_id)
        if layer is None:
            return None
        axis = request.axes.index("T" if "T" in request.axes else "Z")
        data = layer.data
        if t is None or ("T" not in request.axes and request.plane is None):
            written = list(range(n))  # (a whole volume: every slice)
        else:
            written = [request.plane if request.plane is not None else t]
        parts = self._part_params.get(layer_id)
        if parts is None or parts.axis != axis or len(parts.writes) != n:
            # the parts not written now hold what made the labels before
            result = _results.get(layer_id)
            before = self._written_with.get(layer_id, None if result is None else result.params)
            parts = self._part_params[layer_id] = _Parts(axis, [[] for _ in range(n)], [None] * n)
            # (Tune wrote none of them yet: a part not as Segment made it was edited since)
            segments = layer_id not in self._written_with
            for part in range(n):
                if part not in written and isinstance(data, np.ndarray) and before is not None:
                    labels = _part_of(data, axis, part)
                    if segments and not self._as_segment_made(layer_id, axis, part, labels):
                        continue  # (said "changed since Tune wrote it": no parameters)
                    parts.wrote(part, labels, before)
        for part in written:
            labels = _part_of(data, axis, part) if isinstance(data, np.ndarray) else None
            parts.wrote(part, labels, request.params)
        parts.seen = _history_mark(layer)  # (looked at just before this write: _parts_now)
        return self._mixed(layer_id, "T" in request.axes)

    def _parts_now(self, layer_id) -> list | None:
        """The parameters of each frame or slice of ``layer_id``'s labels as they are now
        (None for a part whose labels Tune did not write: painted, or undone past what it
        remembers), looked at again when the labels may have changed since (an undo or a
        redo, an edit); None when Tune keeps no record of its parts."""
        parts = self._part_params.get(layer_id)
        layer = self._find_layer(layer_id)
        if parts is None or layer is None:
            return None
        mark = _history_mark(layer)
        if mark is None or mark != parts.seen:
            parts.look(layer.data)
            parts.seen = mark
        return parts.now

    def _recipe_follows_undo(self, layer_id) -> None:
        """``layer_id``'s labels were redrawn (an undo or a redo, among others): where Export
        takes their recipe as it is (no recorded states, the labels too large to fingerprint:
        :func:`._labels_states.recipe_on_screen`), its note of which frame or slice holds
        which parameters follows what they hold now, not what Tune last wrote (the next
        update would say it only then). Nothing while Tune writes or an update runs (it
        notes them), nor when nothing changed since Tune looked or the user painted."""
        from ._labels_states import STATES_KEY

        parts = self._part_params.get(layer_id)
        layer = self._find_layer(layer_id)
        if parts is None or layer is None or layer_id in self._requests:
            return
        if _results.tool_is_writing(layer_id) or _results.get(layer_id) is None:
            return
        if layer.metadata.get(STATES_KEY) and isinstance(layer.data, np.ndarray):
            return  # (an undo finds the recipe recorded with the labels it brings back)
        mark = _history_mark(layer)
        if mark is None or mark in (parts.seen, parts.painted):  # (None: it cannot tell)
            return  # (nor at each stroke of a brush: a large layer's look takes a while)
        movie = "T" in _results.get(layer_id).axes
        self._mark_recipe_mixed(layer, self._mixed(layer_id, movie))

    def _parts_changed(self, layer_id) -> None:
        """``layer_id``'s labels were edited (not by Tune): look at its parts again."""
        parts, layer = self._part_params.get(layer_id), self._find_layer(layer_id)
        if parts is not None:
            parts.seen = None
            parts.painted = None if layer is None else _history_mark(layer)

    def _mixed(self, layer_id, movie: bool) -> str | None:
        """What the frames (``movie``) or slices of ``layer_id``'s labels hold when Tune wrote
        them with more than one set of parameters, as the status line says it: "slice 2 at
        beta=0.7, the other 5 slices at beta=0.5" (the values that differ only; a movie's
        frames named as the slider shows them, with the numbers of its files where recorded:
        "frames 2 (t054), 3 (t055) at ..."), and which
        hold labels Tune did not write (painted, or undone past what it remembers: never
        said to be one set); None when they hold one set."""
        from ._tune_params import _named

        parts = self._parts_now(layer_id)
        if not parts:
            return None
        layer = self._find_layer(layer_id) if movie else None
        result = _results.get(layer_id)
        unit = "slice"
        if movie:  # (a volume read as frames keeps "slice": part_unit)
            unit = "frame" if layer is None or result is None else part_unit(layer, result.axes)
        numbers = recorded_frame_numbers(layer, len(parts)) if layer is not None else ()

        def where(indices: list[int]) -> str:
            if len(indices) > 1:  # "frames 2 (t054), 3 (t055)"
                names = [frame_name(i, numbers, unit).split(" ", 1)[1] for i in indices]
                return f"{unit}s {', '.join(names)}"
            return frame_name(indices[0], numbers, unit)

        groups: dict = {}
        unknown = []
        for index, params in enumerate(parts):
            if params is None:
                unknown.append(index)
            else:
                groups.setdefault(tuple(sorted(params_to_dict(params).items())), []).append(index)
        if len(groups) < 2 and not unknown:
            return None
        changed = ""
        if unknown:
            it = "them" if len(unknown) > 1 else "it"
            changed = f"{where(unknown)} changed since Tune wrote {it} (painted, or undone)"
        if not groups:
            return changed
        sets = [dict(key) for key in groups]
        names = [name for name in sets[0] if len({repr(d.get(name)) for d in sets}) > 1]
        if not names and result is not None:  # one set and changed parts: the values tuned
            ran = params_to_dict(result.params)
            names = [name for name, value in sets[0].items() if repr(ran.get(name)) != repr(value)]
        keys = list(groups)
        most = max(keys, key=lambda k: len(groups[k]))  # the rest (ties: the first part's)

        def values(key) -> str:
            params = parts[groups[key][0]]
            named = ", ".join(_named(params, name) for name in names)
            return f"at {named}" if named else "at the values of the run"

        said = [f"{where(groups[key])} {values(key)}" for key in keys if key is not most]
        if changed:
            said.append(changed)
        rest = len(groups[most])
        others = f"the other {counted(rest, unit)}" if rest > 1 else where(groups[most])
        return f"{', '.join(said)}, {others} {values(most)}"

    def _mark_recipe_mixed(self, layer: Labels, mixed: str | None) -> None:
        """A frame or slice was previewed alone: the layer's recipe (what Export writes for
        labels that are no recorded state) says its labels are not what its parameters make,
        and, when the parts hold other parameters, which hold which. Labels too large to
        fingerprint have no recorded states: their recipe claimed them reproduced."""
        from tessella._io import RECIPE_KEY

        recipe = layer.metadata.get(RECIPE_KEY)
        if not isinstance(recipe, dict):
            return
        marked = {**recipe, "labels_edited": True}
        if mixed:
            marked["note"] = (
                f"{MIXED_NOTE}: Tune previewed part of these labels with other values "
                f"({mixed}); 'params' are those of the last update of all of them, and "
                "replaying this recipe gives every part with them"
            )
        elif str(marked.get("note", "")).startswith(MIXED_NOTE):  # (no longer mixed)
            del marked["note"]
        layer.metadata = {**layer.metadata, RECIPE_KEY: marked}

"""Correct's edits: merge, delete, fill holes, remove small, relabel, split along lines or by
watershed, undo and redo (the operations of :class:`.correct.CorrectWidget`, a mixin).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Labels, Points, Shapes

from . import _results
from ._frame_words import frame_name, recorded_frame_numbers
from ._labels_states import _restart_history, _too_narrow, _wide_enough
from ._object_stack import sync_overlaps, uncovered

if TYPE_CHECKING:
    from tessella.engine.edit import Edit

__all__ = ["LINES_LAYER", "SEEDS_LAYER", "CorrectEdits", "being_widened"]

LINES_LAYER = "split lines"  # the Shapes layer the user draws split lines in
SEEDS_LAYER = "split seeds"  # the Points layer of watershed seeds

#: the box that makes Merge, Delete and Split by watershed act on every frame of a time-lapse
ALL_FRAMES = "All frames (whole track)"

#: the labels layers Correct is widening now (:func:`_widen_for`), by unique_id: their data
#: types before and after
_WIDENING: dict[str, tuple[str, str]] = {}


def being_widened(layer) -> tuple[str, str] | None:
    """``(narrow, wide)``, the data types of ``layer`` while Correct widens it (its
    ``events.data`` then announce the same labels in a wider type, not new labels: Evaluate
    does not take them for replaced); else None."""
    return _WIDENING.get(layer.unique_id)


def _on_disk(layer: Labels) -> str:
    """What a labels layer that is not in memory is, in plain words, where napari's type
    name (MultiScaleData, Array) means nothing to a user: multiscale labels, called a
    segmentation result only when they carry Segment's recipe (a big blockwise result as
    Segment shows it when done, or reopened), else labels (ground truth reopened with
    File > Open), named by the file they were read from where the reader recorded it; else
    labels read lazily."""
    if getattr(layer, "multiscale", False):
        from pathlib import Path

        from .._io import RECIPE_KEY

        metadata = getattr(layer, "metadata", None) or {}
        what = "a multiscale segmentation result" if RECIPE_KEY in metadata else "multiscale labels"
        path = metadata.get("path")
        where = f"read from {Path(path).name}" if isinstance(path, str) and path else "on disk"
        return f"{what} {where}, shown at reduced resolution when zoomed out"
    return "read lazily, e.g. a labels zarr on disk"


def _how_to_copy(layer: Labels) -> str:
    """How to get an editable, in-memory copy of ``layer`` (labels not in memory, as
    :func:`_on_disk` says), in the words of Segment's read-only note: open its .zarr with
    File > Open, which reads labels of up to the limit in force into memory
    (:func:`tessella._io._lazy_labels_pixels`, read at each File > Open); larger ones open
    lazily again, so the words then say the value to give the environment variable, and when
    (before napari starts, or from its console), as the reader's own warning does."""
    from .._io import LAZY_LABELS_ENV, _lazy_labels_pixels
    from ._layers import full_resolution

    pixels = int(np.prod(full_resolution(layer).shape, dtype=np.int64))
    limit = _lazy_labels_pixels()
    how = "open its .zarr with File > Open"
    if pixels < limit:
        return f"{how} (Tessella reads labels of fewer than {limit:,} pixels into memory)"
    reads = f"reads labels of fewer than {limit:,} pixels" if limit else "reads no labels zarr"
    return (
        f"{how} with the environment variable {LAZY_LABELS_ENV} set to {pixels + 1:,} or "
        f"more (Tessella {reads} into memory: set it before starting napari, or with "
        "os.environ in its console)"
    )


def _time_axis(layer: Labels) -> int | None:
    """The T axis of a time-lapse labels layer (its axes as :func:`_axes_of` takes them),
    else None (an image, a volume, axes unknown)."""
    axes = _axes_of(layer)
    return axes.index("T") if axes and "T" in axes and len(axes) == layer.ndim else None


def _in_frame(make_edit: Callable[[np.ndarray], Edit], data: np.ndarray, axis: int, t: int):
    """The edit ``make_edit`` computes on frame ``t`` (along ``axis``) of ``data``, its pixels
    placed in the whole array: it changes nothing in any other frame."""
    import dataclasses

    index: list[int | slice] = [slice(None)] * data.ndim
    index[axis] = t
    change = make_edit(data[tuple(index)])
    at = np.full(change.indices[0].shape if change.indices else (0,), t, np.intp)
    indices = (*change.indices[:axis], at, *change.indices[axis:])
    return dataclasses.replace(change, indices=indices)


def _movie_top(viewer, layer, t_axis: int | None) -> int | None:
    """The largest ID a split of ``layer`` (a time-lapse: ``t_axis`` not None) must place its
    new IDs after: above every ID in the movie and in its lineage (``free_id``), so that a
    new piece never takes the ID of a daughter deleted for now, and with it her mother (r10
    #2 for Break track, f18 for Split: ``36 4 4 24`` after Delete 36). None for an image or
    a volume, or labels not in memory (a split then takes the frame's next IDs as before)."""
    if t_axis is None or layer is None or not isinstance(layer.data, np.ndarray):
        return None
    from tessella.engine.tracking._lineage_edits import free_id

    from ._tracks_layer import current_lineage

    return free_id(layer.data, current_lineage(viewer, layer)) - 1


def _merge_into_first(labels: np.ndarray, ids: list[int], axes: str | None = None) -> Edit:
    """Merge the objects ``ids`` into the first of them (the engine keeps the smallest ID):
    on a time-lapse the merged object goes on as the first selected track. With ``axes``
    (those of the whole movie), the cracks between them are closed frame by frame."""
    from tessella.engine.edit import Edit, merge

    # checks the IDs; its pixels, gaps closed, become the smallest
    change = merge(labels, ids, axes=axes)
    target, smallest = ids[0], min(ids)
    if target == smallest:
        return change
    mask = labels == smallest
    mask[change.indices] = True
    where = np.nonzero(mask)
    keep = labels[where] != target
    return Edit(
        tuple(i[keep] for i in where),
        np.full(int(keep.sum()), target, labels.dtype),
        f"merge {', '.join(map(str, dict.fromkeys(ids)))} into {target}",
    )


def _frame_numbers(layer: Labels, t_axis: int | None) -> tuple[int, ...]:
    """The movie's own frame numbers the reader recorded for time-lapse labels (a folder
    ``t052.tif ...``: :func:`._frame_words.recorded_frame_numbers`), else ()."""
    if t_axis is None:
        return ()
    return recorded_frame_numbers(layer, layer.data.shape[t_axis])


def _scope_words(layer: Labels, t_axis: int | None, frame: int | None) -> str:
    """Where an edit of a time-lapse acted, for the status line: " in frame 3", " in frame 1
    (t053)" (the slider's index, with the file's number where recorded:
    :func:`._frame_words.frame_name`), " in all 10 frames"; nothing for one image or a
    volume."""
    if t_axis is None:
        return ""
    if frame is not None:
        return f" in {frame_name(frame, _frame_numbers(layer, t_axis))}"
    count = layer.data.shape[t_axis]
    return " in its only frame" if count == 1 else f" in all {count} frames"


def _present(data: np.ndarray, t_axis: int, t: int, ids: list[int]) -> np.ndarray:
    """Whether each of ``ids`` is in frame ``t`` (along ``t_axis``) of ``data``."""
    return np.isin(np.asarray(ids), np.take(data, t, axis=t_axis))


def _skips_words(layer: Labels, t_axis: int, frame: int, ids: list[int], was) -> str:
    """What the status line adds after an edit in one ``frame`` of a time-lapse took IDs out
    of it (a Merge, a Delete): the tracks that were in it (``was``: :func:`_present` before
    the edit) and now skip it, being in the frames before and after it: a CTC export splits
    each in two there (user test s31/t7: only Export said so, later). Nothing where none
    does; only the frame's neighbours are looked at."""
    data = layer.data
    if not ids or not 0 < frame < data.shape[t_axis] - 1:
        return ""
    gone = np.asarray(was) & ~_present(data, t_axis, frame, ids)
    gone &= _present(data, t_axis, frame - 1, ids) & _present(data, t_axis, frame + 1, ids)
    skipping = sorted(i for i, g in zip(ids, gone) if g)
    if not skipping:
        return ""
    where = frame_name(frame, _frame_numbers(layer, t_axis))
    if len(skipping) == 1:
        return f"; track {skipping[0]} now skips {where}: a CTC export splits it in two there"
    tracks = ", ".join(map(str, skipping))
    return f"; tracks {tracks} now skip {where}: a CTC export splits each in two there"


def _axes_of(layer: Labels) -> str | None:
    """The labels' axes (e.g. "TYX"), if known: as their file named them, as Segment read the
    image it made them from, as their napari ``axis_labels`` say, else as the reader guessed
    (:func:`tessella._io.recorded_axes`, as Export and Evaluate take them)."""
    from tessella._io import recorded_axes

    return recorded_axes(layer.ndim, layer.metadata, layer.axis_labels)


def _swept_axes(ndim: int, plane: tuple[int, ...], t_axis: int | None) -> tuple[int, ...]:
    """The axes a line drawn in the ``plane`` of labels of ``ndim`` axes is swept along to cut
    a whole object (a volume's Z): every other axis but a time-lapse's T."""
    in_plane = {a % ndim for a in plane}
    return tuple(a for a in range(ndim) if a not in in_plane and a != t_axis)


def _pieces_apart_words(
    change: Edit,
    data: np.ndarray,
    ids: list[int],
    t_axis: int | None,
    frame: int | None,
    numbers: tuple[int, ...] = (),
) -> str:
    """What the status line of a Merge adds where the merged object is in pieces that do
    not touch (:func:`tessella.engine.edit.pieces_apart`; ``data``: the labels before it;
    ``frame``: the one merged in, None: all; ``numbers``: the frames' recorded numbers):
    "; 44 is now 2 pieces that do not touch, 17 px apart (in frame 52)", so that a merge of
    objects apart is not made silently (s35 t19 #11: Export CTC then wrote one label of two
    pieces). Nothing where it is one piece."""
    from tessella.engine.edit import pieces_apart

    apart = pieces_apart(data, ids, change, t_axis, frame)
    if not apart:
        return ""
    target = int(np.asarray(change.values).ravel()[0])
    unit = "voxels" if data.ndim - (t_axis is not None) >= 3 else "px"
    t, count, gap = apart[0]
    said = f"; {target} is now {count} pieces that do not touch"
    if gap is not None:
        said += f", {gap:.0f} {unit} apart"
    if t is not None and frame is None:  # (the frame merged in: named by the status line)
        said += f" (in {frame_name(t, numbers)}"
        said += f" and {len(apart) - 1} other frames)" if apart[1:] else ")"
    return said + ": Export writes them as one object (Undo keeps them apart)"


def _through_slices(
    change: Edit, data: np.ndarray, line: np.ndarray, plane: tuple[int, ...], t_axis: int | None
) -> str:
    """What a split along a line of a volume's slice did: the line, swept through the
    slices (:func:`tessella.engine.edit.split_line` with ``through``), cut the whole object;
    the status line names its pieces and the slices it spans. Nothing for a 2D image or an
    object of one slice. ``data``: the labels before the split."""
    across = _swept_axes(data.ndim, plane, t_axis)
    if not across or not change.size:
        return ""
    label = int(data[tuple(i[:1] for i in change.indices)][0])  # the object split (its old ID)
    where: list[int | slice] = [slice(None)] * data.ndim
    if t_axis is not None:
        where[t_axis] = int(np.round(line[0][t_axis]))
    frame = data[tuple(where)]  # (the one frame, its T axis gone)
    kept = [a - (t_axis is not None and a > t_axis) for a in across]
    present = np.any(frame == label, axis=tuple(a for a in range(frame.ndim) if a not in kept))
    spans = int(np.count_nonzero(present))
    if spans < 2:
        return ""
    new = [int(v) for v in np.unique(change.values) if int(v) != label]
    names = ", ".join(map(str, [label, *new[:-1]])) + f" and {new[-1]}" if new else str(label)
    return f"; {label} is now {names}, cut through all {spans} slices it spans"


def _z_axis(layer: Labels) -> int | None:
    """The Z axis of volume labels (ZYX, TZYX: their axes as :func:`_axes_of` takes them;
    labels of three axes or more whose axes are unknown count as a volume unless a T is
    among them, as the review's sizes do), else None (an image, a movie of images)."""
    axes = _axes_of(layer)
    if axes is None or len(axes) != layer.ndim:
        return 0 if layer.ndim >= 3 and _time_axis(layer) is None else None
    return axes.index("Z") if "Z" in axes else None


def _volume_words(layer: Labels, change: Edit, noted: str = "") -> tuple[str, str]:
    """``(unit, across)`` for the status line of an edit: "px" and nothing in an image or a
    movie of images; "voxels" in a volume, and " across 4 slices" where the changed voxels
    lie in more than one slice (user test s33/t11 #9: a merge of objects spanning slices
    said "10881 px changed"), unless the edit's own note names its slices already (a split
    along a line: "cut through all 4 slices it spans")."""
    z = _z_axis(layer)
    if z is None:
        return "px", ""
    if not change.size or "slices" in noted:
        return "voxels", ""
    slices = int(np.unique(change.indices[z]).size)
    return "voxels", f" across {slices} slices" if slices > 1 else " in one slice"


#: the most bytes Split may spend on the stack of a layer's objects whole (one bool mask per
#: object) to follow an object through its hidden parts; beyond, it splits as shown
WHOLE_STACK_BYTES = 1 << 28


def _whole_objects(viewer, layer: Labels) -> Callable[[int], np.ndarray | None] | None:
    """For 2D labels whose objects may overlap (a network's instances, such as worms2d's
    crossing worms, a mask stack read, an "overlaps" layer beside them): ``label -> mask``
    of that object whole, its hidden parts too (Export's stack, :func:`object_stack`),
    computed when a split asks for it, so that the parts of a worm shown either side of the
    worm on top split with the piece they continue. None on anything else."""
    from ._object_stack import has_read_stack, network_instances, object_stack, overlaps_layer

    labels = layer.data
    if not isinstance(labels, np.ndarray) or labels.ndim != 2 or labels.dtype.kind not in "iu":
        return None
    if labels.size * max(int(labels.max(initial=0)), 1) > WHOLE_STACK_BYTES:
        return None
    if (
        network_instances(layer) is None
        and not has_read_stack(layer)
        and overlaps_layer(viewer, layer) is None
    ):
        return None

    def whole(label: int) -> np.ndarray | None:
        stack = object_stack(viewer, layer, np.asarray(layer.data))
        hit = np.flatnonzero(stack.ids == label)
        return stack.masks[hit[0]] if hit.size else None

    return whole


def _show_under(viewer, layer: Labels, change: Edit) -> tuple[Edit, str]:
    """``(edit, words)``: ``change`` with the background it writes on 2D labels where
    another object of their stack lies under the object it removes (crossing worms) given
    to that object (:func:`._object_stack.uncovered`), and what the status line adds of it
    (nothing where there was none)."""
    import dataclasses

    values = uncovered(viewer, layer, change.indices, change.values)
    shows = values != change.values
    if not shows.any():
        return change, ""
    ids = np.unique(values[shows]).tolist()
    one = len(ids) == 1
    what = f"object {ids[0]} now shows where it was" if one else "objects "
    if not one:
        what += ", ".join(map(str, ids)) + " now show where they were"
    words = f"; {what} hidden ({int(shows.sum())} px)"
    return dataclasses.replace(change, values=values), words


class CorrectEdits:
    """Mixin for :class:`.correct.CorrectWidget`: each edit is computed by
    :mod:`tessella.engine.edit` on the chosen labels layer and written as one step of its undo
    history (uses the widget's ``viewer``, ``labels_layer``, controls, ``_say``, ``edited`` and
    ``_show_history``)."""

    # --- operations -------------------------------------------------------------------------

    def _apply(
        self,
        what: str,
        make_edit: Callable[[np.ndarray], Edit],
        frame: int | None = None,
        sliced: bool = True,
        note: Callable[[Edit, np.ndarray], str] | None = None,
        leaving: list[int] | None = None,
    ) -> bool:
        """Compute an edit on the chosen layer's data and record it as one undo step.

        On a time-lapse, ``frame`` is the one frame the edit acts in (None: all frames), and
        the status line names it; with ``sliced``, ``make_edit`` is given that frame alone,
        else the whole array (it keeps to the frame itself). ``note``: what the status line
        adds after the pixels changed, from the edit and the labels before it. ``leaving``:
        the IDs the edit takes out of the ``frame`` (merged into another, deleted): the
        status line names those that now skip it (:func:`_skips_words`)."""
        layer = self.labels_layer
        if layer is None:
            self._say(f"{what}: add or choose a labels layer first.")
            return False
        if not isinstance(layer.data, np.ndarray):
            from ._correct_region import REGION_BUTTON, WRITE_BUTTON, on_disk_store

            message = (
                f"layer '{layer.name}' is not in memory ({_on_disk(layer)}); to edit a copy, "
                f"{_how_to_copy(layer)}, then Export the result"
            )
            if on_disk_store(layer) is not None:  # (a zarr on disk: its region in view)
                message += (
                    f". Or edit the part on screen: '{REGION_BUTTON}' above, then "
                    f"'{WRITE_BUTTON}' saves it into the .zarr"
                )
            self._say(f"{what}: {message}", "error")
            return False
        if _being_written(self, what, layer):
            return False
        t_axis = _time_axis(layer)
        if t_axis is None:
            frame = None
        from tessella.engine.edit import SplitRefused

        try:
            if frame is not None and sliced:
                change = _in_frame(make_edit, layer.data, t_axis, frame)  # type: ignore[arg-type]
            else:
                change = make_edit(layer.data)
        except (ValueError, SplitRefused) as exc:
            where = _scope_words(layer, t_axis, frame) if frame is not None else ""
            hint = ""
            if frame is not None and str(exc).startswith("no object"):
                hint = f" (tick '{ALL_FRAMES}' to act on the whole track)"
            why = str(exc)
            if isinstance(exc, SplitRefused):  # (a split's guard against erasing pixels)
                why = f"refused: {why}; the labels are as they were (please report it)"
            self._say(f"{what} on layer '{layer.name}'{where}: {why}{hint}", "error")
            return False
        scope = _scope_words(layer, t_axis, frame)
        if change.size == 0:
            self._say(f"{what} on '{layer.name}'{scope}: nothing to change", None)
            return False
        noted = "" if note is None else note(change, layer.data)  # (the labels before it)
        skips = None  # (the tracks in the frame that may skip it after the edit)
        if leaving and frame is not None and t_axis is not None:
            skips = (t_axis, frame, leaving, _present(layer.data, t_axis, frame, leaving))
        # (on crossing objects: what a deleted one lay on shows there, not a gap)
        change, under = _show_under(self.viewer, layer, change)
        noted += under
        renamed = self._rename_tracks(layer, change.renamed) if change.renamed else None
        widened = _widen_for(layer, change.values)
        # (what a split adds, e.g. a part past a crossing it joined: after the pixels changed)
        title, _sep, aside = change.description.partition("; ")
        with _recording(layer, title, scope):
            with layer.block_history():
                layer.data_setitem(change.indices, change.values)
        if renamed is not None:  # Ctrl+Z and Redo find each side's divisions again
            from ._tracks_layer import note_lineage_step

            _results.remember_edited_state(layer, renamed[1])
            history = _history(layer, "undo")
            if history:  # (also what is kept with the labels, their Tracks layer deleted)
                note_lineage_step(layer, history[-1], *renamed)
        # the Tracks layer beside a time-lapse follows the step (_results.follow_edits)
        if skips is not None:  # (a track that now skips the frame: Export splits it)
            noted += _skips_words(layer, *skips)
        size = f"{change.size:,}" if t_axis is not None else str(change.size)
        unit, across = _volume_words(layer, change, noted)
        done = f"{title} on '{layer.name}'{scope}: {size} {unit} changed{across}"
        done += (f"; {aside}" if aside else "") + noted
        self._say(done if widened is None else f"{done}; {widened}", None)
        self._show_history()  # (also announced by napari's paint event)
        self.edited.emit(title)
        return True

    def _frame_scope(self, what: str) -> tuple[bool, int | None]:
        """``(ok, frame)``: the frame Merge, Delete and Split by watershed act in: the one
        shown, on a time-lapse whose 'All frames' box is not ticked; None (every frame) on
        anything else. Not ok (said) where the frame shown lies outside the labels."""
        layer = self.labels_layer
        t_axis = None if layer is None else _time_axis(layer)
        if layer is None or t_axis is None or self.all_frames_checkbox.isChecked():
            return True, None
        shown = layer.world_to_data(self.viewer.dims.point)[t_axis]
        frame, count = int(np.round(shown)), layer.data.shape[t_axis]
        if not 0 <= frame < count:
            numbers = _frame_numbers(layer, t_axis)
            first, last = frame_name(0, numbers), frame_name(count - 1, numbers)
            self._say(
                f"{what}: frame {frame} on screen is not in '{layer.name}' (its frames: "
                f"{first} to {last}); move to one of its frames or tick '{ALL_FRAMES}'",
                "error",
            )
            return False, None
        return True, frame

    def _rename_tracks(self, layer, renamed: dict[int, int]) -> tuple[dict, dict] | None:
        """Before objects of a time-lapse change IDs (relabel): its divisions (those the
        labels' state records, as reopened labels' recipe gives them, else those drawn
        beside it, else those kept with the labels or their Segment result's, their Tracks
        layer deleted), renamed the same way, also in its Tracks layer and in those kept
        with the labels (Export writes them once the Tracks layer is deleted); the labels
        before the change are remembered with the old ones. Returns the lineage before and
        the renamed one (None where the labels have none: no Tracks layer and no divisions
        recorded or kept)."""
        from ._tracks_layer import current_lineage, keep_lineage

        tracks = _results.tracks_layer(self.viewer, layer)
        lineage = _results.lineage_on_screen(layer)
        if lineage is None:
            if tracks is None:
                lineage = current_lineage(self.viewer, layer)  # (its Tracks layer deleted)
                if not lineage:
                    return None
            else:
                lineage = tracks.metadata.get(_results.LINEAGE_KEY) or {}
        _results.remember_edited_state(layer, lineage)
        # divisions whose ends are gone for now (kept for an undo) have no new IDs: they stay
        # with the labels before the change, whose state remembers them
        present = set(np.unique(layer.data).tolist())
        new = {
            renamed.get(int(c), int(c)): renamed.get(int(p), int(p))
            for c, p in lineage.items()
            if int(c) in present and int(p) in present
        }
        if tracks is not None:
            tracks.metadata = {**tracks.metadata, _results.LINEAGE_KEY: new}
        keep_lineage(layer, new)  # (not the IDs before, should the Tracks layer be deleted)
        return dict(lineage), new

    def _selection(self, what: str, at_least: int = 1) -> list[int] | None:
        try:
            ids = self.selected_ids()
        except ValueError as exc:
            self._say(f"{what}: {exc}", "error")
            return None
        if len(ids) < at_least:
            wanted = "a label" if at_least == 1 else f"{at_least} labels"
            self._say(f"{what}: select {wanted} first (type IDs or use Pick).")
            return None
        return ids

    def merge(self) -> bool:
        """Merge the selected objects: on a time-lapse in the frame shown (or, 'All frames'
        ticked, along the whole tracks) into the first selected ID, so that the merged object
        goes on as that track and takes no other cell's ID; on one image or a volume into
        the smallest."""
        from tessella.engine.edit import merge

        ids = self._selection("Merge", 2)
        if ids is None:
            return False
        ok, frame = self._frame_scope("Merge")
        layer = self.labels_layer
        movie = layer is not None and _time_axis(layer) is not None
        # all frames: the whole movie, its cracks closed frame by frame (not across T)
        axes = _axes_of(layer) if layer is not None and movie and frame is None else None
        t_axis = None if layer is None else _time_axis(layer)
        if not ok or not self._apply(
            "Merge",
            (lambda d: _merge_into_first(d, ids, axes)) if movie else (lambda d: merge(d, ids)),
            frame,
            leaving=ids[1:],
            note=lambda change, data: _pieces_apart_words(
                change, data, ids, t_axis, frame, _frame_numbers(layer, t_axis)
            ),
        ):
            return False
        if not movie:  # (a region of labels on disk: Write back merges them whole)
            self._note_object_edit(layer, {i: min(ids) for i in ids if i != min(ids)})
        self.set_selection([ids[0] if movie else min(ids)])
        return True

    def delete(self) -> bool:
        """Delete the selected objects: on a time-lapse in the frame shown (or, 'All frames'
        ticked, their whole tracks)."""
        from tessella.engine.edit import delete

        ids = self._selection("Delete")
        if ids is None:
            return False
        ok, frame = self._frame_scope("Delete")
        if not ok or not self._apply(
            "Delete", lambda data: delete(data, ids), frame, leaving=list(ids)
        ):
            return False
        # (a region of labels on disk: Write back deletes them whole)
        self._note_object_edit(self.labels_layer, dict.fromkeys(ids, 0))
        self.selection_edit.clear()
        return True

    def fill_holes(self) -> bool:
        from tessella.engine.edit import fill_holes

        try:
            ids = self.selected_ids() or None
        except ValueError as exc:
            self._say(f"Fill holes: {exc}", "error")
            return False
        layer = self.labels_layer
        axes = _axes_of(layer) if layer is not None else None
        return self._apply("Fill holes", lambda data: fill_holes(data, ids, axes=axes))

    def remove_small(self) -> bool:
        from tessella.engine.edit import remove_small

        layer = self.labels_layer
        if layer is not None and layer.unique_id in getattr(self, "_regions", {}):
            self._say(
                f"Remove small: '{layer.name}' is a region of a larger file: an object "
                "crossing its edge would be judged by its part inside it only. Select the "
                "small objects (Pick) and Delete them, which deletes them whole",
                "error",
            )
            return False
        axes = _axes_of(layer) if layer is not None else None
        size = self.min_size_spin.value()
        return self._apply("Remove small", lambda data: remove_small(data, size, axes=axes))

    def relabel(self) -> bool:
        from tessella.engine.edit import relabel_sequential

        layer = self.labels_layer
        if layer is not None and layer.unique_id in getattr(self, "_regions", {}):
            self._say(
                f"Relabel: '{layer.name}' is a region of a larger file: numbering its objects "
                "1..N would give them the IDs of other objects there",
                "error",
            )
            return False
        return self._apply("Relabel", relabel_sequential)

    def _find_helper(self, name: str, kind: type):
        """The ``name`` layer of ``kind`` drawn for the chosen labels layer's dimensions
        (lines drawn over a 2D image mean nothing on a slice of a volume)."""
        layer = self.labels_layer
        for candidate in self.viewer.layers:
            if isinstance(candidate, kind) and candidate.name == name:
                if layer is None or candidate.ndim == layer.ndim:
                    return candidate
        return None

    def _helper_layer(self, name: str, kind: type):
        layer = self.labels_layer
        found = self._find_helper(name, kind)
        if found is not None:
            return found
        if layer is None:
            return None
        for other in [c for c in self.viewer.layers if isinstance(c, kind) and c.name == name]:
            self.viewer.layers.remove(other)  # drawn for a layer of other dimensions
        # where the labels lie, units too (napari drops every layer's units, the scale bar's
        # included, when one layer has other units)
        options = {"name": name, "ndim": layer.ndim, **_results.placement(layer)}
        if kind is Shapes:
            return self.viewer.add_shapes(edge_color="yellow", edge_width=2, **options)
        return self.viewer.add_points(face_color="yellow", size=6, **options)

    def draw_split_line(self) -> None:
        """Add (or choose) the split-lines layer in line-drawing mode."""
        if self.labels_layer is None:
            self._say("Draw split line: add or choose a labels layer first.")
            return
        shapes = self._helper_layer(LINES_LAYER, Shapes)
        self.viewer.layers.selection.active = shapes
        shapes.mode = "add_line"
        self.status_label.setText("Drag a line across the object, then click 'Split along lines'")

    def _to_labels_coords(self, helper, points: np.ndarray) -> np.ndarray:
        layer = self.labels_layer
        return np.array([layer.world_to_data(helper.data_to_world(p)) for p in points])

    def split_along_lines(self) -> bool:
        """Split the object each line in the split-lines layer crosses; clear the lines."""
        from tessella.engine.edit import split_lines

        shapes = self._find_helper(LINES_LAYER, Shapes)
        if shapes is None or not len(shapes.data):
            self._say("Split along lines: draw a line first ('Draw split line').")
            return False
        if self.viewer.dims.ndisplay != 2:
            self._say(
                "Split along lines: the viewer shows 3D; switch it to 2D and draw the line in "
                "one slice (it is swept through the object's other slices)",
                "error",
            )
            return False
        plane = tuple(self.viewer.dims.displayed[-2:])
        ids = self._selection_or_empty()
        label = ids[0] if len(ids) == 1 else None
        lines = [self._to_labels_coords(shapes, line) for line in shapes.data]
        t_axis = _time_axis(self.labels_layer) if self.labels_layer is not None else None
        whole = (
            None if self.labels_layer is None else _whole_objects(self.viewer, self.labels_layer)
        )
        # on a volume the line is swept through its slices: the whole object is cut
        through = _swept_axes(len(lines[0][0]), plane, t_axis) if lines else ()
        done = False
        frames: dict[int | None, list[np.ndarray]] = {}  # (a time-lapse's: each line's own)
        for line in lines:
            frame = None if t_axis is None else int(np.round(line[0][t_axis]))
            frames.setdefault(frame, []).append(line)
        for frame, drawn in frames.items():  # the lines of a frame: one edit, one Undo
            top = _movie_top(self.viewer, self.labels_layer, t_axis)

            def cut(data, drawn=drawn, top=top) -> Edit:  # (a movie's: in the lines' frame)
                return split_lines(data, label, drawn, plane, through, whole, after=top)

            done |= self._apply(
                "Split along line" if len(drawn) == 1 else "Split along lines",
                cut,
                frame,
                sliced=False,
                note=lambda change, data, line=drawn[0]: _through_slices(
                    change, data, line, plane, t_axis
                ),
            )
        if done:
            shapes.data = []
            self.viewer.layers.selection.active = self.labels_layer
        return done

    def _height_map(self, layer: Labels) -> np.ndarray | None:
        """The cached network map behind ``layer`` that is high inside objects, if any."""
        result = _results.get(layer)
        return None if result is None else _results.height_map(result, layer.data.shape)

    def split_watershed(self) -> bool:
        from tessella.engine.edit import new_ids_after, split_seeds

        ids = self._selection("Split by watershed")
        layer = self.labels_layer
        if ids is None:
            return False
        if layer is None:
            self._say("Split by watershed: add or choose a labels layer first.")
            return False
        if len(ids) != 1:
            self._say(f"Split by watershed: select exactly one label, not {len(ids)}.")
            return False
        ok, frame = self._frame_scope("Split by watershed")
        if not ok:
            return False
        t_axis = _time_axis(layer)
        if frame is None and t_axis is not None:  # a whole track: T is no third dimension
            self._say(
                f"Split by watershed on '{layer.name}' splits one frame at a time (the pieces "
                "of a track would need linking from frame to frame): untick "
                f"'{ALL_FRAMES}' and split it in the frame on screen",
                "error",
            )
            return False
        points = self._find_helper(SEEDS_LAYER, Points)
        seeds = None
        if points is not None and len(points.data):
            seeds = self._to_labels_coords(points, points.data)
        height = self._height_map(layer)
        pieces = self.pieces_spin.value()
        whole = _whole_objects(self.viewer, layer)  # (the parts a worm on top hides)
        top = _movie_top(self.viewer, layer, t_axis)
        if frame is not None and t_axis is not None:  # the frame on screen, as one image
            if seeds is not None:
                seeds = np.delete(seeds[np.round(seeds[:, t_axis]) == frame], t_axis, axis=1)
                seeds = seeds if len(seeds) else None  # none in this frame: from the peaks
            if height is not None:
                height = np.take(height, frame, axis=t_axis)

        def split(data: np.ndarray) -> Edit:
            try:
                change = split_seeds(
                    data, ids[0], seeds=seeds, height=height, pieces=pieces, whole=whole
                )
                return change if frame is None or top is None else new_ids_after(change, data, top)
            except ValueError as exc:
                if seeds is None and "peaks" in str(exc):  # no two nuclei in the map: ask
                    hint = f"put one point per piece inside it in a '{SEEDS_LAYER}' points layer"
                    raise ValueError(f"{exc}; {hint}") from None
                raise

        done = self._apply("Split by watershed", split, frame)
        if done and points is not None:
            points.data = np.empty((0, points.ndim))
        return done

    def undo(self) -> None:
        self._step_history("Undo", "Undid", "undo")

    def redo(self) -> None:
        self._step_history("Redo", "Redid", "redo")

    def _step_history(self, what: str, done: str, which: str) -> None:
        """Undo or redo (``which``) one step of the chosen layer's history, then grey out
        the buttons with nothing left to do."""
        self._stepping = True  # (the panel says what it undid: not as an outside step)
        try:
            self._undo_or_redo(what, done, which)
            self._mark_selection()  # (the selected objects where they are now)
        finally:
            try:
                self._show_history()  # (a hidden layer's step, seen here: not said again)
            finally:
                self._stepping = False

    def _undo_or_redo(self, what: str, done: str, which: str) -> None:
        """With nothing to undo (a new layer, or every step undone) or redo, say so (the
        button is greyed out then, but a click may come before napari announces the change):
        a user after a lost edit must not be told that it came back."""
        layer = self.labels_layer
        if layer is None:
            self._say(f"{what}: add or choose a labels layer first.")
            return
        if _being_written(self, what, layer):
            return
        if _history_length(layer, which) == 0:
            from ._correct_region import barrier_words, written_back_to

            if which == "undo" and written_back_to(layer):  # (s32/r7 finding 1)
                self._say(f"{what}: {barrier_words(layer)}", "warning")
                return
            self._say(f"Nothing to {which} on '{layer.name}'", None)
            return
        cannot = f"Cannot {which} on '{layer.name}'"
        if not _step_fits(layer, which):  # napari would write part of it, then fail
            _restart_history(layer)
            why = "its data were replaced since that edit (undo history cleared)"
            self._say(f"{cannot}: {why}", "warning")
            return
        words = _step_words(layer, which)  # (before the step moves to the other history)
        try:
            getattr(layer, which)()
        except (IndexError, ValueError) as exc:  # another step napari cannot replay
            _restart_history(layer)
            why = f"napari could not replay that edit ({exc}); undo history cleared"
            self._say(f"{cannot}: {why}, check the labels", "warning")
            return
        from ._tracks_layer import follow_lineage_steps

        follow_lineage_steps(self.viewer, layer)  # (a lineage edit: its lineage back)
        _results.sync_tracks(layer)  # a hidden layer emits no refresh
        sync_overlaps(layer)
        if words is None:  # a napari whose history Tessella cannot read (_history)
            undone = {"undo": "undone", "redo": "redone"}[which]
            self._say(
                f"{what} sent to '{layer.name}': this napari does not let Tessella read its "
                f"undo history, so it cannot say what, if anything, was {undone}",
                None,
            )
            return
        description, scope = words
        self._say(f"{done}: {description} on '{layer.name}'{scope}", None)


#: what Correct's own edits did, for Undo and Redo to say: by the ``id`` of the array of
#: pixels before the edit in its history step (napari keeps the same array when it moves the
#: step between its undo and redo histories), ``(that array, weakly; description, scope)``
_DONE: dict[int, tuple[weakref.ref, str, str]] = {}

#: what Undo and Redo say of a step not made in this panel
OTHER_EDIT = (
    "a change made outside this panel (napari's brush, fill or eraser, a polygon, or a Tune "
    "update)",
    "",
)


def _before_arrays(step) -> list[np.ndarray]:
    """The arrays of pixels before the change in one napari history step (a list of
    ``data_setitem`` atoms, ``(indices, before, after)``; the brush's atoms are not ours)."""
    try:
        atoms = list(step)
    except TypeError:
        return []
    return [
        a[1] for a in atoms if type(a) is tuple and len(a) == 3 and isinstance(a[1], np.ndarray)
    ]


@contextmanager
def _recording(layer: Labels, description: str, scope: str):
    """Remember the history step ``layer`` records inside (napari announces it with
    ``events.paint``, its ``value`` the step) as Correct's ``description`` (acting ``scope``,
    e.g. " in frame 2"), for Undo and Redo to say what they undid. Correct sets the
    lineage its edits leave itself (a new track's ID, a relabel's): the check that a new
    object takes no lineage row is not made of them (:func:`._tracks_layer.sets_lineage`)."""
    from ._tracks_layer import sets_lineage

    inner = getattr(layer, "__wrapped__", layer)  # (the event's value as napari gave it)
    steps: list = []

    def caught(event) -> None:
        steps.append(getattr(event, "value", None))

    inner.events.paint.connect(caught)
    try:
        with sets_lineage(layer):
            yield
    finally:
        inner.events.paint.disconnect(caught)
    for key in [k for k, (ref, *_words) in _DONE.items() if ref() is None]:
        del _DONE[key]  # steps napari dropped (past its 100 steps, or a restarted history)
    for step in steps:
        for before in _before_arrays(step):
            _DONE[id(before)] = (weakref.ref(before), description, scope)


def _being_written(panel, what: str, layer: Labels) -> bool:
    """Whether ``layer`` is a region whose Write back runs (said: its edits wait for it, or
    they would not be in the file; s32/r6 finding 1)."""
    from ._correct_region import WRITE_BUTTON, being_written

    if not being_written(layer):
        return False
    panel._say(
        f"{what}: '{layer.name}' is being written back; edit it once {WRITE_BUTTON} ends",
        "warning",
    )
    return True


def _step_words(layer: Labels, which: str) -> tuple[str, str] | None:
    """``(description, scope)`` of the step ``layer`` undoes (``which``: "undo") or redoes
    next: Correct's words for its own edits, :data:`OTHER_EDIT` for any other step; None
    where this napari's history cannot be read (it is private: ``_undo_history``)."""
    history = _history(layer, which)
    if history is None:
        return None
    try:
        step = history[-1]
    except (TypeError, IndexError, KeyError):
        return OTHER_EDIT  # (nothing to undo: said before this is asked)
    for before in _before_arrays(step):
        ref, description, scope = _DONE.get(id(before), (None, "", ""))
        if ref is not None and ref() is before:
            return description, scope
    return OTHER_EDIT


def _widen_for(layer: Labels, values: np.ndarray) -> str | None:
    """Before an edit writes ``values`` (a split's new IDs) into ``layer``: where its data
    type cannot hold them (a layer converted to uint8, and ID 256), widen the layer as Tune
    does (to int32, or a type that holds them), never cast them, which would wrap 256 around
    to 0 and give other objects' IDs to the rest. Returns what the status line says of it,
    or None (they fit).

    The layer keeps its undo history: napari restarts nothing, but Tessella restarts it
    whenever a layer's data are replaced (:func:`restart_history_on_new_data`), for new
    labels; these are the same pixels in a wider type, which every earlier step still fits.
    So the edit stays one step of it, and Undo brings back the pixels before it. An undo
    cannot change a data type back, so the layer stays widened (and says so)."""
    too_narrow = _too_narrow(np.dtype(layer.data.dtype), values)
    if too_narrow is None:
        return None
    narrow = layer.data.dtype
    wide = _wide_enough(narrow, np.result_type(np.int32, values.dtype))
    inner = getattr(layer, "__wrapped__", layer)  # a plugin's proxy warns on private names
    kept = [getattr(inner, name, None) for name in _HISTORY_NAMES.values()]
    _WIDENING[layer.unique_id] = (str(narrow), str(np.dtype(wide)))
    try:
        layer.data = layer.data.astype(wide)
    finally:
        del _WIDENING[layer.unique_id]
    if None not in kept:  # (a napari without them: its history as the replacement left it)
        for name, history in zip(_HISTORY_NAMES.values(), kept, strict=True):
            setattr(inner, name, history)
    return (
        f"{too_narrow} do not fit in {narrow}, so the layer is now {wide} "
        "(Undo brings back the labels, not the type)"
    )


def _step_fits(layer: Labels, which: str) -> bool:
    """Whether every pixel of the step ``layer`` would undo (``which``: "undo") or redo next
    lies inside its data. napari 0.9 keeps the history when the data are replaced (Tessella
    restarts it where it can, :func:`restart_history_on_new_data`, but not for data the user
    replaced before that); on a smaller or reshaped array, it would move the step to the
    other history, write its first pieces, then raise IndexError. A history kept another way
    (not a sequence of lists of napari 0.9's atoms) is taken to fit."""
    history = _history(layer, which)
    layer = getattr(layer, "__wrapped__", layer)
    try:
        step = history[-1]  # type: ignore[index]
        shape = tuple(int(n) for n in layer.data.shape)
        return all(_atom_fits(atom, shape) for atom in step)
    except (TypeError, IndexError, AttributeError):
        return True


def _atom_fits(atom, shape: tuple[int, ...]) -> bool:
    """Whether one atom of napari's history fits an array of ``shape``: the fancy-index
    ``(indices, before, after)`` of ``data_setitem``, or a painted box (``slice_key``, with
    ``mask`` or ``old_values`` of the box's shape)."""
    key = getattr(atom, "slice_key", None)
    if key is not None:
        if len(key) != len(shape):
            return False
        box = tuple(len(range(*k.indices(n))) for k, n in zip(key, shape, strict=True))
        within = atom.mask if atom.mask is not None else atom.old_values
        return box == tuple(np.shape(within))
    indices = atom[0]
    if len(indices) != len(shape):
        return False
    return all(
        np.size(i) == 0 or (int(np.max(i)) < n and int(np.min(i)) >= -n)
        for i, n in zip(indices, shape, strict=True)
    )


#: napari's undo and redo histories of a Labels layer (deques of steps in napari 0.9). They
#: are private, and napari has no public way to read them: Labels offers ``undo()``,
#: ``redo()``, ``block_history()`` and ``events.paint`` (each new step, as it is recorded),
#: but no count of the steps left, no event for an undo or redo (only the redraw after it,
#: which a hidden layer skips) and no restart. Read only through :func:`_history`, which
#: finds them or says it cannot (a napari that keeps them another way): then Undo and Redo
#: stay enabled, say that they cannot tell what they undid, and a step that no longer fits
#: the data is refused by napari's own error (caught) rather than checked before.
_HISTORY_NAMES = {"undo": "_undo_history", "redo": "_redo_history"}


def _history(layer: Labels, which: str):
    """``layer``'s napari history ``which`` ("undo", "redo"): a sequence of steps, or None
    where this napari does not keep one under that name (:data:`_HISTORY_NAMES`)."""
    inner = getattr(layer, "__wrapped__", layer)  # a plugin's proxy warns on private names
    history = getattr(inner, _HISTORY_NAMES[which], None)
    if not (hasattr(history, "__len__") and hasattr(history, "__getitem__")):
        return None
    return history


def _history_length(layer: Labels, which: str) -> int | None:
    """How many steps ``layer`` can undo (``which``: "undo") or redo ("redo"); None where
    this napari does not say (:func:`_history`)."""
    history = _history(layer, which)
    return None if history is None else len(history)

"""The Tracks layer beside a time-lapse labels layer: drawn from the labels and their lineage,
hidden while they are not linked, and redrawn after every change of the labels (only the
frames that changed)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from .._io import RECIPE_KEY
from ._companions import _place, _place_companion, placement, tracks_layer
from ._labels_states import (
    STATES_KEY,
    _as_lineage,
    lineage_on_screen,
    recipe_on_screen,
    state_on_screen,
    tool_is_writing,
)
from ._result_cache import _key

if TYPE_CHECKING:
    from napari.layers import Layer

__all__ = [
    "LINEAGE_KEY",
    "UNLINKED_KEY",
    "FOLLOW_SCAN_BYTES",
    "is_linked",
    "show_tracks",
    "follow_edits",
    "sync_tracks",
    "follow_tracks",
    "refresh_tracks",
    "current_lineage",
    "keep_lineage",
    "kept_lineage",
    "put_lineage",
    "no_inherited_lineage",
    "sets_lineage",
    "note_lineage_step",
    "follow_lineage_steps",
    "forget_lineage_steps",
]

#: a Tracks layer's metadata: the lineage ``{child: parent}`` it was drawn from, in full
LINEAGE_KEY = "tessella_lineage"
#: a Tracks layer's metadata: hidden because its labels are not linked (shown again once
#: they are)
UNLINKED_KEY = "tessella_unlinked"


def is_linked(recipe) -> bool:
    """Whether labels made by ``recipe`` are linked: not when its ``link`` (a time-lapse
    method's parameter) is false."""
    params = recipe.get("params") if isinstance(recipe, dict) else None
    return not (isinstance(params, dict) and params.get("link") is False)


def _show_if_linked(layer, linked: bool) -> None:
    """Hide a Tracks layer whose labels are not linked (each object has its own ID: its
    "tracks" are one point each; it is kept, not removed: see :func:`_orphan`), and show it
    again once they are."""
    if linked and layer.metadata.get(UNLINKED_KEY):
        layer.metadata = {k: v for k, v in layer.metadata.items() if k != UNLINKED_KEY}
        layer.visible = True
    elif not linked and not layer.metadata.get(UNLINKED_KEY):
        layer.metadata = {**layer.metadata, UNLINKED_KEY: True}
        layer.visible = False


def show_tracks(
    viewer,
    labels_layer: Layer,
    labels: np.ndarray,
    lineage: dict | None,
    linked: bool | None = None,
):
    """Show the tracks of a TYX labels layer (one per label ID, centroids, divisions as
    graph edges) in a Tracks layer beside it: its previous one is updated, else one is added.
    Returns the layer, or None when there is nothing to draw (also for YX labels: a 2D image
    segmented as a one-frame movie has no frames to draw tracks over).

    Labels that are not linked (``linked`` false; None: as the recipe of the labels on
    screen says, its ``link``) have no tracks: the Tracks layer beside them is drawn (one
    point per object) but hidden, and none is added; linked labels show it again."""
    from tessella.engine.tracking import napari_tracks

    if np.ndim(labels) < 3 or labels_layer.ndim < 3:  # (napari wants (track, t, y, x) rows)
        return None
    if linked is None:
        linked = is_linked(recipe_on_screen(labels_layer)[0])
    data, graph = napari_tracks(labels, lineage)
    # every division, also those whose ends are gone for now (an edit that Undo may revert)
    kept = {LINEAGE_KEY: _as_lineage(lineage or {})}

    def update(layer):
        follow_edits(viewer, labels_layer)  # (a Tracks layer taken over from removed labels)
        _set_tracks(layer, data, graph, kept)
        _place(layer, labels_layer)
        _show_if_linked(layer, linked)

    def add():
        follow_edits(viewer, labels_layer)
        return viewer.add_tracks(
            data,
            graph=graph,
            name=f"{labels_layer.name} tracks",
            tail_length=10,
            metadata=kept,
            **placement(labels_layer),
        )

    if not linked:  # no Tracks layer added (nor taken over) for labels without tracks
        layer = tracks_layer(viewer, labels_layer)
        if layer is not None and len(data):
            update(layer)
        elif layer is not None:
            _show_if_linked(layer, False)
        return None
    return _place_companion(viewer, labels_layer, "tracks", update if len(data) else None, add)


#: labels layer key -> the callable that redraws the changed frames of its Tracks layer
_FOLLOWERS: dict = {}

#: in-memory labels up to this size (bytes) have every frame checksummed whenever they are
#: refreshed (an undo, a redo, a layer shown again: about 0.04 s here), which also catches
#: writes that bypass napari's history; larger ones only the frames the steps of the
#: history wrote to and the frame on screen (every frame: about 0.25 s per 800 MB)
FOLLOW_SCAN_BYTES = 2**27


def _frame_sums(data, frames=None) -> dict[int, int] | None:
    """A checksum of every frame (first axis) of in-memory labels, or of ``frames`` only;
    None for lazy ones."""
    import zlib

    if not isinstance(data, np.ndarray):
        return None
    if frames is None:
        frames = range(len(data))
    return {int(t): zlib.crc32(np.ascontiguousarray(data[t])) for t in frames}


def _atom_frames(atom, n_frames: int) -> set[int] | None:
    """The frames (first axis) one step of a labels layer's undo history wrote to: a slice
    key (napari's mask-based paint, fill and polygon) or a fancy index (``data_setitem``);
    None when it cannot be told."""
    key = getattr(atom, "slice_key", None)
    if key is None and isinstance(atom, tuple) and atom:
        key = atom[0]  # (indices, old values, new values)
    if not isinstance(key, tuple) or not key:
        return None
    first = key[0]
    if isinstance(first, slice):
        return set(range(*first.indices(n_frames)))
    if isinstance(first, int | np.integer):
        return {int(first) % n_frames} if n_frames else set()
    try:
        values = np.unique(np.asarray(first))
    except (TypeError, ValueError):
        return None
    if values.dtype.kind not in "iu":
        return None
    return {int(t) % n_frames for t in values} if n_frames else set()


def _items_frames(items, n_frames: int) -> set[int] | None:
    """The frames a list of history items (lists of atoms) wrote to; None if any is unknown."""
    frames: set[int] = set()
    for item in items:
        for atom in item:
            found = _atom_frames(atom, n_frames)
            if found is None:
                return None
            frames |= found
    return frames


def _weak(data):
    """A weak reference to ``data`` (one that always answers None where none can be made)."""
    import weakref

    try:
        return weakref.ref(data)
    except TypeError:
        return lambda: None


def follow_edits(viewer, labels_layer) -> None:
    """Redraw the Tracks layer beside a time-lapse labels layer after every change of its
    labels, however it came: painting or filling on the canvas, Correct, Ctrl+Z and
    Shift+Ctrl+Z on the canvas or the Undo/Redo buttons. Only the changed frames are
    recomputed. Changes a tool writes (Segment, Tune) are left to the tool, which draws the
    tracks of its own result.

    The changed frames are found by per-frame checksums, of as few frames as can be told
    (a whole movie's take about 0.25 s per 800 MB):

    * a new step of the undo history comes with a ``paint`` event naming what it wrote: only
      those frames are checked (napari announces a step it does not group before writing it:
      those frames are checked again at the ``labels_update`` that follows the write);
    * undo and redo only refresh the layer (``set_data``, as moving through the frames does;
      a hidden layer not even that: it is looked at when shown, or by :func:`sync_tracks`).
      Labels up to :data:`FOLLOW_SCAN_BYTES` then have every frame checked; larger ones only
      the frames any step since the data was last replaced wrote to (an undo or redo can
      only bring back one of them, however far back napari's history reaches: the set of
      such frames only grows with distinct frames, so it stays small) and the frame on
      screen;
    * new data (``layer.data = ...``): every frame."""
    if _key(labels_layer) in _FOLLOWERS:
        return
    data = [_weak(labels_layer.data)]  # the labels looked at (not kept alive once replaced)
    sums = [_frame_sums(labels_layer.data)]
    pending: set[int] = set()  # frames a paint event named, perhaps not written yet
    # the frames every step of the history since the data was last replaced wrote to (None:
    # a step that could not be read, so any frame); not the last N steps: napari's history
    # may still hold older steps (N strokes, undo some, paint new ones)
    stepped: list[set[int] | None] = [set()]

    def slice_point() -> tuple:
        """Where the layer is sliced (its own axes; the viewer's may be more)."""
        position = labels_layer.world_to_data(viewer.dims.point)
        shown = set(viewer.dims.displayed[-labels_layer.ndim :])
        offset = viewer.dims.ndim - labels_layer.ndim
        return tuple(round(float(v)) for i, v in enumerate(position) if i + offset not in shown)

    point = [slice_point()]

    def frame_on_screen() -> set[int]:
        """The frame shown (none when time is a displayed axis)."""
        if viewer.dims.ndim - labels_layer.ndim in set(viewer.dims.displayed):
            return set()
        t = round(float(labels_layer.world_to_data(viewer.dims.point)[0]))
        return {t} if 0 <= t < labels_layer.data.shape[0] else set()

    def look(frames: set[int] | None = None) -> set[int]:
        """Check ``frames`` (all when None), redraw the tracks of those that changed; returns
        them."""
        if tracks_layer(viewer, labels_layer) is None:  # deleted: nothing to follow for now
            sums[0] = None  # (all frames count as changed should it come back)
            return set()
        current = labels_layer.data
        replaced = current is not data[0]()
        data[0] = _weak(current)
        if not isinstance(current, np.ndarray):
            sums[0] = None
            return set()
        n = current.shape[0]
        if replaced:  # napari starts a new history with new data
            stepped[0] = set()
        if replaced or sums[0] is None or len(sums[0]) != n:
            frames = None  # new labels: every frame
        if frames is None:
            pending.clear()
        checked = set(range(n)) if frames is None else {t for t in frames if 0 <= t < n}
        before = sums[0] or {}
        now = _frame_sums(current, sorted(checked))
        sums[0] = now if frames is None else {**before, **now}
        changed = {t for t in checked if before.get(t) != now[t]}
        if changed and not tool_is_writing(labels_layer.unique_id):
            follow_tracks(viewer, labels_layer, sorted(changed))
        return changed

    def refreshed() -> None:  # an undo or redo, perhaps; a shown layer; sync_tracks
        follow_lineage_steps(viewer, labels_layer)  # (a hand edit of the lineage undone)
        current = labels_layer.data
        if not isinstance(current, np.ndarray) or current.nbytes <= FOLLOW_SCAN_BYTES:
            look()
            return
        look(None if stepped[0] is None else stepped[0] | pending | frame_on_screen())
        pending.clear()

    def on_paint(event) -> None:  # a new step of the undo history
        value = getattr(event, "value", None)
        if isinstance(value, list) and not tool_is_writing(labels_layer.unique_id):
            no_inherited_lineage(viewer, labels_layer, value)  # (before the redraw)
        frames = (
            _items_frames([value], labels_layer.data.shape[0]) if isinstance(value, list) else None
        )
        if frames is None:  # (a napari whose steps cannot be read)
            look()
        else:
            # what did not change yet is checked again once written
            pending.update(frames - look(frames))
        if frames is None or stepped[0] is None:
            stepped[0] = None
        else:
            stepped[0] |= frames

    def on_labels_update(event=None) -> None:  # napari wrote an edit it announced before
        if pending:
            frames = set(pending)
            pending.clear()
            look(frames)

    def on_set_data(event=None) -> None:  # a refresh: moving through frames, undo, redo
        now = slice_point()
        if now != point[0]:  # the view moved; the labels did not change
            point[0] = now
            return
        refreshed()

    def on_visible(event=None) -> None:  # a hidden layer is not refreshed by undo or redo
        refreshed()

    labels_update = getattr(labels_layer.events, "labels_update", None)

    def forget(event) -> None:  # the labels layer left the viewer: let go of it (and its data)
        if getattr(event.value, "unique_id", None) != labels_layer.unique_id:
            return
        _FOLLOWERS.pop(_key(labels_layer), None)
        _LINEAGE_STEPS.pop(labels_layer.unique_id, None)
        labels_layer.events.paint.disconnect(on_paint)
        labels_layer.events.set_data.disconnect(on_set_data)
        labels_layer.events.visible.disconnect(on_visible)
        if labels_update is not None:
            labels_update.disconnect(on_labels_update)
        viewer.layers.events.removed.disconnect(forget)
        sums[0] = None

    labels_layer.events.paint.connect(on_paint)
    labels_layer.events.set_data.connect(on_set_data)
    labels_layer.events.visible.connect(on_visible)
    if labels_update is not None:
        labels_update.connect(on_labels_update)
    viewer.layers.events.removed.connect(forget)
    _FOLLOWERS[_key(labels_layer)] = refreshed


def _written_values(step) -> set[int] | None:
    """The IDs (not 0) a napari history step wrote; None when it cannot be told."""
    values: set[int] = set()
    for atom in step:
        if hasattr(atom, "slice_key") and hasattr(atom, "new_value"):
            new = atom.new_value
        elif type(atom) is tuple and len(atom) == 3:
            new = atom[2]
        else:
            return None
        try:
            values |= {int(v) for v in np.unique(np.asarray(new))}
        except (TypeError, ValueError):
            return None
    return values - {0}


def _present_before(data: np.ndarray, step, value: int) -> bool:
    """Whether ``value`` was in ``data`` before the napari history step ``step`` (the data
    written or not yet: napari announces a step it does not group before writing it): in a
    pixel the step did not touch, or in the values it keeps of those it did, each pixel as
    first touched (a stroke's dabs overlap: a later one keeps what an earlier one painted).
    True where a step's atoms cannot be read."""
    touched = np.zeros(data.shape, bool)
    for atom in step:
        if hasattr(atom, "slice_key"):
            box = tuple(atom.slice_key)
            region = touched[box]  # (a view: basic slicing)
            where = np.ones(region.shape, bool) if atom.mask is None else np.asarray(atom.mask)
            old = np.asarray(atom.old_values)
            old = old[where] if old.shape == region.shape else old.ravel()
            if old.shape != (int(where.sum()),):
                return True
            if np.any(old[~region[where]] == value):
                return True
            region[where] = True
        elif type(atom) is tuple and len(atom) == 3:
            indices, old, _new = atom
            try:
                first = ~touched[indices]
                old = np.broadcast_to(np.asarray(old), first.shape)
            except (IndexError, TypeError, ValueError):
                return True
            if np.any(old[first] == value):
                return True
            touched[indices] = True
        else:
            return True
    return bool(np.any((data == value) & ~touched))


#: labels layers (by unique_id) whose history step being recorded comes with the lineage
#: it leaves, set by the one writing it (Correct's edits): :func:`no_inherited_lineage`
#: leaves it
_SETS_LINEAGE: set = set()


@contextmanager
def sets_lineage(labels_layer):
    """Mark the history steps recorded on ``labels_layer`` inside as setting their lineage
    themselves (Correct's Break track here gives a new ID daughters, a relabel renames the
    divisions): not checked by :func:`no_inherited_lineage`."""
    _SETS_LINEAGE.add(labels_layer.unique_id)
    try:
        yield
    finally:
        _SETS_LINEAGE.discard(labels_layer.unique_id)


def no_inherited_lineage(viewer, labels_layer, step) -> dict[int, int] | None:
    """A new object never takes a lineage row: where the napari history step ``step`` just
    recorded on ``labels_layer`` painted an ID that was in none of its pixels before and
    that the lineage names (napari's next free label, the ``M`` key, is the largest ID in
    the labels plus one: a daughter deleted for now, whose division is kept for an undo,
    would give her mother to the new object), that ID's divisions (as daughter and as
    mother) are dropped, said in a notice, and undone with the step (Ctrl+Z brings them
    back with the pixels). Returns the lineage after (None: nothing dropped)."""
    data = labels_layer.data
    if not isinstance(data, np.ndarray) or labels_layer.unique_id in _SETS_LINEAGE:
        return None
    written = _written_values(step)
    if not written:
        return None
    lineage = _lineage_behind(viewer, labels_layer)
    named = {*lineage, *lineage.values()}
    new = sorted(v for v in written & named if not _present_before(data, step, v))
    if not new:
        return None
    after = {c: p for c, p in lineage.items() if c not in new and p not in new}
    words = []
    for v in new:
        roles = [f"daughter of {lineage[v]}"] if v in lineage else []
        daughters = sorted(c for c, p in lineage.items() if p == v)
        if daughters:
            roles.append(f"mother of {', '.join(map(str, daughters))}")
        words.append(f"{v} ({' and '.join(roles)})")
    from napari.utils.notifications import show_info

    if tracks_layer(viewer, labels_layer) is not None:
        put_lineage(viewer, labels_layer, after, state=False)
    else:  # (its Tracks layer deleted: not drawn again for this)
        keep_lineage(labels_layer, after)
    note_lineage_step(labels_layer, step, lineage, after)
    ids = "label" + ("s " if len(new) > 1 else " ") + ", ".join(map(str, new))
    show_info(
        f"'{labels_layer.name}': {ids} painted where there was none: a new object, which "
        f"does not take the divisions of the track{'s' if len(new) > 1 else ''} deleted "
        f"before under that ID, {'; '.join(words)}: dropped (Ctrl+Z brings them back)"
    )
    return after


def sync_tracks(labels_layer) -> None:
    """Bring the Tracks layer beside ``labels_layer`` up to date with its labels now (after an
    undo or redo, which a hidden layer does not announce)."""
    follower = _FOLLOWERS.get(_key(labels_layer))
    if follower is not None:
        follower()


def follow_tracks(viewer, labels_layer, frames=None) -> None:
    """Redraw the Tracks layer beside a time-lapse labels layer from its labels as they are
    now, in ``frames`` (all when None). A deleted or merged track leaves it; divisions keep
    their surviving ends; the lineage is that of the labels on screen when they are a known
    state (an undo back to a Tune result), else the one the layer was drawn from. Labels
    made with ``link`` off hide it (:func:`show_tracks`)."""
    tracks = tracks_layer(viewer, labels_layer)
    if tracks is None or not isinstance(labels_layer.data, np.ndarray):
        return
    state = state_on_screen(labels_layer)
    recipe = labels_layer.metadata.get(RECIPE_KEY) if state is None else state["recipe"]
    linked = is_linked(recipe)  # hidden while not (an undo back to labels made with link off)
    lineage = None if state is None else state.get("lineage")  # {} (unlinked) is one too
    if lineage is None:
        lineage = tracks.metadata.get(LINEAGE_KEY)
    if lineage is None:
        lineage = {int(c): int(p[0]) for c, p in tracks.graph.items() if p}
    if frames is not None:
        refresh_tracks(viewer, labels_layer, labels_layer.data, lineage, frames)
        if tracks_layer(viewer, labels_layer) is tracks:  # (not removed: no rows left)
            _show_if_linked(tracks, linked)
    else:
        show_tracks(viewer, labels_layer, np.asarray(labels_layer.data), lineage, linked)


def refresh_tracks(viewer, labels_layer, labels: np.ndarray, lineage: dict, frames) -> None:
    """After an edit of ``frames`` only: redraw those frames' rows of the Tracks layer beside
    ``labels_layer`` (a whole movie's centroids take about a second per 100 frames)."""
    from tessella.engine.tracking import frame_track_rows, tracks_graph

    layer = tracks_layer(viewer, labels_layer)
    if layer is None:
        return
    data = np.asarray(layer.data)
    rows = [data[~np.isin(data[:, 1], frames)]]
    rows += [frame_track_rows(labels[t], int(t)) for t in frames]
    data = np.concatenate(rows)
    if not len(data):
        viewer.layers.remove(layer)
        return
    data = data[np.lexsort((data[:, 1], data[:, 0]))]  # by track, then time
    _set_tracks(layer, data, tracks_graph(data, lineage), {LINEAGE_KEY: _as_lineage(lineage)})


def _set_tracks(layer, data: np.ndarray, graph: dict, metadata: dict) -> None:
    layer.graph = {}  # the old graph may name tracks the new data lack
    layer.data = data
    layer.graph = graph
    layer.metadata = {**layer.metadata, **metadata}


# --- hand edits of the lineage (Correct's Set parent, Break track here, Swap from here) -----

#: the lineage edits made on each labels layer (by unique_id), each one step of the layer's
#: napari history: ``{"ref": the first array of pixels before it that the step keeps (weakly:
#: napari moves the same array between its histories), "before", "after": the lineages,
#: "where": "undo" or "redo", the history it was last seen in}``, oldest first
_LINEAGE_STEPS: dict[str, list[dict]] = {}


def current_lineage(viewer, labels_layer) -> dict[int, int]:
    """The divisions ``{child: parent}`` of ``labels_layer`` as Export writes them
    (:meth:`tessella._widgets._export_write.ExportWrite._lineage`, in its order): those of
    the recorded state the labels on screen are, else those their Tracks layer was drawn
    from, else those of Segment's result behind them, else those kept with the labels
    (:data:`LINEAGE_KEY` in their metadata: the last set by hand, by :func:`put_lineage`,
    kept when the Tracks layer is deleted; a CTC folder opened lazily, which has none),
    else those their recipe records."""
    recorded = lineage_on_screen(labels_layer)
    if recorded is not None:
        return _as_lineage(recorded)
    return _lineage_behind(viewer, labels_layer)


def _lineage_behind(viewer, labels_layer) -> dict[int, int]:
    """:func:`current_lineage` but for the recorded state on screen (not looked for: that
    takes a checksum of the labels)."""
    from .._io_recipe import recipe_lineage
    from ._result_cache import get

    tracks = tracks_layer(viewer, labels_layer)
    if tracks is not None:
        kept = tracks.metadata.get(LINEAGE_KEY)
        if kept is not None:
            return _as_lineage(kept)
        return {int(c): int(p[0]) for c, p in tracks.graph.items() if p}
    kept = kept_lineage(labels_layer)  # (its Tracks layer deleted; a lazy CTC folder)
    if kept is not None:
        return kept
    result = get(labels_layer)
    if result is not None and result.lineage:
        return _as_lineage(result.lineage)
    return _as_lineage(recipe_lineage(labels_layer.metadata.get(RECIPE_KEY)) or {})


#: the Segment result behind each labels layer (by unique_id) when its lineage was last kept
#: with it (:func:`keep_lineage`), weakly; None: none was
_KEPT_OVER: dict[str, object] = {}


def keep_lineage(labels_layer, lineage: dict) -> None:
    """Keep ``lineage`` with ``labels_layer`` (:data:`LINEAGE_KEY` in its metadata), as
    that of its labels from now on: Export writes it when their Tracks layer is deleted,
    rather than that of the Segment result behind them (:func:`kept_lineage`)."""
    import weakref

    from ._result_cache import get

    labels_layer.metadata = {**labels_layer.metadata, LINEAGE_KEY: _as_lineage(lineage)}
    result = get(labels_layer)
    _KEPT_OVER[labels_layer.unique_id] = None if result is None else weakref.ref(result)


def kept_lineage(labels_layer) -> dict[int, int] | None:
    """The lineage kept with ``labels_layer`` (:data:`LINEAGE_KEY` in its metadata: the last
    set by hand, also after its Tracks layer is deleted; a CTC folder opened lazily), where
    it is that of the labels now: kept over the Segment result behind them now (or none).
    A Segment run placed in the same layer since (which keeps its other metadata) makes it
    stale: None then, the new result's lineage is the labels'."""
    kept = None if labels_layer is None else labels_layer.metadata.get(LINEAGE_KEY)
    if not isinstance(kept, dict):
        return None
    from ._result_cache import get

    over = _KEPT_OVER.get(labels_layer.unique_id)
    if get(labels_layer) is not (None if over is None else over()):
        return None
    return _as_lineage(kept)


def put_lineage(viewer, labels_layer, lineage: dict, state: bool = True, draw: bool = True) -> None:
    """Make ``lineage`` that of ``labels_layer``: its Tracks layer's (drawn again; with
    ``draw``, added where it has none: a lineage edit shows what it did; an undo or redo of
    one, ``draw`` False, leaves a Tracks layer the user deleted deleted), kept in the labels'
    metadata (:data:`LINEAGE_KEY`: Export still writes it after the Tracks layer is
    deleted), and, with ``state``, that of the recorded state the labels on screen are (a
    Segment result unedited: Export and an undo back to them read the state's)."""
    from tessella.engine.tracking import tracks_graph

    lineage = _as_lineage(lineage)
    # kept with the labels too: Export still writes it if the Tracks layer is deleted
    keep_lineage(labels_layer, lineage)
    on_screen = state_on_screen(labels_layer) if state else None
    if on_screen is not None:
        states = [
            {**s, "lineage": lineage} if s is on_screen else s
            for s in labels_layer.metadata.get(STATES_KEY, [])
        ]
        labels_layer.metadata = {**labels_layer.metadata, STATES_KEY: states}
    tracks = tracks_layer(viewer, labels_layer)
    if tracks is None:
        if draw and isinstance(labels_layer.data, np.ndarray):
            show_tracks(viewer, labels_layer, labels_layer.data, lineage, linked=True)
        return
    rows = np.asarray(tracks.data)
    _set_tracks(tracks, rows, tracks_graph(rows, lineage), {LINEAGE_KEY: lineage})


def _atom_before(atom) -> np.ndarray | None:
    """The array of pixels before the change that one atom of a napari history step keeps:
    ``data_setitem``'s ``(indices, old values, new values)``, or the old values of napari's
    mask-based paint, fill and polygon (``slice_key``, ``mask``, ``old_values``,
    ``new_value``)."""
    if type(atom) is tuple and len(atom) == 3 and isinstance(atom[1], np.ndarray):
        return atom[1]
    before = getattr(atom, "old_values", None) if hasattr(atom, "slice_key") else None
    return before if isinstance(before, np.ndarray) else None


def _first_before(step) -> np.ndarray | None:
    """The first array of pixels before the change that a napari history step keeps."""
    for atom in step or ():
        before = _atom_before(atom)
        if before is not None:
            return before
    return None


def _keeps(step, array) -> bool:
    """Whether the napari history step ``step`` keeps ``array`` (one of its atoms')."""
    try:
        return any(_atom_before(a) is array for a in step)
    except TypeError:
        return False


def _history_of(labels_layer, array) -> str | None:
    """The history of ``labels_layer`` ("undo", "redo") that holds the step keeping
    ``array``; None where neither does (dropped past napari's 100 steps, or a restarted
    history) or napari's histories cannot be read."""
    inner = getattr(labels_layer, "__wrapped__", labels_layer)
    for which, name in (("undo", "_undo_history"), ("redo", "_redo_history")):
        history = getattr(inner, name, None)
        try:
            steps = list(history or ())
        except TypeError:
            return None
        # (napari reverses a step's atoms as it moves it between the two: any of them)
        if any(_keeps(step, array) for step in steps):
            return which
    return None


def note_lineage_step(labels_layer, step, before: dict, after: dict) -> None:
    """Remember that ``step`` (the napari history step just recorded on ``labels_layer``)
    changed its lineage from ``before`` to ``after``: an undo of it (the panel's Undo, or
    Ctrl+Z on the layer) brings ``before`` back, a redo ``after``
    (:func:`follow_lineage_steps`)."""
    import weakref

    array = _first_before(step)
    if array is None:
        return
    steps = _LINEAGE_STEPS.setdefault(labels_layer.unique_id, [])
    steps.append(
        {
            "ref": weakref.ref(array),
            "before": _as_lineage(before),
            "after": _as_lineage(after),
            "where": "undo",
        }
    )


def follow_lineage_steps(viewer, labels_layer) -> bool:
    """Where lineage edits of ``labels_layer`` moved between its undo and redo histories
    since last looked at, put back the lineage they leave (:func:`put_lineage`): that
    before the first edit still to redo, else that after the last one done. Returns whether
    the lineage changed. Steps napari dropped are forgotten (their lineage stays). A Tracks
    layer the user deleted is not drawn again: the lineage is kept with the labels (and the
    state on screen), where Export reads it."""
    steps = _LINEAGE_STEPS.get(labels_layer.unique_id)
    if not steps:
        return False
    moved = False
    for step in steps:
        array = step["ref"]()
        now = None if array is None else _history_of(labels_layer, array)
        moved |= now is not None and now != step["where"]
        step["where"] = now
    steps[:] = [s for s in steps if s["where"] is not None]
    if not moved:
        return False
    to_redo = [s for s in steps if s["where"] == "redo"]
    lineage = to_redo[0]["before"] if to_redo else steps[-1]["after"]
    put_lineage(viewer, labels_layer, lineage, draw=False)
    return True


def forget_lineage_steps(layer_id) -> None:
    """Let go of the lineage edits of a labels layer that left the viewer."""
    _LINEAGE_STEPS.pop(layer_id, None)
    _KEPT_OVER.pop(layer_id, None)

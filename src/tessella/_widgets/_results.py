"""Segment results kept for the Tune widget, keyed by the labels layer they were placed in.

The Segment widget registers every result it places; the Tune widget re-runs post-processing
on the cached network prediction of the result behind a labels layer. Predictions are large
(several float maps per pixel), so only the :data:`MAX_RESULTS` most recent results are kept,
and a result is dropped as soon as its labels layer leaves the viewer.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Hashable
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
from psygnal import Signal

from .._io import RECIPE_KEY

if TYPE_CHECKING:
    from napari.components import LayerList
    from napari.layers import Layer

    from tessella.engine.pipeline import SegmentResult

__all__ = [
    "MAX_RESULTS",
    "ResultCache",
    "results",
    "register",
    "get",
    "discard",
    "network_map",
    "confidence_map",
    "height_map",
    "companion_layer",
    "is_linked",
    "lineage_on_screen",
    "note_labels_state",
    "note_preview_state",
    "recipe_on_screen",
    "refresh_tracks",
    "follow_edits",
    "follow_tracks",
    "sync_tracks",
    "remember_edited_state",
    "state_on_screen",
    "overlap_labels",
    "placement",
    "show_overlaps",
    "show_tracks",
    "tool_is_writing",
    "tracks_layer",
    "write_labels",
]

MAX_RESULTS = 4
#: a labels change of more pixels than this replaces the data without an undo step (napari
#: keeps 100 steps of about 24-32 bytes per changed pixel: this bounds them near 50-70 MB each)
UNDO_PIXELS = 2**21


_WRITING: set = set()  # unique_ids of layers a tool is writing now (not the user's edits)

#: labels layer metadata: ``[{"fingerprint", "recipe"}, ...]``, the labels each recipe made
#: (Segment's, then each whole-layer Tune update), newest last
STATES_KEY = "tessella_labels_states"
MAX_STATES = 32


#: labels larger than this (bytes) are not fingerprinted: checksumming them on the GUI
#: thread at each update would stall it (CRC-32 runs at about 1.5 GB/s here: 0.17 s for this
#: size); their recipes are then taken as they are: as reproducing them unless they say
#: ``labels_edited`` (:func:`recipe_on_screen`)
MAX_FINGERPRINT_BYTES = 2**28


def _fingerprint(data) -> str | None:
    """A checksum of a labels array in memory with its shape and type (None for lazy data:
    dask or zarr, and for arrays over :data:`MAX_FINGERPRINT_BYTES`). It tells apart the
    few states of one layer (at most :data:`MAX_STATES`), not adversaries: CRC-32 suffices
    and is five times faster than a cryptographic hash."""
    import zlib

    if not isinstance(data, np.ndarray) or data.nbytes > MAX_FINGERPRINT_BYTES:
        return None
    checksum = zlib.crc32(np.ascontiguousarray(data).view(np.uint8).ravel())
    return f"{'x'.join(map(str, data.shape))}-{data.dtype.str}-{checksum:08x}"


def _as_lineage(lineage: dict) -> dict[int, int]:
    """``{child: parent}`` with plain ints (metadata may hold numpy or string keys)."""
    return {int(c): int(p) for c, p in lineage.items()}


def _add_state(layer, state: dict, recipe: dict | None = None) -> None:
    states = [
        s for s in layer.metadata.get(STATES_KEY, []) if s["fingerprint"] != state["fingerprint"]
    ]
    if len(states) >= MAX_STATES:  # the first (Segment's own) stays: an undo reaches it last
        states = [states[0], *states[-(MAX_STATES - 2) :]]
    states = [*states, state]
    metadata = {**layer.metadata, STATES_KEY: states}
    if recipe is not None:
        metadata[RECIPE_KEY] = recipe
    layer.metadata = metadata


def note_labels_state(layer, params: dict, lineage: dict | None = None) -> None:
    """Record that ``layer``'s labels, as they are now, are what ``params`` make (a linked
    movie: with ``lineage``, its divisions): its recipe's parameters become ``params``, and
    an undo back to these labels later finds them again (:func:`recipe_on_screen`)."""
    recipe = {**layer.metadata.get(RECIPE_KEY, {}), "params": params}
    for key in ("labels_edited", "note"):  # (a big layer's: these params make its labels)
        recipe.pop(key, None)
    fingerprint = _fingerprint(layer.data)
    if fingerprint is None:
        layer.metadata = {**layer.metadata, RECIPE_KEY: recipe}
        return
    kept = None if lineage is None else _as_lineage(lineage)
    _add_state(layer, {"fingerprint": fingerprint, "recipe": recipe, "lineage": kept}, recipe)


def note_preview_state(layer, params: dict) -> str | None:
    """Record that ``layer``'s labels, as they are now, are a preview of one frame or slice
    made with ``params`` (Tune) over the labels of its recipe: no recipe reproduces them
    (:func:`recipe_on_screen` says so), but an undo back to them finds ``params`` (the
    state's ``preview``). Labels that are a recorded state already (a preview that changed
    nothing) stay that state. Returns their fingerprint (None: not recorded)."""
    fingerprint = _fingerprint(layer.data)
    recipe = layer.metadata.get(RECIPE_KEY)
    if fingerprint is None or not isinstance(recipe, dict):
        return None
    if not any(s["fingerprint"] == fingerprint for s in layer.metadata.get(STATES_KEY, [])):
        state = {"fingerprint": fingerprint, "recipe": recipe, "lineage": None, "edited": True}
        _add_state(layer, {**state, "preview": params})
    return fingerprint


def remember_edited_state(layer, lineage: dict | None = None) -> None:
    """Before a tool replaces ``layer``'s labels: if they are no recorded state (painted,
    corrected, or partly previewed), remember them as edits of the current recipe, so that
    an undo back to them is known as such (:func:`recipe_on_screen`: not reproducible)."""
    fingerprint = _fingerprint(layer.data)
    recipe = layer.metadata.get(RECIPE_KEY)
    if fingerprint is None or not isinstance(recipe, dict):
        return
    if any(s["fingerprint"] == fingerprint for s in layer.metadata.get(STATES_KEY, [])):
        return
    kept = None if lineage is None else _as_lineage(lineage)
    _add_state(
        layer, {"fingerprint": fingerprint, "recipe": recipe, "lineage": kept, "edited": True}
    )


def state_on_screen(layer) -> dict | None:
    """The recorded state (``fingerprint``, ``recipe``, ``lineage``, ``edited``) the labels on
    screen are, or None."""
    states = layer.metadata.get(STATES_KEY)
    fingerprint = _fingerprint(layer.data) if states else None
    if fingerprint is None:
        return None
    return next((s for s in reversed(states) if s["fingerprint"] == fingerprint), None)


def recipe_on_screen(layer) -> tuple[dict | None, bool]:
    """``(recipe, reproduces)``: the recipe of the labels on screen (the parameters of the
    recorded state they equal, e.g. after Ctrl+Z undid a Tune update), and whether replaying
    it gives these labels. False after hand edits, or a Tune preview of one slice or frame
    not applied to the rest: the recipe then makes the labels before those changes (after an
    undo back to edited labels, the recipe they were edited from). Lazy labels and layers
    without recorded states (over :data:`MAX_FINGERPRINT_BYTES`) are taken as they are,
    unless their recipe says ``labels_edited`` (the reader keeps it there for labels it
    cannot fingerprint: reopened edited labels, or a labels file changed after its recipe)."""
    recipe = layer.metadata.get(RECIPE_KEY)
    if not isinstance(recipe, dict):
        return None, False
    if not layer.metadata.get(STATES_KEY) or not isinstance(layer.data, np.ndarray):
        return recipe, not recipe.get("labels_edited", False)
    state = state_on_screen(layer)
    if state is None:
        return recipe, False
    return state["recipe"], not state.get("edited", False)


def lineage_on_screen(layer) -> dict | None:
    """The divisions recorded with the labels on screen (a linked movie's state), or None
    when the labels are no recorded state or the state has none."""
    state = state_on_screen(layer) if isinstance(layer.data, np.ndarray) else None
    return None if state is None else state.get("lineage")


def tool_is_writing(layer_id) -> bool:
    """Whether the history step being recorded on the layer comes from :func:`write_labels`
    (Tune), not from the user painting or correcting: Segment only protects the latter."""
    return layer_id in _WRITING


def write_labels(layer, labels: np.ndarray, index: tuple = ()) -> bool:
    """Put ``labels`` into ``layer.data[index]`` (``index``: ints for the frame/slice axes,
    ``slice(None)`` for the others) as one step of the layer's undo history, so Ctrl+Z (and
    Correct's Undo) brings back what was there, corrections included.

    Only the changed pixels are recorded. Returns False when the change was too large to
    record (over :data:`UNDO_PIXELS`): the data are then replaced and the history starts over,
    so no stale step can be undone into the new labels.
    """
    data = layer.data
    current = data[index] if index else data
    fits = isinstance(data, np.ndarray) and current.shape == labels.shape
    changed = current != labels if fits else None
    count = int(np.count_nonzero(changed)) if fits else 0
    if not fits or count > UNDO_PIXELS:  # a new array: napari starts a new history
        if index:
            whole = np.array(data)
            whole[index] = labels
            labels = whole
        with writing(layer):
            layer.data = labels
        return False
    if count == 0:
        return True
    where = iter(np.nonzero(changed))
    full = index or (slice(None),) * data.ndim
    coords = tuple(
        np.full(count, i, np.intp) if isinstance(i, int | np.integer) else next(where) for i in full
    )
    with writing(layer), layer.block_history():
        layer.data_setitem(coords, labels[changed].astype(data.dtype, copy=False))
    return True


@contextmanager
def writing(layer):
    """Mark the changes made to ``layer`` inside as a tool's, not the user's edits."""
    _WRITING.add(layer.unique_id)
    try:
        yield
    finally:
        _WRITING.discard(layer.unique_id)


def _key(layer: Layer | Hashable) -> Hashable:
    """A layer's ``unique_id`` (a UUID in recent napari), or the id itself."""
    return getattr(layer, "unique_id", layer)


class ResultCache:
    """``{labels layer unique_id: SegmentResult}``, most recent last, at most ``max_results``."""

    #: emitted with a layer id whenever the result for that layer is added, replaced or dropped
    changed = Signal(object)

    def __init__(self, max_results: int = MAX_RESULTS):
        self.max_results = max_results
        self._results: OrderedDict[Hashable, SegmentResult] = OrderedDict()

    def register(
        self, layer: Layer, result: SegmentResult, layers: LayerList | None = None
    ) -> None:
        """Keep ``result`` for ``layer``; with ``layers``, drop it when the layer is removed."""
        key = _key(layer)
        self._results.pop(key, None)
        self._results[key] = result
        if layers is not None:
            layers.events.removed.connect(self._on_layer_removed)  # connecting twice is a no-op
        while len(self._results) > self.max_results:
            oldest = next(iter(self._results))
            del self._results[oldest]
            self.changed.emit(oldest)
        self.changed.emit(key)

    def get(self, layer: Layer | Hashable) -> SegmentResult | None:
        """The result placed in ``layer`` (a layer or its ``unique_id``), or None."""
        return self._results.get(_key(layer))

    def discard(self, layer: Layer | Hashable) -> None:
        """Forget the result for ``layer`` if there is one."""
        key = _key(layer)
        if self._results.pop(key, None) is not None:
            self.changed.emit(key)

    def clear(self) -> None:
        for key in list(self._results):
            self.discard(key)

    def __contains__(self, layer: Layer | Hashable) -> bool:
        return _key(layer) in self._results

    def __len__(self) -> int:
        return len(self._results)

    def _on_layer_removed(self, event) -> None:
        self.discard(event.value)


#: the cache shared by every widget of the session
results = ResultCache()
register = results.register
get = results.get
discard = results.discard


def network_map(result: SegmentResult, key: str, shape=None) -> np.ndarray | None:
    """The single-channel network output ``key`` of ``result``, stacked over time like its
    labels; None when the method has no such output (or its shape is not ``shape``)."""
    maps = [p.arrays[key][0] for p in result.predictions if key in p.arrays]
    if not maps or len(maps) != len(result.predictions):
        return None
    if any(p.arrays[key].shape[0] != 1 for p in result.predictions):
        return None
    stacked = maps[0] if maps[0].ndim == result.labels.ndim else np.stack(maps)
    return stacked if shape is None or stacked.shape == tuple(shape) else None


def confidence_map(result: SegmentResult, shape=None) -> np.ndarray | None:
    """How sure the network is, per pixel: the seed map (embedding) or the foreground
    probability (boundary, semantic)."""
    for key in ("seed", "foreground"):
        found = network_map(result, key, shape)
        if found is not None:
            return found
    return None


def height_map(result: SegmentResult, shape=None) -> np.ndarray | None:
    """High inside objects and low between them, for a seeded watershed split: the seed map
    (or a time-lapse model's centre map), one minus the boundary probability, or the
    foreground probability."""
    for key in ("seed", "centre"):
        high_inside = network_map(result, key, shape)
        if high_inside is not None:
            return high_inside
    boundary = network_map(result, "boundary", shape)
    if boundary is not None:
        return 1.0 - boundary
    return network_map(result, "foreground", shape)


#: (labels layer unique_id, kind) -> the unique_id of a layer shown beside it ("tracks",
#: "overlaps"); a companion whose labels layer left the viewer is taken over by the next labels
#: layer of its name (:func:`_orphan`)
_COMPANIONS: dict[tuple, Hashable] = {}


def companion_layer(viewer, labels_layer: Layer, kind: str):
    """The ``kind`` layer placed beside ``labels_layer``, if it is still in the viewer."""
    wanted = _COMPANIONS.get((_key(labels_layer), kind))
    return next((layer for layer in viewer.layers if layer.unique_id == wanted), None)


def tracks_layer(viewer, labels_layer: Layer):
    """The Tracks layer placed for ``labels_layer``'s tracks, if it is still in the viewer."""
    return companion_layer(viewer, labels_layer, "tracks")


def _orphan(viewer, labels_layer: Layer, kind: str, name: str):
    """The ``kind`` layer ``name`` left behind by a labels layer that has left the viewer
    (a movie's labels removed, then segmented again), now ``labels_layer``'s; else None.

    The companion stays when its labels layer is removed: removing layers one after another
    crashes napari under software OpenGL (Mesa llvmpipe, as under xvfb) on a later redraw,
    as removing two labels layers by hand does. The next result takes it over instead of
    adding a second one beside it."""
    present = {layer.unique_id: layer for layer in viewer.layers}
    for (owner, owned_kind), companion_id in list(_COMPANIONS.items()):
        layer = present.get(companion_id)
        if owned_kind != kind or owner in present or layer is None:
            continue
        if layer.name == name and layer.ndim == labels_layer.ndim:
            del _COMPANIONS[(owner, owned_kind)]
            _COMPANIONS[(_key(labels_layer), kind)] = companion_id
            layers = viewer.layers
            if labels_layer in layers and layers.index(layer) < layers.index(labels_layer):
                # drawn above its labels again, as where it was added
                layers.move(layers.index(layer), layers.index(labels_layer) + 1)
            return layer
    return None


#: layer lists that hide the companions of a labels layer that leaves them
_HIDING: weakref.WeakSet = weakref.WeakSet()


def _hide_companions(viewer) -> None:
    """Once per viewer: when a labels layer leaves it, hide its companion layers. They stay
    (see :func:`_orphan`), but tracks or overlaps of labels that are gone would mislead; the
    next result of the same name takes them over and shows them again."""
    layers = viewer.layers
    if layers in _HIDING:
        return
    _HIDING.add(layers)

    def on_removed(event) -> None:
        owner = getattr(event.value, "unique_id", None)
        present = {layer.unique_id: layer for layer in layers}
        for (key, _kind), companion_id in list(_COMPANIONS.items()):
            companion = present.get(companion_id)
            if key == owner and companion is not None:
                companion.visible = False

    layers.events.removed.connect(on_removed)


def placement(layer) -> dict:
    """Where ``layer`` lies on the canvas, for a layer drawn over it: its scale, translate,
    units and axis labels (a companion with napari's default "pixel" units beside labels in
    µm makes napari drop the units of every layer, the scale bar's included)."""
    return {
        "scale": layer.scale,
        "translate": layer.translate,
        "units": layer.units,
        "axis_labels": layer.axis_labels,
    }


def _place(layer, labels_layer) -> None:
    """Put a companion ``layer`` where ``labels_layer`` lies now (labels of a run on an image
    of another pixel size: the previous companion moves with them)."""
    if layer.ndim != labels_layer.ndim:  # (napari refuses a scale of another length)
        return
    for name, value in placement(labels_layer).items():
        # only what differs: napari redraws the layer for a scale or translate set to the
        # value it has (about 10 ms for a 520x696 layer, at every Segment run or tracks update)
        if tuple(getattr(layer, name)) != tuple(value):
            setattr(layer, name, value)


def _place_companion(viewer, labels_layer, kind, update, add):
    """Update the previous ``kind`` layer of ``labels_layer`` (or the one a removed labels
    layer of its name left behind, shown again) or add one; None removes it."""
    _hide_companions(viewer)
    layer = companion_layer(viewer, labels_layer, kind)
    orphan = layer is None
    if orphan:
        layer = _orphan(viewer, labels_layer, kind, f"{labels_layer.name} {kind}")
    if update is None:
        if layer is not None:
            viewer.layers.remove(layer)
        return None
    if layer is not None:
        update(layer)
        if orphan:  # hidden when its labels left; a layer the user hid stays hidden
            layer.visible = True
        return layer
    layer = add()
    _COMPANIONS[(_key(labels_layer), kind)] = layer.unique_id
    return layer


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
    Returns the layer, or None when there is nothing to draw.

    Labels that are not linked (``linked`` false; None: as the recipe of the labels on
    screen says, its ``link``) have no tracks: the Tracks layer beside them is drawn (one
    point per object) but hidden, and none is added; linked labels show it again."""
    from tessella.engine.tracking import napari_tracks

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
        current = labels_layer.data
        if not isinstance(current, np.ndarray) or current.nbytes <= FOLLOW_SCAN_BYTES:
            look()
            return
        look(None if stepped[0] is None else stepped[0] | pending | frame_on_screen())
        pending.clear()

    def on_paint(event) -> None:  # a new step of the undo history
        value = getattr(event, "value", None)
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


def overlap_labels(method, prediction, params, labels: np.ndarray) -> np.ndarray:
    """The objects a label image hides in part (methods whose objects overlap, e.g. crossing
    worms), each painted whole with its ID in ``labels``; zeros when nothing overlaps."""
    out = np.zeros(labels.shape, labels.dtype)
    if not hasattr(method, "instances"):
        return out
    stack = method.instances(prediction, params)
    for k in np.argsort([int(m.sum()) for m in stack], kind="stable"):
        hidden = stack[k] & (labels != k + 1)
        if hidden.any():
            out[stack[k] & (out == 0)] = k + 1
    return out


def show_overlaps(viewer, labels_layer: Layer, data: np.ndarray):
    """Show ``data`` (from :func:`overlap_labels`) in an "overlaps" labels layer beside
    ``labels_layer`` (same IDs, so the same colours); removed when nothing overlaps."""

    def update(layer):
        layer.data = data
        _place(layer, labels_layer)

    def add():
        return viewer.add_labels(
            data, name=f"{labels_layer.name} overlaps", opacity=0.6, **placement(labels_layer)
        )

    return _place_companion(viewer, labels_layer, "overlaps", update if data.any() else None, add)

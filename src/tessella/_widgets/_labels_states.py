"""The labels states of a labels layer: the recipe that made each state of its labels (found
again after an undo), and the labels a tool writes (not the user's edits). No Qt: the reader
records the state of reopened labels with it (:mod:`tessella._io`)."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .._io import RECIPE_KEY

__all__ = [
    "UNDO_BYTES",
    "UNDO_PIXELS",
    "UNDO_HISTORY_BYTES",
    "STATES_KEY",
    "MAX_STATES",
    "MAX_FINGERPRINT_BYTES",
    "lineage_on_screen",
    "note_labels_state",
    "note_preview_state",
    "recipe_on_screen",
    "remember_edited_state",
    "state_on_screen",
    "tool_is_writing",
    "undo_step_bytes",
    "write_labels",
    "writing",
]

#: a labels change whose undo step would take more memory than this replaces the data without
#: one: napari's step of ``data_setitem`` keeps, per changed pixel, an index per axis (8 bytes
#: each) and the old and new values (:func:`undo_step_bytes`: 32 bytes for int32 labels of a
#: volume, 8.4 million pixels in 256 MiB; a 10x512x512 stack changed throughout keeps 80 MiB,
#: measured with tracemalloc, its peak while written about twice that, and takes ~0.9 s)
UNDO_BYTES = 2**28
#: the most memory a labels layer's undo history keeps after Tessella wrote a step into it:
#: the oldest steps beyond it are dropped (napari keeps up to 100 steps whatever their size)
UNDO_HISTORY_BYTES = 2**30
#: (derived, for reference only: the pixels of a volume's int32 labels an undo step holds
#: within UNDO_BYTES; patch UNDO_BYTES, which write_labels reads. _results re-exports it.)
UNDO_PIXELS = UNDO_BYTES // 32


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
    """A checksum of a labels array in memory with its shape, of its values, not its type
    (:func:`_values_checksum`); None for lazy data (dask or zarr) and for arrays over
    :data:`MAX_FINGERPRINT_BYTES`. It tells apart the few states of one layer (at most
    :data:`MAX_STATES`), not adversaries: CRC-32 suffices and is five times faster than a
    cryptographic hash."""
    if not isinstance(data, np.ndarray) or data.nbytes > MAX_FINGERPRINT_BYTES:
        return None
    return f"{'x'.join(map(str, data.shape))}-{_values_checksum(data):08x}"


def _values_checksum(labels: np.ndarray) -> int:
    """The CRC-32 of the label values of ``labels``, whatever their data type: the same
    labels in another type (napari's *Convert datatype*, a layer widened for IDs its type
    could not hold) are the same state. The values are checksummed in the smallest integer
    type that holds their range (about as fast as checksumming them as they are: the
    range takes two quick passes, and the copy is no larger than the array)."""
    import zlib

    values = labels
    if labels.size and labels.dtype.kind in "biu":
        low, high = int(labels.min()), int(labels.max())
        values = labels.astype(np.promote_types(_smallest(low), _smallest(high)), copy=False)
    return zlib.crc32(np.ascontiguousarray(values).view(np.uint8).ravel())


def _smallest(value: int) -> np.dtype:
    """The smallest integer type that holds ``value`` (unsigned for a value of 0 or more)."""
    if value >= 0:
        return next(np.dtype(t) for t in "BHILQ" if value <= np.iinfo(t).max)
    return next(np.dtype(t) for t in "bhilq" if value >= np.iinfo(t).min)


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
    """Before a tool replaces ``layer``'s labels (Tune, Correct's Relabel): if they are no
    recorded state (painted, corrected, or partly previewed), remember them as edits of the
    current recipe with their ``lineage``, so that an undo back to them is known as such
    (:func:`recipe_on_screen`: not reproducible) and brings their divisions back
    (:func:`lineage_on_screen`). Labels without a recipe (a movie opened from a plain TIFF,
    labels added in the console) are remembered too where they have a lineage (their
    ``recipe`` None): an undo of a Relabel finds its divisions under the old IDs again."""
    fingerprint = _fingerprint(layer.data)
    recipe = layer.metadata.get(RECIPE_KEY)
    if not isinstance(recipe, dict):
        recipe = None
    if fingerprint is None or (recipe is None and lineage is None):
        return
    if any(s["fingerprint"] == fingerprint for s in layer.metadata.get(STATES_KEY, [])):
        return
    kept = None if lineage is None else _as_lineage(lineage)
    _add_state(
        layer, {"fingerprint": fingerprint, "recipe": recipe, "lineage": kept, "edited": True}
    )


def state_on_screen(layer) -> dict | None:
    """The recorded state (``fingerprint``, ``recipe``, ``lineage``, ``edited``) the labels on
    screen are, or None. (``recipe`` is None for edited labels without a recipe, remembered
    for their lineage: :func:`remember_edited_state`.)"""
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
    if state is None or state["recipe"] is None:  # (None: remembered without a recipe)
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


def write_labels(layer, labels: np.ndarray, index: tuple = ()) -> str | None:
    """Put ``labels`` into ``layer.data[index]`` (``index``: ints for the frame/slice axes,
    ``slice(None)`` for the others) as one step of the layer's undo history, so Ctrl+Z (and
    Correct's Undo) brings back what was there, corrections included.

    Only the changed pixels are recorded. Returns None then, or why the data were replaced
    instead and the history started over (so no stale step can be undone into the new
    labels): the change was too large to record (its step over :data:`UNDO_BYTES`), or the labels
    hold IDs the layer's data type cannot (a layer the user converted to uint8, and more
    than 255 objects): the layer is then widened to a type that holds them (the labels'
    own, as Segment made them), never cast, which would wrap ID 256 around to 0 and give
    other objects' IDs to the rest.
    """
    data = layer.data
    current = data[index] if index else data
    fits = isinstance(data, np.ndarray) and current.shape == labels.shape
    too_narrow = _too_narrow(np.dtype(data.dtype), labels)
    changed = current != labels if fits and too_narrow is None else None
    count = int(np.count_nonzero(changed)) if changed is not None else 0
    too_large = undo_step_bytes(count, data.ndim, data.dtype) > UNDO_BYTES
    if changed is None or too_large:  # a new array, with a new history
        why = "too large a change to undo" if fits else "data not in memory or reshaped"
        if index:
            whole = np.array(data, _wide_enough(data.dtype, labels.dtype) if too_narrow else None)
            whole[index] = labels
            labels = whole
        if too_narrow is not None:
            why = f"{too_narrow} do not fit in {data.dtype}, so the layer is now {labels.dtype}"
        with writing(layer):
            layer.data = labels
        _restart_history(layer)
        return why
    if count == 0:
        return None
    where = iter(np.nonzero(changed))
    full = index or (slice(None),) * data.ndim
    coords = tuple(
        np.full(count, i, np.intp) if isinstance(i, int | np.integer) else next(where) for i in full
    )
    with writing(layer), layer.block_history():
        layer.data_setitem(coords, labels[changed].astype(data.dtype, copy=False))
    _trim_history(layer)
    return None


def undo_step_bytes(count: int, ndim: int, dtype) -> int:
    """The memory napari's undo step of ``data_setitem`` keeps for ``count`` changed pixels
    of an ``ndim``-D labels array of ``dtype``: an index (intp) per axis, the old and the new
    values."""
    return count * (ndim * np.dtype(np.intp).itemsize + 2 * np.dtype(dtype).itemsize)


def _history_item_bytes(item) -> int:
    """The memory of the arrays one step of napari's labels history holds (its atoms:
    ``(indices, before, after)`` tuples, or masked paint atoms)."""
    total = 0
    for atom in item:
        parts = list(atom) if isinstance(atom, tuple) else list(vars(atom).values())
        for part in parts:
            for array in part if isinstance(part, tuple) else (part,):
                total += getattr(array, "nbytes", 0) if isinstance(array, np.ndarray) else 0
    return total


def _trim_history(layer) -> None:
    """Drop the oldest steps of ``layer``'s undo history while it holds more than
    :data:`UNDO_HISTORY_BYTES` (the newest step is always kept), so that a few large Tune
    updates of a volume do not pile up gigabytes; a napari without the history: left."""
    layer = getattr(layer, "__wrapped__", layer)  # a plugin's proxy warns on private names
    history = getattr(layer, "_undo_history", None)
    if history is None or len(history) < 2:
        return
    sizes = [_history_item_bytes(item) for item in history]
    total = sum(sizes)
    for size in sizes[:-1]:
        if total <= UNDO_HISTORY_BYTES:
            break
        history.popleft()
        total -= size


def _restart_history(layer) -> None:
    """Start ``layer``'s undo history over after its data were replaced: napari (0.9) keeps
    it, and Ctrl+Z would then write the pixels of a step recorded on the old array into the
    new one (other objects' IDs, or indices outside a reshaped array)."""
    layer = getattr(layer, "__wrapped__", layer)  # a plugin's proxy warns on private names
    reset = getattr(layer, "_reset_history", None)  # (private; a napari without it: kept)
    if callable(reset):
        reset()


def restart_history_on_new_data(layer) -> None:
    """Restart ``layer``'s undo history (:func:`_restart_history`) whenever its data are
    replaced (``layer.data = ...``, by Tessella or by the user in the console), which napari
    announces as ``events.data``; edits (painting, ``data_setitem``, undo) write into the
    array and do not emit it, so they keep their history. Connecting twice connects once."""
    layer.events.data.connect(_on_new_data)


def _on_new_data(event) -> None:
    """(The callback finds the layer in the event: a plugin sees layers through proxies made
    for each call, which a callback must not keep.)"""
    layer = getattr(event, "source", None)
    if layer is not None:
        _restart_history(layer)


def _too_narrow(dtype: np.dtype, labels: np.ndarray) -> str | None:
    """Which IDs of ``labels`` an array of ``dtype`` cannot hold ("IDs up to 461"), or None
    when it holds them all (labels of a type it holds are not looked at: no extra pass)."""
    if np.can_cast(labels.dtype, dtype) or labels.size == 0:
        return None
    info = np.iinfo(dtype)
    low, high = int(labels.min()), int(labels.max())
    if high > info.max:
        return f"IDs up to {high}"
    if low < info.min:
        return f"IDs down to {low}"
    return None


def _wide_enough(dtype: np.dtype, labels_dtype: np.dtype) -> np.dtype:
    """A type that holds the values of both types: the labels' own for a narrower layer."""
    wide = np.promote_types(dtype, labels_dtype)
    return wide if wide.kind in "iu" else np.dtype(np.int64)  # (uint64 and int64: float)


@contextmanager
def writing(layer):
    """Mark the changes made to ``layer`` inside as a tool's, not the user's edits."""
    _WRITING.add(layer.unique_id)
    try:
        yield
    finally:
        _WRITING.discard(layer.unique_id)

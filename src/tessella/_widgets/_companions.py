"""The layers shown beside a labels layer (its tracks, its overlaps): found again, taken over
from labels that left the viewer, hidden with them, and placed where the labels lie."""

from __future__ import annotations

import weakref
from collections.abc import Hashable
from typing import TYPE_CHECKING

import numpy as np

from ._labels_states import _restart_history
from ._result_cache import _key

if TYPE_CHECKING:
    from napari.layers import Layer

__all__ = ["companion_layer", "overlap_labels", "placement", "show_overlaps", "tracks_layer"]


#: (labels layer unique_id, kind) -> the unique_id of a layer shown beside it ("tracks",
#: "overlaps"); a companion whose labels layer left the viewer is taken over by the next labels
#: layer of its name (:func:`_orphan`)
_COMPANIONS: dict[tuple, Hashable] = {}


def companion_layer(viewer, labels_layer: Layer, kind: str):
    """The ``kind`` layer placed beside ``labels_layer``, if it is still in the viewer (or
    the one the reader opened beside it: :func:`_opened_beside`)."""
    wanted = _COMPANIONS.get((_key(labels_layer), kind))
    found = next((layer for layer in viewer.layers if layer.unique_id == wanted), None)
    return found if found is not None else _opened_beside(viewer, labels_layer, kind)


def _opened_beside(viewer, labels_layer: Layer, kind: str):
    """The ``kind`` layer the reader opened with ``labels_layer`` (a reopened mask stack's
    overlaps: both carry one token, :data:`~tessella._io.COMPANIONS_KEY`), now placed
    beside it as Segment's are (hidden when the labels leave); else None."""
    from .._io import COMPANION_OF_KEY, COMPANIONS_KEY

    tokens = getattr(labels_layer, "metadata", {}).get(COMPANIONS_KEY)
    token = tokens.get(kind) if isinstance(tokens, dict) else None
    if token is None:
        return None
    taken = set(_COMPANIONS.values())
    for layer in viewer.layers:
        if layer.metadata.get(COMPANION_OF_KEY) == token and layer.unique_id not in taken:
            _hide_companions(viewer)
            _COMPANIONS[(_key(labels_layer), kind)] = layer.unique_id
            return layer
    return None


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
    layer of its name left behind, shown again) or add one (``add`` None: none is added
    where there is none yet); ``update`` None removes it."""
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
    if add is None:
        return None
    layer = add()
    _COMPANIONS[(_key(labels_layer), kind)] = layer.unique_id
    return layer


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
    ``labels_layer`` (same IDs, so the same colours). Added when something overlaps; once
    there it stays when nothing does, empty (all zeros), so the colours, opacity and
    visibility the user gave it survive and it fills again when objects overlap again (it
    was removed, blanking napari's layer controls where it was the selected layer); Export
    and Evaluate find no hidden part in it, as where there is none. It then follows the
    edits of the labels (:func:`._object_stack.follow_overlaps`)."""

    def update(layer):
        layer.data = data
        _restart_history(layer)  # (napari keeps it: Ctrl+Z would write old steps)
        _place(layer, labels_layer)

    def add():
        return viewer.add_labels(
            data, name=f"{labels_layer.name} overlaps", opacity=0.6, **placement(labels_layer)
        )

    layer = _place_companion(viewer, labels_layer, "overlaps", update, add if data.any() else None)
    if layer is not None:  # redrawn after each edit of the labels (Correct, brush, Ctrl+Z)
        from ._object_stack import follow_overlaps

        follow_overlaps(viewer, labels_layer)
    return layer

"""The Tracks layer the reader opens beside time-lapse labels whose divisions are kept with
them: a Cell Tracking Challenge folder's track file (:func:`tessella._io_folder._with_ctc_tracks`)
or the recipe written beside a labels file (:func:`with_recorded_tracks`: Export's TIFF or
zarr of a linked movie, napari's File > Save of one). Part of :mod:`tessella._io`. No Qt here
(but a watch for the layers napari adds, where a viewer is open: :func:`follow_when_added`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["add_tracks_layer", "follow_when_added", "recorded_lineage", "with_recorded_tracks"]


def add_tracks_layer(
    layers: list[tuple], at: int, metadata: dict, tracks: np.ndarray, lineage: dict, path: str
) -> None:
    """Put a Tracks layer of ``tracks`` (rows ``(track, t, ...)`` of napari's Tracks layer)
    and ``lineage`` (``{child: parent}``: graph edges) beside the labels ``layers[at]``, in
    place: the labels get ``metadata`` with a token the Tracks layer carries too
    (:data:`~tessella._io.COMPANIONS_KEY`, :data:`~tessella._io.COMPANION_OF_KEY`), so the
    widgets take it as theirs, placed as they are (scale, translate, units, axis names),
    named "<labels> tracks", its lineage kept in full in its metadata
    (:data:`~tessella._widgets._tracks_layer.LINEAGE_KEY`, which Correct and Export read)
    and ``path`` (the file its divisions were read from). Once a viewer adds it, it follows
    the labels' edits, undo and redo (:func:`follow_when_added`). Without rows, only the
    labels' ``metadata`` is put (no empty Tracks layer)."""
    import uuid

    from tessella._widgets._tracks_layer import LINEAGE_KEY
    from tessella.engine.tracking import tracks_graph

    from ._io import COMPANION_OF_KEY, COMPANIONS_KEY

    data, kwargs, kind = layers[at]
    if not len(tracks):
        layers[at] = (data, {**kwargs, "metadata": metadata}, kind)
        return
    token = uuid.uuid4().hex  # pairs the two layers (_companions.companion_layer)
    companions = metadata.get(COMPANIONS_KEY)
    companions = dict(companions) if isinstance(companions, dict) else {}
    metadata = {**metadata, COMPANIONS_KEY: {**companions, "tracks": token}}
    layers[at] = (data, {**kwargs, "metadata": metadata}, kind)
    placed = {
        key: kwargs[key] for key in ("scale", "translate", "units", "axis_labels") if key in kwargs
    }
    tracks_kwargs = {
        **placed,
        "name": f"{kwargs['name']} tracks",
        "graph": tracks_graph(tracks, lineage),
        "tail_length": 10,
        "metadata": {LINEAGE_KEY: dict(lineage), COMPANION_OF_KEY: token, "path": path},
    }
    layers.insert(at + 1, (tracks, tracks_kwargs, "tracks"))
    follow_when_added(token)


def recorded_lineage(kwargs: dict) -> dict[int, int] | None:
    """The divisions ``{child: parent}`` the reader read with the labels of layer ``kwargs``
    (a layer data tuple's keywords) from the recipe beside them, where the labels are still
    what the recipe's digest says (their recorded state, :data:`~tessella._widgets.
    _labels_states.STATES_KEY`, holds a lineage) and its parameters link frames
    (:func:`~tessella._widgets._tracks_layer.is_linked`); else None (labels that are no
    time-lapse result, changed since the recipe was written, or made with ``link`` off).

    >>> state = {"fingerprint": "x", "recipe": {"model": "cells2dt"}, "lineage": {8: 3}}
    >>> recorded_lineage({"metadata": {"tessella_labels_states": [state]}})
    {8: 3}
    >>> recorded_lineage({"metadata": {"tessella_labels_states": [{**state, "lineage": None}]}})
    """
    from tessella._widgets._labels_states import STATES_KEY, _as_lineage
    from tessella._widgets._tracks_layer import is_linked

    states = kwargs.get("metadata", {}).get(STATES_KEY)
    if not isinstance(states, list) or len(states) != 1 or not isinstance(states[0], dict):
        return None
    state = states[0]
    lineage, recipe = state.get("lineage"), state.get("recipe")
    if not isinstance(lineage, dict) or not is_linked(recipe):
        return None
    return _as_lineage(lineage)


def with_recorded_tracks(layers: list[tuple]) -> list[tuple]:
    """``layers`` (what the reader read from one file or folder), each time-lapse labels
    layer in memory whose divisions were read from the recipe beside it
    (:func:`recorded_lineage`: a linked movie Export or File > Save wrote, or a ``tessella
    segment`` run of a time-lapse model) with a Tracks layer beside it, as Segment draws one
    beside its result and the reader beside a CTC folder's masks (one track per label, at
    its objects' centroids, in every frame; divisions as graph edges): reopened, the
    lineage is seen, followed through Correct's edits, and written back by Export. Labels
    that already have one (a CTC folder) and labels on disk (opened lazily: every frame
    would be read) are left as they are; their divisions are kept with them all the same.
    """
    from tessella.engine.tracking import napari_tracks

    from ._io import COMPANIONS_KEY

    for at in range(len(layers) - 1, -1, -1):
        data, kwargs, kind = layers[at]
        if kind != "labels":  # (an image split by channel has a list of metadata)
            continue
        metadata: dict[str, Any] = dict(kwargs.get("metadata", {}))
        companions = metadata.get(COMPANIONS_KEY)
        if (
            not isinstance(data, np.ndarray)
            or data.ndim < 3
            or not str(metadata.get("axes", "")).startswith("T")
            or (isinstance(companions, dict) and "tracks" in companions)
        ):
            continue
        lineage = recorded_lineage(kwargs)
        if lineage is None:
            continue
        tracks, _graph = napari_tracks(data, lineage)
        add_tracks_layer(layers, at, metadata, tracks, lineage, str(metadata.get("path", "")))
    return layers


def follow_when_added(token: str) -> None:
    """Once a viewer adds the Tracks layer of ``token`` (:func:`add_tracks_layer`) beside its
    labels, make it theirs as Segment's is: redrawn after each edit, undo and redo of the
    labels (:func:`~tessella._widgets._tracks_layer.follow_edits`). As
    :func:`~tessella._io._not_editable_when_added` watches: every open viewer, until the
    layer is added or control returns to Qt's event loop; nothing without a viewer."""
    from ._io import COMPANION_OF_KEY, COMPANIONS_KEY, _watch_insertions

    def watch_for(viewer, stop):
        def added(event) -> None:
            if getattr(event.value, "metadata", {}).get(COMPANION_OF_KEY) != token:
                return
            stop()
            from tessella._widgets._tracks_layer import follow_edits, tracks_layer

            for layer in viewer.layers:
                tokens = getattr(layer, "metadata", {}).get(COMPANIONS_KEY)
                if isinstance(tokens, dict) and tokens.get("tracks") == token:
                    if tracks_layer(viewer, layer) is event.value:  # (now its companion)
                        follow_edits(viewer, layer)
                    return

        return added

    _watch_insertions(watch_for)

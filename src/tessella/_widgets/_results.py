"""Segment results kept for the Tune widget, keyed by the labels layer they were placed in.

The Segment widget registers every result it places; the Tune widget re-runs post-processing
on the cached network prediction of the result behind a labels layer. Predictions are large
(several float maps per pixel), so only the :data:`MAX_RESULTS` most recent results are kept,
and a result is dropped as soon as its labels layer leaves the viewer.
"""

from __future__ import annotations

# each name lives in one private module, which reads its constants there: patch them there
# (patching one here changes nothing)
from ._companions import companion_layer, overlap_labels, placement, show_overlaps, tracks_layer
from ._labels_states import MAX_FINGERPRINT_BYTES as MAX_FINGERPRINT_BYTES
from ._labels_states import MAX_STATES as MAX_STATES
from ._labels_states import STATES_KEY as STATES_KEY
from ._labels_states import UNDO_PIXELS as UNDO_PIXELS
from ._labels_states import _fingerprint as _fingerprint  # (the reader's, in tessella._io)
from ._labels_states import (
    lineage_on_screen,
    note_labels_state,
    note_preview_state,
    recipe_on_screen,
    remember_edited_state,
    state_on_screen,
    tool_is_writing,
    write_labels,
)
from ._labels_states import writing as writing
from ._result_cache import (
    MAX_RESULTS,
    ResultCache,
    confidence_map,
    discard,
    get,
    height_map,
    network_map,
    register,
    results,
)
from ._result_cache import _key as _key
from ._tracks_layer import _FOLLOWERS as _FOLLOWERS
from ._tracks_layer import FOLLOW_SCAN_BYTES as FOLLOW_SCAN_BYTES
from ._tracks_layer import LINEAGE_KEY as LINEAGE_KEY
from ._tracks_layer import UNLINKED_KEY as UNLINKED_KEY
from ._tracks_layer import (
    follow_edits,
    follow_tracks,
    is_linked,
    refresh_tracks,
    show_tracks,
    sync_tracks,
)

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

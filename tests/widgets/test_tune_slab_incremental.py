"""Review r4 of session 31, finding 2: Tune's slice preview of a volume grew its slab one
slice each way and joined the pieces of the whole slab again after each slice (a graph of
every 2D piece of every slice made so far, then connected_components): quadratic in the
slab's depth (31 s on the whole 100x768x1024 Lucchi++ volume at threshold 0.11, where
*Apply to all* took 6 s). Each slice added now joins only its own pieces and those of the
end slice it touches. And a newer preview stops a superseded one between two slices."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import scipy.sparse.csgraph
from scipy import ndimage

from tessella._widgets._tune_frames import _postprocess_frames, _Request, _Slab, _slice_of
from tessella._widgets._tune_running import TuneRunning
from tessella.engine.methods import semantic
from tessella.engine.pipeline import Prediction


def _tall_volume(depth: int = 60):
    """A column through every slice, with 40 specks on each slice around it."""
    probability = np.zeros((depth, 40, 40), np.float32)
    probability[:, 18:22, 18:22] = 0.9
    probability[:, 2:38:4, 2:38:8] = 0.9  # (specks, 8 neighbours apart: one piece each)
    probability[:, 2:38:8, 30:38:4] = 0.9
    return Prediction({"foreground": probability[None]}, "ZYX")


def test_each_slice_added_joins_only_its_pieces_and_the_end_slices(monkeypatch):
    sizes = []
    components = scipy.sparse.csgraph.connected_components

    def counted(graph, *args, **kwargs):
        sizes.append(graph.shape[0])
        return components(graph, *args, **kwargs)

    monkeypatch.setattr(scipy.sparse.csgraph, "connected_components", counted)
    prediction = _tall_volume()
    params = semantic.Params(min_size=10**9, radius=0)  # the column: undecided to the ends
    _Slab.made.clear()
    frames = _postprocess_frames(semantic, [prediction], params, (0,), 30, False, False, True, {})
    preview = next(iter(frames))[1]
    assert preview.max() == 0  # (as Apply to all: nothing is that big)
    slab = next(iter(_Slab.made.values()))[1]
    assert (slab.lo, slab.hi) == (0, 59)
    mask = semantic.foreground_mask(_slice_of(prediction, 0), params)
    per_slice = ndimage.label(mask, np.ones((3, 3), bool))[1]  # the column and the specks
    assert per_slice > 30
    # two slices' pieces and the pieces of the pair; it was every piece of the slab so far
    assert max(sizes) <= 5 * per_slice
    assert len(sizes) == 59  # one a slice added


def test_a_superseded_slice_preview_stops_growing_its_slab():
    prediction = _tall_volume()
    params = semantic.Params(min_size=10**9, radius=0)
    _Slab.made.clear()
    notes = {"quit": True}  # as a newer preview of the layer sets it
    frames = _postprocess_frames(
        semantic, [prediction], params, (0,), 30, False, False, True, notes
    )
    next(iter(frames))
    slab = next(iter(_Slab.made.values()))[1]
    assert (slab.lo, slab.hi) == (30, 30)  # no slice made but the one previewed


def test_superseding_a_request_tells_its_worker():
    request = _Request("layer", "ZYX", 1, None, (0,), False, plane=3)
    widget = SimpleNamespace(
        _due={}, _requests={"layer": request}, _progress={"layer": 0}, _worker_of={}
    )
    TuneRunning._supersede(widget, "layer")
    assert request.notes.get("quit") is True and not widget._requests

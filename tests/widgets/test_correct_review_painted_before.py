"""Strokes painted on a Segment result *before* the Correct panel was opened are the user's,
not the network's (s35 gap: Next suspicious judged a nucleus painted in with the brush
before opening Correct by the network's old confidence map there, as in user test s34/t17
#4, which only covered strokes made while the panel was open). Correct reads them from the
layer's undo history; a tool's write since (Tune's update) makes its pixels the network's
again, as it does while the panel is open."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from scipy import ndimage as ndi

from tessella._widgets import _results


def _stroke(layer, y: int, x: int, label: int) -> None:
    """A napari brush stroke of two dabs at ``(y, x)``, ``(y, x + 2)``."""
    layer.brush_size = 15
    layer.mode = "paint"
    layer._begin_stroke()
    layer.paint((y, x), label, refresh=False)
    layer.paint((y, x + 2), label, refresh=False)
    layer._commit_stroke()


def test_strokes_painted_before_correct_opened_are_by_hand(make_napari_viewer, nuclei_sample):
    labels = nuclei_sample[1][:256, :256].astype(np.int32)
    ids = [int(i) for i in np.unique(labels) if i]
    weak = ids[5]
    seed = np.where(labels > 0, 0.9, 0.05).astype(np.float32)
    seed[labels == weak] = 0.3  # the network's one doubtful object
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels.copy(), name="segmented")
    prediction = SimpleNamespace(arrays={"seed": seed[None]})
    result = SimpleNamespace(labels=labels, predictions=[prediction], lineage=None, axes="YX")
    _results.register(layer, result, viewer.layers)

    # two missed nuclei painted in, in the two widest gaps of the background
    room = ndi.distance_transform_edt(labels == 0)
    y1, x1 = np.unravel_index(int(np.argmax(room)), room.shape)
    room[max(y1 - 40, 0) : y1 + 40, max(x1 - 40, 0) : x1 + 40] = 0
    y2, x2 = np.unravel_index(int(np.argmax(room)), room.shape)
    assert room[y2, x2] > 9
    painted, repainted, retuned = max(ids) + 1, max(ids) + 2, max(ids) + 3
    _stroke(layer, y1, x1, painted)
    _stroke(layer, y2, x2, repainted)
    # Tune's update writes a network's object of its own over the second one (a tool's step)
    network = np.array(layer.data)
    network[network == repainted] = 0
    network[y2 - 6 : y2 + 7, x2 - 6 : x2 + 7] = retuned
    seed[y2 - 6 : y2 + 7, x2 - 6 : x2 + 7] = 0.3  # (doubtful too)
    assert _results.write_labels(layer, network) is None  # (one step of the history)
    assert (layer.data == painted).sum() > 100

    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    low = {s.label for s in widget.suspects() if "low confidence" in s.reason}
    assert weak in low  # (the network's own doubtful object)
    assert retuned in low  # (written by the tool since: the network's again)
    assert painted not in low  # (painted before the panel opened: by hand)
    assert all(s.confidence is None for s in widget.suspects() if s.label == painted)


def test_history_read_for_strokes_painted_before(make_napari_viewer):
    """The brush's and the fill bucket's steps are the user's, a tool's write makes its
    pixels the network's again, and steps undone are not counted."""
    from tessella._widgets._correct_review import _painted_before

    labels = np.zeros((64, 64), np.int32)
    labels[5:20, 5:20] = 1
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels.copy())
    assert _painted_before(layer) is None
    _stroke(layer, 40, 40, 2)
    layer.fill((10, 10), 3)  # (the fill bucket over object 1)
    touched = _painted_before(layer)
    assert touched[40, 40] and touched[10, 10] and not touched[30, 10]
    tuned = np.array(layer.data)
    tuned[5:20, 5:20] = 1  # (Tune writes object 1 back)
    _results.write_labels(layer, tuned)
    touched = _painted_before(layer)
    assert touched[40, 40] and not touched[10, 10]
    layer.undo()  # (Tune's write)
    layer.undo()  # (the fill)
    layer.undo()  # (the stroke)
    assert _painted_before(layer) is None

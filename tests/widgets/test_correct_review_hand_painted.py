"""Correct's *Next suspicious* does not judge objects painted or changed by hand by the
network's confidence map (user test s34/t17 #4: a missed nucleus painted in with the brush
was "low confidence (confidence 0.36)", read from the old seed map under the new pixels);
the network's own objects still are, also after Relabel 1..N renumbered them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from scipy import ndimage as ndi

from tessella._widgets import _results


def test_painted_objects_are_not_low_confidence(make_napari_viewer, nuclei_sample):
    labels = nuclei_sample[1][:256, :256].astype(np.int32)
    ids = [int(i) for i in np.unique(labels) if i]
    weak, gone = ids[5], ids[2]
    seed = np.where(labels > 0, 0.9, 0.05).astype(np.float32)
    seed[labels == weak] = 0.3  # the network's one doubtful object
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels.copy(), name="segmented")
    prediction = SimpleNamespace(arrays={"seed": seed[None]})
    result = SimpleNamespace(labels=labels, predictions=[prediction], lineage=None, axes="YX")
    _results.register(layer, result, viewer.layers)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))

    # a missed nucleus painted in, in the background, as a napari brush stroke
    room = ndi.distance_transform_edt(labels == 0)  # (the middle of the widest background)
    y, x = np.unravel_index(int(np.argmax(room)), room.shape)
    assert room[y, x] > 9
    painted = max(ids) + 1
    layer.brush_size = 15
    layer.mode = "paint"
    layer._begin_stroke()
    layer.paint((y, x), painted, refresh=False)
    layer.paint((y, x + 2), painted, refresh=False)
    layer._commit_stroke()
    assert (layer.data == painted).sum() > 100

    low = {s.label: s for s in widget.suspects() if "low confidence" in s.reason}
    assert weak in low and low[weak].confidence == np.float32(0.3)
    assert painted not in low
    assert all(s.confidence is None for s in widget.suspects() if s.label == painted)

    # the network's objects renumbered by Relabel are still judged by it; the painted one not
    widget.set_selection([gone])
    widget.delete_button.click()
    widget.relabel_button.click()
    new_weak = int(np.unique(layer.data[labels == weak])[0])
    new_painted = int(layer.data[y, x])
    assert (new_weak, new_painted) != (weak, painted)
    low = {s.label for s in widget.suspects() if "low confidence" in s.reason}
    assert new_weak in low and new_painted not in low
    # (Next suspicious says so: the painted object is never sent back as low confidence)
    texts = set()
    for _ in widget.suspects():
        widget.next_button.click()
        texts.add(widget.suspect_label.text())
    assert not any(f"label {new_painted} is low confidence" in t for t in texts)

"""After Correct's *Relabel 1..N* the selection follows its objects to their new IDs (user
test s34/t17 #3: the Selected box kept the old IDs, which then named other nuclei, and the
next Delete erased a nucleus the user had not selected)."""

from __future__ import annotations

import numpy as np


def test_relabel_maps_the_selection_to_the_new_ids(make_napari_viewer, nuclei_sample):
    viewer = make_napari_viewer()
    labels = nuclei_sample[1][:200, :250].astype(np.int32)
    ids = [int(i) for i in np.unique(labels) if i]
    low, mid, high = ids[3], ids[len(ids) // 2], ids[-1]
    layer = viewer.add_labels(labels.copy(), name="gt")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")

    widget.set_selection([low])
    widget.delete_button.click()  # a gap: every ID above it moves down by one
    chosen = {mid: layer.data == mid, high: layer.data == high}
    widget.set_selection([high, mid, 9999])  # (9999: no such object)
    widget.relabel_button.click()

    left = [i for i in ids if i != low]
    new = [int(np.unique(layer.data[chosen[i]])[0]) for i in (high, mid)]
    assert new == [left.index(high) + 1, left.index(mid) + 1]  # (renumbered 1..N)
    assert new != [high, mid]
    assert widget.selected_ids() == new
    assert "the selection follows its objects: now" in widget.status_label.text()
    assert "1 selected ID had no object" in widget.status_label.text()
    # Delete now erases the objects that were selected, nothing else
    before = layer.data.copy()
    widget.delete_button.click()
    changed = before != layer.data
    np.testing.assert_array_equal(changed, chosen[mid] | chosen[high])


def test_relabel_without_a_gap_keeps_the_selection(make_napari_viewer, nuclei_sample):
    viewer = make_napari_viewer()
    labels = nuclei_sample[1][:120, :120].astype(np.int32)
    from skimage.segmentation import relabel_sequential

    labels = relabel_sequential(labels)[0]
    layer = viewer.add_labels(labels, name="gt")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.set_selection([2, 3])
    widget.relabel_button.click()  # nothing to change: the selection stays as it is
    assert widget.selected_ids() == [2, 3]
    assert "nothing to change" in widget.status_label.text()
    assert layer.data.max() == labels.max()

"""Correct warns about a removed layer only when it was the user's: chosen in its Labels box
or changed through the panel. A layer the panel merely fell on (the active one when it was
docked, or the next one after a removal) goes quietly, said in the status line alone: a user
who never opened Correct and deleted a training pair's labels got a warning "Correct:
'nuclei ground truth' was removed; now editing ..." (user test t2, problem 8)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from tessella._widgets import correct as correct_module
from tests.widgets.helpers import choose_text, said


def test_a_layer_correct_merely_fell_on_is_removed_quietly(
    make_napari_viewer, nuclei_sample, monkeypatch
):
    image, truth = nuclei_sample
    viewer = make_napari_viewer()
    viewer.add_image(image, name="nuclei")
    found = ndi.label(image > np.percentile(image, 80))[0].astype(np.int32)  # a prediction
    viewer.add_labels(found, name="nuclei labels (threshold)")
    viewer.add_labels(truth.copy(), name="nuclei labels (copy)")
    gt = viewer.add_labels(truth.copy(), name="nuclei ground truth")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert widget.labels_layer is gt  # the active layer: the panel fell on it
    warned = said(monkeypatch, correct_module, "show_warning")

    # the user never used Correct and deletes the ground truth (a training pair's labels)
    viewer.layers.remove(gt)
    now = widget.labels_layer
    assert now is not None and now is not gt
    assert warned == []
    assert widget.status_label.text() == (
        f"Correct: 'nuclei ground truth' was removed; now editing '{now.name}'"
    )

    # the layer it fell on next, edited through the panel: the user's, its removal warns
    left = next(layer.name for layer in viewer.layers[1:] if layer is not now)
    widget.set_selection(np.unique(now.data[now.data > 0])[:2].tolist())
    assert widget.merge()
    viewer.layers.remove(now)
    assert warned == [f"Correct: '{now.name}' was removed; now editing '{left}'"]
    assert widget.status_label.text() == warned[-1]


def test_a_layer_chosen_in_the_labels_box_still_warns_when_removed(
    make_napari_viewer, nuclei_sample, monkeypatch
):
    """Chosen in the box, not edited: the user means to edit it, so its removal warns (as
    before); the layer the panel then falls on is not theirs until they choose or edit it."""
    _image, truth = nuclei_sample
    viewer = make_napari_viewer()
    viewer.add_labels(truth.copy(), name="a")
    viewer.add_labels(truth.copy(), name="b")
    viewer.add_labels(truth.copy(), name="c")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    warned = said(monkeypatch, correct_module, "show_warning")
    choose_text(widget.layer_combo, "b")
    viewer.layers.remove("b")
    assert warned == [f"Correct: 'b' was removed; now editing '{widget.labels_layer.name}'"]
    fallen_on = widget.labels_layer.name
    viewer.layers.remove(fallen_on)
    assert len(warned) == 1
    assert widget.status_label.text().startswith(f"Correct: '{fallen_on}' was removed; now")

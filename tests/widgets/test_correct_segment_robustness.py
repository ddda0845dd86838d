"""Correct's Undo/Redo with nothing to undo or redo, Segment with the Axes box emptied, and
the object count of Segment's status line for a single object (s25 robustness findings)."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Labels

from tests.widgets.helpers import choose_model, choose_text


@pytest.fixture
def one_nucleus(nuclei_sample) -> np.ndarray:
    """A 64x64 crop of the shipped nuclei image holding one whole nucleus (its ground truth
    says so), which nuclei2d segments as one object."""
    image, truth = nuclei_sample
    crop = np.s_[96:160, 64:128]
    inside = truth[crop]
    assert np.unique(inside[inside > 0]).size == 1
    assert not (inside[[0, -1]].any() or inside[:, [0, -1]].any())  # whole, off the edges
    return image[crop]


def test_undo_and_redo_say_when_there_is_nothing_to_undo_or_redo(make_napari_viewer, nuclei_sample):
    """The buttons are greyed out then (tests/widgets/test_correct_history.py); a click that
    came before that (``undo()``, ``redo()``) changes nothing and says why."""
    viewer = make_napari_viewer()
    layer = viewer.add_labels(nuclei_sample[1].copy(), name="gt")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert widget.labels_layer is layer
    before = layer.data.copy()

    # a new layer: no edit to bring back (it said "Undone on 'gt'")
    assert not widget.undo_button.isEnabled() and not widget.redo_button.isEnabled()
    widget.undo()
    assert widget.status_label.text() == "Nothing to undo on 'gt'"
    widget.redo()
    assert widget.status_label.text() == "Nothing to redo on 'gt'"
    assert np.array_equal(layer.data, before)

    top = int(before.max())
    widget.set_selection([top])
    assert widget.delete()
    deleted = layer.data.copy()
    widget.undo_button.click()
    assert widget.status_label.text() == f"Undid: delete {top} on 'gt'"
    assert np.array_equal(layer.data, before)
    assert not widget.undo_button.isEnabled()  # only the one step
    widget.undo()
    assert widget.status_label.text() == "Nothing to undo on 'gt'"
    widget.redo_button.click()
    assert widget.status_label.text() == f"Redid: delete {top} on 'gt'"
    assert np.array_equal(layer.data, deleted)
    assert not widget.redo_button.isEnabled()
    widget.redo()
    assert widget.status_label.text() == "Nothing to redo on 'gt'"

    # each layer its own history: the other one has nothing to undo
    viewer.add_labels(before.copy(), name="other")
    choose_text(widget.layer_combo, "other")
    assert not widget.undo_button.isEnabled()
    widget.undo()
    assert widget.status_label.text() == "Nothing to undo on 'other'"
    assert np.array_equal(layer.data, deleted)


def test_segment_status_counts_one_object_in_the_singular(segment_widget, one_nucleus, run_to_end):
    viewer, widget = segment_widget
    viewer.add_image(one_nucleus, name="one")
    choose_text(widget.layer_combo, "one")
    choose_model(widget, "nuclei2d")  # (the tiny test model's count is anyone's guess)

    run_to_end(widget)

    labels = viewer.layers["one labels (nuclei2d)"].data
    assert np.unique(labels[labels > 0]).size == 1
    assert widget.status_label.text().startswith("'one': 1 object in ")  # not "1 objects"


def test_segment_with_the_axes_box_emptied_runs_on_the_guessed_axes(
    segment_widget, one_nucleus, run_to_end
):
    viewer, widget = segment_widget
    viewer.add_image(one_nucleus, name="flat", scale=(0.5, 0.25))
    choose_text(widget.layer_combo, "flat")
    widget.axes_combo.setEditText("")  # the user selected the axes and pressed Delete

    run_to_end(widget)  # it failed: "spacing [] gives 0 sizes but the image has 2 ..."

    assert "failed" not in widget.status_label.text()
    assert widget.axes_combo.currentText() == "YX"  # the guess, shown as choosing gives it
    result = viewer.layers["flat labels (nuclei2d)"]
    assert result.metadata["tessella_recipe"]["axes"] == "YX"
    np.testing.assert_allclose(result.scale, (0.5, 0.25))


def test_segment_refuses_an_emptied_axes_box_it_cannot_guess(segment_widget):
    viewer, widget = segment_widget
    viewer.add_image(np.zeros((2, 2, 2, 32, 32), np.float32), name="five")
    choose_text(widget.layer_combo, "five")
    widget.axes_combo.setEditText("")

    widget.run_button.click()

    status = widget.status_label.text()
    assert status.startswith("choose the axes of 'five' in the Axes box"), status
    assert "2x2x2x32x32" in status
    assert widget.worker is None and widget.run_button.isEnabled()
    assert not [layer for layer in viewer.layers if isinstance(layer, Labels)]

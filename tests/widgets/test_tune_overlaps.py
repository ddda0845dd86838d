"""Tune on a method whose objects overlap (patches): the "overlaps" layer beside the labels
follows each update without costing the GUI thread more than it must."""

from __future__ import annotations

import threading

import numpy as np

from tessella._widgets import _results
from tests.widgets.conftest import rods_labels_and_hidden


def test_tune_assembles_once_per_update_off_the_gui_thread_and_redraws_changed_overlaps(
    make_napari_viewer, rods_result, qtbot, monkeypatch
):
    from tessella.engine.methods import patches

    rods, result = rods_result
    prediction, params, labels = result.predictions[0], result.params, result.labels
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels.copy(), name="rods labels")
    _results.register(layer, result, viewer.layers)
    overlaps = _results.show_overlaps(
        viewer, layer, _results.overlap_labels(patches, prediction, params, labels)
    )
    hidden_before = overlaps.data.copy()
    assert hidden_before.any()

    # each assembly of the worms (labels, instance stack or both), and whether it ran on the
    # GUI thread: one per update, in the worker
    on_gui_thread = []
    assemble = patches._assemble_sparse

    def assemble_sparse(*args, **kwargs):
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return assemble(*args, **kwargs)

    monkeypatch.setattr(patches, "_assemble_sparse", assemble_sparse)
    # a new ``data`` makes napari recolour the layer and recompute the viewer's extent;
    # how it redraws pixels rewritten in place is its own affair (what they hold is checked)
    data_set = []
    overlaps.events.data.connect(lambda event: data_set.append(event))
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    tune.layer_combo.setCurrentIndex(tune.layer_combo.findData(layer.unique_id))

    def change(name, value):
        with qtbot.waitSignal(tune.update_finished, timeout=30_000):
            tune.set_param(name, value)
        qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)

    # new labels, the same hidden parts: the overlaps layer is left alone
    change("cover_threshold", 0.3)
    assert not np.array_equal(layer.data, labels)
    assert on_gui_thread == [False]
    assert data_set == []
    np.testing.assert_array_equal(overlaps.data, hidden_before)

    # other hidden parts: the same layer shows them, where it was
    change("cover_threshold", 0.6)
    assert on_gui_thread == [False, False]
    now = tune.params
    monkeypatch.setattr(patches, "_assemble_sparse", assemble)
    # what the labels and their overlaps were, each assembled on its own
    expected_labels = patches.postprocess(prediction, now)
    expected = _results.overlap_labels(patches, prediction, now, expected_labels)
    assert not np.array_equal(expected, hidden_before) and expected.any()
    np.testing.assert_array_equal(layer.data, expected_labels)
    assert _results.companion_layer(viewer, layer, "overlaps") is overlaps
    np.testing.assert_array_equal(overlaps.data, expected)


def test_a_companion_layer_is_not_placed_again_where_it_already_lies(make_napari_viewer):
    """Updating the overlaps beside labels that did not move leaves the layer's placement
    alone (napari redraws a layer for a scale or translate set to the value it has); labels
    that moved still take it along."""
    rods, labels, hidden = rods_labels_and_hidden()
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels, name="rods labels", scale=(1.2, 1.2), units=("µm", "µm"))
    overlaps = _results.show_overlaps(viewer, layer, hidden)
    placed = []
    for name in ("scale", "translate", "units", "axis_labels"):
        getattr(overlaps.events, name).connect(lambda event, name=name: placed.append(name))

    assert _results.show_overlaps(viewer, layer, hidden * 2) is overlaps
    assert placed == []
    np.testing.assert_array_equal(overlaps.data, hidden * 2)
    layer.translate = (5.0, 0.0)
    _results.show_overlaps(viewer, layer, hidden)
    assert placed == ["translate"] and tuple(overlaps.translate) == (5.0, 0.0)

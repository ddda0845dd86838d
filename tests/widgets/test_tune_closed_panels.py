"""A closed Tune panel stays out of the way (review A, findings 2 and 3): napari's "x" only
takes a panel out of its dock, and the layer events Tune had connected (through
``functools.partial``, which napari holds strongly) kept every closed panel alive, counting
the objects of each brush stroke for a status line no one sees. And a label of -1 painted by
hand (int32 labels take it) made that count raise in a timer slot, so the status line never
said the labels were edited."""

from __future__ import annotations

import gc
import weakref

import numpy as np

from tessella._widgets import _tune_writing
from tessella._widgets._tune_edits import EDIT_COUNT_MS, EDITED
from tests.widgets.test_tune_widget import place


def objects(data) -> int:
    return int(np.unique(data[data > 0]).size)


def test_closed_tune_panels_count_nothing_and_can_be_collected(
    make_napari_viewer, result_2d, qtbot, monkeypatch
):
    viewer = make_napari_viewer()
    layer = place(viewer, result_2d)
    counts = []  # each count of the edited labels, by any panel
    count = _tune_writing._count_objects
    monkeypatch.setattr(
        _tune_writing, "_count_objects", lambda labels: counts.append(1) or count(labels)
    )
    closed = []
    for _ in range(3):
        dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
        assert tune.labels_layer is layer and tune.status_label.text().startswith("'nuclei labels'")
        closed.append(weakref.ref(tune))
        viewer.window.remove_dock_widget(dock)  # what the panel's "x" does
        del dock, tune
        qtbot.wait(20)
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")

    new = int(layer.data.max()) + 1
    layer.paint((100, 100), new)  # one brush stroke: a new object
    assert (layer.data == new).any()
    qtbot.wait(EDIT_COUNT_MS + 400)
    assert len(counts) == 1  # the open panel's count, none by a closed one
    assert (
        tune.status_label.text() == f"'nuclei labels': {objects(layer.data)} objects now, {EDITED}"
    )

    gc.collect()
    assert [ref() is None for ref in closed] == [True, True, True]


def test_a_negative_label_is_no_object_and_the_status_says_edited(
    make_napari_viewer, result_2d, qtbot
):
    viewer = make_napari_viewer()
    layer = place(viewer, result_2d)
    assert layer.data.dtype == np.int32
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    layer.paint((100, 100), -1)  # napari's label box and the brush take -1 in int32 labels
    assert (layer.data == -1).any()
    qtbot.wait(EDIT_COUNT_MS + 400)
    assert (
        tune.status_label.text() == f"'nuclei labels': {objects(layer.data)} objects now, {EDITED}"
    )
    assert _tune_writing._count_objects(np.array([[-1, 2, 0], [5, 5, -3]], np.int32)) == 2
    assert _tune_writing._count_objects(np.array([[-1, 0]], np.int32)) == 0


def test_the_status_says_edited_when_counting_fails(
    make_napari_viewer, result_2d, qtbot, monkeypatch
):
    viewer = make_napari_viewer()
    layer = place(viewer, result_2d)
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")

    def fails(labels):
        raise MemoryError("no memory for the count")

    monkeypatch.setattr(_tune_writing, "_count_objects", fails)
    layer.paint((100, 100), int(layer.data.max()) + 1)
    qtbot.wait(EDIT_COUNT_MS + 400)
    assert tune.status_label.text() == f"'nuclei labels': {EDITED}"

"""Tune's status line follows edits of the labels it names: after Correct merged two worms of
a worms2d result on BBBC010 E03 it still said "...: 14 objects" (user test t2, problem 11).
It now counts them again once the edits pause, once for a burst of brush strokes, and after
Correct's Undo; Tune's next update says what it wrote, as before."""

from __future__ import annotations

import re

import numpy as np

from tessella._widgets import _tune_writing
from tessella.engine.io import read_image
from tests.engine.test_edit import touching_pair
from tests.widgets.helpers import choose_model, choose_text

E03 = ("worms_bbbc010", "gfp", "E03.tif")  # (in this copy of BBBC010 gfp/ holds brightfield)


def objects(layer) -> int:
    return int(np.unique(layer.data[layer.data > 0]).size)


def test_the_tune_status_follows_correct_and_brush_edits(
    make_napari_viewer, data_dir, run_to_end, qtbot, monkeypatch
):
    viewer = make_napari_viewer()
    viewer.add_image(np.asarray(read_image(data_dir.joinpath(*E03)).data), name="E03")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_model(segment, "worms2d")
    run_to_end(segment)
    layer = viewer.layers["E03 labels (worms2d)"]
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    choose_text(tune.layer_combo, "E03 labels (worms2d)")
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.set_param("min_size", tune.params.min_size + 1)
    qtbot.waitUntil(lambda: not tune.busy, timeout=60_000)
    tuned = objects(layer)
    assert tuned > 2
    assert re.fullmatch(
        rf"'E03 labels \(worms2d\)': updated in \d+ ms( \+ \d+ ms drawing)?: {tuned} objects",
        tune.status_label.text(),
    )
    counts = []  # each count of the edited labels
    count = _tune_writing._count_objects
    monkeypatch.setattr(
        _tune_writing, "_count_objects", lambda labels: counts.append(1) or count(labels)
    )

    # Correct merges two touching worms
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    choose_text(correct.layer_combo, "E03 labels (worms2d)")
    correct.set_selection(touching_pair(layer.data))
    assert correct.merge()
    assert objects(layer) == tuned - 1
    merged = (
        f"'E03 labels (worms2d)': {tuned - 1} objects now, edited (painting or Correct) since "
        "these values made them"
    )
    qtbot.waitUntil(lambda: tune.status_label.text() == merged, timeout=5_000)
    assert counts == [1]

    # a burst of brush strokes, each a new object: counted once, after the last
    free = np.argwhere(layer.data == 0)
    for k in range(5):
        y, x = free[len(free) * (k + 1) // 7]
        layer.paint((int(y), int(x)), int(layer.data.max()) + 1)
    assert counts == [1]  # (none while painting)
    assert objects(layer) == tuned + 4
    qtbot.waitUntil(lambda: f": {tuned + 4} objects now" in tune.status_label.text(), timeout=5_000)
    assert counts == [1, 1]

    # Correct's Undo announces no new step, only a redraw: counted again all the same
    correct.undo_button.click()
    assert objects(layer) == tuned + 3
    qtbot.waitUntil(lambda: f": {tuned + 3} objects now" in tune.status_label.text(), timeout=5_000)

    # Tune's next update replaces the edits and says what it wrote; nothing overrides it
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.set_param("min_size", tune.params.min_size + 1)
    qtbot.waitUntil(lambda: not tune.busy, timeout=60_000)
    qtbot.wait(1_000)  # (edits are counted 250 ms after the last)
    said = tune.status_label.text()
    assert said.startswith("'E03 labels (worms2d)': updated in ") and "edited" not in said
    assert said.endswith(f": {objects(layer)} objects")

"""What Tessella assumes of napari's private undo history of a Labels layer, checked on the
napari installed: where an upgrade changes it, this fails, naming the assumption, rather
than Correct silently leaving a gap where it should show the worm under one erased whole.

napari has no public way to add to a step it recorded: ``block_history()`` groups only the
edits made inside it, and a step of Tessella's own after napari's fill would take two Undos.
So the overlaps follower (``_object_stack._show_gap``) appends the pixels it shows to the
step napari's paint event announced, as ``data_setitem`` records them, where that step is
the last of ``_undo_history`` (read through ``_correct_edits._history``); it reads the step's
atoms (masked paint atoms, ``data_setitem`` tuples) to rebuild the labels before it."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Labels

from tessella._widgets._correct_edits import _history
from tessella._widgets._object_stack import _before_step, _step_old_values


def _layer() -> Labels:
    data = np.zeros((40, 50), np.int32)
    data[5:25, 5:30] = 4
    data[10:35, 20:28] = 7
    return Labels(data)


def _stroke(layer):  # the brush dragged: napari's mouse binding wraps it in block_history
    with layer.block_history():
        layer.paint((15, 10), 0, refresh=False)
        layer.paint((15, 14), 0, refresh=False)


def _correct(layer):  # Correct's edits: data_setitem inside block_history
    with layer.block_history():
        layer.data_setitem(np.nonzero(layer.data == 4), 0)


EDITS = {
    "eraser (no stroke)": lambda layer: layer.paint((15, 10), 0),
    "brush stroke": _stroke,
    "fill": lambda layer: layer.fill((15, 10), 0),
    "polygon": lambda layer: layer.paint_polygon([(6, 6), (6, 20), (20, 20)], 0),
    "Correct's edit": _correct,
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_the_step_announced_is_readable_and_can_be_extended(edit):
    layer = _layer()
    before = np.array(layer.data)
    steps: list = []
    layer.events.paint.connect(lambda event: steps.append(event.value))
    EDITS[edit](layer)
    after = np.array(layer.data)
    assert len(steps) == 1, "one paint event a step, carrying the step (its value)"
    step = steps[0]
    history = _history(layer, "undo")
    assert history is not None, "Labels._undo_history is gone or not a sequence"
    assert isinstance(step, list), f"events.paint's value is a {type(step)}, not a list"
    assert history[-1] is step, "the paint event's value is not the last step of the history"
    old = _step_old_values(step)
    assert old is not None, f"atoms of a kind not known: {[type(a) for a in step]}"
    np.testing.assert_array_equal(_before_step(after, step), before)
    assert set(np.unique(old).tolist()) <= set(np.unique(before).tolist())

    # the pixels the follower shows, appended as data_setitem records them: one Undo and
    # one Redo take back and bring back both
    rows, cols = np.nonzero((after == 0) & (before == 4))
    step.append(((rows, cols), after[rows, cols], np.full(rows.shape, 9, after.dtype)))
    layer.data[rows, cols] = 9
    shown = np.array(layer.data)
    layer.undo()
    np.testing.assert_array_equal(layer.data, before)
    layer.redo()
    np.testing.assert_array_equal(layer.data, shown)

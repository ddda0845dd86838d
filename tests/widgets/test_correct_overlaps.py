"""Correct on crossing worms (worms2d on a 256² crop of BBBC010 well B15, where worm 4 lies
on worm 7 over 94 pixels): the "overlaps" layer beside the labels follows every edit, Undo
and Redo, and painting the hidden worm on top only chooses which shows there."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _results
from tessella._widgets._object_stack import object_stack
from tests.widgets.conftest import worms_in_viewer


@pytest.fixture
def worms(make_napari_viewer, worms_result):
    """A viewer with the worms' labels and overlaps as Segment places them, Correct docked:
    ``(viewer, correct, labels layer, overlaps layer, instances, top, hidden)``."""
    viewer, correct, layer, overlaps, instances = worms_in_viewer(make_napari_viewer, worms_result)
    hidden = overlaps.data
    both = instances.sum(axis=0) > 1
    top, under = (int(v) for v in (np.unique(layer.data[both])[0], np.unique(hidden)[-1]))
    assert (top, under) == (4, 7) and both.sum() == 94  # as measured; the test is built on it
    return viewer, correct, layer, overlaps, instances, top, under


def test_the_overlaps_layer_follows_correct_edits_undo_and_redo(worms):
    viewer, correct, layer, overlaps, instances, top, under = worms
    shown = overlaps.data.copy()
    np.testing.assert_array_equal(shown == under, instances[under - 1])  # the hidden worm whole

    correct.set_selection([under])
    assert correct.delete()
    assert not overlaps.data.any()  # the deleted worm is no longer drawn
    correct.undo_button.click()
    np.testing.assert_array_equal(overlaps.data, shown)

    correct.set_selection([top, under])
    assert correct.merge()
    assert not overlaps.data.any()  # one worm: nothing hides part of it
    correct.undo_button.click()
    np.testing.assert_array_equal(overlaps.data, shown)
    layer.redo()  # Shift+Ctrl+Z on the layer
    assert not overlaps.data.any()
    layer.undo()
    np.testing.assert_array_equal(overlaps.data, shown)

    # the worm on top deleted: the one under it, whole in Export's stack (object_stack),
    # shows where the deleted one lay on it (no gap), so nothing is hidden any more
    correct.set_selection([top])
    assert correct.delete()
    stack = object_stack(viewer, layer, np.asarray(layer.data))
    assert top not in stack.ids.tolist() and top not in overlaps.data
    np.testing.assert_array_equal(stack.masks[stack.ids.tolist().index(under)], shown == under)
    np.testing.assert_array_equal(np.asarray(layer.data) == under, shown == under)
    assert not overlaps.data.any()
    correct.set_selection([under])
    assert correct.delete()
    assert not overlaps.data.any()
    correct.undo_button.click()
    correct.undo_button.click()
    np.testing.assert_array_equal(overlaps.data, shown)


def test_painting_the_hidden_worm_on_top_keeps_the_other_whole(worms):
    viewer, correct, layer, overlaps, instances, top, under = worms
    both = instances.sum(axis=0) > 1
    empty = np.argwhere(~instances.any(axis=0))[2000]
    layer.paint(tuple(int(v) for v in empty), 9)  # a new object (napari's brush, size 10)
    layer.data_setitem(np.nonzero(both), under)  # as the brush over the whole crossing
    stack = object_stack(viewer, layer, np.asarray(layer.data))
    masks = dict(zip(stack.ids.tolist(), stack.masks))
    # both worms whole, as the network found them: only which shows on top changed
    np.testing.assert_array_equal(masks[top], instances[top - 1])
    np.testing.assert_array_equal(masks[under], instances[under - 1])
    assert masks[top].sum() == 764
    # the overlaps layer now shows the worm underneath, whole
    np.testing.assert_array_equal(overlaps.data == top, instances[top - 1])
    assert under not in overlaps.data

    # a real repaint, where the network found only one worm: the pixels change hands
    from scipy import ndimage

    alone = instances[top - 1] & ~both
    y, x = np.unravel_index(np.argmax(ndimage.distance_transform_edt(alone)), alone.shape)
    layer.paint((int(y), int(x)), under)  # napari's brush (size 10), inside worm 4 alone
    painted = alone & (np.asarray(layer.data) == under)
    assert painted.sum() > 20
    stack = object_stack(viewer, layer, np.asarray(layer.data))
    masks = dict(zip(stack.ids.tolist(), stack.masks))
    assert not (masks[top] & painted).any()
    assert masks[under][painted].all()
    np.testing.assert_array_equal(masks[top], instances[top - 1] & ~painted)


def test_without_the_network_result_the_overlaps_layer_still_comes_back_on_undo(worms):
    """Labels whose result is gone (Tessella keeps the last 4) take their hidden parts from
    the overlaps layer itself: a Delete empties it, and Undo must bring the worm back, not
    lose it with the layer's pixels."""
    viewer, correct, layer, overlaps, instances, top, under = worms
    shown = overlaps.data.copy()
    _results.discard(layer)
    correct.set_selection([under])
    assert correct.delete()
    assert not overlaps.data.any()
    correct.undo_button.click()
    np.testing.assert_array_equal(overlaps.data, shown)
    stack = object_stack(viewer, layer, np.asarray(layer.data))
    assert stack.source == "the labels with their overlaps layer"
    np.testing.assert_array_equal(stack.masks[stack.ids.tolist().index(under)], shown == under)

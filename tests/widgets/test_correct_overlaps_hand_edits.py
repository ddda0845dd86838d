"""Correct on crossing worms (the ``worms`` fixture of test_correct_overlaps: worm 4 lies on
worm 7 over 94 pixels): edits of the labels keep the user's own edits of the "overlaps"
layer and its undo history, and edits after painting the hidden worm on top keep the other
worm whole (review r2, findings 1 and 2)."""

import numpy as np

from tessella._widgets import _results
from tessella._widgets._object_stack import object_stack
from tests.widgets.test_correct_overlaps import worms  # noqa: F401 (a fixture)


def _masks(viewer, layer):
    stack = object_stack(viewer, layer, np.asarray(layer.data))
    return dict(zip(stack.ids.tolist(), stack.masks))


def _paint_under_on_top(layer, instances, under):
    both = instances.sum(axis=0) > 1
    empty = np.argwhere(~instances.any(axis=0))[2000]
    layer.paint(tuple(int(v) for v in empty), 9)  # another edit first
    layer.data_setitem(np.nonzero(both), under)  # the brush over the whole crossing


def test_merging_or_deleting_the_worm_painted_on_top_keeps_the_other_whole(worms):  # noqa: F811
    viewer, correct, layer, overlaps, instances, top, under = worms
    _paint_under_on_top(layer, instances, under)
    assert _masks(viewer, layer)[top].sum() == 764  # still whole, hidden
    correct.set_selection([1, under])  # e.g. a piece of the same worm, merged into 1
    assert correct.merge()
    np.testing.assert_array_equal(_masks(viewer, layer)[top], instances[top - 1])
    assert (overlaps.data == top).sum() == 764
    correct.undo_button.click()
    correct.set_selection([under])
    assert correct.delete()  # as deleting the network's own top worm keeps the other whole
    np.testing.assert_array_equal(_masks(viewer, layer)[top], instances[top - 1])


def test_a_hand_edit_of_the_overlaps_layer_survives_an_unrelated_edit(worms):  # noqa: F811
    viewer, correct, layer, overlaps, instances, top, under = worms
    before = overlaps.data.copy()
    ys, xs = np.nonzero(overlaps.data == under)
    overlaps.paint((int(ys.mean()), int(xs.mean()) + 30), under)  # the user's brush
    hand = overlaps.data.copy()
    assert (hand != before).sum() > 50
    correct.set_selection([1])
    assert correct.delete()  # worm 1 is nowhere near the crossing
    np.testing.assert_array_equal(overlaps.data, hand)  # was: the hand edit gone
    overlaps.undo()  # and its history kept
    np.testing.assert_array_equal(overlaps.data, before)


def test_without_the_result_undo_brings_the_hidden_worm_back_after_a_touch(worms):  # noqa: F811
    """Labels without their network result take hidden parts from the overlaps layer: a
    touch of that layer after a Delete must not lose the deleted worm's hidden part."""
    viewer, correct, layer, overlaps, instances, top, under = worms
    shown = overlaps.data.copy()
    _results.discard(layer)
    correct.set_selection([under])
    assert correct.delete()
    overlaps.paint((20, 20), 20)  # one brush dab on the overlaps layer, far away (a new ID)
    correct.undo_button.click()
    assert (overlaps.data == under).sum() == (shown == under).sum()  # was 0 of 2181
    assert _masks(viewer, layer)[under].sum() == (shown == under).sum()  # was 2087


def test_without_the_result_filling_the_top_worm_away_shows_the_one_under(worms):  # noqa: F811
    """The follower's pixel-by-pixel path (labels with their overlaps layer only): napari's
    fill with 0 over the worm on top shows the worm under it, in the same undo step."""
    viewer, correct, layer, overlaps, instances, top, under = worms
    both = instances.sum(axis=0) > 1
    original = np.array(layer.data)
    _results.discard(layer)
    y, x = (int(v) for v in np.argwhere(both)[both.sum() // 2])
    layer.fill((y, x), 0)
    np.testing.assert_array_equal(np.asarray(layer.data)[both], under)
    masks = _masks(viewer, layer)
    assert top not in masks
    np.testing.assert_array_equal(masks[under], instances[under - 1])
    layer.undo()
    np.testing.assert_array_equal(layer.data, original)
    np.testing.assert_array_equal(_masks(viewer, layer)[under], instances[under - 1])

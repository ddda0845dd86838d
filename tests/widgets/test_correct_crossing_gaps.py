"""Correct at a crossing of worms (worms2d on a 256² crop of BBBC010 well B15, worm 4 on
worm 7 over 94 pixels): after every edit, Undo and Redo the labels show, at each pixel,
the top object of Export's stack there (no gap where a deleted worm lay on another), and
Export's stack keeps each remaining worm whole."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _results
from tessella._widgets._object_stack import hidden_objects, object_stack
from tests.widgets.conftest import worms_in_viewer


@pytest.fixture
def worms(make_napari_viewer, worms_result):
    """``(viewer, correct, labels layer, overlaps layer, instances)``, as Segment shows
    the worms, Correct docked."""
    return worms_in_viewer(make_napari_viewer, worms_result)


def _agrees(viewer, layer, overlaps) -> dict[int, np.ndarray]:
    """Export's stack of the labels on screen, checked against them: no object of it lies
    where the labels show background, each object holds its pixels in the labels, and the
    overlaps layer shows what the stack hides. Returns ``{id: mask}``."""
    labels = np.asarray(layer.data)
    stack = object_stack(viewer, layer, labels)
    masks = dict(zip(stack.ids.tolist(), stack.masks))
    covered = stack.masks.any(axis=0)
    gap = covered & (labels == 0)
    assert not gap.any(), f"{gap.sum()} px of background where {stack.source} has objects"
    for label in np.unique(labels[labels > 0]).tolist():
        assert masks[label][labels == label].all()
    np.testing.assert_array_equal(overlaps.data, hidden_objects(stack, labels, overlaps.data.dtype))
    return masks


def _crossing(layer, overlaps, instances) -> tuple[np.ndarray, int, int]:
    """``(pixels of the crossing, worm on top, worm under it)``."""
    both = instances.sum(axis=0) > 1
    labels = np.asarray(layer.data)
    top, under = int(np.unique(labels[both])[0]), int(np.unique(overlaps.data[both])[0])
    assert (top, under, int(both.sum())) == (4, 7, 94)  # as measured; the test is built on it
    return both, top, under


def test_deleting_the_top_worm_shows_the_one_under_it(worms):
    viewer, correct, layer, overlaps, instances = worms
    both, top, under = _crossing(layer, overlaps, instances)
    original = np.array(layer.data)
    _agrees(viewer, layer, overlaps)

    correct.set_selection([top])
    assert correct.delete()
    np.testing.assert_array_equal(np.asarray(layer.data)[both], under)  # no gap: 7 shows
    assert "object 7 now shows where it was hidden (94 px)" in correct.status_label.text()
    masks = _agrees(viewer, layer, overlaps)
    assert top not in masks
    np.testing.assert_array_equal(masks[under], instances[under - 1])  # whole in Export
    assert not overlaps.data.any()  # nothing hides part of another any more

    correct.undo_button.click()
    np.testing.assert_array_equal(layer.data, original)
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[top], instances[top - 1])
    np.testing.assert_array_equal(masks[under], instances[under - 1])
    correct.redo_button.click()
    np.testing.assert_array_equal(np.asarray(layer.data)[both], under)
    _agrees(viewer, layer, overlaps)
    correct.undo_button.click()

    correct.min_size_spin.setValue(int((original == top).sum()) + 1)  # worm 4 and smaller
    assert correct.remove_small()
    np.testing.assert_array_equal(np.asarray(layer.data)[both], under)
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[under], instances[under - 1])
    correct.undo_button.click()

    # without the network result (Tessella keeps 4): hidden parts from the overlaps layer
    _results.discard(layer)
    correct.set_selection([top])
    assert correct.delete()
    np.testing.assert_array_equal(np.asarray(layer.data)[both], under)
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[under], instances[under - 1])
    correct.undo_button.click()
    np.testing.assert_array_equal(layer.data, original)
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[under], instances[under - 1])


def test_erasing_at_a_crossing_erases_every_worm_there(worms):
    """The eraser over the worm on top at a crossing leaves background: the worm under it
    loses those pixels too, rather than staying in Export's stack under a gap the labels
    show. The worm on top erased whole (napari's fill with 0: a Delete) shows the one
    under it there, in the same undo step."""
    viewer, correct, layer, overlaps, instances = worms
    both, top, under = _crossing(layer, overlaps, instances)
    y, x = (int(v) for v in np.argwhere(both)[both.sum() // 2])
    worms_before = np.asarray(layer.data) > 0
    layer.paint((y, x), 0)  # napari's eraser (size 10)
    erased = worms_before & (np.asarray(layer.data) == 0)
    assert (erased & both).sum() > 20
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[top], instances[top - 1] & ~erased)
    np.testing.assert_array_equal(masks[under], instances[under - 1] & ~erased)
    layer.undo()
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[under], instances[under - 1])

    original = np.array(layer.data)
    layer.fill((y, x), 0)  # the bucket, erasing worm 4 whole: a Delete, worm 7 shows there
    np.testing.assert_array_equal(np.asarray(layer.data)[both], under)
    masks = _agrees(viewer, layer, overlaps)
    assert top not in masks
    np.testing.assert_array_equal(masks[under], instances[under - 1])
    layer.undo()  # one step: the fill and worm 7 shown
    np.testing.assert_array_equal(layer.data, original)
    _agrees(viewer, layer, overlaps)
    layer.redo()
    np.testing.assert_array_equal(np.asarray(layer.data)[both], under)
    _agrees(viewer, layer, overlaps)
    layer.undo()
    layer.fill((y, x), 20)  # worm 4 filled with a new ID: 7 stays whole under it
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[under], instances[under - 1])
    np.testing.assert_array_equal(masks[20], instances[top - 1])
    layer.undo()

    # worm 4 deleted, then worm 7 erased where it now shows at the crossing: erased stays
    # erased (not shown again and again)
    correct.set_selection([top])
    assert correct.delete()
    layer.paint((y, x), 0)
    assert (np.asarray(layer.data)[erased & both] == 0).all()


def test_relabel_keeps_the_hidden_part_of_a_renumbered_worm(worms):
    """Relabel 1..N after a Delete renumbers the crossing worms: the one underneath keeps
    the part the other hides under its new ID (it lost it in Export's stack)."""
    viewer, correct, layer, overlaps, instances = worms
    both, top, under = _crossing(layer, overlaps, instances)
    correct.set_selection([1])
    assert correct.delete()
    assert correct.relabel()
    assert (np.asarray(layer.data)[both] == top - 1).all()
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[under - 1], instances[under - 1])
    np.testing.assert_array_equal(masks[top - 1], instances[top - 1])
    np.testing.assert_array_equal(overlaps.data == under - 1, instances[under - 1])
    correct.undo_button.click()
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[under], instances[under - 1])
    correct.redo_button.click()
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[under - 1], instances[under - 1])


def test_merge_and_split_at_the_crossing_agree(worms):
    """Merge, Split by watershed and Split along a line at the crossing, and their Undo."""
    from tessella._widgets.correct import LINES_LAYER

    viewer, correct, layer, overlaps, instances = worms
    both, top, under = _crossing(layer, overlaps, instances)
    worms_before = np.asarray(layer.data) > 0
    correct.set_selection([top, under])  # (Merge closes the cracks between them too)
    assert correct.merge()
    masks = _agrees(viewer, layer, overlaps)
    merged = instances[top - 1] | instances[under - 1]
    assert masks[top][merged].all() and not (masks[top] & ~merged & worms_before).any()
    correct.undo_button.click()
    _agrees(viewer, layer, overlaps)
    correct.redo_button.click()
    _agrees(viewer, layer, overlaps)
    correct.undo_button.click()

    for label in (top, under):  # split by watershed (two pieces, from the network's map)
        correct.set_selection([label])
        assert correct.split_watershed()
        _agrees(viewer, layer, overlaps)
        correct.undo_button.click()

    cy, cx = np.argwhere(both).mean(axis=0)
    # a line across each worm through the crossing: worm 4 runs down-right there, worm 7
    # up-right (a line along worm 4 only clips 1-px shards off it: no split)
    across = {
        top: [[cy - 15, cx + 15], [cy + 15, cx - 15]],
        under: [[cy - 15, cx - 15], [cy + 15, cx + 15]],
    }
    for label in (top, under):
        correct.set_selection([label])
        correct.draw_split_line()
        viewer.layers[LINES_LAYER].add_lines(np.array(across[label]))
        assert correct.split_along_lines()
        masks = _agrees(viewer, layer, overlaps)
        assert sum(m[both].sum() for m in masks.values()) >= 2 * both.sum()  # both still
        correct.undo_button.click()
        masks = _agrees(viewer, layer, overlaps)
        np.testing.assert_array_equal(masks[label], instances[label - 1])


def test_delete_on_a_reopened_mask_stack_shows_what_lay_under(make_napari_viewer, tmp_path):
    """A stack reopened from disk (no model): deleting objects shows the ones under them,
    the smaller on top (as the labels were painted), an object hidden whole included, and
    none of them twice in Export's stack."""
    from tessella.engine.io import write_mask_stack

    stack = np.zeros((4, 20, 20), np.uint8)
    stack[0, 5, 2:12] = 1  # 10 px, covered whole by objects 2 and 3 (9 px each)
    stack[1, 5, 2:7] = stack[1, 4, 2:6] = 1
    stack[2, 5, 7:12] = stack[2, 6, 7:11] = 1
    stack[3, 12:18, 6] = 1  # 6 px on its own
    path = write_mask_stack(tmp_path / "hidden.tif", stack)
    viewer = make_napari_viewer()
    layer = viewer.open(str(path), plugin="tessella")[0]
    overlaps = next(other for other in viewer.layers if other.name.endswith("overlaps"))
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findData(layer.unique_id))
    original = np.array(layer.data)
    assert 1 not in original

    correct.set_selection([2])
    assert correct.delete()
    np.testing.assert_array_equal(np.asarray(layer.data)[5, 2:7], 1)
    masks = _agrees(viewer, layer, overlaps)
    assert sorted(masks) == [1, 3, 4]
    for label in (1, 3, 4):
        np.testing.assert_array_equal(masks[label], stack[label - 1].astype(bool))
    correct.set_selection([3])
    assert correct.delete()
    np.testing.assert_array_equal(np.asarray(layer.data) == 1, stack[0].astype(bool))
    assert sorted(_agrees(viewer, layer, overlaps)) == [1, 4]
    correct.undo_button.click()
    correct.undo_button.click()
    np.testing.assert_array_equal(layer.data, original)
    kept = object_stack(viewer, layer, np.asarray(layer.data))
    np.testing.assert_array_equal(kept.masks, stack.astype(bool))

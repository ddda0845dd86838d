"""A worm split at a crossing, then the worm over it deleted with napari's fill bucket (0):
the labels show, where the deleted worm lay, the piece of the split worm that continues
there, as Correct's Delete shows it and as Export's stack has it (s35 gap: without the
network result behind the labels, the fill showed the split worm's old ID over the whole
crossing, read from the overlaps layer as Segment wrote it, undoing the split there)."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _results
from tessella._widgets._object_stack import object_stack
from tessella._widgets.correct import LINES_LAYER
from tests.widgets.conftest import worms_in_viewer


@pytest.fixture
def split(make_napari_viewer, worms_result):
    """Worms2d's worms of B15 as Segment shows them, worm 7 (under worm 4 over 94 px) split
    by a line across it at the crossing: ``(viewer, correct, layer, crossing, owners)``,
    ``owners``: the objects of Export's stack at the crossing then, with their pixels."""
    viewer, correct, layer, overlaps, instances = worms_in_viewer(make_napari_viewer, worms_result)
    both = instances.sum(axis=0) > 1
    assert both.sum() == 94 and set(np.unique(np.asarray(layer.data)[both]).tolist()) == {4}
    _results.discard(layer)  # (no network result: hidden parts from the overlaps layer)
    cy, cx = np.argwhere(both).mean(axis=0)
    py, px = cy + 15 / np.sqrt(2), cx - 15 / np.sqrt(2)  # (along worm 7, near the crossing)
    correct.set_selection([7])
    correct.draw_split_line()
    viewer.layers[LINES_LAYER].add_lines(np.array([[py - 15, px - 15], [py + 15, px + 15]]))
    assert correct.split_along_lines(), correct.status_label.text()
    stack = object_stack(viewer, layer, np.asarray(layer.data))
    owners = {int(i): int(m[both].sum()) for i, m in zip(stack.ids, stack.masks) if m[both].any()}
    assert owners == {4: 94, 7: 6, 9: 88}  # as measured: the new piece 9 runs under worm 4
    return viewer, correct, layer, both, owners


def test_fill_deleting_the_worm_over_a_split_one_shows_its_pieces(split):
    viewer, correct, layer, both, owners = split
    before = np.array(layer.data)
    correct.set_selection([4])
    assert correct.delete()  # Correct's Delete: the pieces, each where it continues
    deleted = np.array(layer.data)
    shown = dict(zip(*(v.tolist() for v in np.unique(deleted[both], return_counts=True))))
    assert shown == {7: owners[7], 9: owners[9]}
    correct.undo_button.click()
    np.testing.assert_array_equal(layer.data, before)

    y, x = (int(v) for v in np.argwhere(both)[0])
    layer.fill((y, x), 0)  # napari's bucket erasing worm 4 whole: as the Delete
    np.testing.assert_array_equal(layer.data, deleted)
    stack = object_stack(viewer, layer, np.asarray(layer.data))
    masks = dict(zip(stack.ids.tolist(), stack.masks))
    assert 4 not in masks and masks[9][both].sum() == owners[9]
    layer.undo()  # (one step: the fill and the pieces shown)
    np.testing.assert_array_equal(layer.data, before)

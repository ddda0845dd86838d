"""Hidden parts painted by hand into the "overlaps" layer (worms2d's crossing worms 4 and 7
of the ``worms_result`` crop of BBBC010 B15): Export's stack, Evaluate's overlapping scoring
(:func:`object_stack`) and the layer itself agree with what the screen shows, with the
network result kept as without it (s35 t21, finding 1: the paint was shown but left out of
Export's stack, which said "hidden parts from the network")."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from tessella._widgets import _results
from tessella._widgets._object_stack import object_stack
from tests.widgets.conftest import worms_in_viewer


@pytest.fixture
def worms(make_napari_viewer, worms_result):
    return worms_in_viewer(make_napari_viewer, worms_result)


def _masks(viewer, layer):
    stack = object_stack(viewer, layer, np.asarray(layer.data))
    return dict(zip(stack.ids.tolist(), stack.masks)), stack.source


def _beyond_the_crossing(layer, instances) -> np.ndarray:
    """Pixels of worm 4 (shown) next to its crossing with worm 7 that the network did not
    give worm 7: where a user says worm 7 runs on under worm 4."""
    both = instances.sum(axis=0) > 1
    near = ndimage.binary_dilation(both, iterations=4)
    return near & (np.asarray(layer.data) == 4) & ~instances[6]


@pytest.mark.parametrize("dropped", [False, True], ids=["result kept", "result dropped"])
def test_a_hidden_part_painted_in_the_overlaps_layer_is_exported(worms, dropped, tmp_path):
    import tifffile

    viewer, correct, layer, overlaps, instances = worms
    if dropped:
        _results.discard(layer)
    painted = _beyond_the_crossing(layer, instances)
    assert painted.sum() > 20
    overlaps.data_setitem(np.nonzero(painted), 7)  # napari's painting call, as the brush
    masks, source = _masks(viewer, layer)
    np.testing.assert_array_equal(masks[7], instances[6] | painted)  # was: without them
    np.testing.assert_array_equal(masks[4], instances[3])  # shown there, still whole
    if not dropped:
        assert "painted" in source, source
    from tessella._widgets._evaluate_run import _prediction_masks  # (Evaluate's prediction)

    scored, _how = _prediction_masks(viewer, layer)
    assert any(np.array_equal(mask, instances[6] | painted) for mask in scored)
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    export.labels_combo.setCurrentIndex(export.labels_combo.findData(layer.unique_id))
    export.path_edit.setText(str(tmp_path / "worms"))
    export.stack_checkbox.setChecked(True)
    assert export.export(), export.status_label.text()
    written = tifffile.imread(tmp_path / "worms.stack.tif").astype(bool)
    assert any(np.array_equal(page, instances[6] | painted) for page in written)

    # an edit elsewhere (worm 1 deleted) keeps the paint, on screen and in the stack
    correct.set_selection([1])
    assert correct.delete()
    assert (overlaps.data[painted] == 7).all()
    masks, _source = _masks(viewer, layer)
    np.testing.assert_array_equal(masks[7], instances[6] | painted)
    correct.undo_button.click()
    masks, _source = _masks(viewer, layer)
    np.testing.assert_array_equal(masks[7], instances[6] | painted)


def test_a_hidden_part_erased_from_the_overlaps_layer_is_left_out(worms):
    """The layer as shown, both ways: erasing worm 7 where worm 4 hides it takes those
    pixels from worm 7 (worm 4 keeps them, shown)."""
    viewer, correct, layer, overlaps, instances = worms
    both = instances.sum(axis=0) > 1
    half = both & (np.cumsum(both.ravel()).reshape(both.shape) <= both.sum() // 2)
    overlaps.data_setitem(np.nonzero(half), 0)  # napari's eraser
    masks, _source = _masks(viewer, layer)
    np.testing.assert_array_equal(masks[7], instances[6] & ~half)
    np.testing.assert_array_equal(masks[4], instances[3])
    overlaps.undo()  # the eraser undone: worm 7 whole again
    masks, _source = _masks(viewer, layer)
    np.testing.assert_array_equal(masks[7], instances[6])


def test_a_new_segment_result_forgets_the_paint(worms):
    """The overlaps layer written anew (Segment, Tune) starts over: paint made for the old
    result does not stick to the new one."""
    viewer, correct, layer, overlaps, instances = worms
    painted = _beyond_the_crossing(layer, instances)
    overlaps.data_setitem(np.nonzero(painted), 7)
    overlaps.data = np.array(overlaps.data) * 0 + (instances[6] & (layer.data != 7)) * 7
    masks, _source = _masks(viewer, layer)
    np.testing.assert_array_equal(masks[7], instances[6])


def test_the_paint_follows_its_worm_through_relabel_and_undo(worms):
    """Relabel 1..N after a Delete renames the worms: what was painted as worm 7 is the
    same worm's under its new ID (was: the worm that took ID 7 got it), and back on Undo."""
    viewer, correct, layer, overlaps, instances = worms
    painted = _beyond_the_crossing(layer, instances)
    overlaps.data_setitem(np.nonzero(painted), 7)
    correct.set_selection([1])
    assert correct.delete()
    assert correct.relabel()
    labels = np.asarray(layer.data)
    renamed = int(np.bincount(labels[instances[6] & (labels > 0)]).argmax())
    assert renamed == 6  # (worm 1 deleted: 7 is 6 now, and 8 is 7)
    masks, _source = _masks(viewer, layer)
    np.testing.assert_array_equal(masks[6], instances[6] | painted)
    assert not masks[7][painted].any()
    assert (overlaps.data[painted] == 6).all()  # the layer shows it so
    correct.undo_button.click()  # the relabel undone: worm 7 again, with its paint
    masks, _source = _masks(viewer, layer)
    np.testing.assert_array_equal(masks[7], instances[6] | painted)
    assert (overlaps.data[painted] == 7).all()

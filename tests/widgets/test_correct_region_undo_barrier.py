"""Correct on labels on disk: Undo after a Write back of a whole-object Delete or Merge
(s32/r7 finding 1). The Write back changed the whole object in the file and forgot the edit,
but the region layer kept its history: Undo said 'Undid: …' and brought back only the
object's pixels in the region, and the next Write back renumbered them (object 4: 566 px
outside left 0, its pixel inside written as 130). Now such a Write back is a barrier: the
region layer's history starts over, Undo says that the edits were already written back, and
the file and the layer agree."""

from __future__ import annotations

import numpy as np
import zarr

from tests.widgets.test_correct_region_on_disk import (  # noqa: F401  (result: a fixture)
    _crossing,
    _load,
    _open,
    _wait,
    result,
)


def _panel_and_region(make_napari_viewer, qtbot, path):
    viewer = make_napari_viewer()
    lazy = _open(viewer, path)
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findData(lazy.unique_id))
    edit, region = _load(viewer, correct, qtbot)
    return correct, edit, region


def _undo_then_write_again(correct, edit, qtbot, path) -> np.ndarray:
    """Undo with the panel and with napari (Ctrl+Z), then Write back again; the file after."""
    shown = np.array(edit.data)
    assert not correct.undo_button.isEnabled()
    assert "already written back" in correct.undo_button.toolTip()
    correct.undo()
    words = correct.status_label.text()
    assert "already written back to" in words and "can't be undone" in words, words
    assert "Undid" not in words
    edit.undo()  # (Ctrl+Z on the layer: nothing in its history)
    np.testing.assert_array_equal(edit.data, shown)
    assert correct.write_back()
    _wait(qtbot, correct)
    return np.asarray(zarr.open(str(path), mode="r")[...])


def _agree(stored: np.ndarray, expected: np.ndarray, edit, box) -> None:
    """The file is the labels expected outside the region and the layer's inside it."""
    outside = np.ones(stored.shape, bool)
    outside[box] = False
    np.testing.assert_array_equal(stored[outside], expected[outside])
    np.testing.assert_array_equal(stored[box], np.asarray(edit.data))


def test_a_written_delete_cannot_be_undone(make_napari_viewer, qtbot, result):  # noqa: F811
    path, before = result
    correct, edit, region = _panel_and_region(make_napari_viewer, qtbot, path)
    box = region.box
    gone = _crossing(before, box)[0]
    correct.set_selection([gone])
    assert correct.delete()
    assert correct.write_back()
    _wait(qtbot, correct)
    assert "can no longer be undone" in correct.status_label.text()
    stored = _undo_then_write_again(correct, edit, qtbot, path)
    assert gone not in np.unique(np.asarray(edit.data))
    expected = np.where(before == gone, 0, before)
    _agree(stored, expected, edit, box)
    assert not np.any(stored[before == gone])  # deleted everywhere, none renumbered


def test_a_written_merge_cannot_be_undone(make_napari_viewer, qtbot, result):  # noqa: F811
    path, before = result
    correct, edit, region = _panel_and_region(make_napari_viewer, qtbot, path)
    box = region.box
    a, b = _crossing(before, box)[:2]
    loser, target = max(a, b), min(a, b)
    correct.set_selection([a, b])
    assert correct.merge()
    assert correct.write_back()
    _wait(qtbot, correct)
    stored = _undo_then_write_again(correct, edit, qtbot, path)
    assert loser not in np.unique(np.asarray(edit.data))
    expected = np.where(before == loser, target, before)
    _agree(stored, expected, edit, box)
    assert set(np.unique(stored[before == loser]).tolist()) == {target}


def test_a_written_brush_stroke_keeps_its_undo(make_napari_viewer, qtbot, result):  # noqa: F811
    """Only a Write back of Deletes or Merges is a barrier: a brush stroke written back can
    still be undone (the next Write back writes the region as the layer shows it)."""
    path, before = result
    correct, edit, region = _panel_and_region(make_napari_viewer, qtbot, path)
    loaded = np.array(edit.data)
    some = int(np.unique(loaded[loaded > 0])[0])  # (an object loaded: not renumbered)
    background = tuple(axis[:10] for axis in np.nonzero(loaded == 0))
    edit.data_setitem(background, some)
    assert correct.write_back()
    _wait(qtbot, correct)
    assert correct.undo_button.isEnabled()
    correct.undo()
    assert "Undid" in correct.status_label.text()
    np.testing.assert_array_equal(edit.data, loaded)
    assert correct.write_back()
    _wait(qtbot, correct)
    stored = np.asarray(zarr.open(str(path), mode="r")[...])
    np.testing.assert_array_equal(stored, before)

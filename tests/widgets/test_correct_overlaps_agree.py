"""Correct at the crossing of worms 4 (on top) and 7 of BBBC010 B15 (worms2d, the
``worms_result`` crop): after any sequence of Delete, napari's eraser and fill, Undo and
Redo, the labels, the "overlaps" layer and Export's stack (:func:`object_stack`) agree, with
the network result kept or dropped (Tessella keeps 4)."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _results
from tessella._widgets._object_stack import hidden_objects, object_stack
from tests.widgets.conftest import worms_in_viewer


@pytest.fixture
def worms(make_napari_viewer, worms_result):
    return worms_in_viewer(make_napari_viewer, worms_result)


def _agrees(viewer, layer, overlaps) -> dict[int, np.ndarray]:
    """No object of Export's stack where the labels show background, each object of the
    labels whole in it, the overlaps layer showing what it hides. ``{id: mask}``."""
    labels = np.asarray(layer.data)
    stack = object_stack(viewer, layer, labels)
    masks = dict(zip(stack.ids.tolist(), stack.masks))
    gap = stack.masks.any(axis=0) & (labels == 0)
    assert not gap.any(), f"{gap.sum()} px of background where {stack.source} has objects"
    for label in np.unique(labels[labels > 0]).tolist():
        assert masks[label][labels == label].all()
    np.testing.assert_array_equal(overlaps.data, hidden_objects(stack, labels, overlaps.data.dtype))
    return masks


def _exported(viewer, layer, tmp_path) -> np.ndarray:
    """The mask stack Export writes of ``layer`` (bool, one page an object)."""
    import tifffile

    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    export.labels_combo.setCurrentIndex(export.labels_combo.findData(layer.unique_id))
    export.path_edit.setText(str(tmp_path / "worms"))
    export.stack_checkbox.setChecked(True)
    assert export.export(), export.status_label.text()
    return tifffile.imread(tmp_path / "worms.stack.tif").astype(bool)


def _crossing(layer, instances):
    both = instances.sum(axis=0) > 1
    y, x = (int(v) for v in np.argwhere(both)[both.sum() // 2])
    return both, (y, x)


@pytest.mark.parametrize("dropped", [False, True], ids=["result kept", "result dropped"])
def test_erasing_the_worm_shown_after_a_delete(worms, dropped, tmp_path):
    viewer, correct, layer, overlaps, instances = worms
    both, (y, x) = _crossing(layer, instances)
    if dropped:
        _results.discard(layer)
    correct.set_selection([4])
    assert correct.delete()
    assert (np.asarray(layer.data)[both] == 7).all()
    after_delete = np.array(layer.data)
    layer.paint((y, x), 0)  # napari's eraser over worm 7 where it now shows
    erased = (after_delete > 0) & (np.asarray(layer.data) == 0)
    assert (erased & both).sum() > 20
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[7], instances[6] & ~erased)
    written = _exported(viewer, layer, tmp_path)  # Export's own stack file, as checked
    assert not (written.any(axis=0) & (np.asarray(layer.data) == 0)).any()
    assert any(np.array_equal(page, instances[6] & ~erased) for page in written)
    layer.undo()
    np.testing.assert_array_equal(layer.data, after_delete)
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[7], instances[6])
    layer.redo()
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[7], instances[6] & ~erased)
    layer.undo()
    correct.undo_button.click()
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[4], instances[3])
    np.testing.assert_array_equal(masks[7], instances[6])


@pytest.mark.parametrize("dropped", [False, True], ids=["result kept", "result dropped"])
def test_erasing_the_top_worm_at_the_crossing(worms, dropped):
    viewer, correct, layer, overlaps, instances = worms
    both, (y, x) = _crossing(layer, instances)
    if dropped:
        _results.discard(layer)
    before = np.array(layer.data)
    layer.paint((y, x), 0)
    erased = (before > 0) & (np.asarray(layer.data) == 0)
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[4], instances[3] & ~erased)
    np.testing.assert_array_equal(masks[7], instances[6] & ~erased)
    layer.undo()
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[7], instances[6])
    layer.fill((y, x), 0)  # worm 4 whole: 7 shows
    assert (np.asarray(layer.data)[both] == 7).all()
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[7], instances[6])
    layer.undo()
    np.testing.assert_array_equal(layer.data, before)
    _agrees(viewer, layer, overlaps)


@pytest.mark.parametrize("dropped", [False, True], ids=["result kept", "result dropped"])
def test_any_sequence_of_edits_undo_and_redo_agrees(worms, dropped):
    """Random Deletes, eraser dabs, fills with 0, brush dabs, Undo and Redo around the
    crossing (a fixed seed): after each, the labels, the overlaps layer and Export agree."""
    viewer, correct, layer, overlaps, instances = worms
    both, _centre = _crossing(layer, instances)
    near = np.argwhere(both)
    if dropped:
        _results.discard(layer)
    rng = np.random.default_rng(3)
    done = []
    for _n in range(14):
        what = rng.choice(["delete", "erase", "fill", "paint", "undo", "redo"])
        y, x = (int(v) for v in near[rng.integers(len(near))] + rng.integers(-4, 5, 2))
        here = int(layer.data[y, x])
        if what == "delete" and here:
            correct.set_selection([here])
            correct.delete()
        elif what == "erase":
            layer.paint((y, x), 0)
        elif what == "fill" and here:
            layer.fill((y, x), 0)
        elif what == "paint":
            layer.paint((y, x), int(rng.choice([4, 7, 30])))
        elif what == "undo":
            correct.undo_button.click()
        elif what == "redo":
            layer.redo()
        done.append(f"{what} at {(y, x)} ({here})")
        try:
            _agrees(viewer, layer, overlaps)
        except AssertionError as exc:
            raise AssertionError(f"after {done}: {exc}") from None


def test_a_napari_whose_step_cannot_be_extended_warns(worms, monkeypatch):
    """Where napari's history is not what Tessella knows (an upgrade), the fill of the worm
    on top shows no worm under it, says so, and Export and the overlaps layer agree with
    the gap the labels show."""
    from tessella._widgets import _correct_edits

    viewer, correct, layer, overlaps, instances = worms
    both, (y, x) = _crossing(layer, instances)
    monkeypatch.setattr(_correct_edits, "_history", lambda layer, which: None)
    with pytest.warns(UserWarning, match="could not show there"):
        layer.fill((y, x), 0)
    assert not np.asarray(layer.data)[both].any()
    masks = _agrees(viewer, layer, overlaps)
    np.testing.assert_array_equal(masks[7], instances[6] & ~both)

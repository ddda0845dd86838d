"""Session 35, t20 #1: a Tune preview of one slice of a volume after a Correct merge of two
3D objects quietly replaced the merge on that slice, so the merged object was cut in two
there (63 on the other slices, 499 on slice 2) and exported so. The README promises that an
update replacing the user's own painting or corrections says so; only whole-layer updates
did. A slice preview now keeps the merges made there in Correct (its objects take the IDs
of the objects before the merge, then merged again), and where it replaces other edits of
its slice it warns, naming the slice and that Ctrl+Z brings them back; one of a slice the
user did not edit says nothing. So does a frame preview of a movie.

Real data: em-membranes2d's result on four sections of the ISBI 2012 stack (their membranes
blurred into a boundary probability, as in test_tune_boundary_slice_in_3d)."""

from __future__ import annotations

import numpy as np

from tessella._widgets import tune as tune_module
from tessella._widgets._correct_edits import _merge_into_first
from tessella.engine.methods import Prediction, boundary
from tessella.engine.pipeline import SegmentResult, resolve_params
from tessella.engine.registry import load_model
from tests.widgets.test_tune_boundary_slice_in_3d import _apply_to_all, _isbi_result
from tests.widgets.test_tune_gaps import _volume_in_tune
from tests.widgets.test_tune_widget import change, place

_MADE: dict = {}


def _result(data_dir) -> SegmentResult:
    """em-membranes2d's result on a 256 x 256 corner of four ISBI sections."""
    if "isbi4" not in _MADE:  # (once a session)
        whole = _isbi_result(data_dir, depth=4).predictions[0]
        arrays = {name: array[..., :256, :256].copy() for name, array in whole.arrays.items()}
        prediction = Prediction(arrays, "ZYX", dict(whole.meta))
        model = load_model("em-membranes2d")
        params = resolve_params(model)
        labels = boundary.postprocess(prediction, params)
        _MADE["isbi4"] = SegmentResult(labels, "ZYX", [prediction], params, model)
    return _MADE["isbi4"]


def _two_neighbours_in_every_slice(labels: np.ndarray) -> list[int]:
    """Two touching objects of slice 2 that are in every slice: the object at the centre
    and the first other one along its row."""
    row = labels[2, labels.shape[1] // 2]
    first = int(row[row.size // 2])
    others = [int(v) for v in row[row.size // 2 :] if v not in (0, first)]
    every = set.intersection(*(set(np.unique(s).tolist()) for s in labels))
    pair = [first, next(v for v in others if v in every)]
    assert first in every
    return pair


def _merge(layer, ids) -> None:
    """Merge ``ids`` as Correct does: one step of the layer's undo history."""
    change = _merge_into_first(np.asarray(layer.data), ids)
    layer.data_setitem(change.indices, change.values)


def test_a_slice_preview_keeps_a_merge_and_says_what_it_replaced(
    docked_tune, qtbot, data_dir, monkeypatch
):
    warned: list[str] = []
    monkeypatch.setattr(tune_module, "show_warning", warned.append)
    viewer, tune, layer = _volume_in_tune(docked_tune, _result(data_dir), z=2)
    # t20's steps: Apply to all, then a 3D merge in Correct
    _apply_to_all(qtbot, tune)
    assert warned == []
    ids = _two_neighbours_in_every_slice(layer.data)
    _merge(layer, ids)
    merged = layer.data.copy()
    region = merged[2] == ids[0]

    # a preview of slice 2 keeps the merge: no object cut in two there, nothing to warn of
    change(qtbot, tune, timeout=60_000, min_size=100)
    assert warned == [], warned
    assert f"your merge of {ids[1]} into {ids[0]} kept" in tune.status_label.text()
    assert ids[1] not in layer.data[2]
    assert np.mean(layer.data[2][region] == ids[0]) > 0.9  # (its pieces all 63 again)
    np.testing.assert_array_equal(layer.data[[0, 1, 3]], merged[[0, 1, 3]])

    # slice 1 holds the merge and an object erased: the preview keeps the merge, brings
    # the object back and says so, naming the slice
    other = next(v for v in np.unique(merged[1]).tolist() if v not in (0, *ids))
    rows, cols = np.nonzero(layer.data[1] == other)
    layer.data_setitem((np.ones_like(rows), rows, cols), 0)
    edited = layer.data.copy()
    viewer.dims.set_current_step(0, 1)
    change(qtbot, tune, timeout=60_000, min_size=120)
    assert len(warned) == 1, warned
    assert "preview of slice 1 replaced your edits of 'vol labels' on that slice" in warned[0]
    assert "your merges there are kept" in warned[0]
    assert "Ctrl+Z brings them back" in warned[0]
    assert ids[1] not in layer.data[1]

    # slice 1 is now as Tune wrote it: another preview of it replaces no edit
    change(qtbot, tune, timeout=60_000, min_size=150)
    assert len(warned) == 1, warned

    # Ctrl+Z brings the edits back
    for _step in range(3):  # (a preview that changes nothing is no step)
        if not np.array_equal(layer.data[1], edited[1]):
            layer.undo()
    np.testing.assert_array_equal(layer.data[1], edited[1])


def test_a_slice_preview_says_so_without_apply_to_all_and_not_for_other_slices(
    docked_tune, qtbot, data_dir, monkeypatch
):
    """Segment, then an edit of slice 0 only (Tune wrote nothing yet): a preview of slice 2
    replaces no edit and says nothing; one of slice 0 warns."""
    warned: list[str] = []
    monkeypatch.setattr(tune_module, "show_warning", warned.append)
    viewer, tune, layer = _volume_in_tune(docked_tune, _result(data_dir), z=2)
    target = int(layer.data[0, 128, 128])
    rows, cols = np.nonzero(layer.data[0] == target)
    layer.data_setitem((np.zeros_like(rows), rows, cols), 0)  # erased on slice 0 only
    edited = layer.data.copy()

    change(qtbot, tune, timeout=60_000, min_size=100)
    assert warned == [], warned
    np.testing.assert_array_equal(layer.data[0], edited[0])
    assert "slice 0 changed since Tune wrote it" in tune.status_label.text()

    viewer.dims.set_current_step(0, 0)
    change(qtbot, tune, timeout=60_000, min_size=120)
    assert len(warned) == 1 and "preview of slice 0 replaced" in warned[0], warned
    layer.undo()
    np.testing.assert_array_equal(layer.data[0], edited[0])


def test_a_frame_preview_over_edits_of_that_frame_says_so(
    docked_tune, result_tyx, qtbot, monkeypatch
):
    """The same for a movie: a frame previewed over its edits warns, naming the frame; one
    of a frame not edited does not."""
    warned: list[str] = []
    monkeypatch.setattr(tune_module, "show_warning", warned.append)
    viewer, tune = docked_tune
    layer = place(viewer, result_tyx, name="movie labels")
    target = int(np.bincount(layer.data[1].ravel())[1:].argmax()) + 1  # frame 1's largest
    rows, cols = np.nonzero(layer.data[1] == target)
    layer.data_setitem((np.ones_like(rows), rows, cols), 0)  # erased on frame 1 only
    edited = layer.data.copy()

    viewer.dims.set_current_step(0, 0)
    change(qtbot, tune, min_size=5, seed_thresh=0.3)  # frame 0: not edited
    assert warned == [], warned
    viewer.dims.set_current_step(0, 1)
    change(qtbot, tune, min_size=6)
    assert len(warned) == 1 and "preview of frame 1 replaced your edits" in warned[0], warned
    assert "on that frame" in warned[0] and "Ctrl+Z brings them back" in warned[0]
    layer.undo()
    np.testing.assert_array_equal(layer.data[1], edited[1])

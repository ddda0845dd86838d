"""Export writes the divisions the user sees and edited on a Segment result whose Tracks layer
was deleted (session 33's gap): after Correct's *Break track here* and *Set parent* on
labels segmented in the Segment panel, deleting the Tracks layer made Export's CTC
res_track.txt go back to the result's own divisions (Export looked at Segment's result
before the divisions kept with the labels). A new Segment run placed in the same layer
(which keeps the layer's other metadata) makes those kept divisions stale: Export then
writes the new result's.

Tune's *Apply to all* makes new labels with their own divisions, which the user then sees:
Export writes those once the Tracks layer is deleted (it wrote the divisions set by hand
before Tune), Ctrl+Z of it brings the hand-set ones back, and a Tracks layer the user
deleted stays deleted through the undo.

The data: SIM+ 01 frames t050-t055 (a 192 x 192 crop), segmented and linked by cells2dt in
the Segment panel (the network run once per session: tests/widgets/_sim_segmented.py)."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _results
from tessella._widgets._tracks_layer import current_lineage
from tests.widgets._sim_segmented import FRAMES, segmented_sim
from tests.widgets.test_correct_lineage_edits import _correct, _graph, _res_track
from tests.widgets.test_tune_lineage_undo import _apply_to_all, _divisions, _tune_after


@pytest.fixture
def segmented(make_napari_viewer, data_dir, run_to_end, tmp_path, monkeypatch):
    """SIM+ 01's frames 50-55 (a crop, one TIFF per frame) segmented with cells2dt in the
    Segment panel (the network run once per session: :mod:`tests.widgets._sim_segmented`):
    the viewer, the panel and its labels layer."""
    return segmented_sim(make_napari_viewer, data_dir, run_to_end, tmp_path, monkeypatch)


def test_export_writes_divisions_set_by_hand_after_the_tracks_layer_is_deleted(
    segmented, run_to_end, tmp_path
):
    viewer, segment, layer = segmented
    correct = _correct(viewer, layer)
    made = _divisions(_res_track(viewer, layer, tmp_path / "segmented"))
    viewer.dims.set_current_step(0, 3)
    correct.set_selection([1])
    assert correct.break_track(), correct.status_label.text()  # (the labels are edited)
    [new] = correct.selected_ids()
    assert correct.set_parent(), correct.status_label.text()  # the new track: 1's daughter
    by_hand = made | {(new, 1)}
    assert _divisions(_res_track(viewer, layer, tmp_path / "edited")) == by_hand

    viewer.layers.remove(_results.tracks_layer(viewer, layer))
    assert _results.get(layer) is not None  # Segment's result is still behind the labels
    assert (new, 1) in set(current_lineage(viewer, layer).items())
    assert _divisions(_res_track(viewer, layer, tmp_path / "deleted")) == by_hand

    # a new run placed in the same layer: its own divisions, not those set by hand before
    segment.replace_edited_checkbox.setChecked(True)
    run_to_end(segment)
    assert [lay for lay in viewer.layers if lay.name.endswith("labels (cells2dt)")] == [layer]
    assert not np.any(layer.data == new)
    viewer.layers.remove(_results.tracks_layer(viewer, layer))
    last = len(FRAMES) - 1
    viewer.dims.set_current_step(0, last)
    lone = _lone_cells(layer, made)[0]  # (its track ends a frame sooner)
    correct.set_selection([lone])
    assert correct.delete(), correct.status_label.text()  # (edited again: no recorded state)
    assert _results.lineage_on_screen(layer) is None
    assert _divisions(_res_track(viewer, layer, tmp_path / "again")) == made


def _lone_cells(layer, divisions) -> list[int]:
    """The cells of the last frame in no division that are also in the frame before."""
    last = len(FRAMES) - 1
    return [
        int(i)
        for i in np.unique(layer.data[last])
        if i and all(int(i) not in pair for pair in divisions) and (layer.data[last - 1] == i).any()
    ]


def _delete_in_last_frame(viewer, correct, cell: int) -> None:
    viewer.dims.set_current_step(0, len(FRAMES) - 1)
    correct.set_selection([cell])
    assert correct.delete(), correct.status_label.text()


def test_export_writes_tune_s_divisions_after_apply_to_all_over_hand_set_ones(
    segmented, qtbot, monkeypatch, tmp_path
):
    """A division removed by hand (Set parent 0) and a cell deleted, the Tracks layer
    deleted; Tune's Apply to all (the model's own values) makes Segment's labels and
    divisions again, which the Tracks layer Tune draws shows. After the Tracks layer is
    deleted again and another edit, Export wrote the hand-set divisions from before Tune
    (the lineage kept with the labels was not Tune's)."""
    viewer, _segment, layer = segmented
    correct = _correct(viewer, layer)
    segmented_labels = np.asarray(layer.data).copy()
    made = _divisions(_res_track(viewer, layer, tmp_path / "segmented"))
    assert made, "no division in these frames"
    daughter, mother = min(made)
    lone = _lone_cells(layer, made)
    assert len(lone) >= 2
    correct.set_selection([daughter])
    correct.parent_spin.setValue(0)
    assert correct.set_parent(), correct.status_label.text()
    _delete_in_last_frame(viewer, correct, lone[0])  # (labels Tune replaces)
    by_hand = made - {(daughter, mother)}
    edited = np.asarray(layer.data).copy()
    viewer.layers.remove(_results.tracks_layer(viewer, layer))
    assert _divisions(_res_track(viewer, layer, tmp_path / "by_hand")) == by_hand

    tune, warned = _tune_after(viewer, layer, monkeypatch)
    _apply_to_all(qtbot, tune)
    np.testing.assert_array_equal(layer.data, segmented_labels)
    assert len(warned) == 1 and "replaced your edits" in warned[0], warned
    assert set(_graph(viewer, layer).items()) == made  # what the user sees now
    viewer.layers.remove(_results.tracks_layer(viewer, layer))
    _delete_in_last_frame(viewer, correct, lone[1])  # (no recorded state on screen)
    assert _results.lineage_on_screen(layer) is None
    assert _divisions(_res_track(viewer, layer, tmp_path / "tuned")) == made

    correct.undo_button.click()  # the delete
    correct.undo_button.click()  # Tune's Apply to all: the hand-edited labels and divisions
    np.testing.assert_array_equal(layer.data, edited)
    assert _results.tracks_layer(viewer, layer) is None  # (deleted: stays deleted)
    assert _divisions(_res_track(viewer, layer, tmp_path / "undone")) == by_hand
    correct.redo_button.click()  # Tune's again
    np.testing.assert_array_equal(layer.data, segmented_labels)
    _delete_in_last_frame(viewer, correct, lone[1])
    assert _divisions(_res_track(viewer, layer, tmp_path / "redone")) == made

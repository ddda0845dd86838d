"""Tune's *Apply to all* over labels corrected before Tune was opened (r9 finding 2): it must
warn that it replaces the edits, and Undo must bring back the edited labels with their
lineage, a division set by hand included. Tune knew only of edits made while it listened,
so with Tune docked after the edits it said nothing, and Undo brought back the pixels of the
broken track but not its parent (Export wrote track 11 with none).

The data: SIM+ 01 frames t050-t055 (a 192 x 192 crop), segmented and linked by cells2dt in
the Segment panel, then corrected in the Correct panel."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import tune as tune_module
from tests.widgets._sim_segmented import segmented_sim
from tests.widgets.test_correct_lineage_edits import _correct, _graph, _res_track


def _divisions(res: dict) -> set[tuple[int, int]]:
    return {(track, parent) for track, (_b, _e, parent) in res.items() if parent}


@pytest.fixture
def segmented(make_napari_viewer, data_dir, run_to_end, tmp_path, monkeypatch):
    """A viewer with SIM+ 01's frames 50-55 (a crop, one TIFF per frame as in the CTC
    folder) opened and segmented with cells2dt in the Segment panel (the network run once
    per session: :mod:`tests.widgets._sim_segmented`): its labels layer."""
    viewer, _segment, layer = segmented_sim(
        make_napari_viewer, data_dir, run_to_end, tmp_path, monkeypatch
    )
    return viewer, layer


def _tune_after(viewer, layer, monkeypatch) -> tuple:
    """Tune docked now (after the edits), the labels chosen; its warnings collected."""
    warned: list[str] = []
    monkeypatch.setattr(tune_module, "show_warning", warned.append)
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    tune.layer_combo.setCurrentIndex(tune.layer_combo.findData(layer.unique_id))
    return tune, warned


def _apply_to_all(qtbot, tune) -> None:
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.apply_all_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)


def test_undo_of_apply_to_all_brings_back_a_division_set_by_hand(
    segmented, qtbot, monkeypatch, tmp_path
):
    viewer, layer = segmented
    correct = _correct(viewer, layer)
    segmented_labels = np.asarray(layer.data).copy()
    made = _divisions(_res_track(viewer, layer, tmp_path / "segmented"))
    viewer.dims.set_current_step(0, 3)
    correct.set_selection([1])
    assert correct.break_track(), correct.status_label.text()
    [new] = correct.selected_ids()
    assert correct.parent_spin.value() == 1
    assert correct.set_parent(), correct.status_label.text()  # the new track: 1's daughter
    edited = np.asarray(layer.data).copy()
    assert not np.array_equal(edited, segmented_labels)
    by_hand = made | {(new, 1)}
    assert _divisions(_res_track(viewer, layer, tmp_path / "edited")) == by_hand

    tune, warned = _tune_after(viewer, layer, monkeypatch)
    _apply_to_all(qtbot, tune)  # the model's own values: the edits are replaced
    np.testing.assert_array_equal(layer.data, segmented_labels)
    assert len(warned) == 1, warned
    assert f"replaced your edits of '{layer.name}'" in warned[0]
    assert "Ctrl+Z brings them back" in warned[0]
    assert _divisions(_res_track(viewer, layer, tmp_path / "applied")) == made

    correct.undo_button.click()  # the edited labels, with the division set by hand
    np.testing.assert_array_equal(layer.data, edited)
    assert _graph(viewer, layer)[new] == 1
    assert _divisions(_res_track(viewer, layer, tmp_path / "undone")) == by_hand
    correct.redo_button.click()
    np.testing.assert_array_equal(layer.data, segmented_labels)
    assert _divisions(_res_track(viewer, layer, tmp_path / "redone")) == made
    layer.undo()  # Ctrl+Z on the layer
    np.testing.assert_array_equal(layer.data, edited)
    assert _divisions(_res_track(viewer, layer, tmp_path / "ctrl_z")) == by_hand

    _apply_to_all(qtbot, tune)  # the edits, back on screen, replaced again: said again
    assert len(warned) == 2 and f"replaced your edits of '{layer.name}'" in warned[1]
    _apply_to_all(qtbot, tune)  # Tune's own labels replaced: nothing to say
    assert len(warned) == 2


def test_apply_to_all_warns_of_a_delete_made_before_tune_was_opened(segmented, qtbot, monkeypatch):
    viewer, layer = segmented
    correct = _correct(viewer, layer)
    segmented_labels = np.asarray(layer.data).copy()
    viewer.dims.set_current_step(0, 3)
    correct.set_selection([1])
    assert correct.delete(), correct.status_label.text()  # track 1 in frame 3 only
    deleted = np.asarray(layer.data).copy()
    assert not (deleted[3] == 1).any() and (deleted[2] == 1).any()

    tune, warned = _tune_after(viewer, layer, monkeypatch)
    _apply_to_all(qtbot, tune)
    np.testing.assert_array_equal(layer.data, segmented_labels)
    assert len(warned) == 1 and f"replaced your edits of '{layer.name}'" in warned[0]
    correct.undo_button.click()
    np.testing.assert_array_equal(layer.data, deleted)
    correct.redo_button.click()
    _apply_to_all(qtbot, tune)  # Segment's labels again: no edit to replace
    assert len(warned) == 1

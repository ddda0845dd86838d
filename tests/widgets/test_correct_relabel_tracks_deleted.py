"""Correct's Relabel 1..N on a movie whose Tracks layer was deleted renames the divisions kept
with the labels too: after Set parent by hand and the Tracks layer deleted, a relabel left
the kept divisions under the IDs before it (23, 81, 82 where the labels now hold 1, 4, 5),
so Export's res_track.txt lost them (their ends gone); its Undo brings the old ones back,
also after another edit. A Tracks layer the user deleted stays deleted through the Undo and
Redo of a lineage edit (Relabel's, Set parent's), which used to draw it again.

The data: SIM+ 01's ground-truth tracks (01_GT/TRA, frames 50-55, a 120 x 140 crop) around
cell 23, which divides into 81 and 82 at t053 (IDs 23, 41, 58, 81, 82, 84)."""

from __future__ import annotations

import numpy as np

from tessella._widgets import _results
from tessella._widgets._tracks_layer import current_lineage
from tests.widgets.test_correct_lineage_edits import _correct, _gt, _movie, _res_track


def _divisions(res: dict) -> set[tuple[int, int]]:
    return {(track, parent) for track, (_b, _e, parent) in res.items() if parent}


def test_relabel_renames_the_divisions_kept_once_the_tracks_layer_is_deleted(
    make_napari_viewer, data_dir, tmp_path
):
    viewer = make_napari_viewer()
    labels = _gt(data_dir)
    layer = _movie(viewer, labels, {81: 23})
    correct = _correct(viewer, layer)
    correct.set_selection([82])
    correct.parent_spin.setValue(23)
    assert correct.set_parent(), correct.status_label.text()
    viewer.layers.remove(_results.tracks_layer(viewer, layer))
    assert _divisions(_res_track(viewer, layer, tmp_path / "set")) == {(81, 23), (82, 23)}

    assert correct.relabel(), correct.status_label.text()
    relabelled = np.asarray(layer.data).copy()
    new = {i: int(relabelled[labels == i][0]) for i in (23, 81, 82)}
    assert new == {23: 1, 81: 4, 82: 5}
    assert current_lineage(viewer, layer) == {4: 1, 5: 1}
    assert _divisions(_res_track(viewer, layer, tmp_path / "relabelled")) == {(4, 1), (5, 1)}

    correct.undo_button.click()
    np.testing.assert_array_equal(layer.data, labels)
    assert current_lineage(viewer, layer) == {81: 23, 82: 23}
    assert _results.tracks_layer(viewer, layer) is None  # deleted by the user: stays so
    correct.redo_button.click()  # the relabel again
    np.testing.assert_array_equal(layer.data, relabelled)
    assert _results.tracks_layer(viewer, layer) is None
    assert _divisions(_res_track(viewer, layer, tmp_path / "redone")) == {(4, 1), (5, 1)}
    correct.undo_button.click()
    viewer.dims.set_current_step(0, 5)
    correct.set_selection([84])
    assert correct.delete(), correct.status_label.text()  # (no recorded state on screen)
    assert _divisions(_res_track(viewer, layer, tmp_path / "edited")) == {(81, 23), (82, 23)}

    # Set parent draws the Tracks layer again (an edit of the lineage shows what it did);
    # deleted again, the Undo of that edit leaves it deleted, its divisions back
    correct.set_selection([82])
    correct.parent_spin.setValue(0)
    assert correct.set_parent(), correct.status_label.text()
    viewer.layers.remove(_results.tracks_layer(viewer, layer))
    assert current_lineage(viewer, layer) == {81: 23}
    correct.undo_button.click()
    assert _results.tracks_layer(viewer, layer) is None
    assert current_lineage(viewer, layer) == {81: 23, 82: 23}
    assert _divisions(_res_track(viewer, layer, tmp_path / "undone")) == {(81, 23), (82, 23)}

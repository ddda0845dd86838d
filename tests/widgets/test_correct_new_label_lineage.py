"""A new object painted with napari's next free label (the ``M`` key: the largest ID in the
labels plus one) never takes a lineage row (session 33's gap): with the largest IDs deleted
for now, that label is a deleted daughter's, whose division is kept for an undo, and the new
object became her mother's daughter in the Tracks layer and in Export's res_track.txt. Now
painting an ID that was in no pixel before drops its divisions, says so, and Ctrl+Z brings
them back with the pixels.

The data: SIM+ 01's ground-truth tracks (01_GT/TRA, frames 50-55, a 120 x 140 crop) around
cell 23, which divides into 81 and 82 at t053; 84 (t054-t055) is the largest ID."""

from __future__ import annotations

import napari.utils.notifications
import numpy as np
from napari.layers.labels._labels_key_bindings import new_label

from tessella._widgets._tracks_layer import current_lineage
from tests.widgets.test_correct_lineage_edits import _correct, _graph, _gt, _movie, _res_track


def _background_spot(labels: np.ndarray, frame: int, size: int = 14) -> tuple[int, int]:
    """The centre of a ``size`` x ``size`` square of background in ``frame``."""
    free = labels[frame] == 0
    for y in range(size, labels.shape[1] - size, 4):
        for x in range(size, labels.shape[2] - size, 4):
            if free[y - size // 2 : y + size // 2, x - size // 2 : x + size // 2].all():
                return y, x
    raise AssertionError("no background spot")


def test_a_new_label_does_not_take_a_deleted_daughters_mother(
    make_napari_viewer, data_dir, tmp_path, monkeypatch
):
    said: list[str] = []
    monkeypatch.setattr(napari.utils.notifications, "show_info", said.append)
    viewer = make_napari_viewer()
    labels = _gt(data_dir)
    assert int(labels.max()) == 84
    layer = _movie(viewer, labels, {81: 23, 82: 23})
    correct = _correct(viewer, layer)
    correct.all_frames_checkbox.setChecked(True)
    correct.set_selection([82, 84])
    assert correct.delete(), correct.status_label.text()  # 82's division kept for an undo
    assert current_lineage(viewer, layer) == {81: 23, 82: 23}
    deleted = np.asarray(layer.data).copy()

    new_label(layer)  # the M key
    assert layer.selected_label == 82  # (the largest ID left, 81, plus one)
    y, x = _background_spot(deleted, 5)
    layer.brush_size = 5
    with layer.block_history():  # one stroke of two overlapping dabs
        layer.paint((5, y, x), layer.selected_label, refresh=False)
        layer.paint((5, y + 2, x + 2), layer.selected_label)
    assert np.count_nonzero(layer.data == 82) > 20
    assert current_lineage(viewer, layer) == {81: 23}
    assert 82 not in _graph(viewer, layer)
    assert _res_track(viewer, layer, tmp_path / "painted")[82] == (55, 55, 0)
    [notice] = [s for s in said if "painted where there was none" in s]
    assert "label 82" in notice and "82 (daughter of 23)" in notice and "Ctrl+Z" in notice

    layer.paint((5, y, x), 81)  # an ID in use: painting on it keeps every division
    assert current_lineage(viewer, layer) == {81: 23}
    layer.undo()

    layer.undo()  # Ctrl+Z on the layer: the stroke goes, 82's division comes back
    np.testing.assert_array_equal(layer.data, deleted)
    assert current_lineage(viewer, layer) == {81: 23, 82: 23}
    correct.undo_button.click()  # the delete undone: 82 is 23's daughter again
    np.testing.assert_array_equal(layer.data, labels)
    assert _graph(viewer, layer) == {81: 23, 82: 23}
    assert _res_track(viewer, layer, tmp_path / "undone")[82] == (53, 55, 23)
    layer.redo()
    layer.redo()  # the stroke again: the new 82 again without a mother
    assert current_lineage(viewer, layer) == {81: 23}
    assert _res_track(viewer, layer, tmp_path / "redone")[82] == (55, 55, 0)

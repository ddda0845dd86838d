"""Correct's Relabel 1..N on a tracked movie without a Tessella recipe, then Undo and Redo:
the divisions go with the labels (r9 finding 1). A plain TYX TIFF movie opened with the
reader, two divisions set by hand (Set parent), Relabel, Undo gave no division at all in
res_track.txt and the Tracks layer, and Redo none either: the labels before and after the
relabel were remembered with their lineage only for labels with a recipe.

The data: SIM+ 01's ground-truth tracks (01_GT/TRA, frames 50-55, a 120 x 140 crop), where
cell 23 divides into 81 and 82 at t053; the TIFF has no lineage, so they start with none."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella._widgets import _results
from tests.widgets.test_correct_lineage_edits import _correct, _graph, _gt, _movie, _res_track


def _divisions(res: dict) -> list[tuple[int, int]]:
    return sorted((track, parent) for track, (_b, _e, parent) in res.items() if parent)


def _set_parents(widget) -> None:
    for daughter in (81, 82):
        widget.set_selection([daughter, 23])  # daughter, then mother
        widget.parent_spin.setValue(0)
        assert widget.set_parent(), widget.status_label.text()


def _relabel_undo_redo(viewer, layer, widget, tmp_path) -> None:
    """Set parent twice, Relabel, then Undo and Redo: each step's divisions in res_track.txt
    and in the Tracks layer."""
    labels = np.asarray(layer.data).copy()
    _set_parents(widget)
    assert _divisions(_res_track(viewer, layer, tmp_path / "parents")) == [(81, 23), (82, 23)]

    assert widget.relabel(), widget.status_label.text()
    relabelled = np.asarray(layer.data).copy()
    where = ((0, 23), (3, 81), (3, 82))  # (frame, old ID): the new IDs
    one, four, five = (int(relabelled[t][labels[t] == i][0]) for t, i in where)
    assert (one, four, five) != (23, 81, 82)
    after = sorted([(four, one), (five, one)])
    assert _divisions(_res_track(viewer, layer, tmp_path / "relabelled")) == after
    assert _graph(viewer, layer) == dict(after)

    widget.undo_button.click()  # the relabel undone: its IDs and their divisions back
    np.testing.assert_array_equal(layer.data, labels)
    assert _graph(viewer, layer) == {81: 23, 82: 23}
    assert _divisions(_res_track(viewer, layer, tmp_path / "undone")) == [(81, 23), (82, 23)]

    widget.redo_button.click()  # and redone
    np.testing.assert_array_equal(layer.data, relabelled)
    assert _graph(viewer, layer) == dict(after)
    assert _divisions(_res_track(viewer, layer, tmp_path / "redone")) == after

    layer.undo()  # Ctrl+Z on the layer, then the two Set parent steps
    assert _graph(viewer, layer) == {81: 23, 82: 23}
    widget.undo_button.click()
    assert _graph(viewer, layer) == {81: 23}
    widget.undo_button.click()
    assert _graph(viewer, layer) == {}
    assert _divisions(_res_track(viewer, layer, tmp_path / "none")) == []
    for _ in range(3):  # all redone
        widget.redo_button.click()
    np.testing.assert_array_equal(layer.data, relabelled)
    assert _divisions(_res_track(viewer, layer, tmp_path / "all_redone")) == after


def test_relabel_undo_redo_keep_the_divisions_of_a_tiff_movie(
    make_napari_viewer, data_dir, tmp_path
):
    """A labels movie opened from a plain TYX TIFF (no recipe): Set parent, Relabel, Undo."""
    path = tmp_path / "movie_labels.tif"
    tifffile.imwrite(path, _gt(data_dir), imagej=True, metadata={"axes": "TYX"})
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(path), plugin="tessella", layer_type="labels")
    assert "tessella_recipe" not in layer.metadata and layer.data.ndim == 3
    widget = _correct(viewer, layer)
    assert widget._tracks_box.isVisibleTo(widget)
    _relabel_undo_redo(viewer, layer, widget, tmp_path)


def test_relabel_undo_redo_keep_the_divisions_of_console_labels(
    make_napari_viewer, data_dir, tmp_path
):
    """Labels added from the console beside a Tracks layer (no recipe, no recorded state)."""
    viewer = make_napari_viewer()
    layer = _movie(viewer, _gt(data_dir))
    assert _results.lineage_on_screen(layer) is None
    widget = _correct(viewer, layer)
    _relabel_undo_redo(viewer, layer, widget, tmp_path)

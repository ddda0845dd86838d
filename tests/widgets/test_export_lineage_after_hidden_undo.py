"""Export's CTC res_track.txt after Ctrl+Z of a lineage edit on a hidden labels layer (f9's
finding): napari refreshes nothing then, and Correct brought the lineage back only when the
pointer came to its panel or the layer was shown again, so an Export straight after the undo
wrote the division that was undone. Export now follows the lineage edits first.

The data: SIM+ 01's ground-truth tracks (01_GT/TRA, frames 50-55, a 120 x 140 crop), in
which cell 23 divides into 81 and 82 at t053 (as tests/widgets/test_correct_lineage_edits.py
sets it up)."""

from __future__ import annotations

from tessella._widgets import _results
from tests.widgets.test_correct_lineage_edits import _correct, _graph, _gt, _movie, _res_track


def test_export_after_ctrl_z_on_a_hidden_layer_writes_the_undone_lineage(
    make_napari_viewer, data_dir, tmp_path
):
    viewer = make_napari_viewer()
    layer = _movie(viewer, _gt(data_dir))
    widget = _correct(viewer, layer)
    widget.set_selection([82, 23])
    assert widget.set_parent(), widget.status_label.text()
    assert _res_track(viewer, layer, tmp_path / "set")[82] == (53, 55, 23)
    layer.visible = False
    _results.tracks_layer(viewer, layer).visible = True
    layer.undo()  # (Ctrl+Z; the pointer never comes back to Correct)
    assert _res_track(viewer, layer, tmp_path / "undone")[82] == (53, 55, 0)  # (before: 23)
    assert _graph(viewer, layer) == {}  # (the Tracks layer drawn again too)
    layer.redo()
    assert _res_track(viewer, layer, tmp_path / "redone")[82] == (53, 55, 23)

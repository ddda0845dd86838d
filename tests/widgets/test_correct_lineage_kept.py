"""Divisions set by hand in Correct's Tracks box are kept with the labels (review s33/r9 #7:
deleting the Tracks layer silently dropped them from Export), a CTC folder opened lazily
exports the divisions of its track file (review s33/r10 #6: it is no longer read whole to
draw a Tracks layer), and a third daughter set by hand is warned of (review s33/r9 #4: a cell
divides into two).

The data: SIM+ 01's ground-truth tracks (01_GT/TRA, frames 50-55, a 120 x 140 crop) around
cell 23, which divides into 81 and 82 at t053; 41 (t054-t055) is another cell."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._io import LAZY_LABELS_ENV
from tessella._widgets import _results
from tessella._widgets._tracks_layer import current_lineage
from tessella.engine.tracking import read_ctc_tracks, write_ctc
from tests.widgets.helpers import choose_text
from tests.widgets.test_correct_lineage_edits import FRAMES, _correct, _gt, _movie, _res_track


def test_divisions_set_by_hand_outlive_the_tracks_layer(make_napari_viewer, data_dir, tmp_path):
    viewer = make_napari_viewer()
    layer = _movie(viewer, _gt(data_dir))  # labels without a recipe: 81, 82 with no parent
    widget = _correct(viewer, layer)
    for daughter in (81, 82):
        widget.set_selection([daughter])
        widget.parent_spin.setValue(23)
        assert widget.set_parent(), widget.status_label.text()
    viewer.layers.remove(_results.tracks_layer(viewer, layer))
    assert _results.tracks_layer(viewer, layer) is None
    assert current_lineage(viewer, layer) == {81: 23, 82: 23}
    res = _res_track(viewer, layer, tmp_path / "deleted")
    assert res[81] == (53, 55, 23) and res[82] == (53, 55, 23)
    widget.undo_button.click()  # the Tracks layer comes back, without 82's parent
    assert current_lineage(viewer, layer) == {81: 23}
    assert _res_track(viewer, layer, tmp_path / "undone")[82] == (53, 55, 0)


def test_a_third_daughter_is_warned_of(make_napari_viewer, data_dir):
    viewer = make_napari_viewer()
    labels = _gt(data_dir)
    assert {23, 41, 81, 82} <= set(np.unique(labels).tolist())
    layer = _movie(viewer, labels, {81: 23, 82: 23})
    widget = _correct(viewer, layer)
    widget.set_selection([81])
    widget.parent_spin.setValue(23)
    widget.set_parent()  # (already her mother: nothing changes)
    widget.set_selection([41, 23])  # daughter, then mother
    assert widget.set_parent(), widget.status_label.text()  # valid CTC: set, but said
    said = widget.status_label.text()
    assert "23 now has 3 daughters (41, 81, 82)" in said, said
    assert "divides into two" in said and "81, 82" in said.split("select her")[1], said
    assert current_lineage(viewer, layer) == {81: 23, 82: 23, 41: 23}
    widget.set_selection([82])
    widget.parent_spin.setValue(0)
    assert widget.set_parent(), widget.status_label.text()
    assert "daughters" not in widget.status_label.text()
    assert current_lineage(viewer, layer) == {81: 23, 41: 23}


def test_a_ctc_folder_opened_lazily_exports_its_divisions(
    make_napari_viewer, data_dir, tmp_path, monkeypatch, qtbot
):
    folder = tmp_path / "01_RES"
    write_ctc(_gt(data_dir), {81: 23, 82: 23}, folder, frame_numbers=FRAMES)
    monkeypatch.setenv(LAZY_LABELS_ENV, "1000")  # (6 x 120 x 140 over it: lazily)
    viewer = make_napari_viewer()
    with pytest.warns(UserWarning, match="not checked against the masks"):
        (layer,) = viewer.open(str(folder), plugin="tessella")
    assert not isinstance(layer.data, np.ndarray)
    assert current_lineage(viewer, layer) == {81: 23, 82: 23}
    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    choose_text(export.labels_combo, layer.name)
    export.path_edit.setText(str(tmp_path / "again"))
    for box in ("tiff", "zarr", "csv", "recipe"):
        getattr(export, f"{box}_checkbox").setChecked(False)
    export.ctc_checkbox.setChecked(True)
    assert export.ctc_checkbox.isEnabled(), export.ctc_checkbox.toolTip()
    with qtbot.waitSignal(export.exported, timeout=60_000):  # (labels on disk: a worker)
        export.export_button.click()
    tracks = read_ctc_tracks(tmp_path / "again_RES" / "res_track.txt")
    res = {k.id: (k.start, k.end, k.parent) for k in tracks}
    assert res[81] == (53, 55, 23) and res[82] == (53, 55, 23) and res[23] == (50, 52, 0)

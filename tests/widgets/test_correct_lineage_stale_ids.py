"""Correct's Tracks box against divisions kept for deleted objects (r10 #2) and against a swap
that would carry a mother past her division (r10 #3), in a real napari viewer on SIM+ 01's
ground-truth tracks (01_GT/TRA, frames 8-13): track 24 divides in t010 into 35 and 36 (the
highest ID there); 29 and 30 run through.

Before: after Delete of daughter 36 in all frames, Break track on 29 gave the new track ID 36,
whose kept lineage entry made Export's res_track.txt say ``36 4 5 24`` (a division that does
not exist) while the status line offered Set parent; and Swap from here of 30 onto 24 after
24's division went through, leaving 24 overlapping its daughters."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella._widgets import _results
from tessella._widgets._tracks_layer import current_lineage
from tessella.engine.tracking import read_ctc_tracks
from tests.widgets.helpers import choose_text

FRAMES = list(range(8, 14))


@pytest.fixture
def movie(make_napari_viewer, data_dir):
    tra = data_dir / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "TRA"
    if not tra.is_dir():
        pytest.skip("SIM+ 01_GT/TRA not in the shared data")
    labels = np.stack([tifffile.imread(tra / f"man_track{t:03d}.tif") for t in FRAMES])
    present = set(np.unique(labels).tolist())
    lineage = {
        k.id: k.parent
        for k in read_ctc_tracks(tra / "man_track.txt")
        if k.parent and k.id in present
    }
    assert int(labels.max()) == 36 and lineage[36] == lineage[35] == 24
    viewer = make_napari_viewer()
    layer = viewer.add_labels(
        labels, name="01 labels", metadata={"axes": "TYX", "frame_numbers": FRAMES}
    )
    _results.show_tracks(viewer, layer, np.asarray(layer.data), lineage, linked=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    return viewer, layer, widget


def _res_track(viewer, layer, base) -> dict[int, tuple[int, int, int]]:
    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    choose_text(export.labels_combo, layer.name)
    export.path_edit.setText(str(base))
    for box in ("tiff", "zarr", "csv", "recipe"):
        getattr(export, f"{box}_checkbox").setChecked(False)
    export.ctc_checkbox.setChecked(True)
    assert export.export(), export.status_label.text()
    tracks = read_ctc_tracks(base.parent / f"{base.name}_RES" / "res_track.txt")
    return {k.id: (k.start, k.end, k.parent) for k in tracks}


def test_break_after_deleting_a_daughter_exports_no_division_of_the_new_track(movie, tmp_path):
    viewer, layer, widget = movie
    widget.all_frames_checkbox.setChecked(True)
    widget.set_selection([36])
    assert widget.delete(), widget.status_label.text()
    assert not (np.asarray(layer.data) == 36).any()
    widget.all_frames_checkbox.setChecked(False)
    viewer.dims.set_current_step(0, 4)  # t012
    widget.set_selection([29])
    widget.break_track_button.click()
    said = widget.status_label.text()
    assert "break track 29 (from there on track 37)" in said, said  # (before: 36)
    assert current_lineage(viewer, layer).get(37) is None
    rows = _res_track(viewer, layer, tmp_path / "out")
    assert rows[37] == (12, 13, 0)  # (before: 36 12 13 24; frames numbered as the sequence)
    assert rows[29] == (8, 11, 0) and rows[35] == (11, 13, 24) and 36 not in rows


def test_swap_onto_a_mother_after_her_division_is_refused_and_changes_nothing(movie):
    viewer, layer, widget = movie
    before = np.asarray(layer.data).copy()
    lineage = current_lineage(viewer, layer)
    viewer.dims.set_current_step(0, 4)  # t012
    widget.set_selection([30, 24])
    widget.swap_tracks_button.click()
    said = widget.status_label.text()
    assert (
        "Swap from here on '01 labels': track 24 ended at a division in frame 2 (t010): its "
        "daughters 35 and 36 begin in frame 3 (t011). Track 30 cannot continue it from frame 4 "
        "(t012) to frame 5 (t013)"
    ) in said, said
    np.testing.assert_array_equal(layer.data, before)
    assert current_lineage(viewer, layer) == lineage


@pytest.mark.parametrize("how", ["line", "watershed"])
def test_a_split_after_deleting_a_daughter_gives_no_division_to_the_new_piece(movie, tmp_path, how):
    """f18's finding for Split: after Delete of daughter 36 in all frames, a split of 29 in
    t012 gave the new piece ID 36, which took over 36's mother (``36 12 12 24``)."""
    viewer, layer, widget = movie
    widget.all_frames_checkbox.setChecked(True)
    widget.set_selection([36])
    assert widget.delete(), widget.status_label.text()
    widget.all_frames_checkbox.setChecked(False)
    viewer.dims.set_current_step(0, 4)  # t012
    widget.set_selection([29])
    ys, xs = np.nonzero(np.asarray(layer.data)[4] == 29)
    if how == "line":
        cy = float(ys.mean())
        line = np.array([[4, cy, xs.min() - 3], [4, cy, xs.max() + 3]], float)
        viewer.add_shapes([line], shape_type="line", name="split lines")
        assert widget.split_along_lines(), widget.status_label.text()
    else:
        cy, cx = float(ys.mean()), float(xs.mean())
        half = (xs.max() - xs.min()) / 4
        viewer.add_points([[4, cy, cx - half], [4, cy, cx + half]], name="split seeds")
        assert widget.split_watershed(), widget.status_label.text()
    said = widget.status_label.text()
    assert "(new: 37)" in said, said  # (before: new: 36)
    rows = _res_track(viewer, layer, tmp_path / "out")
    assert rows[37][2] == 0 and 36 not in rows

"""Export writes the divisions the user sees and edited on a Segment result whose Tracks layer
was deleted (session 33's gap): after Correct's *Break track here* and *Set parent* on
labels segmented in the Segment panel, deleting the Tracks layer made Export's CTC
res_track.txt go back to the result's own divisions (Export looked at Segment's result
before the divisions kept with the labels). A new Segment run placed in the same layer
(which keeps the layer's other metadata) makes those kept divisions stale: Export then
writes the new result's.

The data: SIM+ 01 frames t050-t055 (a 192 x 192 crop), segmented and linked by cells2dt in
the Segment panel, as in test_tune_lineage_undo."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella._widgets import _results
from tessella._widgets._tracks_layer import current_lineage
from tests.widgets.helpers import choose_model, choose_text
from tests.widgets.test_correct_lineage_edits import _correct, _res_track
from tests.widgets.test_tune_lineage_undo import CROP, FRAMES, SIM, _divisions


@pytest.fixture
def segmented(make_napari_viewer, data_dir, run_to_end, tmp_path):
    """SIM+ 01's frames 50-55 (a crop, one TIFF per frame) segmented with cells2dt in the
    Segment panel: the viewer, the panel and its labels layer."""
    folder = data_dir / SIM / "01"
    if not folder.is_dir():
        pytest.skip("SIM+ 01 not in the shared data")
    frames = tmp_path / "01"
    frames.mkdir()
    for t in FRAMES:
        tifffile.imwrite(frames / f"t{t:03d}.tif", tifffile.imread(folder / f"t{t:03d}.tif")[CROP])
    viewer = make_napari_viewer()
    [image] = viewer.open(str(frames), plugin="tessella")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_text(segment.layer_combo, image.name)
    choose_model(segment, "cells2dt")
    run_to_end(segment)
    [layer] = [lay for lay in viewer.layers if lay.name.endswith("labels (cells2dt)")]
    return viewer, segment, layer


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
    lone = [
        int(i)
        for i in np.unique(layer.data[last])
        if i and all(int(i) not in pair for pair in made) and (layer.data[last - 1] == i).any()
    ][0]  # a cell in no division, also in the frame before: its track ends a frame sooner
    correct.set_selection([lone])
    assert correct.delete(), correct.status_label.text()  # (edited again: no recorded state)
    assert _results.lineage_on_screen(layer) is None
    assert _divisions(_res_track(viewer, layer, tmp_path / "again")) == made

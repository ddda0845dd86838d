"""napari's File > Save (the Tessella writer) keeps a time-lapse's divisions set by hand and
its frame numbers, as Export's TIFF and recipe do (user test s34/t17 #2: the saved TIFF
reopened without the hand-set division, and Export then numbered its CTC masks from 0)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tessella._io import LabelsChangedWarning
from tessella._io_folder import FRAME_NUMBERS_KEY
from tessella._widgets._tracks_layer import current_lineage

SEG = "ctc_Fluo-N2DH-SIM+/01_GT/SEG"
FRAMES = (5, 6, 7)


@pytest.fixture(scope="module")
def segmented(data_dir, tmp_path_factory):
    """SIM+ 01 frames 5-7 (their ground truth, a 128x128 crop with 5 cells in every frame)
    written as a result of cells2dt with its recipe, as Export writes it."""
    import tifffile

    from tessella.engine.io import write_labels

    labels = np.stack(
        [tifffile.imread(data_dir / SEG / f"man_seg{t:03d}.tif")[384:512, 64:192] for t in FRAMES]
    ).astype(np.uint16)
    folder = tmp_path_factory.mktemp("save_lineage")
    path = folder / "sim.tif"
    write_labels(path, labels, "TYX", {"Y": 0.125, "X": 0.125}, "µm")
    recipe = {"model": "cells2dt", "params": {}, "lineage": [], "frame_numbers": list(FRAMES)}
    (folder / "sim.recipe.json").write_text(json.dumps(recipe))
    return path, labels


def test_file_save_keeps_the_divisions_set_by_hand(make_napari_viewer, segmented, tmp_path):
    path, labels = segmented
    viewer = make_napari_viewer()
    layer, tracks = viewer.open(str(path), plugin="tessella")  # (a linked movie: its tracks)
    assert tracks.name == "sim tracks" and tracks.graph == {}
    assert layer.metadata[FRAME_NUMBERS_KEY] == list(FRAMES)
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findText(layer.name))
    viewer.dims.set_current_step(0, 1)
    correct.set_selection([3])
    correct.break_track_button.click()  # track 3 from frame 1 on gets a new ID...
    daughter = int(layer.data[1][labels[1] == 3][0])
    assert daughter != 3
    correct.set_selection([daughter, 3])  # ...made a daughter of track 3
    correct.set_parent_button.click()
    lineage = current_lineage(viewer, layer)
    assert lineage == {daughter: 3}, correct.status_label.text()

    for name in ("saved.tif", "saved_z.zarr"):  # (not saved.zarr: saved.recipe.json is the tif's)
        viewer.layers.selection = {layer}
        written = viewer.layers.save(str(tmp_path / name), selected=True, plugin="tessella")
        beside = tmp_path / (name.rsplit(".", 1)[0] + ".recipe.json")
        assert str(beside) in written, written
        recipe = json.loads(beside.read_text())
        assert recipe["lineage"] == [[daughter, 3]]
        assert recipe["frame_numbers"] == list(FRAMES)
        assert recipe["labels_edited"] is True  # (the recipe makes them before the edit)
        assert recipe["exported"] == {name.rsplit(".", 1)[1].replace("tif", "tiff"): name}

        with pytest.warns(LabelsChangedWarning, match="edited after its run"):
            reopened, reopened_tracks = viewer.open(str(tmp_path / name), plugin="tessella")
        assert reopened_tracks.graph == {daughter: [3]}
        np.testing.assert_array_equal(np.asarray(reopened.data), layer.data)
        assert current_lineage(viewer, reopened) == lineage
        assert reopened.metadata[FRAME_NUMBERS_KEY] == list(FRAMES)

    # Export CTC of the reopened TIFF: the hand-set division and the frame numbers
    from tessella.engine.tracking import read_ctc_tracks

    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    export.labels_combo.setCurrentIndex(export.labels_combo.findText("saved"))
    export.path_edit.setText(str(tmp_path / "again"))
    for box in ("tiff", "zarr", "csv", "recipe"):
        getattr(export, f"{box}_checkbox").setChecked(False)
    export.ctc_checkbox.setChecked(True)
    export.export()
    tracks = read_ctc_tracks(tmp_path / "again_RES" / "res_track.txt")
    assert {(k.id, k.parent) for k in tracks if k.parent} == {(daughter, 3)}
    assert {k.start for k in tracks} == {5, 6}  # (frames named 5-7, not 0-2)
    assert sorted(p.name for p in (tmp_path / "again_RES").glob("mask*.tif")) == [
        "mask005.tif",
        "mask006.tif",
        "mask007.tif",
    ]

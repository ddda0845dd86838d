"""napari's File > Save (the Tessella writer) of time-lapse labels that have no Segment
recipe keeps their divisions and frame numbers beside them, and the reader puts them back
(s35 t19 #3: a reopened CTC result, corrected and saved, reopened without its lineage and
numbered from 0, with a warning that they were not saved)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from tessella._io import read_layers
from tessella._io_folder import FRAME_NUMBERS_KEY
from tessella._io_recipe import LABELS_RECORD_NOTE
from tessella._widgets._companions import tracks_layer
from tessella._widgets._tracks_layer import current_lineage, keep_lineage

TRA = "ctc_Fluo-N2DH-SIM+/01_GT/TRA"
FRAMES = (8, 9, 10, 11, 12)  # cell 11 divides into 31 and 32 at frame 10
CROP = (slice(430, 570), slice(40, 210))


@pytest.fixture(scope="module")
def ctc_result(data_dir, tmp_path_factory):
    """SIM+ 01's tracking ground truth, frames 8-12 cropped around the division of cell 11,
    written as a CTC result folder (``mask008.tif ...``, ``res_track.txt``)."""
    import tifffile

    from tessella.engine.tracking import write_ctc

    labels = np.stack(
        [tifffile.imread(data_dir / TRA / f"man_track{t:03d}.tif")[CROP] for t in FRAMES]
    ).astype(np.uint16)
    folder = tmp_path_factory.mktemp("save_ctc") / "01_RES"
    write_ctc(labels, {31: 11, 32: 11}, folder, frame_numbers=list(FRAMES))
    return folder, labels


def test_saved_ctc_result_reopens_with_its_lineage_and_frame_numbers(
    make_napari_viewer, ctc_result, tmp_path
):
    folder, labels = ctc_result
    viewer = make_napari_viewer()
    layer, _tracks = viewer.open(str(folder), plugin="tessella")
    assert layer.metadata[FRAME_NUMBERS_KEY] == list(FRAMES)
    assert current_lineage(viewer, layer) == {31: 11, 32: 11}

    for name in ("saved.tif", "saved_z.zarr"):
        viewer.layers.selection = {layer}
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # (nothing is lost: nothing said)
            written = viewer.layers.save(str(tmp_path / name), selected=True, plugin="tessella")
        beside = tmp_path / (name.rsplit(".", 1)[0] + ".recipe.json")
        assert written == [str(tmp_path / name), str(beside)]
        record = json.loads(beside.read_text())
        assert record["lineage"] == [[31, 11], [32, 11]]
        assert record["frame_numbers"] == list(FRAMES)
        assert record["note"] == LABELS_RECORD_NOTE
        assert "model" not in record and "params" not in record  # (no recipe: none invented)

        # reopened (File > Open): pixels, frame numbers, lineage, Tracks layer
        read = read_layers(tmp_path / name)
        assert [kind for _d, _m, kind in read] == ["labels", "tracks"]
        if name.endswith(".zarr"):
            assert read[1][1]["graph"] == {31: [11], 32: [11]}
            np.testing.assert_array_equal(np.asarray(read[0][0]), labels)
            assert read[0][1]["metadata"][FRAME_NUMBERS_KEY] == list(FRAMES)
            continue
        reopened, tracks = viewer.open(str(tmp_path / name), plugin="tessella")
        np.testing.assert_array_equal(np.asarray(reopened.data), labels)
        assert reopened.metadata[FRAME_NUMBERS_KEY] == list(FRAMES)
        assert current_lineage(viewer, reopened) == {31: 11, 32: 11}
        assert tracks_layer(viewer, reopened) is tracks
        assert tracks.graph == {31: [11], 32: [11]}

    # Export CTC of the reopened TIFF: masks named by the frame numbers, the divisions kept
    from tessella.engine.tracking import read_ctc_tracks

    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    export.labels_combo.setCurrentIndex(export.labels_combo.findText("saved"))
    export.path_edit.setText(str(tmp_path / "again"))
    for box in ("tiff", "zarr", "csv", "recipe"):
        getattr(export, f"{box}_checkbox").setChecked(False)
    export.ctc_checkbox.setChecked(True)
    export.export()
    written = sorted(p.name for p in (tmp_path / "again_RES").glob("mask*.tif"))
    assert written == [f"mask{t:03d}.tif" for t in FRAMES], export.status_label.text()
    tracks = read_ctc_tracks(tmp_path / "again_RES" / "res_track.txt")
    assert {(k.id, k.parent) for k in tracks if k.parent} == {(31, 11), (32, 11)}

    # a record whose labels changed outside Tessella: their divisions are not taken
    from tessella.engine.io import write_labels

    other = labels.copy()
    other[other == 32] = 0
    write_labels(tmp_path / "saved.tif", other, "TYX", {}, "µm", overwrite=True)
    with pytest.warns(UserWarning, match="file changed after saved.recipe.json.*2 divisions"):
        read = read_layers(tmp_path / "saved.tif")
    assert [kind for _d, _m, kind in read] == ["labels"]
    assert read[0][1]["metadata"][FRAME_NUMBERS_KEY] == list(FRAMES)


def test_file_save_keeps_the_divisions_of_labels_drawn_by_hand(make_napari_viewer, tmp_path):
    """Labels without a recipe whose division was set by hand: saved with it, without a
    warning, and reopened with it; labels without divisions nor frame numbers get no file
    beside them."""
    movie = np.zeros((3, 32, 32), np.uint16)
    movie[0, 4:10, 4:10] = 1
    movie[1:, 4:10, 4:10] = 2
    movie[1:, 20:26, 20:26] = 3
    viewer = make_napari_viewer()
    layer = viewer.add_labels(movie, name="drawn", metadata={"axes": "TYX"})
    keep_lineage(layer, {2: 1, 3: 1})
    viewer.layers.selection = {layer}
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        viewer.layers.save(str(tmp_path / "drawn.tif"), selected=True, plugin="tessella")
    record = json.loads((tmp_path / "drawn.recipe.json").read_text())
    assert record["lineage"] == [[2, 1], [3, 1]] and "frame_numbers" not in record
    reopened, tracks = viewer.open(str(tmp_path / "drawn.tif"), plugin="tessella")
    assert current_lineage(viewer, reopened) == {2: 1, 3: 1}
    assert tracks.graph == {2: [1], 3: [1]}

    plain = viewer.add_labels(movie, name="plain", metadata={"axes": "TYX"})
    viewer.layers.selection = {plain}
    viewer.layers.save(str(tmp_path / "plain.tif"), selected=True, plugin="tessella")
    assert not (tmp_path / "plain.recipe.json").exists()

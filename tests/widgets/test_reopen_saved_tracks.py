"""A time-lapse labels file saved with its divisions (Export's TIFF and recipe, napari's File
> Save) reopens with its Tracks layer beside it, as Segment drew it and as a CTC folder
reopens (s35 gap: the lineage was kept in the labels' state but invisible, and no Tracks
layer followed Correct's edits). The reader's layers of the file itself (File > Open,
s35 t19 #4) and of the folder holding it go through
:func:`tessella._io_tracks.with_recorded_tracks`.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tessella._io import read_layers
from tessella._widgets._companions import tracks_layer
from tessella._widgets._tracks_layer import current_lineage

TRA = "ctc_Fluo-N2DH-SIM+/01_GT/TRA"
FRAMES = (8, 9, 10, 11, 12)  # cell 11 divides into 31 and 32 at frame 10
CROP = (slice(430, 570), slice(40, 210))


@pytest.fixture(scope="module")
def saved_movie(data_dir, tmp_path_factory):
    """SIM+ 01's tracking ground truth, frames 8-12 cropped around the division of cell 11,
    written as a linked cells2dt result with its recipe (its lineage and frame numbers)."""
    import tifffile

    from tessella.engine.io import write_labels

    labels = np.stack(
        [tifffile.imread(data_dir / TRA / f"man_track{t:03d}.tif")[CROP] for t in FRAMES]
    ).astype(np.uint16)
    assert {11, 31, 32} <= set(np.unique(labels).tolist())
    folder = tmp_path_factory.mktemp("saved_tracks")
    path = folder / "sim.tif"
    write_labels(path, labels, "TYX", {"Y": 0.125, "X": 0.125}, "µm")
    recipe = {
        "model": "cells2dt",
        "params": {"link": True},
        "lineage": [[31, 11], [32, 11]],
        "frame_numbers": list(FRAMES),
    }
    (folder / "sim.recipe.json").write_text(json.dumps(recipe))
    return path, labels


def test_reopened_movie_shows_its_tracks_and_they_follow_correct(make_napari_viewer, saved_movie):
    path, labels = saved_movie
    read = read_layers(path)  # (the file itself, as File > Open reads it)
    assert [kind for _d, _m, kind in read] == ["labels", "tracks"]
    tracks_data, tracks_meta, _ = read[1]
    assert tracks_meta["name"] == "sim tracks"
    assert tracks_meta["graph"] == {31: [11], 32: [11]}
    assert tracks_meta["scale"] == read[0][1]["scale"]
    ids = set(np.unique(labels[labels > 0]).tolist())
    assert set(tracks_data[:, 0].astype(int).tolist()) == ids  # (one track per label)

    viewer = make_napari_viewer()

    # the file itself, opened in napari
    opened = viewer.open(str(path), plugin="tessella")
    assert [type(one).__name__ for one in opened] == ["Labels", "Tracks"]
    assert opened[1].name == "sim tracks" and opened[1].graph == {31: [11], 32: [11]}
    assert tracks_layer(viewer, opened[0]) is opened[1]
    viewer.layers.clear()

    # the folder holding it, opened in napari (folder_layers applies it already)
    layer, tracks = viewer.open(str(path.parent), plugin="tessella")
    assert (layer.name, tracks.name) == ("sim", "sim tracks")
    by_track = np.lexsort((tracks_data[:, 1], tracks_data[:, 0]))  # (napari sorts them so)
    np.testing.assert_array_equal(tracks.data, tracks_data[by_track])
    assert tracks_layer(viewer, layer) is tracks
    assert current_lineage(viewer, layer) == {31: 11, 32: 11}

    # Correct's Delete of daughter 32: its track leaves the Tracks layer, the division of
    # its sister stays; Undo brings both back
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findText(layer.name))
    correct.all_frames_checkbox.setChecked(True)
    correct.set_selection([32])
    correct.delete_button.click()
    assert not (layer.data == 32).any(), correct.status_label.text()
    assert 32 not in set(np.asarray(tracks.data)[:, 0].astype(int).tolist())
    assert tracks.graph == {31: [11]}
    correct.undo_button.click()
    np.testing.assert_array_equal(layer.data, labels)
    assert 32 in set(np.asarray(tracks.data)[:, 0].astype(int).tolist())
    assert tracks.graph == {31: [11], 32: [11]}
    assert current_lineage(viewer, layer) == {31: 11, 32: 11}


def test_no_tracks_layer_without_a_linked_lineage(saved_movie, tmp_path):
    """Labels whose recipe records no divisions, or whose frames are not linked (``link``
    off), or that changed since the recipe was written, reopen without one."""
    import shutil
    import warnings

    from tessella._io import LabelsChangedWarning
    from tessella.engine.digest import DIGEST_KEY, labels_digest

    path, labels = saved_movie
    other = labels.copy()
    other[other == 32] = 0  # (the file holds other labels than those the recipe vouches for)
    lineage = [[31, 11], [32, 11]]
    for name, recipe in (
        ("plain", {"model": "cells2dt", "params": {}}),
        ("unlinked", {"model": "cells2dt", "params": {"link": False}, "lineage": []}),
        ("changed", {"model": "cells2dt", "lineage": lineage, DIGEST_KEY: labels_digest(other)}),
    ):
        shutil.copy(path, tmp_path / f"{name}.tif")
        (tmp_path / f"{name}.recipe.json").write_text(json.dumps(recipe))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LabelsChangedWarning)
            read = read_layers(tmp_path / f"{name}.tif")
        assert [kind for _d, _m, kind in read] == ["labels"], name

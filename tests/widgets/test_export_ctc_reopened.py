"""Export's Cell Tracking Challenge output of reopened movie labels and of labels without
tracks: a movie's divisions travel with its recipe (Export writes them, the reader takes
them back), so the reopened labels export the tracks the live result did, also after edits;
labels segmented frame by frame have no tracks, so the CTC option is off for them (as
``tessella segment --ctc`` refuses them) until their IDs are linked by hand."""

from __future__ import annotations

import json

import numpy as np

from tessella.engine.io import read_image
from tessella.engine.tracking import read_ctc_tracks
from tests.widgets.helpers import choose_model, choose_text

SIM = "ctc_Fluo-N2DH-SIM+"


def _sim_movie(data_dir, frames) -> np.ndarray:
    """Fluo-N2DH-SIM+ 01 frames, a 256x256 crop (a cell divides in frame 9)."""
    folder = data_dir / SIM / "01"
    return np.stack([read_image(folder / f"t{t:03d}.tif").data[100:356, 100:356] for t in frames])


def _export(viewer, name: str, base, ctc: bool = True, **ticked):
    """Export layer ``name`` to ``base`` (TIFF, CSV, recipe; CTC as ``ctc``)."""
    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    choose_text(export.labels_combo, name)
    export.path_edit.setText(str(base))
    for box in ("tiff", "zarr", "csv", "recipe"):
        if box in ticked:
            getattr(export, f"{box}_checkbox").setChecked(ticked[box])
    export.ctc_checkbox.setChecked(ctc)
    return export, export.export()


def _tracks(folder) -> list[tuple[int, int, int, int]]:
    return [(k.id, k.start, k.end, k.parent) for k in read_ctc_tracks(folder / "res_track.txt")]


def test_reopened_movie_labels_export_the_divisions_of_the_live_result(
    make_napari_viewer, data_dir, run_to_end, tmp_path
):
    """cells2dt on SIM+ frames 6-11 in the Segment widget (a cell divides): Export of the
    live result writes its divisions in res_track.txt and in the recipe (``lineage``); the
    TIFF reopened by the reader, and a blockwise-style zarr that keeps them in its
    ``tessella`` attributes, export the same CTC tracks (their parents were 0). After the
    same fill-erase of a cell in one frame, the reopened labels split its track as the live
    ones do, and their divisions stay."""
    import zarr

    from tessella.engine.io import write_zarr_labels

    viewer = make_napari_viewer()
    viewer.add_image(_sim_movie(data_dir, range(6, 12)), name="movie")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_model(segment, "cells2dt")
    run_to_end(segment)
    live = viewer.layers["movie labels (cells2dt)"]
    labels = np.asarray(live.data).copy()

    export, written = _export(viewer, live.name, tmp_path / "live")
    assert [p.name for p in written] == ["live.tif", "live.csv", "live.recipe.json", "live_RES"]
    tracks = _tracks(tmp_path / "live_RES")
    divisions = {(i, parent) for i, _first, _last, parent in tracks if parent}
    assert divisions, tracks  # the cell that divides in frame 9
    recipe = json.loads((tmp_path / "live.recipe.json").read_text())
    assert {tuple(pair) for pair in recipe["lineage"]} == divisions

    # the TIFF reopened: the same tracks, divisions included
    tif, _tracks_layer = viewer.open(str(tmp_path / "live.tif"), plugin="tessella")
    np.testing.assert_array_equal(tif.data, labels)
    export, written = _export(viewer, tif.name, tmp_path / "tif", recipe=False, csv=False)
    assert [p.name for p in written] == ["tif.tif", "tif_RES"]
    assert _tracks(tmp_path / "tif_RES") == tracks

    # a blockwise result's zarr (its divisions in the `tessella` attributes) reopened
    write_zarr_labels(tmp_path / "bw.zarr", labels, "TYX")
    made = {k: v for k, v in recipe.items() if k not in ("exported", "labels_digest")}
    zarr.open(str(tmp_path / "bw.zarr"), mode="r+").attrs["tessella"] = made
    bw, _tracks_layer = viewer.open(str(tmp_path / "bw.zarr"), plugin="tessella")
    assert bw.metadata["tessella_recipe"]["lineage"] == recipe["lineage"]
    _export(viewer, bw.name, tmp_path / "bw", recipe=False, csv=False)
    assert _tracks(tmp_path / "bw_RES") == tracks

    # the same edit in both: a cell erased from frame 2 (a fill on the canvas) splits its
    # track at the gap; the division stays
    track = next(int(k) for k in np.unique(labels[2])[1:] if (labels == k).any(axis=(1, 2)).all())
    point = tuple([2, *np.argwhere(labels[2] == track)[0]])
    for layer, name in ((live, "live_edited"), (tif, "tif_edited")):
        layer.fill(point, 0)
        assert not (np.asarray(layer.data)[2] == track).any()
        _export(viewer, layer.name, tmp_path / name, recipe=False, csv=False)
    edited = _tracks(tmp_path / "live_edited_RES")
    assert edited == _tracks(tmp_path / "tif_edited_RES")
    assert divisions <= {(i, parent) for i, _first, _last, parent in edited if parent}
    new = int(labels.max()) + 1  # the piece after the gap
    assert (new, 3, 5, track) in edited

    # Ctrl+Z back to the labels of the file: its divisions again
    tif.undo()
    np.testing.assert_array_equal(tif.data, labels)
    _export(viewer, tif.name, tmp_path / "tif_undone", recipe=False, csv=False)
    assert _tracks(tmp_path / "tif_undone_RES") == tracks


def test_frame_by_frame_labels_offer_no_ctc_until_linked_by_hand(
    make_napari_viewer, data_dir, run_to_end, tmp_path, qtbot
):
    """nuclei2d on 3 SIM+ frames as a movie (TYX): each frame segmented alone, no ID in two
    frames. Export greys out the CTC option, its tooltip says why (as `tessella segment
    --ctc` refuses such models); ticked all the same, the other files are written and the
    status line and a warning say why no CTC folder was. Its reopened file is the same.
    Two objects of two frames merged in Correct (IDs linked by hand): CTC is offered, and
    writes that track over both frames."""
    from napari.utils import notifications

    viewer = make_napari_viewer()
    viewer.add_image(_sim_movie(data_dir, range(6, 9))[:, :128, :128], name="movie")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_model(segment, "nuclei2d")
    segment.axes_combo.setCurrentText("TYX")
    run_to_end(segment)
    layer = viewer.layers["movie labels (nuclei2d)"]
    labels = np.asarray(layer.data).copy()
    frames = [set(np.unique(f[f > 0]).tolist()) for f in labels]
    assert all(frames) and not (frames[0] & frames[1]) and not (frames[1] & frames[2])

    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    choose_text(export.labels_combo, layer.name)
    assert not export.ctc_checkbox.isEnabled()
    tip = export.ctc_checkbox.toolTip()
    assert "segmented frame by frame by nuclei2d" in tip and "no tracks" in tip
    shown = []
    notifications.notification_manager.notification_ready.connect(
        lambda n: shown.append(str(n.message))
    )
    export.path_edit.setText(str(tmp_path / "n"))
    export.ctc_checkbox.setChecked(True)
    written = export.export()
    assert [p.name for p in written] == ["n.tif", "n.csv", "n.recipe.json"]
    assert not (tmp_path / "n_RES").exists()
    status = export.status_label.text()
    assert "no CTC tracks: 'movie labels (nuclei2d)' was segmented frame by frame" in status
    assert any("no CTC tracks" in message for message in shown)
    assert "lineage" not in json.loads((tmp_path / "n.recipe.json").read_text())

    # only CTC ticked: refused, saying why
    for box in (export.tiff_checkbox, export.csv_checkbox, export.recipe_checkbox):
        box.setChecked(False)
    export.path_edit.setText(str(tmp_path / "only"))
    assert export.export() == []
    assert "nothing chosen to write. No CTC tracks: " in export.status_label.text()

    # reopened: the recipe says frame by frame too
    [reopened] = viewer.open(str(tmp_path / "n.tif"), plugin="tessella")
    choose_text(export.labels_combo, reopened.name)
    assert not export.ctc_checkbox.isEnabled()
    assert "segmented frame by frame" in export.ctc_checkbox.toolTip()

    # linked by hand: one object of frame 0 merged with the one over it in frame 1
    choose_text(export.labels_combo, layer.name)
    first = max(frames[0], key=lambda k: (labels[0] == k).sum())
    below = labels[1][labels[0] == first]
    second = int(np.bincount(below[below > 0]).argmax())
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    choose_text(correct.layer_combo, layer.name)
    correct.all_frames_checkbox.setChecked(True)  # IDs of two frames: the whole tracks
    correct.selection_edit.setText(f"{first}, {second}")
    assert correct.merge()
    qtbot.waitUntil(export.ctc_checkbox.isEnabled, timeout=5_000)  # once the edits pause
    assert f"ID {min(first, second)} is in frames 0 and 1" in export.ctc_checkbox.toolTip()
    export.path_edit.setText(str(tmp_path / "hand"))
    assert [p.name for p in export.export()] == ["hand_RES"]
    assert (min(first, second), 0, 1, 0) in _tracks(tmp_path / "hand_RES")


def test_a_movie_segmented_by_the_cli_reopens_with_its_divisions(
    make_napari_viewer, data_dir, tmp_path
):
    """`tessella segment` in memory wrote no `lineage` in its recipe, so its movie reopened in
    napari exported every parent as 0, unlike `--ctc` of the same run. The recipe now records
    the divisions, and Export of the reopened labels writes the CLI's own tracks."""
    import tifffile

    from tessella.cli import main

    movie = tmp_path / "movie.tif"
    tifffile.imwrite(
        movie, _sim_movie(data_dir, range(6, 12)), imagej=True, metadata={"axes": "TYX"}
    )
    out = tmp_path / "movie_labels.tif"
    args = ["segment", str(movie), "-o", str(out), "--model", "cells2dt"]
    assert main([*args, "--ctc", str(tmp_path / "cli_RES"), "--device", "cpu", "-q"]) == 0
    cli_tracks = _tracks(tmp_path / "cli_RES")
    assert any(parent for *_, parent in cli_tracks)  # (a cell divides in these frames)
    recipe = json.loads((tmp_path / "movie_labels.recipe.json").read_text())
    assert sorted(map(tuple, recipe["lineage"])) == sorted(
        (i, parent) for i, _first, _last, parent in cli_tracks if parent
    )

    viewer = make_napari_viewer()
    layer, _tracks_layer = viewer.open(str(out), plugin="tessella")
    _panel, written = _export(viewer, layer.name, tmp_path / "again")
    assert (tmp_path / "again_RES") in written
    assert _tracks(tmp_path / "again_RES") == cli_tracks


def test_relabel_of_reopened_movie_labels_keeps_their_divisions(make_napari_viewer, tmp_path):
    """Correct's Relabel renamed a movie's divisions only in a Tracks layer; reopened labels
    have none (their divisions come from the recipe), so after Relabel 1..N the divisions
    named old IDs and Export's CTC output lost them (helper-116's note, session 24)."""
    from tessella.engine.digest import labels_digest
    from tessella.engine.io import write_labels

    movie = np.zeros((4, 32, 32), np.uint16)
    movie[0:2, 8:20, 8:20] = 5  # a cell ...
    movie[2:4, 4:12, 4:12], movie[2:4, 18:28, 18:28] = 9, 7  # ... divides into 9 and 7
    write_labels(tmp_path / "cells.tif", movie, "TYX")
    recipe = {
        "model": "cells2dt",
        "method": "temporal",
        "params": {"link": True},
        "axes": "TYX",
        "lineage": [[9, 5], [7, 5]],
        "labels_digest": labels_digest(movie),
    }
    (tmp_path / "cells.recipe.json").write_text(json.dumps(recipe))
    viewer = make_napari_viewer()
    layer, _tracks_layer = viewer.open(str(tmp_path / "cells.tif"), plugin="tessella")
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    choose_text(correct.layer_combo, layer.name)

    assert correct.relabel()

    assert sorted(np.unique(layer.data).tolist()) == [0, 1, 2, 3]  # 5, 7, 9 -> 1, 2, 3
    _panel, written = _export(viewer, layer.name, tmp_path / "out")
    assert (tmp_path / "out_RES") in written
    parents = {i: parent for i, _first, _last, parent in _tracks(tmp_path / "out_RES")}
    assert parents == {1: 0, 2: 1, 3: 1}

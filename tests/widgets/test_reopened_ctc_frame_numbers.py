"""Labels reopened from a file export their CTC masks numbered as the frames the movie was read
from, as the live result does (user test s31/t7, finding 1): ``tessella segment`` of a folder
``t052.tif ...`` and Export record the frame numbers (``frame_numbers``) in the recipe
written beside the labels, and the reader puts them back in the reopened layer's metadata,
so Export's CTC folder holds ``mask052.tif ...`` (it held ``mask000.tif ...``, saying
nothing, and ``evaluate --ctc`` then scored it against the wrong frames). Labels of a movie
without frame numbers say their masks are numbered from 0."""

from __future__ import annotations

import json

import numpy as np
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image
from tessella.engine.tracking import read_ctc_tracks
from tests.widgets.helpers import choose_text

SIM = "ctc_Fluo-N2DH-SIM+"
NUMBERS = [52, 53, 54, 55]


def _frames(data_dir, folder) -> None:
    """SIM+ 01's frames 52-55 (a 96x96 crop holding a few nuclei) as ``folder/tNNN.tif``."""
    folder.mkdir()
    for t in NUMBERS:
        frame = read_image(data_dir / SIM / "01" / f"t{t:03d}.tif").data[150:246, 150:246]
        tifffile.imwrite(folder / f"t{t:03d}.tif", np.asarray(frame))


def _export(viewer, layer, base, *kinds: str):
    """Export ``kinds`` of ``layer`` to ``base``; the panel and the files written."""
    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    choose_text(export.labels_combo, layer.name)
    export.path_edit.setText(str(base))
    for box in ("tiff", "zarr", "csv", "recipe", "ctc"):
        getattr(export, f"{box}_checkbox").setChecked(box in kinds)
    assert export.ctc_checkbox.isEnabled(), export.ctc_checkbox.toolTip()
    return export, export.export()


def _masks(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("mask*.tif"))


def _track_frames(folder) -> tuple[int, int]:
    tracks = read_ctc_tracks(folder / "res_track.txt")
    assert tracks
    return min(k.start for k in tracks), max(k.end for k in tracks)


def test_cli_labels_and_exported_tiff_reopened_export_ctc_by_frame_number(
    make_napari_viewer, data_dir, tmp_path
):
    """``tessella segment`` of t052-t055 -> labels.tif: its recipe records the frame numbers,
    the reopened labels carry them and export mask052 ... mask055 (res_track.txt frames
    52-55); Export's own TIFF and recipe of them, reopened, export the same."""
    folder = tmp_path / "01"
    _frames(data_dir, folder)
    labels_tif = tmp_path / "labels.tif"
    args = ["segment", str(folder), "-o", str(labels_tif), "--model", "cells2dt", "-q"]
    assert main(args) == 0
    recipe = json.loads((tmp_path / "labels.recipe.json").read_text())
    assert recipe["frame_numbers"] == NUMBERS

    viewer = make_napari_viewer()
    layer, _tracks = viewer.open(str(labels_tif), plugin="tessella")
    assert layer.metadata["frame_numbers"] == NUMBERS
    export, written = _export(viewer, layer, tmp_path / "again", "tiff", "recipe", "ctc")
    assert [p.name for p in written] == ["again.tif", "again.recipe.json", "again_RES"]
    assert _masks(tmp_path / "again_RES") == [f"mask{t:03d}.tif" for t in NUMBERS]
    assert _track_frames(tmp_path / "again_RES") == (52, 55)
    assert "CTC masks numbered from 52" in export.status_label.text()
    assert json.loads((tmp_path / "again.recipe.json").read_text())["frame_numbers"] == NUMBERS

    # Export's own TIFF, reopened: the same numbers
    reopened, _tracks = viewer.open(str(tmp_path / "again.tif"), plugin="tessella")
    assert reopened.metadata["frame_numbers"] == NUMBERS
    export, _written = _export(viewer, reopened, tmp_path / "third", "ctc")
    assert _masks(tmp_path / "third_RES") == [f"mask{t:03d}.tif" for t in NUMBERS]
    assert _track_frames(tmp_path / "third_RES") == (52, 55)
    np.testing.assert_array_equal(
        tifffile.imread(tmp_path / "third_RES" / "mask053.tif"),
        tifffile.imread(labels_tif)[1],
    )


def test_labels_whose_recorded_numbers_do_not_fit_say_so(make_napari_viewer, tmp_path):
    """A recipe recording the numbers of 4 frames beside labels of 3 (the file replaced
    since): the reopened labels export from 0, saying why; labels of a movie with no frame
    numbers say their masks are numbered from 0."""
    labels = np.zeros((3, 16, 16), np.uint16)
    labels[:, 2:6, 2:6] = 1
    labels[1:, 9:12, 9:12] = 2
    viewer = make_napari_viewer()
    viewer.add_labels(labels, name="movie", axis_labels=("t", "y", "x"))
    export, _written = _export(viewer, viewer.layers["movie"], tmp_path / "movie", "tiff", "ctc")
    assert _masks(tmp_path / "movie_RES") == ["mask000.tif", "mask001.tif", "mask002.tif"]
    assert "CTC masks numbered from 0" in export.status_label.text()

    tifffile.imwrite(tmp_path / "cut.tif", labels, imagej=True, metadata={"axes": "TYX"})
    recipe = {"model": "cells2dt", "params": {}, "input": "01", "frame_numbers": NUMBERS}
    (tmp_path / "cut.recipe.json").write_text(json.dumps(recipe))
    [layer] = viewer.open(str(tmp_path / "cut.tif"), plugin="tessella")
    export, _written = _export(viewer, layer, tmp_path / "cut_out", "ctc")
    assert _masks(tmp_path / "cut_out_RES") == ["mask000.tif", "mask001.tif", "mask002.tif"]
    assert "numbered from 0" in export.status_label.text()
    assert "4 frames" in export.status_label.text()


def test_exported_zarr_reopened_keeps_the_frame_numbers(make_napari_viewer, tmp_path):
    """Labels reopened with a recipe recording frames 52-54, exported as zarr with its recipe:
    the zarr reopened exports mask052 ... mask054."""
    labels = np.zeros((3, 16, 16), np.uint16)
    labels[:, 2:6, 2:6] = 1
    labels[1:, 9:12, 9:12] = 2
    tifffile.imwrite(tmp_path / "movie.tif", labels, imagej=True, metadata={"axes": "TYX"})
    recipe = {"model": "cells2dt", "params": {}, "input": "01", "frame_numbers": [52, 53, 54]}
    (tmp_path / "movie.recipe.json").write_text(json.dumps(recipe))
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(tmp_path / "movie.tif"), plugin="tessella")
    assert layer.metadata["frame_numbers"] == [52, 53, 54]
    _panel, written = _export(viewer, layer, tmp_path / "out", "zarr", "recipe")
    assert {p.name for p in written} == {"out.zarr", "out.recipe.json"}
    reopened, _tracks = viewer.open(str(tmp_path / "out.zarr"), plugin="tessella")
    assert reopened.metadata["frame_numbers"] == [52, 53, 54]
    export, _written = _export(viewer, reopened, tmp_path / "again", "ctc")
    assert _masks(tmp_path / "again_RES") == ["mask052.tif", "mask053.tif", "mask054.tif"]
    assert "CTC masks numbered from 52" in export.status_label.text()

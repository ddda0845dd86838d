"""Segment on lazy layers that are not big: a folder of TIFF frames opened with napari's own
folder reader (a dask array, ``axis_labels`` napari's ``-3, -2, -1``) is segmented in memory
by default, its slider is named "t" once a time-lapse model reads it as TYX, and a blockwise
output would go beside the folder. Blockwise on a single 2D image with a time-lapse model is
refused with what to do instead (in memory it is a one-frame movie)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tifffile
import zarr
from qtpy.QtCore import Qt

from tessella._widgets._blockwise import LARGE_PIXELS, is_large


def _choose(widget, name: str) -> None:
    index = widget.model_combo.findText(f"{name} ", Qt.MatchFlag.MatchStartsWith)
    if index < 0:
        pytest.skip(f"the bundled {name} model is not installed")
    widget.model_combo.setCurrentIndex(index)


def test_a_folder_of_frames_from_napari_s_reader_runs_in_memory_and_its_slider_says_t(
    segment_widget, data_dir, tmp_path, monkeypatch, run_to_end
):
    """3 real Fluo-N2DH-SIM+ frames (192² crops) in a folder, opened with napari's reader
    from another working folder by a relative path: Blockwise was ticked (lazy data) and its
    output went to the working folder for a 100 kB movie, and the slider kept napari's "-3"
    after cells2dt switched the Axes to TYX."""
    from tessella.engine.pipeline import run_steps, segment_steps

    files = sorted((data_dir / "ctc_Fluo-N2DH-SIM+" / "01").glob("t0*.tif"))[20:23]
    frames = np.stack([tifffile.imread(f)[384:576, 64:256] for f in files])
    folder = tmp_path / "data" / "movie"
    folder.mkdir(parents=True)
    for i, frame in enumerate(frames):
        tifffile.imwrite(folder / f"t{i}.tif", frame)
    (tmp_path / "wd").mkdir()
    monkeypatch.chdir(tmp_path / "wd")
    viewer, widget = segment_widget
    [movie] = viewer.open(os.path.join("..", "data", "movie"), plugin="napari")
    assert not isinstance(movie.data, np.ndarray) and movie.data.shape == (3, 192, 192)
    assert movie.source.reader_plugin == "napari" and "axes" not in movie.metadata

    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(movie.unique_id))
    assert not widget.blockwise_checkbox.isChecked()  # small enough for memory
    model = widget._cards[widget.model_combo.currentData()].name  # (the model chosen)
    assert widget.blockwise_edit.text() == str(tmp_path / "data" / f"movie_labels_{model}.zarr")
    assert widget.axes_combo.currentText() == "TYX"  # nuclei2d: the planes one by one
    assert movie.axis_labels == ("z", "y", "x")  # (not named frames for it)
    _choose(widget, "cells2dt")
    assert widget.axes_combo.currentText() == "TYX"
    assert widget.blockwise_edit.text() == str(tmp_path / "data" / "movie_labels_cells2dt.zarr")
    assert movie.axis_labels == ("t", "y", "x")  # the slider says "t"
    assert viewer.dims.axis_labels == ("t", "y", "x")
    _choose(widget, "em-mito2d")  # a 2D model that reads volumes: a volume again
    assert (widget.axes_combo.currentText(), movie.axis_labels) == ("ZYX", ("z", "y", "x"))
    _choose(widget, "nuclei2d")  # a 2D model that refuses volumes: the planes one by one
    assert widget.axes_combo.currentText() == "TYX"
    _choose(widget, "cells2dt")
    assert movie.axis_labels == ("t", "y", "x")

    run_to_end(widget)
    labels = viewer.layers["movie labels (cells2dt)"]
    assert "tracks in" in widget.status_label.text()
    assert "written to" not in widget.status_label.text()
    assert isinstance(labels.data, np.ndarray)  # in memory, not read from a zarr
    expected = run_steps(segment_steps(frames, "cells2dt", "TYX", device="cpu")).labels
    np.testing.assert_array_equal(labels.data, expected)
    assert np.unique(expected).size > 5
    assert not list(tmp_path.rglob("*.zarr")) and not list(tmp_path.rglob(".*.blockwise"))

    # names the user gave the dimensions stay theirs, whatever the model
    movie.axis_labels = ("frame", "row", "column")
    _choose(widget, "nuclei2d")
    assert movie.axis_labels == ("frame", "row", "column")


def test_only_layers_too_big_for_memory_default_to_blockwise():
    import dask.array as da

    side = int(np.sqrt(LARGE_PIXELS))
    assert not is_large(da.zeros((12, 256, 256), chunks=(1, 256, 256)))  # lazy, 786k px
    assert not is_large(np.zeros((2, 64, 64)))
    assert is_large(da.zeros((2, side, side), chunks=(1, 2048, 2048)))  # lazy, big
    assert is_large(da.zeros((side + 1, side)))


def test_blockwise_on_a_2d_image_with_a_time_lapse_model_says_to_untick_it(
    segment_widget, nuclei_image, tmp_path, monkeypatch
):
    """In memory (and `tessella segment`) a 2D image is a one-frame movie for cells2dt;
    blockwise refused it from the engine with 'the input needs a T axis (got YX)', a
    notification naming neither Blockwise nor what to do, after the preview was set up."""
    from tessella._widgets import _segment_blockwise

    said: list[str] = []
    monkeypatch.setattr(_segment_blockwise, "show_error", said.append)
    viewer, widget = segment_widget
    viewer.add_image(nuclei_image[:256, :256], name="crop")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("crop"))
    _choose(widget, "cells2dt")
    assert widget.axes_combo.currentText() == "YX"
    widget.blockwise_checkbox.setChecked(True)
    out = tmp_path / "crop_labels.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.status_label.setText("'old': 12 objects in 1.0 s, added 'old labels'")

    widget.run_button.click()
    status = widget.status_label.text()
    assert "one-frame movie in memory only" in status
    assert status.endswith("untick 'Blockwise into zarr'.")
    assert said == [f"Segment: {status}"]
    assert widget.worker is None and widget.run_button.isEnabled()
    assert not out.exists() and not list(tmp_path.glob(".*.blockwise"))
    assert [layer.name for layer in viewer.layers] == ["crop"]


def test_the_engine_refuses_blockwise_2d_for_a_time_lapse_model_saying_what_to_do(
    nuclei_image, tmp_path
):
    from tessella.engine.blockwise import segment_blockwise_steps

    zarr.create_array(str(tmp_path / "crop.zarr"), data=nuclei_image[:256, :256], chunks=(128, 128))
    steps = segment_blockwise_steps(str(tmp_path / "crop.zarr"), tmp_path / "out.zarr", "cells2dt")
    with pytest.raises(ValueError, match="without blockwise") as refused:
        next(steps)
    assert "one-frame movie in memory only" in str(refused.value)
    assert "crop.zarr" in str(refused.value)
    assert not (tmp_path / "out.zarr").exists()


def test_a_console_layer_whose_metadata_names_its_axes_gets_those_slider_names(segment_widget):
    """A movie added from the console with ``metadata={"axes": "TYX"}`` kept napari's "-3"
    slider (the docs' time-lapse screenshot showed it), as its named axes were left alone;
    its napari default labels now take the named axes. Labels a user set stay."""
    viewer, widget = segment_widget
    movie = viewer.add_image(
        np.zeros((3, 32, 32), np.float32), name="movie", metadata={"axes": "TYX"}
    )
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("movie"))
    assert tuple(movie.axis_labels) == ("t", "y", "x")

    mine = viewer.add_image(
        np.zeros((3, 32, 32), np.float32), name="mine", metadata={"axes": "TYX"}
    )
    mine.axis_labels = ("time", "row", "column")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("mine"))
    assert tuple(mine.axis_labels) == ("time", "row", "column")

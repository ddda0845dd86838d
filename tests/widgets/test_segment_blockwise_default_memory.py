"""Segment's Blockwise default follows the size and the memory free (user test s34/t15,
finding 1): an 8192² slide, the classic "big" size, is ticked (it ran in memory, ~6 GiB, Cancel
seen only between tiles), a smaller image is ticked where an in-memory run would need more than
half the memory available (an 8 GB laptop), and the panel says why it ticked the box. Small
lazy movies stay in memory. The images are real GOWT1 frames tiled lazily by dask (the
decision reads the shape only; nothing is segmented)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella._widgets import _blockwise


@pytest.fixture(scope="module")
def frame(data_dir_module):
    return tifffile.imread(data_dir_module / "ctc_Fluo-N2DH-GOWT1" / "01" / "t000.tif")


@pytest.fixture(scope="module")
def data_dir_module():
    from tests.conftest import DATA

    if not DATA.is_dir():
        pytest.skip(f"the shared datasets are not at {DATA} (set TESSELLA_DATA)")
    return DATA


def _mosaic(frame, tiles: int):
    """A lazy mosaic of ``tiles`` x ``tiles`` copies of a 1024² frame, as Tessella's reader
    opens a big zarr: a multiscale layer whose level 0 is the full array."""
    import dask.array as da

    level0 = da.tile(da.from_array(frame, chunks=1024), (tiles, tiles))
    return [level0, level0[::8, ::8]]


def _choose_layer(widget, layer) -> None:
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))


def _free(monkeypatch, gib: float) -> None:
    from tessella.engine.pipeline import _inputs

    monkeypatch.setattr(_inputs, "available_memory", lambda: int(gib * 2**30))


def test_an_8192_slide_is_blockwise_by_default_and_the_panel_says_why(
    segment_widget, frame, monkeypatch
):
    _free(monkeypatch, 16)  # a 23 GB workstation with 16 GiB free: still blockwise
    viewer, widget = segment_widget
    mosaic = viewer.add_image(_mosaic(frame, 8), multiscale=True, name="slide")
    assert mosaic.data[0].shape == (8192, 8192)
    _choose_layer(widget, mosaic)
    assert widget.blockwise_checkbox.isChecked()
    status = widget.status_label.text()
    assert "'slide': Blockwise is ticked, 8192 x 8192 pixels is 8192² or more" in status
    assert "in memory: about 6.2 GiB, of 16.0 GiB available" in status
    assert "untick it to segment in memory" in status
    assert "Ticked for 'slide': 8192 x 8192 pixels" in widget.blockwise_checkbox.toolTip()

    # a 1024² frame on the same machine: in memory, and the tooltip no longer names a reason
    small = viewer.add_image(frame, name="frame")
    _choose_layer(widget, small)
    assert not widget.blockwise_checkbox.isChecked()
    assert "Ticked for" not in widget.blockwise_checkbox.toolTip()


def test_a_smaller_image_is_blockwise_where_memory_is_short(segment_widget, frame, monkeypatch):
    viewer, widget = segment_widget
    mosaic = viewer.add_image(_mosaic(frame, 4), multiscale=True, name="m4k")  # 4096², 1.6 GiB
    movie = viewer.add_image(
        np.stack([frame[:256, :256]] * 12), name="movie"
    )  # a small movie: stays in memory
    _free(monkeypatch, 64)
    _choose_layer(widget, mosaic)
    assert not widget.blockwise_checkbox.isChecked()  # plenty free: in memory

    _free(monkeypatch, 2.5)  # an 8 GB laptop with a browser open
    _choose_layer(widget, movie)
    assert not widget.blockwise_checkbox.isChecked()
    _choose_layer(widget, mosaic)
    assert widget.blockwise_checkbox.isChecked()
    assert (
        "'m4k': Blockwise is ticked, in memory it would need about 1.6 GiB, more than half of "
        "the 2.5 GiB available" in widget.status_label.text()
    )
    assert _blockwise.is_large(mosaic.data[0])
    assert not _blockwise.is_large(movie.data, "TYX")


def test_a_movie_and_a_colour_image_count_one_frame_s_pixels(frame, monkeypatch):
    """8192² is one frame's (volume's) pixels (review s34/r12 M3): the 92 frames of the
    1024² GOWT1 movie (2.2 GiB in memory) and a 4730² RGB slide (its channels are one
    pixel's) were ticked as "8192² or more"; the memory rule still counts every frame."""
    import dask.array as da

    movie = da.stack([da.from_array(frame, chunks=1024)] * 92)  # the GOWT1 01 movie's shape
    _free(monkeypatch, 22)
    assert _blockwise.blockwise_reason(movie, "TYX") == ""
    assert _blockwise.blockwise_reason(da.zeros((4730, 4730, 3), np.uint8), "YXC") == ""
    # a volume of as many voxels is one 3D image: still 8192² or more
    assert _blockwise.blockwise_reason(movie, "ZYX").startswith(
        "92 x 1024 x 1024 pixels is 8192² or more (in memory: about 9.0 GiB"
    )
    # a movie of 8192² frames: each frame
    big = da.zeros((3, 8192, 8192), np.uint16, chunks=(1, 2048, 2048))
    assert _blockwise.blockwise_reason(big, "TYX").startswith(
        "each frame (8192 x 8192 pixels) is 8192² or more"
    )
    _free(monkeypatch, 2.5)  # the memory rule counts all 92 frames
    assert _blockwise.blockwise_reason(movie, "TYX") == (
        "in memory it would need about 2.2 GiB, more than half of the 2.5 GiB available"
    )


def test_a_colour_slide_under_8192_squared_stays_in_memory(segment_widget, frame, monkeypatch):
    import dask.array as da

    _free(monkeypatch, 22)
    viewer, widget = segment_widget
    rgb = da.stack([da.from_array(frame[:, :], chunks=1024).astype(np.uint8)] * 3, axis=-1)
    slide = viewer.add_image(da.tile(rgb, (5, 5, 1))[:4730, :4730], rgb=True, name="he")
    assert slide.data.shape == (4730, 4730, 3)
    _choose_layer(widget, slide)
    assert widget.axes_combo.currentText() == "YXC"
    assert not widget.blockwise_checkbox.isChecked(), widget.status_label.text()

"""The Segment panel's *Frames* (A:B) for a time-lapse: the labels of those frames only, on
their frames, with their numbers; a refused range said in one line."""

from __future__ import annotations

import numpy as np
from napari.layers import Labels, Tracks

from tests.widgets.test_temporal_widgets import segment_cell_movie


def test_segment_frames_of_a_movie_keeps_their_numbers_and_place(
    make_napari_viewer, tiny_temporal_dir, run_to_end, monkeypatch
):
    viewer, widget, image = segment_cell_movie(
        make_napari_viewer,
        tiny_temporal_dir,
        monkeypatch,
        (1, 0.5, 0.5),
        threshold=0.0,
        split=False,
    )
    movie = viewer.layers["movie"]
    movie.metadata["frame_numbers"] = list(range(52, 52 + image.shape[0]))  # t052.tif ...
    assert widget.add_model(tiny_temporal_dir)
    assert widget.axes_combo.currentText() == "TYX"
    assert not widget.frames_edit.isHidden()  # offered: the image has a T axis

    widget.frames_edit.setText("60:62")  # frames 52 to 59 only
    widget.run_button.click()  # (refused at once)
    assert "not run: 'movie': frames 60:62 are not all in it: it has 8 frames, 52 to 59" in (
        widget.status_label.text()
    )
    assert not [layer for layer in viewer.layers if isinstance(layer, Labels)]

    widget.frames_edit.setText("54:57")
    run_to_end(widget)
    labels = [layer for layer in viewer.layers if isinstance(layer, Labels)]
    assert [layer.name for layer in labels] == ["movie labels (tiny_temporal, frames 54 to 56)"]
    layer = labels[0]
    assert layer.data.shape == (3, *image.shape[1:])
    np.testing.assert_allclose(layer.translate, (2, 0, 0))  # on frames 2 to 4 of the movie
    assert layer.metadata["frame_numbers"] == [54, 55, 56]
    assert layer.metadata["tessella_recipe"]["frame_numbers"] == [54, 55, 56]
    tracks = [lay for lay in viewer.layers if isinstance(lay, Tracks)]
    np.testing.assert_allclose(tracks[0].translate, (2, 0, 0))
    assert " track" in widget.status_label.text()

    # every frame again: a layer of its own beside the part's
    widget.frames_edit.setText("")
    run_to_end(widget)
    names = sorted(lay.name for lay in viewer.layers if isinstance(lay, Labels))
    assert names == [
        "movie labels (tiny_temporal)",
        "movie labels (tiny_temporal, frames 54 to 56)",
    ]
    assert viewer.layers["movie labels (tiny_temporal)"].data.shape == image.shape


def test_segment_says_a_long_cpu_run_and_its_time_left(make_napari_viewer, tiny_temporal_dir):
    """GOWT1's 92 frames of 1024² on the CPU (t19 #6: about 18 min, no estimate): the Run
    says frames x windows and that Frames segments part; the bar's status the time left."""
    import time

    from tessella._widgets.segment import _cpu_note
    from tessella.engine.progress import Progress

    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    assert widget.add_model(tiny_temporal_dir)
    card = widget._cards[widget.model_combo.currentData()]
    widget.device_combo.setCurrentText("cpu")
    widget.tile_spin.setValue(1024)
    note = _cpu_note((92, 1024, 1024), "TYX", card, widget, None)
    assert "on the CPU: 92 frames x 4 windows of 1024 px = 368 windows" in note
    assert "Frames A:B segments part of it" in note
    assert _cpu_note((3, 256, 256), "TYX", card, widget, None) == ""  # short: nothing said

    assert widget._time_left(Progress("predict", 1, 11)) == ""  # (timed from here)
    widget._predict_clock = (time.perf_counter() - 20.0, 1)  # 1 window done 20 s ago
    assert widget._time_left(Progress("predict", 3, 11)) == ", about 80 s left"  # 8 x 10 s

"""The panels name a frame one way (user test s31/t7, finding 5): by the index napari's slider
shows, from 0, with the movie's own frame number where the reader recorded one ("frame 1
(t053)"); a count stays a count ("2 of 4"). Segment said "predicting, frame 2 of 6 (t053)"
for the slider's frame 1 and Tune "frame 2 preview" for t054. And a cancelled Segment run's
bar says where it stopped (finding 6: it stayed at "2 / 6 frames", as if still running)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
import tifffile
from qtpy.QtWidgets import QLabel

from tessella.engine.io import read_image
from tests.widgets.helpers import choose_model, choose_text

SIM = "ctc_Fluo-N2DH-SIM+"


def _no_time_left(line: str) -> str:
    """``line`` without the ", about N s left" (or min, h) Segment's status ends in while the
    network runs, checked to be well formed where it is there."""
    stripped = re.sub(r", about (\d+ s|\d+ min|\d+\.\d h) left$", "", line)
    assert stripped == line or "left" not in stripped, line
    return stripped


def test_frame_name_is_the_sliders_index_with_the_files_number():
    from tessella._widgets._frame_words import frame_name, recorded_frame_numbers

    assert frame_name(1, (52, 53, 54, 55)) == "frame 1 (t053)"
    assert frame_name(0) == "frame 0"
    assert frame_name(4, unit="slice") == "slice 4"
    assert frame_name(1, (1052, 1053)) == "frame 1 (t1053)"
    layer = SimpleNamespace(metadata={"frame_numbers": [52, 53, 54, 55]})
    assert recorded_frame_numbers(layer, 4) == (52, 53, 54, 55)
    assert recorded_frame_numbers(layer, 3) == ()  # (not this layer's frames)
    assert recorded_frame_numbers(SimpleNamespace(metadata={"frame_numbers": "52"})) == ()
    assert recorded_frame_numbers(SimpleNamespace(metadata={"frame_numbers": [52.5]})) == ()


@pytest.fixture
def sim_folder(data_dir, tmp_path):
    """SIM+ 01's frames 52-55, cropped to 96x96 around cells, as ``01/t052.tif ...``: the
    reader opens it as a TYX movie recording frame numbers 52-55."""
    if not (data_dir / SIM / "01" / "t052.tif").exists():
        pytest.skip(f"{SIM} is not in the shared data")
    folder = tmp_path / "01"
    folder.mkdir()
    for t in range(52, 56):
        frame = read_image(data_dir / SIM / "01" / f"t{t:03d}.tif").data[360:456, 240:336]
        tifffile.imwrite(folder / f"t{t:03d}.tif", np.asarray(frame))
    return folder


def _status_lines(widget) -> list[str]:
    shown: list[str] = []
    label = widget.status_label

    def set_text(text: str) -> None:
        shown.append(text)
        QLabel.setText(label, text)

    label.setText = set_text
    return shown


def _segment_on(viewer, folder):
    [image] = viewer.open(str(folder), plugin="tessella")
    assert image.metadata["frame_numbers"] == [52, 53, 54, 55]
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_text(segment.layer_combo, image.name)
    if "cells2dt" not in [card.name for card in segment._cards.values()]:
        pytest.skip("the bundled cells2dt model is not installed")
    choose_model(segment, "cells2dt")  # one tile a frame: the count is of frames
    segment.device_combo.setCurrentText("cpu")
    return image, segment


def test_segment_and_tune_name_a_folder_movies_frame_as_the_slider_does(
    make_napari_viewer, sim_folder, run_to_end, qtbot
):
    viewer = make_napari_viewer()
    _image, segment = _segment_on(viewer, sim_folder)
    shown = _status_lines(segment)

    run_to_end(segment)

    # (the time left Segment adds once two windows are timed, ", about 1 s left", is not what
    # these lines check: taken off)
    predicting = [_no_time_left(line) for line in shown if "predicting" in line]
    assert predicting[0] == "'01': predicting frame 0 (t052), 1 of 4"
    assert "'01': predicting frame 1 (t053), 2 of 4" in predicting  # (was "frame 2 of 4")
    assert predicting[-1] == "'01': predicting frame 3 (t055), 4 of 4"
    assert segment.progress_bar.text() == "4 / 4 frames"
    labels = viewer.layers["01 labels (cells2dt)"]
    assert labels.metadata["frame_numbers"] == [52, 53, 54, 55]

    # Tune's preview of the frame on the slider's 1 is t053's
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    tune.layer_combo.setCurrentIndex(tune.layer_combo.findData(labels.unique_id))
    viewer.dims.set_current_step(0, 1)
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.set_param("threshold", 0.3)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    assert tune.progress_bar.text() == "frame 1 (t053) preview"  # (was "frame 1 preview")


def test_a_cancelled_segment_runs_bar_says_where_it_stopped(
    make_napari_viewer, sim_folder, run_to_end
):
    viewer = make_napari_viewer()
    _image, segment = _segment_on(viewer, sim_folder)
    shown, cancels = segment._on_progress, [1]

    def cancel_after_the_first_frame(progress) -> None:
        shown(progress)
        if progress.stage == "predict" and progress.done == 1 and cancels:
            cancels.pop()  # (once: the next run goes to its end)
            segment.cancel_button.click()

    segment._on_progress = cancel_after_the_first_frame  # (connected by the next Run)

    run_to_end(segment)

    assert segment.status_label.text().endswith("cancelled; no layer was added.")
    text = segment.progress_bar.text()
    assert re.fullmatch(r"cancelled at [1-3] of 4 frames", text), text  # was "1 / 4 frames"
    assert "01 labels (cells2dt)" not in [layer.name for layer in viewer.layers]

    run_to_end(segment)  # a new run counts again
    assert segment.progress_bar.text() == "4 / 4 frames"


def test_segment_names_the_frame_and_slice_of_a_movie_of_volumes(
    segment_widget, data_dir, run_to_end
):
    """A TZYX movie segmented slice by slice by a 2D model (a boundary model's slicewise 3D):
    each part named by both sliders (it read "slice 5 of 6", a count over frames and slices
    as if it were one index)."""
    from tests.widgets.test_segment_widget import choose_layer

    em = data_dir / "em_membranes_isbi2012" / "images" / "17.tif"
    if not em.exists():
        pytest.skip(f"{em} is not in the shared data")
    viewer, widget = segment_widget
    crop = tifffile.imread(em)[:96, :96]
    movie = np.stack([np.stack([crop, crop[::-1], crop[:, ::-1]])] * 2)  # 2 frames, 3 slices
    viewer.add_image(movie, name="vols", metadata={"frame_numbers": [7, 8]})
    choose_layer(widget, "vols")
    widget.axes_combo.setCurrentText("TZYX")
    choose_model(widget, "em-membranes2d")
    shown = _status_lines(widget)

    run_to_end(widget)

    # (the time left Segment adds once two windows are timed, ", about 1 s left", is not what
    # these lines check: taken off)
    predicting = [_no_time_left(line) for line in shown if "predicting" in line]
    assert predicting[0] == "'vols': predicting frame 0 (t007) slice 0, 1 of 6", shown
    assert "'vols': predicting frame 1 (t008) slice 1, 5 of 6" in predicting
    assert predicting[-1] == "'vols': predicting frame 1 (t008) slice 2, 6 of 6"


def test_tunes_preview_of_a_frame_names_its_file_number(docked_tune, result_tyx, qtbot):
    """Tune's bar names the frame previewed by the slider's index and, where the labels'
    layer records the movie's frame numbers (Segment's result of a folder t052.tif ...), by
    its number: the slider's frame 2 is t054 (it read "frame 2 preview")."""
    from tests.widgets.test_tune_widget import change, place

    viewer, widget = docked_tune
    layer = place(viewer, result_tyx, name="movie labels")
    layer.metadata["frame_numbers"] = [52, 53, 54]
    viewer.dims.set_current_step(0, 2)

    change(qtbot, widget, seed_thresh=0.6)

    assert widget.progress_bar.text() == "frame 2 (t054) preview"

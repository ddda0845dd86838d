"""Tune as a user watches it (acceptance pass 3): a drag redraws at the rate the method allows
and ends on the last value, the status line times the whole wait (computing and drawing) and
counts the objects, "no limit" and odd median sizes are shown as they act, Save recipe says
it saved, a parameter the slice preview cannot show runs none, and a cancelled Apply to all
counts the frames previewed with its values as done."""

from __future__ import annotations

import re
import threading
import time

import numpy as np
import pytest
from qtpy.QtCore import Qt
from qtpy.QtTest import QTest

from tessella._widgets import tune as tune_module
from tessella.engine.methods import boundary, embedding, semantic
from tessella.engine.params import make_params, param_specs
from tests.widgets.test_temporal_widgets import (
    _movie_in_tune,
    _perfect_predictions,
    _set_then_apply_to_all,
)
from tests.widgets.test_tune_gaps import _volume_in_tune, cells_movie, volume_result  # noqa: F401
from tests.widgets.test_tune_widget import change, expected, place, set_control


@pytest.fixture
def held(monkeypatch):
    """embedding.postprocess, whose first call waits until ``gate`` is set; ``calls`` holds
    the seed_thresh of every call, ``running`` is set when the first one has begun."""
    gate, running, calls = threading.Event(), threading.Event(), []
    original = embedding.postprocess

    def postprocess(prediction, params):
        calls.append(params.seed_thresh)
        if len(calls) == 1:
            running.set()
            assert gate.wait(20), "the test never let the first update finish"
        return original(prediction, params)

    monkeypatch.setattr(embedding, "postprocess", postprocess)
    yield gate, running, calls
    gate.set()  # a failed test leaves no worker waiting


def test_a_drag_shows_the_update_under_way_then_the_last_value(docked_tune, result_2d, qtbot, held):
    """Values that come while an update runs wait for it, which is shown, and then run once
    together with the latest value (the code before dropped the update under way for each
    newer value, so a method slower than the slider showed nothing until the drag stopped)."""
    viewer, widget = docked_tune
    gate, running, calls = held
    layer = place(viewer, result_2d)
    shown = []  # the value the labels were made with at each write (writes emit ``paint``)
    layer.events.paint.connect(lambda event: shown.append(calls[-1]))
    control = widget.controls["seed_thresh"]

    set_control(control, 0.6)  # starts at once, and waits in the worker
    assert running.wait(10)
    for value in (0.7, 0.75):  # the first of these within the quiet period after a start
        set_control(control, value)
    qtbot.waitUntil(lambda: not widget._timer.isActive(), timeout=5_000)  # it has passed
    for value in (0.8, 0.85, 0.95):  # the drag goes on while the first update runs
        set_control(control, value)
    assert widget.busy and shown == []
    with qtbot.waitSignal(widget.update_finished, timeout=20_000):
        gate.set()
    qtbot.waitUntil(lambda: not widget.busy, timeout=20_000)

    assert calls == [0.6, 0.95]  # the values in between were never computed
    assert shown == [0.6, 0.95]  # the update under way was shown, then the last value
    np.testing.assert_array_equal(layer.data, expected(result_2d, seed_thresh=0.95))
    assert widget.params.seed_thresh == 0.95 and control.value() == pytest.approx(0.95)


def test_a_failed_update_under_way_leaves_the_values_that_came_meanwhile(
    docked_tune, result_2d, qtbot, monkeypatch
):
    """The update under way fails while a newer value waits: the controls keep the newer
    value (they go back only when nothing newer is due), which runs and is shown."""
    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    gate, original = threading.Event(), embedding.postprocess

    def fails_first(prediction, params):
        if params.seed_thresh == 0.6:
            assert gate.wait(20)
            raise ValueError("no seeds at 0.6")
        return original(prediction, params)

    monkeypatch.setattr(embedding, "postprocess", fails_first)
    monkeypatch.setattr(tune_module, "show_error", lambda message: None)
    set_control(widget.controls["seed_thresh"], 0.6)
    qtbot.waitUntil(lambda: not widget._timer.isActive(), timeout=5_000)
    set_control(widget.controls["seed_thresh"], 0.95)
    with qtbot.waitSignal(widget.update_finished, timeout=20_000):
        gate.set()
    qtbot.waitUntil(lambda: not widget.busy, timeout=20_000)
    assert widget.params.seed_thresh == 0.95
    np.testing.assert_array_equal(layer.data, expected(result_2d, seed_thresh=0.95))
    assert "updated in" in widget.status_label.text()


def test_the_status_times_the_update_from_the_value_change_and_counts_the_objects(
    docked_tune, result_2d, qtbot
):
    """A value set during the quiet period after a start waits for it; the status line's time
    counts from when the value was set (it counted from the start of the run, leaving out
    that wait), up to the labels set on the layer; and it says how many objects there are."""
    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    written = []
    layer.events.paint.connect(lambda event: written.append(time.perf_counter()))
    with qtbot.waitSignal(widget.update_finished, timeout=20_000):
        set_control(widget.controls["seed_thresh"], 0.8)  # starts a run and the quiet period
        set_control(widget.controls["seed_thresh"], 0.95)  # waits for the quiet period
        # (after the value was set, before its run starts: the status counts from the set,
        # a moment earlier; taken before it, the set's own work under load, 20 ms, failed it)
        set_at = time.perf_counter()
    qtbot.waitUntil(lambda: not widget.busy, timeout=20_000)

    text = widget.status_label.text()
    ms = int(re.search(r"updated in (\d+) ms", text).group(1))
    assert ms >= (written[-1] - set_at) * 1000 - 1  # (rounded to the ms)
    assert ms >= tune_module.DEBOUNCE_MS - 1
    count = len(np.unique(expected(result_2d, seed_thresh=0.95))) - 1
    assert count > 5 and text.endswith(f"updated in {ms} ms: {count} objects")

    change(qtbot, widget, min_size=1_000_000)  # nothing is left: the status says so
    assert widget.status_label.text().endswith(": 0 objects") and not layer.data.any()


def test_the_status_says_1_object_in_the_singular(docked_tune, result_2d, qtbot):
    """It said "1 objects"."""
    viewer, widget = docked_tune
    place(viewer, result_2d)
    sizes = np.bincount(expected(result_2d).ravel())[1:]
    largest = int(sizes.max())
    assert np.count_nonzero(sizes == largest) == 1  # min_size=largest keeps that one only
    assert len(np.unique(expected(result_2d, min_size=largest))) == 2
    change(qtbot, widget, min_size=largest)
    assert re.fullmatch(r"'nuclei labels': updated in \d+ ms: 1 object", widget.status_label.text())


def test_apply_to_all_of_a_movie_says_1_track_and_1_object_in_the_singular(
    make_napari_viewer,
    cells_movie,  # noqa: F811
    qtbot,
):
    """A movie of 8 frames with one cell, in its first frame: "1 track, linked", and with
    link off "1 object, not linked" (they said "1 tracks", "1 objects")."""
    from dataclasses import replace

    from tests.conftest import cell_movie

    _image, labels, _tracks = cell_movie()
    one_cell = np.zeros_like(labels)
    one_cell[0][labels[0] == 1] = 1
    result = replace(cells_movie, predictions=_perfect_predictions(one_cell))
    viewer, widget, layer = _movie_in_tune(make_napari_viewer, result)

    _set_then_apply_to_all(qtbot, widget, "temporal_sigma", 0.0)  # (no cell in other frames)
    assert np.unique(layer.data).tolist() == [0, 1]
    assert re.fullmatch(
        r"'movie labels': 8 frames, 1 track, linked in \d+ ms", widget.status_label.text()
    )
    _set_then_apply_to_all(qtbot, widget, "link", False)
    assert re.fullmatch(
        r"'movie labels': 8 frames, 1 object, not linked \(link is off: each object has its "
        r"own ID, no tracks\), in \d+ ms",
        widget.status_label.text(),
    )


def test_the_status_adds_the_drawing_once_the_canvas_has_drawn(
    make_napari_viewer, result_2d, qtbot
):
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    place(viewer, result_2d)
    change(qtbot, widget, seed_thresh=0.8)
    qtbot.waitUntil(lambda: "drawing" in widget.status_label.text(), timeout=10_000)
    count = len(np.unique(expected(result_2d, seed_thresh=0.8))) - 1
    assert re.fullmatch(
        rf"'nuclei labels': updated in \d+ ms \+ \d+ ms drawing: {count} objects",
        widget.status_label.text(),
    )


def _type_into(label, text: str) -> None:
    """Click into a labelled slider's value box, select its text, type ``text``, Enter."""
    label.setFocus()
    label.selectAll()
    QTest.keyClicks(label, text)
    QTest.keyClick(label, Qt.Key.Key_Return)


def test_no_limit_off_and_odd_median_sizes_are_shown_as_they_act(
    docked_tune,
    volume_result,  # noqa: F811
    qtbot,
):
    """0 reads "no limit" on a size limit's spin box and "off" on a slider whose 0 switches
    a step off, as their tooltips say (min_size showed a plain 0, its help silent on it, and
    the sliders showed 0)."""
    specs = {spec.name: spec for spec in param_specs(boundary.Params)}
    max_size = tune_module._make_control(specs["max_size"])  # help: "0 = no limit"
    min_size = tune_module._make_control(specs["min_size"])  # help: "0 = no limit" too
    for control in (max_size, min_size):
        qtbot.addWidget(control)
        tune_module._set_value(control, 0)
    assert max_size.text() == "no limit" and min_size.text() == "no limit"
    tune_module._set_value(max_size, 500)
    assert max_size.text() == "500"

    viewer, widget, layer = _volume_in_tune(docked_tune, volume_result)
    said = {spec.name: spec.help for spec in param_specs(semantic.Params)}["min_size"]
    assert widget.controls["min_size"].toolTip() == said  # the help: "...; 0 = no limit."
    assert said.endswith("; 0 = no limit.")
    radius = widget.controls["radius"]  # a slider: "(0 = off)"
    assert "0 = off" in radius.toolTip() and radius.value() == 2  # (em-mito3d's default)
    label = radius._label  # the value's box, typed into: a number, then Enter
    assert label.text() == "2"
    with qtbot.waitSignal(widget.update_finished, timeout=30_000):
        _type_into(label, "0")
    assert radius.value() == 0 and widget.params.radius == 0 and label.text() == "off"
    with qtbot.waitSignal(widget.update_finished, timeout=30_000):
        _type_into(label, "1")  # over "off"
    assert radius.value() == 1 and widget.params.radius == 1 and label.text() == "1"
    _type_into(label, "off")  # letters: the label's validator takes none of them
    assert label.text() == "1" and radius.value() == 1
    qtbot.waitUntil(lambda: not widget.busy, timeout=30_000)

    # z_median: "even sizes act as the next odd": the control shows the size that acts
    control = widget.controls["z_median"]
    assert control._label.text() == "off"
    control.setValue(6)  # moving up
    assert control.value() == 7 and widget.params.z_median == 7
    control.setValue(6)  # one step down from 7: on to 5 (6 would act as 7 again)
    assert control.value() == 5 and widget.params.z_median == 5
    control.setValue(9)
    control.setValue(6)  # a jump down (a drag, a click on the slider's track): 6 acts as 7
    assert control.value() == 7 and widget.params.z_median == 7  # (it went to 5)
    control.setValue(4)  # a jump down from 7 to 4, which acts as 5 (it went to 3)
    assert control.value() == 5 and widget.params.z_median == 5
    control.setValue(2)  # a jump down to 2, which acts as 3
    assert control.value() == 3 and widget.params.z_median == 3
    control.setValue(31)
    assert control.value() == 31


def test_a_superqt_whose_label_fails_keeps_the_slider_as_it_was(qtbot, monkeypatch):
    """The "off" of a slider leans on superqt's private label API: where it fails, the label
    keeps superqt's own number and formatting (the override is taken back), not a half-made
    control that would break the panel."""
    from superqt import QLabeledSlider
    from superqt.sliders._labeled import SliderLabel

    from tessella._widgets._tune_controls import _name_the_lowest

    slider = QLabeledSlider()
    qtbot.addWidget(slider)
    slider.setRange(0, 5)
    label = slider._label

    def fails(*_args) -> None:
        raise RuntimeError("another superqt")

    monkeypatch.setattr(SliderLabel, "_update_size", fails)
    _name_the_lowest(slider, "off")
    assert "_format_value" not in vars(label)  # superqt's own again
    assert label.text() == "0"
    slider.setValue(3)
    assert label.text() == "3"
    slider.setValue(0)
    assert label.text() == "0"


def test_z_median_runs_a_slice_preview_and_apply_to_all_agrees(
    docked_tune,
    volume_result,  # noqa: F811
    qtbot,
):
    """Since session 33 the slice preview makes z_median as Apply to all does (it ran none
    before: "applies at Apply to all"); test_tune_z_median checks it on real data."""
    viewer, widget, layer = _volume_in_tune(docked_tune, volume_result)
    with qtbot.waitSignal(widget.update_finished, timeout=30_000):
        set_control(widget.controls["z_median"], 5)
        assert widget.busy  # a preview runs
    qtbot.waitUntil(lambda: not widget.busy, timeout=30_000)
    assert "slice 5" in widget.status_label.text()
    assert "applies at Apply to all" not in widget.status_label.text()
    params = make_params(semantic.Params, volume_result.params, z_median=5)
    applied = semantic.postprocess(volume_result.predictions[0], params)
    np.testing.assert_array_equal(layer.data[5] > 0, applied[5] > 0)

    with qtbot.waitSignal(widget.update_finished, timeout=30_000):
        widget.apply_all_button.click()
    qtbot.waitUntil(lambda: not widget.busy, timeout=30_000)
    np.testing.assert_array_equal(layer.data, applied)
    assert "the whole volume" in widget.status_label.text()


def test_save_recipe_says_it_saved(docked_tune, result_2d, qtbot, tmp_path):
    viewer, widget = docked_tune
    place(viewer, result_2d)
    change(qtbot, widget, seed_thresh=0.8)
    path = widget.save_recipe(tmp_path / "nuclei.recipe.json")
    assert path is not None and widget.status_label.text() == f"Saved recipe to {path}"


@pytest.mark.parametrize(
    ("previewed", "expected"),
    [
        # frames 0 and 1 are done, 2 was already: none is older (it said 1 of 3: every
        # frame was counted as older at the start)
        (2, "'movie labels': cancelled; 0 of 3 frames still show the earlier parameters"),
        # frame 1 is done, 0 was already: frame 2 alone is older, in the singular (it said
        # "1 of 3 frames are older"); the line names the layer (it did not)
        (0, "'movie labels': cancelled; 1 of 3 frames still shows the earlier parameters"),
    ],
)
def test_a_cancelled_apply_to_all_counts_the_frame_previewed_with_its_values(
    docked_tune, result_tyx, qtbot, monkeypatch, previewed, expected
):
    """Frame ``previewed`` was previewed with the values Apply to all runs with, which is
    cancelled while frame 1 is computed (kept): the frame previewed is not counted as older."""
    viewer, widget = docked_tune
    place(viewer, result_tyx, name="movie labels")
    viewer.dims.set_current_step(0, previewed)
    change(qtbot, widget, min_size=150)  # the preview of that frame
    gate, original, frames = threading.Event(), embedding.postprocess, []

    def held_at_frame_1(prediction, params):
        frames.append(prediction)
        if len(frames) == 2:
            assert gate.wait(20)
        return original(prediction, params)

    monkeypatch.setattr(embedding, "postprocess", held_at_frame_1)
    with qtbot.waitSignal(widget.update_finished, timeout=20_000):
        widget.apply_all_button.click()
        qtbot.waitUntil(lambda: widget.progress_bar.value() == 1, timeout=10_000)
        widget.cancel_button.click()  # frame 1 is under way: it is kept, the rest not done
        gate.set()
    qtbot.waitUntil(lambda: not widget.busy, timeout=10_000)
    assert len(frames) == 2
    assert widget.status_label.text() == expected

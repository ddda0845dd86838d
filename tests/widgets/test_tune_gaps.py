"""Tune gaps an acceptance pass found in a real viewer: an update of a layer left for another
one, Save recipe over labels its parameters did not make, unlinked time-lapses shown as
tracks, volumes after Reset and Undo, parameters that cannot act on a 2D result (or on a
time-lapse with link off), and the controls after a failed update."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from napari.layers import Tracks
from scipy import ndimage

from tessella._widgets import _results
from tessella._widgets import tune as tune_module
from tessella._widgets._tune_frames import _postprocess_frames
from tessella.engine.methods import Prediction, embedding, semantic
from tessella.engine.params import make_params
from tessella.engine.pipeline import SegmentResult, resolve_params
from tests.widgets.test_temporal_widgets import (
    _movie_in_tune,
    _perfect_predictions,
    _set_then_apply_to_all,
    segment_cell_movie,
)
from tests.widgets.test_tune_widget import change, expected, place, set_control

#: the results of :func:`cells_movie` and :func:`volume_result`, made once a session: the
#: fixtures are imported into other modules, where pytest defines them again (another run
#: each); the tests place copies of their labels (nothing changes a result)
_MADE: dict = {}


@pytest.fixture(scope="module")
def cells_movie(tiny_temporal_dir):
    """The tiny temporal model's result on a cell movie, with perfect predictions (as
    test_temporal_widgets' movie_result)."""
    from dataclasses import replace

    from tessella.engine.pipeline import run_steps, segment_steps
    from tests.conftest import cell_movie

    if "cells_movie" not in _MADE:
        image, labels, _tracks = cell_movie()
        result = run_steps(segment_steps(image, str(tiny_temporal_dir), "TYX"))
        _MADE["cells_movie"] = replace(result, predictions=_perfect_predictions(labels))
    return _MADE["cells_movie"]


@pytest.fixture
def warnings_shown(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(tune_module, "show_warning", shown.append)
    return shown


def _wait(qtbot, widget, timeout=30_000) -> None:
    qtbot.waitUntil(lambda: not widget.busy, timeout=timeout)


# --- 1. an update under way when another layer is chosen ---------------------------------------


def test_an_update_under_way_lands_in_its_layer_when_another_is_chosen(
    docked_tune, result_2d, qtbot, monkeypatch, warnings_shown, tmp_path
):
    """seed_thresh moved on one layer, another chosen at once: the update goes on and lands
    in the first layer, whose controls, recipe and saved recipe then all say 0.5 (it was
    dropped, leaving 0.5 in the controls and in Save recipe over the 0.9 labels)."""
    viewer, widget = docked_tune
    first = place(viewer, result_2d, name="nuc labels")
    second = place(viewer, result_2d, name="nuc2 labels")
    widget.layer_combo.setCurrentText("nuc labels")
    before_second = second.data.copy()
    running, release = threading.Event(), threading.Event()
    original = embedding.postprocess

    def held(prediction, params):
        running.set()
        release.wait(10)
        return original(prediction, params)

    monkeypatch.setattr(embedding, "postprocess", held)
    set_control(widget.controls["seed_thresh"], 0.5)
    qtbot.waitUntil(running.is_set, timeout=10_000)
    widget.layer_combo.setCurrentText("nuc2 labels")  # while the update runs
    assert "'nuc labels': still updating" in widget.status_label.text()
    release.set()
    _wait(qtbot, widget)

    np.testing.assert_array_equal(first.data, expected(result_2d, seed_thresh=0.5))
    assert first.metadata["tessella_recipe"]["params"]["seed_thresh"] == 0.5
    np.testing.assert_array_equal(second.data, before_second)  # not the other layer
    assert widget.params.seed_thresh == result_2d.params.seed_thresh  # nuc2's own
    widget.layer_combo.setCurrentText("nuc labels")
    assert widget.params.seed_thresh == 0.5
    assert widget.controls["seed_thresh"].value() == pytest.approx(0.5)
    assert not widget.follow_labels_on_screen()  # in step with the labels on screen
    path = widget.save_recipe(tmp_path / "nuc.recipe.json")
    assert json.loads(path.read_text())["params"]["seed_thresh"] == 0.5
    assert warnings_shown == []

    # a change still waiting for the quiet period when the other layer is chosen runs too
    monkeypatch.setattr(embedding, "postprocess", original)
    set_control(widget.controls["seed_thresh"], 0.6)  # starts at once
    set_control(widget.controls["min_size"], 40)  # due at the end of the quiet period
    widget.layer_combo.setCurrentText("nuc2 labels")
    _wait(qtbot, widget)
    np.testing.assert_array_equal(first.data, expected(result_2d, seed_thresh=0.6, min_size=40))
    np.testing.assert_array_equal(second.data, before_second)
    widget.layer_combo.setCurrentText("nuc labels")
    assert (widget.params.seed_thresh, widget.params.min_size) == (0.6, 40)


def test_save_recipe_says_when_the_labels_on_screen_are_not_what_it_makes(
    docked_tune, result_tyx, qtbot, warnings_shown, tmp_path
):
    viewer, widget = docked_tune
    place(viewer, result_tyx, name="movie labels")
    viewer.dims.set_current_step(0, 1)
    change(qtbot, widget, min_size=150)  # frame 1 only
    assert widget.save_recipe(tmp_path / "a.json") is not None
    assert (
        len(warnings_shown) == 1
        and "does not make the labels now in 'movie labels'" in (warnings_shown[0])
    )
    assert "Apply to all" in warnings_shown[0]
    with qtbot.waitSignal(widget.update_finished, timeout=30_000):
        widget.apply_all_button.click()
    _wait(qtbot, widget)
    widget.save_recipe(tmp_path / "b.json")
    assert len(warnings_shown) == 1  # now they do


# --- 2. a time-lapse with link off ---------------------------------------------------------------


def test_an_unlinked_movie_says_so_and_hides_its_tracks(make_napari_viewer, cells_movie, qtbot):
    """link off, Apply to all: the status says the frames are not linked (no "tracks") and
    the Tracks layer is hidden; linking again shows it; an undo back to the unlinked labels
    hides it again."""
    viewer, tune, layer = _movie_in_tune(make_napari_viewer, cells_movie)
    _set_then_apply_to_all(qtbot, tune, "temporal_sigma", 0.0)
    tracks = _results.tracks_layer(viewer, layer)
    assert isinstance(tracks, Tracks) and tracks.visible
    assert "tracks, linked in" in tune.status_label.text()

    _set_then_apply_to_all(qtbot, tune, "link", False)
    status = tune.status_label.text()
    assert "not linked" in status and "tracks," not in status and "linked in" not in status
    assert not tracks.visible
    assert [lay for lay in viewer.layers if isinstance(lay, Tracks)] == [tracks]
    unlinked = layer.data.copy()

    _set_then_apply_to_all(qtbot, tune, "link", True)
    assert tracks.visible and "tracks, linked in" in tune.status_label.text()
    layer.undo()  # back to the unlinked labels: no tracks to show
    np.testing.assert_array_equal(layer.data, unlinked)
    assert not tracks.visible
    layer.redo()
    assert tracks.visible


def test_a_linking_parameter_runs_no_frame_preview_and_acts_at_apply_to_all(
    make_napari_viewer, cells_movie, qtbot, monkeypatch
):
    """min_iou, divisions, link: a preview of the frame on screen is never linked, so a change
    runs none (it ran one, which changed nothing the user could see); the status and the
    tooltips say that these act at Apply to all, which then links with them. A parameter of
    the frames (min_size) still previews the frame."""
    from tessella.engine.methods import temporal

    viewer, tune, layer = _movie_in_tune(make_napari_viewer, cells_movie)
    viewer.dims.set_point(0, 5)
    previewed = []
    original = temporal.postprocess_frame
    monkeypatch.setattr(
        temporal,
        "postprocess_frame",
        lambda predictions, t, params: previewed.append(t) or original(predictions, t, params),
    )
    before = layer.data.copy()
    for name in ("min_iou", "max_distance", "divisions", "link"):
        assert "Apply to all" in tune.controls[name].toolTip(), name
    assert "Apply to all" not in tune.controls["min_size"].toolTip()

    with qtbot.waitSignal(tune.update_finished, timeout=5_000):
        tune.controls["min_iou"].setValue(0.6)
    assert not tune.busy and previewed == []
    assert tune.params.min_iou == 0.6
    assert tune.status_label.text() == (
        "'movie labels': min_iou=0.6 applies at Apply to all (it acts on how the frames are "
        "linked; the preview of one frame is not linked, so none was run)"
    )
    with qtbot.waitSignal(tune.update_finished, timeout=5_000):
        tune.controls["divisions"].setChecked(False)
    assert "divisions off applies at Apply to all (it acts on how" in tune.status_label.text()
    with qtbot.waitSignal(tune.update_finished, timeout=5_000):
        tune.controls["link"].setChecked(False)
    assert not tune.busy and previewed == [] and not tune.controls["min_iou"].isEnabled()
    assert (
        "link off applies at Apply to all (it leaves the frames unlinked, each object with "
        "its own ID; the preview" in tune.status_label.text()
    )  # (it said "link=False ... it links")
    np.testing.assert_array_equal(layer.data, before)

    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.controls["min_size"].setValue(50)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    assert previewed == [5]

    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.apply_all_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    params = layer.metadata["tessella_recipe"]["params"]
    assert (params["min_iou"], params["link"], params["min_size"]) == (0.6, False, 50)
    assert params["divisions"] is False
    assert "not linked" in tune.status_label.text()


def test_segment_with_link_off_adds_no_tracks_layer(
    make_napari_viewer, tiny_temporal_dir, run_to_end, monkeypatch
):
    viewer, widget, _image = segment_cell_movie(
        make_napari_viewer, tiny_temporal_dir, monkeypatch, threshold=0.0, link=False
    )
    assert widget.add_model(tiny_temporal_dir)
    assert widget.axes_combo.currentText() == "TYX"
    run_to_end(widget)
    layer = viewer.layers["movie labels (tiny_temporal)"]
    assert layer.metadata["tessella_recipe"]["params"]["link"] is False
    assert layer.data.any()
    assert not [lay for lay in viewer.layers if isinstance(lay, Tracks)]
    status = widget.status_label.text()
    assert " objects in " in status and "tracks" not in status  # (it said "N tracks")


# --- 3. volumes: Reset, Load recipe, Undo of a slice preview -----------------------------------


def _blobs_volume(shape=(10, 96, 96), seed=0) -> np.ndarray:
    """A smooth foreground probability with a dozen blobs through the slices."""
    rng = np.random.default_rng(seed)
    points = np.zeros(shape, np.float32)
    for _ in range(12):
        points[tuple(rng.integers(0, s) for s in shape)] = 1.0
    smooth = ndimage.gaussian_filter(points, (2.0, 6.0, 6.0))
    return np.clip(smooth / smooth.max() * 1.6, 0, 1).astype(np.float32)


def _semantic_result(model_name: str, probability: np.ndarray, axes: str) -> SegmentResult:
    """A Segment result of a semantic model on a made-up probability (no network run)."""
    from tessella.engine.registry import load_model

    model = load_model(model_name)
    params = resolve_params(model)
    prediction = Prediction({"foreground": probability[None]}, axes)
    labels = semantic.postprocess(prediction, params)
    return SegmentResult(labels, axes, [prediction], params, model)


@pytest.fixture(scope="module")
def volume_result():
    if "volume_result" not in _MADE:  # (once a session: see _MADE)
        _MADE["volume_result"] = _semantic_result("em-mito3d", _blobs_volume(), "ZYX")
    return _MADE["volume_result"]


def _volume_in_tune(docked_tune, result, z=5):
    viewer, widget = docked_tune
    layer = place(viewer, result, name="vol labels")
    viewer.dims.set_current_step(0, z)
    assert widget.labels_layer is layer and widget.apply_all_button.isEnabled()
    return viewer, widget, layer


def test_reset_of_a_volume_redoes_all_of_it(docked_tune, volume_result, qtbot, tmp_path):
    viewer, widget, layer = _volume_in_tune(docked_tune, volume_result)
    change(qtbot, widget, threshold=0.3)
    assert "slice 5" in widget.status_label.text()
    assert not np.array_equal(layer.data, volume_result.labels)  # a 2D preview of slice 5
    with qtbot.waitSignal(widget.update_finished, timeout=30_000):
        widget.reset_button.click()
    _wait(qtbot, widget)
    assert widget.params == resolve_params(volume_result.model)
    np.testing.assert_array_equal(layer.data, volume_result.labels)  # as Segment made them
    assert "the whole volume" in widget.status_label.text()
    recipe, reproduces = _results.recipe_on_screen(layer)
    assert reproduces and recipe["params"] == volume_result.recipe()["params"]

    # Load recipe too: the volume the recipe makes
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"params": {"threshold": 0.3, "min_size": 50}}))
    with qtbot.waitSignal(widget.update_finished, timeout=30_000):
        assert widget.load_recipe(path)
    _wait(qtbot, widget)
    params = make_params(semantic.Params, volume_result.params, threshold=0.3, min_size=50)
    np.testing.assert_array_equal(
        layer.data, semantic.postprocess(volume_result.predictions[0], params)
    )


def test_the_controls_follow_an_undo_of_a_slice_preview(
    docked_tune, volume_result, qtbot, warnings_shown, tmp_path
):
    viewer, widget, layer = _volume_in_tune(docked_tune, volume_result)
    default = volume_result.params
    change(qtbot, widget, threshold=0.3)
    first = layer.data.copy()
    change(qtbot, widget, min_size=2000)
    assert not np.array_equal(layer.data, first)
    layer.undo()  # back to the first preview
    np.testing.assert_array_equal(layer.data, first)
    assert widget.follow_labels_on_screen()
    assert (widget.params.threshold, widget.params.min_size) == (0.3, default.min_size)
    assert widget.controls["min_size"].value() == default.min_size
    assert "preview" in widget.status_label.text()
    layer.undo()  # back to Segment's labels
    assert widget.follow_labels_on_screen() and widget.params == default
    layer.redo()
    assert widget.follow_labels_on_screen() and widget.params.threshold == 0.3
    # a preview is not what the recipe makes of the volume: Save recipe says so
    widget.save_recipe(tmp_path / "p.json")
    assert len(warnings_shown) == 1 and "Apply to all" in warnings_shown[0]


def test_a_slice_preview_keeps_the_ids_of_the_volumes_objects(docked_tune, volume_result, qtbot):
    """A 2D preview of slice 5 gives its objects the IDs of the 3D objects they overlap (they
    were renumbered 1..n in 2D, so one object had two IDs and two objects one); others get
    IDs no other slice uses."""
    viewer, widget, layer = _volume_in_tune(docked_tune, volume_result, z=9)
    before = layer.data.copy()
    change(qtbot, widget, threshold=0.5)
    shown = layer.data[9]
    # the slice post-processed in 2D, min_size judged by each object's size in the volume
    params = make_params(semantic.Params, volume_result.params, threshold=0.5)
    frames = _postprocess_frames(semantic, volume_result.predictions, params, (0,), 9, volume=True)
    preview = next(iter(frames))[1]
    assert ((shown > 0) == (preview > 0)).all() and not np.array_equal(shown, before[9])
    # 4 blobs, as Apply to all makes slice 9 (radius 2: a 3D ball; a disc on the slice alone
    # kept a fifth, session 32)
    assert len(np.unique(shown)) == len(np.unique(preview)) == 5
    pairs = set(zip(preview.ravel().tolist(), shown.ravel().tolist()))
    assert len(pairs) == 5  # one ID for each object of the preview
    kept = np.setdiff1d(np.intersect1d(shown, before[9]), [0])
    assert kept.size >= 2  # the blobs that stay keep their 3D IDs
    new = np.setdiff1d(shown, np.concatenate([kept, [0]]))
    others = np.delete(before, 9, axis=0)
    assert not np.isin(new, others).any()  # and no new object takes another's ID


def test_a_preview_that_changes_nothing_keeps_the_controls(docked_tune, volume_result, qtbot):
    """A preview that leaves the labels on screen as they were (z_median 3 on slice 5 of
    these blobs, thick along Z): the controls keep the value moved, not pulled back to the
    values of the preview before, whose labels these are too. (Before session 33 z_median
    ran no preview of a slice; it is made as Apply to all makes it now.)"""
    viewer, widget, layer = _volume_in_tune(docked_tune, volume_result)
    change(qtbot, widget, threshold=0.3)
    assert "without z_median" not in widget.status_label.text()
    before = layer.data.copy()
    change(qtbot, widget, z_median=3)
    np.testing.assert_array_equal(layer.data, before)
    assert "slice 5" in widget.status_label.text()
    assert not widget.follow_labels_on_screen() and widget.params.z_median == 3


# --- 4. parameters that cannot act on the result's axes -----------------------------------------


def test_z_median_is_disabled_on_a_2d_result_and_says_why(docked_tune, volume_result):
    viewer, widget = docked_tune
    flat = _semantic_result("em-mito2d", _blobs_volume((1, 96, 96))[0], "YX")
    place(viewer, flat, name="em labels")
    control = widget.controls["z_median"]
    assert not control.isEnabled()
    assert "no Z axis" in control.toolTip() and "Not used here" in control.toolTip()
    assert not flat.params.split  # em-mito2d's default: min_distance greyed out, as it says
    assert "acts only while split is on" in widget.controls["min_distance"].toolTip()
    others = {"z_median", "min_distance"}
    assert all(c.isEnabled() for name, c in widget.controls.items() if name not in others)
    place(viewer, volume_result, name="vol labels")  # a volume: it acts
    assert widget.controls["z_median"].isEnabled()
    assert "Not used" not in widget.controls["z_median"].toolTip()


def test_tracking_parameters_are_greyed_out_while_link_is_off(
    make_napari_viewer, cells_movie, qtbot, warnings_shown, tmp_path
):
    """cells2dt's min_iou, max_distance and divisions act only when the movie is linked:
    greyed out (the tooltip says why) while link is off, whether it was turned off here, by
    Load recipe or shown after an undo; Reset and link on bring them back. Their values stay,
    and Save recipe writes them."""
    viewer, tune, layer = _movie_in_tune(make_napari_viewer, cells_movie)
    tracking = ("min_iou", "max_distance", "divisions")

    def usable(name: str) -> bool:
        control = tune.controls[name]
        label = tune.params_form.labelForField(control)
        assert label.isEnabled() == control.isEnabled()
        assert label.toolTip() == control.toolTip()
        return control.isEnabled()

    assert all(usable(name) for name in tune.controls)
    assert "Not used" not in tune.controls["min_iou"].toolTip()

    _set_then_apply_to_all(qtbot, tune, "link", False)
    assert not tune.controls["link"].isChecked()
    assert not any(usable(name) for name in tracking)
    assert all(usable(name) for name in tune.controls if name not in tracking)
    tip = tune.controls["max_distance"].toolTip()
    assert "Not used now: max_distance acts only while link is on" in tip
    assert "cells that no longer overlap" in tip  # (the parameter's own help follows)
    recipe = json.loads(tune.save_recipe(tmp_path / "unlinked.json").read_text())["params"]
    assert recipe["link"] is False and recipe["min_iou"] == cells_movie.params.min_iou
    assert warnings_shown == []  # these parameters made the labels on screen

    _set_then_apply_to_all(qtbot, tune, "link", True)
    assert all(usable(name) for name in tracking)
    assert "Not used" not in tune.controls["min_iou"].toolTip()
    layer.undo()  # back to the unlinked labels: the controls follow them
    assert tune.follow_labels_on_screen() and not tune.params.link
    assert not any(usable(name) for name in tracking)

    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.reset_button.click()  # link on again (the frame on screen)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    assert tune.controls["link"].isChecked() and all(usable(name) for name in tracking)

    path = tmp_path / "off.json"
    path.write_text(json.dumps({"params": {"link": False, "min_iou": 0.35}}))
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        assert tune.load_recipe(path)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    assert not any(usable(name) for name in tracking)
    assert tune.controls["min_iou"].value() == pytest.approx(0.35)

    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        set_control(tune.controls["link"], True)  # as a click does
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    assert all(usable(name) for name in tracking)


# --- 5. a failed update --------------------------------------------------------------------------


def test_a_failed_update_brings_the_controls_back_to_the_labels_on_screen(
    docked_tune, result_2d, qtbot, monkeypatch, warnings_shown, tmp_path
):
    """seed_thresh moved to a value whose post-processing fails: the labels stay, and the
    controls go back to the values that made them (they kept the failed value, which Save
    recipe then saved); the status says which value failed and why."""
    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    errors: list[str] = []
    monkeypatch.setattr(tune_module, "show_error", errors.append)
    original = embedding.postprocess

    def fails_below(prediction, params):
        if params.seed_thresh < 0.3:
            raise RuntimeError("numba kernel failed")
        return original(prediction, params)

    monkeypatch.setattr(embedding, "postprocess", fails_below)
    change(qtbot, widget, seed_thresh=0.6)
    made = layer.data.copy()
    np.testing.assert_array_equal(made, expected(result_2d, seed_thresh=0.6))

    change(qtbot, widget, seed_thresh=0.2)

    assert errors == ["Tune failed on layer 'nuclei labels': numba kernel failed"]
    np.testing.assert_array_equal(layer.data, made)
    assert widget.params == make_params(embedding.Params, result_2d.params, seed_thresh=0.6)
    assert widget.controls["seed_thresh"].value() == pytest.approx(0.6)
    status = widget.status_label.text()
    assert status.startswith("'nuclei labels': post-processing failed with seed_thresh=0.2")
    assert "(numba kernel failed)" in status and "back to the values of the labels" in status
    saved = json.loads(widget.save_recipe(tmp_path / "r.json").read_text())["params"]
    assert saved["seed_thresh"] == 0.6 and warnings_shown == []

    # another change goes on from the values on screen; a failure right after Segment goes
    # back to Segment's values
    change(qtbot, widget, min_size=50)
    np.testing.assert_array_equal(layer.data, expected(result_2d, seed_thresh=0.6, min_size=50))
    second = place(viewer, result_2d, name="second labels")
    assert widget.labels_layer is second
    change(qtbot, widget, seed_thresh=0.1)
    assert widget.params == result_2d.params
    np.testing.assert_array_equal(second.data, result_2d.labels)

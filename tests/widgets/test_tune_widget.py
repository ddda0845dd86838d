"""The Tune dock widget: live post-processing on the cached prediction, never the network."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from napari.layers import Labels

from tessella._widgets import _labels_states, _results
from tessella._widgets import tune as tune_module
from tessella._widgets.tune import TuneWidget
from tessella.engine.methods import embedding
from tessella.engine.params import make_params, param_specs
from tessella.engine.pipeline import number_frames


@pytest.fixture
def no_network(monkeypatch):
    """Record (and refuse) every attempt to run a network."""
    from tessella.engine import inference, pipeline

    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("the network ran")

    monkeypatch.setattr(inference.NetworkRunner, "_run_batch", refuse)
    monkeypatch.setattr(inference.NetworkRunner, "predict", refuse)
    monkeypatch.setattr(pipeline, "predict_steps", refuse)
    return calls


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(tune_module, "show_error", shown.append)
    return shown


def place(viewer, result, name="nuclei labels", **kwargs) -> Labels:
    """What the Segment widget does with a result: a labels layer, registered in the cache."""
    metadata = {"tessella_recipe": result.recipe()}
    layer = viewer.add_labels(result.labels.copy(), name=name, metadata=metadata, **kwargs)
    _results.note_labels_state(layer, metadata["tessella_recipe"]["params"])
    _results.register(layer, result, viewer.layers)
    return layer


def set_control(control, value) -> None:
    if hasattr(control, "setChecked"):
        control.setChecked(value)
    else:
        control.setValue(value)


def change(qtbot, widget, timeout=10_000, **values) -> None:
    """Set controls (all in one event-loop turn) and wait for the update they trigger."""
    with qtbot.waitSignal(widget.update_finished, timeout=timeout):
        for name, value in values.items():
            set_control(widget.controls[name], value)
    qtbot.waitUntil(lambda: not widget.busy, timeout=timeout)


def expected(result, frame=0, **values) -> np.ndarray:
    params = make_params(embedding.Params, result.params, **values)
    return embedding.postprocess(result.predictions[frame], params)


def test_lists_the_segment_result_with_one_control_per_parameter(
    segment_widget, nuclei_image, run_to_end
):
    viewer, segment = segment_widget
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    assert isinstance(widget, TuneWidget)
    assert widget.layer_combo.count() == 0 and widget.controls == {}
    viewer.add_image(nuclei_image, name="nuclei")
    viewer.add_labels(np.zeros((8, 8), np.uint8), name="not from segment")

    run_to_end(segment)

    layer = viewer.layers["nuclei labels (nuclei2d)"]
    result = _results.get(layer)
    assert result is not None and result.labels is not None
    assert [widget.layer_combo.itemText(i) for i in range(widget.layer_combo.count())] == [
        "nuclei labels (nuclei2d)"
    ]
    assert widget.labels_layer is layer
    specs = param_specs(embedding.Params)
    assert list(widget.controls) == [spec.name for spec in specs]
    for spec in specs:
        control = widget.controls[spec.name]
        assert control.value() == pytest.approx(getattr(result.params, spec.name)), spec.name
        assert control.toolTip().startswith(spec.help.rstrip(".")), spec.name
    assert type(widget.controls["seed_thresh"]).__name__ == "QLabeledDoubleSlider"

    viewer.layers.remove(layer)  # the cache lets go of the prediction with the layer
    assert _results.get(layer) is None
    assert widget.layer_combo.count() == 0 and widget.controls == {}


def test_a_change_reruns_only_postprocessing(docked_tune, result_2d, qtbot, no_network):
    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    assert widget.labels_layer is layer

    change(qtbot, widget, seed_thresh=0.7)

    assert widget.params.seed_thresh == 0.7
    np.testing.assert_array_equal(layer.data, expected(result_2d, seed_thresh=0.7))
    assert not np.array_equal(layer.data, result_2d.labels)
    assert layer.metadata["tessella_recipe"]["params"]["seed_thresh"] == 0.7
    assert "updated in" in widget.status_label.text()

    change(qtbot, widget, min_size=1_000_000)  # larger than any nucleus: nothing is left

    assert layer.data.max() == 0
    assert layer.metadata["tessella_recipe"]["params"]["min_size"] == 1_000_000
    assert no_network == []
    assert result_2d.params.min_size != 1_000_000  # the cached result is not modified


def test_undo_after_a_change_brings_back_the_corrected_labels(
    docked_tune, result_2d, result_tyx, qtbot, no_network, monkeypatch
):
    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    with layer.block_history():  # a correction, as the Correct widget records it
        layer.data_setitem(np.nonzero(layer.data == 1), 0)
    corrected = layer.data.copy()
    # Segment tells Tune's history steps from the user's edits (it keeps only the latter)
    seen = []
    layer.events.paint.connect(lambda event: seen.append(_results.tool_is_writing(layer.unique_id)))

    change(qtbot, widget, seed_thresh=0.7)
    assert seen == [True] and not _results.tool_is_writing(layer.unique_id)
    tuned = expected(result_2d, seed_thresh=0.7)
    np.testing.assert_array_equal(layer.data, tuned)

    layer.undo()  # the Tune update is one step: the corrected labels come back
    np.testing.assert_array_equal(layer.data, corrected)
    layer.undo()  # and the correction before it is still in the history
    np.testing.assert_array_equal(layer.data, result_2d.labels)
    layer.redo()
    layer.redo()
    np.testing.assert_array_equal(layer.data, tuned)

    # a time-lapse frame update is one step too, touching only that frame
    movie = place(viewer, result_tyx, name="movie labels")
    widget.layer_combo.setCurrentText("movie labels")
    before = movie.data.copy()
    viewer.dims.set_current_step(0, 1)
    change(qtbot, widget, min_size=150)
    assert not np.array_equal(movie.data[1], before[1])
    movie.undo()
    np.testing.assert_array_equal(movie.data, before)

    # a change too large to record replaces the data and says so
    monkeypatch.setattr(_labels_states, "UNDO_BYTES", 100)
    assert np.count_nonzero(movie.data[1]) > 10
    change(qtbot, widget, min_size=1_000_000)  # every object goes: a change of all of them
    assert "too large a change to undo" in widget.status_label.text()
    assert not movie.data[1].any()


def test_rapid_changes_run_together_and_the_last_reaches_the_layer(
    docked_tune, result_2d, qtbot, monkeypatch, no_network
):
    viewer, widget = docked_tune
    LAST = 0.95  # the value the spaced changes end on
    layer = place(viewer, result_2d)
    calls = []
    original = embedding.postprocess
    gate = threading.Event()  # open but while the spaced changes are made
    gate.set()

    def slow_unless_last(prediction, params):
        calls.append(params.seed_thresh)
        if params.seed_thresh != LAST:
            gate.wait(20)  # so that it finishes after the last was set
        return original(prediction, params)

    monkeypatch.setattr(embedding, "postprocess", slow_unless_last)
    writes = []  # Tune writes through the undo history, which emits ``paint``
    layer.events.paint.connect(lambda event: writes.append(widget.params.seed_thresh))

    # changes within the debounce interval: the first starts at once, the rest run together
    # once it is done
    change(qtbot, widget, seed_thresh=0.8, cutoff=0.4, min_size=20)
    assert len(calls) == 2
    np.testing.assert_array_equal(
        layer.data, expected(result_2d, seed_thresh=0.8, cutoff=0.4, min_size=20)
    )

    # changes spaced beyond the debounce while a run is under way: they wait for it, which is
    # shown, and then run once with the latest values; the last one must change the labels,
    # or no write would be expected (a model whose seeds are all confident gives the same
    # labels for any seed_thresh up to 0.8)
    final = expected(result_2d, seed_thresh=LAST, cutoff=0.4, min_size=20)
    assert not np.array_equal(final, layer.data)
    calls.clear(), writes.clear()
    gate.clear()
    with qtbot.waitSignal(widget.update_finished, timeout=30_000):
        for value in (0.9, 0.93, LAST):
            set_control(widget.controls["seed_thresh"], value)
            qtbot.wait(tune_module.DEBOUNCE_MS * 3)
        gate.set()  # 0.9's run ends only now, whatever the machine's load
    qtbot.waitUntil(lambda: not widget.busy, timeout=30_000)

    assert calls == [0.9, LAST]  # 0.93 came while 0.9 ran, and LAST before it ended
    assert len(writes) == 2  # the run under way was shown, then the latest values
    np.testing.assert_array_equal(layer.data, final)
    assert no_network == []


def test_time_lapse_updates_the_current_frame_then_all(docked_tune, result_tyx, qtbot, no_network):
    viewer, widget = docked_tune
    layer = place(viewer, result_tyx, name="movie labels", scale=(2.0, 1.0, 1.0))
    before = layer.data.copy()
    assert widget.apply_all_button.isEnabled()
    viewer.dims.set_current_step(0, 1)  # frame 1 (at t = 2.0 with the layer's scale)

    change(qtbot, widget, min_size=150, seed_thresh=0.7)

    # the frame's new objects, with the IDs the objects they match had (the rest new IDs,
    # which no other frame uses: one ID is one object of the movie, as Segment numbers them)
    preview = expected(result_tyx, 1, min_size=150, seed_thresh=0.7)
    shown = layer.data[1]
    pairs = set(zip(preview.ravel().tolist(), shown.ravel().tolist()))
    assert len(pairs) == len(np.unique(preview)) == len(np.unique(shown))
    assert ((preview > 0) == (shown > 0)).all() and not np.array_equal(shown, before[1])
    kept = np.intersect1d(shown, before[1])
    assert kept.size > 1  # (0 and most nuclei: they move little at these settings)
    assert not np.intersect1d(shown[~np.isin(shown, kept)], before[[0, 2]]).size
    np.testing.assert_array_equal(layer.data[[0, 2]], before[[0, 2]])
    assert "frame 1" in widget.status_label.text() and "Apply to all" in widget.status_label.text()

    with qtbot.waitSignal(widget.update_finished, timeout=10_000):
        widget.apply_all_button.click()

    frames = [expected(result_tyx, t, min_size=150, seed_thresh=0.7) for t in range(3)]
    np.testing.assert_array_equal(layer.data, number_frames(frames))
    assert widget.progress_bar.value() == widget.progress_bar.maximum() == 3
    assert no_network == []


def test_apply_to_all_can_be_cancelled(docked_tune, result_tyx, qtbot, monkeypatch):
    viewer, widget = docked_tune
    layer = place(viewer, result_tyx, name="movie labels")
    before = layer.data.copy()
    original = embedding.postprocess

    def slow(prediction, params):
        time.sleep(0.3)
        return original(prediction, params)

    monkeypatch.setattr(embedding, "postprocess", slow)
    # frame 0; more objects per frame than Segment's parameters find
    change(qtbot, widget, min_size=5, seed_thresh=0.3)
    with qtbot.waitSignal(widget.update_finished, timeout=10_000):
        widget.apply_all_button.click()
        assert widget.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: widget.progress_bar.value() >= 1, timeout=10_000)
        widget.cancel_button.click()  # during frame 1: frame 2 is never done

    # frame 1 is kept when it finishes before the worker sees the cancel (timing-dependent)
    done = widget.progress_bar.value()
    assert done in (1, 2)
    assert f": cancelled; {3 - done} of 3 frames still show" in widget.status_label.text()
    # frame 2 keeps its objects, renumbered after the frames redone: the redone ones are
    # numbered from 1 on and found more objects, so its old IDs were theirs too
    kept = np.asarray(layer.data[2])
    pairs = set(zip(before[2].ravel().tolist(), kept.ravel().tolist()))
    assert len(pairs) == len(np.unique(before[2])) == len(np.unique(kept))
    ids = [set(np.unique(frame).tolist()) - {0} for frame in np.asarray(layer.data)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert not widget.cancel_button.isEnabled() and widget.apply_all_button.isEnabled()


def test_reset_and_recipes(docked_tune, result_2d, qtbot, tmp_path, errors, nuclei_image):
    from tessella.cli import main
    from tessella.engine.pipeline import resolve_params

    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    defaults = resolve_params(result_2d.model)

    change(qtbot, widget, seed_thresh=0.75, min_size=80)
    tuned = widget.params
    assert tuned != defaults
    with qtbot.waitSignal(widget.update_finished, timeout=10_000):
        widget.reset_button.click()
    assert widget.params == defaults
    assert widget.controls["min_size"].value() == defaults.min_size
    np.testing.assert_array_equal(
        layer.data, embedding.postprocess(result_2d.predictions[0], defaults)
    )

    # save the tuned parameters, reset, load them back
    change(qtbot, widget, seed_thresh=0.75, min_size=80)
    path = widget.save_recipe(tmp_path / "tuned.recipe.json")
    recipe = json.loads(path.read_text())
    assert recipe["params"] == {**recipe["params"], "seed_thresh": 0.75, "min_size": 80}
    assert recipe["model"] == result_2d.model.card.name and recipe["axes"] == "YX"
    with qtbot.waitSignal(widget.update_finished, timeout=10_000):
        widget.reset()
    with qtbot.waitSignal(widget.update_finished, timeout=10_000):
        assert widget.load_recipe(path)
    assert widget.params == tuned
    assert widget.controls["seed_thresh"].value() == pytest.approx(0.75)
    np.testing.assert_array_equal(layer.data, expected(result_2d, seed_thresh=0.75, min_size=80))

    # a bad recipe names the file and the parameter and changes nothing
    for bad, name in (
        ({"params": {"seed_threshold": 0.5}}, "seed_threshold"),
        ({"params": {"cutoff": 3}}, "cutoff"),
        ({"method": "embedding", "defaults": {"seed_thresh": 0.5}}, "params"),  # a model card
    ):
        bad_path = tmp_path / f"bad_{name}.json"
        bad_path.write_text(json.dumps({"model": recipe["model"], **bad}))
        assert not widget.load_recipe(bad_path)
        assert str(bad_path) in errors[-1] and name in errors[-1]
        assert widget.params == tuned and not widget.busy
    assert len(errors) == 3

    # the CLI replays the saved recipe and gets the same labels
    import tifffile

    image_path, out = tmp_path / "image.tif", tmp_path / "labels.tif"
    tifffile.imwrite(image_path, nuclei_image)
    assert main(["segment", str(image_path), "-o", str(out), "--recipe", str(path), "-q"]) == 0
    replayed = json.loads((tmp_path / "labels.recipe.json").read_text())
    assert replayed["params"] == recipe["params"]
    assert np.mean(tifffile.imread(out) == layer.data) > 0.999


def test_an_error_in_postprocessing_is_reported_and_the_widget_stays_usable(
    docked_tune, result_2d, qtbot, monkeypatch, errors
):
    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    before = layer.data.copy()
    original = embedding.postprocess

    def broken(prediction, params):
        raise RuntimeError("numba kernel failed")  # superqt would swallow a bare RuntimeError

    monkeypatch.setattr(embedding, "postprocess", broken)
    change(qtbot, widget, seed_thresh=0.7)

    assert errors == ["Tune failed on layer 'nuclei labels': numba kernel failed"]
    np.testing.assert_array_equal(layer.data, before)
    assert "failed" in widget.status_label.text()

    monkeypatch.setattr(embedding, "postprocess", original)
    change(qtbot, widget, seed_thresh=0.6)
    np.testing.assert_array_equal(layer.data, expected(result_2d, seed_thresh=0.6))
    assert len(errors) == 1


def test_an_error_names_the_layer_of_the_failed_update_even_once_it_is_gone(
    docked_tune, result_2d, qtbot, monkeypatch, errors
):
    """An update fails after its labels layer was removed: the error names that layer (as
    named when the update began), not the layer chosen now. (Removing the layer the panel
    shows supersedes its update, whose failure then goes unsaid: the failure of the latest
    update is delivered here by hand once its layer is gone.)"""
    import threading

    viewer, widget = docked_tune
    other = place(viewer, result_2d, name="other labels")
    layer = place(viewer, result_2d)
    assert widget.labels_layer is layer
    running, release = threading.Event(), threading.Event()

    def broken(prediction, params):
        running.set()
        release.wait(60)
        raise RuntimeError("numba kernel failed")

    monkeypatch.setattr(embedding, "postprocess", broken)
    set_control(widget.controls["seed_thresh"], 0.7)
    qtbot.waitUntil(running.is_set, timeout=10_000)
    request = widget._requests.get(layer.unique_id)
    assert request is not None and request.layer_id == layer.unique_id
    viewer.layers.remove(layer)
    assert widget.labels_layer is other
    release.set()
    qtbot.waitUntil(lambda: not widget.busy, timeout=10_000)
    assert errors == []  # superseded by the removal: nothing to say

    widget._requests[request.layer_id] = request  # as if it were still the latest
    widget._on_errored(request, RuntimeError("numba kernel failed"))
    assert errors == ["Tune failed on layer 'nuclei labels': numba kernel failed"]
    assert widget.status_label.text().startswith("'nuclei labels': post-processing failed")
    del widget._requests[request.layer_id]


def test_the_cache_keeps_the_latest_results_only(docked_tune, result_2d):
    viewer, widget = docked_tune
    layers = [place(viewer, result_2d, name=f"labels {i}") for i in range(_results.MAX_RESULTS + 1)]
    assert _results.get(layers[0]) is None
    assert all(_results.get(layer) is result_2d for layer in layers[1:])
    names = [widget.layer_combo.itemText(i) for i in range(widget.layer_combo.count())]
    assert names == [layer.name for layer in layers[1:]]
    assert widget.labels_layer is layers[-1]  # the newest result is shown


def test_each_kind_of_parameter_gets_a_fitting_control(qtbot):
    from tessella.engine.params import ParamSpec

    cases = [
        (ParamSpec("fill", True, None, None, "", bool), "QCheckBox"),
        (ParamSpec("radius", 3, 0, 10, "", int), "QLabeledSlider"),
        (ParamSpec("min_size", 36, 0, 1_000_000, "", int), "QSpinBox"),
        (ParamSpec("cutoff", 0.5, 0.01, 0.99, "", float), "QLabeledDoubleSlider"),
        (ParamSpec("sigma", 2.5, 0.0, None, "", float), "QDoubleSpinBox"),
    ]
    for spec, kind in cases:
        control = tune_module._make_control(spec)
        qtbot.addWidget(control)
        assert type(control).__name__ == kind, spec.name
        tune_module._set_value(control, spec.default)
        value = control.isChecked() if kind == "QCheckBox" else control.value()
        assert value == pytest.approx(spec.default), spec.name
        if spec.high is not None and kind != "QCheckBox":
            assert (control.minimum(), control.maximum()) == pytest.approx((spec.low, spec.high))


def test_the_exported_recipe_makes_the_labels_on_screen(
    docked_tune, result_2d, result_tyx, qtbot, tmp_path, no_network
):
    """After Ctrl+Z undoes a Tune update, Export's recipe holds the parameters that made the
    labels on screen, not the last ones tried; after a hand edit, or a change of one frame
    of a movie not applied to all, the recipe says the labels were changed after it."""
    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    original = result_2d.recipe()["params"]
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    export.labels_combo.setCurrentText("nuclei labels")
    for box in (export.tiff_checkbox, export.zarr_checkbox, export.csv_checkbox):
        box.setChecked(False)
    export.overwrite_checkbox.setChecked(True)
    export.path_edit.setText(str(tmp_path / "res"))

    def exported() -> dict:
        assert export.recipe_checkbox.isEnabled() and export.recipe_checkbox.isChecked()
        assert export.export() == [tmp_path / "res.recipe.json"]
        return json.loads((tmp_path / "res.recipe.json").read_text())

    change(qtbot, widget, seed_thresh=0.5)
    assert exported()["params"]["seed_thresh"] == 0.5
    layer.undo()
    np.testing.assert_array_equal(layer.data, result_2d.labels)
    recipe = exported()
    assert recipe["params"] == original and "labels_edited" not in recipe
    layer.redo()
    assert exported()["params"]["seed_thresh"] == 0.5

    layer.data_setitem(np.nonzero(layer.data == layer.data.max()), 0)  # a hand edit
    recipe = exported()
    assert recipe["labels_edited"] is True and recipe["params"]["seed_thresh"] == 0.5
    assert "changed after 'nuclei labels' was segmented" in export.status_label.text()

    # a movie: one frame updated is a preview; Apply to all makes the recipe the new one
    movie = place(viewer, result_tyx, name="movie labels")
    widget.layer_combo.setCurrentText("movie labels")
    export.labels_combo.setCurrentText("movie labels")
    viewer.dims.set_current_step(0, 1)
    change(qtbot, widget, min_size=150)
    recipe = exported()
    assert recipe["labels_edited"] is True
    assert recipe["params"]["min_size"] == result_tyx.recipe()["params"]["min_size"] != 150
    with qtbot.waitSignal(widget.update_finished, timeout=10_000):
        widget.apply_all_button.click()
    recipe = exported()
    assert recipe["params"]["min_size"] == 150 and "labels_edited" not in recipe
    assert movie.metadata["tessella_recipe"]["params"]["min_size"] == 150


def test_an_update_over_hand_edits_says_so_once(
    docked_tune, result_2d, qtbot, monkeypatch, no_network
):
    """Moving a parameter after correcting the labels replaces the corrections (they stay in
    the undo history): a warning says so when it happens, once, and Tune's own updates are
    not taken for edits."""
    warned: list[str] = []
    monkeypatch.setattr(tune_module, "show_warning", warned.append)
    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    change(qtbot, widget, seed_thresh=0.7)
    assert warned == []
    with layer.block_history():  # a correction, as the Correct widget and the brush record it
        layer.data_setitem(np.nonzero(layer.data == 1), 0)
    corrected = layer.data.copy()
    change(qtbot, widget, seed_thresh=0.6)
    assert len(warned) == 1 and "replaced your edits of 'nuclei labels'" in warned[0]
    change(qtbot, widget, seed_thresh=0.65)
    assert len(warned) == 1
    layer.undo()
    layer.undo()
    np.testing.assert_array_equal(layer.data, corrected)
    assert "Ctrl+Z brings them back" in warned[0]

    monkeypatch.setattr(_labels_states, "UNDO_BYTES", 100)  # too large to record: said so
    with layer.block_history():
        layer.data_setitem(np.nonzero(layer.data == 2), 0)
    change(qtbot, widget, seed_thresh=0.6)
    assert len(warned) == 2 and "too large to undo, so they are lost" in warned[1]


def test_a_blank_frame_stays_empty_when_tuned(nuclei_image, segment_model_dir):
    """Tune post-processes a movie's blank frame (constant: nothing was imaged) to no labels,
    as Segment does, whatever the network made of it."""
    from tessella.engine.pipeline import run_steps, segment_steps

    movie = np.stack([np.zeros((192, 192), nuclei_image.dtype), nuclei_image[:192, :192]])
    result = run_steps(segment_steps(movie, str(segment_model_dir), "TYX"))
    assert result.predictions[0].meta["blank"] and not result.labels[0].any()
    params = make_params(embedding.Params, result.params, fg_thresh=0.01, seed_thresh=0.05)
    done = dict(tune_module._postprocess_frames(embedding, result.predictions, params, (0, 1)))
    assert not done[0].any() and done[1].any()


def test_a_new_run_keeps_the_tuned_parameters(segment_widget, nuclei_image, run_to_end, qtbot):
    """Tuned, then run again (say with TTA): the new result is post-processed with the
    tuned values, and Tune shows them; after Reset a run uses the model's own again."""
    viewer, segment = segment_widget
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    viewer.add_image(nuclei_image, name="nuclei")
    run_to_end(segment)
    default = widget.params.seed_thresh
    change(qtbot, widget, seed_thresh=0.55)

    run_to_end(segment)
    layer = viewer.layers["nuclei labels (nuclei2d)"]
    result = _results.get(layer)
    assert result.params.seed_thresh == 0.55 == widget.params.seed_thresh
    np.testing.assert_array_equal(layer.data, expected(result, seed_thresh=0.55))
    assert layer.metadata["tessella_recipe"]["params"]["seed_thresh"] == 0.55
    assert "with the parameters tuned before" in segment.status_label.text()

    widget.reset()
    qtbot.waitUntil(lambda: not widget.busy, timeout=10_000)
    run_to_end(segment)
    assert _results.get(viewer.layers["nuclei labels (nuclei2d)"]).params.seed_thresh == default
    assert "tuned before" not in segment.status_label.text()


def test_the_controls_follow_an_undo_of_an_update(docked_tune, result_2d, qtbot, no_network):
    """After Ctrl+Z undoes a Tune update, the controls show (when the pointer comes back to
    them) the parameters of the labels on screen, so the next change builds on those."""
    from qtpy.QtCore import QPointF
    from qtpy.QtGui import QEnterEvent
    from qtpy.QtWidgets import QApplication

    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    original = result_2d.params.seed_thresh
    change(qtbot, widget, seed_thresh=0.5)
    layer.undo()
    point = QPointF(5, 5)
    QApplication.sendEvent(widget, QEnterEvent(point, point, point))
    assert widget.params.seed_thresh == original
    assert widget.controls["seed_thresh"].value() == pytest.approx(original)
    assert not widget.busy  # shown, not applied
    change(qtbot, widget, min_size=40)
    np.testing.assert_array_equal(layer.data, expected(result_2d, min_size=40))
    assert widget.follow_labels_on_screen() is False  # nothing to follow: in step


def test_an_undo_back_to_corrected_labels_records_what_they_came_from(
    docked_tune, result_2d, qtbot, no_network
):
    """Tuned (0.7), corrected, tuned again (0.95), then Ctrl+Z back to the corrected labels:
    their recipe is the 0.7 one they were corrected from, marked as edited (no parameters
    made them, so the controls are left as they are)."""
    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    change(qtbot, widget, seed_thresh=0.7)
    with layer.block_history():  # a correction
        layer.data_setitem(np.nonzero(layer.data == layer.data.max()), 0)
    corrected = layer.data.copy()
    change(qtbot, widget, seed_thresh=0.95)
    layer.undo()
    np.testing.assert_array_equal(layer.data, corrected)
    recipe, reproduces = _results.recipe_on_screen(layer)
    assert recipe["params"]["seed_thresh"] == 0.7 and not reproduces
    assert not widget.follow_labels_on_screen() and widget.params.seed_thresh == 0.95


def test_previews_of_a_movie_frame_never_pull_the_controls_back(docked_tune, result_tyx, qtbot):
    """Moving a control back and forth on one frame of a movie (a preview each time) leaves
    the controls where they were moved: previews are not states the controls follow."""
    viewer, widget = docked_tune
    place(viewer, result_tyx, name="movie labels")
    widget.layer_combo.setCurrentText("movie labels")
    viewer.dims.set_current_step(0, 1)
    for value in (0.7, 0.95, 0.7):
        change(qtbot, widget, seed_thresh=value)
    assert not widget.follow_labels_on_screen()
    assert widget.params.seed_thresh == 0.7


def test_the_status_line_follows_a_renamed_layer(docked_tune, result_2d, qtbot, no_network):
    """Renaming the labels layer Tune works on renames it in the status line at once (not
    at the next update); another layer's name, or a layer no longer chosen, leaves it."""
    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    assert widget.status_label.text() == "'nuclei labels': move a control to update."
    layer.name = "cells"
    assert widget.status_label.text() == "'cells': move a control to update."

    change(qtbot, widget, seed_thresh=0.7)
    assert widget.status_label.text().startswith("'cells': updated in")
    layer.name = "nuclei, tuned"
    assert widget.status_label.text().startswith("'nuclei, tuned': updated in")
    assert widget.layer_combo.currentText() == "nuclei, tuned"

    other = place(viewer, result_2d, name="other labels")  # chosen by Segment's placing
    assert widget.labels_layer is other
    assert widget.status_label.text() == "'other labels': move a control to update."
    layer.name = "first"  # no longer the one the status line is about
    assert widget.status_label.text() == "'other labels': move a control to update."
    viewer.layers.remove(other)
    assert widget.labels_layer is layer
    layer.name = "first again"
    assert widget.status_label.text() == "'first again': move a control to update."

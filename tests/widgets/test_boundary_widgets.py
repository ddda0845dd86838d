"""The widgets with a boundary model on real ISBI 2012 EM slices: Segment a 2D slice and an
anisotropic stack, show the boundary map, Tune beta on the cached prediction, split by it."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella._widgets import _results
from tessella.engine.methods import boundary
from tessella.engine.params import make_params, param_specs
from tests.widgets.helpers import result_name
from tests.widgets.test_tune_widget import change

ISBI = "em_membranes_isbi2012"


@pytest.fixture(scope="module")
def boundary_model_dir(tmp_path_factory, data_dir):
    """The bundled em-membranes2d model, else one trained for a few steps on ISBI slices (the
    tests check behaviour, not segmentation quality)."""
    from tessella.engine.registry import list_models
    from tessella.engine.train import TrainConfig, train

    for card, directory, _origin in list_models():
        if card.name == "em-membranes2d":
            return directory
    out = tmp_path_factory.mktemp("membranes")
    exclude = tuple(f"{i:02d}" for i in range(2, 20))
    config = TrainConfig(
        method="boundary",
        data=str(data_dir / ISBI),
        out=str(out),
        exclude=exclude,
        holdout=("01",),
        epochs=2,
        steps_per_epoch=15,
        batch_size=4,
        patch=128,
        device="cpu",
    )
    return train(config)


@pytest.fixture(scope="module")
def em_stack(data_dir) -> np.ndarray:
    return np.stack(
        [tifffile.imread(data_dir / ISBI / "images" / f"{i:02d}.tif") for i in (16, 17)]
    )


def test_segment_shows_the_boundary_map_and_tune_moves_beta(
    segment_widget, boundary_model_dir, em_stack, run_to_end, qtbot, monkeypatch
):
    viewer, segment = segment_widget
    assert segment.add_model(boundary_model_dir)
    assert "boundary" in segment.model_combo.currentText()
    viewer.add_image(em_stack[0], name="em")
    segment.layer_combo.setCurrentIndex(segment.layer_combo.findText("em"))
    segment.outputs_checkbox.setChecked(True)
    run_to_end(segment)

    labels = viewer.layers[result_name(segment, "em")]
    assert labels.data.shape == em_stack[0].shape and labels.data.max() >= 1
    boundary_map = viewer.layers[result_name(segment, "em", "boundary")].data
    result = _results.get(labels)
    assert np.array_equal(boundary_map, result.predictions[0].arrays["boundary"][0])
    assert result_name(segment, "em", "foreground") in [layer.name for layer in viewer.layers]

    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    tune.layer_combo.setCurrentIndex(tune.layer_combo.findText(result_name(segment, "em")))
    assert list(tune.controls) == [spec.name for spec in param_specs(boundary.Params)]
    from tessella.engine import pipeline

    monkeypatch.setattr(pipeline, "predict_steps", None)  # the network must not run again
    change(qtbot, tune, beta=0.8)
    expected = boundary.postprocess(
        result.predictions[0], make_params(boundary.Params, result.params, beta=0.8)
    )
    np.testing.assert_array_equal(labels.data, expected)


def test_an_anisotropic_stack_gives_3d_labels_with_the_voxel_size(
    segment_widget, boundary_model_dir, em_stack, run_to_end
):
    viewer, segment = segment_widget
    assert segment.add_model(boundary_model_dir)
    viewer.add_image(em_stack, name="stack", scale=(50.0, 4.0, 4.0))
    segment.layer_combo.setCurrentIndex(segment.layer_combo.findText("stack"))
    assert segment.axes_combo.currentText() == "ZYX"
    run_to_end(segment)

    labels = viewer.layers[result_name(segment, "stack")]
    assert labels.data.shape == em_stack.shape
    np.testing.assert_allclose(labels.scale, (50.0, 4.0, 4.0))
    result = _results.get(labels)
    assert result.predictions[0].meta["spacing"] == (50.0, 4.0, 4.0)
    assert result.recipe()["spacing"] == [50.0, 4.0, 4.0]
    # one 3D agglomeration: objects continue from one section into the next
    shared = np.intersect1d(np.unique(labels.data[0]), np.unique(labels.data[1]))
    assert len(shared[shared > 0]) > 0


def test_correct_splits_by_the_inverted_boundary_map(
    make_napari_viewer, boundary_model_dir, em_stack
):
    from tessella.engine.pipeline import run_steps, segment_steps

    result = run_steps(segment_steps(em_stack[0], str(boundary_model_dir), "YX"))
    viewer = make_napari_viewer()
    layer = viewer.add_labels(result.labels.copy(), name="em labels")
    _results.register(layer, result, viewer.layers)
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findData(layer.unique_id))
    height = correct._height_map(layer)
    np.testing.assert_allclose(height, 1 - result.predictions[0].arrays["boundary"][0])
    confidence = correct._confidence_map(layer)
    np.testing.assert_array_equal(confidence, result.predictions[0].arrays["foreground"][0])


def test_tune_previews_the_slice_on_screen_then_applies_to_the_volume(
    make_napari_viewer, boundary_model_dir, em_stack, qtbot
):
    from tessella.engine.pipeline import run_steps, segment_steps
    from tests.widgets.test_tune_widget import place

    result = run_steps(
        segment_steps(em_stack, str(boundary_model_dir), "ZYX", spacing=(50.0, 4.0, 4.0))
    )
    viewer = make_napari_viewer()
    layer = place(viewer, result, name="stack labels", scale=(50.0, 4.0, 4.0))
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    tune.layer_combo.setCurrentIndex(tune.layer_combo.findData(layer.unique_id))
    assert tune.apply_all_button.isVisible() or tune.apply_all_button.isEnabled()
    viewer.dims.set_point(0, 50.0)  # slice 1 on screen
    before = layer.data.copy()

    change(qtbot, tune, boundary_thresh=0.3)

    params = make_params(boundary.Params, result.params, boundary_thresh=0.3)
    from tessella._widgets.tune import _z_slice
    from tessella.engine.tracking import carry_ids

    preview = boundary.postprocess(_z_slice(result.predictions[0], 1), params)
    # the slice on screen, in 2D, its cells keeping the IDs of the 3D ones they overlap
    expected = carry_ids(before[1], preview, int(before.max()) + 1)
    np.testing.assert_array_equal(layer.data[1], expected)
    assert np.intersect1d(layer.data[1], before[1]).size > 1
    np.testing.assert_array_equal(layer.data[0], before[0])  # the rest waits
    assert "slice 1" in tune.status_label.text() and "Apply to all" in tune.status_label.text()

    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.apply_all_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=60_000)
    np.testing.assert_array_equal(layer.data, boundary.postprocess(result.predictions[0], params))

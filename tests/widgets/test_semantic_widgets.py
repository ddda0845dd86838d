"""The widgets with a semantic model on real Lucchi++ EM slices: Segment a ZYX stack slice by
slice, show the foreground map, Tune z_median and min_size on the cached prediction."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella._widgets import _results
from tessella.engine.methods import semantic
from tessella.engine.params import make_params, param_specs
from tests.widgets.helpers import result_name
from tests.widgets.test_tune_widget import change

LUCCHI = "em_mito_lucchipp"


@pytest.fixture(scope="module")
def semantic_model_dir(tmp_path_factory, data_dir):
    """A bundled em-mito2d model, else one trained for a few steps on Lucchi++ slices."""
    from tessella.engine.registry import list_models
    from tessella.engine.train import TrainConfig, train

    for card, directory, _origin in list_models():
        if card.name == "em-mito2d":
            return directory
    root = tmp_path_factory.mktemp("lucchi")
    for sub, name in (("images", "image.tif"), ("masks", "mito.tif")):
        (root / sub).mkdir()
        (root / sub / "lucchi.tif").symlink_to(data_dir / LUCCHI / "train" / name)
    config = TrainConfig(
        method="semantic",
        data=str(root),
        out=str(tmp_path_factory.mktemp("mito") / "mito2d"),
        epochs=2,
        steps_per_epoch=10,
        batch_size=4,
        patch=128,
        device="cpu",
        exclude=("lucchi[z=12:100]",),
        holdout=("lucchi[z=10:12]",),
    )
    return train(config)


@pytest.fixture(params=["2d", "3d"])
def mito_model_dir(request, semantic_model_dir):
    """em-mito2d (or a short-trained stand-in), then the bundled 3D U-Net em-mito3d."""
    if request.param == "2d":
        return semantic_model_dir
    from tessella.engine.registry import find_model

    return find_model("em-mito3d")


def test_segment_a_stack_and_tune_the_3d_filters(
    segment_widget, mito_model_dir, data_dir, run_to_end, qtbot, monkeypatch
):
    viewer, segment = segment_widget
    assert segment.add_model(mito_model_dir)
    # the card says whether the model runs with test-time augmentation by default (em-mito2d
    # does: its parameters were tuned for augmented predictions)
    from tessella.engine.registry import load_model

    card_tta = bool(load_model(mito_model_dir).card.defaults.get("tta", False))
    assert segment.tta_checkbox.isChecked() == card_tta
    stack = tifffile.imread(data_dir / LUCCHI / "val" / "image.tif")[:4, :192, :256]
    viewer.add_image(stack, name="mito", scale=(5.0, 5.0, 5.0))
    segment.layer_combo.setCurrentIndex(segment.layer_combo.findText("mito"))
    segment.outputs_checkbox.setChecked(True)
    run_to_end(segment)

    labels = viewer.layers[result_name(segment, "mito")]
    assert labels.data.shape == stack.shape
    result = _results.get(labels)
    foreground = result.predictions[0].arrays["foreground"][0]
    np.testing.assert_array_equal(
        viewer.layers[result_name(segment, "mito", "foreground")].data, foreground
    )

    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    tune.layer_combo.setCurrentIndex(tune.layer_combo.findText(result_name(segment, "mito")))
    assert list(tune.controls) == [spec.name for spec in param_specs(semantic.Params)]
    from tessella.engine import pipeline

    monkeypatch.setattr(pipeline, "predict_steps", None)  # the network must not run again
    change(qtbot, tune, threshold=0.3, min_size=0)
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.apply_all_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=60_000)
    params = make_params(semantic.Params, result.params, threshold=0.3, min_size=0)
    np.testing.assert_array_equal(labels.data, semantic.postprocess(result.predictions[0], params))

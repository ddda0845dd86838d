"""Evaluate's default pair in a session like ``make run``'s (the nuclei sample and its labels
"nuclei ground truth" open): after segmenting a BBBC010 well with worms2d and opening its
worm masks (the reader names the (14, Y, X) stack "E03 [1]"), the prediction is the newest
result and the ground truth the stack that fits it, not "nuclei ground truth" (the first
click failed: shapes (520, 696) and (520, 512)); the pair follows the layer list's selection;
where no layer fits, the status line says so before the click."""

from __future__ import annotations

import numpy as np
import pytest

from tests.widgets.helpers import choose_model, choose_text


def _result(viewer, image: str):
    """The labels layer Segment made of ``image`` (named "IMAGE labels", with or without the
    model's name), not its "overlaps"."""
    [layer] = [
        layer
        for layer in viewer.layers
        if layer.name.startswith(f"{image} labels") and not layer.name.endswith("overlaps")
    ]
    return layer


@pytest.fixture
def worms_session(make_napari_viewer, data_dir, segment_model_dir, run_to_end):
    """The nuclei sample segmented with nuclei2d (an older result), then BBBC010's E03
    segmented with worms2d and its worm masks opened, an Evaluate panel docked from the
    start."""
    viewer = make_napari_viewer()
    viewer.open_sample("tessella", "nuclei")
    assert [layer.name for layer in viewer.layers] == ["nuclei", "nuclei ground truth"]
    _dock, evaluate = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    assert segment.add_model(segment_model_dir)
    choose_text(segment.layer_combo, "nuclei")
    run_to_end(segment)
    nuclei_result = _result(viewer, "nuclei")
    root = data_dir / "worms_bbbc010"
    viewer.open(str(root / "gfp" / "E03.tif"), plugin="tessella")
    choose_text(segment.layer_combo, "E03")
    choose_model(segment, "worms2d")
    run_to_end(segment)
    worms_result = _result(viewer, "E03")
    [masks] = viewer.open(str(root / "worm_masks" / "E03.tif"), plugin="tessella")
    assert masks.name == "E03 [1]" and masks.data.shape == (14, 520, 696)
    return viewer, evaluate, nuclei_result, worms_result, masks


def test_the_defaults_are_the_newest_result_and_a_ground_truth_that_fits(worms_session, qtbot):
    viewer, evaluate, nuclei_result, worms_result, masks = worms_session
    assert evaluate.pred_combo.currentText() == worms_result.name  # (was the nuclei result)
    assert evaluate.truth_combo.currentText() == "E03 [1]"  # (was "nuclei ground truth")
    qtbot.waitUntil(lambda: evaluate.truth_kind == "overlapping", timeout=30_000)

    with qtbot.waitSignal(evaluate.evaluation_finished, timeout=60_000):
        evaluate.evaluate_button.click()  # the first click scores: no shape error

    assert evaluate.last_scores is not None
    assert evaluate.status_label.text().startswith(f"'{worms_result.name}' against 'E03 [1]'")
    assert evaluate.last_scores["ap"]["0.5"] > 0.8  # worms2d finds E03's worms

    # the layer list's selection: the older result, then its ground truth goes with it
    viewer.layers.selection.active = nuclei_result
    assert evaluate.pred_combo.currentText() == nuclei_result.name
    assert evaluate.truth_combo.currentText() == "nuclei ground truth"
    viewer.layers.selection.active = masks  # a ground truth selected: the prediction stays
    assert evaluate.pred_combo.currentText() == nuclei_result.name
    viewer.layers.selection.active = worms_result
    assert evaluate.pred_combo.currentText() == worms_result.name
    assert evaluate.truth_combo.currentText() == "E03 [1]"

    # a prediction chosen by hand stays while layers that are no result come and go
    choose_text(evaluate.pred_combo, nuclei_result.name)
    assert evaluate.truth_combo.currentText() == "nuclei ground truth"
    viewer.add_labels(np.zeros((520, 512), np.uint8), name="painted")
    assert evaluate.pred_combo.currentText() == nuclei_result.name
    assert evaluate.truth_combo.currentText() == "nuclei ground truth"


def test_no_layer_fits_is_said_before_the_click(worms_session, data_dir):
    viewer, evaluate, _nuclei_result, worms_result, masks = worms_session
    viewer.layers.remove(masks)
    assert evaluate.pred_combo.currentText() == worms_result.name
    assert evaluate.status_label.text() == (
        f"No labels layer has the shape of '{worms_result.name}' (520, 696) (or is an (N, 520, "
        "696) stack of its masks): open its ground truth, or choose one."
    )
    # the masks opened again: they are chosen, and the note goes
    [masks] = viewer.open(
        str(data_dir / "worms_bbbc010" / "worm_masks" / "E03.tif"), plugin="tessella"
    )
    assert evaluate.truth_combo.currentText() == masks.name
    assert "No labels layer" not in evaluate.status_label.text()

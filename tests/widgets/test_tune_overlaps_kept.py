"""Tune keeps a worms2d result's "overlaps" layer when no worm overlaps another any more:
empty, with the colours and opacity the user gave it, still the selected layer, filled again
when worms cross again (it was removed, so napari's layer controls went blank: user test t2,
problem 9). Export and Evaluate take the empty layer as no overlaps at all."""

from __future__ import annotations

import numpy as np

from tessella._widgets import _results
from tessella.engine.io import read_image, read_mask_stack
from tests.widgets.helpers import choose_model, choose_text

A06 = ("worms_bbbc010", "gfp", "A06.tif")  # (in this copy of BBBC010 gfp/ holds brightfield)


def test_tune_empties_the_overlaps_layer_instead_of_removing_it(
    make_napari_viewer, data_dir, run_to_end, qtbot, tmp_path
):
    viewer = make_napari_viewer()
    viewer.add_image(np.asarray(read_image(data_dir.joinpath(*A06)).data), name="A06")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_model(segment, "worms2d")
    run_to_end(segment)
    labels = viewer.layers["A06 labels (worms2d)"]
    overlaps = viewer.layers["A06 labels (worms2d) overlaps"]
    crossing = overlaps.data.copy()
    assert crossing.any()  # worms cross in A06
    overlaps.opacity = 0.9  # the user's display settings
    overlaps.contour = 2
    viewer.layers.selection.active = overlaps

    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    choose_text(tune.layer_combo, "A06 labels (worms2d)")
    default = tune.params.affinity_threshold

    def change(name, value):
        with qtbot.waitSignal(tune.update_finished, timeout=60_000):
            tune.set_param(name, value)
        qtbot.waitUntil(lambda: not tune.busy, timeout=60_000)

    change("affinity_threshold", 0.1)  # the worms merge: none hides part of another
    assert labels.data.any()
    assert overlaps in viewer.layers  # (it was removed)
    assert _results.companion_layer(viewer, labels, "overlaps") is overlaps
    assert not overlaps.data.any() and overlaps.data.shape == labels.data.shape
    assert (overlaps.opacity, overlaps.contour) == (0.9, 2)
    assert viewer.layers.selection.active is overlaps

    # Export: no stack by default, as for worms2d labels with no overlaps layer (A20)
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    choose_text(export.labels_combo, "A06 labels (worms2d)")
    export._update_stack_checkbox()  # (else after its short pause)
    assert export.stack_checkbox.isEnabled() and not export.stack_checkbox.isChecked()
    assert "No objects overlap in 'A06 labels (worms2d)'" in export.stack_checkbox.toolTip()
    export.path_edit.setText(str(tmp_path / "merged"))
    assert [p.name for p in export.export()] == ["merged.tif", "merged.csv", "merged.recipe.json"]

    # Evaluate against the worms' masks: the same scores with the empty layer as without it
    truth = read_mask_stack(data_dir / "worms_bbbc010" / "worm_masks" / "A06.tif")
    viewer.add_labels(np.asarray(truth), name="A06 worm masks")
    _dock, evaluate = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    choose_text(evaluate.pred_combo, "A06 labels (worms2d)")
    choose_text(evaluate.truth_combo, "A06 worm masks")
    qtbot.waitUntil(lambda: evaluate.truth_kind == "overlapping", timeout=30_000)  # (guessed)
    with qtbot.waitSignal(evaluate.evaluation_finished, timeout=120_000):
        evaluate.evaluate_button.click()
    with_empty = evaluate.last_scores
    assert with_empty is not None and "Warning" not in evaluate.status_label.text()
    viewer.add_labels(labels.data.copy(), name="flat")  # as when no overlaps layer existed
    choose_text(evaluate.pred_combo, "flat")
    choose_text(evaluate.truth_combo, "A06 worm masks")
    qtbot.waitUntil(lambda: evaluate.truth_kind == "overlapping", timeout=30_000)
    with qtbot.waitSignal(evaluate.evaluation_finished, timeout=120_000):
        evaluate.evaluate_button.click()
    assert evaluate.last_scores == with_empty

    # back to the default: worms cross again, in the same layer, still as the user set it
    viewer.layers.selection.active = overlaps
    change("affinity_threshold", default)
    assert _results.companion_layer(viewer, labels, "overlaps") is overlaps
    np.testing.assert_array_equal(overlaps.data, crossing)
    assert (overlaps.opacity, overlaps.contour) == (0.9, 2)
    assert [layer.name for layer in viewer.layers].count("A06 labels (worms2d) overlaps") == 1

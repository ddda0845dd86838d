"""Which parameters each slice holds does not depend on the labels' data type (review r2,
finding 3): Tune recognised each slice's labels by a fingerprint that included the type, so
after napari's *Convert datatype* (same labels, another type), or after Tune widened the
layer for IDs its type could not hold, every slice read "changed since Tune wrote it
(painted, or undone)", in the status line and in the recipe Export writes; and the labels
of an *Apply to all*, converted, were taken for edited (their recipe not reproducing them)."""

from __future__ import annotations

import numpy as np
from napari.layers._layer_actions import _convert_dtype

from tessella._widgets import _results
from tests.widgets.test_tune_gaps import _semantic_result, _volume_in_tune, volume_result  # noqa: F401
from tests.widgets.test_tune_parts_after_undo import MIX, _applied_at_04, _note
from tests.widgets.test_tune_widget import change


def _convert(viewer, layer, dtype: str) -> None:
    """The layer's context menu > Convert datatype > ``dtype``."""
    before = layer.data.copy()
    viewer.layers.selection.active = layer
    _convert_dtype(viewer.layers, dtype)
    assert layer.data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(layer.data, before)  # the same labels


def test_converting_the_datatype_keeps_each_slice_values(
    docked_tune,
    volume_result,  # noqa: F811
    qtbot,
):
    viewer, tune, layer, _whole = _applied_at_04(qtbot, docked_tune, volume_result)
    n = layer.data.shape[0]
    _convert(viewer, layer, "int64" if layer.data.dtype != np.int64 else "int32")
    recipe, reproduces = _results.recipe_on_screen(layer)  # what Export writes
    assert reproduces and recipe["params"]["threshold"] == 0.4
    change(qtbot, tune, threshold=0.3)  # slice 5
    viewer.dims.set_current_step(0, 7)
    change(qtbot, tune, threshold=0.32)  # slice 7
    mix = f"slice 5 at threshold=0.3, slice 7 at threshold=0.32, the other {n - 2} slices at "
    mix += "threshold=0.4"
    assert tune.status_label.text().endswith(f"; {mix}: {MIX}")
    assert f"({mix})" in _note(layer)


def _many_small_in_one_slice() -> np.ndarray:
    """A foreground probability: two large objects through 3 slices, and a grid of 144 small
    squares seen only below threshold 0.5 (too many IDs for int8), previewed in slice 1 only.
    The squares go through the 3 slices too: since d2d4452 the preview opens a slice's
    foreground with em-mito3d's 3D ball, as Apply to all does, which removes squares one
    slice thick (the 2D disc it used kept them)."""
    probability = np.zeros((3, 216, 250), np.float32)
    probability[:, 10:60, 220:245] = probability[:, 120:170, 220:245] = 0.9
    for y in range(3, 216, 18):
        for x in range(3, 216, 18):
            probability[:, y : y + 12, x : x + 12] = 0.45
    return probability


def test_a_layer_tune_widens_keeps_each_slice_values(docked_tune, qtbot):
    result = _semantic_result("em-mito3d", _many_small_in_one_slice(), "ZYX")  # threshold 0.6
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=0)
    _convert(viewer, layer, "int8")  # (its 2 objects fit)
    change(qtbot, tune, threshold=0.95)  # slice 0: empty
    viewer.dims.set_current_step(0, 1)
    change(qtbot, tune, threshold=0.4)  # slice 1: 144 squares more, beyond int8
    assert layer.data.dtype == np.int32  # widened
    assert layer.data[1].max() == 146
    viewer.dims.set_current_step(0, 2)
    change(qtbot, tune, threshold=0.95)  # slice 2: empty
    layer.undo()  # Ctrl+Z: slice 2 back as it was (its record, of int8 labels, looked at)
    tune.follow_labels_on_screen()  # what the pointer entering the panel runs
    viewer.dims.set_current_step(0, 0)
    change(qtbot, tune, threshold=0.5)  # slice 0: its 2 objects back
    mix = "slice 1 at threshold=0.4, slice 2 at threshold=0.6, slice 0 at threshold=0.5"
    assert tune.status_label.text().endswith(f"; {mix}: {MIX}")

"""Tune says when the labels it updates cannot be seen (user test s30/t4, finding 5): two
models' results on one volume, Tune updating the lower one, said "4 objects" while the
canvas showed the 5 of the untouched layer above it, and the slider seemed to do nothing."""

from __future__ import annotations

import numpy as np

from tests.widgets.test_tune_gaps import _semantic_result, _wait
from tests.widgets.test_tune_widget import change, place

COVERED = "; 'other labels' above it in the layer list covers it: hide that layer to see it"


def _probability() -> np.ndarray:
    """Three objects through 8 slices, the third just above em-mito3d's threshold (0.6)."""
    probability = np.zeros((8, 64, 64), np.float32)
    probability[:, 10:30, 10:30] = 0.9
    probability[:, 40:60, 40:60] = 0.8
    probability[:, 8:24, 44:60] = 0.65
    return probability


def test_the_status_says_the_labels_tuned_are_covered_or_hidden(docked_tune, qtbot):
    viewer, tune = docked_tune
    result = _semantic_result("em-mito3d", _probability(), "ZYX")
    layer = place(viewer, result, name="vol labels")
    other = place(viewer, result, name="other labels")  # another model's result, on top
    viewer.add_labels(np.zeros_like(result.labels), name="empty labels")  # (covers nothing)
    tune.layer_combo.setCurrentText("vol labels")
    assert tune.labels_layer is layer
    viewer.dims.set_current_step(0, 5)

    change(qtbot, tune, threshold=0.7)  # a preview of slice 5: the third object goes ...
    status = tune.status_label.text()
    assert status.startswith("'vol labels' slice 5: updated") and ": 2 objects" in status
    assert status.endswith(COVERED)  # ... while the canvas shows it, from the layer above
    assert "empty labels" not in status

    other.visible = False  # the layer tuned shows
    change(qtbot, tune, threshold=0.75)
    assert "covers it" not in tune.status_label.text()

    layer.visible = False
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.apply_all_button.click()
    _wait(qtbot, tune)
    status = tune.status_label.text()
    assert status.startswith("'vol labels' the whole volume: updated")
    assert status.endswith("; the layer is hidden (its eye is off in the layer list)")

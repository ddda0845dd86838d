"""Tune's preview of one slice of a volume judges ``min_size`` on each object's size in the
volume, as *Apply to all* does (user test s30/t4, finding 3): it judged each object's area on
that slice, so a mitochondrion cut thin by the slice (8,692 voxels, 720 pixels on slice 6)
vanished from the preview at min_size 5000 and came back at *Apply to all*."""

from __future__ import annotations

import numpy as np

from tests.widgets.test_tune_gaps import _semantic_result, _volume_in_tune, _wait
from tests.widgets.test_tune_widget import change


def _probability() -> np.ndarray:
    """A foreground probability of three objects seen on slice 5: A through all 10 slices
    (3,625 voxels) but only 25 pixels on slice 5, B small (300 voxels, 100 on slice 5), C
    on slice 5 alone (900 pixels)."""
    probability = np.zeros((10, 64, 64), np.float32)
    probability[:, 4:24, 4:24] = 0.9  # A
    probability[5, 4:24, 4:24] = 0.0
    probability[5, 4:9, 4:9] = 0.9
    probability[4:7, 40:50, 40:50] = 0.9  # B
    probability[5, 30:60, 4:34] = 0.9  # C
    return probability


def test_a_slice_preview_keeps_an_object_thin_on_that_slice_but_large_in_the_volume(
    docked_tune, qtbot
):
    result = _semantic_result("em-mito3d", _probability(), "ZYX")
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=5)
    change(qtbot, tune, radius=0)  # (a 3D opening would erase C, one slice thick)
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.apply_all_button.click()
    _wait(qtbot, tune)
    assert len(np.unique(layer.data)) - 1 == 3

    change(qtbot, tune, min_size=500)  # the preview of slice 5
    preview = layer.data[5] > 0
    status = tune.status_label.text()
    assert "slice 5" in status and ": 2 objects" in status
    assert (
        "; 1 object under min_size on this slice kept: judged by its size in the volume" in status
    )
    assert preview[6, 6] and preview[45, 20] and not preview[45, 45]  # A and C; B gone
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.apply_all_button.click()
    _wait(qtbot, tune)
    assert "the whole volume" in tune.status_label.text()
    np.testing.assert_array_equal(layer.data[5] > 0, preview)  # what the preview showed

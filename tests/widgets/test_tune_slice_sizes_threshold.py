"""Review r4, finding 4: Tune's slice preview judged min_size by an object's size in the
volume as the labels on screen had it, which an earlier threshold made: after a threshold
change the preview kept or dropped what Apply to all then did not. The other slices'
foreground is now made from the prediction with the values previewed."""

from __future__ import annotations

import numpy as np

from tests.widgets.test_tune_gaps import _semantic_result, _volume_in_tune, _wait
from tests.widgets.test_tune_widget import change


def _probability() -> np.ndarray:
    """A: 25 pixels on slice 5, sure (0.9), on a faint region (0.4) of slices 6-9 (1,600
    voxels): one object of 1,625 voxels at threshold 0.3, of 25 at 0.5. B: 900 pixels of
    slice 5 alone, kept at any threshold."""
    probability = np.zeros((10, 64, 64), np.float32)
    probability[6:10, 4:24, 4:24] = 0.4
    probability[5, 4:9, 4:9] = 0.9  # A
    probability[5, 30:60, 30:60] = 0.9  # B
    return probability


def _apply_to_all(qtbot, tune, layer) -> np.ndarray:
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.apply_all_button.click()
    _wait(qtbot, tune)
    assert "the whole volume" in tune.status_label.text()
    return layer.data[5] > 0


def test_a_slice_preview_judges_sizes_at_the_threshold_previewed(docked_tune, qtbot):
    result = _semantic_result("em-mito3d", _probability(), "ZYX")
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=5)
    change(qtbot, tune, radius=0, threshold=0.3)
    _apply_to_all(qtbot, tune, layer)  # on screen: A of 1,625 voxels

    change(qtbot, tune, threshold=0.5, min_size=500)  # A is 25 voxels now: it goes
    preview = layer.data[5] > 0
    assert not preview[6, 6] and preview[45, 45]
    np.testing.assert_array_equal(_apply_to_all(qtbot, tune, layer), preview)

    change(qtbot, tune, threshold=0.3)  # on screen: A of 25 voxels; at 0.3 it is 1,625
    preview = layer.data[5] > 0
    assert preview[6, 6] and preview[45, 45]
    assert "1 object under min_size on this slice kept" in tune.status_label.text()
    np.testing.assert_array_equal(_apply_to_all(qtbot, tune, layer), preview)

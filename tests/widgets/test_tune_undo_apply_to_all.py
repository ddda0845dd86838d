"""Session 33, t11 #5: Tune's Apply to all and Reset on a modest EM stack (10x512x512, 2.6
million pixels) said "(too large a change to undo: history restarted)": a change of more
than 2 million pixels was never kept, so Ctrl+Z never worked after Apply to all. The limit is
now the memory of the step (256 MiB: 32 bytes per changed pixel of int32 labels of a volume,
80 MiB here), and the layer's history keeps at most 1 GiB of steps (napari keeps 100 whatever
their size), dropping the oldest."""

from __future__ import annotations

import numpy as np
import tifffile
from scipy import ndimage

from tessella._widgets import _labels_states
from tests.widgets.test_tune_gaps import _semantic_result, _volume_in_tune
from tests.widgets.test_tune_widget import change


def _isbi_probability(data_dir, depth=10) -> np.ndarray:
    """The ISBI 2012 stack's cell interiors (0 on membranes), smoothed as a network's
    probability, over a floor of 0.62: at em-mito3d's threshold (0.6) all is one object."""
    folder = data_dir / "em_membranes_isbi2012" / "boundaries"
    membrane = np.stack([tifffile.imread(folder / f"{i:02d}.tif") for i in range(depth)]) > 0
    interior = ndimage.uniform_filter((~membrane).astype(np.float32), (1, 3, 3))
    return 0.62 + 0.38 * interior


def test_apply_to_all_and_reset_of_a_10x512x512_stack_can_be_undone(docked_tune, qtbot, data_dir):
    result = _semantic_result("em-mito3d", _isbi_probability(data_dir), "ZYX")
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=5)
    assert layer.data.shape == (10, 512, 512)
    before = layer.data.copy()

    change(qtbot, tune, timeout=60_000, threshold=0.9)  # the cells apart: slice 5's preview
    previewed = layer.data.copy()
    assert np.count_nonzero(previewed != before) == np.count_nonzero(previewed[5] != before[5])
    with qtbot.waitSignal(tune.update_finished, timeout=120_000):
        tune.apply_all_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=60_000)
    after = layer.data.copy()
    assert np.count_nonzero(after != previewed) > 2**21  # (the old limit's 2 million)
    assert "history restarted" not in tune.status_label.text()
    assert len(np.unique(after)) > 10  # (cells)

    layer.undo()  # Ctrl+Z: the labels before Apply to all, then before the preview
    np.testing.assert_array_equal(layer.data, previewed)
    layer.undo()
    np.testing.assert_array_equal(layer.data, before)
    layer.redo()
    layer.redo()
    np.testing.assert_array_equal(layer.data, after)

    with qtbot.waitSignal(tune.update_finished, timeout=120_000):
        tune.reset_button.click()  # Segment's labels again: one step more
    qtbot.waitUntil(lambda: not tune.busy, timeout=60_000)
    assert "history restarted" not in tune.status_label.text()
    np.testing.assert_array_equal(layer.data, before)
    layer.undo()
    np.testing.assert_array_equal(layer.data, after)
    layer.redo()
    np.testing.assert_array_equal(layer.data, before)


def test_the_history_keeps_the_newest_steps_within_its_memory(
    docked_tune, qtbot, data_dir, monkeypatch
):
    """A change of the whole stack keeps 80 MiB; with room for one such step, the first
    Apply to all (the whole stack changed) goes once the later, smaller, updates fill it, and
    Undo reaches back only as far as the steps kept."""
    result = _semantic_result("em-mito3d", _isbi_probability(data_dir), "ZYX")
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=5)
    step = _labels_states.undo_step_bytes(layer.data.size, 3, layer.data.dtype)
    monkeypatch.setattr(_labels_states, "UNDO_HISTORY_BYTES", step)
    states = [layer.data.copy()]  # each preview and each Apply to all: a step
    for threshold in (0.9, 0.8, 0.9):
        change(qtbot, tune, timeout=60_000, threshold=threshold)
        states.append(layer.data.copy())
        with qtbot.waitSignal(tune.update_finished, timeout=120_000):
            tune.apply_all_button.click()
        qtbot.waitUntil(lambda: not tune.busy, timeout=60_000)
        states.append(layer.data.copy())
    assert "history restarted" not in tune.status_label.text()
    assert not np.array_equal(states[4], states[6])
    # the steps kept: the newest ones whose memory (each the pixels it changed) fits
    sizes = [
        _labels_states.undo_step_bytes(np.count_nonzero(a != b), 3, layer.data.dtype)
        for a, b in zip(states, states[1:])
    ]
    kept = max(k for k in range(1, 7) if sum(sizes[-k:]) <= step)
    assert 2 <= kept < 6, sizes  # (at least the first Apply to all's step dropped)
    for state in reversed(states[-kept - 1 : -1]):
        layer.undo()
        np.testing.assert_array_equal(layer.data, state)
    layer.undo()  # nothing more to undo
    np.testing.assert_array_equal(layer.data, states[-kept - 1])

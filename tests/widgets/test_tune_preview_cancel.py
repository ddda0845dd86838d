"""Session 32, Tune gap 1: the slice preview of a volume could not be cancelled. At a very
low threshold on a large volume it goes through many of the other slices to judge its
objects' sizes (3.3-4 s on the whole Lucchi++ volume), and Cancel stayed greyed out: the
user waited. Cancel now stops it between two slices, the labels on screen stay, the
controls go back to their values, and the status line says so."""

from __future__ import annotations

import threading
import time

import numpy as np

from tessella._widgets._tune_frames import _Slab
from tests.widgets.test_tune_gaps import _semantic_result, _volume_in_tune
from tests.widgets.test_tune_widget import change, set_control


def _column_volume(depth: int = 40) -> np.ndarray:
    """A column through every slice: a min_size over its size makes the preview go
    through every slice before it can drop it."""
    probability = np.zeros((depth, 48, 48), np.float32)
    probability[:, 20:28, 20:28] = 0.9
    probability[:, 4:8, 4:8] = 0.7
    return probability


def test_cancel_stops_a_slice_preview_and_keeps_the_labels(docked_tune, qtbot, monkeypatch):
    result = _semantic_result("em-mito3d", _column_volume(), "ZYX")
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=20)
    change(qtbot, tune, radius=0)  # (a preview of slice 20, quick: min_size acts on slices)
    before, params = layer.data.copy(), tune.params

    growing, clicked, grows = threading.Event(), threading.Event(), []
    grow = _Slab.grow

    def slow_grow(slab):  # the first slice as slow as a large volume's: until the click
        grows.append(slab.lo)
        growing.set()
        clicked.wait(60)
        return grow(slab)

    monkeypatch.setattr(_Slab, "grow", slow_grow)
    _Slab.made.clear()
    set_control(tune.controls["min_size"], 10**8)  # over the column: every slice is made
    qtbot.waitUntil(growing.is_set, timeout=10_000)
    # (offered once the preview has run 300 ms: quick previews leave it off)
    qtbot.waitUntil(tune.cancel_button.isEnabled, timeout=5_000)
    assert not tune.cancel_button.isHidden()
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.cancel_button.click()
        clicked.set()
    qtbot.waitUntil(lambda: not tune.busy, timeout=10_000)

    # stopped at once: the slice under way when Cancel was clicked, at most one more (the
    # whole preview: 20 slices each way)
    assert len(grows) <= 2, grows
    np.testing.assert_array_equal(layer.data, before)  # the labels on screen stay
    assert tune.params == params  # the controls go back to the labels' values
    assert tune.controls["min_size"].value() == params.min_size
    status = tune.status_label.text()
    assert "preview of slice 20 (min_size=100000000) was cancelled" in status
    assert "the labels and the controls are as they were" in status
    assert not tune.cancel_button.isEnabled()

    monkeypatch.setattr(_Slab, "grow", grow)  # usable: the next change previews the slice
    change(qtbot, tune, threshold=0.8)
    assert "slice 20" in tune.status_label.text() and "cancelled" not in tune.status_label.text()
    assert layer.data[20, 6, 6] == 0 and layer.data[20, 24, 24] > 0  # (0.7 < 0.8 < 0.9)


def test_cancel_stops_a_slice_preview_while_its_ball_is_made(docked_tune, qtbot, monkeypatch):
    """At a large radius the slice's foreground alone (its 3D opening and closing on the
    slices the ball reaches) takes seconds: Cancel stops it between two rows of the ball."""
    from tessella._widgets import _tune_masks
    from tessella.engine.methods import _morphology

    result = _semantic_result("em-mito3d", _column_volume(), "ZYX")
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=20)
    before, params = layer.data.copy(), tune.params
    assert params.radius == 2
    started, made = threading.Event(), []
    morph = _morphology._morph

    def slow_morph(*args, **kwargs):  # each step of the opening and closing as slow as
        started.set()  # a large radius's on a large volume
        time.sleep(0.3)
        out = morph(*args, **kwargs)
        made.append(1)
        return out

    monkeypatch.setattr(_morphology, "_morph", slow_morph)
    _tune_masks._MASKS.clear()
    set_control(tune.controls["threshold"], 0.8)
    qtbot.waitUntil(started.is_set, timeout=10_000)
    qtbot.waitUntil(tune.cancel_button.isEnabled, timeout=5_000)
    with qtbot.waitSignal(tune.update_finished, timeout=10_000):
        tune.cancel_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=10_000)
    assert len(made) < 4  # (the opening and closing: 4 steps; it stopped in the first)
    np.testing.assert_array_equal(layer.data, before)
    assert tune.params == params
    assert "preview of slice 20 (threshold=0.8) was cancelled" in tune.status_label.text()

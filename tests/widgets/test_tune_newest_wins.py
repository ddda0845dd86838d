"""Session 33, f5: the newest value wins. A slice preview of a volume that takes seconds
(opened at a large radius: about 10 s on a 768x1024 slice at radius 10) kept a newer value
waiting until it had run to the end and was shown; only Cancel, Apply to all, Reset and Load
recipe stopped it. Now a newer value drops it once it has run 250 ms (it stops at its next
row of the ball), values set meanwhile run together, once, with the latest, and the layer
keeps the last finished labels until the newest are ready, the status line saying
"updating ...".

The slow preview is real: em-mito3d's post-processing of the Lucchi++ mitochondria of
the validation volume (blurred into a probability) at radius 10, about 0.5 s for a slice of
a 16x512x512 crop (the ball reaches every slice) on the shared 2-core machine, idle."""

from __future__ import annotations

import threading

import numpy as np
import tifffile
from qtpy.QtCore import QTimer
from scipy import ndimage

from tessella._widgets import _tune_frames, _tune_masks
from tessella.engine.methods import semantic
from tessella.engine.methods._morphology import Stopped
from tessella.engine.params import make_params
from tests.widgets.test_tune_gaps import _semantic_result, _volume_in_tune
from tests.widgets.test_tune_widget import set_control


def _probability(data_dir, depth: int, height: int, width: int) -> np.ndarray:
    """The Lucchi++ validation volume's mitochondria, blurred: a probability as a network
    makes it (0.5 at their edges)."""
    path = data_dir / "em_mito_lucchipp" / "val" / "mito.tif"
    mito = tifffile.imread(path, key=range(depth)).reshape(depth, 768, 1024)
    mito = mito[:, :height, :width] > 0
    return ndimage.gaussian_filter(mito.astype(np.float32), (0, 2, 2))


class _Shown:
    """Each distinct state of ``layer.data[index]`` seen by the GUI thread every 5 ms."""

    def __init__(self, layer, index):
        self.layer, self.index, self.states = layer, index, []
        self.timer = QTimer(interval=5)
        self.timer.timeout.connect(self.look)
        self.look()
        self.timer.start()

    def look(self):
        now = np.asarray(self.layer.data[self.index]).copy()
        if not self.states or not np.array_equal(self.states[-1], now):
            self.states.append(now)


def _counted(monkeypatch, module, name, key):
    """Wrap ``module.name`` to record ``(key(args), "done" | "stopped")`` per call."""
    calls, lock, original = [], threading.Lock(), getattr(module, name)

    def counted(*args, **kwargs):
        try:
            out = original(*args, **kwargs)
        except Stopped:
            with lock:
                calls.append((key(args), "stopped"))
            raise
        with lock:
            calls.append((key(args), "done"))
        return out

    monkeypatch.setattr(module, name, counted)
    return calls


def _settle(qtbot, tune, timeout=30_000):
    qtbot.waitUntil(lambda: not tune.busy, timeout=timeout)


def test_a_newer_value_drops_a_slow_slice_preview(docked_tune, qtbot, data_dir, monkeypatch):
    result = _semantic_result("em-mito3d", _probability(data_dir, 16, 512, 512), "ZYX")
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=10)
    assert tune.params.radius == 2
    before = layer.data[10].copy()
    assert before.any()
    masks = _counted(monkeypatch, _tune_frames, "plane_mask", lambda args: args[2].radius)
    _tune_masks._MASKS.clear()
    shown, said = _Shown(layer, 10), []
    watch = QTimer(interval=5)
    watch.timeout.connect(lambda: said.append(tune.status_label.text()))
    watch.start()

    set_control(tune.controls["radius"], 10)  # starts at once: about 0.5 s
    set_control(tune.controls["radius"], 8)  # the same moment: never run alone
    qtbot.wait(100)
    set_control(tune.controls["radius"], 9)  # the newest
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        pass
    _settle(qtbot, tune)
    shown.look()
    shown.timer.stop()
    watch.stop()

    # the preview at radius 10 did not run to its end; radius 8 never ran; 9 did, once
    assert (10, "done") not in masks, masks
    assert (10, "stopped") in masks
    assert all(radius != 8 for radius, _ in masks)
    assert masks.count((9, "done")) == 1
    # the layer shows radius 9's slice: what Apply to all makes of it (its objects)
    params = make_params(semantic.Params, result.params, radius=9)
    applied = semantic.postprocess(result.predictions[0], params)[10]
    assert tune.params == params
    np.testing.assert_array_equal(layer.data[10] > 0, applied > 0)
    # and never anything else in between: the labels before, then radius 9's
    assert len(shown.states) == 2
    np.testing.assert_array_equal(shown.states[0], before)
    np.testing.assert_array_equal(shown.states[1], layer.data[10])
    # the status line said it was updating with the newest value, then the result
    assert any("updating slice 10 with radius=9" in text for text in said), said
    assert "slice 10" in tune.status_label.text() and "updating" not in tune.status_label.text()

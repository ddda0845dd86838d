"""Session 32 (f2's note): Cancel was enabled with every slice preview of a volume and
disabled when it ended, so while a slider was dragged it flickered on and off with each
quick preview. Now a slice preview offers Cancel only once it has run
``CANCEL_AFTER_MS`` (300 ms); *Apply to all* still offers it at once."""

from __future__ import annotations

import threading
import time

import numpy as np
from qtpy.QtCore import QEvent, QObject

from tessella._widgets import _tune_frames
from tests.widgets.test_tune_gaps import _semantic_result, _volume_in_tune
from tests.widgets.test_tune_widget import change, set_control


class _Enabled(QObject):
    """Counts the times a widget was enabled, and when (``time.perf_counter()``)."""

    def __init__(self, widget):
        super().__init__()
        self.widget, self.times, self.at = widget, 0, []
        widget.installEventFilter(self)

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.EnabledChange and self.widget.isEnabled():
            self.times += 1
            self.at.append(time.perf_counter())
        return False


def _volume() -> np.ndarray:
    probability = np.zeros((12, 48, 48), np.float32)
    probability[:, 20:28, 20:28] = 0.9
    probability[3:9, 4:10, 4:10] = 0.7
    return probability


def test_quick_slice_previews_leave_cancel_off(docked_tune, qtbot):
    from tessella._widgets._tune_running import CANCEL_AFTER_MS

    result = _semantic_result("em-mito3d", _volume(), "ZYX")
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=5)
    enabled = _Enabled(tune.cancel_button)
    quick = 0
    for threshold in (0.5, 0.6, 0.65, 0.8, 0.5, 0.75):  # a slider dragged: quick previews
        times, started = enabled.times, time.perf_counter()
        change(qtbot, tune, threshold=threshold)
        took = time.perf_counter() - started
        assert "slice 5" in tune.status_label.text()
        # a preview (of 12x48x48: milliseconds) that a loaded machine made take longer than
        # the wait may have offered Cancel, rightly; one that ended before it must not have
        if took < 0.95 * CANCEL_AFTER_MS / 1000:
            quick += 1
            assert enabled.times == times, took  # (before: enabled with each preview)
    assert quick > 0  # (the previews are milliseconds: at least one of 6 was quick)
    assert not tune.cancel_button.isEnabled()
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.apply_all_button.click()  # Apply to all of a volume: one piece, no Cancel
        assert not tune.cancel_button.isEnabled()  # (s35/t20 #4: it could stop nothing)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    assert not tune.cancel_button.isEnabled()


def test_a_slow_slice_preview_offers_cancel_after_a_moment(docked_tune, qtbot, monkeypatch):
    from tessella._widgets._tune_running import CANCEL_AFTER_MS

    result = _semantic_result("em-mito3d", _volume(), "ZYX")
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=5)
    running, release = threading.Event(), threading.Event()
    plane_labels = _tune_frames.plane_labels

    def slow(*args, **kwargs):  # a slice preview of a large volume
        running.set()
        release.wait(10)
        return plane_labels(*args, **kwargs)

    monkeypatch.setattr(_tune_frames, "plane_labels", slow)
    enabled = _Enabled(tune.cancel_button)
    started = time.perf_counter()
    set_control(tune.controls["threshold"], 0.8)
    qtbot.waitUntil(running.is_set, timeout=10_000)
    qtbot.waitUntil(tune.cancel_button.isEnabled, timeout=5_000)
    # offered once, not at the start but after the wait (when it was enabled, not whether it
    # is at some moment: a loaded machine may reach plane_labels after the wait), and a
    # QTimer is a coarse timer unless told: Qt lets it fire up to 5 % early
    assert enabled.times == 1
    assert enabled.at[0] - started >= 0.95 * CANCEL_AFTER_MS / 1000
    with qtbot.waitSignal(tune.update_finished, timeout=10_000):
        release.set()
    qtbot.waitUntil(lambda: not tune.busy, timeout=10_000)
    assert not tune.cancel_button.isEnabled()
    assert "slice 5" in tune.status_label.text() and layer.data[5, 6, 6] == 0

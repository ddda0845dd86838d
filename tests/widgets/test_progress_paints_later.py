"""Segment's, Evaluate's and Train's progress bars paint with the rest of the window, not at
once at each count their worker yields: QProgressBar.setValue repaints at once whenever its
text or a chunk of the bar changes (at every count with a "%v" format), which with the
viewer's canvas in the window cost 10-25 ms a count under xvfb (as Tune's did, 913680c)."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import numpy as np
import pytest
from qtpy.QtCore import QEvent, QObject

from tessella.engine.progress import Progress
from tessella.engine.train._config import TrainProgress


class _Paints(QObject):
    """Counts the paint events of a widget, and those painted while ``inside`` is set."""

    def __init__(self):
        super().__init__()
        self.inside, self.during, self.total = False, 0, 0

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            self.total += 1
            self.during += self.inside
        return False


def _counts(which: str, widget):
    """The counts a run of ``which`` yields to its panel's ``_on_progress`` (the slot its
    worker's ``yielded`` is connected to), the panel made ready as its start leaves it; the
    bar's text after the last (a pattern)."""
    if which == "Segment":  # 4 tiles of an image
        widget._run = SimpleNamespace(name="nuclei", parts=1, part="frame")
        return [Progress("predict", i, 4) for i in range(5)], re.escape("4 / 4 tiles")
    if which == "Evaluate":  # the 5 frames of a movie
        widget._run = SimpleNamespace(kind="labels", image_word="frame")
        return [Progress("match", i, 5) for i in range(6)], re.escape("scored: frame 5 of 5")
    # Train: one epoch of 10 steps (the run as its start leaves it: not timed yet)
    widget._run = SimpleNamespace(base="", timed=None, started=time.perf_counter())
    widget.steps_spin.setValue(10)
    widget.progress_bar.setRange(0, 10)
    widget.progress_bar.setValue(0)
    # (the bar says the steps, the time trained and the time left since 5fcb6d5)
    return [TrainProgress(1, 1, i, 1.0 / i) for i in range(1, 11)], (
        r"step 10 / 10, \d+:\d\d \(~0:00 left\)"
    )


@pytest.mark.parametrize("which", ["Segment", "Evaluate", "Train"])
def test_a_count_does_not_repaint_the_progress_bar_at_once(make_napari_viewer, qtbot, which):
    viewer = make_napari_viewer(show=True)
    viewer.add_image(np.zeros((64, 64), np.float32), name="nuclei")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", which)
    bar = widget.progress_bar
    counts, text = _counts(which, widget)
    bar.setVisible(True)  # (as a run's start shows it)
    qtbot.waitUntil(bar.isVisible, timeout=10_000)
    paints = _Paints()
    bar.installEventFilter(paints)
    for count in counts:
        painted = paints.total
        paints.inside = True
        try:
            widget._on_progress(count)
        finally:
            paints.inside = False
        qtbot.waitUntil(lambda n=painted: paints.total > n, timeout=10_000)  # painted later
    bar.removeEventFilter(paints)
    assert re.fullmatch(text, bar.text()), bar.text()
    # never while the count was being shown (the code before: at setValue, 3 of the 5
    # Segment counts here, 6 of 6 Evaluate, 10 of 10 Train)
    assert paints.during == 0, f"{paints.during} of {len(counts)} counts painted at once"

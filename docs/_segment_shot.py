"""What the model screenshot scripts share: run Segment with a model, wait, dock Tune."""

import time
from pathlib import Path

from qtpy.QtWidgets import QApplication


def settle(seconds: float = 1.0) -> None:
    """Let Qt and napari draw for a while."""
    end = time.time() + seconds
    while time.time() < end:
        QApplication.processEvents()
        time.sleep(0.02)


def wait(condition, seconds: float = 300) -> None:
    """Let Qt and napari run until ``condition()`` holds (at most ``seconds``)."""
    start = time.time()
    while not condition() and time.time() - start < seconds:
        QApplication.processEvents()
        time.sleep(0.02)


def segment_with(viewer, model: str, axes: str | None = None, timeout: float = 900):
    """Dock Segment, choose ``model`` (a bundled name or a model folder), run it on the
    chosen image and wait; then dock Tune. Returns (segment, tune)."""
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    if Path(model).exists():  # a model folder, not a bundled name
        segment.add_model(model)
        model = Path(model).name
    names = [segment.model_combo.itemText(i) for i in range(segment.model_combo.count())]
    segment.model_combo.setCurrentIndex(next(i for i, n in enumerate(names) if model in n))
    if axes:
        segment.axes_combo.setCurrentText(axes)
    done = []
    segment.run_finished.connect(lambda: done.append(True))
    segment.run_button.click()
    start = time.time()
    while not done and time.time() - start < timeout:
        QApplication.processEvents()
        time.sleep(0.05)
    print("segment:", segment.status_label.text())
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    return segment, tune

"""The Evaluate panel docked alone in a shown 1500 x 1000 napari window (acceptance 23,
finding 12): its status line is whole when ``evaluation_finished`` is emitted, and the AP
plot, x axis and all, is on screen without scrolling once the panel is laid out. The status
was drawn one line high, cut in half at the bottom of the dock, and the body scrolled its
last 26 pixels (the plot's tick labels and axis title) out of sight."""

from __future__ import annotations

import numpy as np
import tifffile

from tests.engine.test_evaluate_mistakes import ISBI

WINDOW = (1500, 1000)


def test_the_status_and_the_plot_fit_a_1500_by_1000_window(make_napari_viewer, data_dir, qtbot):
    """An ISBI membrane map scaled up 6 times (3072 x 3072), lazy, as the ground truth (a
    six-line note under "Ground truth is"), against an empty prediction (scored quickly): a
    two-line status, measured as a screenshot taken on the signal shows it."""
    import dask.array as da

    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(*WINDOW)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == WINDOW, timeout=5000)
    membranes = tifffile.imread(data_dir / ISBI / "boundaries" / "00.tif").astype(np.uint8)
    membranes = np.kron(membranes, np.ones((6, 6), np.uint8))
    viewer.add_labels(np.zeros(membranes.shape, np.uint16), name="pred")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    with qtbot.waitSignal(widget.kind_guessed, timeout=30_000):
        viewer.add_labels(da.from_array(membranes, chunks=512), name="ground truth")
    assert widget.truth_kind == "boundaries"
    status, plot = widget.status_label, widget.plot

    shown: list[tuple] = []

    def measure() -> None:  # what a screenshot taken on the signal shows
        footer = status.parentWidget()
        shown.append(
            (
                status.height(),
                status.heightForWidth(status.width()),
                footer.mapTo(widget, footer.rect().bottomLeft()).y(),
                widget.height(),
            )
        )

    widget.evaluation_finished.connect(measure)
    with qtbot.waitSignal(widget.evaluation_finished, timeout=30_000):
        widget.evaluate_button.click()

    assert widget.last_scores["avs"] == 0.0
    [(height, needed, footer_bottom, panel_height)] = shown
    assert needed > status.fontMetrics().height()  # (two lines at the dock's width)
    assert height >= needed and footer_bottom < panel_height  # the status whole, in the panel

    def plot_shown() -> bool:  # all of the plot in the body's view
        return plot.visibleRegion().boundingRect().height() == plot.height()

    qtbot.waitUntil(plot_shown, timeout=3000)

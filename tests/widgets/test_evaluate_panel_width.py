"""The Evaluate panel docked alone in a shown 1500 x 1000 napari window, scoring a prediction
against overlapping masks (acceptance 2, Evaluate layout): every row is whole at the dock's
width once the scores are shown. The foreground IoU line of overlapping masks ("— (objects
overlap: AP only, as --overlapping)") did not wrap, so the body became wider than the dock and
was cut at its right edge: the reason line, the scores table's 0.9 column, the counts table's
FN column and that line itself, with no sideways scrolling."""

from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import QScrollArea

from tests.conftest import crossing_rods

WINDOW = (1500, 1000)


def test_the_panel_fits_its_dock_after_scoring_overlapping_masks(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(*WINDOW)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == WINDOW, timeout=5000)
    rods = crossing_rods()  # three thin rods, two crossing: the worms' case
    predicted = np.zeros(rods.shape[1:], np.uint16)
    for k, rod in enumerate(rods):
        predicted[rod] = k + 1
    viewer.add_labels(predicted, name="rods labels")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    viewer.add_labels(rods.astype(np.uint8), name="rod masks")
    assert widget.truth_kind == "overlapping"
    scroll = widget.findChild(QScrollArea)
    body, view = scroll.widget(), scroll.viewport()
    qtbot.waitUntil(lambda: 0 < body.width() <= view.width() < 600, timeout=5000)  # laid out
    width = widget.width()

    with qtbot.waitSignal(widget.evaluation_finished, timeout=30_000):
        widget.evaluate_button.click()
    assert widget.iou_label.text().startswith("Foreground IoU: — (objects overlap")

    def right_edge(child) -> int:  # in the body's view
        return child.mapTo(view, child.rect().topRight()).x()

    def fits() -> bool:  # the body, its tables' last columns and the IoU line in view
        return body.width() <= view.width() and all(
            right_edge(child) < view.width()
            for child in (widget.kind_label, widget.iou_label, widget.counts_table)
        )

    qtbot.waitUntil(fits, timeout=3000)
    assert widget.width() == width  # at the dock's width, not by widening it
    for table in (widget.scores_table, widget.counts_table):  # every column whole
        header = table.horizontalHeader()
        last = table.columnCount() - 1
        assert header.sectionViewportPosition(last) + header.sectionSize(last) <= (
            table.viewport().width()
        )
    label = widget.iou_label
    assert label.height() >= label.heightForWidth(label.width())  # its lines, all of them

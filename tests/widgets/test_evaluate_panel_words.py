"""The Evaluate panel's words at its default width (s32 r6 findings 3, 4 and 10):

- the counts table's headers fit their columns once the sixth, "Yellow", is shown (its
  first, "Predicted", read "Predictec" in the dock's six columns of 53 px);
- after a run on ground truth that looks sparse within its frames the status line is short
  (it was 13 lines, the dock's bottom third): the yellow objects in one line, the whole
  explanation (what ``tessella evaluate`` says) in its tooltip and the counts caption's;
- two movies of different lengths are "not evaluated" for their frame counts (3 against 2),
  not asked whether the ground truth is a stack of object masks.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from qtpy.QtWidgets import QScrollArea, QStyle

from tests.widgets.test_evaluate_sparse_within_frames import _cells, _sparse_truth

WINDOW = (1500, 1000)


def _docked(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(*WINDOW)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == WINDOW, timeout=5000)
    return viewer


def _sparse_pair(viewer, tmp_path):
    pred = _cells()
    movie, seg = tmp_path / "01", tmp_path / "01_GT" / "SEG"
    movie.mkdir()
    seg.mkdir(parents=True)
    for t in range(3):
        tifffile.imwrite(movie / f"t{t:03d}.tif", np.full((20, 60), 100, np.uint16))
    truth = _sparse_truth(pred)
    for t in (0, 1):
        tifffile.imwrite(seg / f"man_seg{t:03d}.tif", truth[t])
    with pytest.warns(UserWarning):
        viewer.open(str(seg), plugin="tessella")
    viewer.add_labels(pred, name="prediction", axis_labels=("t", "y", "x"))


def test_counts_headers_fit_and_status_short_after_a_sparse_run(
    make_napari_viewer, qtbot, tmp_path
):
    viewer = _docked(make_napari_viewer, qtbot)
    _sparse_pair(viewer, tmp_path)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    widget.pred_combo.setCurrentText("prediction")
    assert widget.truth_combo.currentText() == "SEG"
    widget.errors_checkbox.setChecked(True)
    scroll = widget.findChild(QScrollArea)
    body, view = scroll.widget(), scroll.viewport()
    qtbot.waitUntil(lambda: 0 < body.width() <= view.width() < 600, timeout=5000)  # laid out
    width = widget.width()
    with qtbot.waitSignal(widget.evaluation_finished, timeout=30_000):
        widget.evaluate_button.click()
    assert widget.last_evaluation.not_annotated == 4
    table = widget.counts_table
    assert table.columnCount() == 6
    qtbot.wait(50)  # (laid out)
    assert abs(widget.width() - width) < 10  # the dock's default width (not widened)
    header = table.horizontalHeader()
    margin = 2 * header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    metrics = header.fontMetrics()
    for column in range(table.columnCount()):
        item = table.horizontalHeaderItem(column)
        needed = metrics.horizontalAdvance(item.text()) + margin
        assert needed <= header.sectionSize(column), (item.text(), header.sectionSize(column))
        assert item.toolTip()  # (the short header said in full)
    assert table.horizontalHeaderItem(0).toolTip() == "Predicted objects"

    label = widget.status_label
    status = label.text()
    lines = label.heightForWidth(label.width()) // label.fontMetrics().lineSpacing()
    assert lines <= 7, (lines, status)  # (13 before, at the same width)
    assert "Yellow: 4 objects not annotated in 1 sparse frame (0); FP 1 without them, 5 to" in (
        status
    )
    assert "hover for more" in status and "tessella evaluate does" not in status
    for tip in (label.toolTip(), widget.counts_label.toolTip()):
        assert "AP, precision and F1 count them as false positives all the same (5 FP)" in tip
        assert "as tessella evaluate does: read SEG, which scores the annotated cells" in tip
    # scored everywhere: nothing yellow, no tooltip left from the run before
    widget.annotated_checkbox.setChecked(False)
    with qtbot.waitSignal(widget.evaluation_finished, timeout=30_000):
        widget.evaluate_button.click()
    assert widget.last_evaluation.not_annotated == 0
    assert label.toolTip() == "" and widget.counts_label.toolTip() == ""


def test_frame_count_mismatch_says_the_frame_counts(make_napari_viewer):
    from tessella._widgets.evaluate import EvaluateWidget

    viewer = make_napari_viewer()
    pred = _cells(3)
    viewer.add_labels(pred, name="pred", axis_labels=("t", "y", "x"))
    viewer.add_labels(pred[:2].copy(), name="gt", axis_labels=("t", "y", "x"))
    widget = EvaluateWidget(viewer)
    widget.pred_combo.setCurrentText("pred")
    widget.truth_combo.setCurrentText("gt")
    widget.annotated_checkbox.setChecked(False)
    widget.evaluate_button.click()
    status = widget.status_label.text()
    assert status.startswith("Not evaluated: prediction 'pred' has shape (3, 20, 60)"), status
    assert "frame counts differ, 3 frames (0-2) against 2 (0-1)" in status
    assert "object masks" not in status

    # a 2D prediction against an (N, Y, X) stack of its size: the object masks are asked for
    viewer.add_labels(pred[0].copy(), name="one")
    widget.pred_combo.setCurrentText("one")
    widget.truth_combo.setCurrentText("gt")
    widget.kind_combo.setCurrentIndex(widget.kind_combo.findData("labels"))
    widget.evaluate_button.click()
    status = widget.status_label.text()
    assert "has shape (2, 20, 60); they must be equal. It is a stack of object masks?" in status

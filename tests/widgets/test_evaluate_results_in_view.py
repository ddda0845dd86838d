"""Evaluate's results in ``make run``'s layout (a shown 1600 x 1000 window, the nuclei sample
and the six panels docked by ``launch.set_up``, Evaluate a tab of the lower group): after
scoring BBBC010's E03 against its worm masks, the scores table (AP to avS), the counts and the
AP plot are all in view, the Evaluate button and status line too. The table was cut after
Recall and the plot was below the fold until the user scrolled (the body's view about 390 px
high; table rows about 30 px, the plot 170)."""

from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import QApplication, QDockWidget

from tests.widgets.helpers import choose_text

WINDOW = (1600, 1000)


def _whole_in_view(widget) -> bool:
    return widget.visibleRegion().boundingRect().height() == widget.height() > 0


def test_scores_counts_and_plot_are_in_view_after_evaluating(make_napari_viewer, data_dir, qtbot):
    from tessella.launch import set_up

    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(*WINDOW)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == WINDOW, timeout=5000)
    widgets = set_up(viewer)
    qtbot.wait(300)  # (set_up lays the docks out again at the next turn of the event loop)
    evaluate = widgets["Evaluate"]
    dock = evaluate.parentWidget()
    while not isinstance(dock, QDockWidget):
        dock = dock.parentWidget()
    dock.raise_()
    root = data_dir / "worms_bbbc010"
    viewer.open(str(root / "gfp" / "E03.tif"), plugin="tessella")
    [masks] = viewer.open(str(root / "worm_masks" / "E03.tif"), plugin="tessella")
    prediction = np.zeros(masks.data.shape[1:], np.uint16)
    for number, mask in enumerate(np.asarray(masks.data), 1):  # crossings go to the later worm
        prediction[mask > 0] = number
    viewer.add_labels(prediction, name="E03 labels")
    choose_text(evaluate.pred_combo, "E03 labels")
    choose_text(evaluate.truth_combo, "E03 [1]")
    qtbot.waitUntil(lambda: evaluate.truth_kind == "overlapping", timeout=30_000)
    qtbot.wait(300)  # (the docks laid out)
    assert evaluate.height() < 520  # make run's layout: a short panel

    with qtbot.waitSignal(evaluate.evaluation_finished, timeout=60_000):
        evaluate.evaluate_button.click()
    QApplication.processEvents()

    assert evaluate.last_scores["ap"]["0.5"] == 1.0
    for part in (evaluate.scores_table, evaluate.counts_table, evaluate.plot):
        assert _whole_in_view(part), part
    for part in (evaluate.evaluate_button, evaluate.status_label):
        assert _whole_in_view(part), part

"""Panels stacked in napari's right dock area share its height: in a shown window of a
laptop's or a desktop's size, the panel docked below Segment (as one opens it from the
Plugins menu after `make run` docked Segment) shows its run button, progress and status
without scrolling, and Segment takes no more height than its content.

Segment once took about 75% of the height, half of it empty, and Train showed only Image,
Labels and Pairs, Tune three sliders and no status (both panels' scroll areas expanded, and
napari's split of the area gave one of them everything but the other's minimum)."""

from __future__ import annotations

import pytest
from qtpy.QtWidgets import QScrollArea

SIZES = [(1366, 768), (1920, 1080)]


def _viewer(make_napari_viewer, qtbot, size):
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)
    return viewer


def _dock(viewer, *names):
    """Dock the panels stacked, one below the other (as a user gets them by dragging tabs
    apart: opened from the Plugins menu they join as tabs, test_layout_menu_tabs.py)."""
    from tessella._widgets._layout import docking_as_placed

    with docking_as_placed():
        return [viewer.window.add_plugin_dock_widget("tessella", name)[1] for name in names]


def _settle(qtbot, timeout=10.0):
    """Wait until the window has laid the docks out: no widget's geometry changes over 300 ms.
    A fixed 300 ms sufficed on an idle machine, but under load (CI's two cores shared) the
    layout was still moving and a control could read as cut off."""
    import time

    from qtpy.QtWidgets import QApplication

    def geometry():
        return [
            (w.objectName(), w.geometry().getRect(), w.isVisible())
            for w in QApplication.allWidgets()
        ]

    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        qtbot.wait(300)
        now = geometry()
        if now == last:
            return
        last = now


def _fully_shown(widget) -> bool:
    """``widget`` is on screen, none of it scrolled away or cut off by its dock."""
    from qtpy.QtGui import QRegion

    if not widget.isVisible():
        return False
    return QRegion(widget.rect()).subtracted(widget.visibleRegion()).isEmpty()


def _check_key_controls(panel, *names):
    for name in names:
        control = getattr(panel, name)
        if name != "status_label" and not control.isVisibleTo(panel):
            continue  # hidden on purpose (Tune's Apply to all for a single image)
        assert _fully_shown(control), f"{type(panel).__name__}.{name} is scrolled away"


def _check_no_empty_claim(panel):
    """The panel is no taller than its content (it once kept ~350 px of empty space)."""
    assert panel.height() <= panel.sizeHint().height() + 1, (panel.height(), panel.sizeHint())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_train_below_segment_shows_train_progress_plot_and_status(make_napari_viewer, qtbot, size):
    viewer = _viewer(make_napari_viewer, qtbot, size)
    segment, train = _dock(viewer, "Segment", "Train")
    _settle(qtbot)

    _check_key_controls(train, "train_button", "progress_bar", "plot", "status_label")
    _check_key_controls(segment, "run_button", "progress_bar", "status_label")
    _check_no_empty_claim(segment)
    # the loss plot is hidden until there is something to plot: an empty one took 200 px,
    # Segment's options scrolled and Train's got 88 px at 1366x768; now Segment is whole
    # and Train's options get the rest
    assert not train.plot.isVisible()
    assert segment.height() >= segment.sizeHint().height()
    [options] = [
        s for s in train.findChildren(QScrollArea) if s.widget().isAncestorOf(train.name_edit)
    ]
    assert options.viewport().height() >= 150, options.viewport().height()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_tune_below_segment_shows_its_parameters_and_status(
    make_napari_viewer, qtbot, size, segment_model_dir, nuclei_image, run_to_end
):
    viewer = _viewer(make_napari_viewer, qtbot, size)
    viewer.add_image(nuclei_image[:256, :256], name="nuclei")
    segment, tune = _dock(viewer, "Segment", "Tune")
    assert segment.add_model(segment_model_dir)
    run_to_end(segment)
    qtbot.waitUntil(lambda: bool(tune.controls), timeout=10_000)  # at its tallest
    _settle(qtbot)

    _check_key_controls(tune, "apply_all_button", "progress_bar", "status_label")
    for control in tune.controls.values():  # a few sliders fit beside Segment: all of them
        assert _fully_shown(control)
    _check_key_controls(segment, "run_button", "progress_bar", "status_label")
    _check_no_empty_claim(segment)
    _check_no_empty_claim(tune)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_segment_tune_and_correct_each_show_their_status(make_napari_viewer, qtbot, size):
    viewer = _viewer(make_napari_viewer, qtbot, size)
    segment, tune, correct = _dock(viewer, "Segment", "Tune", "Correct")
    _settle(qtbot)

    _check_key_controls(segment, "run_button", "progress_bar", "status_label")
    _check_key_controls(tune, "apply_all_button", "progress_bar", "status_label")
    _check_key_controls(correct, "status_label")
    for panel in (segment, tune, correct):
        _check_no_empty_claim(panel)

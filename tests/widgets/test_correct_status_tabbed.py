"""Correct tabbed with Segment and Tune in a 1500x950 window: a status of two lines is shown
whole as soon as it is set, not cut off by the tab bar (s35 t21 #4: "...546 px changed" hidden
behind the tabs)."""

from __future__ import annotations

from tests.widgets.test_dock_layout import _settle, _viewer

T21_SPLIT = (
    "split 8 into 2 by watershed (new: 13) on 'D17 labels (worms2d)': 546 px changed; part of "
    "8 apart from the rest (313 px) joined the piece it continues under the objects over it "
    "(a crossing)"
)


def test_a_long_status_is_shown_whole_when_tabbed(make_napari_viewer, qtbot):
    from qtpy.QtCore import QPoint

    viewer = _viewer(make_napari_viewer, qtbot, (1500, 950))
    for name in ("Segment", "Tune", "Correct"):
        _dock, widget = viewer.window.add_plugin_dock_widget("tessella", name, tabify=True)
    correct = widget
    correct.parentWidget().raise_()  # (its tab in front, as the tester had it)
    _settle(qtbot)
    assert correct.isVisible()
    label = correct.status_label
    label.setText("Ready")
    _settle(qtbot)
    label.setText(T21_SPLIT)  # (nothing else runs before the checks)
    needed = label.heightForWidth(label.width())
    assert needed > label.fontMetrics().height() * 2  # (wrapped over several lines)
    assert label.height() >= needed, (label.height(), needed)
    bottom = label.mapTo(correct, QPoint(0, label.height())).y()
    assert bottom <= correct.rect().bottom() + 1, (bottom, correct.rect().bottom())
    _settle(qtbot)  # and so it stays
    assert label.height() >= label.heightForWidth(label.width())
    bottom = label.mapTo(correct, QPoint(0, label.height())).y()
    assert bottom <= correct.rect().bottom() + 1, (bottom, correct.rect().bottom())

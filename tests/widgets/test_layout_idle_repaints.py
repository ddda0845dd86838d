"""A shown viewer with Tessella's panels docked and nothing happening does not repaint.

The panels' fit-to-content event filter (_layout._FitContent) once answered every layout
request of the panel it watches by invalidating the panel's scroll area, which posts a new
layout request to that same panel: the request fired again on every turn of the event loop,
forever, and napari's main window repainted about 100 times a second while idle (350 repaints in
3 s with Segment docked), the GUI thread painting ~85% of the time and holding the GIL, so
that workers (Export, Segment) ran about 3x slower."""

from __future__ import annotations

from tests.widgets.test_dock_layout import _dock, _settle, _viewer


def _count_idle(qtbot, watched, ms=1000):
    """The paint and layout-request events each of ``watched`` gets over ``ms`` idle."""
    from qtpy.QtCore import QEvent, QObject

    kinds = {QEvent.Type.Paint: "paint", QEvent.Type.LayoutRequest: "layout"}

    class Counter(QObject):
        def __init__(self):
            super().__init__()
            self.counts = {(name, kind): 0 for name in watched for kind in kinds.values()}
            self.names = {id(w): name for name, w in watched.items()}

        def eventFilter(self, obj, event) -> bool:
            kind = kinds.get(event.type())
            name = self.names.get(id(obj))
            if kind is not None and name is not None:
                self.counts[name, kind] += 1
            return False

    counter = Counter()
    for widget in watched.values():
        widget.installEventFilter(counter)
    try:
        qtbot.wait(ms)
    finally:
        for widget in watched.values():
            widget.removeEventFilter(counter)
    return counter.counts


def _watched(viewer, panels):
    from qtpy.QtWidgets import QScrollArea

    watched = {"main window": viewer.window._qt_window}
    for name, panel in panels.items():
        watched[name] = panel
        watched[f"{name} body"] = panel.findChild(QScrollArea)
    return watched


def test_the_idle_window_with_segment_and_export_stacked_does_not_repaint(
    make_napari_viewer, qtbot
):
    """Segment above Export in a shown 1366x768 window, laid out and left alone for a
    second: the main window, the panels and their scrolling bodies get (almost) no paint or
    layout request (hundreds each before the fix)."""
    viewer = _viewer(make_napari_viewer, qtbot, (1366, 768))
    segment, export = _dock(viewer, "Segment", "Export")
    _settle(qtbot)
    counts = _count_idle(qtbot, _watched(viewer, {"Segment": segment, "Export": export}))
    busy = {key: n for key, n in counts.items() if n >= 5}
    assert not busy, f"events over 1 s idle: {busy}"


def test_the_idle_window_with_panels_tabbed_from_the_menu_does_not_repaint(
    make_napari_viewer, qtbot
):
    """Segment and Export opened one after the other as from the Plugins menu (Export joins
    Segment as a tab, in front), laid out and left alone: no repaint loop either."""
    viewer = _viewer(make_napari_viewer, qtbot, (1366, 768))
    _d, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    _settle(qtbot)
    _d, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    _settle(qtbot)
    counts = _count_idle(qtbot, _watched(viewer, {"Segment": segment, "Export": export}))
    busy = {key: n for key, n in counts.items() if n >= 5}
    assert not busy, f"events over 1 s idle: {busy}"

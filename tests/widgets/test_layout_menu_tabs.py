"""Panels opened one by one from napari's Plugins menu join Tessella's panels already docked
as tabs, the new one in front, each as tall as the dock area; napari stacks them otherwise
(``add_dock_widget`` without ``tabify``), and six stacked panels got a strip each too short
to use. Other plugins' docks keep napari's layout."""

from __future__ import annotations

from qtpy.QtWidgets import QLabel

SIZE = (1366, 768)


def _viewer(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(*SIZE)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == SIZE, timeout=5000)
    return viewer


def _open(viewer, name):
    """Open a panel as the Plugins menu does: napari docks it with ``tabify`` False."""
    dock, panel = viewer.window.add_plugin_dock_widget("tessella", name)
    return dock, panel


def _in_front(panel) -> bool:
    # (a dock behind another tab stays "visible", moved off the window)
    return not panel.visibleRegion().isEmpty()


def test_panels_opened_one_by_one_join_as_tabs_the_new_one_in_front(make_napari_viewer, qtbot):
    viewer = _viewer(make_napari_viewer, qtbot)
    window = viewer.window._qt_window
    docks, panels = {}, {}
    for name in ("Segment", "Tune", "Correct"):
        docks[name], panels[name] = _open(viewer, name)
        qtbot.waitUntil(lambda p=panels[name]: _in_front(p), timeout=3000)
        qtbot.wait(100)  # (the tab bar settles)
        shown = {n for n, p in panels.items() if _in_front(p)}
        assert shown == {name}, f"{name} opened, on screen: {sorted(shown)}"

    group = set(window.tabifiedDockWidgets(docks["Correct"]))
    assert group == {docks["Segment"], docks["Tune"]}, group
    # each, in front, has the dock area's height (stacked, each had a third at most)
    area = viewer.window._qt_viewer.height()
    for name in ("Segment", "Tune", "Correct"):
        docks[name].raise_()
        qtbot.waitUntil(lambda p=panels[name]: _in_front(p), timeout=3000)
        qtbot.wait(100)
        assert panels[name].height() >= 0.8 * area, (name, panels[name].height(), area)
        run = getattr(panels[name], "run_button", None) or panels[name].status_label
        assert run.visibleRegion().boundingRect().height() == run.height(), name


def test_the_real_plugins_menu_action_joins_the_tab_group(make_napari_viewer, qtbot):
    """Through napari's own menu action (its callback builds the panel, its processor docks
    it with ``add_dock_widget``)."""
    from napari._app_model import get_app_model

    viewer = _viewer(make_napari_viewer, qtbot)
    window = viewer.window._qt_window
    segment_dock, _ = _open(viewer, "Segment")
    get_app_model().commands.execute_command("tessella.train_widget").result()
    [train] = [w for w in viewer.window.dock_widgets.values() if type(w).__name__ == "TrainWidget"]
    train_dock = train.parentWidget()
    qtbot.waitUntil(lambda: window.tabifiedDockWidgets(train_dock) == [segment_dock], timeout=3000)
    qtbot.waitUntil(lambda: _in_front(train), timeout=3000)


def test_other_plugins_docks_keep_napari_layout(make_napari_viewer, qtbot):
    viewer = _viewer(make_napari_viewer, qtbot)
    window = viewer.window._qt_window
    other = viewer.window.add_dock_widget(QLabel("another plugin"), name="other", area="right")
    segment_dock, segment = _open(viewer, "Segment")  # beside another plugin's dock only
    qtbot.wait(200)
    assert window.tabifiedDockWidgets(segment_dock) == []
    assert window.tabifiedDockWidgets(other) == []
    tune_dock, _ = _open(viewer, "Tune")  # joins Segment, not the other plugin's dock
    qtbot.waitUntil(lambda: window.tabifiedDockWidgets(tune_dock) == [segment_dock], timeout=3000)
    assert window.tabifiedDockWidgets(other) == []
    third = viewer.window.add_dock_widget(QLabel("a third"), name="third", area="right")
    qtbot.wait(200)
    assert window.tabifiedDockWidgets(third) == []  # Tessella's group takes no one else's
    assert set(window.tabifiedDockWidgets(segment_dock)) == {tune_dock}

"""What ``make run`` opens: the sample and every widget, docked through the manifest."""

from napari.layers import Image, Labels

from tessella.launch import WIDGETS, fit_to_screen, set_up


def test_make_run_docks_every_widget_with_the_sample(make_napari_viewer):
    viewer = make_napari_viewer()
    widgets = set_up(viewer)
    assert list(widgets) == list(WIDGETS)
    assert isinstance(viewer.layers["nuclei"], Image)
    assert isinstance(viewer.layers["nuclei ground truth"], Labels)
    assert widgets["Segment"].image_layer is viewer.layers["nuclei"]
    assert widgets["Segment"].model_combo.currentText().startswith("nuclei2d")
    docked = list(viewer.window.dock_widgets.values())
    assert len(docked) == len(WIDGETS)
    assert all(widget in docked for widget in widgets.values())


def test_the_docked_widgets_fit_a_laptop_screen(make_napari_viewer):
    """Tall panels (Train, Evaluate, Correct, Export) scroll inside their docks, so what
    `make run` opens fits a 1366x768 screen instead of running off its bottom."""
    viewer = make_napari_viewer(show=True)
    set_up(viewer)
    window = viewer.window._qt_window
    assert window.minimumSizeHint().height() < 700, window.minimumSizeHint()


def test_make_run_shows_segment_whole_in_front_and_tune_below(make_napari_viewer, qtbot):
    """At 1366x768 Segment is in front of its tab group (with Train) and none of its options
    scroll; Tune is in front of the group below it (with Correct, Export, Evaluate)."""
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1366, 768)
    widgets = set_up(viewer)

    def in_front() -> bool:
        # (a dock behind another tab stays "visible", moved off the window)
        shown = {name for name, widget in widgets.items() if not widget.visibleRegion().isEmpty()}
        return shown == {"Segment", "Tune"}

    qtbot.waitUntil(in_front)
    qtbot.wait(200)  # (the splitter settles)
    segment = widgets["Segment"]
    assert segment.height() >= segment.sizeHint().height()  # nothing scrolled away
    run = segment.run_button
    assert run.visibleRegion().boundingRect().height() == run.height()
    tune = widgets["Tune"].parentWidget()
    assert tune.geometry().top() >= segment.parentWidget().geometry().bottom()


def test_make_run_gives_train_its_options_not_an_empty_plot(make_napari_viewer, qtbot):
    """At 1366x768, with Train in front of its tab group, its options scrolled in 88 px
    (Image, Labels and half a row of buttons of 587 px) while an empty loss plot took
    200 px. The plot is hidden until there is something to plot: the options get that room."""
    from qtpy.QtWidgets import QScrollArea

    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1366, 768), timeout=5000)
    widgets = set_up(viewer)
    train = widgets["Train"]
    qtbot.wait(100)  # (set_up raises Segment again once the tab bars exist)
    train.parentWidget().raise_()
    qtbot.waitUntil(lambda: not train.visibleRegion().isEmpty())
    qtbot.wait(200)  # (the splitter settles)
    [options] = [
        s for s in train.findChildren(QScrollArea) if s.widget().isAncestorOf(train.name_edit)
    ]
    assert not train.plot.isVisible()
    assert options.viewport().height() >= 200, options.viewport().height()
    assert train.train_button.visibleRegion().boundingRect().height() == train.train_button.height()


def test_make_run_opens_the_window_as_large_as_the_screen(make_napari_viewer, qtbot):
    """napari opened at about 1089 x 630 on make run's 1600 x 1000 screen, the image a strip
    about 260 px wide between the layer list and the docks; the window now fills the screen
    (there the canvas is 770 x 951)."""
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    free = window.screen().availableGeometry()
    fit_to_screen(viewer)
    set_up(viewer)
    qtbot.waitUntil(lambda: window.width() >= free.width() - 20, timeout=5_000)
    assert window.height() >= free.height() - 60  # (a title bar, where a manager draws one)

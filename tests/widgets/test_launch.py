"""What ``make run`` opens: the sample and every widget, docked through the manifest."""

from napari.layers import Image, Labels

from tessella.launch import WIDGETS, set_up


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

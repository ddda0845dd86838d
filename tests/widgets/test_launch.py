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

"""Long layer names (user test t10, finding 9): with three pairs named after 64-character
DSB2018 file stems, the Train dock widened to half of the window, Pairs needed a sideways
scroll bar, and a reopened panel listed every pair in full on its status line (about 12
lines). Now the combos and the list do not widen the dock (names elided in the middle, whole
in the tooltips) and the status names a few pairs and how many more."""

from __future__ import annotations

from qtpy.QtWidgets import QScrollArea

from tests.widgets.test_train_run_feedback import _disks

WINDOW = (1500, 1000)
LONG = "02903040e19ddf92f452907644ad3822918f54af41dd85e5a3fe3e1b6d6f9339"


def test_long_layer_names_do_not_widen_the_dock(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(*WINDOW)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == WINDOW, timeout=5000)
    image, labels = _disks()
    layers = [
        (
            viewer.add_image(image, name=f"{LONG}{k}"),
            viewer.add_labels(labels, name=f"{LONG}{k} [1]"),
        )
        for k in range(3)
    ]
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    for pair in layers:
        train.add_pair(*pair)
    scroll = train.findChild(QScrollArea)
    qtbot.waitUntil(lambda: 0 < scroll.widget().width() <= scroll.viewport().width(), timeout=5000)
    qtbot.wait(100)
    assert train.width() < 520, train.width()
    assert not train.pair_list.horizontalScrollBar().isVisible()
    assert train.pair_list.item(0).toolTip() == f"{LONG}0  ↔  {LONG}0 [1]"


def test_the_status_names_a_few_of_many_long_pairs():
    from tessella._widgets._train_restoring import _shortened

    described = ", ".join(f"{LONG}{k} + {LONG}{k} [1]" for k in range(5))
    text = _shortened(described)
    assert text == f"{LONG}0 + {LONG}0 [1], … (4 pairs more)", text

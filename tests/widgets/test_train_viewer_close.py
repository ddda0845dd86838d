"""Closing the viewer (napari quitting, ``viewer.close()``) removes its layers one by one: the
Train panel said "Pair ... taken off the list: its ... layer ... was removed from the viewer"
for each pair as it went, notices no one asked for. A layer a user removes is still said."""

from __future__ import annotations

from tessella._widgets import train as train_module
from tests.widgets.helpers import said, train_panel


def test_closing_the_viewer_says_nothing_of_the_pairs(viewer_models, nuclei_sample, monkeypatch):
    viewer, _models = viewer_models
    image, labels = nuclei_sample
    train = train_panel(viewer)
    shown = said(monkeypatch, train_module, "show_info")
    layers = []
    for name, rows in (("a", slice(0, 128)), ("b", slice(128, 256)), ("c", slice(256, 384))):
        layers.append(viewer.add_image(image[rows, :128], name=name))
        layers.append(viewer.add_labels(labels[rows, :128], name=f"{name}_gt"))
        train.add_pair(layers[-2], layers[-1])

    viewer.layers.remove(layers[1])  # removed by hand: said
    assert shown == [
        "Train: Pair 'a  ↔  a_gt' taken off the list: its labels layer 'a_gt' was removed "
        "from the viewer (2 pairs left)."
    ]
    viewer.close()  # as napari's Quit does: every layer leaves, nothing is said
    assert len(shown) == 1, shown

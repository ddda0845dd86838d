"""*Add pair* refuses a binary mask at once, naming the layer (user test t10, finding 8): it
was accepted silently and refused only once Train ran, as "Training failed: ..."; and the
refusal of an empty labels layer names it ("the labels layers hold no objects to learn
from" did not say which)."""

from __future__ import annotations

import numpy as np

import tessella._widgets.train as train_module
from tessella._widgets.train import NEW
from tests.widgets.helpers import said
from tests.widgets.test_train_run_feedback import _disks


def _panel(viewer, base: str = NEW + "boundary"):
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    index = next(
        i for i in range(train.base_combo.count()) if train.base_combo.itemData(i).endswith(base)
    )
    train.base_combo.setCurrentIndex(index)
    return train


def _choose(train, image, labels) -> None:
    train.image_combo.setCurrentIndex(train.image_combo.findText(image))
    train.labels_combo.setCurrentIndex(train.labels_combo.findText(labels))


def test_add_pair_refuses_a_binary_mask_by_name(viewer_models, monkeypatch):
    viewer, _models = viewer_models
    image, labels = _disks()
    viewer.add_image(image, name="cells")
    viewer.add_labels((labels > 0).astype(np.int32), name="binary_A")
    viewer.add_labels(labels, name="cells gt")
    train = _panel(viewer)
    errors = said(monkeypatch, train_module)
    _choose(train, "cells", "binary_A")
    train.add_pair_button.click()
    assert train.pairs == []
    text = train.status_label.text()
    assert text.startswith("Not added: the labels of 'binary_A' hold only 0 and 1"), text
    assert errors and errors[-1].startswith("Train: the labels of 'binary_A'"), errors
    _choose(train, "cells", "cells gt")  # labels with one ID per object: added
    train.add_pair_button.click()
    assert len(train.pairs) == 1, train.status_label.text()
    # a semantic model learns a binary mask: added
    semantic = _panel(viewer, NEW + "semantic")
    _choose(semantic, "cells", "binary_A")
    semantic.add_pair_button.click()
    added = (viewer.layers["cells"].unique_id, viewer.layers["binary_A"].unique_id)
    assert added in semantic.pairs, semantic.status_label.text()


def test_an_empty_labels_layer_is_refused_by_name(viewer_models, monkeypatch):
    viewer, _models = viewer_models
    image, _labels = _disks()
    train = _panel(viewer)
    train.add_pair(
        viewer.add_image(image, name="cells"),
        viewer.add_labels(np.zeros(image.shape, np.int32), name="Labels"),
    )
    train.name_edit.setText("empty")
    said(monkeypatch, train_module)
    assert not train.start()
    text = train.status_label.text()
    assert text == "Not started: the labels layer 'Labels' holds no objects to learn from", text

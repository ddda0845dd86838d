"""The Train panel refuses 0/1 labels layers for an instance model, naming the layers, as
training from folders does: they trained, each image's cells one object, and the panel
reported "best validation score 1.000". They are refused at the press of Train, before a run
starts (the run refused them too, as "Train failed: ..."), every binary layer named at once,
judged together as the run judges them."""

from __future__ import annotations

import tessella._widgets.train as train_module
from tessella._widgets.train import NEW
from tests.widgets.test_train_gaps import _volume


def binary_pairs_panel(viewer):
    """A Train panel docked in ``viewer`` set for a new boundary model (cpu, patch 64, one
    step), with two pairs of an image and its 0/1 labels ('a bin', 'b bin'), added from code
    (``add_pair``, which does not check them): a run Train refuses at its press."""
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.device_combo.setCurrentText("cpu")
    train.patch_spin.setValue(64)
    train.steps_spin.setValue(1)
    index = next(
        i
        for i in range(train.base_combo.count())
        if train.base_combo.itemData(i).endswith(NEW + "boundary")
    )
    train.base_combo.setCurrentIndex(index)
    image, labels = _volume(2)
    for z, name in enumerate(("a", "b")):
        binary = viewer.add_labels((labels[z] > 0).astype(int), name=f"{name} bin")
        train.add_pair(viewer.add_image(image[z], name=name), binary)
    return train


def test_binary_labels_layers_are_refused_by_name(viewer_models, qtbot, monkeypatch):
    viewer, models = viewer_models
    train = binary_pairs_panel(viewer)
    errors: list[str] = []
    monkeypatch.setattr(train_module, "show_error", errors.append)
    assert train.start() is False  # refused at the press of Train: no run starts
    assert train._run is None and train.worker is None
    status = train.status_label.text()
    assert len(errors) == 1, errors
    for said in (errors[0], status):
        # both layers named in one refusal, not the first one only
        assert "the labels of 'a bin', 'b bin' hold only 0 and 1" in said, said
        assert "the boundary method would learn as one object per image" in said, said
        assert "scipy.ndimage.label" in said, said  # how to fix it
    assert errors[0].startswith("Train: the labels of '"), errors
    assert status.startswith("Not started: the labels of '"), status
    assert not list(models.glob("*/card.json"))  # no model saved


def test_every_binary_layer_is_named_and_only_those():
    """Each layer is judged as Add pair judges it (a binary mask beside layers of labels is
    refused too); the refusal names every binary layer once, and no layer of labels."""
    import numpy as np
    from napari.layers import Labels

    from tessella._widgets._train_data import binary_layers_refusal

    mask = np.zeros((32, 32), np.int32)
    mask[2:8, 2:8] = mask[20:28, 20:28] = 1  # one ID, two pieces
    several = np.zeros((32, 32), np.int32)
    several[2:8, 2:8], several[20:28, 20:28] = 1, 2
    one, two = Labels(mask, name="mask"), Labels(several, name="labels")
    other = Labels(mask * 3, name="mask 2")
    refused = binary_layers_refusal([one, two, other, one], "boundary")
    assert refused.startswith("the labels of 'mask', 'mask 2' hold only 0 and "), refused
    assert "'labels'" not in refused, refused
    assert binary_layers_refusal([two], "boundary") is None
    assert binary_layers_refusal([one, other], "semantic") is None  # a mask is its labels

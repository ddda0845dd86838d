"""The Train panel refuses 0/1 labels layers for an instance model, naming the layers, as
training from folders does: they trained, each image's cells one object, and the panel
reported "best validation score 1.000"."""

from __future__ import annotations

import tessella._widgets.train as train_module
from tessella._widgets.train import NEW
from tests.widgets.test_train_gaps import _volume


def binary_pairs_panel(viewer):
    """A Train panel docked in ``viewer`` set for a new boundary model (cpu, patch 64, one
    step), with two pairs of an image and its 0/1 labels ('a bin', 'b bin'): a run the
    worker refuses at once."""
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
    with qtbot.waitSignal(train.run_finished, timeout=60_000):
        assert train.start(), train.status_label.text()
    assert len(errors) == 1, errors
    assert errors[0].startswith("Train failed: the labels of '"), errors
    assert "'a bin'" in errors[0] and "'b bin'" in errors[0] and "hold only 0 and 1" in errors[0]
    assert "the boundary method would learn as one object per image" in errors[0]
    assert not list(models.glob("*/card.json"))  # no model saved

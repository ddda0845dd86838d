"""Small helpers the widget tests share (choosing in combo boxes, docking a Train panel)."""

from __future__ import annotations

import pytest


def choose_text(combo, text: str) -> None:
    """Choose the item of ``combo`` whose text is ``text`` (it must be there)."""
    index = combo.findText(text)
    assert index >= 0, text
    combo.setCurrentIndex(index)


def choose_model(segment, name: str) -> None:
    """Choose model ``name`` in a Segment panel (items read "NAME (method, axes)"); the test
    is skipped where that bundled model is not installed."""
    for i in range(segment.model_combo.count()):
        if segment.model_combo.itemText(i).split()[0] == name:
            segment.model_combo.setCurrentIndex(i)
            return
    pytest.skip(f"the bundled {name} model is not installed")


def train_panel(viewer, epochs: int | None = None):
    """A Train panel docked in ``viewer``: CPU, 64² crops, one step per epoch."""
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.device_combo.setCurrentText("cpu")
    train.patch_spin.setValue(64)
    train.steps_spin.setValue(1)
    if epochs is not None:
        train.epochs_spin.setValue(epochs)
    return train


def choose_base(train, data: str) -> None:
    """Choose the Train panel's starting model whose data ends with ``data``."""
    index = next(
        i for i in range(train.base_combo.count()) if train.base_combo.itemData(i).endswith(data)
    )
    train.base_combo.setCurrentIndex(index)


def proposed_save_names(monkeypatch, module) -> list[str]:
    """The file names ``module``'s save dialogs propose from now on (each dialog is
    answered as cancelled): ``QFileDialog.getSaveFileName`` as ``module`` imported it."""
    proposed: list[str] = []

    def dialog(parent, caption, directory, *args, **kwargs):
        proposed.append(directory)
        return "", ""

    monkeypatch.setattr(module.QFileDialog, "getSaveFileName", dialog)
    return proposed


def said(monkeypatch, module, notify: str = "show_error") -> list[str]:
    """The notifications ``module`` shows with ``notify`` from now on, instead of showing
    them (napari's ``show_error`` as ``module`` imported it, by default)."""
    shown: list[str] = []
    monkeypatch.setattr(module, notify, shown.append)
    return shown


def result_name(segment, image: str, kind: str = "labels") -> str:
    """The name Segment gives its ``kind`` result (labels, or a network map: "boundary") of
    layer ``image`` with the model chosen in ``segment``: "<image> <kind> (<model>)" whichever
    model ran first (the literal names are checked in tests/widgets/test_segment_widget.py)."""
    card = segment._cards[segment.model_combo.currentData()]
    return f"{image} {kind} ({card.name})"


def export_tiff_and_recipe(viewer, layer, base, qtbot) -> dict:
    """Export ``layer``'s labels as ``base.tif`` with their recipe from a real Export panel
    (CSV off); the recipe written (once the input file, if any, is hashed in Export's
    worker)."""
    import json

    from tessella._widgets.export import ExportWidget

    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(layer.unique_id))
    widget.path_edit.setText(str(base))
    widget.tiff_checkbox.setChecked(True)
    widget.csv_checkbox.setChecked(False)
    widget.recipe_checkbox.setChecked(True)
    with qtbot.waitSignal(widget.exported, timeout=30_000) as blocker:
        widget.export()
    assert blocker.args[0], widget.status_label.text()
    return json.loads(base.with_name(base.name + ".recipe.json").read_text())

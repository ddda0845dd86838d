"""What a run on labels layers is warned of, as a run on a folder is (user test t10, findings
2 and 5): labels whose unannotated half is painted 999 with Unannotated label unset were
trained on without a word (a folder's masks are warned of), and a run on one pair, trained
on and scored on, was not recorded as such (the command's card records it and `tessella
models` marks it '!'). Now both are said as "Train: ..." notifications and in the status
line, and the card's ``training.warnings`` records them."""

from __future__ import annotations

import json

import tessella._widgets.train as train_module
from tessella._widgets.train import NEW
from tests.widgets.test_train_run_feedback import _disks, _scored_zero


def _panel(viewer, painted: bool, count: int):
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.device_combo.setCurrentText("cpu")
    train.patch_spin.setValue(64)
    train.epochs_spin.setValue(1)
    train.steps_spin.setValue(1)
    index = next(
        i
        for i in range(train.base_combo.count())
        if train.base_combo.itemData(i).endswith(NEW + "embedding")
    )
    train.base_combo.setCurrentIndex(index)
    image, labels = _disks()
    if painted:  # the left half not annotated, painted 999 (two disks are on the right)
        labels = labels.copy()
        labels[:, :32] = 999
    for k in range(count):
        train.add_pair(
            viewer.add_image(image, name=f"img{k}"), viewer.add_labels(labels, name=f"gt{k}")
        )
    return train


def _run(train, qtbot, monkeypatch, name: str) -> tuple[str, list[str]]:
    shown: list[str] = []
    monkeypatch.setattr(train_module, "show_warning", shown.append)
    train.name_edit.setText(name)
    with qtbot.waitSignal(train.run_finished, timeout=120_000):
        assert train.start(), train.status_label.text()
        started = train.status_label.text()
    return started, shown


def test_labels_layers_painted_999_without_unannotated_label_are_warned_of(
    viewer_models, qtbot, monkeypatch
):
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    train = _panel(viewer, painted=True, count=3)
    started, shown = _run(train, qtbot, monkeypatch, "sparse")
    assert "label 999 covers 50% of the pixels" in started, started
    painted = [s for s in shown if "label 999 covers 50% of the pixels" in s]
    assert painted and painted[0].startswith("Train: labels layers: 'gt"), shown
    assert "Unannotated label" in painted[0]
    warnings = json.loads((models / "sparse" / "card.json").read_text())["training"]["warnings"]
    assert any("label 999 covers 50%" in w for w in warnings), warnings
    assert "Warned: " in train.status_label.text() and "label 999" in train.status_label.text()


def test_one_pair_trained_on_and_scored_on_is_recorded_as_such(viewer_models, qtbot, monkeypatch):
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    train = _panel(viewer, painted=False, count=1)
    started, shown = _run(train, qtbot, monkeypatch, "one")
    assert "scored on the same one" in started, started
    assert any("'gt0' is trained on and scored on" in s for s in shown), shown
    warnings = json.loads((models / "one" / "card.json").read_text())["training"]["warnings"]
    assert any("'gt0' is trained on and scored on" in w for w in warnings), warnings
    final = train.status_label.text()
    assert final.startswith("Saved: 'one'") and "trained on and scored on" in final, final
    assert "label 999" not in final

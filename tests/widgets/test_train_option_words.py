"""The engine's words for the Train panel's controls (``engine.train._worded.OPTIONS``, which
its refusals and warnings name: "Hold-out folder '...' is the Folder") are the texts of the
panel's own controls, so that a renamed control cannot leave the engine's words stale; a
setting the panel has no control for is described in lower case ("the seed") and is no
control's name either (review s35/r13 #4: "the hold-out folder" beside "Hold-out folder")."""

from __future__ import annotations

import re

from qtpy.QtWidgets import QAbstractButton, QFormLayout, QLabel

from tessella.engine.train._worded import OPTIONS, option, resume_of, set_to


def _controls(widget) -> set[str]:
    """The names of the panel's controls: its form's row labels, its buttons' and check
    boxes' texts (without a parenthesis: "One decoder (faster model)" is One decoder)."""
    names = set()
    for form in widget.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.LabelRole)
            label = item.widget() if item is not None else None
            if isinstance(label, QLabel) and label.text():
                names.add(label.text())
    for button in widget.findChildren(QAbstractButton):
        if button.text():
            names.add(re.sub(r"\s*\(.*\)$", "", button.text()))
    return names


def test_every_panel_word_of_the_engine_names_a_control_of_the_train_panel(make_napari_viewer):
    viewer = make_napari_viewer()
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    controls = _controls(train)
    assert {"Hold-out folder", "Start from", "One decoder", "Resume"} <= controls, controls
    for name, (_python, _cli, panel) in OPTIONS.items():
        if panel[:1].isupper():  # a control: its text, or what it does ("One decoder's ...")
            control = panel.split("'s ", 1)[0]
            assert control in controls, f"{name}: {panel!r} names no control of {controls}"
        else:  # described: not a control's name in other words
            described = panel.removeprefix("the ").lower()
            assert described not in {c.lower() for c in controls}, f"{name}: {panel!r}"


def test_a_setting_is_worded_from_the_one_table():
    """One table and one function word every option the engine names (the resume refusals'
    settings included): on or off, a value, a control's value."""
    assert set_to("val_data", "/d/held", "panel") == "Hold-out folder '/d/held'"
    assert set_to("max_val_images", 2, "cli") == "--max-val-images 2"
    assert set_to("max_val_images", 2, "panel") == "the hold-out images scored: 2"
    assert set_to("val_orientations", True, "cli") == "--val-orientations"
    assert set_to("val_orientations", False, "panel") == "the orientations scored: no"
    assert set_to("ignore_label", None, "python") == "ignore_label=None"
    assert option("ema", "panel") == "Average the weights"
    assert resume_of("/m/run", "panel") == "Resume of 'run'"

"""Tune's controls take what 0 means from the methods' help texts: the tooltip is the help,
and a control at 0 shows the word the help gives it ("off", "no limit") and nothing else."""

from __future__ import annotations

import dataclasses
import re

import pytest
from qtpy.QtWidgets import QAbstractSpinBox
from superqt import QLabeledDoubleSlider, QLabeledSlider

from tessella._widgets import _tune_controls
from tessella.engine.methods import METHOD_NAMES, get_method
from tessella.engine.params import param_specs

SPECS = [
    (method, spec)
    for method in METHOD_NAMES
    for spec in param_specs(get_method(method).Params)
    if spec.kind is not bool
]


def _shown(control) -> str:
    if isinstance(control, (QLabeledSlider, QLabeledDoubleSlider)):
        return control._label.text()
    return control.text()


@pytest.mark.parametrize("method, spec", SPECS, ids=[f"{m}-{s.name}" for m, s in SPECS])
def test_a_control_at_0_shows_what_its_help_says_and_its_tooltip_is_the_help(method, spec, qtbot):
    said = re.search(r"\b0 = (off|no limit)\b", spec.help)
    # the tooltip is the help itself, nothing added on the side (a name table added "0 = no
    # limit" to min_size and "0 = off" to min_superpixel and sigma_seeds)
    assert _tune_controls._help(spec) == spec.help
    if spec.low != 0:
        return
    assert _tune_controls._lowest_means(spec) == (said.group(1) if said else "")
    control = _tune_controls._make_control(spec)
    qtbot.addWidget(control)
    _tune_controls._set_value(control, 1)
    _tune_controls._set_value(control, 0)
    if said:
        assert _shown(control) == said.group(1)
    else:  # a plain number: 0, 0.00
        assert float(_shown(control)) == 0
    if isinstance(control, QAbstractSpinBox):
        assert control.specialValueText() == (said.group(1) if said else "")


def test_what_0_means_comes_from_the_help_alone():
    """min_size and sigma_seeds read "no limit"/"off" because their help says so; the same
    parameter with a help silent on 0 reads a plain 0 (no table of names decides it)."""
    specs = {spec.name: spec for spec in param_specs(get_method("boundary").Params)}
    assert _tune_controls._lowest_means(specs["min_size"]) == "no limit"
    assert _tune_controls._lowest_means(specs["sigma_seeds"]) == "off"
    silent = dataclasses.replace(specs["min_size"], help="Discard objects with fewer pixels.")
    assert _tune_controls._lowest_means(silent) == ""
    assert _tune_controls._help(silent) == silent.help

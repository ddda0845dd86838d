"""Tune's controls: one per parameter of a method (:func:`_make_control`), and setting the
value they show (:func:`_set_value`)."""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QDoubleSpinBox,
    QPushButton,
    QSpinBox,
    QWidget,
)
from superqt import QLabeledDoubleSlider, QLabeledSlider

if TYPE_CHECKING:
    from tessella.engine.params import ParamSpec

__all__ = [
    "MAX_SLIDER_STEPS",
    "_button",
    "_decimals",
    "_help",
    "_lowest_means",
    "_make_control",
    "_odd_only",
    "_set_value",
]

MAX_SLIDER_STEPS = 5000  # wider integer ranges get a spin box with growing steps


def _decimals(spec: ParamSpec) -> int:
    """Decimals of a float control: a step of about 1/100 of the range, rounded to 10^-n."""
    if spec.low is None or spec.high is None or spec.high <= spec.low:
        return 3
    return max(0, -round(np.log10((spec.high - spec.low) / 100)))


def _lowest_means(spec: ParamSpec) -> str:
    """What the lowest value of ``spec`` means where its help says so ("...; 0 = no limit.":
    "no limit"), shown instead of that value; empty where the help says nothing of it (the
    methods' help texts are the one place that says what 0 means)."""
    if spec.low is None:
        return ""
    said = re.search(rf"\b{re.escape(f'{spec.low:g}')} = ([\w ]+)", spec.help)
    return "" if said is None else said.group(1).strip()


def _help(spec: ParamSpec) -> str:
    """The tooltip of the control of ``spec``: its method's help, which says what 0 means
    where it means more than a number ("Discard objects with fewer pixels; 0 = no limit.")."""
    return spec.help


def _name_the_lowest(slider: QLabeledSlider | QLabeledDoubleSlider, text: str) -> None:
    """Make a labelled slider's number read ``text`` at its lowest value ("off"), as a spin
    box's special value text does (superqt's label, a QLineEdit, has none). Only the display
    changes: the label is superqt's private ``_label``, whose number ``_format_value`` writes
    (and ``_update_size`` measures). Its validator takes numbers only, so nothing but a
    number can be typed into it, "off" shown or not. A superqt where this fails keeps the
    number (the tooltip still says what 0 means)."""
    label = getattr(slider, "_label", None)
    plain = getattr(label, "_format_value", None)
    if label is None or plain is None:
        return
    own = "_format_value" in getattr(label, "__dict__", {})  # (else superqt's, the class's)
    try:
        label._format_value = lambda value: text if value <= label.minimum() else plain(value)
        label._update_size()
        label.updateText()
    except Exception:  # another superqt's label: the slider stays as superqt made it
        with contextlib.suppress(Exception):
            if own:
                label._format_value = plain
            else:
                del label._format_value  # superqt's own method again
        with contextlib.suppress(Exception):
            label.updateText()


def _odd_only(spec: ParamSpec) -> bool:
    """Whether the help of ``spec`` (an integer) says that even values act as the next odd
    one (a median's size): its control then steps over them."""
    return spec.kind is int and "even sizes act as the next odd" in spec.help


def _make_control(spec: ParamSpec) -> QWidget:
    """A check box, a labelled slider, or for wide/open ranges a spin box with growing steps;
    a spin box shows what its lowest value means ("no limit", "off": :func:`_lowest_means`)
    instead of it, and so does a slider whose lowest value, 0, switches a step off."""
    bounded = spec.low is not None and spec.high is not None
    if spec.kind is bool:
        return QCheckBox()
    if spec.kind is int and bounded and spec.high - spec.low <= MAX_SLIDER_STEPS:
        control = QLabeledSlider()
    elif spec.kind is float and bounded:
        control = QLabeledDoubleSlider()
        control.setDecimals(_decimals(spec))
        control.setSingleStep(10.0 ** -_decimals(spec))
    else:
        control = QSpinBox() if spec.kind is int else QDoubleSpinBox()
        control.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        control.setKeyboardTracking(False)  # one update per typed number, not per digit
        control.setSpecialValueText(_lowest_means(spec))
    limit = 2**31 - 1  # a QSpinBox's range
    low = -limit if spec.low is None else max(spec.low, -limit)
    high = limit if spec.high is None else min(spec.high, limit)
    control.setRange(spec.kind(low), spec.kind(high))
    means = _lowest_means(spec)
    # (a slider from 1, a grid step, reads better as the number: "1 = every pixel")
    if means and spec.low == 0 and isinstance(control, (QLabeledSlider, QLabeledDoubleSlider)):
        _name_the_lowest(control, means)
    return control


def _button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    return button


def _set_value(control: QWidget, value) -> None:
    """Show ``value`` in ``control`` without it counting as a change. A float with more
    decimals than the control shows (0.625 from a recipe on a 2-decimal slider) gets the
    decimals it needs, up to 6: the slider showed "0.62" while 0.625 was in use, and a
    spin box rounded the value itself to 0.63."""
    control.blockSignals(True)  # showing a value is not a change
    if isinstance(control, QCheckBox):
        control.setChecked(bool(value))
    else:
        if isinstance(control, QLabeledDoubleSlider | QDoubleSpinBox):
            needed = next(
                (n for n in range(7) if abs(round(float(value), n) - float(value)) < 1e-9), 6
            )
            if needed > control.decimals():
                control.setDecimals(needed)
        control.setValue(value)
    control.blockSignals(False)

"""Post-processing parameters: frozen dataclasses whose fields carry a range and a help line.

Widgets build their sliders from :func:`param_specs`; the CLI's ``--set name=value`` and the
recipe JSON go through :func:`make_params`, which validates names, types and ranges.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["ParamSpec", "param", "param_specs", "make_params", "params_to_dict"]


@dataclass(frozen=True)
class ParamSpec:
    name: str
    default: float | int | bool
    low: float | None
    high: float | None
    help: str
    kind: type
    #: axes the labels must have for this parameter to act (e.g. ``"Z"``: a filter along Z,
    #: which a 2D image has not); empty: it acts on any result
    needs: str = ""
    #: a bool parameter of the same ``Params`` this one acts only while it is on (e.g. a
    #: time-lapse's ``min_iou`` only while ``link`` is); empty: it always acts
    only_with: str = ""

    def validate(self, value: Any) -> float | int | bool:
        """Return ``value`` coerced to this parameter's type, or raise ValueError."""
        try:
            if self.kind is bool:
                if isinstance(value, str):
                    lowered = value.strip().lower()
                    if lowered not in {"true", "false", "1", "0", "yes", "no", "on", "off"}:
                        raise ValueError
                    value = lowered in {"true", "1", "yes", "on"}
                coerced: float | int | bool = bool(value)
            elif isinstance(value, bool):  # true/false is no number (a recipe's typo)
                raise ValueError
            else:
                as_float = float(value)
                if math.isnan(as_float):
                    raise ValueError(f"parameter {self.name!r}: NaN is not allowed")
                if math.isinf(as_float):  # int() would raise OverflowError
                    raise ValueError(f"parameter {self.name!r}: {value!r} is not a finite number")
                if self.kind is int and as_float != int(as_float):
                    raise ValueError
                coerced = int(as_float) if self.kind is int else as_float
        except (TypeError, ValueError) as exc:
            if str(exc).startswith("parameter "):
                raise
            raise ValueError(
                f"parameter {self.name!r}: {value!r} is not a valid {self.kind.__name__}"
            ) from None
        if self.low is not None and coerced < self.low:
            raise ValueError(
                f"parameter {self.name!r}={coerced} is below its range [{self.low}, {self.high}]"
            )
        if self.high is not None and coerced > self.high:
            raise ValueError(
                f"parameter {self.name!r}={coerced} is above its range [{self.low}, {self.high}]"
            )
        return coerced


def param(default, low=None, high=None, help: str = "", needs: str = "", only_with: str = ""):
    """A dataclass field with a range and a one-line help text; ``needs``: the axes (e.g.
    ``"Z"``) without which the parameter cannot act; ``only_with``: the bool parameter
    without which it does nothing. Widgets disable it then."""
    metadata = {"low": low, "high": high, "help": help, "needs": needs, "only_with": only_with}
    return dataclasses.field(default=default, metadata=metadata)


def param_specs(params_cls) -> list[ParamSpec]:
    """The specs of every field of a ``Params`` dataclass, in declaration order."""
    specs = []
    for field in dataclasses.fields(params_cls):
        default = field.default
        if default is dataclasses.MISSING:
            raise TypeError(f"parameter {field.name!r} of {params_cls.__name__} has no default")
        kind = type(default)
        specs.append(
            ParamSpec(
                name=field.name,
                default=default,
                low=field.metadata.get("low"),
                high=field.metadata.get("high"),
                help=field.metadata.get("help", ""),
                kind=kind,
                needs=field.metadata.get("needs", ""),
                only_with=field.metadata.get("only_with", ""),
            )
        )
    return specs


def make_params(params_cls, base=None, **values):
    """Build a validated ``params_cls`` from ``base`` (or the defaults) with ``values`` changed.

    Raises
    ------
    ValueError
        On an unknown name or a value of the wrong type or out of range; the message names
        the parameter and lists the known ones.
    """
    specs = {spec.name: spec for spec in param_specs(params_cls)}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ValueError(
            f"unknown parameter {unknown[0]!r} for {params_cls.__module__.rsplit('.', 1)[-1]}; "
            f"known: {', '.join(specs)}"
        )
    checked = {name: specs[name].validate(value) for name, value in values.items()}
    base = base if base is not None else params_cls()
    return dataclasses.replace(base, **checked)


def params_to_dict(params) -> dict[str, Any]:
    return dataclasses.asdict(params)

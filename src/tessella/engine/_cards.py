"""The model card format: ``card.json`` parsed into a :class:`ModelCard` (its fields checked
for presence and type, errors naming the file and the field), and the sha256 of a model's
weights. :mod:`tessella.engine.registry` finds, lists and loads models and re-exports these
names.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CARD", "WEIGHTS", "ModelCard", "ModelError", "read_card", "sha256_file"]

WEIGHTS = "model.safetensors"
CARD = "card.json"
_REQUIRED = ("name", "method", "architecture", "input", "normalization", "sha256")


class ModelError(ValueError):
    """A model cannot be found, read or trusted; the message names it."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _kind(value: Any) -> str:
    """How JSON calls ``value``'s type, for messages."""
    if value is None:
        return "null"
    names = {bool: "true/false", str: "text", dict: "an object", list: "a list"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "?")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


#: field (dotted for nested ones) -> (check, what it must be); optional fields may be absent
_CARD_FIELDS: dict[str, tuple[Any, str]] = {
    "name": (lambda v: isinstance(v, str), "text"),
    "method": (lambda v: isinstance(v, str), "text"),
    "sha256": (lambda v: isinstance(v, str), "text"),
    "architecture": (lambda v: isinstance(v, dict), "an object"),
    "architecture.name": (lambda v: isinstance(v, str), "text"),
    "architecture.args": (lambda v: isinstance(v, dict), "an object"),
    "input": (lambda v: isinstance(v, dict), "an object"),
    "input.axes": (lambda v: isinstance(v, str), "text"),
    "input.channels": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "normalization": (lambda v: isinstance(v, dict), "an object"),
    "normalization.low": (_is_number, "a number"),
    "normalization.high": (_is_number, "a number"),
    "method_args": (lambda v: isinstance(v, dict), "an object"),
    "defaults": (lambda v: isinstance(v, dict), "an object"),
    "defaults.params": (lambda v: isinstance(v, dict), "an object"),
    "pixel_size": (lambda v: v is None or isinstance(v, dict | list), "an object, a list or null"),
}


def _said(value: Any) -> tuple[str, ...]:
    """The lines of a recorded ``warnings`` value: its text items (a lone text: itself)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(line for line in value if isinstance(line, str) and line.strip())


def _base_name(training: dict, base: dict) -> str:
    """The base whose training record is ``base`` (kept in ``training``), quoted: the name
    its run gave its card (``config.name``, else its output folder's name), else the
    ``--base`` the fine-tune was given."""
    made = base.get("config")
    made = made if isinstance(made, dict) else {}
    typed = training.get("config")
    typed = typed.get("base") if isinstance(typed, dict) else None
    out = made.get("out")
    out = Path(out).name if isinstance(out, str) else None
    for name in (made.get("name"), out, typed):
        if isinstance(name, str) and name.strip():
            return repr(name)
    return "?"


def _check_card_types(data: dict, source: str) -> None:
    """ModelError naming ``source`` and the field for a card field of the wrong type."""
    for key, (check, wanted) in _CARD_FIELDS.items():
        parent, _, child = key.rpartition(".")
        holder = data.get(parent) if parent else data
        if isinstance(holder, dict) and child in holder and not check(holder[child]):
            raise ModelError(
                f"model card {source}: {key!r} must be {wanted}, got {holder[child]!r}"
            )


@dataclass
class ModelCard:
    """The parsed ``card.json``; ``raw`` keeps every field, including ones we do not model."""

    name: str
    method: str
    architecture: dict[str, Any]
    input: dict[str, Any]
    normalization: dict[str, Any]
    sha256: str
    method_args: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    pixel_size: dict[str, Any] | list[float] | None = None  # informative only
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def spatial_axes(self) -> str:
        return self.input.get("axes", "YX")

    @property
    def window(self) -> int:
        """Frames a time-lapse model reads per prediction (1 for every other model)."""
        return int(self.input.get("window", 1))

    @property
    def image_axes(self) -> str:
        """The axes of the images the model segments: a time-lapse model's movies are ``T``
        + its frames' axes (``TYX``); others, :attr:`spatial_axes`."""
        return "T" + self.spatial_axes if self.window > 1 else self.spatial_axes

    @property
    def channels(self) -> int:
        return int(self.input.get("channels", 1))

    @property
    def training_warnings(self) -> tuple[str, ...]:
        """What the run that trained the model warned of its data (``training.warnings``,
        which ``tessella train`` records: a 0/1 mask of one piece per image, files left out,
        a hold-out also trained on), in the order said, then :attr:`base_warnings` (a
        fine-tune's bases'); () for a card without any (the bundled models). Display only:
        an odd value (not a list of text) gives its text items, or ()."""
        training = self.raw.get("training")
        own = _said(training.get("warnings")) if isinstance(training, dict) else ()
        return tuple(dict.fromkeys(own + self.base_warnings))

    @property
    def base_warnings(self) -> tuple[str, ...]:
        """What the runs that trained a fine-tune's base (and its base's base...) warned of
        their data, each line marked whose: ``base 'A': ...``, ``base 'A', its base 'B':
        ...``; read from the base's training record the fine-tune's card keeps
        (``training.base_training``, nested for a chain), so a model tuned from one trained
        on doubtful labels says so too. Once each; () for a model trained from scratch."""
        lines: list[str] = []
        training = self.raw.get("training")
        names: list[str] = []
        while isinstance(training, dict) and isinstance(training.get("base_training"), dict):
            base = training["base_training"]
            names.append(_base_name(training, base))
            mark = "base " + ", its base ".join(names)
            lines += [f"{mark}: {line}" for line in _said(base.get("warnings"))]
            training = base
        return tuple(dict.fromkeys(lines))

    @classmethod
    def from_dict(cls, data: Any, source: str) -> ModelCard:
        """The card in ``data`` (parsed JSON); ModelError naming ``source`` for a missing
        field or one of the wrong type (valid JSON of the wrong shape, e.g. ``null``)."""
        if not isinstance(data, dict):
            raise ModelError(f"model card {source} must be a JSON object, got {_kind(data)}")
        missing = [key for key in _REQUIRED if key not in data]
        if missing:
            raise ModelError(f"model card {source} lacks {', '.join(missing)}")
        _check_card_types(data, source)
        from .tiling import PAD_MODES

        pad = data.get("defaults", {}).get("pad", "reflect")
        if pad not in PAD_MODES:
            raise ModelError(
                f"model card {source}: defaults.pad {pad!r} is not one of {', '.join(PAD_MODES)}"
            )
        invert = data["normalization"].get("invert_bright_background", False)
        if not isinstance(invert, bool):
            raise ModelError(
                f"model card {source}: normalization.invert_bright_background {invert!r} is "
                "not true or false"
            )
        return cls(
            name=data["name"],
            method=data["method"],
            architecture=data["architecture"],
            input=data["input"],
            normalization=data["normalization"],
            sha256=data["sha256"],
            method_args=data.get("method_args", {}),
            defaults=data.get("defaults", {}),
            pixel_size=data.get("pixel_size"),
            raw=data,
        )


def read_card(directory: Path) -> ModelCard:
    """Parse ``directory/card.json`` (raises ModelError naming the file)."""
    path = directory / CARD
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelError(f"{directory} is not a model directory: {CARD} is missing") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read model card {path}: {exc}") from None
    return ModelCard.from_dict(data, str(path))

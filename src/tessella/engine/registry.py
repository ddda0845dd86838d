"""Models: bundled ones inside the package and user model directories, in one format.

A model is a directory holding ``model.safetensors`` (weights; nothing is unpickled) and
``card.json`` (the model card: method, architecture and its arguments, input axes and channels,
normalisation, pixel size, defaults, training data and command, validation scores, licence,
citation and the weights' sha256). Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ModelCard",
    "LoadedModel",
    "ModelError",
    "bundled_dir",
    "model_reference",
    "recipe_model",
    "user_model_dirs",
    "list_models",
    "find_model",
    "load_model",
    "model_origin",
    "models_named",
    "name_taken_note",
    "describe_model",
    "read_card",
    "save_model",
    "sha256_file",
]

WEIGHTS = "model.safetensors"
CARD = "card.json"
_REQUIRED = ("name", "method", "architecture", "input", "normalization", "sha256")


class ModelError(ValueError):
    """A model cannot be found, read or trusted; the message names it."""


def bundled_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "bundled"


def user_model_dirs() -> list[Path]:
    """Folders searched for user models: ``$TESSELLA_MODELS`` (os.pathsep-separated), then
    ``$XDG_DATA_HOME/tessella/models`` (default ``~/.local/share/tessella/models``)."""
    dirs = [Path(p) for p in os.environ.get("TESSELLA_MODELS", "").split(os.pathsep) if p]
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    dirs.append(Path(data_home) / "tessella" / "models")
    return dirs


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


@dataclass
class LoadedModel:
    card: ModelCard
    network: Any  # torch.nn.Module on CPU, eval mode, fp32
    path: Path

    @property
    def name(self) -> str:
        return self.card.name


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


def _candidate_dirs() -> list[Path]:
    """Model folders, bundled first, each once (a folder named twice in ``$TESSELLA_MODELS``,
    or also reached through a link, is one model, not two of the same name)."""
    found: dict[Path, Path] = {}
    for root in [bundled_dir(), *user_model_dirs()]:
        if root.is_dir():
            for path in sorted(p for p in root.iterdir() if (p / CARD).is_file()):
                found.setdefault(path.resolve(), path)
    return list(found.values())


#: broken user model cards already warned about in this process (one warning each)
_WARNED: set[str] = set()


def list_models() -> list[tuple[ModelCard, Path, str]]:
    """(card, directory, origin) for every bundled and user model; origin is bundled/user.
    A folder whose card cannot be read is skipped with a warning naming it (once per
    process): one broken user model must not break every command; load_model reports it."""
    models = []
    bundled = bundled_dir()
    for directory in _candidate_dirs():
        try:
            card = read_card(directory)
        except ModelError as error:
            if str(directory) not in _WARNED:
                _WARNED.add(str(directory))
                warnings.warn(f"{error}; skipped", UserWarning, stacklevel=2)
            continue
        models.append((card, directory, "bundled" if directory.parent == bundled else "user"))
    return models


def model_origin(directory: str | os.PathLike) -> str:
    """``"bundled"`` for a model folder inside the package, else ``"user"``."""
    return "bundled" if Path(directory).resolve().parent == bundled_dir() else "user"


def models_named(name: str) -> list[tuple[ModelCard, Path, str]]:
    """The installed models (as :func:`list_models` gives them) whose card has ``name``."""
    return [entry for entry in list_models() if entry[0].name == name]


def describe_model(directory: Path, card: ModelCard) -> str:
    """One model told apart from others of its name: bundled or user, its folder, the sha256
    prefix of its weights and (a user's) the date they were written."""
    if model_origin(directory) == "bundled":
        return f"bundled {directory} (sha256 {card.sha256[:12]})"
    try:
        stamp = os.stat(directory / WEIGHTS).st_mtime
        from datetime import datetime

        when = ", " + datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")
    except OSError:
        when = ""
    return f"user {directory} (sha256 {card.sha256[:12]}{when})"


def _ambiguous(name: str, matches: list[tuple[ModelCard, Path, str]]) -> ModelError:
    listed = "; ".join(describe_model(directory, card) for card, directory, _ in matches)
    return ModelError(
        f"model name {name!r} is ambiguous: {len(matches)} models have it: {listed}; give "
        "the folder of the one to use instead of its name, or rename one (the name in its "
        "card.json)"
    )


def name_taken_note(name: str, out: str | os.PathLike | None = None) -> str | None:
    """What to tell someone about to write a model called ``name`` (into the folder ``out``,
    which does not count: a resumed or retrained model keeps its name) when other models have
    that name already; None when it is free."""
    here = Path(out).resolve() if out is not None else None
    others = [
        (card, directory)
        for card, directory, _origin in models_named(name)
        if directory.resolve() != here
    ]
    if not others:
        return None
    listed = "; ".join(describe_model(directory, card) for card, directory in others)
    return (
        f"the name {name!r} is taken already by {listed}: once this model is written, the "
        "name alone picks neither (it is refused as ambiguous; give the folder instead); "
        "choose another name to avoid that"
    )


def _holding_folders(text: str) -> str:
    """``"the folder F holds model 'N' (...); "`` for each model folder called ``text`` whose
    card has another name (a shared model is known by its card's name, not its folder's)."""
    notes = [
        f"the folder {directory} holds model {card.name!r}"
        for card, directory, _origin in list_models()
        if directory.name == text and card.name != text
    ]
    if not notes:
        return ""
    return "; ".join(notes) + " (a model is known by the name in its card.json, or by its folder); "


def find_model(name_or_path: str | os.PathLike) -> Path:
    """The directory of a model given by name (a bundled or user model's, as its card says)
    or by path (a model folder, or a bioimage.io package .zip exported by Tessella, unpacked
    into the cache).

    A folder holding a ``card.json`` is that model; a bare name (no slash) is otherwise a
    model's name even where a folder of that name exists (write ``./NAME`` for the folder).
    A name several installed models have is refused, listing each, never resolved to the
    first found (which hid the others: a user model named like a bundled one could not be
    reached by name)."""
    candidate = Path(name_or_path)
    if candidate.is_dir() and (candidate / CARD).is_file():
        return candidate
    if candidate.suffix.lower() == ".zip" and candidate.is_file():  # a bioimage.io package
        from .bioimageio import import_bioimageio

        return import_bioimageio(candidate)
    if candidate.name == CARD and candidate.is_file():
        return candidate.parent
    text = str(name_or_path)
    bare = "/" not in text and os.sep not in text
    if bare:  # a bare name: a folder of that name without a card (an output folder, say)
        matches = models_named(text)  # does not hide the model; ./NAME means the folder
        if len(matches) > 1:  # never a silent pick: the first found hid the others
            raise _ambiguous(text, matches)
        if matches:
            return matches[0][1]
    if candidate.is_dir():  # read_card says what it lacks
        return candidate
    for directory in _candidate_dirs():  # a model folder of that name whose card is broken:
        if directory.name == text:  # its own error says what is wrong with it
            read_card(directory)
    known = sorted({card.name for card, _, _ in list_models()})
    raise ModelError(
        f"unknown model {text!r}: {_holding_folders(text) if bare else ''}not a model directory "
        f"and not one of {', '.join(known) or '(no models installed)'}"
    )


def model_reference(model: LoadedModel) -> dict:
    """How a recipe names ``model``: its name and weights' sha256, and for a model outside
    the package (a user's) also its folder, so that a replay finds that very model."""
    reference = {"model": model.card.name, "model_sha256": model.card.sha256}
    if model.path.resolve().parent != bundled_dir():
        reference["model_path"] = str(model.path.resolve())
    origin = model.card.raw.get("imported_from")  # a bioimage.io package: its cache may go
    if isinstance(origin, dict) and isinstance(origin.get("package"), str):
        reference["model_package"] = str(Path(origin["package"]).resolve())
        if isinstance(origin.get("sha256"), str):
            reference["model_package_sha256"] = origin["sha256"]
    return reference


def recipe_model(recipe: dict) -> str:
    """The model a recipe names, as :func:`load_model` takes it: its recorded folder when that
    still exists, else the bioimage.io package it was imported from (imported again), else
    the installed model of its name whose weights match its sha256 (a user's fine-tune may
    share a bundled model's name), else the one model of its name (whose other weights the
    caller reports).

    Raises
    ------
    ModelError
        No installed model has the recipe's name (deleted, say), or several have it and
        none its weights; the message gives the name and the sha256 prefix recorded."""
    path = recipe.get("model_path")
    if isinstance(path, str) and Path(path).is_dir():
        return path
    package = recipe.get("model_package")  # imported from it, and its cache folder is gone
    if isinstance(package, str) and Path(package).is_file():
        return package
    name, sha = recipe.get("model"), recipe.get("model_sha256")
    named = models_named(str(name))
    for card, directory, _origin in named:
        if card.sha256 == sha:
            return str(directory)
    if len(named) == 1 or not isinstance(sha, str):
        return str(named[0][1]) if len(named) == 1 else str(name)
    made = f"the recipe's model {name!r} (sha256 {sha[:12]}…)"
    if named:
        raise ModelError(
            f"{made} is not installed: {len(named)} other models have its name ("
            + "; ".join(describe_model(directory, card) for card, directory, _ in named)
            + "); --model replays it with one of them"
        )
    where = f" (its folder {path} is gone)" if isinstance(path, str) else ""
    raise ModelError(
        f"{made} is not installed{where}: deleted, or not copied here; --model replays it "
        "with another model"
    )


_CACHE: dict[tuple[str, str], LoadedModel] = {}


def checked_card(name_or_path: str | os.PathLike, verify: bool = True) -> tuple[ModelCard, Path]:
    """(card, directory) of a model whose weights match the sha256 in its card, without
    loading them (no torch): what a process that only plans work (blockwise) needs.

    Raises
    ------
    ModelError
        Unknown model, missing files, or a hash mismatch.
    """
    directory = find_model(name_or_path)
    card = read_card(directory)
    weights = directory / WEIGHTS
    if not weights.is_file():
        raise ModelError(f"model {card.name!r}: weights file {weights} is missing")
    if verify and sha256_file(weights) != card.sha256:
        raise ModelError(
            f"model {card.name!r}: {weights} does not match the sha256 in its card "
            "(corrupt or tampered weights); refusing to load it"
        )
    return card, directory


def load_model(name_or_path: str | os.PathLike, verify: bool = True) -> LoadedModel:
    """Load a model's card and weights; checks the weights' sha256 against the card.

    Raises
    ------
    ModelError
        Unknown model, missing or unreadable files, hash mismatch (tampered or corrupt
        weights), or weights that do not fit the card's architecture.
    """
    from safetensors.torch import load_file

    from .models import build_network

    card, directory = checked_card(name_or_path, verify)
    weights = directory / WEIGHTS
    key = (str(directory.resolve()), card.sha256)
    if key in _CACHE:
        return _CACHE[key]
    arch = card.architecture
    try:
        network = build_network(arch["name"], arch.get("args", {}))
        state = load_file(str(weights))
        network.load_state_dict({k: v.float() for k, v in state.items()})
    except Exception as exc:
        raise ModelError(f"model {card.name!r}: cannot load {weights}: {exc}") from None
    network.eval()
    loaded = LoadedModel(card, network, directory)
    _CACHE[key] = loaded
    return loaded


def save_model(directory: Path, network, card: dict[str, Any], half: bool = True) -> Path:
    """Write ``model.safetensors`` (fp16 by default) and ``card.json`` (with the sha256).

    Both files are written to temporary names first and then renamed, so a failure leaves
    no half-written model.
    """
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {
        k: (v.detach().half() if half and v.is_floating_point() else v.detach()).contiguous().cpu()
        for k, v in network.state_dict().items()
    }
    tmp_weights = directory / (WEIGHTS + ".tmp")
    save_file(state, str(tmp_weights))
    card = {**card, "sha256": sha256_file(tmp_weights)}
    tmp_card = directory / (CARD + ".tmp")
    tmp_card.write_text(json.dumps(card, indent=2) + "\n")
    from .io import _default_mode

    for tmp in (tmp_weights, tmp_card):
        os.chmod(tmp, _default_mode())
    os.replace(tmp_weights, directory / WEIGHTS)
    os.replace(tmp_card, directory / CARD)
    return directory

"""Models: bundled ones inside the package and user model directories, in one format.

A model is a directory holding ``model.safetensors`` (weights; nothing is unpickled) and
``card.json`` (the model card: method, architecture and its arguments, input axes and channels,
normalisation, pixel size, defaults, training data and command, validation scores, licence,
citation and the weights' sha256). Nothing is ever downloaded. The card format
(:class:`ModelCard`, :func:`read_card`, :class:`ModelError`) lives in ``_cards``; its names are
imported from here.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._cards import CARD, WEIGHTS, ModelCard, ModelError, read_card, sha256_file

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
    "shared_names",
    "name_taken_note",
    "describe_model",
    "read_card",
    "save_model",
    "sha256_file",
]


def bundled_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "bundled"


def user_model_dirs() -> list[Path]:
    """Folders searched for user models: ``$TESSELLA_MODELS`` (os.pathsep-separated), then
    ``$XDG_DATA_HOME/tessella/models`` (default ``~/.local/share/tessella/models``)."""
    dirs = [Path(p) for p in os.environ.get("TESSELLA_MODELS", "").split(os.pathsep) if p]
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    dirs.append(Path(data_home) / "tessella" / "models")
    return dirs


@dataclass
class LoadedModel:
    card: ModelCard
    network: Any  # torch.nn.Module on CPU, eval mode, fp32
    path: Path

    @property
    def name(self) -> str:
        return self.card.name


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


#: card fields that say where a model's data, log or package were: a copy of a model may say
#: other folders and is still that model
_PATH_FIELDS = {
    "training": ("data", "val_data", "log_file"),
    "training.config": ("data", "val_data", "out", "base_path"),
    "imported_from": ("package",),
}


def _without_paths(raw: dict) -> dict:
    """A copy of the card ``raw`` without its :data:`_PATH_FIELDS`."""
    kept = copy.deepcopy(raw)
    for key, fields in _PATH_FIELDS.items():
        holder: Any = kept
        for part in key.split("."):
            holder = holder.get(part) if isinstance(holder, dict) else None
        if isinstance(holder, dict):
            for name in fields:
                holder.pop(name, None)
    return kept


def _one_model(matches: list[tuple[ModelCard, Path, str]]) -> bool:
    """Whether the folders ``matches`` are copies of one model: the same weights (sha256)
    and the same card apart from paths, which segment alike (to share a model, a user copies
    its folder)."""
    first = matches[0][0]
    return all(
        card.sha256 == first.sha256 and _without_paths(card.raw) == _without_paths(first.raw)
        for card, _directory, _origin in matches[1:]
    )


def shared_names(models: list[tuple[ModelCard, Path, str]]) -> set[str]:
    """The names several different models among ``models`` (as :func:`list_models` gives
    them) have: a name refused as ambiguous. Copies of one model (:func:`_one_model`) are one."""
    named: dict[str, list[tuple[ModelCard, Path, str]]] = {}
    for entry in models:
        named.setdefault(entry[0].name, []).append(entry)
    return {name for name, entries in named.items() if not _one_model(entries)}


def find_model(
    name_or_path: str | os.PathLike,
    *,
    excluding: str | os.PathLike | None = None,
    sha256: str | None = None,
) -> Path:
    """The directory of a model given by name (a bundled or user model's, as its card says)
    or by path (a model folder, or a bioimage.io package .zip exported by Tessella, unpacked
    into the cache).

    A folder holding a ``card.json`` is that model; a bare name (no slash) is otherwise a
    model's name even where a folder of that name exists (write ``./NAME`` for the folder).
    A name several installed models have is refused, listing each, never resolved to the
    first found (which hid the others: a user model named like a bundled one could not be
    reached by name). Copies of one model (the same weights and card, apart from paths: a
    shared model's folder copied) are that model: the first found is taken.

    A name is looked up without the model folder ``excluding`` (a training run's own, whose
    model may be named like its base), and among the models of the name, those whose weights
    have ``sha256`` are taken where there are any."""
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
        here = Path(excluding).resolve() if excluding is not None else None
        # does not hide the model; ./NAME means the folder
        matches = [entry for entry in models_named(text) if entry[1].resolve() != here]
        matches = [entry for entry in matches if entry[0].sha256 == sha256] or matches
        if len(matches) > 1 and not _one_model(matches):  # the first found hid the others
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
    share a bundled model's name), with a warning where the recipe recorded another folder
    (moved or renamed: the folder taken and the one gone are named), else the one model of
    its name (whose other weights the caller reports).

    Raises
    ------
    ModelError
        No installed model has the recipe's name (deleted, say), or several have it and
        none its weights; the message gives the name and the sha256 prefix recorded, and
        names the models of another name that have its weights (``--model`` takes one)."""
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
            if isinstance(path, str) and Path(path).resolve() != directory.resolve():
                warnings.warn(
                    f"the recipe's model {name!r} is installed as {directory} (the same "
                    f"weights, sha256 {card.sha256[:12]}…), not in the folder it records, "
                    f"{path}, which is gone: replayed with it",
                    UserWarning,
                    stacklevel=2,
                )
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
    same = [(card, directory) for card, directory, _ in list_models() if card.sha256 == sha]
    if same:  # renamed (the name in its card.json): the same weights under another name
        from .commands import shell_command

        card, directory = same[0]
        raise ModelError(
            f"{made} is not installed under its name{where}; model {card.name!r} "
            f"({directory}) has the same weights: {shell_command('--model', card.name)} "
            "replays it with that one"
        )
    raise ModelError(
        f"{made} is not installed{where}: deleted, or not copied here; --model replays it "
        "with another model"
    )


#: the model last loaded from each folder with each weights (sha256): its card as read then
#: and its network; a card rewritten since (defaults re-tuned, edited, saved by a Train run
#: over the same weights) is read again, and its network kept where the architecture is the same
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
    """Load a model's card and weights; checks the weights' sha256 against the card. The
    network is built once per folder and weights; the card is read on every call, so one
    rewritten since (defaults re-tuned, edited) is the one returned.

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
    cached = _CACHE.get(key)
    if cached is not None and cached.card.raw == card.raw:
        return cached
    if cached is not None and cached.card.architecture == card.architecture:
        loaded = LoadedModel(card, cached.network, directory)  # the card alone rewritten
        _CACHE[key] = loaded
        return loaded
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

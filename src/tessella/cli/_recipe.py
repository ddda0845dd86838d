"""A recipe read and checked (also by the napari panels' recipe files), the parameters of a
run (model, recipe, ``--set``) and the model package a recipe names."""

from __future__ import annotations

from pathlib import Path

from .._io_recipe import edited_words, read_recipe
from ._console import CliError

__all__ = [
    "_parse_sets",
    "_run_params",
    "_package_reference",
    "_recipe_package",
    "_read_recipe",
    "read_recipe",
    "edited_words",
    "say_replay",
]


def _parse_sets(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--set expects NAME=VALUE, got {pair!r}")
        values[name.strip()] = value.strip()
    return values


def _run_params(model, recipe_params: dict | None, sets: dict[str, str], recipe_path):
    """The model's default parameters, then the recipe's, then ``--set``'s, checked once all
    are in: a ``--set`` replaces a recipe's bad value before it is checked, so a hand-edited
    recipe can be fixed from the command line. A bad value left is named with where it came
    from: ``--set`` or the recipe file."""
    from ..engine.methods import get_method
    from ..engine.params import make_params
    from ..engine.pipeline import resolve_params

    try:
        make_params(get_method(model.card.method).Params, **sets)
    except ValueError as exc:
        raise CliError(f"--set: {exc}") from None
    kept = {name: v for name, v in (recipe_params or {}).items() if name not in sets}
    if not kept:
        return resolve_params(model, None, **sets)
    try:  # a hand-edited recipe's parameters: the error names the recipe
        return resolve_params(model, {**kept, **sets})
    except (ValueError, TypeError) as exc:
        raise CliError(f"{recipe_path}: {exc}") from None


def _package_reference(model_arg: str | None, recipe: dict, model) -> dict:
    """How a recipe names the bioimage.io package (.zip) a model was imported from: its
    path and sha256 (``model_path`` is then only the import's cache folder, which may go):
    the package given as ``--model``, or the one of the recipe replayed; {} for another
    model."""
    from ..engine.registry import sha256_file

    if model_arg and Path(model_arg).suffix.lower() == ".zip" and Path(model_arg).is_file():
        package = Path(model_arg).resolve()
        return {"model_package": str(package), "model_package_sha256": sha256_file(package)}
    origin = model.card.raw.get("imported_from")
    if not model_arg and recipe.get("model_package") and isinstance(origin, dict):
        return {k: recipe[k] for k in ("model_package", "model_package_sha256") if k in recipe}
    return {}


def _recipe_package(recipe: dict, recipe_path) -> str | None:
    """The bioimage.io package a recipe's model is loaded from again (it is imported anew)
    when the recipe's ``model_path`` (the import's cache folder) is gone; None when that
    folder is there or the model was no package. CliError naming the package when it is
    gone too or holds another file, or (a recipe from before packages were recorded) naming
    the lost cache folder."""
    from ..engine.registry import sha256_file

    path = recipe.get("model_path")
    if isinstance(path, str) and Path(path).is_dir():
        return None
    package = recipe.get("model_package")
    if package is None:
        folder = Path(path) if isinstance(path, str) else None
        if folder is not None and folder.parent.parts[-2:] == ("tessella", "bioimageio"):
            raise CliError(
                f"{recipe_path}: made with a model imported from a bioimage.io package into "
                f"{folder}, which is gone (the recipe does not say which package); pass "
                "--model with the package (.zip) to replay it"
            )
        return None
    if not Path(package).is_file():
        where = f" (and its import {path} is gone)" if path else ""
        raise CliError(
            f"{recipe_path}: made with the bioimage.io package {package}, which is not there "
            f"any more{where}; pass --model with the package (or another model) to replay it"
        )
    wanted = recipe.get("model_package_sha256")
    if wanted and sha256_file(Path(package)) != wanted:
        from ..engine.commands import shell_command

        raise CliError(
            f"{recipe_path}: made with the bioimage.io package {package} of sha256 "
            f"{wanted[:12]}…, but the file there now differs; pass "
            f"{shell_command('--model', package)} to replay it with that package anyway"
        )
    return str(package)


def _read_recipe(path: str) -> dict:
    """A recipe JSON, its fields checked (:func:`read_recipe`); CliError naming the file and
    the field. The recipe of labels changed after segmentation (``labels_edited``, as
    Export writes it for labels corrected by hand) is said in one line on stderr
    (:func:`edited_words`): its replay gives the labels as they were before the edits."""
    try:
        recipe = read_recipe(path)
    except OSError as exc:
        raise CliError(f"{path}: cannot read recipe ({exc})") from None
    except ValueError as exc:
        raise CliError(f"{path}: {exc}") from None
    if recipe.get("labels_edited"):
        import sys

        print(f"warning: {path}: {edited_words(recipe, path)}", file=sys.stderr)
    return recipe


def say_replay(recipe: dict, where, recorded: dict, source, outputs=(), quiet: bool = False):
    """After ``tessella segment --recipe`` wrote labels from ``source``: whether they are
    the labels the recipe ``where`` records, where the input is the one it records
    (:func:`~tessella.engine.digest.replay_verdict`): "reproduced the recorded labels" on
    stdout (not with ``quiet``), or a warning on stderr naming the recipe and what differs
    (the labels, and Tessella's version, the model's weights, the device or parameters
    recorded then and now). Nothing where they cannot be compared (another input, no digest
    recorded, labels edited after the recorded run). Returns the verdict (True, False, or
    None)."""
    import sys

    from ..engine.digest import replay_verdict

    verdict = replay_verdict(recipe, recorded, source, where, outputs)
    if verdict is None:
        return None
    same, words = verdict
    if not same:
        print(f"warning: {words}", file=sys.stderr)
    elif not quiet:
        print(words)
    return same

"""``segment --skip-existing``: outputs that a run with the same settings finished are
skipped, incomplete ones redone, and ones with other settings refuse the run."""

from __future__ import annotations

import contextlib
import sys

from ._console import CliError, _few
from ._write import _check_writable, _recipe_path, _recover_staging, _staging, _there

__all__ = ["_run_settings", "_skip_existing", "_say_skipped_existing"]


def _run_settings(model, params, tta, tile, invert, axes, stack) -> dict:
    """What of this run's settings a recipe records, as it records them (JSON): compared
    with an existing output's recipe by ``--skip-existing``. ``axes`` only where this run
    forces them (``--axes``, a recipe's); the device and the version are not compared (a
    device gives the same labels up to rounding)."""
    import json

    from ..engine.io import _json_safe
    from ..engine.params import params_to_dict

    defaults = model.card.defaults
    settings = {
        "model_sha256": model.card.sha256,
        "params": params_to_dict(params),
        "tta": bool(defaults.get("tta", False)) if tta is None else bool(tta),
        "tile": int(tile or defaults.get("tile", 1024)),
        "invert": None if invert is None else bool(invert),
        "stack": bool(stack),
    }
    if axes:
        settings["axes"] = axes.upper()
    return json.loads(json.dumps(_json_safe(settings), default=str))


def _recipe_differences(recorded: dict, settings: dict, model) -> list[str]:
    """How an existing output's recipe differs from this run's ``settings`` (see
    :func:`_run_settings`; a blockwise run adds its ``blockwise`` block size and halo, see
    :func:`_block_differences`), one phrase per setting: ``seed_thresh=0.5 (this run: 0.8)``."""

    missing = object()

    def show(value, key: str = "") -> str:
        if value is missing:
            return "not recorded"
        return "as the model says" if key == "invert" and value is None else str(value)

    differences = []
    if recorded.get("model_sha256") != settings["model_sha256"]:
        sha = recorded.get("model_sha256")
        there = f"{recorded.get('model')!r}" + (f" {str(sha)[:12]}…" if sha else "")
        differences.append(
            f"model {there} (this run: {model.card.name!r} {model.card.sha256[:12]}…)"
        )
    there_params = recorded.get("params")
    if not isinstance(there_params, dict):
        differences.append("no parameters recorded")
    else:
        here_params = settings["params"]
        for name in sorted(set(there_params) | set(here_params)):
            there, here = there_params.get(name, missing), here_params.get(name, missing)
            if there != here:
                differences.append(f"{name}={show(there)} (this run: {show(here)})")
    defaults = {"invert": None, "stack": False}  # recorded only where given
    for key, here in settings.items():
        if key == "blockwise":
            differences += _block_differences(recorded.get("blockwise"), here)
        if key in ("model_sha256", "params", "blockwise"):
            continue
        there = recorded.get(key, defaults.get(key, missing))
        if key == "axes" and isinstance(there, str):
            there = there.upper()
        if there != here:
            name = "--stack" if key == "stack" else key
            differences.append(f"{name}={show(there, key)} (this run: {show(here, key)})")
    return differences


def _block_differences(recorded, here: dict) -> list[str]:
    """How a blockwise output's block size and halo (its recipe's ``blockwise`` entry,
    ``recorded``) differ from this run's (``here``, per spatial axis): ``block=512x512 (this
    run: 2048x2048)``. Labels made in memory (no ``blockwise`` entry) have no seams to
    differ at: none."""
    if not isinstance(recorded, dict):
        return []

    def edges(value) -> str:
        if value is None:
            return "not recorded"
        return "x".join(map(str, value)) if isinstance(value, list) else str(value)

    return [
        f"{key}={edges(recorded.get(key))} (this run: {edges(here[key])})"
        for key in ("block", "halo")
        if recorded.get(key) != here[key]
    ]


def _skip_existing(jobs, settings: dict, model) -> tuple[list, list, set]:
    """``--skip-existing``: (jobs to run, sources skipped, targets to redo). An output is
    complete, and its job skipped, when its labels and its recipe (a JSON object) are both
    there and no staging folder of a killed write is beside them; the others are segmented,
    and those of them that left something (labels without a recipe, a recipe without labels,
    a killed write, put back first) are replaced (the targets to redo). A complete output
    whose recipe records other settings than this run's is refused before any work, naming
    it and each difference: keeping it would leave stale labels beside new ones."""
    import json

    from ..engine.io import is_zarr_path

    todo, skipped, redo, stale = [], [], set(), []
    for source, target in jobs:
        recipe_path = _recipe_path(target)
        _check_writable(target)
        killed = _there(_staging(target))
        _recover_staging(target)  # (says so) what it put back is not taken as complete
        labels = target.is_file() or (target.is_dir() and is_zarr_path(target))
        recorded = None
        if recipe_path.is_file():
            with contextlib.suppress(OSError, ValueError):
                recorded = json.loads(recipe_path.read_text())
        if killed or not labels or not isinstance(recorded, dict):
            todo.append((source, target))
            if killed or _there(target) or _there(recipe_path):
                redo.add(target)
            continue
        differences = _recipe_differences(recorded, settings, model)
        if differences:
            stale.append((target, differences))
        else:
            skipped.append(source)
    if stale:
        target, differences = stale[0]
        others = [t.name for t, _ in stale[1:]]
        plural = "s" if len(others) > 1 else ""
        more = f" (and {len(others)} more output{plural} so: {_few(others)})" if others else ""
        raise CliError(
            f"--skip-existing: {target} was made with other settings than this run's: "
            f"{', '.join(differences)}{more}; pass --overwrite to segment every image again "
            f"with this run's settings, or --recipe {_recipe_path(target)} to go on with its"
        )
    return todo, skipped, redo


def _say_skipped_existing(skipped: list, redo: set, total: int) -> None:
    """``--skip-existing``'s one line: how many images were skipped (named when few) and
    which incomplete outputs are redone; nothing where neither."""
    if not skipped and not redo:
        return
    line = f"skipped {len(skipped)} of {total} images whose labels and recipe are there"
    if skipped:
        line += f" ({_few([s.name for s in skipped])})"
    if redo:
        line += f"; redoing incomplete {_few(sorted(t.name for t in redo))}"
    print(line, file=sys.stderr, flush=True)

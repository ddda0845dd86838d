"""``tessella models`` (with each model's validation and held-out summary, and what its
training warned of its data) and ``tessella export-bioimageio``; ``model_dir``, the
argparse type of a model."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._console import CliError

__all__ = ["model_dir", "_cmd_models", "_cmd_export_bioimageio"]


def model_dir(name_or_path: str) -> Path:
    """argparse type for a model given by name (bundled or user) or by folder: its folder.
    The maintainer scripts in ``tools/`` take their model with it."""
    from ..engine.registry import ModelError, find_model

    try:
        return find_model(name_or_path)
    except ModelError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _cmd_models(args) -> int:
    import json

    from ..engine.registry import list_models, shared_names

    models = list_models()
    shared = shared_names(models)  # (copies of one model are one: their name picks the first)
    same = _same_weights(models)
    if args.json:
        print(
            json.dumps(
                [
                    card.raw
                    | {"path": str(path), "origin": origin}
                    | ({"name_shared": True} if card.name in shared else {})
                    | ({"same_weights_as": same[path]} if path in same else {})
                    for card, path, origin in models
                ],
                indent=2,
            )
        )
        return 0
    if not models:
        print("no models found")
        return 0
    rows = [("NAME", "METHOD", "AXES", "ORIGIN", "VALIDATION", "PATH")]
    warned = []  # (the model as the notes below name it, its training's warnings)
    for card, path, origin in models:
        scores = _validation_summary(card.raw.get("validation", {}), card.raw.get("defaults"))
        scores = scores or _holdout_summary(card.raw)
        if path in same:  # (a fine-tune that kept its base's weights: t3 finding 6)
            kept = _kept_base(card.raw)
            scores = f"= {same[path]}'s weights{kept}" + (f"; {scores}" if scores else "")
        name = f"{card.name} *" if card.name in shared else card.name
        if card.training_warnings:
            name += " !"
            warned.append((f"{card.name} ({path})" if card.name in shared else card.name, card))
        rows.append((name, card.method, card.image_axes, origin, scores or "-", str(path)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    if shared:
        print(
            f"* a name more than one model has ({', '.join(sorted(shared))}): --model with "
            "that name is refused as ambiguous; give the model's PATH, or rename one (the "
            '"name" in its card.json)'
        )
    if warned:
        said = "! the run that trained it warned of its data (training.warnings in its card.json"
        if any(card.base_warnings for _name, card in warned):  # a fine-tune's bases' lines
            said += "; \"base 'X': ...\": what the run that trained its base X warned of"
        print(said + "):")
        for name, card in warned:
            for line in card.training_warnings:
                print(f"  {name}: {line}")
    return 0


def _same_weights(models) -> dict:
    """{folder: name} of each listed model whose weights (sha256) an earlier listed model
    has (bundled ones come first): the name of that one."""
    first: dict[str, str] = {}
    same = {}
    for card, path, _origin in models:
        if card.sha256 in first:
            same[path] = first[card.sha256]
        else:
            first[card.sha256] = card.name
    return same


def _kept_base(card: dict) -> str:
    """ " (kept: no epoch beat them)" for a fine-tune that kept its base's weights (the card's
    ``training.kept_epoch`` 0), else ""."""
    training = card.get("training")
    return (
        " (kept: no epoch beat them)"
        if isinstance(training, dict) and training.get("kept_epoch") == 0
        else ""
    )


def _validation_summary(validation, defaults=None) -> str:
    """A card's validation scores on one line, of the model as it segments by default: of
    the entry (``validation`` or one inside it, such as ``with_tta``) whose ``tta`` is the
    card's ``defaults.tta``, said with or without TTA; time-lapse cards score several
    sequences. Display only: a user card's odd ``validation`` gives "" rather than stopping
    the list."""
    try:
        tta = bool(defaults.get("tta", False)) if isinstance(defaults, dict) else False
        entries = [validation] + [v for v in validation.values() if isinstance(v, dict)]
        said = [e for e in entries if isinstance(e.get("tta"), bool) and _scores_line(e)]
        chosen = next((e for e in said if e["tta"] == tta), validation)
        line = _scores_line(chosen)
        count = chosen.get("n_images", validation.get("n_images"))
        if line and isinstance(count, int) and not isinstance(count, bool):
            line = f"validation ({_counted(count, 'image')}): {line}"
        if not line or not isinstance(chosen.get("tta"), bool) and "sequences" not in chosen:
            return line
        used = {e.get("tta") for e in chosen.get("sequences", [chosen]) if isinstance(e, dict)}
        if used == {tta}:
            return f"{line} ({'with' if tta else 'without'} TTA, its default)"
        if len(used) == 1 and isinstance(next(iter(used)), bool):
            done = "with" if next(iter(used)) else "without"
            return f"{line} ({done} TTA; by default it {'uses' if tta else 'does not use'} TTA)"
        return line
    except (AttributeError, KeyError, TypeError):
        return ""


def _holdout_summary(card: dict) -> str:
    """A card without validation scores: its training hold-out's best score, as ``train``
    (the command or the Train panel) records it in ``training.best_val_*``, said to be one
    (it chose the epoch, so it flatters the model) and of how many images (its
    ``config.held_out``, or the ``val_data`` folder); a stopped run says so.

    >>> _holdout_summary({"training": {"best_val_ap50": 0.97,
    ...     "config": {"held_out": ["img13 corrected"]}}})
    'hold-out (1 image): ap50=0.97'
    """
    training = card.get("training")
    if not isinstance(training, dict):
        return ""
    best = [
        f"{key[len('best_val_') :]}={value}"
        for key, value in training.items()
        if key.startswith("best_val_") and isinstance(value, int | float)
    ]
    if not best:
        return ""
    stopped = training.get("stopped")
    note = " (stopped)" if isinstance(stopped, dict) else ""
    return f"hold-out{_holdout_size(training)}: " + ", ".join(best) + note


def _holdout_size(training: dict) -> str:
    """ " (N images)" held out (" (N parts)" where some are parts of a volume or movie,
    ``img[z=0:8]``), " (folder NAME)" for ``--val-data``; "" where the card does not say."""
    config = training.get("config")
    if not isinstance(config, dict):
        return ""
    held = config.get("held_out") or config.get("holdout")
    if isinstance(held, list) and held:
        noun = "part" if any("[" in str(h) for h in held) else "image"
        return f" ({_counted(len(held), noun)})"
    if isinstance(config.get("val_data"), str):
        return f" (folder {Path(config['val_data']).name})"
    return ""


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _scores_line(validation: dict) -> str:
    if "sequences" in validation:
        parts = []
        for entry in validation["sequences"]:
            name = Path(entry["sequence"]).parent.name.replace("ctc_", "")
            held = entry.get("held_out", {})
            if "seg" in held:
                parts.append(f"{name} SEG={held['seg']}")
            links = entry.get("all_frames", {}).get("link_accuracy")
            if links is not None:
                parts.append(f"{name} links={links}")
        return ", ".join(parts)
    return ", ".join(  # numbers only: AP per threshold, say, is in `tessella models --json`
        f"{k}={v}"
        for k, v in validation.get("scores", {}).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    )


def _cmd_export_bioimageio(args) -> int:
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise CliError(f"{out} exists; pass --overwrite to replace it")
    try:
        from ..engine.bioimageio import INVERT_NOTE, export_bioimageio, inverts
    except ImportError as exc:  # pragma: no cover - bioimageio.spec is a dependency
        raise CliError(f"bioimageio.spec is needed to export ({exc})") from None
    from ..engine.registry import checked_card

    export_bioimageio(args.model, out, test_image=args.test_image)
    print(f"wrote {out} (bioimage.io model 0.5, validated by bioimageio.spec)")
    if inverts(checked_card(args.model, verify=False)[0]):
        print(f"note: {INVERT_NOTE} The package's README and input description say so.")
    return 0

"""How the Train panel checks a request before a run starts, and words what it trains on:
a models folder it cannot write, hold-out selectors that pick no layer, counts of images,
slices or frames, two scores told apart."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ._words import counted

__all__ = [
    "as_different",
    "channels_in_words",
    "refuse_missing_layers",
    "refuse_other_data",
    "refuse_unwritable",
    "refuse_val_folder",
    "samples_in_words",
]


def refuse_missing_layers(holdout, samples, pairs) -> None:
    """Refuse hold-out selectors that pick none of the layers' samples, naming the labels
    layers (the engine, which reads files, says "hold-out files not found")."""
    from tessella.engine.train.data import refuse_wrong_axes, selects

    names = [s.name for s in samples]
    refuse_wrong_axes(list(holdout), names, "hold-out")
    missing = [n for n in holdout if not any(selects(n, name) for name in names)]
    if missing:
        layers = ", ".join(dict.fromkeys(f"'{labels.name}'" for _image, labels in pairs))
        raise ValueError(
            f"hold-out layers not found: {', '.join(sorted(missing))} (the labels layers "
            f"trained on: {layers})"
        )


def refuse_other_data(name: str, recorded: tuple[str, str], folder: str, layers: str) -> None:
    """Refuse to resume the run of model ``name`` on other data than it trained on:
    ``recorded`` is what it trained on (:func:`._train_runs.recorded_data`), ``folder`` the
    Folder given now, ``layers`` the pairs the panel would train on now, in the card's words
    ("img + gt, img2 + gt2"), compared as a set of pairs (the order they are listed in does
    not matter); a refusal names the pairs missing and those it did not train on. A run that
    does not say what it trained on is not refused."""
    kind, data = recorded
    if kind == "folder" and not folder:
        raise ValueError(
            f"'{name}' trained on the folder {data}, not on layers: give that folder in Folder "
            "to resume it"
        )
    if kind == "folder" and _resolved(folder) != _resolved(data):
        raise ValueError(
            f"'{name}' trained on the folder {data}, not on {folder}: give that folder in "
            "Folder to resume it"
        )
    if kind == "layers" and folder:
        raise ValueError(
            f"'{name}' trained on the layers {data}, not on the folder {folder}: clear Folder "
            "and list those pairs to resume it"
        )
    if kind == "layers":
        # the pairs as a set, in any order ("b + gt2, a + gt" is "a + gt, b + gt2")
        trained, listed = _pairs(data), _pairs(layers)
        if set(trained) != set(listed):
            missing = [pair for pair in trained if pair not in listed]
            other = [pair for pair in listed if pair not in trained]
            said = (f"; not listed now: {', '.join(missing)}" if missing else "") + (
                f"; not trained on: {', '.join(other)}" if other else ""
            )
            raise ValueError(
                f"'{name}' trained on the layers {data}{said}: list the pairs it trained on, "
                "and only those, to resume it"
            )


def refuse_val_folder(
    text: str, typed, where: Path | None, recorded=()
) -> tuple[Path | None, str | None]:
    """The Hold-out folder ``text``: the folder to read (in full: a relative one is napari's
    working folder's) and the run's ``val_data``, that folder in full, or, for a resumed run
    scored on it, the run's name for it (``recorded``: its card's, in full, then its
    checkpoint's, as the command was given it, maybe relative: a run stopped before its card
    was written), which the engine compares with; ``(None, None)`` where it is empty.
    Refused (ValueError, one line) where
    Hold out names a hold-out too (``typed``), the folder is not there, or it is the Folder
    trained on (``where``): its images would be scored on as they are trained on."""
    if not text:
        return None, None
    folder = Path(text).expanduser().resolve()
    if typed:
        raise ValueError(
            f"Hold out ({', '.join(typed)}) and Hold-out folder ({text}) both say what to score "
            "on: clear one of them"
        )
    if not folder.is_dir():
        raise ValueError(f"Hold-out folder {text}: no such folder")
    if where is not None and folder == where:
        raise ValueError(
            f"Hold-out folder {text}: it is the Folder trained on; its images would be scored "
            "on as they are trained on (clear Hold-out folder to hold some of them out)"
        )
    named = [r for r in recorded if isinstance(r, str) and r]
    same = any(Path(r).expanduser().resolve() == folder for r in named)
    return folder, named[0] if same else str(folder)


def _pairs(layers: str) -> list[str]:
    """The pairs of a card's (or the panel's) "img + gt, img2 + gt2", each once, in order."""
    return list(dict.fromkeys(pair.strip() for pair in layers.split(", ") if pair.strip()))


def _resolved(folder: str) -> Path:
    return Path(folder).expanduser().resolve()


def channels_in_words(samples, pairs) -> str:
    """What the status line says of images whose channels are averaged into the one channel
    a Train model reads: a Folder's colour images (by file), the image layers in colour or
    with a channel axis (by name); "" where there are none."""
    if pairs:
        from .segment import guess_layer_axes

        names = [
            f"'{image.name}'"
            for image, _labels in pairs
            if getattr(image, "rgb", False) or "C" in guess_layer_axes(image)
        ]
    else:
        names = [s.name for s in samples if getattr(s, "colour", False)]
    names = list(dict.fromkeys(names))
    if not names:
        return ""
    shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
    its = "its channels are" if len(names) == 1 else "their channels are"
    return (
        f" {counted(len(names), 'image')} in colour or with channels ({shown}): {its} "
        "averaged into the one channel the model reads."
    )


def samples_in_words(samples) -> str:
    """How many training samples, in words: frames of a movie and slices (or slabs) of a
    volume are called so; images otherwise ("1 image", "13 slices")."""
    names = [getattr(s, "name", "") for s in samples]

    def all_match(pattern: str) -> bool:
        return bool(names) and all(re.search(pattern, n) for n in names)

    if all_match(r"\[t=\d+\]$"):
        what = "frame"
    elif all_match(r"\[z=\d+\]$"):
        what = "slice"
    elif all_match(r"\[z=\d+:\d+\]$"):
        what = "slab"
    elif names and all(np.ndim(s.labels) == 3 for s in samples):
        what = "volume"
    else:
        what = "image"
    return counted(len(samples), what)


def refuse_unwritable(folder: Path) -> None:
    """Make the models folder ``folder`` if need be and check that a model can be written
    there; ValueError naming it (and ``$TESSELLA_MODELS``, which chooses it) if not, before a
    run starts rather than with an OS error once it has."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        blocking = next(
            (p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None
        )
        why = (
            exc.strerror or str(exc)
            if blocking is None
            else "it is a file, not a folder"
            if blocking == folder
            else f"{blocking} is a file, not a folder"
        )
        chosen = "$TESSELLA_MODELS" if os.environ.get("TESSELLA_MODELS") else "the default"
        raise ValueError(
            f"the models folder {folder} ({chosen}) cannot be created or written: {why}; "
            "set $TESSELLA_MODELS to a folder you can write"
        ) from None


def as_different(score: float, other: float) -> tuple[str, str]:
    """Two scores with 3 decimals, or as many more (up to 5) as it takes to tell them apart."""
    for decimals in (3, 4):
        shown = f"{score:.{decimals}f}", f"{other:.{decimals}f}"
        if shown[0] != shown[1]:
            return shown
    return f"{score:.5f}", f"{other:.5f}"

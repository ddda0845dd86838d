"""Train's run folders (log, checkpoint, a stopped run, a free name) and the generators its
workers run: training and Compare (helpers of :class:`.train.TrainWidget`)."""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._workers import report_runtime_errors

__all__ = [
    "LAYERS",
    "trained_seconds",
    "stopped_run",
    "free_name",
    "ema_decay",
    "recorded_data",
    "run_config",
]

#: how a card's ``data`` starts for a run on layers: "napari layers: img + gt, img2 + gt2"
LAYERS = "napari layers: "


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def run_config(out: Path) -> dict:
    """The settings the run in model folder ``out`` started with: its card's
    ``training.config``, else (a run stopped before its card was written) its checkpoint's;
    {} where neither can be read."""
    training = _read_json(out / "card.json").get("training", {})
    config = training.get("config", {}) if isinstance(training, dict) else {}
    if not isinstance(config, dict) or not config:
        from tessella.engine.train._checkpoint import resumed_settings

        config = resumed_settings(out) or {}
    return config if isinstance(config, dict) else {}


def recorded_data(config: dict) -> tuple[str, str]:
    """What a run's settings (:func:`run_config`) say it trained on: ``("folder", PATH)``,
    ``("layers", "img + gt, img2 + gt2")``, or ``("", "")`` where they do not say (several
    folders, nothing recorded). A card of an earlier panel recorded a folder as "napari
    layers: FOLDER": a folder there is one still."""
    data = config.get("data")
    if isinstance(data, list | tuple) and len(data) == 1:
        data = data[0]
    if not isinstance(data, str) or not data:
        return "", ""
    if not data.startswith(LAYERS):
        return "folder", data
    rest = data[len(LAYERS) :]
    if " + " not in rest and rest and _is_folder(rest):
        return "folder", rest
    return "layers", rest


def _is_folder(path: str) -> bool:
    """Whether ``path`` is a folder (False where it cannot be checked: a name too long)."""
    try:
        return Path(path).expanduser().is_dir()
    except (OSError, ValueError):
        return False


def _log_entries(out: Path) -> list[dict]:
    """The epoch entries of ``out/train.log`` (none when it cannot be read)."""
    entries = []
    try:
        lines = (out / "train.log").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "epoch" in entry:
            entries.append(entry)
    return entries


def _history(state: dict) -> list[dict]:
    """The epoch entries a checkpoint holds (those of ``train.log`` up to its epoch; none
    when it has none or they cannot be read)."""
    try:
        history = json.loads(state.get("history", "[]"))
    except (TypeError, ValueError):
        return []
    if not isinstance(history, list):
        return []
    return [e for e in history if isinstance(e, dict) and isinstance(e.get("epoch"), int)]


def trained_seconds(out: Path) -> float:
    """The seconds the stopped run in model folder ``out`` has trained, as its checkpoint
    holds them: the engine counts a resumed run's time budget from these, not from
    ``train.log`` (which may be missing or behind the checkpoint). 0 when it cannot be read
    (the engine then refuses to resume)."""
    seconds = _checkpoint(out).get("seconds", 0.0)
    return float(seconds) if isinstance(seconds, int | float) else 0.0


def _checkpoint(out: Path) -> dict:
    """The checkpoint in model folder ``out``, mapped rather than read: a few numbers are
    needed from it, not the weights and optimizer state ({} when it cannot be read: the
    engine then says why)."""
    import torch

    from tessella.engine.train.loop import CHECKPOINT

    try:
        state = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # truncated, not a checkpoint, unreadable
        return {}
    return state if isinstance(state, dict) else {}


def stopped_run(out: Path) -> str | None:
    """How the run in model folder ``out`` stopped before its last epoch ("after epoch 2 of
    5, cancelled") when it left a checkpoint to resume from; None for a finished run or a
    folder without a checkpoint. The card's ``training.stopped`` says it; a run killed outright
    (no mark) is told by its log ending before the epochs its card asked for."""
    from tessella.engine.train.loop import CHECKPOINT

    if not (out / CHECKPOINT).is_file():
        return None
    training = _read_json(out / "card.json").get("training", {})
    stopped = training.get("stopped") if isinstance(training, dict) else None
    if isinstance(stopped, dict):
        return (
            f"after epoch {stopped.get('after_epoch', '?')} of {stopped.get('of_epochs', '?')}, "
            f"{stopped.get('why', 'stopped')}"
        )
    config = training.get("config", {}) if isinstance(training, dict) else {}
    epochs = config.get("epochs") if isinstance(config, dict) else None
    done = max((int(e.get("epoch", 0)) for e in _log_entries(out)), default=0)
    if not isinstance(epochs, int):
        return None if (out / "card.json").is_file() else f"after epoch {done}"
    return f"after epoch {done} of {epochs}" if done < epochs else None


def free_name(directory: Path, name: str) -> str:
    """``name``, or ``name-2``, ``name-3``... (a trailing ``-N`` counted on) when a model
    folder of that name is in ``directory``."""
    if not (directory / name).exists():
        return name
    match = re.fullmatch(r"(.*)-(\d+)", name)
    stem, n = (match[1], int(match[2])) if match else (name, 1)
    while (directory / f"{stem}-{n + 1}").exists():
        n += 1
    return f"{stem}-{n + 1}"


@report_runtime_errors
def _train(config, samples, held) -> Generator:
    from tessella.engine.train.loop import train_steps

    return (yield from train_steps(config, samples, held))


@report_runtime_errors
def _compare(
    image, labels, axes: str, models: list[str], ignore_label=None, spacing=None, name="image"
) -> Generator:
    """Yield ``(model, labels, scores)`` for each model on ``image``; pixels of
    ``ignore_label`` in ``labels`` (not annotated) are left out of the scores. ``spacing``:
    the image layer's scale on its spatial axes (:func:`compare_spacing`), which the models
    run with, as Segment runs them in memory (a 2D boundary model's 3D agglomeration uses the
    voxel size); ``name``: the layer's, which the engine's messages name."""
    from tessella.engine.evaluation import score_pairs, unannotated_left_out
    from tessella.engine.pipeline import run_steps, segment_steps

    for model in models:
        result = run_steps(segment_steps(image, model, axes, name=name, spacing=spacing))
        truth, scored, _ = unannotated_left_out(labels, result.labels, ignore_label)
        pairs = [(truth, scored)]
        if "T" in result.axes:  # a movie is scored frame by frame (a track is no object),
            t = result.axes.index("T")  # over the frames that hold annotated objects
            pairs = [
                (np.take(truth, i, t), np.take(scored, i, t))
                for i in range(truth.shape[t])
                if np.take(truth, i, t).any()
            ] or pairs
        scores = score_pairs(pairs)
        yield model, result.labels, scores


def compare_spacing(image_layer, axes: str) -> tuple[float, ...]:
    """The spacing Compare runs its models with on ``image_layer`` read with ``axes``: the
    layer's scale on its spatial axes, as Segment's in memory (napari's 1 on each axis
    where the layer has no scale: :func:`compare_z_spacing_note` says when that matters)."""
    from ._segment_outputs import _spatial_transform

    scale, _translate, _units = _spatial_transform(image_layer, axes)
    return tuple(float(s) for a, s in zip(axes.replace("C", ""), scale) if a in "ZYX")


def compare_z_spacing_note(
    name: str, models: list[str], axes: str, spacing: tuple[float, ...]
) -> str | None:
    """What Compare says, once, before it runs ``models`` on image layer ``name`` (``axes``,
    ``spacing``: :func:`compare_spacing`) where one of them is a 2D boundary model
    (em-membranes2d or a model trained from it) and the layer is a ZYX stack without a
    scale: its 3D agglomeration takes a section as thin as a pixel is wide and joins objects
    across sections (:func:`~tessella.engine.methods.boundary.unknown_z_spacing_note`), so
    the scores say little. None otherwise. (The engine is given the scale, so it does not
    warn itself, once per model in the Python API's words, as it did.)"""
    from tessella.engine.methods.boundary import unknown_z_spacing_note
    from tessella.engine.registry import checked_card

    if any(s != 1 for s in spacing):
        return None
    for model in models:
        try:
            card, _directory = checked_card(model, verify=False)
        except Exception:  # (one that cannot be read: the worker says why)
            continue
        note = unknown_z_spacing_note(
            f"'{name}'",
            card,
            axes,
            None,
            f"set the layer's scale and units (e.g. viewer.layers['{name}'].scale = (50, 4, 4); "
            f"viewer.layers['{name}'].units = 'nm' for 50 nm sections of 4 nm pixels), then "
            "Compare again",
            missing="the layer has no Z scale",
        )
        if note is not None:
            return note
    return None


@dataclass
class _Run:
    out: Path
    base: str | None
    total_steps: int
    started: float
    ignore_label: int | None = None
    temporal: bool = False
    error: str | None = None  # why the run failed, if it did
    pairs: tuple = ()  # the (image id, labels id) pairs it trained on
    described: str = ""  # the layers (or folder) it trained on, as the card says
    resumed: bool = False  # it continues a stopped run in ``out``
    # the pairs of ``pairs`` it held out (whole: True) or held part of out (a volume's
    # slices, a movie's frames: False), with the names of their parts held out
    held: dict = field(default_factory=dict)
    # what the run warned of (its card's training.warnings): the final status says it again
    warned: list = field(default_factory=list)
    # when and at which step its first optimiser step ended: the pace is timed from there
    timed: tuple | None = None


def held_pairs(pairs, samples, held, selectors=()) -> dict:
    """Which of ``pairs`` (``(image layer, labels layer)``) a run trains on ``samples`` and
    holds ``held`` out of: ``{(image id, labels id): (whole, names held out)}`` for each pair
    with a part held out, ``whole`` when none of its parts is trained on. A part is the
    labels layer's name, with ``[z=...]`` or ``[t=...]`` after it for a slice, slab or
    frame (:func:`._train_data.layer_samples`); the names are those of the hold-out
    ``selectors`` that pick it ("vol gt[z=8:10]", not one name per slice), else the parts'.
    Nothing for one image trained and scored on."""

    def of(name: str, labels_name: str) -> bool:
        return name == labels_name or name.startswith(labels_name + "[")

    if len(held) == 1 and len(samples) == 1 and held[0] is samples[0]:
        return {}
    trained = [s.name for s in samples]
    found = {}
    for image, labels in pairs:
        names = tuple(dict.fromkeys(s.name for s in held if of(s.name, labels.name)))
        if names:
            whole = not any(of(n, labels.name) for n in trained)
            names = tuple(str(s) for s in selectors if of(str(s), labels.name)) or names
            found[(image.unique_id, labels.unique_id)] = (whole, names)
    return found


def _nothing_yet(best: float | None, base: str | None) -> str:
    """A hint when a new model's (no ``base``) best validation score is still 0."""
    if base is not None or best is None or best > 0:
        return ""
    return (
        ". It finds nothing on the hold-out yet: a new model often needs many more steps "
        "(more epochs, or a time budget) before its first objects; or start from a "
        "trained model"
    )


def ema_decay(steps: int) -> float:
    """The moving average's decay per step: it spans about a fifth of ``steps`` (10-500)."""
    return 1.0 - 1.0 / min(500.0, max(10.0, steps / 5))

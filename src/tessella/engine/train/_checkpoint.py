"""What a training run keeps between its steps and epochs (:class:`TrainingRun`, set up by
:func:`_new_run`), and its checkpoint: written after each epoch, read back by ``--resume``."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._config import TrainConfig
from ._optimisation import _ema_with_warm_up
from ._worded import Refused, option, resume_of, set_to

if TYPE_CHECKING:
    from ._starting_model import StartingModel

__all__ = [
    "CHECKPOINT",
    "NOT_RESUMED",
    "ResumeRefused",
    "TrainingRun",
    "checkpoint_losses",
    "resume_settings",
    "resumed_settings",
]

CHECKPOINT = "checkpoint.pt"

# the settings that make the network: a checkpoint continues only with the same (method and
# ndim, then these where the method uses them; None: every method)
ARCHITECTURE: dict[str, tuple[str, ...] | None] = {
    "features": None,
    "one_decoder": None,
    "window": ("temporal",),
    "patch_size": ("patches",),
    "code": ("patches",),
}


@dataclass
class TrainingRun:
    """A run's network, optimiser and record: what the checkpoint and the best model are
    written from. ``shipped`` is the network validated, kept and written (the averaged one
    with ``ema``); ``base_state`` a fine-tune's starting weights, kept until an epoch beats
    them on the hold-out; ``card_base`` the card a fine-tune's card inherits from."""

    config: TrainConfig
    out: Path
    ndim: int
    network: Any
    optimizer: Any
    averaged: Any
    shipped: Any
    base_state: dict | None
    card_base: dict | None
    base_training: dict | None
    normalization: dict
    score_key: str
    start_epoch: int = 0
    best: float = -1.0
    history: list[dict] = field(default_factory=list)
    spent: float = 0.0  # seconds trained before this run (the run it resumes)
    # (step, loss) of every optimiser step with a finite loss (with --accumulate, the mean of
    # its micro-batches), kept in the checkpoint: a resumed run's loss curve (the Train
    # panel's) goes on from the same points, not one per epoch
    step_losses: list[tuple[int, float]] = field(default_factory=list)
    kept: bool = False  # whether a best model has been written by this run
    checkpointed: int = 0  # the last epoch checkpoint.pt holds
    # the commands of every run of this model (the first, then each --resume), as the card
    # records them; and the epoch whose weights are kept (0: a fine-tune's base; None: none)
    commands: list[str] = field(default_factory=list)
    kept_epoch: int | None = None
    started: float = 0.0  # time.monotonic() when training started
    # resumed from a checkpoint older than validation predicting as Segment does (it holds no
    # settings): its best score was measured another way, so the kept weights are scored again
    rescore: bool = False
    skipped: int = 0  # consecutive optimiser steps skipped for a non-finite loss or gradient
    #: what a 3D model from a 2D base keeps of its card's defaults (StartingModel's)
    inherited_defaults: dict | None = None
    #: the warnings said of the data trained and scored on (a mask of one piece per image,
    #: files left out...): the card records them as ``training.warnings``
    data_warnings: list[str] = field(default_factory=list)
    #: the range of the training images' input statistic (Segment's check that an image looks
    #: like them): the card's ``input_statistics``; None: not recorded (too few images)
    input_statistics: dict | None = None

    @property
    def checkpoint_path(self) -> Path:
        return self.out / CHECKPOINT


def _new_run(
    config: TrainConfig, out: Path, network, start: StartingModel, score_key: str
) -> TrainingRun:
    """The run of ``network`` (on its device): its optimiser, the moving average of its
    weights (``config.ema``), a fine-tune's starting weights."""
    import torch

    assert config.lr is not None  # (filled in when the config is made)
    optimizer = torch.optim.Adam(
        network.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    # with ema, the averaged weights (batch-norm statistics included) are the ones validated,
    # kept and written; the raw weights only train
    averaged = (
        torch.optim.swa_utils.AveragedModel(
            network,
            multi_avg_fn=_ema_with_warm_up(config.ema),
            use_buffers=True,
        )
        if config.ema
        else None
    )
    # a fine-tune keeps its base's weights until an epoch beats them on the hold-out
    base_state = (
        {k: v.detach().clone() for k, v in network.state_dict().items()} if config.base else None
    )
    run = TrainingRun(
        config,
        out,
        config.ndim,
        network,
        optimizer,
        averaged,
        averaged.module if averaged is not None else network,
        base_state,
        start.card_base,
        start.base_training,
        start.normalization,
        score_key,
    )
    run.commands = [_this_command(config)]
    run.inherited_defaults = start.inherited_defaults
    return run


def _this_command(config: TrainConfig) -> str:
    """The command the card records for this run: ``config.command``, else this CLI call."""
    import shlex
    import sys

    return config.command or ("tessella " + shlex.join(sys.argv[1:]) if sys.argv else "")


def _saved_config(state: dict) -> dict | None:
    """The training settings a checkpoint (``state``) was written with; None before they were
    kept."""
    with contextlib.suppress(TypeError, ValueError, KeyError):  # (KeyError: an older one)
        saved = json.loads(state["config"])
        if isinstance(saved, dict):
            return saved
    return None


def _card_training(out: Path) -> dict:
    """The ``training`` record of the card in ``out`` ({} where there is none)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        training = json.loads((out / "card.json").read_text()).get("training")
        if isinstance(training, dict):
            return training
    return {}


def resumed_settings(out: str | os.PathLike) -> dict | None:
    """The settings (:class:`TrainConfig`'s fields, as JSON) of the run whose checkpoint is in
    ``out``: kept in the checkpoint, else (a checkpoint from before they were) in the card's
    ``training.config``; None where there is no checkpoint or neither says."""
    import torch

    out = Path(out)
    if not (out / CHECKPOINT).is_file():
        return None
    try:
        state = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=True)
    except Exception:  # unreadable: the run itself says so, in its own words
        return None
    saved = _saved_config(state) if isinstance(state, dict) else None
    if saved is None:
        saved = _card_training(out).get("config")
    if not isinstance(saved, dict):
        return None
    # a checkpoint from before it kept --val-data in full: as typed (relative to where the
    # command ran), which its card records in full; a resume from elsewhere reads that one
    was, card = saved.get("val_data"), _card_training(out).get("val_data")
    if isinstance(was, str) and was and not os.path.isabs(was) and isinstance(card, str):
        if os.path.isabs(card) and Path(card).parts[-len(Path(was).parts) :] == Path(was).parts:
            saved = {**saved, "val_data": card}
    return saved


# what a resumed run does not take from its checkpoint: where and how long this run trains
NOT_RESUMED = (
    "data",
    "out",
    "resume",
    "device",
    "workers",
    "time_budget",
    "command",
    "card_extra",
    "held_out",  # (what the run drew, said in the card)
    "base_path",  # (which model the base is: the run reads it from the checkpoint itself)
    "base_sha256",
)


def _as_config(value):
    """A setting as JSON keeps it, as :class:`TrainConfig` takes it."""
    return tuple(value) if isinstance(value, list) else value


def resume_settings(
    out: str | os.PathLike, given: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, Any, Any]]]:
    """For a run resumed in ``out`` that was told ``given`` (:class:`TrainConfig` fields):
    the settings of the run it continues (its checkpoint's, :func:`resumed_settings`) for
    every field not given but those of :data:`NOT_RESUMED`, and ``(name, the checkpoint's
    value, the given one)`` for each given field whose value differs from the checkpoint's
    (what the run changes, to be said). ``({}, [])`` where there is no checkpoint or it does
    not keep its settings."""
    from dataclasses import fields

    saved = resumed_settings(out)
    if saved is None:
        return {}, []
    names = {f.name for f in fields(TrainConfig)} - set(NOT_RESUMED) - {"method"}
    taken = {n: _as_config(v) for n, v in saved.items() if n in names and n not in given}
    changed = [
        (n, _as_config(saved[n]), value)
        for n, value in given.items()
        if n in names and n in saved and _as_config(saved[n]) != _as_config(value)
    ]
    return taken, changed


class ResumeRefused(Refused):
    """A resume refused for a setting the run's epochs were scored with: its message in the
    words of each caller, the Python API's (``str``: ``holdout``, ``max_val_images=2``, the
    keywords of :func:`tessella.train` and :class:`TrainConfig`), the command line's
    (:attr:`cli`: ``--holdout``, ``--max-val-images 2``) and the Train panel's
    (:attr:`panel`); a :class:`~._worded.Refused`, as the run's other refusals."""


def _scored_on(settings: dict, caller: str) -> str | None:
    """The hold-out a run's settings (a :class:`TrainConfig`'s fields, as JSON) scored
    on, in ``caller``'s words; None where they do not say (a checkpoint from before
    ``held_out`` was kept that drew its hold-out)."""
    if settings.get("val_data"):
        folder = settings["val_data"]
        if caller == "panel":
            return f"the separate hold-out folder {folder}"
        return f"the folder {set_to('val_data', folder, caller)}"
    names = settings.get("holdout") or settings.get("held_out")
    if not names:
        return None if "held_out" not in settings else "no hold-out"
    return "the images held out " + ", ".join(sorted(map(str, names)))


def _refused(out, words, checkpoint=None) -> ResumeRefused:
    """A :class:`ResumeRefused` of the run in ``out``: for each caller, how it names the resume
    (:func:`~._worded.resume_of`; the command line's names ``checkpoint``, where given, the
    file it could not read), then ``words(caller)``."""

    def said(caller: str) -> str:
        named = checkpoint if checkpoint is not None and caller == "cli" else out
        return f"{resume_of(named, caller)}: {words(caller)}"

    return ResumeRefused.worded(said)


def _train_anew(caller: str) -> str:
    """What a refused resume leaves ``caller`` to do instead: train anew."""
    return {
        "python": "train into another out folder",
        "cli": "train into another output folder",
        "panel": "train a new model",
    }[caller]


#: the settings of how a run scores its hold-out: another value scores other images, or the
#: same ones otherwise, so that its epochs' scores would not be comparable
SCORING = ("max_val_images", "val_orientations")


def holdout_difference(config: TrainConfig, saved: dict) -> ResumeRefused | None:
    """Where ``config`` (a resumed run's, its hold-out drawn) scores on another hold-out than
    the settings ``saved`` (its checkpoint's) did, or scores it otherwise (another
    ``max_val_images``, ``val_orientations``), the refusal that says so; else None. Its
    earlier epochs were scored, and its best model chosen, on that hold-out: scores on other
    images are not comparable with them, and images it trained on may be scored."""
    scored = [n for n in SCORING if n in saved and _as_config(saved[n]) != getattr(config, n)]
    if scored:

        def scoring(caller: str) -> str:
            fix = (
                "resume with the run's (leave "
                + " and ".join(option(n, caller) for n in scored)
                + " out to take the checkpoint's), or train into another output folder"
                if caller != "panel"  # (the panel has no control for them)
                else "resume it with them (tessella train --resume), or train a new model"
            )
            return (
                "its epochs were scored, and its best model chosen, with "
                + ", ".join(set_to(n, _as_config(saved[n]), caller) for n in scored)
                + "; this run asks for "
                + ", ".join(set_to(n, getattr(config, n), caller) for n in scored)
                + f": its scores would not be comparable with theirs; {fix}"
            )

        return _refused(config.out, scoring)
    was, now = _scored_on(saved, "cli"), _scored_on(asdict(config), "cli")
    if was is None or was == now:
        return None
    hold = ("holdout", "val_fraction", "val_data", "seed", "exclude")

    def held_out(caller: str) -> str:
        named = ", ".join(option(n, caller) for n in hold)
        out = "out folder" if caller == "python" else "output folder"
        fix = (
            f"resume with the run's hold-out settings ({named}: leave them out to take the "
            f"checkpoint's) on the data it trained on, or train into another {out}"
            if caller != "panel"
            else f"resume it on the folder or pairs it trained on with {option('holdout', caller)}"
            " left empty, or train a new model"
        )
        return (
            f"its epochs were scored, and its best model chosen, on {_scored_on(saved, caller)}"
            f"; this run would score on {_scored_on(asdict(config), caller) or 'no hold-out'}: "
            + fix
        )

    return _refused(config.out, held_out)


def architecture_differences(config: TrainConfig, saved: dict, caller: str = "cli") -> list[str]:
    """Where ``config`` asks for another network than the settings ``saved`` (a checkpoint's,
    :func:`resumed_settings`) made, one phrase each in ``caller``'s words (``cli``, ``python``,
    ``panel``): "--features 16,32 given, the checkpoint has 8,16,32" (Python's:
    "features=(16, 32) given, the checkpoint has (8, 16, 32)")."""

    def shown(name: str, value) -> str:
        if caller == "python":
            return f"{name}={tuple(value) if isinstance(value, list) else value!r}"
        if name == "one_decoder" and caller == "cli":
            return "--one-decoder" if value else "no --one-decoder"
        if isinstance(value, list | tuple):
            value = ",".join(map(str, value))
        if caller == "panel":
            return f"{name.replace('_', ' ')} {value}"
        return f"--{name.replace('_', '-')} {value}"

    def value_of(text: str) -> str:
        return text.split("=" if caller == "python" else " ", 1)[-1]

    if saved.get("method", config.method) != config.method:
        return [f"a {config.method} model asked for, the checkpoint has a {saved['method']} one"]
    differences = []
    for name in ("ndim", *ARCHITECTURE):
        methods = ARCHITECTURE.get(name)
        if name not in saved or (methods is not None and config.method not in methods):
            continue
        mine, theirs = getattr(config, name), saved[name]
        if isinstance(mine, tuple):
            mine, theirs = list(mine), list(theirs) if isinstance(theirs, list | tuple) else theirs
        if mine != theirs:
            given = shown(name, mine)
            had = shown(name, theirs)
            had = had if name == "one_decoder" and caller == "cli" else value_of(had)
            differences.append(f"{given} given, the checkpoint has {had}")
    return differences


def _resume_checkpoint(run: TrainingRun, device: str) -> None:
    """Continue ``run`` from its checkpoint: the weights, the optimiser, the averaged weights,
    the epoch, the best score, the seconds, the history and the step losses. Refused (one
    line) where the checkpoint cannot be read or was trained with another network, ``ema`` or
    ``ignore_label``."""
    import torch

    config, out, checkpoint_path = run.config, run.out, run.checkpoint_path
    run.kept = (out / "model.safetensors").exists()
    try:
        state = torch.load(checkpoint_path, map_location=device, weights_only=True)
    except Exception as exc:  # truncated, not a checkpoint, unreadable: one line, not pages
        text = str(exc).strip()
        first = text.splitlines()[0].split(". ")[0] if text else type(exc).__name__
        unread = f"cannot be read, truncated or not one ({first})"

        def unread_words(caller: str) -> str:  # (the command line's words name the file)
            where = {"python": f"its checkpoint {checkpoint_path}", "cli": "the checkpoint"}
            return f"{where.get(caller, 'its checkpoint')} {unread}; {_train_anew(caller)}"

        raise _refused(config.out, unread_words, checkpoint_path) from None
    if not isinstance(state, dict) or not {"model", "optimizer", "epoch"} <= state.keys():
        kind = "a tessella training checkpoint"
        raise _refused(
            config.out,
            lambda caller: {
                "python": f"its checkpoint {checkpoint_path} is not {kind}",
                "cli": f"not {kind}",
                "panel": f"its checkpoint is not {kind}; {_train_anew(caller)}",
            }[caller],
            checkpoint_path,
        )
    training = _card_training(out)
    saved = _saved_config(state) or training.get("config")
    if isinstance(saved, dict) and architecture_differences(config, saved):
        other = "its checkpoint holds another network than this run asks for"
        fix = {
            "python": " (leave a keyword out to take the checkpoint's)",
            "cli": " (leave an option out to take the checkpoint's)",
            "panel": "; resume it with the settings it was started with (tessella train "
            "--resume), or train a new model",
        }
        raise _refused(
            config.out,
            lambda caller: (
                f"{other}: {'; '.join(architecture_differences(config, saved, caller))}"
                + fix[caller]
            ),
        )
    if isinstance(saved, dict):
        saved = _val_folder_as_given(config, saved, training)
    refused = holdout_difference(config, saved) if isinstance(saved, dict) else None
    if refused is not None:
        raise refused
    try:
        run.network.load_state_dict(state["model"])
        run.optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as exc:
        # torch's first line ("Error(s) in loading state_dict for BranchedUNet:") says
        # nothing; the next names a layer that differs
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = (
            lines[1] if len(lines) > 1 and lines[0].endswith(":") else lines[0] if lines else ""
        )
        why = ": " + detail.rstrip(".") if detail else ""
        other = f"its checkpoint holds another network than this run's {config.method} model"

        def network_words(caller: str) -> str:
            if caller == "panel":
                return f"{other} (its model type or architecture differs{why}); train a new model"
            options = "keywords" if caller == "python" else "options"
            return (
                f"{other} (method, {option('features', caller)} or other architecture "
                f"{options} differ{why})"
            )

        raise _refused(config.out, network_words) from None
    # a checkpoint from before the decay was recorded: averaged or not is all it says
    saved_ema = state.get("ema", None if "averaged" in state else 0.0)
    if (saved_ema is None and not config.ema) or (
        saved_ema is not None and float(saved_ema) != config.ema
    ):
        unrecorded = saved_ema is None
        decay = None if saved_ema is None else float(saved_ema)
        trained = "its checkpoint was trained with"

        def ema_words(caller: str) -> str:
            if caller == "panel":
                was = "averaged weights" if decay else "no averaging"
                was = "an unrecorded averaging setting" if unrecorded else was
                return (
                    f"{trained} {was}; resume it with the same '{option('ema', caller)}' "
                    "setting, or train a new model"
                )
            given = f"an unrecorded {option('ema', caller)}" if unrecorded else None
            asks = f"this run asks for {set_to('ema', config.ema, caller)}"
            if caller == "python":
                asks += "; leave ema out to take the checkpoint's"
            return (
                f"{trained} {given or set_to('ema', decay, caller)}; resume with the same "
                f"setting ({asks})"
            )

        raise _refused(config.out, ema_words)
    saved_ignore = state.get("ignore_label")  # checkpoints before the option: none
    if saved_ignore != config.ignore_label:
        trained = "its checkpoint was trained with"

        def ignore_words(caller: str) -> str:
            word = option("ignore_label", caller)
            if caller == "panel":
                return (
                    f"{trained} {word} {saved_ignore or 0}; resume it with the same (this run "
                    f"asks for {config.ignore_label or 0}), or train a new model"
                )
            asks = (
                f"{set_to('ignore_label', config.ignore_label, caller)}; leave {word} out to "
                "take the checkpoint's"
                if caller == "python"
                else config.ignore_label
            )
            return (
                f"{trained} {set_to('ignore_label', saved_ignore, caller)}; resume with the "
                f"same setting (this run asks for {asks})"
            )

        raise _refused(config.out, ignore_words)
    if run.averaged is not None and "averaged" in state:
        run.averaged.load_state_dict(state["averaged"])
    run.start_epoch, run.best = int(state["epoch"]), float(state["best"])
    run.spent = float(state.get("seconds", 0.0))
    run.history = json.loads(state["history"])
    run.step_losses = checkpoint_losses(state, run.start_epoch * config.steps_per_epoch)
    run.commands = _saved_commands(state, training) + run.commands
    run.kept_epoch = _saved_kept_epoch(state, training, run) if run.kept else None
    run.rescore = run.kept and _saved_config(state) is None


def _val_folder_as_given(config: TrainConfig, saved: dict, training: dict) -> dict:
    """``saved`` (a checkpoint's settings) with its ``val_data`` as ``config`` names it where
    both are the same folder: the one the checkpoint keeps in full, or (a checkpoint from
    before it did: ``val``, as typed, relative to where the command ran) the one its card
    records in full; ``--val-data val`` given again, or the Train panel's Hold-out folder (in
    full, from wherever napari runs), is then the folder the run was scored on."""
    was, now = saved.get("val_data"), config.val_data
    if not (isinstance(was, str) and isinstance(now, str)) or was == now:
        return saved
    card = training.get("val_data")
    full = [n for n in (was, card) if isinstance(n, str) and os.path.isabs(n)]
    if os.path.abspath(now) in full:
        return {**saved, "val_data": now}
    return saved


def _kept_settings(config: TrainConfig) -> dict:
    """``config`` as a checkpoint keeps it: its fields but ``card_extra``, ``val_data`` in
    full (as the card records it: a resume from another working folder reads that one)."""
    kept = {k: v for k, v in asdict(config).items() if k != "card_extra"}
    val_data = kept.get("val_data")
    if isinstance(val_data, str) and val_data and os.path.exists(val_data):
        kept["val_data"] = os.path.abspath(val_data)
    return kept


def _saved_commands(state: dict, training: dict) -> list[str]:
    """The commands of the runs a checkpoint continues: kept in it, else (a checkpoint from
    before they were) the card's ``command`` and ``command_resumed``."""
    with contextlib.suppress(TypeError, ValueError, KeyError):  # (KeyError: an older one)
        commands = json.loads(state["commands"])
        if isinstance(commands, list):
            return [str(c) for c in commands]
    first = training.get("command")
    resumed = training.get("command_resumed")
    return ([str(first)] if first else []) + (
        [str(c) for c in resumed] if isinstance(resumed, list) else []
    )


def _saved_kept_epoch(state: dict, training: dict, run: TrainingRun) -> int | None:
    """The epoch whose weights the model a checkpoint continues holds: kept in it, else in the
    card, else the first epoch logged with the best score."""
    for kept in (state.get("kept_epoch"), training.get("kept_epoch")):
        if isinstance(kept, int) and not isinstance(kept, bool):
            return kept
    scored = [e for e in run.history if isinstance(e.get(run.score_key), int | float)]
    if not scored:
        return None
    best = max(e[run.score_key] for e in scored)
    return int(next(e for e in scored if e[run.score_key] == best).get("epoch", 0))


def _save_checkpoint(run: TrainingRun, epoch_done: int, elapsed: float) -> None:
    """Write ``run``'s checkpoint after epoch ``epoch_done``, ``elapsed`` seconds trained."""
    import torch

    config = run.config
    partial_checkpoint = run.checkpoint_path.with_name(f".{CHECKPOINT}.tmp")
    torch.save(  # then renamed: Ctrl-C or SIGTERM while saving keeps the last one whole
        {
            "model": run.network.state_dict(),
            "optimizer": run.optimizer.state_dict(),
            "ema": config.ema,
            "ignore_label": config.ignore_label,
            **({"averaged": run.averaged.state_dict()} if run.averaged is not None else {}),
            "epoch": epoch_done,
            "best": run.best,
            "seconds": elapsed,
            "history": json.dumps(run.history),
            # what --resume takes when not told otherwise, and what the card records
            "config": json.dumps(_kept_settings(config)),
            "commands": json.dumps(run.commands),
            **({"kept_epoch": run.kept_epoch} if run.kept_epoch is not None else {}),
            "step_losses": torch.tensor(
                [p for p in run.step_losses if p[0] <= epoch_done * config.steps_per_epoch],
                dtype=torch.float64,
            ).reshape(-1, 2),
        },
        partial_checkpoint,
    )
    os.replace(partial_checkpoint, run.checkpoint_path)
    run.checkpointed = epoch_done


def checkpoint_losses(state, last_step: int | None = None) -> list[tuple[int, float]]:
    """The ``(step, loss)`` of each optimiser step a checkpoint's run trained with a finite
    loss (with ``accumulate``, the mean over its micro-batches; steps counted from 1), up to
    ``last_step`` (all: None); none for a checkpoint from before they were kept."""
    losses = state.get("step_losses") if isinstance(state, dict) else None
    if losses is None or getattr(losses, "ndim", 0) != 2 or losses.shape[-1] != 2:
        return []
    return [
        (int(step), float(loss))
        for step, loss in losses.tolist()
        if last_step is None or step <= last_step
    ]

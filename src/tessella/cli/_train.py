"""``tessella train``, its progress, and SIGTERM taken as Ctrl-C (for every command)."""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

from ._console import CliError, _advance, _progress_bar

__all__ = ["_cmd_train", "Terminated", "_sigterm_as_interrupt"]


def _stems(text: str | None) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip()) if text else ()


def _cmd_train(args) -> int:
    from ..engine.train import TrainConfig, train_steps
    from ..engine.train._config import DEFAULT_BATCH_SIZE, default_lr

    if len(args.data) > 1 and args.method != "temporal":
        raise ValueError(f"the {args.method} method trains on one --data folder")
    extra: dict = {}
    if args.features:
        try:
            extra["features"] = tuple(int(v) for v in _stems(args.features))
        except ValueError:
            raise CliError(
                f"--features {args.features}: the channels of each level, whole numbers "
                "separated by commas (e.g. 16,32,64,128,256)"
            ) from None
    from ..engine.train.data import refuse_wrong_axes

    for option in ("holdout", "exclude"):  # the wrong axis, before any data is read
        refuse_wrong_axes(_stems(getattr(args, option)), (), f"--{option}", args.method)
    settings = dict(
        method=args.method,
        data=args.data[0] if len(args.data) == 1 else tuple(args.data),
        window=args.window,
        patch_size=args.patch_size,
        code=args.code,
        elastic=args.elastic,
        one_decoder=args.one_decoder,
        distil=args.distil,
        fg_dice=args.fg_dice,
        **extra,
        out=args.out,
        val_data=args.val_data,
        base=args.base,
        name=args.name,
        ndim=args.ndim,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        batch_size=DEFAULT_BATCH_SIZE if args.batch_size is None else args.batch_size,
        accumulate=args.accumulate,
        patch=args.patch,
        # the Train panel's: 3e-4 for a fine-tune, 1e-3 for a new model
        lr=default_lr(fine_tune=bool(args.base)) if args.lr is None else args.lr,
        ema=args.ema,
        border_crops=args.border_crops,
        colour_weight=args.colour_weight,
        ignore_label=args.ignore_label,
        invert_bright_background=args.invert_bright_background,
        workers=args.workers,
        val_fraction=args.val_fraction,
        holdout=_stems(args.holdout),
        exclude=_stems(args.exclude),
        max_val_images=args.max_val_images,
        val_orientations=args.val_orientations,
        time_budget=args.time_budget,
        data_citation=args.data_citation,
        data_license=args.data_license,
        resume=args.resume,
        device=args.device,
        seed=args.seed,
    )
    if args.resume:
        settings.update(_resumed(args, settings))
    config = TrainConfig(**settings)
    from ..engine.registry import name_taken_note

    taken = name_taken_note(config.name or Path(args.out).name, args.out)
    if taken:  # printed as "warning: ..." (main); the run goes ahead
        warnings.warn(taken, UserWarning, stacklevel=1)
    from ..engine.train._worded import Refused

    try:
        with _in_command_words():  # SIGTERM stops it as Ctrl-C (main)
            _train_with_progress(args, config, train_steps)
    except Refused as exc:  # in the command's words (--holdout, --base), not Python's
        raise CliError(exc.cli) from None
    except KeyboardInterrupt as exc:  # main says "interrupted" or "terminated", then this
        exc.kept = _kept_on_stopping(Path(args.out))  # type: ignore[attr-defined]
        raise
    from ..engine.registry import CARD, WEIGHTS

    missing = [n for n in (CARD, WEIGHTS) if not (Path(args.out) / n).is_file()]
    if missing:  # said only of a model that is there
        raise CliError(
            f"training ended without writing a model to {args.out} (no {', '.join(missing)}); "
            f"see {Path(args.out) / 'train.log'}"
        )
    kept = _base_kept(Path(args.out)) if args.base else None
    if kept is None:
        print(f"model written to {args.out}")
    else:  # as the Train panel says it
        print(
            f"model written to {args.out}: no epoch beat the base model's validation score "
            f"{kept:.3f}, so its weights are the base's ({args.base}) unchanged (more epochs "
            "or another learning rate?)"
        )
    return 0


def _resumed(args, settings: dict) -> dict:
    """The settings of the run that ``--resume`` continues (its checkpoint's, else its
    card's) for the options not given on the command line, said in one line; refused (one
    line) where a given option asks for another network than the checkpoint's."""
    from dataclasses import replace

    from ..engine.train._checkpoint import (
        NOT_RESUMED,
        _as_config,
        architecture_differences,
        resumed_settings,
    )
    from ..engine.train._config import TrainConfig

    saved = resumed_settings(args.out)
    if saved is None:  # no checkpoint (the run says so) or one from before settings were kept
        return {}
    given = set(getattr(args, "given_options", ())) | {"method"}
    asked = TrainConfig(**settings)  # this command's settings, defaults filled in
    taken = {
        name: _as_config(value)
        for name, value in saved.items()
        if hasattr(asked, name) and name not in given and name not in NOT_RESUMED
    }
    differences = architecture_differences(replace(asked, **taken), saved)
    if differences:
        raise CliError(
            f"--resume {args.out}: its checkpoint holds another network than this run asks "
            f"for: {'; '.join(differences)} (leave an option out to take the checkpoint's)"
        )
    from ..engine.train.methods import get_training

    # None: the run decides (the method's elastic default; a new model's images not inverted)
    decided = {"elastic": get_training(args.method).elastic, "invert_bright_background": False}
    changed = [
        _as_option(n, v)
        for n, v in taken.items()
        if v != getattr(asked, n) and not (getattr(asked, n) is None and decided.get(n, ...) == v)
    ]
    if changed and not args.quiet:
        print(f"--resume {args.out}: the run's settings from its checkpoint: {' '.join(changed)}")
    # the options given that change what the run was started with (more --epochs...)
    told = [
        f"{_as_option(n, _as_config(saved[n]))} -> {_as_option(n, settings[n]).split(' ', 1)[-1]}"
        for n in sorted(given)
        if n in saved
        and n in settings
        and n not in NOT_RESUMED
        and n != "method"
        and _as_config(saved[n]) != _as_config(settings[n])
    ]
    if told and not args.quiet:
        print(
            f"--resume {args.out}: this run changes the settings it was started with: "
            + ", ".join(told)
        )
    return taken


def _as_option(name: str, value) -> str:
    """A setting as the command line gives it: ``--features 8,16,32``, ``--no-elastic``."""
    from ..engine.commands import shell_command

    option = f"--{name.replace('_', '-')}"
    if isinstance(value, bool):
        return option if value else f"--no-{option[2:]}"
    if value is None:
        return f"{option} (none)"
    if isinstance(value, tuple):
        value = ",".join(map(str, value))
    return shell_command(option, value)


def _kept_on_stopping(out: Path) -> str:
    """What a stopped run left in ``out`` and how to go on, for the line that says it stopped."""
    import json

    from ..engine.registry import WEIGHTS
    from ..engine.train._checkpoint import CHECKPOINT

    model, checkpoint = (out / WEIGHTS).is_file(), (out / CHECKPOINT).is_file()
    if not model and not checkpoint:
        return f"; nothing was kept in {out}"
    stopped: dict = {}
    with contextlib.suppress(OSError, ValueError, AttributeError):
        stopped = json.loads((out / "card.json").read_text())["training"]["stopped"]
    when = (
        f" after epoch {stopped['after_epoch']} of {stopped['of_epochs']}"
        if isinstance(stopped, dict) and {"after_epoch", "of_epochs"} <= stopped.keys()
        else ""
    )
    kept = (
        f"the best model so far and {CHECKPOINT} are kept"
        if model and checkpoint
        else f"{CHECKPOINT} is kept"
        if checkpoint
        else "the best model so far is kept"
    )
    go_on = ": rerun with --resume to continue" if checkpoint else ""
    return f"{when}; {kept} in {out}{go_on}"


def _base_kept(out: Path) -> float | None:
    """The base's validation score when a fine-tune into ``out`` kept the base's weights (no
    epoch beat it, as its ``train.log`` says), else None."""
    import json

    entries = []
    try:
        lines = (out / "train.log").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict):
                entries.append(entry)
    bases = [e for e in entries if e.get("epoch") == 0 and "base" in e]
    if not bases:
        return None
    keys = [k for k, v in bases[-1].items() if k not in ("epoch", "base")]
    if len(keys) != 1 or not isinstance(bases[-1][keys[0]], int | float):
        return None
    key, base = keys[0], bases[-1][keys[0]]
    scores = [
        e[key] for e in entries if e.get("epoch", 0) >= 1 and isinstance(e.get(key), int | float)
    ]
    if not scores or max(scores) > base:
        return None
    return float(base)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread as Ctrl-C raises KeyboardInterrupt; a stopped
    training run's card says ``why`` it stopped."""

    why = "terminated"


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (``kill``, ``timeout``, a batch system's time limit) raises :class:`Terminated`
    in the main thread, so that a command stops as on Ctrl-C: ``segment`` leaves no partial
    output and puts back what ``--overwrite`` was replacing, ``--blockwise`` shuts its
    workers down and keeps its finished blocks, a fine-tune writes the best model so far. A
    further SIGTERM meanwhile is ignored. The previous handler is restored after. A SIGTERM
    ignored before (inherited SIG_IGN) stays ignored; off the main thread (where Python
    cannot set handlers) nothing changes."""
    import signal
    import threading

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    ):
        yield
        return

    def terminated(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the run is stopping already
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _epoch_bar(total: int, epoch: int, quiet: bool, done: int):
    """The bar of epoch ``epoch``: ``done`` of its ``total`` steps done before it started,
    shown without a rate until it has timed a step."""
    return _progress_bar(total, f"epoch {epoch}", quiet, "step", done)


@contextlib.contextmanager
def _in_command_words():
    """The run's warnings worded for each front end (``--resume: ...``, not Python's
    ``resume=True: ...``) are shown in the command's words while it runs."""
    import warnings

    from ..engine.train._worded import in_words

    shown = warnings.showwarning

    def show(message, category, *args, **kwargs) -> None:
        shown(in_words(message, "cli"), category, *args, **kwargs)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = shown


def _train_with_progress(args, config, train_steps) -> None:
    """One bar per epoch counting its optimiser steps (``--steps-per-epoch`` of them; with
    ``--accumulate N``, N micro-batches make one), with the loss of the last step (the mean of
    its micro-batches, as the checkpoint keeps it). A bar appears at the epoch's first step,
    which it counts as done before it started: the rate (steps per second) counts only the
    steps it timed, never those of an earlier epoch or of the run a ``--resume`` continues,
    and is shown from the bar's first timed step on (before it, none: not "?step/s")."""
    import inspect

    steps = train_steps(config)
    on_screen: list = []  # the bar shown, if any
    try:
        _follow(args, config, steps, on_screen)
    except KeyboardInterrupt as exc:
        if inspect.getgeneratorstate(steps) == inspect.GEN_SUSPENDED:
            # stopped here, not in the run: the run keeps what it has and records why
            with contextlib.suppress(KeyboardInterrupt, StopIteration):
                steps.throw(exc)
        raise
    finally:
        for bar in on_screen:  # cleared: the line saying the run stopped starts a line
            bar.close()


def _follow(args, config, steps, on_screen: list) -> None:
    """Show ``steps`` (the run's progress) as :func:`_train_with_progress` says, the bar
    shown in ``on_screen``."""
    from ..engine.train._worded import in_words

    bar = None
    epoch, counted = None, 0  # the epoch the bar counts, and the steps it has counted
    step_losses: list[float] = []  # the losses of the micro-batches of the step under way
    for progress in steps:
        if progress.message:
            if bar is not None:
                bar.close()
                bar = None
                on_screen.clear()
            if not args.quiet:
                print(in_words(progress.message, "cli"), flush=True)  # (--resume...)
            continue
        if progress.epoch != epoch:
            if bar is not None:
                bar.close()
                bar = None
                on_screen.clear()
            epoch, step_losses = progress.epoch, []
        # the engine reports each micro-batch with the optimiser steps done so far
        done = progress.step - (progress.epoch - 1) * config.steps_per_epoch
        step_losses.append(progress.loss)
        if bar is None:
            if done < 1:  # the first step is under way: nothing to count or time yet
                continue
            bar = _epoch_bar(config.steps_per_epoch, progress.epoch, args.quiet, done)
            on_screen[:] = [bar]
        elif done > counted:
            _advance(bar, done)  # a step timed: tqdm's own format, with its rate
        else:  # a micro-batch of a step under way
            continue
        counted = done
        bar.set_postfix(loss=f"{sum(step_losses) / len(step_losses):.3f}")
        step_losses = []

"""The training loop shared by the CLI (``tessella train``) and, later, the Train widget.

``train_steps`` is a generator yielding :class:`TrainProgress`; closing it (cancel), or
throwing :class:`TrainingStopped` into it with a reason, keeps the best model saved so far. A
checkpoint (model, optimiser, step, best score, the loss of every step) is written after each
epoch so ``--resume`` continues an interrupted run.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import time
import warnings
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..memory import retain_freed_memory
from ..methods import get_method
from ..progress import run_steps
from ..registry import WEIGHTS, save_model
from ..registry import load_model as load_model  # importable here as before
from ._binary_labels import _refuse_binary_masks
from ._checkpoint import (
    CHECKPOINT,
    TrainingRun,
    _new_run,
    _resume_checkpoint,
    _save_checkpoint,
    checkpoint_losses,
)
from ._config import TrainConfig, TrainingStopped, TrainProgress, _one_folder, _temporal, _where
from ._epoch import MAX_SKIPPED_STEPS as MAX_SKIPPED_STEPS  # importable here as before
from ._epoch import _epoch_steps, _non_finite
from ._folders import painted_samples_note
from ._intensity_labels import _refuse_intensity_labels
from ._model_card import _architecture as _architecture  # importable here as before
from ._model_card import _card, _mark_stopped, _record_run, training_normalization
from ._optimisation import _distillation as _distillation  # importable here as before
from ._optimisation import _ema_with_warm_up as _ema_with_warm_up  # importable here as before
from ._optimisation import _fitting_crops
from ._options import _check_options, _check_patch_fits
from ._scored_on_training import _scored_on_given_samples, _scored_on_training_data
from ._selectors import HeldOutEverything, _last_slab
from ._starting_model import _starting_model
from ._validation import (
    _refuse_nothing_to_learn_or_score,
    _refuse_undefined,
    _validate,
    _validation_card,
)
from ._worded import Refused, WordedText, WordedWarning, caller_of, in_words, option
from .data import (
    CropDataset,
    apply_ignore_label,
    load_folder_pairs,
    orientations,
    split_holdout,
)
from .methods import get_training
from .overlapping import SHARED_GAP as SHARED_GAP  # importable here as before
from .overlapping import load_overlapping_pairs
from .timelapse import load_timelapse_samples

__all__ = [
    "TrainConfig",
    "TrainProgress",
    "TrainingStopped",
    "checkpoint_losses",
    "train_steps",
    "train",
    "training_normalization",
]


def train_steps(
    config: TrainConfig, samples: list | None = None, val_samples: list | None = None
) -> Generator[TrainProgress, None, Path]:
    """Train as ``config`` says, yielding progress per step and per epoch; returns ``out``.

    ``samples`` (and ``val_samples``), lists of :class:`~.data.Sample`, replace the folders
    of ``config.data`` (``config.val_data``): the napari Train widget passes layers this way,
    normalised as :func:`training_normalization` says for ``config``.
    Closing the generator (cancel) keeps the best model written so far. A fine-tune (``base``)
    first scores its base on the hold-out (epoch 0) and writes an epoch only where it beats
    that; when none does, the base's weights are written at the end.
    """
    with retain_freed_memory():  # no page faults for each step's activations
        return (yield from _train_steps(config, samples, val_samples))


def _train_steps(
    config: TrainConfig, samples: list | None, val_samples: list | None
) -> Generator[TrainProgress, None, Path]:
    import torch

    from ..device import execution_plan

    _check_options(config, data_given=samples is not None)
    training = get_training(config.method)
    if config.elastic is None:  # the card records what was used
        config = replace(config, elastic=training.elastic)
    method = get_method(config.method)
    torch.manual_seed(config.seed)
    plan = execution_plan(config.device)
    device = plan.device
    out = Path(config.out)  # made once the data and the network are ready: a run that
    # cannot start leaves nothing behind
    ndim = config.ndim
    temporal = _temporal(config)
    if temporal and ndim != 2:
        raise ValueError(f"the {config.method} method trains 2D (+ time) models; use ndim 2")
    start = _starting_model(config, method, training, temporal)
    config, teacher = start.config, start.teacher
    _check_patch_fits(config, start.network)  # before the data is read or a base scored
    if start.note:  # (a refusal above says only what stops the run)
        warnings.warn(start.note, stacklevel=2)
    data_warnings: list[str] = []  # what is said of the data: the card records it
    samples, val_samples, scored_on_training = _training_samples(
        config, samples, val_samples, training, start.normalization, temporal, data_warnings
    )
    if not config.holdout and not config.val_data:  # drawn (--val-fraction): the card says
        names = (re.sub(r"\[o=[0-9]+\]$", "", sample.name) for sample in val_samples)
        config = replace(config, held_out=tuple(dict.fromkeys(names)))
    if start.merged_from is not None:  # the seed output starts from a fit to the base's, on crops
        from ..models.unet import fit_merged_head

        fit_merged_head(
            start.merged_from, start.network, _fitting_crops(samples, start.network.multiple)
        )
    network = start.network.to(device).train()
    if teacher is not None:
        teacher = teacher.to(device)
    run = _new_run(config, out, network, start, f"val_{training.score_name}")
    # what was said of the data, for the card to record (a shared model then says it too)
    if scored_on_training:  # in the words of the run's caller (its command's)
        data_warnings.append(in_words(scored_on_training, caller_of(config.command)))
    run.data_warnings = data_warnings
    run.input_statistics = _input_statistics(samples)
    if config.resume and run.checkpoint_path.exists():
        _resume_checkpoint(run, device)

    def autocast():
        return torch.autocast(
            device.split(":")[0], dtype=torch.bfloat16, enabled=plan.autocast_dtype is not None
        )

    assert config.elastic is not None  # the method's default was filled in above
    dataset = CropDataset(
        samples,
        (config.patch,) * ndim,
        config.steps_per_epoch * config.batch_size * config.accumulate,
        config.seed,
        training.configure(config) if training.configure else training.targets,
        relabel=not training.overlapping,
        elastic=config.elastic,
        border=config.border_crops,
        border_mode=start.val_pad,  # crops past an edge are padded as inference will pad them
        colour_weight=config.colour_weight,
    )

    val_card = _validation_card(run)  # scored as Segment predicts with the card written

    def validate(network=None) -> float:
        return _validate(
            run.shipped if network is None else network,
            val_samples,
            val_card,
            start.val_params,
            training,
            device,
            sparse=config.ignore_label is not None,
        )

    if scored_on_training:  # said once: the run starts, and what its scores will mean
        warnings.warn(scored_on_training, stacklevel=2)
    run.started = time.monotonic()
    made_here = out  # the topmost folder this run makes: removed if it ends with nothing
    while not made_here.parent.exists():
        made_here = made_here.parent
    fresh = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # said as the other refusals of the output folder are
        raise ValueError(f"output folder {out}: cannot be made ({exc.strerror or exc})") from None
    log = open(out / "train.log", "a" if config.resume else "w")
    run.checkpointed = run.start_epoch  # the last epoch checkpoint.pt holds
    stopped: str | None = "stopped"  # why the run ended before its last epoch; None: it did not
    try:
        if config.base and run.start_epoch == 0 and not run.history:
            yield _score_base(run, validate(), log)
        if run.rescore:  # the best of an older checkpoint, measured another way
            yield _rescore_kept(run, validate(_kept_network(run)), log)
        for epoch in range(run.start_epoch, config.epochs):
            losses = yield from _epoch_steps(
                run, dataset, epoch, training, method, teacher, device, autocast
            )
            if not all(bool(torch.isfinite(v).all()) for v in run.shipped.state_dict().values()):
                raise ValueError(_non_finite(run, "the weights", epoch, len(losses)))
            if (yield from _end_of_epoch(run, epoch, losses, validate(), log)):
                stopped = "time budget reached"
                break
        else:
            stopped = None
        if run.base_state is not None and not run.kept:  # no epoch beat the base: the base it is
            run.shipped.load_state_dict(run.base_state)
            _keep_best(run, run.best, 0)
    except BaseException as exc:
        stopped = _stop_reason(exc)
        _keep_on_stopping(run, exc)
        raise
    finally:
        log.close()
        with contextlib.suppress(OSError):  # a checkpoint cut short by Ctrl-C or SIGTERM
            (out / f".{CHECKPOINT}.tmp").unlink()
        _mark_stopped(out, stopped, run.history, config.epochs)
        if fresh and not run.kept and not run.checkpoint_path.exists():
            # stopped (Ctrl-C, cancel, an error) before a model or a checkpoint: no trace
            shutil.rmtree(made_here, ignore_errors=True)
    return out


def _training_samples(
    config: TrainConfig,
    samples: list | None,
    val_samples: list | None,
    training,
    normalization: dict,
    temporal: bool,
    said: list[str] | None = None,
) -> tuple[list, list, str | WordedWarning | None]:
    """The samples to train on and to score on: ``samples`` and ``val_samples`` as given,
    else read from ``config.data`` and ``config.val_data`` (else held out of the data),
    marked where ``config.ignore_label`` is, the hold-out capped at ``config.max_val_images``
    (then in 8 orientations with ``config.val_orientations``). Refused (one line) where
    either has nothing to learn or to score. Third: the warning where folders read make the
    hold-out images trained on (see :func:`._scored_on_training._scored_on_training_data`:
    a folder's in each caller's words), else None. The warnings said of the data while
    reading and checking it (the folders' lines, a mask of one piece per image) are added to
    ``said``, for the card to record."""
    spatial = "ZYX" if config.ndim == 3 else "YX"
    # the lines the loaders have said: a folder given as --data and --val-data is described once
    warned: set[str] = set()

    def load(data, exclude=()):
        if temporal:
            return load_timelapse_samples(
                data,
                config.window,
                "centre",
                1,
                normalization,
                exclude,
                config.ignore_label,
                warned,
            )
        if training.overlapping:
            return load_overlapping_pairs(
                _one_folder(config, data), normalization, exclude, config.ignore_label, warned
            )
        return load_folder_pairs(
            _one_folder(config, data),
            spatial,
            1,
            normalization,
            exclude,
            config.holdout,
            config.ignore_label,
            warned,
        )

    data_where = _where(config.data) if samples is None else "the training data given"
    val_where = data_where
    from_folders = samples is None and val_samples is None  # (the Train panel says its own)
    samples_read = samples is None
    if samples is None:
        samples = load(config.data, config.exclude)
        one_volume = config.ndim == 3 and not (temporal or training.overlapping)
        drawn = not (config.holdout or config.val_data or val_samples is not None)
        slab = _last_slab(samples, config.val_fraction) if one_volume and drawn else ""
        if slab:  # --val-fraction of one volume: read again, cut as --holdout cuts that slab
            config = replace(config, holdout=(slab,))
            samples = load(config.data, config.exclude)
    if val_samples is None and config.val_data:
        val_samples = load(config.val_data)
        val_where = _where(config.val_data)
    elif val_samples is not None:
        val_where = "the hold-out data given"
    elif val_samples is None:
        try:
            samples, val_samples = split_holdout(
                samples, config.val_fraction, config.seed, config.holdout
            )
        except HeldOutEverything as exc:  # a folder's: it can be scored on another
            everything = str(exc)
            raise Refused.worded(
                lambda caller: (
                    f"{everything}, or give a separate hold-out folder "
                    f"({option('val_data', caller)})"
                )
            ) from None
    if config.ignore_label is not None:  # marks anywhere, training images or hold-out
        marked = apply_ignore_label(
            samples + val_samples, config.ignore_label, training.overlapping
        )
        samples, val_samples = marked[: len(samples)], marked[len(samples) :]
    if not samples or not val_samples:
        raise ValueError("training needs at least one image with labels")
    said = [] if said is None else said
    caller = caller_of(config.command)  # the card records the lines in the run's caller's words
    said += [in_words(m, caller) for m in sorted(warned)]  # the folders' (sorted: a set)
    if not samples_read and config.ignore_label is None and not training.overlapping:
        # a folder's loader says it of its masks; samples given (the Train panel's labels
        # layers) are looked at here: half a layer painted one label, no ignore label?
        painted = painted_samples_note(samples + val_samples)
        if painted:
            warnings.warn(WordedWarning.worded(lambda c: in_words(painted, c)), stacklevel=4)
            said.append(in_words(painted, caller))  # (stacklevel: here, _train_steps, its caller)
    where = data_where if val_where == data_where else f"{data_where} and {val_where}"
    where = where if samples_read else ""  # samples given (the panel's layers): named as they are
    if training.objects:  # a binary mask would be learnt as one object per image
        one_piece = _refuse_binary_masks(samples + val_samples, config.method, where)
        said += [one_piece] if one_piece else []
    else:  # a foreground mask is no intensity image either (the instance methods' check)
        _refuse_intensity_labels(samples + val_samples, where, objects=False)
    val_samples = val_samples[: config.max_val_images]
    _refuse_nothing_to_learn_or_score(samples, val_samples, training, data_where, val_where)
    # scored on what it trains on: the scores tell little (a folder's: in each caller's words)
    scored_on_training: str | WordedWarning | None = None
    if from_folders:
        scored_on_training = _scored_on_training_data(
            samples, val_samples, config.data, config.val_data, f"val_{training.score_name}"
        )
    elif not config.val_data:  # given (the Train panel's layers): one image, say
        scored_on_training = _scored_on_given_samples(
            samples, val_samples, f"val_{training.score_name}"
        )
    if config.val_orientations:  # after the cap: it counts images, not orientations
        val_samples = orientations(val_samples)
    return samples, val_samples, scored_on_training


def _budget_reached() -> WordedText:
    """The message of a run stopped by its time budget, in each caller's words: how to
    continue it (``resume=True``, ``--resume``, the Train panel's Resume)."""
    return WordedText(
        "time budget reached; continue it with resume=True",
        "time budget reached; resume with --resume",
        "time budget reached; Resume continues it",
    )


def _kept_network(run: TrainingRun):
    """A copy of ``run``'s network holding the weights of the model it has kept on disk."""
    import copy

    from safetensors.torch import load_file

    kept = copy.deepcopy(run.shipped)
    kept.load_state_dict(load_file(str(run.out / WEIGHTS)))
    return kept


def _rescore_kept(run: TrainingRun, best: float, log) -> TrainProgress:
    """The kept model of a run resumed from an older checkpoint, scored ``best`` as
    validation now scores (as Segment predicts): the best that later epochs must beat."""
    was, run.best = run.best, best
    line = {
        "epoch": run.start_epoch,
        f"kept_{run.score_key}": round(best, 4),
        "was": round(was, 4),
        "why": "the kept model scored again: its checkpoint predates validation as Segment "
        "predicts",
    }
    print(json.dumps(line), file=log, flush=True)
    step = run.start_epoch * run.config.steps_per_epoch
    return TrainProgress(
        run.start_epoch, run.config.epochs, step, 0.0, best, best, json.dumps(line)
    )


def _score_base(run: TrainingRun, best: float, log) -> TrainProgress:
    """Epoch 0 of a fine-tune: its base scored ``best`` on the hold-out."""
    # epoch 0 is the base itself: an epoch is kept only where it beats the base on
    # the hold-out, so a fine-tune never ends worse than where it started
    run.best = best
    _refuse_undefined(best, run.score_key, "the base model")
    start = {"epoch": 0, run.score_key: round(best, 4), "base": str(run.config.base)}
    run.history.append(start)
    print(json.dumps(start), file=log, flush=True)
    return TrainProgress(0, run.config.epochs, 0, 0.0, best, best, json.dumps(start))


def _end_of_epoch(
    run: TrainingRun, epoch: int, losses: list[float], score: float, log
) -> Generator[TrainProgress, None, bool]:
    """Log epoch ``epoch`` (from 0), scored ``score`` on the hold-out, keep it where it is the
    best, write the checkpoint and yield the epoch's line; returns whether the time budget is
    spent."""
    config = run.config
    elapsed = run.spent + time.monotonic() - run.started
    entry = {
        "epoch": epoch + 1,
        "loss": round(float(np.mean(losses)), 5) if losses else None,
        # JSON has no NaN: an undefined score (refused below) is logged as null
        run.score_key: round(score, 4) if np.isfinite(score) else None,
        "seconds": round(elapsed),
        "lr": run.optimizer.param_groups[0]["lr"],
    }
    run.history.append(entry)
    print(json.dumps(entry), file=log, flush=True)
    _refuse_undefined(score, run.score_key, f"epoch {epoch + 1}")
    if score > run.best:
        run.best = score
        _keep_best(run, run.best, epoch + 1)
    _save_checkpoint(run, epoch + 1, elapsed)
    if run.kept:  # the card says how far the run went, though its weights are older
        _record_run(run.out, config, run.history, run.commands, run.kept_epoch, run.data_warnings)
    out_of_time = bool(config.time_budget and elapsed > config.time_budget)
    messages = [json.dumps(entry)]
    if out_of_time:
        messages.append(_budget_reached())
    for message in messages:
        yield TrainProgress(
            epoch + 1,
            config.epochs,
            (epoch + 1) * config.steps_per_epoch,
            entry["loss"],
            score,
            run.best,
            message,
        )
    return out_of_time


def _keep_best(run: TrainingRun, score: float, epoch: int) -> None:
    """Write ``run``'s shipped network as the best model, ``score`` on the hold-out, the
    weights of epoch ``epoch`` (0: a fine-tune's base)."""
    config, card_base = run.config, run.card_base
    run.kept, run.kept_epoch = True, epoch
    card = _card(config, run.ndim, 1, run.history, run.commands, epoch, run.data_warnings)
    if card_base:
        # the base's scores are not this model's: `tools/score_model.py --record` or the
        # user's own evaluation fills them in
        inherited = {
            k: v for k, v in card_base.items() if k not in ("validation", "input_statistics")
        }
        card = {**inherited, **{k: card[k] for k in ("name", "training")}}
        # this model's own description: what it was fine-tuned from and on (the base's
        # text follows, as it says what kind of images the model takes)
        card["description"] = (
            f"{config.method} model fine-tuned with tessella from "
            f"{card_base.get('name', config.base)} on {_where(config.data)}."
            + (
                f" The base model: {card_base['description']}"
                if card_base.get("description")
                else ""
            )
        )
        tuning = card.get("defaults", {}).get("params_tuning")
        if tuning and "from_base" not in tuning:  # the parameters start as the base's
            card["defaults"] = {
                **card["defaults"],
                "params_tuning": {"from_base": str(config.base), **tuning},
            }
    elif run.inherited_defaults:  # a 3D model from a 2D base: the parameters it is scored with
        card["defaults"] = {**card["defaults"], **run.inherited_defaults}
    card["normalization"] = run.normalization  # what training used (a 3D model from 2D too)
    if run.input_statistics is not None:  # (a base's range is not this model's: not inherited)
        card["input_statistics"] = run.input_statistics
    card["training"][f"best_{run.score_key}"] = round(score, 4)
    if run.base_training is not None:  # the lineage: how the base itself was trained
        card["training"]["base_training"] = run.base_training
    save_model(run.out, run.shipped, card)


#: fewer training images than this record no range of the input statistic: the variation
#: between a few images says too little of the kind of images the model is meant for
INPUT_STATISTICS_MIN_IMAGES = 10


def _input_statistics(samples: list) -> dict | None:
    """The card's ``input_statistics`` for a model trained on ``samples`` (their images are
    normalised as the card says, as Segment's network input is): the range of
    :func:`~tessella.engine.pipeline._input_check.input_quantiles` over them; None for fewer
    than :data:`INPUT_STATISTICS_MIN_IMAGES` images that are not constant."""
    from ..pipeline._input_check import input_quantiles, input_range

    values = [q for q in (input_quantiles(sample.image) for sample in samples) if q is not None]
    if len(values) < INPUT_STATISTICS_MIN_IMAGES:
        return None
    return input_range(values, "tessella train: over the normalised training images")


def _stop_reason(exc: BaseException) -> str:
    """What the card says of a run that ``exc`` ended."""
    return (
        exc.why
        if isinstance(exc, TrainingStopped)
        else "cancelled"
        if isinstance(exc, GeneratorExit)
        # Ctrl-C; an interrupt that says its own why (the CLI's SIGTERM: "terminated")
        else str(getattr(exc, "why", "interrupted"))
        if isinstance(exc, KeyboardInterrupt)
        else f"failed: {exc}"
    )


def _keep_on_stopping(run: TrainingRun, exc: BaseException) -> None:
    """What a run that ``exc`` stops keeps: the base where no epoch scored beat it, and the
    checkpoint of an epoch logged but not yet checkpointed (when stopped by hand)."""
    by_hand = isinstance(exc, GeneratorExit | KeyboardInterrupt | TrainingStopped)
    # stopped (cancel, Ctrl-C, an error) after an epoch was scored, none of them beating
    # the base: the best model so far is the base, written as a finished run writes it
    history = run.history
    if run.base_state is not None and not run.kept and any(e.get("epoch", 0) >= 1 for e in history):
        try:
            run.shipped.load_state_dict(run.base_state)
            _keep_best(run, run.best, 0)
        except Exception:  # the first failure is the one to report
            pass
    if by_hand and history:
        # stopped between an epoch's log line and its checkpoint (while the best model
        # or the checkpoint was written): the weights are that epoch's, so save it now,
        # or the log would claim an epoch that --resume cannot continue from
        done = int(history[-1].get("epoch", 0))
        if done > run.checkpointed:
            with contextlib.suppress(Exception):
                _save_checkpoint(run, done, history[-1].get("seconds", 0))


def train(config: TrainConfig) -> Path:
    """:func:`train_steps` run to the end: the folder of the trained model."""
    return run_steps(train_steps(config))

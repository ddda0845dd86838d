"""The training loop shared by the CLI (``tessella train``) and, later, the Train widget.

``train_steps`` is a generator yielding :class:`TrainProgress`; closing it (cancel), or
throwing :class:`TrainingStopped` into it with a reason, keeps the best model saved so far. A
checkpoint (model, optimiser, step, best score, the loss of every step) is written after each
epoch so ``--resume`` continues an interrupted run.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import time
import warnings
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..memory import retain_freed_memory
from ..methods import get_method
from ..registry import load_model, save_model
from ._config import (
    TrainConfig,
    TrainingStopped,
    TrainProgress,
    _one_folder,
    _temporal,
    _where,
)
from ._model_card import _architecture, _card, _mark_stopped, training_normalization
from ._optimisation import _distillation, _ema_with_warm_up, _fitting_crops
from ._validation import _refuse_nothing_to_learn_or_score, _refuse_undefined, _validate
from .data import (
    CropDataset,
    apply_ignore_label,
    load_folder_pairs,
    orientations,
    split_holdout,
)
from .methods import get_training
from .overlapping import SHARED_GAP, load_overlapping_pairs
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

CHECKPOINT = "checkpoint.pt"
#: consecutive optimiser steps with a non-finite loss or gradient after which training stops
MAX_SKIPPED_STEPS = 10


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
    from ..models import build_network

    for option, value, least in (
        ("epochs", config.epochs, 1),
        ("steps per epoch", config.steps_per_epoch, 1),
        ("batch size", config.batch_size, 1),
        ("patch", config.patch, 16),
        ("accumulate", config.accumulate, 1),
    ):
        if value < least:
            raise ValueError(f"{option} {value}: must be at least {least}")
    features = tuple(config.features)
    if not features or not all(int(f) == f and f >= 1 for f in features):
        raise ValueError(
            f"features {','.join(map(str, features))}: the channels of each level of the "
            "network, whole numbers of at least 1 (e.g. 16,32,64,128,256)"
        )
    if config.time_budget is not None and not config.time_budget > 0:
        raise ValueError(f"time budget {config.time_budget}: must be above 0 (none: no limit)")
    if get_training(config.method).overlapping and config.patch_size >= 2 * SHARED_GAP:
        raise ValueError(  # objects sharing a bit must lie beyond a shape patch's reach
            f"patch size {config.patch_size}: at most {2 * SHARED_GAP - 1} pixels"
        )
    out_dir = Path(config.out)
    made = [n for n in ("card.json", "model.safetensors", CHECKPOINT) if (out_dir / n).exists()]
    if made and not config.resume:
        raise ValueError(
            f"{out_dir} holds a model already ({', '.join(made)}); --resume continues its "
            "training, or choose another output folder"
        )
    if config.resume and not (out_dir / CHECKPOINT).exists() and made:
        raise ValueError(
            f"--resume {out_dir}: it holds a model but no checkpoint to continue from; "
            "fine-tune it with --base into another output folder"
        )
    if config.resume and not (out_dir / CHECKPOINT).exists():
        warnings.warn(
            f"--resume: {out_dir} has no checkpoint to continue; training starts afresh",
            stacklevel=2,
        )
    if not 0.0 <= config.ema < 1.0:
        raise ValueError(f"ema {config.ema}: the decay must be in [0, 1) (0: no averaging)")
    if not 0.0 <= config.border_crops <= 1.0:
        raise ValueError(f"border crops {config.border_crops}: a fraction in [0, 1]")
    if not config.colour_weight > 0:
        raise ValueError(f"colour weight {config.colour_weight}: must be above 0 (1: no weighting)")
    if config.distil and not config.base:
        raise ValueError("--distil needs a --base model to learn from")
    if config.distil < 0:
        raise ValueError(f"distil {config.distil}: the weight must be 0 or more (0: none)")
    if config.fg_dice < 0:
        raise ValueError(f"fg dice {config.fg_dice}: the weight must be 0 or more (0: none)")
    if config.fg_dice and get_training(config.method).foreground_dice is None:
        raise ValueError(
            f"fg dice: the {config.method} method's loss has no foreground term to add it to "
            "(patches only)"
        )
    if config.one_decoder and config.method != "embedding":
        raise ValueError(
            f"one decoder: the {config.method} method's network has one decoder already"
        )
    if config.val_orientations and _temporal(config):
        raise ValueError(
            f"val orientations: the {config.method} method's hold-out is scored as a time-lapse, "
            "in the orientation it comes in"
        )
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
    spatial = "ZYX" if ndim == 3 else "YX"
    temporal = _temporal(config)
    if temporal and ndim != 2:
        raise ValueError(f"the {config.method} method trains 2D (+ time) models; use ndim 2")

    val_params = method.Params()  # the hold-out scores of a new model: the method defaults
    val_pad = "reflect"  # and its images are padded as a new model's card says
    merged_from = None  # a base whose branches were merged into one decoder
    if config.base:
        base = load_model(config.base)
        if base.card.method != config.method:
            raise ValueError(
                f"--base {config.base}: a {base.card.method} model cannot start a "
                f"{config.method} model"
            )
        # a fine-tune is scored with the post-processing its base was tuned to, so the best
        # epoch is the one that is best with the parameters it will be shipped with
        val_params = method.Params(**base.card.defaults.get("params", {}))
        val_pad = str(base.card.defaults.get("pad", "reflect"))
        base_args = base.card.raw["architecture"]["args"]
        if base_args.get("ndim", 2) == ndim:
            # a copy: the base's network is the one load_model caches for segmenting, which
            # a fine-tune in the same process (the Train widget) must not change
            network = copy.deepcopy(base.network)
            # the targets must fit the base's heads (e.g. the patches method's shape patch)
            config = replace(
                config,
                features=tuple(base_args.get("features", config.features)),
                patch_size=int(base_args.get("patch", config.patch_size)),
                code=int(base_args.get("code", config.code)),
            )
            card_base = base.card.raw
            branches = len(base_args.get("out_channels", ()))
            if config.one_decoder and branches > 1:
                from ..models.unet import merge_branches

                if base.card.raw["architecture"]["name"] != "BranchedUNet":
                    raise ValueError(f"--one-decoder: {config.base} is not a branched U-Net")
                architecture = _architecture(config, ndim, 1)
                merged_from = network
                network = merge_branches(
                    network, build_network(architecture["name"], architecture["args"])
                )
                card_base = {**card_base, "architecture": architecture}
            elif config.method == "embedding":  # the record says the design the base has
                config = replace(config, one_decoder=branches == 1)
        elif base_args.get("ndim", 2) == 2 and ndim == 3 and not temporal:
            # a 3D model from a 2D one: each 2D kernel is the middle slice of a 3D kernel
            from ..models.unet import inflate_to_3d

            config = replace(config, features=tuple(base_args["features"]))
            architecture = _architecture(config, ndim, 1)
            if {**base_args, "ndim": 3} != architecture["args"]:
                raise ValueError(
                    f"--base {config.base}: its architecture {base_args} does not match a 3D "
                    f"{config.method} model {architecture['args']}"
                )
            network = build_network(architecture["name"], architecture["args"])
            inflate_to_3d(base.network, network)
            card_base = None
        else:
            raise ValueError(
                f"--base {config.base} is a {base_args.get('ndim', 2)}D model; it can start a "
                f"model of the same dimension, or a 3D model from a 2D one"
            )
    else:
        architecture = _architecture(config, ndim, 1)
        network = build_network(architecture["name"], architecture["args"])
        training.init_head(network, ndim)
        card_base = None
    teacher = None
    if config.distil:
        teacher = copy.deepcopy(base.network).float().eval().requires_grad_(False)
    base_training = base.card.raw.get("training") if config.base else None
    normalization = training_normalization(
        base.card.raw if config.base else None, config.invert_bright_background
    )
    # the card records what the model was trained with
    config = replace(
        config, invert_bright_background=bool(normalization.get("invert_bright_background"))
    )

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
    if samples is None:
        samples = load(config.data, config.exclude)
    if val_samples is None and config.val_data:
        val_samples = load(config.val_data)
        val_where = _where(config.val_data)
    elif val_samples is not None:
        val_where = "the hold-out data given"
    elif val_samples is None:
        samples, val_samples = split_holdout(
            samples, config.val_fraction, config.seed, config.holdout
        )
    if config.ignore_label is not None:  # marks anywhere, training images or hold-out
        marked = apply_ignore_label(
            samples + val_samples, config.ignore_label, training.overlapping
        )
        samples, val_samples = marked[: len(samples)], marked[len(samples) :]
    if not samples or not val_samples:
        raise ValueError("training needs at least one image with labels")
    val_samples = val_samples[: config.max_val_images]
    _refuse_nothing_to_learn_or_score(samples, val_samples, training, data_where, val_where)
    if config.val_orientations:  # after the cap: it counts images, not orientations
        val_samples = orientations(val_samples)

    if merged_from is not None:  # the seed output starts from a fit to the base's, on crops
        from ..models.unet import fit_merged_head

        fit_merged_head(merged_from, network, _fitting_crops(samples, network.multiple))
    network = network.to(device).train()
    if teacher is not None:
        teacher = teacher.to(device)
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
    shipped = averaged.module if averaged is not None else network
    total_steps = config.epochs * config.steps_per_epoch
    start_epoch, best, history, spent = 0, -1.0, [], 0.0
    # (step, loss) of every optimiser step with a finite loss (with --accumulate, the mean of
    # its micro-batches), kept in the checkpoint: a resumed run's loss curve (the Train
    # panel's) goes on from the same points, not one per epoch
    step_losses: list[tuple[int, float]] = []

    def set_learning_rate(step: int) -> None:
        # poly decay over whichever runs out first: the steps or the time budget
        progress = step / total_steps
        if config.time_budget:
            progress = max(progress, (spent + time.monotonic() - started) / config.time_budget)
        for group in optimizer.param_groups:
            group["lr"] = config.lr * max(0.0, 1 - min(progress, 1.0)) ** 0.9

    # a fine-tune keeps its base's weights until an epoch beats them on the hold-out
    base_state = (
        {k: v.detach().clone() for k, v in network.state_dict().items()} if config.base else None
    )
    checkpoint_path = out / CHECKPOINT
    kept = False  # whether a best model has been written by this run
    if config.resume and checkpoint_path.exists():
        kept = (out / "model.safetensors").exists()
        try:
            state = torch.load(checkpoint_path, map_location=device, weights_only=True)
        except Exception as exc:  # truncated, not a checkpoint, unreadable: one line, not pages
            text = str(exc).strip()
            first = text.splitlines()[0].split(". ")[0] if text else type(exc).__name__
            raise ValueError(
                f"--resume {checkpoint_path}: the checkpoint cannot be read, truncated or not "
                f"one ({first}); train into another output folder"
            ) from None
        if not isinstance(state, dict) or not {"model", "optimizer", "epoch"} <= state.keys():
            raise ValueError(f"--resume {checkpoint_path}: not a tessella training checkpoint")
        try:
            network.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(
                f"--resume {out}: its checkpoint holds another network than this run's "
                f"{config.method} model (method, --features or other architecture options "
                f"differ: {first})"
            ) from None
        # a checkpoint from before the decay was recorded: averaged or not is all it says
        saved_ema = state.get("ema", None if "averaged" in state else 0.0)
        if (saved_ema is None and not config.ema) or (
            saved_ema is not None and float(saved_ema) != config.ema
        ):
            was = "an unrecorded --ema" if saved_ema is None else f"--ema {float(saved_ema)}"
            raise ValueError(
                f"--resume {out}: its checkpoint was trained with {was}; resume with the same "
                f"setting (this run asks for --ema {config.ema})"
            )
        saved_ignore = state.get("ignore_label")  # checkpoints before the option: none
        if saved_ignore != config.ignore_label:
            raise ValueError(
                f"--resume {out}: its checkpoint was trained with --ignore-label "
                f"{saved_ignore}; resume with the same setting (this run asks for "
                f"{config.ignore_label})"
            )
        if averaged is not None and "averaged" in state:
            averaged.load_state_dict(state["averaged"])
        start_epoch, best = int(state["epoch"]), float(state["best"])
        spent = float(state.get("seconds", 0.0))
        history = json.loads(state["history"])
        step_losses = checkpoint_losses(state, start_epoch * config.steps_per_epoch)

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
        border_mode=val_pad,  # crops past an edge are padded as inference will pad them
        colour_weight=config.colour_weight,
    )
    score_key = f"val_{training.score_name}"
    started = time.monotonic()
    made_here = out  # the topmost folder this run makes: removed if it ends with nothing
    while not made_here.parent.exists():
        made_here = made_here.parent
    fresh = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / "train.log", "a" if config.resume else "w")
    checkpointed = start_epoch  # the last epoch checkpoint.pt holds

    def save_checkpoint(epoch_done: int, elapsed: float) -> None:
        nonlocal checkpointed
        partial_checkpoint = checkpoint_path.with_name(f".{CHECKPOINT}.tmp")
        torch.save(  # then renamed: Ctrl-C or SIGTERM while saving keeps the last one whole
            {
                "model": network.state_dict(),
                "optimizer": optimizer.state_dict(),
                "ema": config.ema,
                "ignore_label": config.ignore_label,
                **({"averaged": averaged.state_dict()} if averaged is not None else {}),
                "epoch": epoch_done,
                "best": best,
                "seconds": elapsed,
                "history": json.dumps(history),
                "step_losses": torch.tensor(
                    [p for p in step_losses if p[0] <= epoch_done * config.steps_per_epoch],
                    dtype=torch.float64,
                ).reshape(-1, 2),
            },
            partial_checkpoint,
        )
        os.replace(partial_checkpoint, checkpoint_path)
        checkpointed = epoch_done

    def keep_best(score: float) -> None:
        nonlocal kept
        kept = True
        card = _card(config, ndim, 1, history)
        if card_base:
            # the base's scores are not this model's: `tools/score_model.py --record` or the
            # user's own evaluation fills them in
            inherited = {k: v for k, v in card_base.items() if k != "validation"}
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
        card["normalization"] = normalization  # what training used (a 3D model from 2D too)
        card["training"][f"best_{score_key}"] = round(score, 4)
        if base_training is not None:  # the lineage: how the base itself was trained
            card["training"]["base_training"] = base_training
        save_model(out, shipped, card)

    def validate() -> float:
        return _validate(
            shipped,
            val_samples,
            method,
            val_params,
            training,
            ndim,
            device,
            autocast,
            val_pad,
            sparse=config.ignore_label is not None,
        )

    def non_finite(what: str, epoch: int, batch: int) -> str:
        validated = any(e.get("epoch", 0) >= 1 for e in history)
        kept_now = kept or (base_state is not None and validated)
        return (
            f"{what} became NaN or infinite at batch {batch} of epoch {epoch + 1}, so "
            "training stopped (is the learning rate too high?); "
            + (f"the best model so far is kept in {out}" if kept_now else "nothing was saved")
        )

    skipped = 0  # consecutive optimiser steps skipped for a non-finite loss or gradient
    stopped: str | None = "stopped"  # why the run ended before its last epoch; None: it did not
    try:
        if config.base and start_epoch == 0 and not history:
            # epoch 0 is the base itself: an epoch is kept only where it beats the base on
            # the hold-out, so a fine-tune never ends worse than where it started
            best = validate()
            _refuse_undefined(best, score_key, "the base model")
            start = {"epoch": 0, score_key: round(best, 4), "base": str(config.base)}
            history.append(start)
            print(json.dumps(start), file=log, flush=True)
            yield TrainProgress(0, config.epochs, 0, 0.0, best, best, json.dumps(start))
        for epoch in range(start_epoch, config.epochs):
            dataset.epoch = epoch
            loader: torch.utils.data.DataLoader[tuple] = torch.utils.data.DataLoader(
                # DataLoader takes any map-style dataset (__getitem__ + __len__); its stub
                # insists on a torch Dataset subclass, which would make data.py import torch
                dataset,  # type: ignore[arg-type]
                batch_size=config.batch_size,
                num_workers=config.workers,
                persistent_workers=False,
                pin_memory=device.startswith("cuda"),
            )
            losses = []
            step_parts: list[float] = []  # the losses of the micro-batches of this step
            optimizer.zero_grad(set_to_none=True)
            for i, (images, *targets) in enumerate(loader):
                images = images.to(device, non_blocking=True)
                targets = [t.to(device, non_blocking=True) for t in targets]
                with autocast():
                    raw = network(images)
                    if teacher is not None:
                        with torch.no_grad():
                            taught = teacher(images)
                extra = {"network": network} if training.loss_needs_network else {}
                loss = training.loss(raw, targets, ndim, **extra)
                if config.fg_dice and training.foreground_dice is not None:
                    loss = loss + config.fg_dice * training.foreground_dice(raw, targets)
                if teacher is not None:
                    loss = loss + config.distil * _distillation(method, raw, taught, ndim)
                loss_value = float(loss.detach())
                finite = bool(np.isfinite(loss_value))
                if finite:
                    (loss / config.accumulate).backward()
                step_parts.append(loss_value)
                step = epoch * config.steps_per_epoch + (i + 1) // config.accumulate
                if (i + 1) % config.accumulate == 0:
                    # a step whose loss or gradients are not finite (a rare bf16 overflow in
                    # a small network) is skipped, as AMP's GradScaler skips them; many in a
                    # row mean the training diverged: it stops, keeping the best model
                    finite = finite and all(
                        bool(torch.isfinite(p.grad).all())
                        for p in network.parameters()
                        if p.grad is not None
                    )
                    if finite:
                        set_learning_rate(step)
                        optimizer.step()
                        if averaged is not None:
                            averaged.update_parameters(network)
                        skipped = 0
                    else:
                        skipped += 1
                        if skipped >= MAX_SKIPPED_STEPS:
                            what = f"the loss or its gradients ({skipped} steps in a row)"
                            raise ValueError(non_finite(what, epoch, i + 1))
                    optimizer.zero_grad(set_to_none=True)
                    # one point per optimiser step (with --accumulate, the mean of its
                    # micro-batches), numbered as the step the progress reports on its last
                    if finite and np.isfinite(step_parts).all():
                        step_losses.append((step, float(np.mean(step_parts))))
                    step_parts = []
                if finite:
                    losses.append(loss_value)
                yield TrainProgress(epoch + 1, config.epochs, step, loss_value, None, best)
            if not all(bool(torch.isfinite(v).all()) for v in shipped.state_dict().values()):
                raise ValueError(non_finite("the weights", epoch, len(losses)))
            score = validate()
            elapsed = spent + time.monotonic() - started
            entry = {
                "epoch": epoch + 1,
                "loss": round(float(np.mean(losses)), 5) if losses else None,
                # JSON has no NaN: an undefined score (refused below) is logged as null
                score_key: round(score, 4) if np.isfinite(score) else None,
                "seconds": round(elapsed),
                "lr": optimizer.param_groups[0]["lr"],
            }
            history.append(entry)
            print(json.dumps(entry), file=log, flush=True)
            _refuse_undefined(score, score_key, f"epoch {epoch + 1}")
            if score > best:
                best = score
                keep_best(best)
            save_checkpoint(epoch + 1, elapsed)
            out_of_time = bool(config.time_budget and elapsed > config.time_budget)
            messages = [json.dumps(entry)]
            if out_of_time:
                messages.append("time budget reached; resume with --resume")
            for message in messages:
                yield TrainProgress(
                    epoch + 1,
                    config.epochs,
                    (epoch + 1) * config.steps_per_epoch,
                    entry["loss"],
                    score,
                    best,
                    message,
                )
            if out_of_time:
                stopped = "time budget reached"
                break
        else:
            stopped = None
        if base_state is not None and not kept:  # no epoch beat the base: the base it is
            shipped.load_state_dict(base_state)
            keep_best(best)
    except BaseException as exc:
        by_hand = isinstance(exc, GeneratorExit | KeyboardInterrupt | TrainingStopped)
        stopped = (
            exc.why
            if isinstance(exc, TrainingStopped)
            else "cancelled"
            if isinstance(exc, GeneratorExit)
            else "interrupted"
            if isinstance(exc, KeyboardInterrupt)
            else f"failed: {exc}"
        )
        # stopped (cancel, Ctrl-C, an error) after an epoch was scored, none of them beating
        # the base: the best model so far is the base, written as a finished run writes it
        if base_state is not None and not kept and any(e.get("epoch", 0) >= 1 for e in history):
            try:
                shipped.load_state_dict(base_state)
                keep_best(best)
            except Exception:  # the first failure is the one to report
                pass
        if by_hand and history:
            # stopped between an epoch's log line and its checkpoint (while the best model
            # or the checkpoint was written): the weights are that epoch's, so save it now,
            # or the log would claim an epoch that --resume cannot continue from
            done = int(history[-1].get("epoch", 0))
            if done > checkpointed:
                with contextlib.suppress(Exception):
                    save_checkpoint(done, history[-1].get("seconds", 0))
        raise
    finally:
        log.close()
        with contextlib.suppress(OSError):  # a checkpoint cut short by Ctrl-C or SIGTERM
            (out / f".{CHECKPOINT}.tmp").unlink()
        _mark_stopped(out, stopped, history, config.epochs)
        if fresh and not kept and not checkpoint_path.exists():
            # stopped (Ctrl-C, cancel, an error) before a model or a checkpoint: no trace
            shutil.rmtree(made_here, ignore_errors=True)
    return out


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


def train(config: TrainConfig) -> Path:
    generator = train_steps(config)
    while True:
        try:
            next(generator)
        except StopIteration as stop:
            return stop.value

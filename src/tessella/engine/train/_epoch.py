"""One epoch of a training run: its micro-batches, their losses, the optimiser steps (a step
whose loss or gradients are not finite is skipped), the learning rate of each step."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np

from ._checkpoint import TrainingRun
from ._config import TrainProgress
from ._optimisation import _distillation

if TYPE_CHECKING:
    from .data import CropDataset

__all__ = ["MAX_SKIPPED_STEPS", "_epoch_steps", "_non_finite"]

#: consecutive optimiser steps with a non-finite loss or gradient after which training stops
MAX_SKIPPED_STEPS = 10


def _set_learning_rate(run: TrainingRun, step: int) -> None:
    # poly decay over whichever runs out first: the steps or the time budget
    config = run.config
    assert config.lr is not None  # (filled in when the config is made)
    progress = step / (config.epochs * config.steps_per_epoch)
    if config.time_budget:
        progress = max(progress, (run.spent + time.monotonic() - run.started) / config.time_budget)
    for group in run.optimizer.param_groups:
        group["lr"] = config.lr * max(0.0, 1 - min(progress, 1.0)) ** 0.9


def _non_finite(run: TrainingRun, what: str, epoch: int, batch: int) -> str:
    """Why the run stopped: ``what`` became NaN or infinite at ``batch`` of ``epoch`` (from
    0), and whether a best model is kept."""
    validated = any(e.get("epoch", 0) >= 1 for e in run.history)
    kept_now = run.kept or (run.base_state is not None and validated)
    return (
        f"{what} became NaN or infinite at batch {batch} of epoch {epoch + 1}, so "
        "training stopped (is the learning rate too high?); "
        + (f"the best model so far is kept in {run.out}" if kept_now else "nothing was saved")
    )


def _epoch_steps(
    run: TrainingRun,
    dataset: CropDataset,
    epoch: int,
    training,
    method,
    teacher,
    device: str,
    autocast,
) -> Generator[TrainProgress, None, list[float]]:
    """Train ``run`` for epoch ``epoch`` (from 0) on ``dataset``'s crops, yielding progress
    per micro-batch; returns the finite micro-batch losses. ``teacher``: the network that
    ``--distil`` learns from, or None."""
    import torch

    config, network, optimizer, averaged = run.config, run.network, run.optimizer, run.averaged
    ndim = run.ndim
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
                _set_learning_rate(run, step)
                optimizer.step()
                if averaged is not None:
                    averaged.update_parameters(network)
                run.skipped = 0
            else:
                run.skipped += 1
                if run.skipped >= MAX_SKIPPED_STEPS:
                    what = f"the loss or its gradients ({run.skipped} steps in a row)"
                    raise ValueError(_non_finite(run, what, epoch, i + 1))
            optimizer.zero_grad(set_to_none=True)
            # one point per optimiser step (with --accumulate, the mean of its
            # micro-batches), numbered as the step the progress reports on its last
            if finite and np.isfinite(step_parts).all():
                run.step_losses.append((step, float(np.mean(step_parts))))
            step_parts = []
        if finite:
            losses.append(loss_value)
        yield TrainProgress(epoch + 1, config.epochs, step, loss_value, None, run.best)
    return losses

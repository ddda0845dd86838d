"""What a training run keeps between its steps and epochs (:class:`TrainingRun`, set up by
:func:`_new_run`), and its checkpoint: written after each epoch, read back by ``--resume``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._config import TrainConfig
from ._optimisation import _ema_with_warm_up

if TYPE_CHECKING:
    from ._starting_model import StartingModel

__all__ = ["CHECKPOINT", "TrainingRun", "checkpoint_losses"]

CHECKPOINT = "checkpoint.pt"


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
    started: float = 0.0  # time.monotonic() when training started
    skipped: int = 0  # consecutive optimiser steps skipped for a non-finite loss or gradient

    @property
    def checkpoint_path(self) -> Path:
        return self.out / CHECKPOINT


def _new_run(
    config: TrainConfig, out: Path, network, start: StartingModel, score_key: str
) -> TrainingRun:
    """The run of ``network`` (on its device): its optimiser, the moving average of its
    weights (``config.ema``), a fine-tune's starting weights."""
    import torch

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
    return TrainingRun(
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
        raise ValueError(
            f"--resume {checkpoint_path}: the checkpoint cannot be read, truncated or not "
            f"one ({first}); train into another output folder"
        ) from None
    if not isinstance(state, dict) or not {"model", "optimizer", "epoch"} <= state.keys():
        raise ValueError(f"--resume {checkpoint_path}: not a tessella training checkpoint")
    try:
        run.network.load_state_dict(state["model"])
        run.optimizer.load_state_dict(state["optimizer"])
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
    if run.averaged is not None and "averaged" in state:
        run.averaged.load_state_dict(state["averaged"])
    run.start_epoch, run.best = int(state["epoch"]), float(state["best"])
    run.spent = float(state.get("seconds", 0.0))
    run.history = json.loads(state["history"])
    run.step_losses = checkpoint_losses(state, run.start_epoch * config.steps_per_epoch)


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

"""A run stopped from outside says why in its card (the Train panel closed, the viewer
closed: not "cancelled" for all), and its checkpoint keeps the loss of every step, so a
resumed run's curve goes on from the same points."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tessella.engine.train import TrainConfig, TrainingStopped
from tessella.engine.train.data import load_pairs
from tessella.engine.train.loop import checkpoint_losses, train_steps

NORM = {"low": 1.0, "high": 99.8}


def test_a_stop_with_a_reason_is_marked_so_and_the_step_losses_survive_resume(
    tmp_path, nuclei_sample, monkeypatch
):
    import torch

    import tessella.engine.train.loop as loop

    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: 0.0)
    image, labels = nuclei_sample
    samples = load_pairs([image[:128, :128]], [labels[:128, :128]], "YX", 1, NORM)
    held = load_pairs([image[128:256, :128]], [labels[128:256, :128]], "YX", 1, NORM)
    out = tmp_path / "stopped"
    config = TrainConfig(
        "embedding", "layers", str(out), epochs=2, steps_per_epoch=2, batch_size=1, patch=64,
        features=(8, 16), device="cpu",
    )  # fmt: skip
    steps = train_steps(config, samples, held)
    seen = []
    for progress in steps:
        if progress.message and progress.epoch == 1:
            break  # epoch 1 scored and checkpointed
        if not progress.message:
            seen.append((progress.step, progress.loss))
    with pytest.raises(TrainingStopped):
        steps.throw(TrainingStopped("panel closed"))
    stopped = json.loads((out / "card.json").read_text())["training"]["stopped"]
    assert (stopped["why"], stopped["after_epoch"], stopped["of_epochs"]) == ("panel closed", 1, 2)
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert checkpoint_losses(state) == seen and [s for s, _ in seen] == [1, 2]

    for _progress in train_steps(replace(config, resume=True), samples, held):
        pass
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    losses = checkpoint_losses(state)
    assert [s for s, _ in losses] == [1, 2, 3, 4] and losses[:2] == seen
    assert "stopped" not in json.loads((out / "card.json").read_text())["training"]


def test_with_accumulate_the_checkpoint_keeps_one_loss_per_optimiser_step(
    tmp_path, nuclei_sample, monkeypatch
):
    """With --accumulate K the checkpoint kept a point per micro-batch, K per step, the first
    ones of an epoch numbered with the step before. Now one point per optimiser step, the
    mean of its micro-batches' losses, numbered as the progress numbers that step once its
    last micro-batch is done (1, 2, ... as without --accumulate)."""
    import numpy as np
    import torch

    import tessella.engine.train.loop as loop

    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: 0.0)
    image, labels = nuclei_sample
    samples = load_pairs([image[:128, :128]], [labels[:128, :128]], "YX", 1, NORM)
    held = load_pairs([image[128:256, :128]], [labels[128:256, :128]], "YX", 1, NORM)
    out = tmp_path / "accumulated"
    config = TrainConfig(
        "embedding", "layers", str(out), epochs=1, steps_per_epoch=2, batch_size=1, patch=64,
        features=(8, 16), device="cpu", accumulate=2,
    )  # fmt: skip
    micro = [(p.step, p.loss) for p in train_steps(config, samples, held) if not p.message]
    assert len(micro) == 2 * 2  # steps x micro-batches
    expected = [
        (micro[k + 1][0], float(np.mean([loss for _, loss in micro[k : k + 2]])))
        for k in range(0, len(micro), 2)
    ]
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    losses = checkpoint_losses(state)
    assert [s for s, _ in losses] == [s for s, _ in expected] == [1, 2]
    assert losses == expected

"""`tessella train`'s progress bars count optimiser steps, as ``--steps-per-epoch`` does, with
``--accumulate`` too, at a rate in steps per second that counts only the steps a bar timed
(not the epoch's first step, done before its bar appeared, nor the steps of the run that
``--resume`` continues). They counted micro-batches (6 of '3 steps' with --accumulate 2)
per second, said 'tile/s' until the first update, and counted the first step as done in no
time; then '?step/s' until the first update, so a bar of one step never had a rate."""

from __future__ import annotations

import re

import pytest
import tifffile
import torch

from tessella.cli import main
from tessella.engine.train.loop import CHECKPOINT, checkpoint_losses
from tests.conftest import nuclei_folder

#: seconds each micro-batch takes on the bars' (fake) clock: two make a step, so 2 steps/s
MICRO_BATCH = 0.25
BAR = re.compile(
    r"epoch (\d+):(?:\s+\d+%\|[^|]*\|)?\s+(\d+)(/\d+|\w+) \[[^,\]]*"
    r"(?:,\s+([\d.?]+)(?:(s)/(\w+)|(\w+)/s))?"
    r"(?:, loss=([\d.]+))?\]"
)


def _bars(err: str) -> list[dict]:
    """Every rendering of a bar in ``err``: epoch, count, total ('/3'; the unit where the
    count is past it), rate (per second), unit, loss."""
    found = []
    for line in re.split(r"[\r\n]", err):
        match = BAR.search(line)
        if not match:
            continue
        epoch, count, total, rate, inverse, inverse_unit, unit, loss = match.groups()
        if rate not in (None, "?"):
            rate = 1 / float(rate) if inverse else float(rate)
        found.append(
            dict(
                epoch=int(epoch),
                count=int(count),
                total=total,
                rate=rate,
                unit=inverse_unit or unit,
                loss=loss,
            )
        )
    return found


@pytest.fixture
def timed_training(monkeypatch):
    """Each micro-batch the engine reports takes MICRO_BATCH seconds of the bars' clock, and
    the start and each epoch's validation 30 s; returns the losses reported."""
    import tqdm.std

    import tessella.engine.train as engine_train

    clock = [1000.0]
    monkeypatch.setattr(tqdm.std, "time", lambda: clock[0])
    real = engine_train.train_steps
    reported: list[float] = []

    def timed(config):
        clock[0] += 30.0
        for progress in real(config):
            clock[0] += 30.0 if progress.message else MICRO_BATCH
            if not progress.message:
                reported.append(progress.loss)
            yield progress

    monkeypatch.setattr(engine_train, "train_steps", timed)
    return reported


def test_the_bars_count_optimiser_steps_per_second_with_accumulate_and_resume(
    tmp_path, nuclei_sample, timed_training, capsys
):
    image, labels = nuclei_sample
    for sub in ("images", "masks"):
        (tmp_path / "data" / sub).mkdir(parents=True)
    for i, rows in enumerate((slice(0, 256), slice(256, 512))):
        tifffile.imwrite(tmp_path / "data" / "images" / f"{i}.tif", image[rows, :256])
        tifffile.imwrite(tmp_path / "data" / "masks" / f"{i}.tif", labels[rows, :256])
    out = tmp_path / "model"
    args = ["train", "embedding", "--data", str(tmp_path / "data"), "--out", str(out)]
    args += ["--steps-per-epoch", "3", "--accumulate", "2", "--batch-size", "1"]
    args += ["--patch", "64", "--features", "8,16", "--max-val-images", "1", "--device", "cpu"]

    assert main([*args, "--epochs", "1"]) == 0
    first = capsys.readouterr().err
    assert main([*args, "--epochs", "2", "--resume"]) == 0
    resumed = capsys.readouterr().err

    for err, epochs in ((first, [1]), (resumed, [2])):  # the resumed run shows epoch 2 only
        bars = _bars(err)
        assert "tile" not in err and bars
        assert sorted({b["epoch"] for b in bars}) == epochs
        # no rate until the bar has timed a step (it showed '?step/s'), then one in steps/s
        assert "?" not in "".join(str(b["rate"]) for b in bars)
        assert [b["count"] for b in bars if b["rate"] is None] == [1, 1]  # drawn, its loss
        assert {b["unit"] for b in bars if b["rate"] is not None} == {"step"}
        # of --steps-per-epoch (a count past its total is shown without it: "4step")
        assert {b["total"] for b in bars} == {"/3"}
        assert [b["count"] for b in bars][-1] == 3
        rates = [b["rate"] for b in bars if b["rate"] is not None]
        # two micro-batches a step: 2 steps/s, the first step (before the bar) untimed; the
        # steps of epoch 1 are not in the resumed run's rate
        assert rates and all(rate == pytest.approx(1 / (2 * MICRO_BATCH)) for rate in rates)

    # the loss shown for each step is the one the checkpoint keeps: its micro-batches' mean
    state = torch.load(out / CHECKPOINT, weights_only=True)
    kept = dict(checkpoint_losses(state))
    assert sorted(kept) == [1, 2, 3, 4, 5, 6]
    micro = timed_training
    assert kept[1] == pytest.approx((micro[0] + micro[1]) / 2)
    shown = {}
    for b in _bars(first) + _bars(resumed):
        if b["loss"] is not None:
            shown[(b["epoch"] - 1) * 3 + b["count"]] = b["loss"]  # the last shown at a count
    assert shown == {step: f"{loss:.3f}" for step, loss in kept.items()}


def test_a_bar_of_one_step_shows_no_rate_and_val_data_on_the_training_data_is_said_once(
    tmp_path, nuclei_sample, timed_training, capsys
):
    """A bar of one step has none to time: it shows its count and loss, and no '?step/s'.
    The same run scores on its own training folder (``--val-data`` = ``--data``), which one
    warning line says."""
    folder = nuclei_folder(tmp_path / "data", nuclei_sample)
    args = ["train", "embedding", "--data", str(folder), "--val-data", str(folder)]
    args += ["--out", str(tmp_path / "model"), "--epochs", "1", "--steps-per-epoch", "1"]
    args += ["--batch-size", "1", "--patch", "64", "--features", "8,16", "--device", "cpu"]
    assert main(args) == 0
    err = capsys.readouterr().err
    bars = _bars(err)
    assert bars and {(b["count"], b["total"], b["rate"]) for b in bars} == {(1, "/1", None)}
    assert bars[-1]["loss"] == f"{timed_training[0]:.3f}"
    assert "?" not in err
    said = [line for line in err.splitlines() if "--val-data" in line]
    assert said == [
        f"warning: --val-data {folder} is the --data folder: every image the model is scored "
        "on (0.tif, 1.tif) is one it trains on; val_ap50 and the epoch kept as the best then "
        "tell how well the model fits the images it learns from, not how it does on new ones. "
        "Give --val-data a folder of other images, or leave it out to hold some of --data out "
        "(--val-fraction, --holdout)"
    ]

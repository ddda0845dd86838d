"""Fine-tuning for real: a short run on a few real EM slices improves the base model there."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella.engine.evaluation import score_pairs
from tessella.engine.pipeline import segment
from tessella.engine.train import TrainConfig
from tessella.engine.train.data import load_pairs
from tessella.engine.train.loop import train_steps

NORM = {"low": 1.0, "high": 99.8}


def _train(config, samples, val) -> None:
    for _progress in train_steps(config, samples, val):
        pass


SMALL = {"batch_size": 2, "patch": 128, "features": (8, 16, 32), "device": "cpu"}


def _slices(data_dir):
    """Six real Lucchi++ slices (256²): four to train on, two held out."""
    root = data_dir / "em_mito_lucchipp" / "train"
    image = tifffile.imread(root / "image.tif")[:6, :256, :256]
    mito = tifffile.imread(root / "mito.tif")[:6, :256, :256].astype(np.int32)
    samples = load_pairs(list(image[:4]), list(mito[:4]), "YX", 1, NORM)
    held = load_pairs(list(image[4:]), list(mito[4:]), "YX", 1, NORM)
    return image, mito, samples, held


def _base(tmp_path, samples, held):
    base = tmp_path / "base"  # a barely trained base model: two steps
    _train(
        TrainConfig("semantic", "slices", str(base), epochs=1, steps_per_epoch=2, **SMALL),
        samples,
        held,
    )
    return base


def _fine_tune(out, base, samples, held, steps: int, lr: float, **options):
    """Two epochs of ``steps`` from ``base`` into ``out``."""
    settings = {**SMALL, **options}
    config = TrainConfig(
        "semantic",
        "slices",
        str(out),
        base=str(base),
        epochs=2,
        steps_per_epoch=steps,
        lr=lr,
        **settings,
    )
    _train(config, samples, held)
    return out


def test_fine_tuning_improves_the_score_over_the_base_model(tmp_path, data_dir):
    image, mito, samples, held = _slices(data_dir)
    base = _base(tmp_path, samples, held)

    def foreground_iou(model) -> float:
        pairs = [(m, segment(i, str(model), "YX", min_size=0)) for i, m in zip(image[4:], mito[4:])]
        return score_pairs(pairs, ("iou",))["foreground_iou"]

    before = foreground_iou(base)
    tuned = _fine_tune(tmp_path / "tuned", base, samples, held, steps=20, lr=3e-3, batch_size=4)
    after = foreground_iou(tuned)
    assert after > before + 0.05, (before, after)


def test_a_fine_tune_that_only_gets_worse_keeps_its_base(tmp_path, data_dir):
    # a learning rate far too high ruins every epoch: the hold-out scores the base first
    # (epoch 0), so the written model is the base, not the least bad ruined epoch
    import json

    from safetensors.numpy import load_file

    _image, _mito, samples, held = _slices(data_dir)
    base = _base(tmp_path, samples, held)
    ruined = _fine_tune(tmp_path / "ruined", base, samples, held, steps=3, lr=50.0)
    log = [json.loads(line) for line in (ruined / "train.log").read_text().splitlines()]
    assert [e["epoch"] for e in log] == [0, 1, 2] and log[0]["base"] == str(base)
    assert max(e["val_iou"] for e in log[1:]) < log[0]["val_iou"], log
    written, original = (
        load_file(ruined / "model.safetensors"),
        load_file(base / "model.safetensors"),
    )
    assert written.keys() == original.keys()
    for key in original:
        np.testing.assert_array_equal(written[key], original[key])
    # the card keeps the lineage: how the base itself was trained
    card = json.loads((ruined / "card.json").read_text())
    assert (
        card["training"]["base_training"]
        == json.loads((base / "card.json").read_text())["training"]
    )


def test_a_fine_tune_does_not_claim_its_bases_scores(tmp_path, data_dir):
    """The base card's validation scores are the base's: a fine-tune's card starts without
    them (until it is scored), and says its default parameters were tuned for the base."""
    import json

    _image, _mito, samples, held = _slices(data_dir)
    base = _base(tmp_path, samples, held)
    card_path = base / "card.json"
    card = json.loads(card_path.read_text())
    card["validation"] = {"dataset": "validation split", "scores": {"foreground_iou": 0.99}}
    card.setdefault("defaults", {})["params_tuning"] = {"how": "grid search", "holdout_x": 0.9}
    card_path.write_text(json.dumps(card))
    tuned = json.loads(
        (
            _fine_tune(tmp_path / "tuned", base, samples, held, steps=2, lr=1e-3) / "card.json"
        ).read_text()
    )
    assert "validation" not in tuned
    assert tuned["defaults"]["params_tuning"] == {
        "from_base": str(base),
        "how": "grid search",
        "holdout_x": 0.9,
    }


def test_a_fine_tune_cancelled_in_its_first_epoch_leaves_nothing(tmp_path, data_dir):
    # the base is scored first (epoch 0) but written only when training ends normally
    _image, _mito, samples, held = _slices(data_dir)
    base = _base(tmp_path, samples, held)
    out = tmp_path / "cancelled"
    config = TrainConfig(
        "semantic", "slices", str(out), base=str(base), epochs=2, steps_per_epoch=5, **SMALL
    )
    steps = train_steps(config, samples, held)
    first = next(steps)
    assert first.epoch == 0 and first.val_score is not None  # the base's hold-out score
    assert next(steps).epoch == 1  # a training step of epoch 1
    steps.close()  # what Cancel does
    assert not (out / "model.safetensors").exists()


def test_ema_writes_and_resumes_the_moving_average_of_the_weights(tmp_path, data_dir):
    # --ema: the written model is the average, not the last raw weights; the average is
    # updated once per optimiser step and survives a resume
    import torch
    from safetensors.numpy import load_file

    _image, _mito, samples, held = _slices(data_dir)
    out = tmp_path / "ema"
    settings = {**SMALL, "lr": 3e-3, "ema": 0.9}
    _train(
        TrainConfig("semantic", "slices", str(out), epochs=1, steps_per_epoch=4, **settings),
        samples,
        held,
    )
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert int(state["averaged"]["n_averaged"]) == 4
    averaged = {k.removeprefix("module."): v for k, v in state["averaged"].items()}
    written = load_file(out / "model.safetensors")
    raw = state["model"]
    differs = 0
    for key, value in written.items():
        np.testing.assert_allclose(value, averaged[key].half().float().numpy(), rtol=0, atol=0)
        if raw[key].is_floating_point():
            differs += not np.array_equal(value, raw[key].half().numpy())
    assert differs > len(written) // 2  # the raw weights moved on from their average

    config = TrainConfig(
        "semantic", "slices", str(out), epochs=2, steps_per_epoch=4, resume=True, **settings
    )
    _train(config, samples, held)
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert int(state["averaged"]["n_averaged"]) == 8  # continued, not restarted


def test_ema_decay_out_of_range_is_refused(tmp_path, data_dir):
    import pytest

    _image, _mito, samples, held = _slices(data_dir)
    config = TrainConfig("semantic", "slices", str(tmp_path / "m"), ema=1.0, **SMALL)
    with pytest.raises(ValueError, match="ema 1.0"):
        _train(config, samples, held)
    assert not (tmp_path / "m").exists()  # refused before anything was made
    config = TrainConfig("semantic", "slices", str(tmp_path / "b"), border_crops=2.0, **SMALL)
    with pytest.raises(ValueError, match="border crops 2.0: a fraction in"):
        _train(config, samples, held)
    assert not (tmp_path / "b").exists()


def test_resuming_with_another_ema_setting_is_refused(tmp_path, data_dir):
    import pytest

    _image, _mito, samples, held = _slices(data_dir)
    out = tmp_path / "ema"
    _train(
        TrainConfig("semantic", "slices", str(out), epochs=1, steps_per_epoch=2, ema=0.9, **SMALL),
        samples,
        held,
    )
    for other in (0.0, 0.99):
        config = TrainConfig(
            "semantic",
            "slices",
            str(out),
            epochs=2,
            steps_per_epoch=2,
            resume=True,
            ema=other,
            **SMALL,
        )
        with pytest.raises(ValueError, match="trained with ema=0.9; resume with the same"):
            _train(config, samples, held)


def test_the_ema_warms_up_before_reaching_its_decay():
    import torch

    from tessella.engine.train.loop import _ema_with_warm_up

    update = _ema_with_warm_up(0.999)
    mean, value = [torch.zeros(3)], [torch.ones(3)]
    update(mean, value, torch.tensor(1))  # decay min(0.999, 2/11): mostly the new weights
    np.testing.assert_allclose(mean[0].numpy(), 1 - 2 / 11, rtol=1e-6)
    mean = [torch.zeros(3)]
    update(mean, value, torch.tensor(10_000))  # long after: the decay itself
    np.testing.assert_allclose(mean[0].numpy(), 0.001, rtol=1e-4)


def _nuclei_pairs(nuclei_sample):
    image, labels = nuclei_sample
    samples = load_pairs([image[:128, :128]], [labels[:128, :128]], "YX", 1, NORM)
    held = load_pairs([image[128:256, :128]], [labels[128:256, :128]], "YX", 1, NORM)
    return samples, held


def _tiny_fine_tune(out, base, epochs: int = 3) -> TrainConfig:
    return TrainConfig(
        "embedding",
        "layers",
        str(out),
        base=str(base),
        epochs=epochs,
        steps_per_epoch=1,
        batch_size=1,
        patch=64,
        device="cpu",
    )


def _same_weights(written, original) -> None:
    from safetensors.numpy import load_file

    written, original = load_file(written / "model.safetensors"), load_file(original)
    assert written.keys() == original.keys()
    for key in original:
        np.testing.assert_array_equal(written[key], original[key])


def test_a_fine_tune_cancelled_after_an_epoch_that_beat_nothing_keeps_its_base(
    tmp_path, tiny_model_dir, nuclei_sample, monkeypatch
):
    """Cancel (or Ctrl-C, or an error) once an epoch has been scored, none beating the base:
    the best model so far is the base, written as a finished run writes it (weights
    unchanged, a card), and the checkpoint stays for --resume."""
    import json

    import tessella.engine.train.loop as loop

    scores = iter([0.9, 0.1, 0.2, 0.3])
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: next(scores))
    samples, held = _nuclei_pairs(nuclei_sample)
    out = tmp_path / "cancelled"
    steps = train_steps(_tiny_fine_tune(out, tiny_model_dir), samples, held)
    for progress in steps:  # up to epoch 1's score
        if progress.epoch == 1 and progress.message:
            break
    assert (out / "checkpoint.pt").is_file() and not (out / "model.safetensors").exists()
    steps.close()  # what Cancel does
    _same_weights(out, tiny_model_dir / "model.safetensors")
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["best_val_ap50"] == 0.9
    assert (out / "checkpoint.pt").is_file()  # --resume can go on


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_model(
    tmp_path, tiny_model_dir, nuclei_sample, monkeypatch
):
    """A step whose loss is NaN is skipped (a rare overflow); a loss that stays NaN for
    MAX_SKIPPED_STEPS steps stops the run with an error that says so. The model kept is the
    best one before it (here the base of a fine-tune none of whose epochs beat it), and no
    NaN weights are written."""
    import dataclasses
    import itertools
    import json

    import pytest
    from safetensors.numpy import load_file

    import tessella.engine.train.loop as loop
    from tessella.engine.train.methods import get_training

    real = get_training("embedding")
    nan_calls: set = set()
    calls = itertools.count()

    def loss(raw, targets, ndim, **extra):
        value = real.loss(raw, targets, ndim, **extra)
        return value * float("nan") if next(calls) in nan_calls else value

    monkeypatch.setattr(loop, "get_training", lambda method: dataclasses.replace(real, loss=loss))
    monkeypatch.setattr(loop, "_validate", lambda *a, **k: next(scores))
    samples, held = _nuclei_pairs(nuclei_sample)

    # one NaN step (the second): skipped, the run goes on and ends as usual
    nan_calls, scores = {1}, itertools.chain([0.9, 0.1], itertools.repeat(0.95))
    out = tmp_path / "one"
    _train(_tiny_fine_tune(out, tiny_model_dir), samples, held)
    log = [json.loads(line) for line in (out / "train.log").read_text().splitlines()]
    assert [entry.get("loss") is None for entry in log] == [True, False, True, False]
    for weights in load_file(out / "model.safetensors").values():
        assert np.isfinite(weights.astype(np.float32)).all()

    # the fine-tune trained a copy: the base, as loaded for segmenting, is unchanged
    from tessella.engine.registry import load_model

    loaded = load_model(tiny_model_dir).network.state_dict()
    for key, weights in load_file(tiny_model_dir / "model.safetensors").items():
        np.testing.assert_allclose(loaded[key].float().numpy(), weights.astype(np.float32))

    # NaN from the second step on: stopped after MAX_SKIPPED_STEPS steps in a row
    calls, nan_calls = itertools.count(), set(range(1, 100))
    scores = itertools.chain([0.9], itertools.repeat(0.1))
    out = tmp_path / "nan"
    epochs = loop.MAX_SKIPPED_STEPS + 2
    with pytest.raises(ValueError, match=r"10 steps in a row\) became NaN .* epoch 11"):
        _train(_tiny_fine_tune(out, tiny_model_dir, epochs), samples, held)
    _same_weights(out, tiny_model_dir / "model.safetensors")
    for weights in load_file(out / "model.safetensors").values():
        assert np.isfinite(weights.astype(np.float32)).all()


def test_sigterm_stops_a_fine_tune_as_ctrl_c_does(tmp_path, tiny_model_dir, nuclei_sample):
    """`tessella train --base` ended by SIGTERM (`timeout`, `kill`, a batch system's time
    limit) once epochs were scored, none beating the base, writes the base's weights as the
    model with a card, as Ctrl-C does, and exits 143 (it used to die leaving only the
    checkpoint). Scores are fixed (the base 0.9, every epoch 0.1) so no epoch wins."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    image, labels = nuclei_sample
    for sub in ("images", "masks"):
        (tmp_path / "data" / sub).mkdir(parents=True)
    for i, ys in enumerate((slice(0, 128), slice(128, 256))):
        tifffile.imwrite(tmp_path / "data" / "images" / f"{i}.tif", image[ys, :128])
        tifffile.imwrite(tmp_path / "data" / "masks" / f"{i}.tif", labels[ys, :128])
    script = (
        "import itertools, sys\n"
        "import tessella.engine.train.loop as loop\n"
        "scores = itertools.chain([0.9], itertools.repeat(0.1))\n"
        "loop._validate = lambda *args, **kwargs: next(scores)\n"
        "from tessella.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    out = tmp_path / "tuned"
    args = ["train", "embedding", "--data", str(tmp_path / "data"), "--out", str(out)]
    args += ["--base", str(tiny_model_dir), "--epochs", "100000", "--steps-per-epoch", "1"]
    args += ["--batch-size", "1", "--patch", "64", "--device", "cpu", "--workers", "0", "-q"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args], stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        # (the whole test took 19 s at a load average of 15 on 2 cores: 3 minutes is for a
        # machine busier still, as the other limits of the suite's subprocesses)
        deadline = time.monotonic() + 180
        while not (out / "checkpoint.pt").exists():  # an epoch scored (and not the best)
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "no epoch was scored within 3 minutes"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, err
    assert "tessella train: terminated" in err
    _same_weights(out, tiny_model_dir / "model.safetensors")
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["best_val_ap50"] == 0.9
    assert (out / "checkpoint.pt").is_file()  # --resume can go on
    assert sorted(p.name for p in out.iterdir()) == [
        "card.json",
        "checkpoint.pt",
        "model.safetensors",
        "train.log",
    ]

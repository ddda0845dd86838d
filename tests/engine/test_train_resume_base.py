"""A fine-tune named like its base (``--base tinybase --out <models>/tinybase``) resumes: the
run records its base's folder and weights when it starts and a resume starts from them; a
checkpoint from before they were recorded finds the base by name without the run's own model,
and a base moved since is found by its weights among the models of its name. (The resumed
``--base tinybase`` was refused as ambiguous: the run's own card has that name too.)"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sys

import pytest

import tessella.engine.train.loop as loop
from tessella.cli import main
from tessella.engine.registry import sha256_file
from tessella.engine.train import TrainConfig, train
from tests.conftest import nuclei_folder

TINY = dict(steps_per_epoch=1, batch_size=1, patch=64, max_val_images=1, device="cpu")


def renamed_model(source, folder, name: str, scale: float | None = None):
    """A copy of the model ``source`` in ``folder`` called ``name``; ``scale`` multiplies its
    weights (other weights, another sha256)."""
    shutil.copytree(source, folder)
    if scale is not None:
        from safetensors.torch import load_file, save_file

        state = load_file(str(folder / "model.safetensors"))
        save_file({k: v * scale for k, v in state.items()}, str(folder / "model.safetensors"))
    card = json.loads((folder / "card.json").read_text())
    card |= {"name": name, "sha256": sha256_file(folder / "model.safetensors")}
    (folder / "card.json").write_text(json.dumps(card))
    return folder


@pytest.fixture
def setting(tmp_path, monkeypatch, tiny_model_dir, nuclei_sample):
    """A user model ``tinybase`` in one model folder, the run's output ``tinybase`` in another
    (a fine-tune named like its base), the data; hold-out scores given (no predicting)."""
    roots = [tmp_path / "models", tmp_path / "share"]
    monkeypatch.setenv("TESSELLA_MODELS", os.pathsep.join(map(str, roots)))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data_home"))
    scores = itertools.count(1)  # each epoch beats the last: the fine-tune's weights are its own
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: next(scores) / 10)
    base = renamed_model(tiny_model_dir, roots[0] / "tinybase", "tinybase")
    return base, roots[1] / "tinybase", nuclei_folder(tmp_path / "data", nuclei_sample)


def _config(data, out, epochs: int, resume: bool) -> TrainConfig:
    return TrainConfig(
        "embedding", str(data), str(out), base="tinybase", epochs=epochs, resume=resume, **TINY
    )


def _training(out) -> dict:
    return json.loads((out / "card.json").read_text())["training"]


def test_the_command_resumes_a_fine_tune_named_like_its_base(setting, monkeypatch, capsys):
    base, out, data = setting
    common = ["train", "embedding", "--data", str(data), "--out", str(out), "--device", "cpu"]
    first = [*common, "--base", "tinybase", "--epochs", "1", "--steps-per-epoch", "1"]
    first += ["--batch-size", "1", "--patch", "64", "--max-val-images", "1", "-q"]
    monkeypatch.setattr(sys, "argv", ["tessella", *first])
    assert main(first) == 0, capsys.readouterr().err
    capsys.readouterr()

    resumed = [*common, "--resume", "--epochs", "2"]
    monkeypatch.setattr(sys, "argv", ["tessella", *resumed])
    assert main(resumed) == 0, capsys.readouterr().err
    assert "--base tinybase" in capsys.readouterr().out  # taken back from the checkpoint
    training = _training(out)
    assert [e["epoch"] for e in training["log_summary"]] == [0, 1, 2]
    # the base's folder and weights, recorded at the start, kept by the resumed run
    assert training["config"]["base_path"] == str(base.resolve())
    sha = json.loads((base / "card.json").read_text())["sha256"]
    assert training["config"]["base_sha256"] == sha
    assert json.loads((out / "card.json").read_text())["sha256"] != sha  # its own weights


def test_an_older_checkpoint_and_a_moved_base_find_the_base_the_run_started_from(setting):
    import torch

    base, out, data = setting
    train(_config(data, out, 1, False))
    # a checkpoint (and card) from before the base's folder and weights were recorded
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    saved = json.loads(state["config"])
    state["config"] = json.dumps({k: v for k, v in saved.items() if k[:5] != "base_"})
    torch.save(state, out / "checkpoint.pt")
    train(_config(data, out, 2, True))  # by name, without the run's own model
    assert _training(out)["config"]["base_path"] == str(base.resolve())

    # the base moved (its recorded folder gone) and another model called tinybase installed:
    # the one with the recorded weights is the base
    moved = base.rename(base.parent / "moved")
    renamed_model(moved, base.parent / "other", "tinybase", scale=0.5)
    train(_config(data, out, 3, True))
    training = _training(out)
    assert training["config"]["base_path"] == str(moved.resolve())
    assert (
        training["config"]["base_sha256"] == json.loads((moved / "card.json").read_text())["sha256"]
    )
    assert [e["epoch"] for e in training["log_summary"]] == [0, 1, 2, 3]

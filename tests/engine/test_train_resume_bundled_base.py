"""A run started from a bundled model whose weights changed since (Tessella upgraded) is not
resumed, and the refusal says what can be done instead (the old bundled model cannot be put
back): go on as a new fine-tune from the run's own model. The run is kept untouched."""

from __future__ import annotations

import itertools
import json
import os

import pytest

import tessella.engine.train.loop as loop
from tessella.engine import registry
from tessella.engine.train import TrainConfig, train
from tests.conftest import nuclei_folder
from tests.engine.test_train_resume_base import TINY, renamed_model


def test_a_run_from_a_bundled_model_with_other_weights_now_says_what_to_do(
    tmp_path, monkeypatch, tiny_model_dir, nuclei_sample
):
    bundled = tmp_path / "site-packages" / "tessella" / "bundled"  # this install's models
    monkeypatch.setattr(registry, "bundled_dir", lambda: bundled)
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data_home"))
    scores = itertools.count(1)
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: next(scores) / 10)
    old = renamed_model(tiny_model_dir, bundled / "tinybase", "tinybase")
    data, out = nuclei_folder(tmp_path / "data", nuclei_sample), tmp_path / "run"

    def config(epochs: int, resume: bool) -> TrainConfig:
        return TrainConfig(
            "embedding",
            str(data),
            str(out),
            base="tinybase",
            epochs=epochs,
            resume=resume,
            name="mine",
            **TINY,
        )

    train(config(1, False))
    was = json.loads((old / "card.json").read_text())["sha256"]
    assert json.loads((out / "card.json").read_text())["training"]["config"]["base_path"] == str(
        old.resolve()
    )

    # Tessella upgraded: its bundled tinybase has other weights
    old.rename(tmp_path / "gone")
    new = renamed_model(tmp_path / "gone", bundled / "tinybase", "tinybase", scale=0.5)
    now = json.loads((new / "card.json").read_text())["sha256"]
    assert now != was
    kept = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    with pytest.raises(ValueError) as refused:
        train(config(2, True))
    said = str(refused.value)
    assert f"bundled 'tinybase' has other weights (sha256 {now[:12]}" in said
    assert f"started from sha256 {was[:12]}" in said
    assert f"tessella train embedding --data {data} --base {out} --out NEW" in said
    assert "put it back" not in said and "\n" not in said
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == kept

    # recorded by another install (an environment since replaced): a bundled model too
    from tessella.engine.train._starting_model import resumed_base

    elsewhere = "/old/env/lib/python3.11/site-packages/tessella/bundled/tinybase"
    saved = {"method": "embedding", "data": str(data), "base": "tinybase"}
    said = resumed_base(out, saved | {"base_path": elsewhere, "base_sha256": was})
    assert isinstance(said, str) and "bundled 'tinybase' has other weights" in said

    # without the run's own model (no card in it): start again from the new bundled model
    os.remove(out / "card.json")
    with pytest.raises(ValueError, match="--base tinybase --out NEW; the run and its checkpoint"):
        train(config(2, True))

"""A fine-tune's card carries what the runs that trained its base warned of their data: a
model fine-tuned (``--base``) from one trained on a 0/1 mask of one piece per image showed as
clean in ``tessella models``, ``model_info``, the Segment panel and the bioimage.io README,
though its card keeps the base's training record (``training.base_training``). Each line is
marked as the base's, a fine-tune of a fine-tune keeps them all, once each, and ``--resume``
keeps them. Tiny runs (one step); the hold-out scores are given."""

from __future__ import annotations

import itertools
import json
import warnings

import pytest

import tessella
import tessella.engine.train.loop as loop
from tessella.cli import main
from tessella.engine.bioimageio import _documentation
from tessella.engine.registry import checked_card, read_card
from tessella.engine.train import TrainConfig, train
from tests.conftest import nuclei_folder
from tests.engine.test_train_card_warnings import TINY, _one_piece_masks


@pytest.fixture
def scored(monkeypatch):
    """Hold-out scores given (no predicting): each epoch beats the last."""
    scores = itertools.count(1)
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: next(scores) / 10)


def _training(out) -> dict:
    return json.loads((out / "card.json").read_text())["training"]


def test_a_fine_tune_carries_its_bases_warnings(
    tmp_path,
    nuclei_sample,
    scored,
    monkeypatch,
    capsys,
):
    doubtful = _one_piece_masks(nuclei_folder(tmp_path / "doubtful", nuclei_sample, count=2))
    clean = nuclei_folder(tmp_path / "clean", nuclei_sample, count=2)
    models = tmp_path / "models"
    with pytest.warns(UserWarning, match="one piece"):
        train(TrainConfig("boundary", str(doubtful), str(models / "suspect"), **TINY))
    (said,) = _training(models / "suspect")["warnings"]
    assert said.startswith(f"{doubtful}: the labels of ") and "hold only 0 and 1" in said

    # fine-tuned on clean labels: its own run says nothing, its base's line is carried
    tuned = models / "tuned"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the clean data: no warning of its own
        train(TrainConfig("boundary", str(clean), str(tuned), base=str(models / "suspect"), **TINY))
    assert "warnings" not in _training(tuned)
    assert read_card(tuned).training_warnings == (f"base 'suspect': {said}",)
    assert read_card(tuned).base_warnings == (f"base 'suspect': {said}",)

    # a fine-tune of the fine-tune, on the doubtful data again: its own line, then the base's
    # base's, marked through whom, once
    again = models / "again"
    with pytest.warns(UserWarning, match="one piece"):
        train(TrainConfig("boundary", str(doubtful), str(again), base=str(tuned), **TINY))
    assert read_card(again).training_warnings == (
        said,
        f"base 'tuned', its base 'suspect': {said}",
    )

    # resumed for one more epoch: the base's line is still there
    resumed = {**TINY, "epochs": 2}
    train(
        TrainConfig(
            "boundary", str(clean), str(tuned), base=str(models / "suspect"), resume=True, **resumed
        )
    )
    assert [e["epoch"] for e in _training(tuned)["log_summary"]] == [0, 1, 2]
    assert read_card(tuned).training_warnings == (f"base 'suspect': {said}",)

    # shown where a user looks at a model: the list, model_info, the bioimage.io README
    monkeypatch.setenv("TESSELLA_MODELS", str(models))
    assert tessella.model_info("tuned").card.training_warnings == (f"base 'suspect': {said}",)
    assert main(["models"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in out[1:] if line and not line.startswith((" ", "!"))}
    assert all(rows[name].startswith(f"{name} !") for name in ("suspect", "tuned", "again"))
    notes = out[out.index(next(line for line in out if line.startswith("! "))) :]
    assert "base 'X'" in notes[0]
    assert f"  tuned: base 'suspect': {said}" in notes
    assert f"  again: base 'tuned', its base 'suspect': {said}" in notes
    readme = _documentation(checked_card("again", verify=False)[0])
    assert f"\n- base 'tuned', its base 'suspect': {said}\n" in readme
    assert f"\n- {said}\n" in readme

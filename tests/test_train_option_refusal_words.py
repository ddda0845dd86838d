"""A training run's option refusals are said in the caller's words (s35 f3 #1), as the
resume refusals were (ResumeRefused): ``tessella.train`` names its keywords (``base='X'``,
``resume=True``, ``distil``), ``tessella train`` its options (``--base X``, ``--resume``:
unchanged) and the Train panel its controls (``Start from``, ``Resume``, ``Save as``).
Before, each was said in the command's words only, to Python callers and the panel too.

Nothing is trained: each refusal comes before any data is read (a data folder that is not
there is never looked at)."""

from __future__ import annotations

import warnings

import pytest

import tessella
from tessella.cli import main
from tessella.engine.train import TrainConfig
from tessella.engine.train._options import _check_options
from tessella.engine.train._worded import Refused, WordedWarning


def _refused(call) -> Refused:
    with pytest.raises(Refused) as refused:
        call()
    return refused.value


def test_a_folder_holding_a_model_is_refused_in_each_callers_words(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "card.json").write_text("{}")
    data = str(tmp_path / "data")
    refused = _refused(lambda: tessella.train("embedding", data, out, device="cpu"))
    assert str(refused) == (
        f"{out} holds a model already (card.json); resume=True continues its training, or "
        "choose another out folder"
    )
    assert refused.cli == (
        f"{out} holds a model already (card.json); --resume continues its training, or "
        "choose another output folder"
    )
    assert refused.panel == (
        f"a model 'mine' is in {tmp_path} already (card.json); Resume continues its run, or "
        "choose another name in Save as"
    )
    # the command says its own words (one line), as before
    assert main(["train", "embedding", "--data", data, "--out", str(out), "-q"]) == 1
    assert capsys.readouterr().err == f"tessella train: error: {refused.cli}\n"


def test_resume_of_a_model_without_checkpoint_is_refused_in_each_callers_words(tmp_path):
    out = tmp_path / "done"
    out.mkdir()
    (out / "model.safetensors").write_text("x")
    config = TrainConfig("embedding", str(tmp_path / "data"), str(out), resume=True)
    refused = _refused(lambda: _check_options(config))
    assert str(refused) == (
        f"resume=True into {str(out)!r}: it holds a model but no checkpoint to continue "
        f"from; fine-tune it with base={str(out)!r} into another out folder"
    )
    assert refused.cli == (
        f"--resume {out}: it holds a model but no checkpoint to continue from; fine-tune it "
        "with --base into another output folder"
    )
    assert refused.panel == (
        "Resume of 'done': it holds a model but no checkpoint to continue from; choose it in "
        "Start from to fine-tune it under another name"
    )


def test_resume_with_nothing_to_resume_warns_in_each_callers_words(tmp_path):
    out = tmp_path / "fresh"
    config = TrainConfig("embedding", str(tmp_path / "data"), str(out), resume=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _check_options(config)
    [warned] = [w.message for w in caught]
    assert isinstance(warned, WordedWarning)
    assert str(warned) == (
        f"resume=True: {out} has no checkpoint to continue; training starts afresh"
    )
    assert warned.cli == f"--resume: {out} has no checkpoint to continue; training starts afresh"
    assert warned.panel == (
        "Resume of 'fresh': it has no checkpoint to continue; training starts afresh"
    )


def test_a_base_of_another_method_and_distil_without_base_in_each_callers_words(tmp_path):
    data, out = str(tmp_path / "data"), str(tmp_path / "o")
    refused = _refused(
        lambda: tessella.train("embedding", data, out, base="em-membranes2d", device="cpu")
    )
    assert str(refused) == (
        "base='em-membranes2d': a boundary model cannot start an embedding model"
    )
    assert refused.cli == "--base em-membranes2d: a boundary model cannot start an embedding model"
    assert refused.panel == (
        "Start from 'em-membranes2d': a boundary model cannot start an embedding model"
    )
    refused = _refused(lambda: tessella.train("embedding", data, out, distil=5.0, device="cpu"))
    assert str(refused) == "distil needs a base model to learn from"
    assert refused.cli == "--distil needs a --base model to learn from"  # as before
    assert "--" not in str(refused) + refused.panel
    assert not (tmp_path / "o").exists()

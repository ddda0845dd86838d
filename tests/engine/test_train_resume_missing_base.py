"""Resuming a fine-tune whose base model is not installed any more says which model (its name,
folder and sha256) and what to do, and keeps the run as it is: it failed with "unknown model
'tinybase': not one of ..." (no word of the run), or took another model of that name (other
weights) as the base without a word. Put back, the base resumes the run."""

from __future__ import annotations

import json
import sys

import pytest

from tessella.cli import main
from tessella.engine.train import train
from tests.engine.test_train_resume_base import _config, renamed_model
from tests.engine.test_train_resume_base import setting as setting  # the fixture


def _files(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_resume_whose_base_is_gone_says_which_and_keeps_the_run(
    setting, tmp_path, monkeypatch, capsys
):
    base, out, data = setting
    train(_config(data, out, 1, False))
    folder, sha = base.resolve(), json.loads((base / "card.json").read_text())["sha256"]
    away = base.rename(tmp_path / "away")  # not installed any more
    before = _files(out)

    missing = (
        f"the model its run started from, 'tinybase' (folder {folder}, sha256 {sha[:12]}), is "
        "not installed any more; put it back (that folder, or a copy of it in a models "
        f"folder), then resume; the run and its checkpoint in {out} are kept as they are"
    )
    with pytest.raises(ValueError) as refused:
        train(_config(data, out, 2, True))
    # in the Python API's words (79e3339); the command's are its own
    assert str(refused.value) == f"resume=True into {str(out)!r}: {missing}"
    assert getattr(refused.value, "cli", None) == f"--resume {out}: {missing}"
    assert _files(out) == before  # nothing of the run touched

    # the command: the base taken from the checkpoint, the same one line
    command = ["train", "embedding", "--data", str(data), "--out", str(out), "--resume", "-q"]
    monkeypatch.setattr(sys, "argv", ["tessella", *command])
    assert main(command) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.endswith(f"--resume {out}: {missing}"), err

    # another model of that name (other weights) is not the base
    renamed_model(away, base.parent / "other", "tinybase", scale=0.5)
    with pytest.raises(ValueError, match="a model of that name with other weights is not it"):
        train(_config(data, out, 2, True))
    assert _files(out) == before

    away.rename(base)  # put back: the run goes on from it
    train(_config(data, out, 2, True))
    training = json.loads((out / "card.json").read_text())["training"]
    assert [e["epoch"] for e in training["log_summary"]] == [0, 1, 2]
    assert training["config"]["base_sha256"] == sha

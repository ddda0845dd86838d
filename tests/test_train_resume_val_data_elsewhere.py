"""A run scored on ``--val-data`` given relative (``--val-data held``) resumes from another
working folder (s35 f3, found checking #2): its checkpoint kept the folder as typed, so
``tessella train --resume`` run elsewhere read ``./held`` there ("held must hold images/ and
masks/ ..."), and so did ``tessella.train(resume=True)``. A checkpoint now keeps the folder in
full, as the card records it; one written before takes the card's record; and the folder
given again as typed (``--val-data held``, from where the run started) is the same hold-out,
not refused as another.

Tiny real runs: 128-pixel crops of the shipped DSB2018 nuclei sample, one step of batch 1;
the hold-out score is fixed (``_validate`` patched) so that nothing is predicted."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

import tessella
import tessella.engine.train.loop as loop
from tessella.cli import main
from tessella.engine.train._checkpoint import resumed_settings
from tests.conftest import nuclei_folder

SMALL = dict(features=(8, 16), steps_per_epoch=1, batch_size=1, patch=64, device="cpu")


@pytest.fixture
def started(tmp_path, monkeypatch, nuclei_sample):
    """A run of 1 epoch from ``tmp_path`` with ``val_data="held"`` (a crop of its own)."""
    data = nuclei_folder(tmp_path / "data", nuclei_sample, count=2)
    image, labels = nuclei_sample
    for sub, array in (("images", image), ("masks", labels.astype(np.uint16))):
        (tmp_path / "held" / sub).mkdir(parents=True)
        tifffile.imwrite(tmp_path / "held" / sub / "h.tif", array[384:512, 128:256])
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: 0.5)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    tessella.train("embedding", data, out, val_data="held", epochs=1, **SMALL)
    monkeypatch.chdir(data)  # elsewhere: "held" is no folder here
    return data, out, tmp_path / "held"


def _epochs(out) -> list[int]:
    card = json.loads((out / "card.json").read_text())
    return [e["epoch"] for e in card["training"]["log_summary"]]


def test_the_checkpoint_keeps_the_folder_in_full_and_resumes_from_anywhere(started, capsys):
    data, out, held = started
    assert resumed_settings(out)["val_data"] == str(held)
    assert main(["train", "embedding", "--data", str(data), "--out", str(out), "--resume",
                 "--epochs", "2", "-q"]) == 0, capsys.readouterr().err  # fmt: skip
    assert _epochs(out) == [1, 2]
    card = json.loads((out / "card.json").read_text())["training"]
    assert card["val_data"] == str(held) == card["config"]["val_data"]


def test_the_folder_given_again_as_typed_is_the_same_hold_out(started, monkeypatch):
    data, out, held = started
    monkeypatch.chdir(held.parent)  # where the run started: "held" is that folder
    with pytest.warns(UserWarning, match="changes the settings it was started with"):
        tessella.train("embedding", data, out, resume=True, val_data="held", epochs=2)
    assert _epochs(out) == [1, 2]


def test_a_checkpoint_that_kept_it_as_typed_takes_the_cards_record(started):
    import torch

    data, out, held = started
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    config = json.loads(state["config"])
    state["config"] = json.dumps({**config, "val_data": "held"})  # as written before
    torch.save(state, out / "checkpoint.pt")
    assert resumed_settings(out)["val_data"] == str(held)  # the card's, in full
    tessella.train("embedding", data, out, resume=True, epochs=2)
    assert _epochs(out) == [1, 2]

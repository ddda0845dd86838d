"""A resume refused for another network, another ``ignore_label`` or an unreadable
checkpoint is said in the caller's words (s34 f11 #2, as d302fb7 did for the hold-out and
its scoring): ``tessella.train`` names its keywords (``features=(16, 32)``,
``resume=True into 'OUT'``), ``tessella train`` its options (``--features 16,32``,
``--resume OUT``: unchanged) and the Train panel its own (``Resume of 'NAME'``).

Tiny real runs: 128-pixel crops of the shipped DSB2018 nuclei sample, one step of batch 1;
the hold-out score is fixed (``_validate`` patched) so that nothing is predicted."""

from __future__ import annotations

import contextlib

import pytest

import tessella
import tessella.engine.train.loop as loop
from tessella.cli import main
from tessella.engine.train._checkpoint import ResumeRefused
from tests.conftest import nuclei_folder

FIRST = dict(
    features=(8, 16),
    epochs=1,
    steps_per_epoch=1,
    batch_size=1,
    patch=64,
    val_fraction=0.5,
    device="cpu",
)


@pytest.fixture
def stopped(tmp_path, monkeypatch, nuclei_sample):
    """A first run of 1 epoch, its checkpoint kept, trained by tessella.train."""
    data = nuclei_folder(tmp_path / "data", nuclei_sample, count=2)
    out = tmp_path / "run"
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: 0.5)
    tessella.train("embedding", data, out, **FIRST)
    assert (out / "checkpoint.pt").is_file()
    return data, out


def _refusal(data, out, **options) -> ResumeRefused:
    with pytest.warns(UserWarning) if options else contextlib.nullcontext():
        with pytest.raises(ResumeRefused) as refused:
            tessella.train("embedding", data, out, resume=True, epochs=2, **options)
    return refused.value


def test_another_network_is_refused_in_each_callers_words(stopped, capsys):
    data, out = stopped
    refused = _refusal(data, out, features=(16, 32))
    assert str(refused) == (
        f"resume=True into {str(out)!r}: its checkpoint holds another network than this run "
        "asks for: features=(16, 32) given, the checkpoint has (8, 16) (leave a keyword out "
        "to take the checkpoint's)"
    )
    assert refused.cli == (
        f"--resume {out}: its checkpoint holds another network than this run asks for: "
        "--features 16,32 given, the checkpoint has 8,16 (leave an option out to take the "
        "checkpoint's)"
    )
    assert refused.panel.startswith(
        "Resume of 'run': its checkpoint holds another network than this run asks for: "
        "features 16,32 given, the checkpoint has 8,16; resume it with the settings"
    )
    assert "--" not in str(refused) and "--features" not in refused.panel


def test_an_unreadable_checkpoint_is_refused_in_each_callers_words(stopped, capsys):
    data, out = stopped
    checkpoint = out / "checkpoint.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:300])  # cut short, as by a full disk
    refused = _refusal(data, out)
    assert str(refused).startswith(
        f"resume=True into {str(out)!r}: its checkpoint {checkpoint} cannot be read, "
        "truncated or not one ("
    ), str(refused)
    assert str(refused).endswith("; train into another out folder")
    assert refused.cli.startswith(f"--resume {checkpoint}: the checkpoint cannot be read")
    assert refused.panel.startswith("Resume of 'run': its checkpoint cannot be read")
    assert refused.panel.endswith("; train a new model")
    assert "\n" not in str(refused) + refused.cli + refused.panel
    # the command line says its own words, as before
    args = ["train", "embedding", "--data", str(data), "--out", str(out), "--resume", "-q"]
    assert main([*args, "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert err == f"tessella train: error: {refused.cli}\n", err

"""``tessella train``'s learning rate and batch size unless told: the engine's, as the Train
panel's (``default_lr``: 3e-4 with ``--base``, 1e-3 for a new model; ``DEFAULT_BATCH_SIZE``),
not literals of the parser's own (it took 5e-4 for both). The Train panel side:
tests/widgets/test_train_cli_api_same_defaults.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tessella.engine.train as train_module
from tessella.cli import main
from tessella.engine.train._config import DEFAULT_BATCH_SIZE, default_lr


def _config(monkeypatch, tmp_path, *options: str):
    """The config ``tessella train embedding ... OPTIONS`` trains with (nothing trained)."""
    out = tmp_path / "model"
    configs: list = []

    def fake_train_steps(config):
        configs.append(config)
        out.mkdir()
        (out / "card.json").write_text("{}")
        (out / "model.safetensors").write_bytes(b"")
        (out / "train.log").write_text("")
        yield from ()

    monkeypatch.setattr(train_module, "train_steps", fake_train_steps)
    args = ["train", "embedding", "--data", str(tmp_path), "--out", str(out), "-q", *options]
    assert main(args) == 0
    [config] = configs
    return config


@pytest.mark.parametrize(
    ("options", "lr", "batch_size"),
    [
        (("--base", "nuclei2d"), default_lr(True), DEFAULT_BATCH_SIZE),
        ((), default_lr(False), DEFAULT_BATCH_SIZE),
        (("--base", "nuclei2d", "--lr", "5e-4", "--batch-size", "3"), 5e-4, 3),
    ],
)
def test_train_takes_the_engines_defaults(monkeypatch, tmp_path, options, lr, batch_size):
    config = _config(monkeypatch, tmp_path, *options)
    assert (config.lr, config.batch_size) == (lr, batch_size), options
    assert (default_lr(True), default_lr(False)) == (3e-4, 1e-3)  # the README says them


def test_the_parser_does_not_import_the_training_engine():
    """The help fills the engine's values in as it is printed: importing the engine to
    build the parser would add about half a second to every command."""
    code = (
        "import sys\n"
        "from tessella.cli._parser import _build_parser\n"
        "_build_parser().parse_args(['train', 'embedding', '--data', 'd', '--out', 'o'])\n"
        "print('tessella.engine.train' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stdout + done.stderr

"""The Train panel, ``tessella train``, ``tessella.train`` and a ``TrainConfig`` made in code
train with the same learning rate and batch size unless told otherwise: the command took
5e-4 where the panel proposes 3e-4 to fine-tune a model and 1e-3 for a new one
(``default_lr``), so the same data and choices gave models whose cards record other
settings; a ``TrainConfig`` made in code still took 5e-4 after that (session 32's note).
Each run here is recorded before any training (its config, as the card records it)."""

from __future__ import annotations

import pytest

import tessella
import tessella._widgets._train_starting as starting_module
import tessella.engine.train as train_module
from tessella._widgets.train import NEW
from tessella.engine.train import TrainConfig
from tests.test_cli_train_defaults import _config
from tests.widgets.test_train_run_feedback import _panel

SAME = ("lr", "batch_size")


def _panel_config(viewer, qtbot, monkeypatch, base: str):
    configs: list = []

    def engine(config, samples, held):
        configs.append(config)
        yield from ()

    monkeypatch.setattr(starting_module, "_train", engine)
    train = _panel(viewer, base)
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
    train.close()
    [config] = configs
    return config


def _python_config(monkeypatch, out, base: str | None):
    configs: list = []
    monkeypatch.setattr(train_module, "train", configs.append)
    options = {"base": base} if base else {}
    tessella.train("embedding", out.parent, out, **options)
    [config] = configs
    return config


@pytest.mark.parametrize("base", ["nuclei2d", None])
def test_panel_command_and_python_train_with_the_same_defaults(
    viewer_models, qtbot, monkeypatch, tmp_path, base
):
    viewer, _models = viewer_models
    panel = _panel_config(viewer, qtbot, monkeypatch, base or NEW + "embedding")
    assert bool(panel.base) == bool(base), panel.base
    command = _config(monkeypatch, tmp_path, *(["--base", base] if base else []))
    python = _python_config(monkeypatch, tmp_path / "python", base)
    # made in code, as a user driving train_steps for progress makes it
    code = TrainConfig("embedding", str(tmp_path), str(tmp_path / "code"), base=base)
    for name in SAME:
        said = tuple(getattr(c, name) for c in (panel, command, python, code))
        assert len(set(said)) == 1, (name, said)
    told = TrainConfig("embedding", str(tmp_path), str(tmp_path / "told"), base=base, lr=5e-4)
    assert told.lr == 5e-4  # a learning rate given is kept
    assert panel.lr == (3e-4 if base else 1e-3)  # the bundled models' runs (docs/models.md)

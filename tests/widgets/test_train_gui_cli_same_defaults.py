"""The Train panel's defaults and the command its card records (user test t10, finding 3):
the panel trained with batch 4 (no field) where the command takes 8, nowhere said, and its
card's command was "napari Train widget on FOLDER", which no shell runs. Now both take the
engine's batch size (a Batch size field shows it), and a folder run's card records the
`tessella train` command that parses to the same settings (its learning rate included: the
panel proposes 3e-4 for a fine-tune, 1e-3 for a new model, as the command takes unless told:
tests/widgets/test_train_cli_api_same_defaults.py)."""

from __future__ import annotations

import shlex

import tifffile

import tessella._widgets._train_starting as starting_module
from tessella.cli._parser import _build_parser
from tessella.engine.train import TrainConfig
from tests.widgets.test_train_run_feedback import _disks, _panel


def _recording(configs: list):
    def engine(config, samples, held):
        configs.append(config)
        yield from ()

    return engine


def test_the_panel_takes_the_commands_defaults(viewer_models):
    viewer, _models = viewer_models
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    args = _build_parser().parse_args(["train", "embedding", "--data", "d", "--out", "o"])
    assert args.batch_size is None and args.lr is None  # the engine's, as the panel's
    assert train.batch_spin.value() == TrainConfig("embedding", "d", "o").batch_size
    from tessella.engine.train._config import default_lr

    assert train.lr_spin.value() == default_lr(True)  # a fine-tune (nuclei2d) is proposed


def test_a_folder_runs_card_command_parses_to_the_same_settings(
    viewer_models, qtbot, monkeypatch, tmp_path
):
    viewer, _models = viewer_models
    folder = tmp_path / "my data"
    image, labels = _disks()
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
    for name in ("a", "b", "c"):
        tifffile.imwrite(folder / "images" / f"{name}.tif", image)
        tifffile.imwrite(folder / "masks" / f"{name}.tif", labels)
    train = _panel(viewer)
    train.pairs = []
    train.folder_edit.setText(str(folder))
    train.name_edit.setText("from-folder")
    train.batch_spin.setValue(3)
    train.average_check.setChecked(True)
    configs: list = []
    monkeypatch.setattr(starting_module, "_train", _recording(configs))
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
    [config] = configs
    words = shlex.split(config.command)
    assert words[:3] == ["tessella", "train", "embedding"], config.command
    args = _build_parser().parse_args(words[1:])
    for option, value in (
        ("data", [str(folder)]),
        ("out", config.out),
        ("epochs", config.epochs),
        ("steps_per_epoch", config.steps_per_epoch),
        ("batch_size", 3),
        ("patch", config.patch),
        ("lr", config.lr),
        ("ema", config.ema),
        ("val_fraction", config.val_fraction),
        ("device", "cpu"),
    ):
        assert getattr(args, option) == value, (option, config.command)
    assert args.holdout.split(",") == list(config.holdout) and config.holdout, config.command


def test_a_layers_runs_card_command_says_the_layers_and_the_command_for_files(
    viewer_models, qtbot, monkeypatch
):
    viewer, _models = viewer_models
    train = _panel(viewer)
    train.name_edit.setText("from-layers")
    configs: list = []
    monkeypatch.setattr(starting_module, "_train", _recording(configs))
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
    [config] = configs
    assert config.command.startswith(
        "napari Train widget on layers img + gt; in no file (made in napari; the card does "
        "not keep them): 'img', 'gt'; with each pair saved as "
    ), config.command
    command = config.command.split("the same run is: ", 1)[1]
    args = _build_parser().parse_args(shlex.split(command)[1:])
    assert args.data == ["FOLDER"] and args.batch_size == config.batch_size


def test_a_layers_runs_card_command_names_the_files_the_layers_came_from(
    viewer_models, qtbot, monkeypatch, tmp_path
):
    """User test t10, finding 4: a run on layers opened from files recorded only the layers'
    names; now its command names the files they were opened from."""
    viewer, _models = viewer_models
    image, labels = _disks()
    tifffile.imwrite(tmp_path / "cells.tif", image)
    [layer] = viewer.open(str(tmp_path / "cells.tif"), plugin="tessella")
    painted = viewer.add_labels(labels, name="painted")
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.device_combo.setCurrentText("cpu")
    train.add_pair(layer, painted)
    train.name_edit.setText("from-files")
    configs: list = []
    monkeypatch.setattr(starting_module, "_train", _recording(configs))
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
    [config] = configs
    assert f"opened from files: '{layer.name}' {tmp_path / 'cells.tif'}; " in config.command
    assert "in no file (made in napari; the card does not keep them): 'painted'; " in (
        config.command
    )

"""Training's last messages in the command's words only (s35 f3's report) are said in each
caller's: a hold-out that is the training data ("Give --val-data a folder ..."), a 2D image for
a 3D model ("--ndim 2 for 2D images") and a run stopped by its time budget ("resume with
--resume") named the command's options to ``tessella.train`` and the Train panel too. Now
Python is told its keywords (``val_data``, ``ndim=2``, ``resume=True``), ``tessella train`` its
options as before, the panel its controls (Hold-out folder, Start from, Resume); a model's card
records the warning in the words of the run that trained it (its recorded command's)."""

from __future__ import annotations

import json
import warnings

import pytest

import tessella
from tessella.cli import main
from tessella.engine.train import TrainConfig
from tessella.engine.train._worded import Refused, WordedWarning, in_words
from tessella.engine.train.loop import train_steps
from tests.conftest import nuclei_folder, warnings_of_loading

TINY = dict(epochs=1, steps_per_epoch=1, batch_size=1, patch=64, features=(8, 16), device="cpu")


def _scored_on_training(data, out, val_data=None) -> WordedWarning:
    config = TrainConfig("embedding", str(data), str(out), val_data=val_data, **TINY)
    [said] = [w.message for w in warnings_of_loading(config) if "not how it does" in str(w.message)]
    assert isinstance(said, WordedWarning)
    return said


def test_a_hold_out_of_the_training_data_is_warned_of_in_each_callers_words(
    tmp_path, nuclei_sample
):
    one = nuclei_folder(tmp_path / "one", nuclei_sample, count=1)
    said = _scored_on_training(one, tmp_path / "out")
    means = (
        f"{one} holds one image (0.tif): it is trained on and scored on; val_ap50 and the "
        "epoch kept as the best then tell how well the model fits the images it learns from, "
        "not how it does on new ones. "
    )
    assert str(said) == means + (
        "Give val_data a folder of other images, or add images to hold one out "
        "(val_fraction, holdout)"
    )
    assert said.cli == means + (
        "Give --val-data a folder of other images, or add images to hold one out "
        "(--val-fraction, --holdout)"
    )
    assert said.panel == means + (
        "Give the Hold-out folder a folder of other images, or add images to hold one out "
        "(Hold out)"
    )

    two = nuclei_folder(tmp_path / "two", nuclei_sample)
    said = _scored_on_training(two, tmp_path / "out2", val_data=str(two))
    assert str(said).startswith(f"val_data={str(two)!r} is the data folder: every image")
    assert str(said).endswith(
        "Give val_data a folder of other images, or leave it out to hold some of data out "
        "(val_fraction, holdout)"
    )
    assert said.cli.startswith(f"--val-data {two} is the --data folder: every image")
    assert said.cli.endswith(
        "Give --val-data a folder of other images, or leave it out to hold some of --data out "
        "(--val-fraction, --holdout)"
    )
    assert said.panel.startswith(f"Hold-out folder '{two}' is the Folder: every image")
    assert said.panel.endswith(
        "Give the Hold-out folder a folder of other images, or leave it empty to hold some "
        "of the Folder out (Hold out)"
    )


def test_a_2d_image_for_a_3d_model_is_refused_in_each_callers_words(
    tmp_path, nuclei_sample, capsys
):
    data = nuclei_folder(tmp_path / "data", nuclei_sample)
    with pytest.raises(Refused) as refused:
        tessella.train("embedding", data, tmp_path / "m", ndim=3, **TINY)
    where = f"{data / 'images' / '0.tif'}: the image has spatial axes YX (shape (128, 128)) "
    assert str(refused.value) == (
        where + "but the model expects ZYX (a 3D model trains on ZYX volumes: ndim=2 for 2D images)"
    )
    assert refused.value.panel == (
        where + "but the model expects ZYX (a 3D model trains on ZYX volumes: choose a 2D "
        "model in Start from for 2D images)"
    )
    args = ["train", "embedding", "--data", str(data), "--out", str(tmp_path / "m"), "-q"]
    assert main([*args, "--ndim", "3", "--device", "cpu"]) == 1
    assert capsys.readouterr().err == (
        "tessella train: error: "
        + where
        + "but the model expects ZYX (a 3D model trains on ZYX volumes: --ndim 2 for 2D images)\n"
    )
    assert not (tmp_path / "m").exists()


def test_a_run_stopped_by_its_time_budget_says_how_to_resume_in_each_callers_words(
    tmp_path, nuclei_sample
):
    data = nuclei_folder(tmp_path / "data", nuclei_sample)
    config = TrainConfig(
        "embedding", str(data), str(tmp_path / "m"), **{**TINY, "epochs": 3}, time_budget=1e-6
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        messages = [p.message for p in train_steps(config) if p.message]
    stopped = messages[-1]
    assert str(stopped) == "time budget reached; continue it with resume=True"
    assert in_words(stopped, "cli") == "time budget reached; resume with --resume"
    assert in_words(stopped, "panel") == "time budget reached; Resume continues it"


def test_the_card_records_the_warning_in_the_words_of_the_run_that_trained_it(
    tmp_path, nuclei_sample, capsys
):
    one = nuclei_folder(tmp_path / "one", nuclei_sample, count=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tessella.train("embedding", one, tmp_path / "py", **TINY)
    [line] = json.loads((tmp_path / "py" / "card.json").read_text())["training"]["warnings"]
    assert line.endswith(
        "Give val_data a folder of other images, or add images to hold one "
        "out (val_fraction, holdout)"
    )
    tiny = ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "1", "--patch", "64"]
    args = ["train", "embedding", "--data", str(one), "--out", str(tmp_path / "cli"), "-q"]
    assert main([*args, *tiny, "--features", "8,16", "--device", "cpu"]) == 0
    assert "warning: " + str(tmp_path / "one") in capsys.readouterr().err
    [line] = json.loads((tmp_path / "cli" / "card.json").read_text())["training"]["warnings"]
    assert line.endswith("(--val-fraction, --holdout)")

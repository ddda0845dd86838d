"""A card says where its data and model are from any folder (absolute paths; the command as
typed), and a 3D model started from a 2D base keeps the base's parameters, which its hold-out
is scored with, saying that the base's TTA is not kept (a warning at the start)."""

import json
import os

import numpy as np
import pytest

from tessella.engine.methods import get_method
from tessella.engine.registry import load_model
from tessella.engine.train import TrainConfig
from tessella.engine.train._checkpoint import _new_run
from tessella.engine.train._model_card import _training_record
from tessella.engine.train._starting_model import _starting_model
from tessella.engine.train.loop import _keep_best
from tessella.engine.train.methods import get_training


def test_the_card_records_absolute_paths_and_the_command_as_typed(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "models" / "m").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    config = TrainConfig("boundary", "data", "models/m", val_data="data", command="tessella x")
    record = _training_record(config, [], [], None)
    data = os.path.join(str(tmp_path), "data")
    assert record["data"] == data and record["val_data"] == data
    assert record["config"]["data"] == data and record["config"]["out"] == str(
        tmp_path / "models" / "m"
    )
    assert record["command"] == "tessella x"
    layers = TrainConfig("boundary", "napari layers: a + a gt", "models/m")
    assert _training_record(layers, [], [], None)["data"] == "napari layers: a + a gt"


def test_a_3d_model_from_a_2d_base_keeps_its_parameters_not_its_tta(tmp_path):
    base = load_model("em-mito2d").card.defaults
    assert base["tta"] and base["params"]
    config = TrainConfig("semantic", "d", str(tmp_path / "m"), base="em-mito2d", ndim=3)
    start = _starting_model(config, get_method("semantic"), get_training("semantic"), False)
    said = str(start.note)  # warned by the run once its options are checked
    assert said.startswith("base='em-mito2d', ndim=3: the 3D model keeps the base's parameters")
    # in each front end's words (the command's as before)
    assert start.note.cli == said.replace("base='em-mito2d', ndim=3", "--base em-mito2d --ndim 3")
    assert start.note.panel.startswith("Start from 'em-mito2d' (a 3D model): the 3D model keeps")
    assert "(threshold=0.25" in said and "does not take the base's TTA" in said, said
    assert vars(start.val_params) == {**vars(start.val_params), **base["params"]}
    run = _new_run(start.config, tmp_path / "m", start.network, start, "val_iou")
    _keep_best(run, 0.5, 0)
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["defaults"]["params"] == base["params"] and card["defaults"]["tta"] is False
    assert card["defaults"]["params_tuning"]["from_base"] == "em-mito2d"
    assert card["architecture"]["args"]["ndim"] == 3
    assert np.isfinite(card["training"]["best_val_iou"])


def test_the_run_warns_of_it_once_its_options_pass(tmp_path):
    from tessella.engine.train import train

    # warned before the data is read (here: a folder that is not there, refused after)
    config = TrainConfig(
        "semantic", str(tmp_path / "none"), str(tmp_path / "m"), base="em-mito2d", ndim=3,
        patch=32, batch_size=2, device="cpu",
    )  # fmt: skip
    with pytest.warns(UserWarning, match="base='em-mito2d', ndim=3: the 3D model keeps"):
        with pytest.raises(ValueError):
            train(config)
    assert not (tmp_path / "m").exists()

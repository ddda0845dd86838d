"""A model of one's own shared as a bioimage.io package says in its README what its card says
(user test s32/t10, findings 3, 4 and 10): a Train-panel run on napari layers is not given a
'Command' that is no command, and its layers are not called folders; the files the layers came
from and the equivalent `tessella train` command are; its hold-out score is given; a fine-tune
that kept its base's weights says they are the base's unchanged; and defaults tuned for the
base are said to be the base's, not presented as tuned for this model. The crafted card is
written the way the trainer writes one (``engine/train/loop.py``, ``_model_card.py``; the
layers' command as ``_widgets/_train_starting._command`` words it): no training."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from tessella.engine.registry import bundled_dir

LAYERS = "napari layers: img0 + img0_labels, img1 + img1_labels"
EQUIVALENT = (
    "tessella train embedding --data FOLDER --out /tmp/models/kept-nuclei --name kept-nuclei "
    "--base nuclei2d --epochs 3 --steps-per-epoch 5 --batch-size 8 --patch 128 --lr 0.0003"
)
COMMAND = (
    "napari Train widget on layers img0 + img0_labels, img1 + img1_labels; opened from files: "
    "'img0' /home/me/data/img0.tif, 'img0_labels' /home/me/data/img0_labels.tif; in no file "
    "(made in napari; the card does not keep them): 'img1', 'img1_labels'; with each pair "
    "saved as FOLDER/images/NAME.tif and FOLDER/masks/NAME.tif (NAME: the labels layer's "
    f"name), the same run is: {EQUIVALENT}"
)


def kept_base_model(models: Path, name: str = "kept-nuclei", warnings=None) -> Path:
    """A fine-tune of nuclei2d on two napari layers pairs that kept nuclei2d's weights (its
    folder copied, its card edited as the trainer writes a kept-base run's)."""
    base = bundled_dir() / "nuclei2d"
    folder = models / name
    shutil.copytree(base, folder)
    card = json.loads((folder / "card.json").read_text())
    base_training = card.pop("training")
    card.pop("validation", None)  # a user's run is scored on its hold-out only
    card["name"] = name
    card["description"] = f"embedding model fine-tuned with tessella from nuclei2d on {LAYERS}."
    tuning = card["defaults"]["params_tuning"]
    card["defaults"]["params_tuning"] = {"from_base": str(base), **tuning}
    config = {
        "method": "embedding",
        "data": LAYERS,
        "out": str(folder),
        "base": str(base),
        "name": name,
        "held_out": ["img1_labels"],
        "holdout": ["img1_labels"],
        "base_path": str(base),
        "base_sha256": card["sha256"],
        "command": COMMAND,
    }
    card["training"] = {
        "data": LAYERS,
        "data_citation": "",
        "data_license": "",
        "val_data": None,
        "command": COMMAND,
        "config": config,
        "log_summary": [
            {"epoch": 0, "val_ap50": 0.9375, "base": str(base)},
            {"epoch": 1, "loss": 0.48, "val_ap50": 0.9375, "seconds": 12},
        ],
        "kept_epoch": 0,
        "best_val_ap50": 0.9375,
        "base_training": base_training,
        **({"warnings": warnings} if warnings else {}),
    }
    (folder / "card.json").write_text(json.dumps(card, indent=2))
    return folder


def _readme(package: Path) -> str:
    from bioimageio.spec import load_description

    assert load_description(package).validation_summary.status == "valid-format"
    with zipfile.ZipFile(package) as archive:
        return archive.read("README.md").decode()


def test_a_kept_base_layers_runs_package_readme_is_true_to_its_card(tmp_path, monkeypatch):
    pytest.importorskip("bioimageio.spec")
    from tessella.engine.bioimageio import export_bioimageio

    folder = kept_base_model(tmp_path / "models")
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))
    readme = _readme(export_bioimageio(folder, tmp_path / "kept-nuclei.zip"))
    training = readme[readme.index("## Training") : readme.index("## Post-processing")]
    assert "Command (DATA" not in readme and "folders named" not in readme
    assert f"Data: not cited in the card (trained on {LAYERS})" in training
    assert "'img0' /home/me/data/img0.tif" in training  # the files the layers came from
    assert "'img1', 'img1_labels'" in training  # and those in no file
    assert f"`{EQUIVALENT}`" in training  # the equivalent command, as a command
    assert "weights are nuclei2d's (its base's) unchanged" in readme
    assert "Validation score: ap50 0.9375 on its training hold-out (img1_labels)" in training
    assert "the base's score there before training: ap50 0.9375" in training
    post = readme[readme.index("## Post-processing") :]
    assert "tuned for nuclei2d" in post and "not re-tuned" in post
    assert "How the defaults were chosen: grid search" not in post


def test_a_bundled_models_package_readme_keeps_its_command_and_tuning(tmp_path):
    pytest.importorskip("bioimageio.spec")
    from tessella.engine.bioimageio import export_bioimageio

    readme = _readme(export_bioimageio("nuclei2d", tmp_path / "nuclei2d.zip"))
    assert "Command (DATA: the data above" in readme and "--data DATA " in readme
    assert "How the defaults were chosen: grid search" in readme
    assert "unchanged" not in readme and "tuned for" not in readme
    assert "## Validation (tessella evaluate)" in readme
    # (each image's scores stay in the attached card: 64 images x 2 were ~500 README lines)
    assert '"per_image"' not in readme and '"images_sha256"' not in readme
    assert "`validation.per_image` in the attached card.json" in readme

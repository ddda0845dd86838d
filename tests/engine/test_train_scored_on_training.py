"""Validation on the training data is said, once: ``--val-data`` the ``--data`` folder
itself, a ``--val-data`` folder holding copies of training images, or a folder of one image
(trained on and scored on). Nothing said so before, so the validation score and the epoch
kept as the best looked as if they measured the model on new images. Folders of other images
under the same names, and a hold-out drawn from a folder of several, are not warned of."""

import shutil

import numpy as np
import pytest
import tifffile

from tessella.engine.train._worded import in_words
from tessella.engine.train.loop import TrainConfig
from tests.conftest import nuclei_folder, warnings_of_loading


def _warnings_of_loading(data, out, val_data=None) -> list[str]:
    """The warnings of a tiny run's start (its data are read before its first step)."""
    config = TrainConfig(
        "embedding",
        str(data),
        str(out),
        val_data=None if val_data is None else str(val_data),
        epochs=1,
        steps_per_epoch=1,
        batch_size=1,
        patch=64,
        features=(8, 16),
        max_val_images=8,
        device="cpu",
    )
    caught = warnings_of_loading(config)
    # in the command's words (tests/test_train_messages_worded.py: Python's and the panel's)
    said = [in_words(w.message, "cli") for w in caught]
    return [message for message in said if "not how it does on new ones" in message]


def test_the_data_folder_as_val_data_is_warned_of_once(tmp_path, nuclei_sample):
    folder = nuclei_folder(tmp_path / "data", nuclei_sample)
    said = _warnings_of_loading(folder, tmp_path / "out", val_data=folder)
    assert said == [
        f"--val-data {folder} is the --data folder: every image the model is scored on "
        "(0.tif, 1.tif) is one it trains on; val_ap50 and the epoch kept as the best then tell how "
        "well the model fits the images it learns from, not how it does on new ones. Give "
        "--val-data a folder of other images, or leave it out to hold some of --data out "
        "(--val-fraction, --holdout)"
    ]


def test_a_val_data_folder_holding_training_images_is_warned_of(tmp_path, nuclei_sample):
    data = nuclei_folder(tmp_path / "data", nuclei_sample)
    val = nuclei_folder(tmp_path / "val", nuclei_sample, count=3)  # 0 and 1 are data's
    (val / "images" / "0.tif").unlink()
    (val / "masks" / "0.tif").unlink()
    said = _warnings_of_loading(data, tmp_path / "out", val_data=val)
    assert len(said) == 1
    assert said[0].startswith(
        f"--val-data {val} holds images of --data (the same name and pixels): 1 of the 2 "
        "images the model is scored on (1.tif) is one it trains on; val_ap50"
    )


def test_other_images_of_the_same_names_are_not_warned_of(tmp_path, nuclei_sample):
    data = nuclei_folder(tmp_path / "data", nuclei_sample)
    image, labels = nuclei_sample
    val = tmp_path / "val"
    shutil.copytree(data, val)
    for i in range(2):  # other crops of the sample, under the training images' names
        rows, columns = slice(128 * i, 128 * (i + 1)), slice(256, 384)
        tifffile.imwrite(val / "images" / f"{i}.tif", image[rows, columns])
        tifffile.imwrite(val / "masks" / f"{i}.tif", labels[rows, columns].astype(np.uint16))
    assert _warnings_of_loading(data, tmp_path / "out", val_data=val) == []
    # a hold-out drawn from a folder of several images is not trained on
    assert _warnings_of_loading(data, tmp_path / "out2") == []


@pytest.mark.parametrize("val_data", [False, True])
def test_a_folder_of_one_image_says_it_is_scored_on_what_it_trains_on(
    tmp_path, nuclei_sample, val_data
):
    folder = nuclei_folder(tmp_path / "one", nuclei_sample, count=1)
    said = _warnings_of_loading(folder, tmp_path / "out", folder if val_data else None)
    assert len(said) == 1
    if val_data:
        assert said[0].startswith(f"--val-data {folder} is the --data folder: every image")
    else:
        assert said[0] == (
            f"{folder} holds one image (0.tif): it is trained on and scored on; val_ap50 and the "
            "epoch kept as the best then tell how well the model fits the images it learns "
            "from, not how it does on new ones. Give --val-data a folder of other images, or "
            "add images to hold one out (--val-fraction, --holdout)"
        )

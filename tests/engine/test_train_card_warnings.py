"""The warnings a run says of its training data are recorded in the model's card
(``training.warnings``): a model trained on a 0/1 mask of one piece per image (touching objects
joined) was warned about when it was trained, but its card said nothing, so the model shared
hid that it learnt doubtful labels. Tiny runs (one step); the hold-out score is given."""

from __future__ import annotations

import itertools
import json
import warnings

import numpy as np
import pytest
import tifffile

import tessella.engine.train.loop as loop
from tessella.engine.train import TrainConfig, train
from tests.conftest import nuclei_folder

TINY = dict(epochs=1, steps_per_epoch=1, batch_size=1, patch=64, features=(4, 8), device="cpu")


@pytest.fixture
def scored(monkeypatch):
    """Hold-out scores given (no predicting): each epoch beats the last."""
    scores = itertools.count(1)
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: next(scores) / 10)


def _one_piece_masks(folder):
    """``folder/masks`` made one square of 1 covering most of each image."""
    for i, path in enumerate(sorted((folder / "masks").glob("*.tif"))):
        one = np.zeros((128, 128), np.uint8)
        one[: 100 + 10 * i, : 100 + 10 * i] = 1
        tifffile.imwrite(path, one)
    return folder


def _card(out) -> dict:
    return json.loads((out / "card.json").read_text())


def test_a_mask_of_one_piece_per_image_is_recorded_in_the_card(tmp_path, nuclei_sample, scored):
    data = _one_piece_masks(nuclei_folder(tmp_path / "data", nuclei_sample, count=3))
    (data / "masks" / "notes.txt").write_text("drawn by hand")  # a file left out: said too
    out = tmp_path / "model"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(TrainConfig("boundary", str(data), str(out), **TINY))
    said = [str(w.message) for w in caught if str(w.message).startswith(str(data))]
    assert len(said) == 2, said
    recorded = _card(out)["training"].get("warnings")
    assert recorded == said, recorded  # the very lines the run said
    assert recorded[0] == f"{data}: left out masks/notes.txt (not TIFF)"
    assert recorded[1].startswith(f"{data}: the labels of '0.tif', '1.tif', '2.tif' hold only 0")

    # resumed on labels fixed since (one ID per object): the latest run's data say nothing
    (data / "masks" / "notes.txt").unlink()
    for i, path in enumerate(sorted((data / "masks").glob("*.tif"))):
        rows = slice(128 * i, 128 * (i + 1))
        tifffile.imwrite(path, nuclei_sample[1][rows, :128].astype(np.uint16))
    train(TrainConfig("boundary", str(data), str(out), **{**TINY, "epochs": 2}, resume=True))
    training = _card(out)["training"]
    assert [e["epoch"] for e in training["log_summary"]] == [1, 2]
    assert "warnings" not in training, training.get("warnings")


def test_a_fine_tune_s_card_records_its_data_s_warnings(
    tmp_path, nuclei_sample, tiny_model_dir, scored
):
    """A fine-tune's card is its base's with its own training record: the warnings too (the
    layers of the Train panel reach the engine as the samples of a fine-tune do)."""
    data = _one_piece_masks(nuclei_folder(tmp_path / "data", nuclei_sample, count=2))
    out = tmp_path / "tuned"
    options = {**TINY, "features": (8, 16, 32)}
    with pytest.warns(UserWarning, match="one piece"):
        train(TrainConfig("embedding", str(data), str(out), base=str(tiny_model_dir), **options))
    recorded = _card(out)["training"]["warnings"]
    assert len(recorded) == 1 and "hold only 0 and 1, one piece covering" in recorded[0]
    assert "The embedding method learns it as one object per image" in recorded[0]

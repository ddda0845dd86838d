"""The hold-out score training logs (and keeps an epoch by) is the score Segment + Evaluate
give the model written: validation predicts through the pipeline's route, with the card's
halo, pad mode, tile and TTA, not on the image padded only at its far ends."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.engine.evaluation import score_pairs
from tessella.engine.pipeline import run_steps, segment_steps
from tessella.engine.registry import load_model
from tessella.engine.train import TrainConfig, train
from tests.conftest import train_tiny

#: 128² crops of the shipped DSB2018 nuclei image (y, x): the hold-out one lies on the image's
#: left edge and its nuclei touch the crop's edges, where the padding matters (there the old
#: validation, padded at the far ends only, scored the bundled nuclei2d AP(0.5) 1.0 and
#: Segment + Evaluate 0.818)
TRAIN_CROP, HOLDOUT_CROP = (0, 0), (320, 0)


def _crop_folder(root, nuclei_sample):
    image, labels = nuclei_sample
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for name, (y, x) in (("train", TRAIN_CROP), ("held", HOLDOUT_CROP)):
        part = (slice(y, y + 128), slice(x, x + 128))
        tifffile.imwrite(root / "images" / f"{name}.tif", image[part])
        tifffile.imwrite(root / "masks" / f"{name}.tif", labels[part])
    return root


def _evaluated(model, root, metric: str) -> float:
    """What `tessella segment` then `tessella evaluate --metric METRIC` say of the hold-out."""
    image = tifffile.imread(root / "images" / "held.tif")
    truth = tifffile.imread(root / "masks" / "held.tif")
    result = run_steps(segment_steps(image, model, device="cpu"))
    scores = score_pairs([(truth, result.labels)], (metric,))
    return float(scores["ap"]["0.5"] if metric == "ap" else scores["foreground_iou"])


def test_a_fine_tune_is_scored_as_segment_and_evaluate_score_it(tmp_path, nuclei_sample, nuclei2d):
    data = _crop_folder(tmp_path / "data", nuclei_sample)
    out = tmp_path / "ft"
    settings = dict(epochs=1, steps_per_epoch=1, batch_size=1, patch=32, device="cpu")
    train(
        TrainConfig(
            "embedding", str(data), str(out), base="nuclei2d", holdout=("held",), **settings
        )
    )
    log = [json.loads(line) for line in (out / "train.log").read_text().splitlines()]
    assert log[0]["base"] == "nuclei2d"
    # epoch 0, the base's score: what Compare then says of the base on the same pair
    assert log[0]["val_ap50"] == pytest.approx(round(_evaluated(nuclei2d, data, "ap"), 4))
    assert log[0]["val_ap50"] < 0.9  # (the crop is one where the padding changes the result)
    # the model written (the epoch kept, or the base where none beat it) scores as logged
    card = json.loads((out / "card.json").read_text())
    kept = card["training"]["best_val_ap50"]
    assert kept == pytest.approx(round(_evaluated(load_model(out), data, "ap"), 4))


def test_a_new_model_is_scored_as_segment_and_evaluate_score_it(tmp_path, nuclei_sample):
    """A new model's card (tile, halo, reflect padding) is the one its hold-out is predicted
    with: the foreground IoU of a semantic model of three steps (a high learning rate, so
    that its output follows the image), sensitive to every edge pixel."""
    data = _crop_folder(tmp_path / "data", nuclei_sample)
    fast = dict(lr=0.05, steps_per_epoch=3, batch_size=4)
    out = train_tiny("semantic", data, tmp_path / "new", holdout=("held",), **fast)
    [entry] = [json.loads(line) for line in (out / "train.log").read_text().splitlines()]
    assert 0 < entry["val_iou"] < 1
    assert entry["val_iou"] == pytest.approx(round(_evaluated(load_model(out), data, "iou"), 4))
    assert np.isclose(
        json.loads((out / "card.json").read_text())["training"]["best_val_iou"], entry["val_iou"]
    )

"""Fine-tuning for real: a short run on a few real EM slices improves the base model there."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella.engine.evaluation import score_pairs
from tessella.engine.pipeline import segment
from tessella.engine.train import TrainConfig
from tessella.engine.train.data import load_pairs
from tessella.engine.train.loop import train_steps

NORM = {"low": 1.0, "high": 99.8}


def _train(config, samples, val) -> None:
    for _progress in train_steps(config, samples, val):
        pass


def test_fine_tuning_improves_the_score_over_the_base_model(tmp_path, data_dir):
    root = data_dir / "em_mito_lucchipp" / "train"
    image = tifffile.imread(root / "image.tif")[:6, :256, :256]
    mito = tifffile.imread(root / "mito.tif")[:6, :256, :256].astype(np.int32)
    samples = load_pairs(list(image[:4]), list(mito[:4]), "YX", 1, NORM)
    held = load_pairs(list(image[4:]), list(mito[4:]), "YX", 1, NORM)
    small = {"batch_size": 2, "patch": 128, "features": (8, 16, 32), "device": "cpu"}
    base = tmp_path / "base"  # a barely trained base model: two steps
    _train(
        TrainConfig("semantic", "slices", str(base), epochs=1, steps_per_epoch=2, **small),
        samples,
        held,
    )

    def foreground_iou(model) -> float:
        pairs = [(m, segment(i, str(model), "YX", min_size=0)) for i, m in zip(image[4:], mito[4:])]
        return score_pairs(pairs, ("iou",))["foreground_iou"]

    before = foreground_iou(base)
    tuned = tmp_path / "tuned"
    config = TrainConfig(
        "semantic",
        "slices",
        str(tuned),
        base=str(base),
        epochs=2,
        steps_per_epoch=20,
        lr=3e-3,
        **{**small, "batch_size": 4},
    )
    _train(config, samples, held)
    after = foreground_iou(tuned)
    assert after > before + 0.05, (before, after)

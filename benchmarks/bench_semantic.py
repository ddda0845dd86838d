"""Semantic post-processing time on a 100 x 768 x 1024 volume (the issue: a few seconds on 2 cores).

The probability is the real Lucchi++ training mitochondria (exactly 100 x 768 x 1024) made
network-like as in ``tests/engine/test_semantic.py``: blurred (sigma 1), pixel noise (sd 0.2)
and 300 small false-positive blobs. The reference is EM_Image_Segmentation's way: a float
median filter along Z on the probability, threshold, connected components, small objects
removed. Needs ``../shared/data`` (or ``TESSELLA_DATA``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tests.engine.test_semantic import (
    degraded as lucchi_probability,  # the same realistic map the tests use
)

from ._common import median_time, row

DATA = Path(
    os.environ.get("TESSELLA_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
LUCCHI = DATA / "em_mito_lucchipp" / "train" / "mito.tif"
SHAPE = (100, 768, 1024)


def _reference(probability: np.ndarray, min_size: int) -> np.ndarray:
    """EM_Image_Segmentation: median along Z of the probability, threshold, components."""
    from scipy import ndimage

    mask = ndimage.median_filter(probability, size=(5, 1, 1)) > 0.5
    labels, _ = ndimage.label(mask)
    sizes = np.bincount(labels.ravel())
    sizes[0] = min_size
    return np.where(sizes[labels] >= min_size, labels, 0)


def run(repeats: int = 3) -> None:
    import tifffile

    from tessella.engine.methods import Prediction
    from tessella.engine.methods.semantic import Params, postprocess
    from tessella.engine.metrics import foreground_iou

    if not LUCCHI.is_file():
        print(f"  skipped: the Lucchi++ data are not at {LUCCHI} (set TESSELLA_DATA)")
        return
    truth = tifffile.imread(LUCCHI) > 0
    reps = [-(-n // s) for n, s in zip(SHAPE, truth.shape)]  # tile if the volume is smaller
    truth = np.tile(truth, reps)[tuple(slice(0, n) for n in SHAPE)]
    probability = lucchi_probability(truth)
    prediction = Prediction({"foreground": probability[None]}, "ZYX")
    shape = "x".join(map(str, SHAPE))
    cases = (
        ("threshold + components", Params()),
        ("z_median 5", Params(z_median=5)),
        ("z_median 5, radius 2, fill_holes", Params(z_median=5, radius=2, fill_holes=True)),
        ("z_median 5, split", Params(z_median=5, split=True)),
    )
    raw_iou = foreground_iou(truth, probability > 0.5)
    print(f"  {shape} Lucchi++ probability; raw threshold IoU {raw_iou:.3f}")
    for name, params in cases:
        seconds = median_time(lambda p=params: postprocess(prediction, p), repeats)
        labels = postprocess(prediction, params)
        what = f"{name}: {labels.max()} obj., IoU {foreground_iou(truth, labels):.3f}"
        if params == Params(z_median=5):
            reference = median_time(lambda: _reference(probability, 100), 1, warmup=0)
            row(what, seconds, reference=reference, reference_name="float Z median")
        else:
            row(what, seconds)

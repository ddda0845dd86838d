"""Timing helpers and the test image (tiled from the shipped real nuclei sample)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "tessella" / "samples"


def median_time(function, repeats: int = 3, warmup: int = 1) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def nuclei_image(size: int) -> np.ndarray:
    """A ``size`` x ``size`` image made by mirror-tiling the real 520x512 nuclei sample."""
    import tifffile

    sample = tifffile.imread(SAMPLES / "nuclei.tif")
    reps = (-(-size // sample.shape[0]), -(-size // sample.shape[1]))
    tiled = np.block(
        [
            [sample[:: 1 - 2 * (i % 2), :: 1 - 2 * (j % 2)] for j in range(reps[1])]
            for i in range(reps[0])
        ]
    )
    return np.ascontiguousarray(tiled[:size, :size])


def row(
    what: str,
    ours: float,
    unit: str = "s",
    reference: float | None = None,
    reference_name: str = "",
) -> None:
    text = f"  {what:<58} {ours:9.3f} {unit}"
    if reference is not None:
        ratio = reference / ours if unit == "s" else ours / reference
        text += f"   ({reference_name} {reference:.3f} {unit}; {ratio:.1f}x)"
    print(text, flush=True)

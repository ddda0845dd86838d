"""Evaluate's scoring of a large pair: time and memory against image size and object count.

The ground truth is the shipped real nuclei sample's labels mirror-tiled (ids unique per tile),
the prediction the same objects shifted a pixel and renumbered (IoU about 0.8). The memory is
tracemalloc's peak of the scoring (the two inputs not counted), beside what the dense
``n_true x n_pred`` float64 IoU matrix alone would need, which earlier versions made (tester
t6: an 8192² mosaic of about 22 000 nuclei took 13 GB and 118 s; a 20000² one ran out of memory).
Then the same pair as two labels zarrs in 2048² chunks (a blockwise result, a multiscale
layer's level 0), scored as Evaluate gives them to the engine: read a 2048² piece at a time,
beside reading both whole first (what the panel did before; both reads counted).
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from ._common import SAMPLES, row


def _labels(size: int) -> np.ndarray:
    import tifffile

    sample = tifffile.imread(SAMPLES / "nuclei_labels.tif").astype(np.uint32)
    reps = (-(-size // sample.shape[0]), -(-size // sample.shape[1]))
    top = int(sample.max())
    tiles = [
        [
            np.where(s > 0, s + (i * reps[1] + j) * top, 0)
            for j, s in enumerate(
                sample[:: 1 - 2 * (i % 2), :: 1 - 2 * (j % 2)] for j in range(reps[1])
            )
        ]
        for i in range(reps[0])
    ]
    return np.ascontiguousarray(np.block(tiles)[:size, :size])


def _lazy(truth: np.ndarray, pred: np.ndarray) -> None:
    """The rows of the pair stored as zarrs: scored a piece at a time, and read whole first."""
    import tempfile

    import zarr

    from tessella.engine.evaluation import evaluate_labels

    with tempfile.TemporaryDirectory() as folder:
        stored = []
        for name, array in (("gt", truth), ("pred", pred)):
            z = zarr.create_array(
                f"{folder}/{name}.zarr", shape=array.shape, dtype=array.dtype, chunks=(2048,) * 2
            )
            z[...] = array
            stored.append(zarr.open_array(f"{folder}/{name}.zarr", mode="r"))
        measured = {}
        for how in ("pieces", "whole"):
            tracemalloc.start()
            start = time.perf_counter()
            pair = stored if how == "pieces" else [np.asarray(z) for z in stored]
            evaluate_labels(*pair, 0.5, metrics_wanted=("ap", "iou"))
            measured[how] = (time.perf_counter() - start, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            del pair
    (took, peak), (took_whole, peak_whole) = measured["pieces"], measured["whole"]
    row("  as zarrs (2048² chunks), read in 2048² pieces", took, "s", took_whole, "read whole")
    row("  its peak memory, MB (reads included)", peak / 2**20, "MB", peak_whole / 2**20, "whole")


def run(repeats: int = 3) -> None:
    from tessella.engine.evaluation import evaluate_labels

    for size in (2048, 4096) if repeats < 3 else (2048, 4096, 8192):
        truth = _labels(size)
        pred = np.roll(truth, 1, axis=1)
        pred[pred > 0] += 5
        tracemalloc.start()
        start = time.perf_counter()
        result = evaluate_labels(truth, pred, 0.5, metrics_wanted=("ap", "iou"))
        took = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        dense = result.n_true * result.n_pred * 8 / 2**20
        ap = result.scores["ap"]["0.5"]
        row(f"evaluate {size}², {result.n_true} objects each (AP@0.5 {ap:.2f})", took)
        row(
            f"  its peak memory, MB (the inputs: {2 * truth.nbytes / 2**20:.0f} MB)",
            peak,
            "MB",
            dense,
            "dense IoU matrix",
        )
        _lazy(truth, pred)

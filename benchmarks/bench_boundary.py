"""Boundary post-processing time: a cold run (superpixels + graph + agglomeration) and what a
``beta`` slider change costs (agglomeration and filters on the cached superpixel graph).

The predictions are the real ISBI 2012 membrane maps made imperfect (gaps, blur, noise), as in
``tests/engine/test_boundary.py``; they need ``../shared/data`` (or ``TESSELLA_DATA``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from tests.engine.test_boundary import (
    imperfect_prediction as isbi_like_prediction,  # the same realistic map the tests use
)

from ._common import median_time, row

DATA = Path(
    os.environ.get("TESSELLA_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
ISBI = DATA / "em_membranes_isbi2012" / "boundaries"
TARGET = 0.100  # the issue: a beta change on a 512x512 image in well under 100 ms


def _grid_graph(side: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """A planar-like graph: 8-neighbour grid plus 2-step links, ~6 edges per node."""
    index = np.arange(side * side).reshape(side, side)
    pairs = [
        (index[:, :-1], index[:, 1:]),
        (index[:-1], index[1:]),
        (index[:-1, :-1], index[1:, 1:]),
        (index[:-1, 1:], index[1:, :-1]),
        (index[:, :-2], index[:, 2:]),
        (index[:-2], index[2:]),
    ]
    edges = np.concatenate([np.stack([a.ravel(), b.ravel()], axis=1) for a, b in pairs])
    return edges, rng.normal(-0.2, 1.0, len(edges))


def run(repeats: int = 3) -> None:
    import tifffile

    from tessella.engine.methods import Prediction
    from tessella.engine.methods.boundary import Params, agglomerate, clear_cache, postprocess

    rng = np.random.default_rng(0)
    edges, costs = _grid_graph(224, rng)
    seconds = median_time(lambda: agglomerate(224 * 224, edges, costs), repeats)
    row(f"GAEC alone, {224 * 224} nodes, {len(edges)} edges (synthetic)", seconds)

    if not ISBI.is_dir():
        print(f"  skipped: the ISBI 2012 data are not at {ISBI} (set TESSELLA_DATA)")
        return
    membranes = np.stack([tifffile.imread(ISBI / f"{k:02d}.tif") == 1 for k in range(20)])
    maps = np.stack([isbi_like_prediction(m, k) for k, m in enumerate(membranes)])
    cases = (
        ("512^2 slice", Prediction({"boundary": maps[:1].copy()}, "YX")),
        (
            "20x512^2 z12.5",
            Prediction({"boundary": maps[None]}, "ZYX", {"spacing": (12.5, 1.0, 1.0)}),
        ),
    )
    defaults, changed = Params(), Params(beta=0.4)
    for name, prediction in cases:

        def cold(p=prediction):
            clear_cache()
            return postprocess(p, defaults)

        cold_seconds = median_time(cold, repeats)
        labels = postprocess(prediction, defaults)
        row(f"cold (superpixels, graph, GAEC), {name}, {labels.max()} obj.", cold_seconds)
        warm = median_time(lambda p=prediction: postprocess(p, changed), repeats)
        row(f"  beta 0.5 -> 0.4 on the cached graph, {name}", warm * 1000, "ms")
        print(
            f"  {'':<58} {warm / TARGET:.1%} of the {TARGET * 1000:.0f} ms target "
            f"({TARGET / warm:.0f}x under); cold {cold_seconds / TARGET:.1f}x the target"
        )
    clear_cache()

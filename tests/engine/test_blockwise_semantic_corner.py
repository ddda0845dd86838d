"""Blockwise semantic joins pieces touching at a corner across a
block face, as the in-memory components (full connectivity) do."""

from __future__ import annotations

import functools

import numpy as np
import zarr

from tessella.engine import blockwise
from tessella.engine.blockwise import FunctionSegmenter, label_blocks_steps
from tessella.engine.pipeline import run_steps
from tests.engine.test_blockwise import semantic_from_map


def test_semantic_blockwise_joins_a_corner_contact_across_blocks(tmp_path):
    from tessella.engine.methods import semantic

    probability = np.zeros((64, 64), np.float32)
    probability[20:32, 20:32] = probability[32:44, 32:44] = 0.9  # meet at the block corner
    params = semantic.Params(min_size=1)
    assert semantic_from_map(probability, "YX", None, params).max() == 1  # in memory
    support = blockwise.blockwise_support("semantic", params)
    segmenter = FunctionSegmenter(functools.partial(semantic_from_map, params=params))
    out = tmp_path / "corner.zarr"
    steps = label_blocks_steps(
        probability, out, segmenter, "YX", block=32, halo=0, support=support, min_size=1
    )
    assert run_steps(steps).n_objects == 1
    assert np.unique(zarr.open(str(out))[...]).tolist() == [0, 1]

"""Review r4, finding 5: Tune's slice preview sized an object of the slice with the objects
it lies on, pixel on pixel, in the slices above and below (faces only), while *Apply to all*
joins voxels that touch at a face, an edge or a corner (26 neighbours,
:func:`tessella.engine.evaluation.mask_pieces`): an object touching a big one of the next
slice only diagonally was dropped from the preview at min_size and kept by Apply to all."""

from __future__ import annotations

import numpy as np

from tessella._widgets._tune_frames import _postprocess_frames
from tessella.engine.methods import semantic
from tessella.engine.pipeline import Prediction


def test_a_slice_preview_joins_objects_as_apply_to_all_does():
    probability = np.zeros((6, 32, 32), np.float32)
    probability[3, 4:7, 4:7] = 0.9  # 9 pixels on slice 3 ...
    probability[4:6, 7:17, 7:17] = 0.9  # ... touching a 200-voxel object at a corner only
    probability[3, 20:23, 20:23] = 0.9  # 9 pixels ...
    probability[4:6, 24:30, 24:30] = 0.9  # ... a pixel away from the next: not joined
    prediction = Prediction({"foreground": probability[None]}, "ZYX")
    params = semantic.Params(min_size=100, radius=0)
    applied = semantic.postprocess(prediction, params)
    assert applied[3, 5, 5] > 0 and applied[3, 21, 21] == 0  # one object of 209 voxels
    notes: dict = {}
    frames = _postprocess_frames(semantic, [prediction], params, (0,), 3, False, False, True, notes)
    preview = next(iter(frames))[1]
    np.testing.assert_array_equal(preview > 0, applied[3] > 0)
    assert notes.get("kept") == 1

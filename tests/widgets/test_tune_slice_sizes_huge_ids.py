"""Review r4, finding 6: Tune's slice preview judged min_size by each object's size in the
volume with a bincount over the IDs of the labels on screen, an array as long as the largest
ID: labels with IDs near 2**62 (uint64, or int64 from a tool that hashes its IDs) could not
be counted (numpy refuses such an array; IDs of 2**31 cost gigabytes). The preview counted
only the IDs it looked for; since finding 4 it reads no labels on screen at all (it sizes
the objects in the foreground it makes from the prediction), so IDs of any size on screen
change nothing: the test checks that the preview still sizes as Apply to all does."""

from __future__ import annotations

import numpy as np

from tessella._widgets._tune_frames import _postprocess_frames
from tessella.engine.methods import semantic
from tessella.engine.pipeline import Prediction


def test_a_slice_preview_sizes_objects_of_labels_with_huge_ids():
    probability = np.zeros((6, 32, 32), np.float32)
    probability[:, 4:12, 4:12] = 0.9  # through every slice: 384 voxels
    probability[3, 4:12, 4:12] = 0.0
    probability[3, 4:7, 4:7] = 0.9  # 9 pixels on slice 3
    probability[2:5, 20:24, 20:24] = 0.9  # 48 voxels
    prediction = Prediction({"foreground": probability[None]}, "ZYX")
    params = semantic.Params(min_size=100, radius=0)
    applied = semantic.postprocess(prediction, params)
    notes: dict = {}
    frames = _postprocess_frames(semantic, [prediction], params, (0,), 3, False, False, True, notes)
    preview = next(iter(frames))[1]
    assert preview[5, 5] > 0 and preview[21, 21] == 0 and notes.get("kept") == 1
    np.testing.assert_array_equal(preview > 0, applied[3] > 0)

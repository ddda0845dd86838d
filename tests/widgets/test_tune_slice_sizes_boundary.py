"""Review r4, finding 3: Tune's slice preview judged min_size by an object's size in the
volume for every method (28d60b0), taking an object of the slice as part of the objects it
lies on in the slices above and below. For boundary instances (membranes close each cell)
that is false: a small closed vesicle lies on its big neighbour's pixels above and below, so
the preview kept it while Apply to all drops it. Only semantic objects without ``split``
(connected pieces of the foreground) are sized in the volume; the others on the slice."""

from __future__ import annotations

import numpy as np

from tessella._widgets._tune_frames import _postprocess_frames
from tessella.engine.methods import boundary
from tessella.engine.pipeline import Prediction


def test_a_boundary_slice_preview_drops_what_apply_to_all_drops():
    z, n = 11, 64
    maps = np.zeros((z, n, n), np.float32)
    maps[:, :, 31:33] = 1.0  # a membrane between two big cells through every slice
    maps[:, 0, :] = maps[:, -1, :] = maps[:, :, 0] = maps[:, :, -1] = 0
    yy, xx = np.mgrid[:n, :n]
    r = np.hypot(yy - 20, xx - 15)
    maps[5][(r >= 5) & (r < 6.5)] = 1.0  # a small vesicle on slice 5, closed by membrane
    maps[4][r < 6.5] = maps[6][r < 6.5] = 1.0  # above and below it
    prediction = Prediction({"boundary": maps[None]}, "ZYX")
    params = boundary.Params(min_size=500)
    applied = boundary.postprocess(prediction, params)
    assert applied[5, 20, 15] == 0  # Apply to all drops the vesicle
    notes: dict = {}
    frames = _postprocess_frames(
        boundary, [prediction], params, (0,), 5, False, False, (applied, 0), notes
    )
    preview = next(iter(frames))[1]
    assert preview[20, 15] == 0 and not notes.get("kept")
    assert len(np.unique(preview)) - 1 == len(np.unique(applied[5])) - 1

"""Session 33, t11 #4: the boundary model (em-membranes2d on a serial-section stack: the
superpixels slice by slice, the agglomeration in 3D) previewed a slice in 2D, so Tune's
preview of slice 5 at beta 0.6 showed 116 cells where Apply to all then gave 108, while a
user who saw em-mito3d's preview equal Apply to all trusted it. The volume's superpixels and
region graph are cached after a run of the volume (Segment's, Apply to all); the preview now
agglomerates them (milliseconds) and shows the slice of Apply to all's objects. Where they
are not cached (a superpixel value changed since), the slice is previewed in 2D and the
status line says Apply to all joins the slices in 3D, so counts can differ.

Real data: the ISBI 2012 stack's membranes (10 of its 512x512 sections), blurred into a
boundary probability, 50 nm sections of 4 nm pixels."""

from __future__ import annotations

import re

import numpy as np
import tifffile
from scipy import ndimage

from tessella.engine.methods import Prediction, boundary
from tessella.engine.pipeline import SegmentResult, resolve_params
from tessella.engine.registry import load_model
from tests.widgets.test_tune_gaps import _volume_in_tune
from tests.widgets.test_tune_widget import change


def _isbi_result(data_dir, depth=10) -> SegmentResult:
    """em-membranes2d's Segment result on the ISBI stack, as Segment makes it: the labels
    post-processed from the very prediction the result keeps (which caches its graph)."""
    folder = data_dir / "em_membranes_isbi2012" / "boundaries"
    membrane = np.stack([tifffile.imread(folder / f"{i:02d}.tif") for i in range(depth)]) > 0
    probability = np.clip(1.6 * ndimage.gaussian_filter(membrane * 1.0, (0, 1.5, 1.5)), 0, 1)
    probability = probability.astype(np.float32)
    arrays = {"boundary": probability[None], "foreground": 1 - probability[None]}
    prediction = Prediction(arrays, "ZYX", {"spacing": (50.0, 4.0, 4.0)})
    model = load_model("em-membranes2d")
    params = resolve_params(model)
    labels = boundary.postprocess(prediction, params)
    return SegmentResult(labels, "ZYX", [prediction], params, model)


def _same_objects(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two label images hold the same objects, whatever their IDs."""
    pairs = set(zip(a.ravel().tolist(), b.ravel().tolist()))
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def _apply_to_all(qtbot, tune) -> None:
    with qtbot.waitSignal(tune.update_finished, timeout=120_000):
        tune.apply_all_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=120_000)


def _milliseconds(status: str) -> int:
    return int(re.search(r"updated in (\d+) ms", status).group(1))


def test_a_slice_preview_of_the_boundary_model_is_apply_to_alls_slice(docked_tune, qtbot, data_dir):
    result = _isbi_result(data_dir)
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=5)
    assert tune.params.beta == 0.4

    change(qtbot, tune, timeout=60_000, beta=0.6)
    preview, status = layer.data[5].copy(), tune.status_label.text()
    assert "the slice of Apply to all's 3D objects" in status and "2D" not in status, status
    assert _milliseconds(status) < 2000, status  # (steps 3-4 alone: tens of ms)
    _apply_to_all(qtbot, tune)
    assert _same_objects(layer.data[5], preview)
    # (in 2D the slice's count differs: the preview was not the slice's own)
    alone = boundary.postprocess(
        Prediction({k: v[:, 5] for k, v in result.predictions[0].arrays.items()}, "YX"),
        tune.params,
    )
    assert len(np.unique(alone)) != len(np.unique(preview))

    # a superpixel value changed: no cached graph of the volume, a 2D preview, said so
    change(qtbot, tune, timeout=60_000, boundary_thresh=0.5)
    status = tune.status_label.text()
    assert "a 2D preview" in status, status
    assert "Apply to all joins the slices in 3D, so its objects and counts can differ" in status
    assert "the boundary model's" in status
    _apply_to_all(qtbot, tune)  # (its graph of the volume, now cached)
    applied = layer.data[5].copy()
    change(qtbot, tune, timeout=60_000, beta=0.55)
    assert "the slice of Apply to all's 3D objects" in tune.status_label.text()
    preview = layer.data[5].copy()
    assert not _same_objects(preview, applied)  # (beta 0.55 changed it)
    _apply_to_all(qtbot, tune)
    assert _same_objects(layer.data[5], preview)

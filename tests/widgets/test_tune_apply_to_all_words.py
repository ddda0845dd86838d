"""Session 35, t20 #7 and #8: what Tune's status line says after *Apply to all*.

#7: a preview of slice 5 showed 96 objects; *Apply to all* made the same objects of that
slice with other IDs (217,478 of 262,144 pixels changed ID), without a word, so IDs noted on
the preview to merge in Correct were gone. Apply to all numbers its objects as Segment and
a replay of the recipe do (its labels are theirs, bit for bit), and now says how many
objects of the part on screen got other IDs.

#8: in TYX mode on a z stack (a 2D model segmenting the slices one by one, the slider keeping
its name "z") Tune called the slices "frames" and gave no object count after Apply to all.

Real data: em-membranes2d on a 256 x 256 corner of four ISBI 2012 sections (their
membranes blurred into a boundary probability)."""

from __future__ import annotations

import re

import numpy as np

from tessella.engine.methods import Prediction, boundary
from tessella.engine.params import make_params
from tessella.engine.pipeline import SegmentResult, number_frames, resolve_params
from tessella.engine.registry import load_model
from tests.widgets.test_tune_boundary_slice_in_3d import _apply_to_all
from tests.widgets.test_tune_gaps import _volume_in_tune
from tests.widgets.test_tune_slice_preview_over_edits import _result
from tests.widgets.test_tune_widget import change, place


def _slices_as_frames(volume: SegmentResult) -> SegmentResult:
    """The same sections segmented one by one (Axes TYX), as Segment numbers them."""
    whole = volume.predictions[0]
    frames = [
        Prediction({k: v[:, z] for k, v in whole.arrays.items()}, "YX", {"spacing": (4.0, 4.0)})
        for z in range(whole.spatial_shape[0])
    ]
    model = load_model("em-membranes2d")
    params = resolve_params(model)
    labels = number_frames([boundary.postprocess(p, params) for p in frames])
    return SegmentResult(labels, "TYX", frames, params, model)


def test_apply_to_all_of_a_volume_says_which_ids_changed_on_the_slice_shown(
    docked_tune, qtbot, data_dir
):
    result = _result(data_dir)
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=2)
    change(qtbot, tune, timeout=60_000, beta=0.3)  # a preview of slice 2
    preview = layer.data[2].copy()
    _apply_to_all(qtbot, tune)
    status = tune.status_label.text()
    params = make_params(boundary.Params, result.params, beta=0.3)
    np.testing.assert_array_equal(layer.data, boundary.postprocess(result.predictions[0], params))
    pairs = {(a, b) for a, b in zip(preview.ravel().tolist(), layer.data[2].ravel().tolist())}
    moved = {b for a, b in pairs if a and b and a != b}
    said = re.search(r"; (\d+) of the (\d+) objects on slice 2 have other IDs than before", status)
    assert moved and said, status
    assert int(said.group(1)) == len(moved) and int(said.group(2)) >= len(moved), status

    # Apply to all again: the IDs shown are those it makes, nothing renumbered said
    _apply_to_all(qtbot, tune)
    assert "other IDs" not in tune.status_label.text(), tune.status_label.text()


def test_a_z_stack_read_as_frames_says_slices_and_counts_after_apply_to_all(
    docked_tune, qtbot, data_dir
):
    result = _slices_as_frames(_result(data_dir))
    viewer, tune = docked_tune
    layer = place(viewer, result, name="stack labels", axis_labels=("z", "y", "x"))
    viewer.dims.set_current_step(0, 2)
    change(qtbot, tune, timeout=60_000, beta=0.5)
    status = tune.status_label.text()
    assert status.startswith("'stack labels' slice 2: updated in "), status
    assert "frame" not in status and "the other 3 slices" in status, status
    _apply_to_all(qtbot, tune)
    status = tune.status_label.text()
    count = len(np.unique(layer.data[layer.data > 0]))
    assert "4 of 4 slices: updated in " in status and "frame" not in status, status
    assert f": {count} objects in all slices" in status, status
    assert re.search(r"; \d+ of the \d+ objects on slice 2 have other IDs than before", status)
    assert tune.progress_bar.format() == "%v / %m slices"

    # a movie (its slider named t) keeps "frames"
    movie = place(viewer, result, name="movie labels", axis_labels=("t", "y", "x"))
    tune.layer_combo.setCurrentText("movie labels")
    _apply_to_all(qtbot, tune)
    count = len(np.unique(movie.data[movie.data > 0]))
    assert "4 of 4 frames: updated in " in tune.status_label.text()
    assert f": {count} objects in all frames" in tune.status_label.text()

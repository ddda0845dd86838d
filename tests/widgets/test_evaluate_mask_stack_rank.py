"""Evaluate's default ground truth of a 2D prediction takes an (N, Y, X) layer of its image
size as a stack of object masks only when it is one (review A, finding 5): a time-lapse's
ground truth of that frame size (Cell Tracking Challenge Fluo-N2DH-SIM+, frames 0-4) or a
stack whose axes are named t, y, x is not picked before it (it was: any (N, Y, X) layer
ranked as a mask stack, above a name like "ground truth")."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella._widgets._evaluate_picks import fit_rank, looks_like_mask_stack
from tests.widgets.helpers import choose_text


def test_a_time_lapse_ground_truth_is_no_mask_stack_of_one_frame(
    make_napari_viewer, data_dir, segment_model_dir, run_to_end
):
    root = data_dir / "ctc_Fluo-N2DH-SIM+"
    frames = np.stack(
        [tifffile.imread(root / "01_GT" / "SEG" / f"man_seg00{t}.tif") for t in range(5)]
    )
    first = frames[0]
    masks = np.stack([(first == i).astype(np.uint8) for i in np.unique(first) if i])
    assert frames.shape == (5, 690, 628) and len(masks) > 10

    viewer = make_napari_viewer()
    _dock, evaluate = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    assert segment.add_model(segment_model_dir)
    [image] = viewer.open(str(root / "01" / "t000.tif"), plugin="tessella")
    choose_text(segment.layer_combo, image.name)
    run_to_end(segment)
    [result] = [layer for layer in viewer.layers if layer.name.startswith("t000 labels")]
    assert result.data.shape == (690, 628)
    assert evaluate.pred_combo.currentText() == result.name

    # the time-lapse's ground truth alone: nothing fits one frame's prediction, as said
    movie = viewer.add_labels(frames, name="SIM+ ground truth (frames 0-4)")
    assert not looks_like_mask_stack(movie)
    assert fit_rank(result, movie) is None
    assert evaluate.pred_combo.currentText() == result.name
    assert evaluate.status_label.text() == (
        f"No labels layer has the shape of '{result.name}' (690, 628) (or is an "
        "(N, 690, 628) stack of its masks): open its ground truth, or choose one."
    )

    # the first frame's objects as a stack of masks (one per plane): that one is picked,
    # though the movie's name looks more like a ground truth
    stack = viewer.add_labels(masks, name="t000 objects")
    assert looks_like_mask_stack(stack) and fit_rank(result, stack) == 1
    viewer.layers.selection.active = movie  # the newest touched: still not the pick
    viewer.layers.selection.active = result
    assert evaluate.pred_combo.currentText() == result.name
    assert evaluate.truth_combo.currentText() == "t000 objects"
    assert not evaluate.status_label.text().startswith("No labels layer")

    # the same planes with axes named t, y, x are a movie, whatever they hold
    named = viewer.add_labels(masks, name="t000 ground truth", axis_labels=("t", "y", "x"))
    assert not looks_like_mask_stack(named)
    assert fit_rank(result, named) is None
    assert evaluate.truth_combo.currentText() == "t000 objects"

"""Evaluate's errors layer shows a false positive lying on a missed object, and the missed
object: both (user test s33 t13 #10).

With overlapping objects (BBBC010's worms) a predicted worm can lie on a ground-truth worm it
does not match (IoU below the threshold): both are errors on the same pixels. The errors
layer is one image; the missed worm (cyan) took every such pixel, so t13's false positive of
386 px on B12 showed 25 px of red, a sliver a user looking for the "1 FP" hardly found. Now
the false positive's pixels are red but one diagonal line in ``ERROR_HATCH``, cyan: the
missed worm shows through as a hatch, and neither hides the other. The same holds for label
images (a predicted fragment inside the cell it missed) and for error maps drawn a piece at
a time (a lazy 2D pair's tiles, a lazy volume's dask chunks): the hatch runs on across them.
"""

from __future__ import annotations

import numpy as np
import tifffile

from tessella.engine.evaluation import (
    ERROR_HATCH,
    FALSE_NEGATIVE,
    FALSE_POSITIVE,
    error_map,
    evaluate_labels,
)
from tessella.engine.progress import run_steps
from tests.engine.test_evaluation import perturb
from tests.widgets.helpers import choose_model
from tests.widgets.test_evaluate_widget import error_layers

#: a 256² crop of BBBC010 B12 where worms2d predicts a worm lying on a worm it misses
#: (t13's false positive at (498, 318) of the well)
B12_CROP = (slice(264, 520), slice(190, 446))


def _iou(masks_a: np.ndarray, masks_b: np.ndarray) -> np.ndarray:
    """The IoU of every mask of ``masks_a`` with every mask of ``masks_b`` (bool stacks)."""
    a = masks_a.reshape(len(masks_a), -1).astype(np.float64)
    b = masks_b.reshape(len(masks_b), -1).astype(np.float64)
    both = a @ b.T
    return both / (a.sum(1)[:, None] + b.sum(1)[None] - both)


def test_a_false_positive_on_a_missed_worm_shows_in_the_errors_layer(
    make_napari_viewer, data_dir, run_to_end
):
    """B12 segmented with worms2d in the Segment panel, its worm mask stack as ground truth,
    Show errors at IoU 0.5: the one false positive keeps at least 70% of its pixels red
    (before: 26 of its ~390 px, the rest cyan), the missed worm under it shows on the hatch's
    lines there and whole (cyan) elsewhere, and every pixel of an error is marked."""
    from tessella._widgets import _results
    from tessella.engine.methods import patches

    root = data_dir / "worms_bbbc010"
    image = tifffile.imread(root / "gfp" / "B12.tif")[B12_CROP]
    truth = tifffile.imread(root / "worm_masks" / "B12.tif")[(slice(None), *B12_CROP)]
    viewer = make_napari_viewer()
    viewer.add_image(image, name="B12")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_model(segment, "worms2d")
    run_to_end(segment)
    viewer.add_labels(truth, name="B12 worm masks")
    _dock, evaluate = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert evaluate.pred_combo.currentText() == "B12 labels (worms2d)"
    assert (evaluate.truth_combo.currentText(), evaluate.truth_kind) == (
        "B12 worm masks",
        "overlapping",
    )
    evaluate.errors_checkbox.setChecked(True)

    evaluate.evaluate_button.click()

    # the errors worked out here from the network's whole worms (what the panel scores)
    result = _results.get(viewer.layers["B12 labels (worms2d)"])
    worms = patches.instances(result.predictions[0], result.params).astype(bool)
    masks = truth[truth.reshape(len(truth), -1).any(1)] > 0
    iou = _iou(masks, worms)
    matched = iou >= 0.5  # (above 0.5 a match is unique: no assignment to solve)
    spurious = worms[~matched.any(0)]
    missed = masks[~matched.any(1)]
    assert (evaluate.last_evaluation.fp, evaluate.last_evaluation.fn) == (
        len(spurious),
        len(missed),
    )
    [false_positive] = spurious  # t13's worm, lying on a missed one
    under = false_positive & missed.any(0)
    assert under.sum() > 0.5 * false_positive.sum()

    [layer] = error_layers(viewer)
    errors = np.asarray(layer.data)
    red = np.count_nonzero(errors[false_positive] == FALSE_POSITIVE)
    assert red >= 0.7 * false_positive.sum(), (red, false_positive.sum())
    # the missed worm under it: on the hatch's lines there, whole (cyan) elsewhere
    rows, columns = np.indices(errors.shape)
    hatch = (rows + columns) % ERROR_HATCH == 0
    assert (errors[under & hatch] == FALSE_NEGATIVE).all()
    assert (errors[under & ~hatch] == FALSE_POSITIVE).all()
    assert (errors[missed.any(0) & ~false_positive] == FALSE_NEGATIVE).all()
    # every pixel of an error marked, none other
    assert ((errors > 0) == (spurious.any(0) | missed.any(0))).all()


def test_fragments_inside_missed_cells_show_in_memory_in_tiles_and_in_chunks(nuclei_sample):
    """Real nuclei labels with a prediction whose eroded objects lie inside the cells they
    miss (tests.engine.test_evaluation's perturbation): the fragments' pixels are mostly
    FALSE_POSITIVE (before: all FALSE_NEGATIVE), and the error map of the pair read a tile
    at a time (a lazy 2D pair) and of a lazy volume (a dask array, computed a chunk at a
    time) equal the one in memory, hatch and all."""
    import dask.array as da

    from tessella.engine.evaluation._stacks import stack_steps
    from tessella.engine.evaluation._tiles import tiled_steps

    truth = nuclei_sample[1]
    expected = perturb(truth)
    errors = error_map(truth, expected.prediction)
    # the fragments: predicted objects (but the disc on background) smaller than half their
    # cell, which they lie in
    fragments = np.zeros(truth.shape, bool)
    for value in np.unique(expected.prediction[expected.prediction > 0]):
        mask = expected.prediction == value
        cell = np.bincount(truth[mask]).argmax()
        if value != 999 and 2 * mask.sum() < (truth == cell).sum():
            assert (truth[mask] == cell).all()
            fragments |= mask
    assert fragments.sum() > 100
    assert (errors[fragments] == FALSE_POSITIVE).mean() > 0.7
    np.testing.assert_array_equal(errors, expected.errors)

    # a lazy 2D pair, in tiles of 100 px (not a multiple of the hatch's period)
    tiled = run_steps(tiled_steps(da.from_array(truth, chunks=100), expected.prediction, side=100))
    np.testing.assert_array_equal(tiled.errors, errors)
    # a lazy volume: 3 planes, each the pair, its error map a dask array in chunks of 100²
    volume_truth = da.from_array(np.stack([truth] * 3), chunks=(1, 100, 100))
    volume = run_steps(stack_steps(volume_truth, np.stack([expected.prediction] * 3), side=100))
    assert type(volume.errors).__module__.startswith("dask")
    in_memory = evaluate_labels(np.stack([truth] * 3), np.stack([expected.prediction] * 3))
    np.testing.assert_array_equal(np.asarray(volume.errors), in_memory.errors)
    np.testing.assert_array_equal(in_memory.errors[1], errors)

"""What a large 2D ground truth is guessed to be from a sample (``ground_truth_kind`` with
``sample_pixels``, as the Evaluate panel calls it): the sample is spread over the image, so
sparse instances are not taken for a binary mask, and masks and membrane maps are still
told apart. No Qt."""

from __future__ import annotations

import dask.array as da
import numpy as np
import tifffile

from tessella.engine.evaluation import ground_truth_kind
from tests.engine.test_evaluate_mistakes import ISBI, ReadCounter

BUDGET = 2**22  # the Evaluate panel's GUESS_SAMPLE_PIXELS


def test_sparse_instances_with_one_object_in_the_centre_are_guessed_as_instances():
    """3000 x 3000 instance labels, IDs 2-5 in the corners and ID 1 in the centre (sparse
    annotations): taken as instances from the sample, in memory or lazy, as from the whole
    image (the sample was the central window alone, which holds only 0 and 1, and the
    guess was a binary mask)."""
    truth = np.zeros((3000, 3000), np.uint16)
    for label, (y, x) in enumerate([(100, 100), (100, 2800), (2800, 100), (2800, 2800)], 2):
        truth[y : y + 60, x : x + 60] = label
    truth[1480:1540, 1480:1540] = 1
    assert ground_truth_kind(truth, truth.shape)[0] == "labels"  # the whole image
    source = ReadCounter(truth)
    lazy = da.from_array(source, chunks=(500, 500), name=False)
    for array in (truth, lazy):
        assert ground_truth_kind(array, truth.shape, truth, BUDGET) == (
            "labels",
            "many object IDs: instance labels (guessed from a sample: 9 windows of 482 x 483 "
            "spread evenly over its 3000 x 3000 pixels)",
        )
    assert source.read <= 2 * BUDGET  # the windows' chunks, not the image


def test_a_large_mask_and_membrane_map_are_still_told_apart_from_the_spread_sample(
    data_dir, nuclei_sample
):
    """The real nuclei labels as a 0/1 mask and an ISBI membrane map (1 on the membranes),
    each tiled to over 3000 x 3000: the sample of 9 windows (and, for the mask, the wider
    look it is followed by) finds a binary mask and a boundary map, as the whole images do."""
    mask = np.tile(nuclei_sample[1] > 0, (6, 6)).astype(np.uint8)
    membranes = tifffile.imread(data_dir / ISBI / "boundaries" / "00.tif")
    membranes = np.tile((membranes > 0).astype(np.uint8), (6, 6))
    for truth, expected in ((mask, "binary"), (membranes, "boundaries")):
        assert truth.size > 2 * BUDGET
        kind, why = ground_truth_kind(truth, truth.shape, None, BUDGET)
        assert (kind, ground_truth_kind(truth, truth.shape)[0]) == (expected, expected)
        height, width = truth.shape
        assert f"spread evenly over its {height} x {width} pixels" in why

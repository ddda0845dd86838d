"""An EM user's ISBI 2012 membrane-map stack (1 = membrane, ZYX sections 50 nm apart) is a
boundary map, not a stack of overlapping object masks (user test t4, problem 1): each
section's membrane network is one connected piece and thin lines in neighbouring sections
barely overlap, so the mask-stack test passed, and against labels of its shape the stack was
taken as overlapping masks, every score 0.000. BBBC010's worm masks stay overlapping masks.
And ``metrics_wanted=("vrand", "voi")`` is accepted ("voi": VOI comes with V_rand; problem
6). No Qt."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from scipy import ndimage

import tessella
from tessella.engine.evaluation import evaluate_labels, ground_truth_kind, mask_stack_reason

BUDGET = 2**22  # the Evaluate panel's GUESS_SAMPLE_PIXELS
WELLS = ("A01", "A13", "E03", "E04")  # BBBC010 wells (E03: crossing worms)


@pytest.fixture
def isbi_stack(data_dir) -> np.ndarray:
    """The tester's isbi_bnd.tif: ISBI boundaries 14-19, their top-left 256 x 256."""
    folder = data_dir / "em_membranes_isbi2012" / "boundaries"
    maps = [tifffile.imread(folder / f"{n}.tif")[:256, :256] for n in range(14, 20)]
    return np.stack(maps).astype(np.uint8)


def _cells(maps: np.ndarray) -> np.ndarray:
    """Each section's cells (the regions of 0), IDs unique over the stack: a label volume of
    some 35 objects per section, as em-membranes2d gives."""
    labels = np.zeros(maps.shape, np.int32)
    offset = 0
    for z, section in enumerate(maps):
        cells, count = ndimage.label(section == 0)
        labels[z] = np.where(cells > 0, cells + offset, 0)
        offset += count
    return labels


def test_an_isbi_membrane_stack_is_a_boundary_map(isbi_stack):
    prediction = _cells(isbi_stack)
    assert mask_stack_reason(isbi_stack) is None
    for pred in (prediction, None):
        for sample in (None, BUDGET):
            kind, why = ground_truth_kind(isbi_stack, isbi_stack.shape, pred, sample)
            assert (kind, why) == (
                "boundaries",
                "only 0 and 1, in thin lines between regions: a membrane map",
            )


def test_worm_mask_stacks_stay_overlapping_masks(data_dir):
    for well in WELLS:
        masks = tifffile.imread(data_dir / "worms_bbbc010" / "worm_masks" / f"{well}.tif")
        labels = np.zeros(masks.shape[1:], np.uint16)
        for number, mask in enumerate(masks, 1):
            labels[mask > 0] = number
        assert mask_stack_reason(masks) is not None, well
        for shape, pred in ((masks.shape, masks), (masks.shape, None), (labels.shape, labels)):
            for sample in (None, BUDGET):
                assert ground_truth_kind(masks, shape, pred, sample)[0] == "overlapping", well


def test_a_label_volume_is_no_mask_stack_prediction(data_dir):
    """A worm mask stack against labels of its shape holding many objects per plane (a
    volume, not a mask stack): not taken as overlapping masks on the shape alone."""
    masks = tifffile.imread(data_dir / "worms_bbbc010" / "worm_masks" / "E03.tif")
    volume = np.zeros(masks.shape, np.uint16)
    volume[:, :200, :200] = 1
    volume[:, 300:, 300:] = 2
    assert ground_truth_kind(masks, masks.shape, volume)[0] != "overlapping"
    assert ground_truth_kind(masks, masks.shape, masks > 0)[0] == "overlapping"


def test_voi_is_accepted_with_or_without_vrand(isbi_stack):
    prediction = _cells(isbi_stack)
    prediction[prediction == 5] = 6  # two cells of section 0 joined: a merge
    prediction[2, :, :128][prediction[2, :, :128] > 0] += 10_000  # section 2's cells cut
    wanted = tessella.evaluate(isbi_stack, prediction, kind="boundaries", metrics_wanted=("vrand",))
    for metrics in (("vrand", "voi"), ("voi",), ("ap", "voi")):
        result = tessella.evaluate(
            isbi_stack, prediction, kind="boundaries", metrics_wanted=metrics
        )
        for key in ("vrand", "vrand_split", "vrand_merge", "voi", "voi_split", "voi_merge"):
            assert result.scores[key] == wanted.scores[key], (metrics, key)
    scores = wanted.scores
    assert 0.0 < scores["voi_merge"] and 0.0 < scores["voi_split"]
    assert scores["vrand"] < 1.0 and scores["vrand_images"] == 6
    with pytest.raises(ValueError, match=r"unknown metric\(s\) dice; .*'voi': as 'vrand'"):
        evaluate_labels(isbi_stack, prediction, kind="boundaries", metrics_wanted=("voi", "dice"))

"""Tests for tessella.engine.evaluation (no Qt): scores equal ``tessella evaluate``, and the error
map equals what a hand-made prediction's construction says it must be."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella.cli import evaluate_paths
from tessella.engine import metrics
from tessella.engine.evaluation import (
    ERROR_HATCH,
    FALSE_NEGATIVE,
    FALSE_POSITIVE,
    METRICS,
    error_map,
    evaluate_labels,
    matched_ids,
    score_pairs,
)


@dataclass(frozen=True)
class Perturbed:
    """A prediction made from ground truth, and what it must score at IoU 0.5."""

    prediction: np.ndarray
    errors: np.ndarray  # the expected error map
    n_pred: int
    tp: int
    fp: int
    fn: int


def _touching_pair(labels: np.ndarray, sizes: np.ndarray) -> tuple[int, int]:
    """Two touching objects of different sizes, the larger first."""
    for axis in range(labels.ndim):
        a = np.moveaxis(labels, axis, 0)[:-1].ravel()
        b = np.moveaxis(labels, axis, 0)[1:].ravel()
        touching = (a != b) & (a > 0) & (b > 0) & (sizes[a] != sizes[b])
        if touching.any():
            i, j = int(a[touching][0]), int(b[touching][0])
            return (i, j) if sizes[i] > sizes[j] else (j, i)
    raise AssertionError("no touching objects")


def perturb(labels: np.ndarray) -> Perturbed:
    """A realistic prediction of 2D ``labels``, with its errors at IoU 0.5 worked out from how
    it is made, never from tessella's metrics.

    Five objects are deleted (false negatives), two touching ones merged (the larger matches,
    the smaller is a false negative), a disc is added on background (a false positive), and
    the other objects are eroded by 0, 1 or 2 pixels: an eroded object keeps IoU
    ``eroded size / size`` with its own object only, so it matches at 0.5 when at least half
    survives; otherwise its object is a false negative and what is left a false positive.
    Predicted ids are new (``1000 + 7 k``, int32) so nothing relies on ids agreeing.
    """
    ids = np.unique(labels[labels > 0])
    sizes = np.bincount(labels.ravel())
    large, small = _touching_pair(labels, sizes)
    deleted = [int(i) for i in ids[3::25] if i not in (large, small)]
    prediction = np.zeros(labels.shape, np.int32)
    missed = set(deleted) | {small}
    leftovers = np.zeros(labels.shape, bool)  # false positives lying on their missed objects
    tp = fp = 0
    for k, i in enumerate(ids):
        if i in missed:
            continue
        mask = labels == i
        if i == large:
            mask |= labels == small
            tp += 1
        elif k % 3:
            mask = ndimage.binary_erosion(mask, iterations=k % 3)
            kept = np.count_nonzero(mask)
            if 2 * kept < sizes[i]:  # IoU = kept / size < 0.5
                missed.add(int(i))
                fp += kept > 0
                leftovers |= mask
            else:
                tp += 1
        else:
            tp += 1
        prediction[mask] = 1000 + 7 * k
    # a disc on background, far from every object
    distance = ndimage.distance_transform_edt(labels == 0)
    centre = np.unravel_index(np.argmax(distance), labels.shape)
    assert distance[centre] > 8
    disc = sum((g - c) ** 2 for g, c in zip(np.indices(labels.shape), centre)) <= 36
    prediction[disc] = 999
    fp += 1

    errors = np.zeros(labels.shape, np.uint8)
    errors[disc] = FALSE_POSITIVE
    errors[np.isin(labels, sorted(missed))] = FALSE_NEGATIVE
    # eroded leftovers lie inside their missed objects: both show, the leftovers' pixels
    # false positives but on every ERROR_HATCH-th diagonal (y + x), the missed object's
    rows, columns = np.indices(labels.shape)
    errors[leftovers & ((rows + columns) % ERROR_HATCH != 0)] = FALSE_POSITIVE
    n_pred = np.unique(prediction[prediction > 0]).size
    assert n_pred == tp + fp
    return Perturbed(prediction, errors, n_pred, tp, fp, len(ids) - tp)


@pytest.fixture(scope="module")
def nuclei_pair(nuclei_sample):
    """(ground truth, perturbed prediction) of the real 520x512 nuclei sample."""
    truth = nuclei_sample[1]
    return truth, perturb(truth)


def test_perturbation_gives_non_trivial_scores(nuclei_pair):
    truth, expected = nuclei_pair
    assert expected.fn >= 8 and expected.fp >= 2  # deletions, merge, erosion and the disc
    aps = list(score_pairs([(truth, expected.prediction)])["ap"].values())
    assert 0.1 < aps[-1] < 0.5 < aps[0] < 0.95
    assert aps == sorted(aps, reverse=True)


def test_error_map_equals_the_construction(nuclei_pair):
    truth, expected = nuclei_pair
    truth_before, pred_before = truth.copy(), expected.prediction.copy()

    errors = error_map(truth, expected.prediction, threshold=0.5)

    assert errors.dtype == np.uint8 and errors.shape == truth.shape
    np.testing.assert_array_equal(errors, expected.errors)
    np.testing.assert_array_equal(truth, truth_before)  # inputs never modified
    np.testing.assert_array_equal(expected.prediction, pred_before)


def test_evaluate_labels_counts_equal_the_construction_and_metrics(nuclei_pair):
    truth, expected = nuclei_pair

    result = evaluate_labels(truth, expected.prediction, threshold=0.5)

    assert (result.n_true, result.n_pred) == (np.unique(truth).size - 1, expected.n_pred)
    assert (result.tp, result.fp, result.fn) == (expected.tp, expected.fp, expected.fn)
    np.testing.assert_array_equal(result.errors, expected.errors)
    assert result.scores == score_pairs([(truth, expected.prediction)])
    reference = metrics.matching(truth, expected.prediction, 0.5)
    assert (reference.tp, reference.fp, reference.fn) == (result.tp, result.fp, result.fn)
    assert result.scores["ap"]["0.5"] == expected.tp / (expected.tp + expected.fp + expected.fn)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.6, 0.7, 0.8, 0.9])
def test_matched_ids_are_the_matching_of_metrics(nuclei_pair, threshold):
    truth, expected = nuclei_pair
    prediction = expected.prediction

    true_ids, pred_ids = matched_ids(truth, prediction, threshold)

    assert true_ids.size == metrics.matching(truth, prediction, threshold).tp
    assert np.unique(true_ids).size == true_ids.size == np.unique(pred_ids).size
    for t, p in zip(true_ids, pred_ids):
        a, b = truth == t, prediction == p
        assert np.count_nonzero(a & b) / np.count_nonzero(a | b) >= threshold
    errors = error_map(truth, prediction, threshold)
    assert not np.isin(truth[errors == FALSE_NEGATIVE], true_ids).any()
    assert not np.isin(prediction[errors == FALSE_POSITIVE], pred_ids).any()


def test_score_pairs_equals_tessella_evaluate_on_files(tmp_path, nuclei_pair):
    truth, expected = nuclei_pair
    pairs = [(truth, expected.prediction), (truth[100:356, 50:306], truth[100:356, 50:306])]
    for sub in ("gt", "pred"):
        (tmp_path / sub).mkdir()
    for k, (t, p) in enumerate(pairs):
        tifffile.imwrite(tmp_path / "gt" / f"{k}.tif", t)
        tifffile.imwrite(tmp_path / "pred" / f"{k}.tif", p)

    folders = evaluate_paths(str(tmp_path / "pred"), str(tmp_path / "gt"), METRICS)
    single = evaluate_paths(str(tmp_path / "pred" / "0.tif"), str(tmp_path / "gt" / "0.tif"))

    assert score_pairs(pairs, METRICS) == folders
    assert score_pairs(pairs[:1]) == single
    assert set(single) == {"n_images", "ap", "avs", "ap_images", "precision", "recall", "f1"}


def test_3d_pair_scores_like_its_slices(nuclei_pair):
    # objects stacked through 4 planes keep every IoU, so every score and error is the 2D one
    truth, expected = nuclei_pair
    truth_3d = np.stack([truth] * 4)
    pred_3d = np.stack([expected.prediction] * 4)

    result = evaluate_labels(truth_3d, pred_3d)

    assert result.scores == score_pairs([(truth, expected.prediction)])
    assert (result.tp, result.fp, result.fn) == (expected.tp, expected.fp, expected.fn)
    np.testing.assert_array_equal(result.errors, np.stack([expected.errors] * 4))


def test_error_map_by_hand():
    gt = np.array([[1, 1, 1, 1, 0, 2, 2, 0, 0, 0]])
    # 5 covers half of 1 plus a background pixel (IoU 2/5): both missed; 6 matches 2; 7 is extra
    pred = np.array([[0, 0, 5, 5, 5, 6, 6, 0, 7, 0]])

    # (5 lies on missed 1: both show, 5's pixels but on the hatch's lines, y + x = 0, 4, 8)
    np.testing.assert_array_equal(error_map(gt, pred), [[2, 2, 1, 1, 1, 0, 0, 0, 1, 0]])
    # at IoU 0.4, 5 matches 1
    np.testing.assert_array_equal(error_map(gt, pred, 0.4), [[0, 0, 0, 0, 0, 0, 0, 0, 1, 0]])
    true_ids, pred_ids = matched_ids(gt, pred, 0.4)
    assert true_ids.tolist() == [1, 2] and pred_ids.tolist() == [5, 6]


def test_empty_images_have_no_errors():
    empty = np.zeros((4, 5), np.uint16)

    result = evaluate_labels(empty, empty)

    assert (result.n_true, result.n_pred, result.tp, result.fp, result.fn) == (0, 0, 0, 0, 0)
    assert result.scores["ap"]["0.5"] == 1.0
    assert not result.errors.any()


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="differ in shape"):
        error_map(np.zeros((4, 4), int), np.zeros((4, 5), int))
    with pytest.raises(ValueError, match="differ in shape"):
        evaluate_labels(np.zeros((4, 4), int), np.zeros((4, 5), int))
    with pytest.raises(ValueError, match="threshold"):
        error_map(np.ones((2, 2), int), np.ones((2, 2), int), threshold=0.0)
    with pytest.raises(ValueError, match="unknown metric"):
        score_pairs([(np.ones((2, 2), int),) * 2], ("ap", "dice"))


def test_images_without_ground_truth_are_left_out_of_the_vrand_mean():
    """One empty ground-truth image made a folder's vrand NaN; with none annotated, the
    scores are None (JSON null), not NaN."""
    from tessella.engine.evaluation import score_pairs

    gt = np.array([[1, 1, 0, 2, 2]])
    empty = np.zeros_like(gt)
    scores = score_pairs([(gt, gt), (empty, gt)], ("vrand", "seg"))
    assert scores["vrand"] == 1.0 and scores["vrand_images"] == 1 and scores["seg"] == 1.0
    none = score_pairs([(empty, gt)], ("vrand", "seg"))
    assert none["vrand"] is None and none["voi"] is None and none["seg"] is None
    assert none["vrand_images"] == 0

"""Tests for tessella.engine.metrics (pure numpy; no Qt)."""

import dataclasses
import doctest
import math

import numpy as np
import pytest
from skimage.metrics import adapted_rand_error, variation_of_information

from tessella.engine import metrics
from tessella.engine.metrics import (
    MatchingResult,
    average_precision_scores,
    foreground_iou,
    iou_matrix,
    labels_to_stack,
    matching,
    matching_over_thresholds,
    rand_voi,
    seg_score,
    seg_scores,
    stack_average_precision_scores,
)

LN2 = math.log(2.0)


def _square_pair():
    # GT square at rows 0-1, cols 0-1 (4 px); prediction shifted one column right.
    # intersection = 2 px, union = 4 + 4 - 2 = 6 -> IoU = 1/3
    gt = np.zeros((3, 4), np.int32)
    gt[0:2, 0:2] = 1
    pred = np.zeros((3, 4), np.int32)
    pred[0:2, 1:3] = 1
    return gt, pred


def _merge_pair():
    # GT: two adjacent 2x2 objects (1, 2); prediction: one 2x4 object covering both.
    # IoU(1, 9) = IoU(2, 9) = 4 / 8 = 0.5
    gt = np.array([[1, 1, 2, 2], [1, 1, 2, 2]])
    pred = np.full((2, 4), 9)
    return gt, pred


def _greedy_trap():
    # 1 x 20 image. GT A = px 0-9, B = px 10-19. Pred Y = px 0-1, X = px 2-13.
    # IoU(A, X) = 8 / (10 + 12 - 8) = 4/7 ~ 0.571   (the largest IoU)
    # IoU(A, Y) = 2 / 10 = 0.2
    # IoU(B, X) = 4 / (10 + 12 - 4) = 2/9 ~ 0.222
    # IoU(B, Y) = 0
    # Greedy (largest IoU first) takes (A, X) and then nothing is left above 0.1 -> 1 match.
    # Maximum matching: (A, Y) + (B, X) -> 2 matches.
    gt = np.zeros((1, 20), np.int64)
    gt[0, :10], gt[0, 10:] = 1, 2
    pred = np.zeros((1, 20), np.int64)
    pred[0, :2], pred[0, 2:14] = 1, 2
    return gt, pred


# ----------------------------------------------------------------------------- iou_matrix


def test_iou_matrix_shifted_square():
    iou, t, p = iou_matrix(*_square_pair())
    np.testing.assert_array_equal(t, [1])
    np.testing.assert_array_equal(p, [1])
    assert iou.dtype == np.float64
    np.testing.assert_allclose(iou, [[1 / 3]])


@pytest.mark.parametrize("offset", [0, 2**40])  # 2**40 forces the np.unique path
def test_iou_matrix_non_sequential_ids(offset):
    # GT ids 7 and 1000; pred ids 3 and 500 (+ offset): 7 <-> 500 exact, 1000 <-> 3 partial
    gt = np.array([[7, 7, 0, 1000, 1000, 1000]], np.int64)
    pred = np.array([[500, 500, 0, 3, 3, 0]], np.int64)
    pred[pred > 0] += offset
    iou, t, p = iou_matrix(gt, pred)
    np.testing.assert_array_equal(t, [7, 1000])
    np.testing.assert_array_equal(p, [3 + offset, 500 + offset])
    # rows: 7, 1000; cols: 3, 500. IoU(1000, 3) = 2 / 3
    np.testing.assert_allclose(iou, [[0.0, 1.0], [2 / 3, 0.0]])
    r = matching(gt, pred, 0.5)
    assert (r.tp, r.fp, r.fn) == (2, 0, 0)
    assert r.mean_matched_iou == pytest.approx((1 + 2 / 3) / 2)


def test_iou_matrix_empty():
    iou, t, p = iou_matrix(np.zeros((4, 4), int), np.zeros((4, 4), int))
    assert iou.shape == (0, 0) and t.size == 0 and p.size == 0
    gt, _ = _merge_pair()
    iou, t, p = iou_matrix(gt, np.zeros_like(gt))
    assert iou.shape == (2, 0)


def test_3d_input():
    # GT: 2x2x2 cube (8 px) with id 4; pred: its top 2x2 slab (4 px) + a separate voxel
    gt = np.zeros((3, 3, 3), np.uint16)
    gt[:2, :2, :2] = 4
    pred = np.zeros_like(gt)
    pred[0, :2, :2] = 1  # IoU = 4 / 8 = 0.5
    pred[2, 2, 2] = 2  # false positive
    iou, t, p = iou_matrix(gt, pred)
    np.testing.assert_allclose(iou, [[0.5, 0.0]])
    r = matching(gt, pred)
    assert (r.n_true, r.n_pred, r.tp, r.fp, r.fn) == (1, 2, 1, 1, 0)
    assert r.ap == pytest.approx(0.5)  # 1 / (1 + 1 + 0)
    # SEG: 4 px overlap is not > 0.5 * 8 -> 0
    assert seg_score(gt, pred) == 0.0
    # foreground: |8 ∩ 5| = 4, union = 9
    assert foreground_iou(gt, pred) == pytest.approx(4 / 9)


# ----------------------------------------------------------------------------- matching


def test_matching_shifted_square():
    gt, pred = _square_pair()
    r = matching(gt, pred, threshold=0.3)  # 1/3 >= 0.3
    assert (r.tp, r.fp, r.fn) == (1, 0, 0)
    assert r.mean_matched_iou == pytest.approx(1 / 3)
    r = matching(gt, pred, threshold=0.5)
    assert (r.tp, r.fp, r.fn) == (0, 1, 1)
    assert (r.precision, r.recall, r.f1, r.ap, r.mean_matched_iou) == (0, 0, 0, 0, 0)


def test_merge_is_one_to_one():
    # one prediction over two GT objects (IoU 0.5 each) -> at most one TP
    r = matching(*_merge_pair(), threshold=0.5)
    assert (r.n_true, r.n_pred, r.tp, r.fp, r.fn) == (2, 1, 1, 0, 1)
    assert r.precision == 1.0
    assert r.recall == 0.5
    assert r.f1 == pytest.approx(2 / 3)  # 2 * 1 / (2 * 1 + 0 + 1)
    assert r.ap == 0.5  # 1 / (1 + 0 + 1)
    assert r.mean_matched_iou == 0.5
    r = matching(*_merge_pair(), threshold=0.1)
    assert r.tp == 1


def test_split():
    # GT one 2x4 object; prediction splits it into two 2x2 halves: IoU 4/8 = 0.5 each
    gt = np.ones((2, 4), int)
    pred = np.array([[1, 1, 2, 2], [1, 1, 2, 2]])
    r = matching(gt, pred, 0.5)
    assert (r.tp, r.fp, r.fn, r.ap) == (1, 1, 0, 0.5)
    assert (r.precision, r.recall) == (0.5, 1.0)


def test_threshold_is_inclusive():
    # IoU exactly 0.5 (merge case) and exactly 3/5 = 0.6 both count at that threshold
    assert matching(*_merge_pair(), threshold=0.5).tp == 1
    assert matching(*_merge_pair(), threshold=0.5 + 1e-12).tp == 0
    gt = np.array([[1, 1, 1, 1, 1]])
    pred = np.array([[2, 2, 2, 0, 0]])  # IoU = 3 / 5
    assert matching(gt, pred, 0.6).tp == 1
    assert matching(gt, pred, 0.6 + 1e-12).tp == 0


def _greedy_tp(iou, thr):
    used_t, used_p, tp = set(), set(), 0
    for flat in np.argsort(-iou, axis=None, kind="stable"):
        i, j = np.unravel_index(flat, iou.shape)
        if iou[i, j] >= thr and i not in used_t and j not in used_p:
            used_t.add(i)
            used_p.add(j)
            tp += 1
    return tp


def test_hungarian_beats_greedy():
    gt, pred = _greedy_trap()
    iou, _, _ = iou_matrix(gt, pred)
    # rows A, B; cols Y(1), X(2)
    np.testing.assert_allclose(iou, [[0.2, 4 / 7], [0.0, 2 / 9]])
    assert _greedy_tp(iou, 0.1) == 1
    r = matching(gt, pred, threshold=0.1)
    assert (r.tp, r.fp, r.fn) == (2, 0, 0)
    assert r.mean_matched_iou == pytest.approx((0.2 + 2 / 9) / 2)
    # at 0.5 only (A, X) qualifies
    r = matching(gt, pred, threshold=0.5)
    assert (r.tp, r.fp, r.fn) == (1, 1, 1)
    assert r.mean_matched_iou == pytest.approx(4 / 7)


def test_tie_break_prefers_higher_iou():
    # threshold 0.1: both GT 1 and GT 2 can match pred 1; only one matching of size 1.
    # GT 1 = px 0-3, GT 2 = px 4-5, pred 1 = px 0-5: IoU 4/6 and 2/6; the higher must win.
    gt = np.array([[1, 1, 1, 1, 2, 2]])
    pred = np.ones((1, 6), int)
    r = matching(gt, pred, threshold=0.1)
    assert r.tp == 1
    assert r.mean_matched_iou == pytest.approx(4 / 6)


def test_empty_prediction():
    gt, _ = _merge_pair()
    pred = np.zeros_like(gt)
    r = matching(gt, pred)
    assert (r.n_true, r.n_pred, r.tp, r.fp, r.fn) == (2, 0, 0, 0, 2)
    assert (r.precision, r.recall, r.f1, r.ap, r.mean_matched_iou) == (0, 0, 0, 0, 0)
    assert seg_score(gt, pred) == 0.0
    assert foreground_iou(gt, pred) == 0.0
    # all 8 GT px are singletons: P = 0, T = 4*3 + 4*3 = 24, S = 0 -> split 0, merge 0/0 = 1,
    # vrand = 0; H(pred|true) = (4 ln 4 + 4 ln 4) / 8 = 2 ln 2, H(true|pred) = 0
    assert rand_voi(gt, pred) == pytest.approx(
        {
            "vrand": 0,
            "vrand_split": 0,
            "vrand_merge": 1,
            "voi": 2 * LN2,
            "voi_split": 2 * LN2,
            "voi_merge": 0,
        }
    )
    # empty GT, some prediction
    r = matching(pred, gt)
    assert (r.tp, r.fp, r.fn, r.precision, r.recall, r.ap) == (0, 2, 0, 0, 0, 0)


def test_both_empty():
    z = np.zeros((5, 5), np.uint8)
    r = matching(z, z)
    assert (r.n_true, r.n_pred, r.tp, r.fp, r.fn) == (0, 0, 0, 0, 0)
    assert (r.precision, r.recall, r.f1, r.ap) == (1.0, 1.0, 1.0, 1.0)
    assert r.mean_matched_iou == 0.0
    assert foreground_iou(z, z) == 1.0
    assert math.isnan(seg_score(z, z))
    assert all(math.isnan(v) for v in rand_voi(z, z).values())


def test_images_with_nothing_to_score_are_left_out_of_the_means():
    """An image with no object in the truth or the prediction scores 1.0 on its own; counted
    in a mean it lifted avS (0.66 -> 0.83 on a real folder with one blank pair)."""
    gt = np.array([[1, 1, 1, 1, 1, 0, 2, 2]])
    pred = np.array([[3, 3, 3, 0, 0, 0, 4, 4]])  # AP 1, 1, 1/3, 1/3, 1/3
    blank = np.zeros_like(gt)
    alone = average_precision_scores([(gt, pred)])
    with_blank = average_precision_scores([(gt, pred), (blank, blank)])
    assert with_blank["ap"] == alone["ap"] and with_blank["avs"] == alone["avs"]
    assert (with_blank["n_images"], with_blank["scored_images"]) == (2, 1)
    # a prediction where the truth is empty still counts, as a miss
    missed = average_precision_scores([(gt, pred), (blank, gt)])
    assert missed["ap"][0.5] == 0.5 and missed["scored_images"] == 2
    # nothing anywhere: every score 1.0, not NaN
    assert average_precision_scores([(blank, blank)])["avs"] == 1.0
    stacks = stack_average_precision_scores(
        [(labels_to_stack(gt), labels_to_stack(pred)), (np.zeros((0, *gt.shape), bool),) * 2]
    )
    assert stacks["avs"] == pytest.approx(alone["avs"]) and stacks["scored_images"] == 1


def test_matching_over_thresholds_and_result():
    gt = np.array([[1, 1, 1, 1, 1, 0, 2, 2]])
    pred = np.array([[3, 3, 3, 0, 0, 0, 4, 4]])  # IoU 3/5 and 1
    rs = matching_over_thresholds(gt, pred)
    assert [r.threshold for r in rs] == [0.5, 0.6, 0.7, 0.8, 0.9]
    assert [r.tp for r in rs] == [2, 2, 1, 1, 1]
    assert [r.ap for r in rs] == [1.0, 1.0, 1 / 3, 1 / 3, 1 / 3]  # 1 / (1 + 1 + 1)
    assert rs[0] == matching(gt, pred, 0.5)
    d = rs[0].as_dict()
    assert list(d) == [f.name for f in dataclasses.fields(MatchingResult)]
    assert d["mean_matched_iou"] == pytest.approx(0.8)  # (0.6 + 1) / 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        rs[0].tp = 5  # type: ignore[misc]


@pytest.mark.parametrize("thr", [0.0, -0.1, 1.5])
def test_bad_threshold(thr):
    with pytest.raises(ValueError, match="threshold"):
        matching(*_merge_pair(), threshold=thr)


# ----------------------------------------------------------------------------- dataset AP


def test_average_precision_scores_per_image():
    perfect = np.array([[1, 1, 0, 2, 2]])
    gt = np.array([[1, 1, 1, 1, 1, 0, 2, 2]])
    pred = np.array([[3, 3, 3, 0, 0, 0, 4, 4]])  # ap = 1, 1, 1/3, 1/3, 1/3
    s = average_precision_scores([(perfect, perfect), (gt, pred)])
    assert s["n_images"] == 2
    assert s["ap"] == pytest.approx({0.5: 1.0, 0.6: 1.0, 0.7: 2 / 3, 0.8: 2 / 3, 0.9: 2 / 3})
    assert s["avs"] == pytest.approx((1 + 1 + 3 * 2 / 3) / 5)
    # at 0.7 image 2 has tp=1, fp=1, fn=1 -> precision = recall = f1 = 1/2
    assert s["precision"][0.7] == pytest.approx(0.75)
    assert s["recall"][0.7] == pytest.approx(0.75)
    assert s["f1"][0.7] == pytest.approx(0.75)


def test_average_precision_is_per_image_not_pooled():
    # image 1: 1 object, found; image 2: 3 objects, none found.
    # per-image mean ap = (1 + 0) / 2 = 0.5 (pooled counts would give 1 / 4)
    a = np.array([[1, 1]])
    b = np.array([[1, 0, 2, 0, 3]])
    s = average_precision_scores([(a, a), (b, np.zeros_like(b))], thresholds=[0.5])
    assert s["ap"] == {0.5: 0.5}
    assert s["avs"] == 0.5
    with pytest.raises(ValueError):
        average_precision_scores([])


# ----------------------------------------------------------------------------- SEG


def test_seg_score_hand_computed():
    # GT A (id 1) = px 0-3; pred 5 covers px 1-3 of A plus px 4 outside:
    #   |P ∩ G| = 3 > 2 -> J = 3 / (4 + 4 - 3) = 3/5
    # GT B (id 2) = px 6-9; pred 6 covers exactly half (px 6-7): 2 is not > 2 -> 0
    gt = np.array([[1, 1, 1, 1, 0, 0, 2, 2, 2, 2]])
    pred = np.array([[0, 5, 5, 5, 5, 0, 6, 6, 0, 0]])
    assert seg_score(gt, pred) == pytest.approx((0.6 + 0.0) / 2)
    # pooled over objects: + one perfect image with one object -> (0.6 + 0 + 1) / 3
    one = np.array([[0, 3, 3]])
    s = seg_scores([(gt, pred), (one, one)])
    assert s["n_objects"] == 3
    assert s["seg"] == pytest.approx(1.6 / 3)
    # merge: pred 9 covers all of both GT objects -> J = 4/8 for each
    assert seg_score(*_merge_pair()) == pytest.approx(0.5)
    empty = seg_scores([(np.zeros((2, 2), int), np.ones((2, 2), int))])
    assert empty["n_objects"] == 0 and math.isnan(empty["seg"])


# ----------------------------------------------------------------------------- foreground


def test_foreground_iou():
    gt, pred = _square_pair()
    assert foreground_iou(gt, pred) == pytest.approx(1 / 3)
    # label identity is irrelevant: merge case has identical masks
    assert foreground_iou(*_merge_pair()) == 1.0
    assert foreground_iou(gt.astype(bool), pred.astype(bool)) == pytest.approx(1 / 3)


# ----------------------------------------------------------------------------- Rand / VOI


def test_rand_voi_hand_computed_merge():
    # GT [1 1 2 2], pred [5 5 5 5]: n_ij = 2, 2; pairs P = 2*1 + 2*1 = 4,
    # T (GT sizes 2, 2) = 4, S (pred size 4) = 4*3 = 12
    # split = 4/4 = 1, merge = 4/12 = 1/3, vrand = 2*4 / (4 + 12) = 1/2
    # H(pred|true) = 0, H(true|pred) = ln 2
    r = rand_voi(np.array([[1, 1, 2, 2]]), np.array([[5, 5, 5, 5]]))
    assert r["vrand_split"] == pytest.approx(1.0)
    assert r["vrand_merge"] == pytest.approx(1 / 3)
    assert r["vrand"] == pytest.approx(0.5)
    assert r["voi_split"] == pytest.approx(0.0, abs=1e-12)
    assert r["voi_merge"] == pytest.approx(LN2)
    assert r["voi"] == pytest.approx(LN2)


def test_rand_voi_ignores_gt_background_and_perfect():
    # only px 2, 3 are counted; there prediction is perfect
    r = rand_voi(np.array([[0, 0, 1, 1]]), np.array([[3, 4, 5, 5]]))
    assert r == pytest.approx(
        {"vrand": 1, "vrand_split": 1, "vrand_merge": 1, "voi": 0, "voi_split": 0, "voi_merge": 0}
    )


def test_rand_voi_predicted_background_is_singletons():
    # GT [1 1 1 1], pred [0 0 2 2]: the two unlabelled px are one-pixel segments.
    # P = 2*1 = 2, T = 4*3 = 12, S = 2*1 (+ 0 for singletons) = 2
    # split = 2/12 = 1/6, merge = 1, vrand = 4/14 = 2/7
    # H(pred|true) = H(1/4, 1/4, 1/2) = 1.5 ln 2, H(true|pred) = 0
    gt = np.array([[1, 1, 1, 1]])
    r = rand_voi(gt, np.array([[0, 0, 2, 2]]))
    assert r["vrand_split"] == pytest.approx(1 / 6)
    assert r["vrand_merge"] == pytest.approx(1.0)
    assert r["vrand"] == pytest.approx(2 / 7)
    assert r["voi_split"] == pytest.approx(1.5 * LN2)
    assert r["voi_merge"] == pytest.approx(0.0, abs=1e-12)
    assert r == pytest.approx(rand_voi(gt, np.array([[7, 8, 2, 2]])))


def _blocky(rng, lo, hi, shape=(8, 8), block=4):
    return np.kron(rng.integers(lo, hi, size=shape), np.ones((block, block), np.int64))


def _check_against_skimage(gt, pred, r):
    are, prec, rec = adapted_rand_error(gt, pred)  # ignores GT == 0
    # skimage's "precision" is the split score, its "recall" the merge score
    assert r["vrand"] == pytest.approx(1.0 - are, rel=1e-10)
    assert r["vrand_split"] == pytest.approx(prec, rel=1e-10)
    assert r["vrand_merge"] == pytest.approx(rec, rel=1e-10)
    # skimage: [H(pred|true), H(true|pred)] in bits; ours in nats
    split_bits, merge_bits = variation_of_information(gt, pred, ignore_labels=(0,))
    assert r["voi_split"] == pytest.approx(split_bits * LN2, rel=1e-9, abs=1e-12)
    assert r["voi_merge"] == pytest.approx(merge_bits * LN2, rel=1e-9, abs=1e-12)
    assert r["voi"] == pytest.approx((split_bits + merge_bits) * LN2, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_rand_voi_matches_skimage_random(seed):
    rng = np.random.default_rng(seed)
    # blocky objects and per-pixel noise; GT without zeros, prediction without zeros
    for gt, pred in [
        (_blocky(rng, 1, 6), _blocky(rng, 1, 9)),
        (rng.integers(1, 5, (24, 24)), rng.integers(1, 7, (24, 24))),
    ]:
        _check_against_skimage(gt, pred, rand_voi(gt, pred))
    # GT with zeros (ignored by both), prediction without zeros
    gt, pred = _blocky(rng, 0, 5), _blocky(rng, 3, 12)
    _check_against_skimage(gt, pred, rand_voi(gt, pred))
    # prediction with zeros: same as giving every unlabelled GT-foreground pixel its own id
    pred = _blocky(rng, 0, 4)
    expanded = pred.copy()
    holes = (pred == 0) & (gt > 0)
    expanded[holes] = 100 + np.arange(np.count_nonzero(holes))
    r = rand_voi(gt, pred)
    assert r == pytest.approx(rand_voi(gt, expanded))
    _check_against_skimage(gt, expanded, r)


# ----------------------------------------------------------------------------- input handling


def test_inputs_unmodified():
    gt, pred = _greedy_trap()
    gt[0, 5] = 0
    gt_c, pred_c = gt.copy(), pred.copy()
    gt.flags.writeable = False
    pred.flags.writeable = False
    iou_matrix(gt, pred)
    matching(gt, pred, 0.1)
    matching_over_thresholds(gt, pred)
    average_precision_scores([(gt, pred)])
    seg_score(gt, pred)
    seg_scores([(gt, pred)])
    foreground_iou(gt, pred)
    rand_voi(gt, pred)
    np.testing.assert_array_equal(gt, gt_c)
    np.testing.assert_array_equal(pred, pred_c)


@pytest.mark.parametrize(
    "func",
    [iou_matrix, matching, matching_over_thresholds, seg_score, foreground_iou, rand_voi],
)
def test_shape_mismatch(func):
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        func(np.zeros((2, 3), int), np.zeros((3, 2), int))


def test_bad_dtype_and_negative_labels():
    with pytest.raises(TypeError):
        matching(np.zeros((2, 2)), np.zeros((2, 2), int))
    with pytest.raises(ValueError, match="negative"):
        iou_matrix(np.array([[-1, 0]]), np.array([[1, 0]]))


def test_large_image_fast():
    # 1024 x 1024 with 32 x 32 = 1024 square objects; prediction shifted by 3 px.
    # Shifted squares: IoU = (29 * 32) / (2 * 1024 - 29 * 32) ~ 0.829 for every object.
    ids = np.arange(1, 32 * 32 + 1, dtype=np.int32).reshape(32, 32)
    gt = np.kron(ids, np.ones((32, 32), np.int32))
    pred = np.roll(gt, 3, axis=1)
    rs = matching_over_thresholds(gt, pred)
    assert [r.tp for r in rs] == [1024, 1024, 1024, 1024, 0]
    assert rs[0].mean_matched_iou == pytest.approx(928 / (2048 - 928))
    assert seg_score(gt, pred) == pytest.approx(928 / (2048 - 928))


def test_docstring_examples():
    result = doctest.testmod(metrics, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 5
    assert result.failed == 0

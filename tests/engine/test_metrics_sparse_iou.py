"""The metrics match objects on the IoU of the pairs that overlap (metrics.iou_pairs), not on a
dense n_true x n_pred matrix: the same matches and scores as the dense matrix gave (its code
is copied here as the reference), in memory that grows with the pairs, not n_true * n_pred
(an 8192² pair of about 20 000 objects took 13 GB before, finding 1 of tester t6)."""

import tracemalloc

import numpy as np
import tifffile
from scipy import ndimage as ndi
from scipy.optimize import linear_sum_assignment

from tessella.engine import _metrics_matching, metrics
from tessella.engine.evaluation import evaluate_labels, evaluate_labels_steps
from tessella.engine.evaluation._scores import _error_map
from tessella.engine.progress import Progress

THRESHOLDS = (0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9)


# --- the dense matching before, the reference ---------------------------------------------


def dense_iou_matrix(labels_true, labels_pred):
    t_ids, p_ids, t_sz, p_sz, rows, cols, inter = metrics._contingency(labels_true, labels_pred)
    iou = np.zeros((t_ids.size, p_ids.size), dtype=np.float64)
    iou[rows, cols] = inter / (t_sz[rows] + p_sz[cols] - inter)
    return iou, t_ids, p_ids


def dense_match_indices(iou, threshold):
    hit = iou >= threshold
    if not hit.any():
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    if threshold > 0.5:
        return np.nonzero(hit)
    cost = -hit.astype(np.float64) - iou / (2 * min(iou.shape))
    rows, cols = linear_sum_assignment(cost)
    ok = hit[rows, cols]
    return rows[ok], cols[ok]


def assert_same_as_dense(truth, prediction):
    iou, true_ids, pred_ids = dense_iou_matrix(truth, prediction)
    sparse, sparse_true, sparse_pred = metrics.iou_pairs(truth, prediction)
    np.testing.assert_array_equal(sparse_true, true_ids)
    np.testing.assert_array_equal(sparse_pred, pred_ids)
    np.testing.assert_array_equal(sparse.toarray(), iou)
    tps = []
    for threshold in THRESHOLDS:
        rows, cols = dense_match_indices(iou, threshold)
        got_rows, got_cols = metrics.match_indices(sparse, threshold)
        np.testing.assert_array_equal(got_rows, rows)
        np.testing.assert_array_equal(got_cols, cols)
        assert metrics._match(sparse, threshold) == metrics._match(iou, threshold)
        np.testing.assert_array_equal(
            _error_map(truth, prediction, true_ids, pred_ids, got_rows, got_cols),
            _error_map(truth, prediction, true_ids, pred_ids, rows, cols),
        )
        tps.append(rows.size)
    return tps


def _perturbed(truth, seed):
    """A prediction of ``truth``'s kind of errors: objects shifted, grown or shrunk, some
    missed, neighbours merged, some split in two, and spurious blobs."""
    rng = np.random.default_rng(seed)
    pred = np.roll(truth, (1, -1), axis=(-2, -1)).astype(np.int64)
    ids = np.unique(pred)[1:]
    pred[np.isin(pred, rng.choice(ids, ids.size // 10, replace=False))] = 0  # missed
    grown = ndi.grey_dilation(pred, size=(1,) * (pred.ndim - 2) + (3, 3))
    pred = np.where(pred == 0, grown, pred)
    for a in rng.choice(ids, ids.size // 10, replace=False):  # merged with a neighbour
        where = pred == a
        around = pred[ndi.binary_dilation(where, iterations=3) & ~where]
        around = around[around != 0]
        if around.size:
            pred[where] = around[0]
    for a in rng.choice(ids, ids.size // 10, replace=False):  # split along its middle
        where = np.nonzero(pred == a)
        if where[0].size:
            half = where[-1] > np.median(where[-1])
            pred[tuple(w[half] for w in where)] = pred.max() + 1
    spots = np.zeros(pred.shape, bool)  # spurious
    spots[tuple(rng.integers(0, s, 20) for s in pred.shape)] = True
    spots = ndi.binary_dilation(spots, iterations=2)
    pred[spots & (pred == 0)] = pred.max() + 1 + ndi.label(spots)[0][spots & (pred == 0)]
    return pred


def test_sparse_matching_equals_dense_on_dsb_validation(data_dir):
    folder = data_dir / "nuclei2d_dsb2018" / "val" / "masks"
    files = sorted(folder.glob("*.tif"))[:6]
    assert files
    for k, path in enumerate(files):
        truth = tifffile.imread(path)
        tps = assert_same_as_dense(truth, _perturbed(truth, k))
        assert tps[0] > 0


def test_sparse_matching_equals_dense_on_overlapping_worms(data_dir):
    # worms cross: each plane of the stack is a worm; as labels, later worms cover earlier
    stack = tifffile.imread(data_dir / "worms_bbbc010" / "worm_masks" / "A01.tif") > 0
    truth = np.zeros(stack.shape[1:], np.int32)
    for k, plane in enumerate(stack, 1):
        truth[plane] = k
    under = np.zeros_like(truth)  # the other way round: the earliest worm on top
    for k, plane in reversed(list(enumerate(stack, 1))):
        under[plane] = k
    assert_same_as_dense(truth, under)
    assert_same_as_dense(truth, _perturbed(truth, 1))


def test_sparse_matching_equals_dense_on_a_lucchi_crop(data_dir):
    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")[:8, :384, :512]
    truth = ndi.label(mito > 0)[0]
    assert_same_as_dense(truth, _perturbed(truth, 2))
    # cut into 2D slices: one object each per slice
    assert_same_as_dense(truth[3], ndi.label(ndi.binary_erosion(truth[3] > 0))[0])


def test_exact_halves_and_ties_below_0_5():
    # an object cut into two exact halves (IoU 0.5 each), a merge of two (0.5 each),
    # and the greedy trap at a threshold below 0.5
    truth = np.array([[1, 1, 1, 1, 0, 2, 2, 3, 3, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]])
    pred = np.array([[5, 5, 6, 6, 0, 7, 7, 7, 7, 0, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9]])
    assert assert_same_as_dense(truth, pred)[:4] == [3, 3, 3, 1]


def _tiles(size, tile, seed):
    """A ``size``² image of ``tile``² tiles, each a disc of its own (about 45% foreground)."""
    rng = np.random.default_rng(seed)
    n = size // tile
    y, x = np.mgrid[:tile, :tile] - tile / 2
    radius = rng.uniform(0.3, 0.45, (n, n)) * tile
    tiles = (y**2 + x**2)[None, None] < radius[..., None, None] ** 2
    ids = np.arange(1, n * n + 1).reshape(n, n)
    labels = np.where(tiles, ids[..., None, None], 0)
    return labels.transpose(0, 2, 1, 3).reshape(size, size).astype(np.uint32)


def test_matching_memory_grows_with_the_overlaps_not_with_n_true_times_n_pred():
    # 25 600 objects on each side, as an 8192² nuclei mosaic has: the dense matrix would be
    # 25 600² x 8 bytes = 5.2 GB; the IoU of the pairs that overlap is 25 600 pairs
    truth = _tiles(1280, 8, 0)
    pred = np.roll(truth, 1, axis=1)  # each object shifted a pixel: IoU about 0.6
    n = int(truth.max())
    assert n == 25600
    tracemalloc.start()
    try:
        result = evaluate_labels(truth, pred, 0.5, metrics_wanted=("ap", "seg"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.n_true, result.n_pred) == (n, n) and result.tp > 0.9 * n
    assert peak < 200 * 2**20  # (the inputs: 6.6 MB each)
    assert peak < n * n * 8 / 20


def test_a_large_image_says_how_far_its_overlap_table_is():
    # more than one chunk of pixels: "pixels" steps before its "match", where a worker can stop
    truth = _tiles(4096, 64, 3)
    steps = list(_steps(evaluate_labels_steps(truth, truth)))
    pixels = [s for s in steps if s.stage == "pixels"]
    assert [s.done for s in pixels] == list(range(1, 13)) and pixels[-1].total == 12
    assert steps.index(pixels[-1]) < steps.index(Progress("match", 1, 1))


def _steps(generator):
    while True:
        try:
            yield next(generator)
        except StopIteration:
            return


def test_a_large_group_of_touching_objects_is_matched_on_its_sparse_graph(monkeypatch, data_dir):
    # objects that all touch (a tissue, membranes) link into one group too big for a dense
    # cost matrix: solved on the graph of its overlaps, the same matching
    monkeypatch.setattr(_metrics_matching, "DENSE_GROUP_MAX", 0)
    groups = []
    solve = _metrics_matching._group_match
    monkeypatch.setattr(
        _metrics_matching, "_group_match", lambda *a: groups.append(a[0].size) or solve(*a)
    )
    truth = tifffile.imread(
        sorted((data_dir / "nuclei2d_dsb2018" / "val" / "masks").glob("*.tif"))[0]
    )
    assert_same_as_dense(truth, _perturbed(truth, 0))
    assert len(groups) > 5
    # where two matchings are equally good (an object cut into exact halves), the one taken
    # may differ from the dense one's: the counts and scores cannot
    truth = np.array([[1, 1, 1, 1, 0, 2, 2, 3, 3, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]])
    pred = np.array([[5, 5, 6, 6, 0, 7, 7, 7, 7, 0, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9]])
    iou, sparse = dense_iou_matrix(truth, pred)[0], metrics.iou_pairs(truth, pred)[0]
    for threshold in THRESHOLDS:
        assert metrics._match(sparse, threshold) == metrics._match(iou, threshold)

"""Boundary post-processing: superpixels, region graph, GAEC, caching, on real ISBI 2012 slices.

The "predictions" are the ISBI ground-truth membrane maps made realistically imperfect: gaps
punched into the membranes, Gaussian blur, spatially correlated noise. Scores follow the ISBI
convention (``metrics.rand_voi``): only ground-truth cell pixels count, so whatever a
segmentation does on membrane pixels is not scored.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import ndimage

from tessella.engine import metrics
from tessella.engine.methods import Prediction, _superpixels, boundary
from tessella.engine.methods.boundary import (
    Params,
    agglomerate,
    edge_costs,
    merge_small_superpixels,
    postprocess,
    region_graph,
    superpixels,
)
from tessella.engine.params import make_params, param_specs

ISBI = "em_membranes_isbi2012"


@pytest.fixture(autouse=True)
def _fresh_cache():
    boundary.clear_cache()
    yield
    boundary.clear_cache()


def imperfect_prediction(membranes: np.ndarray, seed: int) -> np.ndarray:
    """A plausible network boundary map from a binary membrane map: 60 gaps of ~9 px punched
    into the membranes, Gaussian blur (sigma 1.5), correlated noise (std 0.15) and pixel noise."""
    rng = np.random.default_rng(seed)
    target = membranes.astype(np.float32)
    ys, xs = np.nonzero(membranes)
    pick = rng.choice(ys.size, 60, replace=False)
    holes = np.zeros(membranes.shape, bool)
    holes[ys[pick], xs[pick]] = True
    target[ndimage.binary_dilation(holes, iterations=4)] = 0
    blurred = ndimage.gaussian_filter(target, 1.5)
    field = ndimage.gaussian_filter(rng.normal(0, 1, membranes.shape), 2.0)
    noisy = blurred + 0.15 * field / field.std() + rng.normal(0, 0.05, membranes.shape)
    return np.clip(noisy, 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def isbi(data_dir):
    """Membrane maps of the first slices, their cells (connected insides) and predictions."""
    import tifffile

    folder = data_dir / ISBI / "boundaries"
    membranes = np.stack([tifffile.imread(folder / f"{k:02d}.tif") == 1 for k in range(8)])
    cells = np.stack([ndimage.label(~m)[0] for m in membranes])
    predicted = np.stack([imperfect_prediction(m, k) for k, m in enumerate(membranes)])
    return membranes, cells, predicted


def prediction_2d(boundary_map, foreground=None, **meta):
    arrays = {"boundary": boundary_map[None]}
    if foreground is not None:
        arrays["foreground"] = foreground[None].astype(np.float32)
    return Prediction(arrays, "YX", meta)


# --- the contract ------------------------------------------------------------------------------


def test_params_have_the_documented_defaults_and_ranges():
    specs = {spec.name: spec for spec in param_specs(Params)}
    assert list(specs) == [
        "boundary_thresh",
        "sigma_seeds",
        "alpha",
        "min_superpixel",
        "beta",
        "min_size",
        "max_size",
        "fg_thresh",
    ]
    assert (specs["beta"].default, specs["beta"].low, specs["beta"].high) == (0.5, 0.01, 0.99)
    assert specs["min_superpixel"].kind is int and specs["alpha"].kind is float
    assert all(spec.help for spec in specs.values())
    with pytest.raises(ValueError, match="beta"):
        make_params(Params, beta=1.0)  # log((1 - beta) / beta) would be infinite


def test_activate_splits_the_head_into_boundary_and_foreground():
    torch = pytest.importorskip("torch")
    assert boundary.out_channels(2) == (2,) and boundary.out_channels(3) == (2,)
    raw = torch.tensor([[[[0.0, 2.0]], [[-1.0, 0.0]]]])  # (1, 2, 1, 2)
    out = boundary.activate(raw, 2)
    assert set(out) == set(boundary.OUTPUT_KINDS) == {"boundary", "foreground"}
    assert out["boundary"].shape == out["foreground"].shape == (1, 1, 1, 2)
    assert torch.allclose(out["boundary"][0, 0, 0], torch.sigmoid(torch.tensor([0.0, 2.0])))
    assert torch.allclose(out["foreground"][0, 0, 0], torch.sigmoid(torch.tensor([-1.0, 0.0])))


# --- graph pieces on hand-made cases -----------------------------------------------------------


def test_region_graph_of_two_regions_has_the_exact_contact_and_mean():
    labels = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [1, 2, 2, 2]])
    prob = np.array([[0.0, 0.2, 0.6, 0.0], [0.0, 0.4, 0.8, 0.0], [0.1, 0.3, 0.0, 0.0]])
    edges, mean_p, size = region_graph(labels, prob)
    # contacts: (0,1)-(0,2) 0.4, (1,1)-(1,2) 0.6, (2,0)-(2,1) 0.2 along x; (1,1)-(2,1) 0.35 along y
    assert edges.tolist() == [[1, 2]]
    assert size.tolist() == [4.0]
    assert mean_p[0] == pytest.approx((0.4 + 0.6 + 0.2 + 0.35) / 4)
    # with a spacing, a contact counts its face area (y faces are 3 times wider than x faces)
    _, mean_p, size = region_graph(labels, prob, spacing=(3.0, 1.0))
    assert size.tolist() == [3 * 3 + 1]
    assert mean_p[0] == pytest.approx((3 * (0.4 + 0.6 + 0.2) + 0.35) / 10)
    # label 0 is background: no edges to it
    edges, _, _ = region_graph(np.array([[1, 0, 2], [1, 3, 2]]), np.zeros((2, 3)))
    assert edges.tolist() == [[1, 3], [2, 3]]


def test_tiny_superpixels_join_the_neighbour_across_the_weakest_boundary():
    labels = np.zeros((10, 21), np.int32)
    labels[:, :10] = 1
    labels[:, 11:] = 2
    labels[:, 10] = 3  # a 10-px sliver between two large regions
    labels[0, 10] = 4  # and a 1-px one on top of it
    prob = np.full(labels.shape, 0.5, np.float32)
    prob[:, 9] = 0.9  # strong membrane between 1 and the sliver
    prob[:, 11] = 0.1  # weak one between the sliver and 2
    merged = merge_small_superpixels(labels, prob, min_superpixel=20)
    assert merged.max() == 2
    assert len(np.unique(merged[:, 10:])) == 1  # sliver and its top pixel went to region 2
    assert np.all(merged[:, :10] != merged[0, 20])
    assert np.array_equal(merge_small_superpixels(labels, prob, 0), labels)  # 0 = off
    # two small neighbours that are still small together keep merging until they are not
    chain = np.array([[1, 1, 2, 2, 3, 3, 3, 3, 3, 3]])
    merged = merge_small_superpixels(chain, np.zeros(chain.shape), min_superpixel=5)
    assert np.all(merged == 1)


def multicut_objective(edges, costs, clusters):
    return float(costs[clusters[edges[:, 0]] == clusters[edges[:, 1]]].sum())


def test_gaec_sums_parallel_edges_and_finds_the_optimum_of_a_small_graph():
    # a-b strongly attractive, a-c weakly attractive, b-c repulsive: after a-b the edge to c
    # is 1 - 3 < 0, so c stays alone (merging by single edges would take c in)
    assert agglomerate(
        3, np.array([[0, 1], [0, 2], [1, 2]]), np.array([5.0, 1.0, -3.0])
    ).tolist() == [0, 0, 1]
    # two triangles joined by weak attraction and one strong repulsion: best is two clusters
    edges = np.array([[0, 1], [1, 2], [0, 2], [3, 4], [4, 5], [3, 5], [2, 3], [1, 4]])
    costs = np.array([4.0, 3.0, 2.0, 4.0, 3.0, 2.0, 1.0, -6.0])
    clusters = agglomerate(6, edges, costs)
    best = max(
        (np.array(p) for p in itertools.product(range(3), repeat=6)),
        key=lambda p: multicut_objective(edges, costs, p),
    )
    assert multicut_objective(edges, costs, clusters) == multicut_objective(edges, costs, best)
    assert clusters.tolist() == [0, 0, 0, 1, 1, 1]


def reference_gaec(n_nodes, edges, costs):
    """GAEC written plainly with dicts of dicts, for comparison."""
    adjacency: dict[int, dict[int, float]] = {i: {} for i in range(n_nodes)}
    for (a, b), c in zip(edges.tolist(), costs.tolist()):
        adjacency[a][b] = adjacency[b][a] = c
    parent = list(range(n_nodes))
    while True:
        pairs = [(c, a, b) for a in adjacency for b, c in adjacency[a].items() if a < b]
        if not pairs or max(pairs)[0] <= 0:
            break
        _, a, b = max(pairs)
        for w, c in adjacency.pop(b).items():
            del adjacency[w][b]
            if w != a:
                adjacency[a][w] = adjacency[w][a] = adjacency[a].get(w, 0.0) + c
        parent[b] = a
    roots = []
    for i in range(n_nodes):
        while parent[i] != i:
            i = parent[i]
        roots.append(i)
    return np.unique(roots, return_inverse=True)[1]


@pytest.mark.parametrize("seed", range(3))
def test_gaec_matches_a_plain_implementation_and_leaves_no_attractive_pair(seed):
    rng = np.random.default_rng(seed)
    n = 120
    pairs = rng.integers(0, n, (600, 2))
    pairs = np.unique(np.sort(pairs[pairs[:, 0] != pairs[:, 1]], axis=1), axis=0)
    costs = rng.normal(-0.3, 1.0, len(pairs))
    clusters = agglomerate(n, pairs, costs)
    reference = reference_gaec(n, pairs, costs)
    same = clusters[:, None] == clusters[None, :]
    assert np.array_equal(same, reference[:, None] == reference[None, :])
    # termination property: every pair of clusters has a non-positive total cost between them
    a, b = clusters[pairs[:, 0]], clusters[pairs[:, 1]]
    between = a != b
    totals: dict[tuple[int, int], float] = {}
    for x, y, c in zip(np.minimum(a, b)[between], np.maximum(a, b)[between], costs[between]):
        totals[(x, y)] = totals.get((x, y), 0.0) + c
    assert max(totals.values()) <= 0
    assert 1 < clusters.max() + 1 < n


def test_gaec_rejects_malformed_graphs():
    with pytest.raises(ValueError, match="parallel"):
        agglomerate(3, np.array([[0, 1], [1, 0]]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="self-loops"):
        agglomerate(3, np.array([[1, 1]]), np.array([1.0]))
    with pytest.raises(ValueError, match="endpoints"):
        agglomerate(2, np.array([[0, 2]]), np.array([1.0]))
    assert agglomerate(3, np.zeros((0, 2), int), np.zeros(0)).tolist() == [0, 1, 2]


def test_edge_costs_are_log_odds_biased_by_beta_and_weighted_by_size():
    costs = edge_costs(np.array([0.5, 0.2, 0.0]), np.array([2.0, 1.0, 1.0]), beta=0.5)
    assert costs == pytest.approx([0.0, np.log(4), np.log(999)])
    assert edge_costs(np.array([0.5]), np.array([3.0]), beta=0.25)[0] == pytest.approx(
        3 * np.log(3)
    )


# --- real data ----------------------------------------------------------------------------------


def test_superpixels_cover_the_image_and_respect_the_minimum_size(isbi):
    _, cells, predicted = isbi
    sp = superpixels(prediction_2d(predicted[0]), Params(min_superpixel=30))
    assert sp.dtype == np.int32 and sp.min() == 1
    sizes = np.bincount(sp.reshape(-1))[1:]
    assert np.all(sizes >= 30) and sizes.size == sp.max()  # sequential labels, none small
    raw = superpixels(prediction_2d(predicted[0]), Params(min_superpixel=0))
    assert raw.max() > sp.max()
    # an over-segmentation: superpixels rarely straddle two cells
    assert metrics.rand_voi(cells[0], sp)["vrand_merge"] > 0.95


@pytest.mark.parametrize("index", [0, 7])
def test_postprocess_recovers_the_isbi_cells(isbi, index):
    membranes, cells, predicted = isbi
    prediction = prediction_2d(predicted[index])
    labels = postprocess(prediction, Params())
    assert labels.dtype == np.int32 and labels.shape == (512, 512)
    score = metrics.rand_voi(cells[index], labels)
    # measured 0.972 (slice 0) and 0.986 (slice 7)
    assert score["vrand"] >= 0.95, score
    # the agglomeration is what gets there: superpixels and thresholding alone do not
    sp_score = metrics.rand_voi(cells[index], superpixels(prediction, Params()))["vrand"]
    components = ndimage.label(predicted[index] < 0.5)[0]
    assert sp_score < 0.8 and metrics.rand_voi(cells[index], components)["vrand"] < 0.8
    # membranes (ground-truth background) belong to cells too, as in a full partition
    assert np.mean(labels[membranes[index]] > 0) > 0.99


def test_beta_below_half_merges_more_and_above_splits_more(isbi):
    _, cells, predicted = isbi
    prediction = prediction_2d(predicted[0])
    counts = [int(postprocess(prediction, Params(beta=b)).max()) for b in (0.3, 0.5, 0.7)]
    assert counts[0] < counts[1] < counts[2], counts
    merge = metrics.rand_voi(cells[0], postprocess(prediction, Params(beta=0.3)))
    split = metrics.rand_voi(cells[0], postprocess(prediction, Params(beta=0.7)))
    assert merge["vrand_merge"] < split["vrand_merge"]
    assert split["vrand_split"] < merge["vrand_split"]


def test_anisotropic_stack_gives_3d_objects_and_uses_the_spacing(isbi):
    _, cells, predicted = isbi
    stack = predicted[:4]
    anisotropic = postprocess(
        Prediction({"boundary": stack[None]}, "ZYX", {"spacing": (12.5, 1.0, 1.0)}), Params()
    )
    assert anisotropic.shape == (4, 512, 512)
    per_slice = [metrics.rand_voi(cells[k], anisotropic[k])["vrand"] for k in range(4)]
    assert min(per_slice) > 0.9, per_slice  # measured 0.93-0.97
    # cells that continue into the next section (overlap IoU > 0.6) keep their 3D label
    linked = total = 0
    for k in range(3):
        for cell in range(1, cells[k].max() + 1):
            here = cells[k] == cell
            if here.sum() < 200:
                continue
            following = np.bincount(cells[k + 1][here]).argmax()
            there = cells[k + 1] == following
            if following == 0 or (here & there).sum() / (here | there).sum() < 0.6:
                continue
            total += 1
            ours = np.bincount(anisotropic[k][here]).argmax()
            linked += ours == np.bincount(anisotropic[k + 1][there]).argmax()
    assert total > 50 and linked / total > 0.9, (linked, total)  # measured 111 / 116
    # treated as isotropic, superpixels leak through the thick sections and cells merge
    isotropic = postprocess(Prediction({"boundary": stack[None]}, "ZYX"), Params())
    iso_slice = [metrics.rand_voi(cells[k], isotropic[k])["vrand"] for k in range(4)]
    assert np.mean(per_slice) > np.mean(iso_slice) + 0.1, (per_slice, iso_slice)


def test_spacing_must_match_the_axes():
    prediction = Prediction({"boundary": np.zeros((1, 4, 4), np.float32)}, "YX", {"spacing": (1,)})
    with pytest.raises(ValueError, match="spacing"):
        postprocess(prediction, Params())


# --- caching ------------------------------------------------------------------------------------


def test_a_beta_change_reuses_the_superpixels_and_a_threshold_change_does_not(isbi, monkeypatch):
    _, cells, predicted = isbi
    calls = []
    real_watershed = _superpixels.watershed

    def counting(*args, **kwargs):
        calls.append(1)
        return real_watershed(*args, **kwargs)

    monkeypatch.setattr(_superpixels, "watershed", counting)
    prediction = prediction_2d(predicted[7])
    first = postprocess(prediction, Params())
    assert len(calls) == 1
    merged = postprocess(prediction, Params(beta=0.3, min_size=50, fg_thresh=0.2))
    assert len(calls) == 1  # only contraction and filters re-ran
    assert merged.max() < first.max() and metrics.rand_voi(cells[7], merged)["vrand"] > 0.9
    assert np.bincount(merged.reshape(-1))[1:].min() >= 50
    # the cached path gives what a fresh computation gives
    boundary.clear_cache()
    assert np.array_equal(postprocess(prediction, Params(beta=0.3, min_size=50)), merged)
    assert len(calls) == 2
    postprocess(prediction, Params(boundary_thresh=0.4))
    assert len(calls) == 3
    postprocess(prediction, Params(beta=0.6))  # the first combination is still cached
    assert len(calls) == 3
    # the same values in another array are another prediction: no stale hit by id
    postprocess(prediction_2d(predicted[7].copy()), Params(beta=0.6))
    assert len(calls) == 4


def test_cache_keeps_a_few_entries_and_drops_dead_arrays(monkeypatch):
    calls = []
    real_watershed = _superpixels.watershed
    monkeypatch.setattr(
        _superpixels, "watershed", lambda *a, **k: calls.append(1) or real_watershed(*a, **k)
    )
    image = np.zeros((20, 20), np.float32)
    image[:, 10] = 1.0
    prediction = prediction_2d(image)
    for thresh in (0.1, 0.2, 0.3, 0.4, 0.5):
        postprocess(prediction, Params(boundary_thresh=thresh))
    postprocess(prediction, Params(boundary_thresh=0.5, beta=0.7))
    assert len(calls) == 5
    postprocess(prediction, Params(boundary_thresh=0.1))  # the oldest of five was evicted
    assert len(calls) == 6
    assert len(boundary._cache) == boundary.CACHE_SIZE
    del prediction
    postprocess(prediction_2d(image.copy()), Params())
    assert len(boundary._cache) == 1  # entries whose array is gone are purged


# --- filters ------------------------------------------------------------------------------------


def test_objects_with_low_foreground_probability_are_removed(isbi):
    _, cells, predicted = isbi
    foreground = np.ones((512, 512), np.float32)
    foreground[:, 256:] = 0.1
    everything = postprocess(prediction_2d(predicted[0]), Params())
    kept = postprocess(prediction_2d(predicted[0], foreground), Params(fg_thresh=0.5))
    assert np.mean(kept[:, 300:] > 0) < 0.05 and np.mean(kept[:, :200] > 0) == 1.0
    for label in np.unique(kept)[1:]:
        assert foreground[kept == label].mean() >= 0.5
    # objects entirely in the confident half are untouched
    left_only = [i for i in np.unique(everything)[1:] if not np.any(everything[:, 256:] == i)]
    assert len(left_only) > 30
    for i in left_only:
        assert len(np.unique(kept[everything == i])) == 1 and kept[everything == i][0] > 0
    assert np.array_equal(
        postprocess(prediction_2d(predicted[0], foreground), Params(fg_thresh=0.0)) > 0,
        everything > 0,
    )


def test_size_filters(isbi):
    _, _, predicted = isbi
    prediction = prediction_2d(predicted[0])
    sizes = np.bincount(postprocess(prediction, Params()).reshape(-1))[1:]
    low, high = np.percentile(sizes, [25, 75])
    filtered = postprocess(prediction, Params(min_size=int(low), max_size=int(high)))
    kept = np.bincount(filtered.reshape(-1))[1:]
    assert np.all((kept >= low) & (kept <= high))
    assert kept.size == np.sum((sizes >= low) & (sizes <= high))
    assert filtered.max() == kept.size  # relabelled 1..n


def test_degenerate_maps():
    nothing = postprocess(prediction_2d(np.zeros((16, 16), np.float32)), Params())
    assert np.all(nothing == 1)  # no boundary: one object
    everything = postprocess(prediction_2d(np.ones((16, 16), np.float32)), Params())
    assert everything.shape == (16, 16) and everything.max() <= 1
    volume = np.zeros((3, 12, 12), np.float32)
    volume[:, :, 6] = 1.0
    labels = postprocess(Prediction({"boundary": volume[None]}, "ZYX"), Params(min_superpixel=5))
    assert labels.max() == 2 and np.all(labels[:, :, :5] == labels[0, 0, 0])
    # a section that is all membrane has no seed of its own; it still gets labelled, and the
    # sections on either side are not joined through it
    volume[1] = 1.0
    thick = Prediction({"boundary": volume[None]}, "ZYX", {"spacing": (10.0, 1.0, 1.0)})
    assert superpixels(thick, Params(min_superpixel=0)).min() == 1
    labels = postprocess(thick, Params(min_superpixel=0))
    assert len(np.unique(labels[1])) == 1 and labels[0, 0, 0] != labels[2, 0, 0]

import numpy as np
import pytest
from scipy import ndimage

from tessella.engine import metrics
from tessella.engine.methods import Prediction, get_method
from tessella.engine.methods.embedding import SIGMA_SCALE, Params, cluster, postprocess

from ..conftest import blobs_image

SPACING = 1 / 1024


def ideal_prediction(labels, radius_px=3.0, spacing=SPACING):
    """What a perfect network outputs for ``labels``: offsets to each object's centre, a sigma
    whose Gaussian has ``radius_px`` at phi=0.5, and a seed map peaking at the centres."""
    ndim = labels.ndim
    ids = np.unique(labels)[1:]
    centres = np.array(ndimage.center_of_mass(labels > 0, labels, ids)).reshape(-1, ndim)
    coords = np.indices(labels.shape).astype(np.float32)
    offsets = np.zeros((ndim, *labels.shape), np.float32)
    seed = np.zeros(labels.shape, np.float32)
    for i, centre in zip(ids, centres):
        mask = labels == i
        distance = np.sqrt(sum((coords[d][mask] - centre[d]) ** 2 for d in range(ndim)))
        for d in range(ndim):
            offsets[d][mask] = (centre[d] - coords[d][mask]) * spacing
        seed[mask] = 0.98 - 0.05 * distance / max(distance.max(), 1)
    # phi = exp(-s (r*spacing)^2) = 0.5 at r = radius_px
    s = np.log(2) / (radius_px * spacing) ** 2
    sigma = np.full((ndim, *labels.shape), np.log(s) / SIGMA_SCALE, np.float32)
    arrays = {"offsets": offsets, "sigma": sigma, "seed": seed[None]}
    return Prediction(arrays, "ZYX" if ndim == 3 else "YX", {"grid_spacing": [spacing] * ndim})


def brute_force_cluster(prediction, params):
    """EmbedSeg's algorithm as written (every seed against every foreground pixel)."""
    seed = prediction.arrays["seed"][0]
    fg = seed > params.fg_thresh
    coords = np.indices(seed.shape)[:, fg].astype(np.float64) * SPACING
    emb = coords + prediction.arrays["offsets"][:, fg]
    scale = np.exp(SIGMA_SCALE * prediction.arrays["sigma"][:, fg].astype(np.float64))
    seeds = seed[fg]
    labels = np.zeros(seeds.size, np.int32)
    unclustered = np.ones(seeds.size, bool)
    count = 0
    for idx in np.argsort(-seeds, kind="stable"):
        if seeds[idx] < params.seed_thresh:
            break
        if not unclustered[idx]:
            continue
        dist = (scale[:, idx : idx + 1] * (emb - emb[:, idx : idx + 1]) ** 2).sum(0)
        proposal = np.exp(-dist) > params.cutoff
        if (
            proposal.sum() >= params.min_size
            and unclustered[proposal].mean() > params.min_unclustered
        ):
            count += 1
            labels[proposal & (labels == 0)] = count
        unclustered[proposal] = False
        unclustered[idx] = False
    out = np.zeros(seed.shape, np.int32)
    out[fg] = labels
    return out


@pytest.mark.parametrize("ndim", [2, 3])
def test_ideal_prediction_gives_back_the_objects(ndim):
    shape = (256, 256) if ndim == 2 else (32, 64, 64)
    _, labels = blobs_image(shape, n=25 if ndim == 2 else 12, radius=7 if ndim == 2 else 5)
    prediction = ideal_prediction(labels)
    result = postprocess(prediction, Params(min_size=5))
    scores = metrics.matching(labels, result, 0.9)
    assert scores.n_true == scores.tp == scores.n_pred


def test_matches_brute_force_embedseg_on_noisy_predictions():
    _, labels = blobs_image((200, 200), n=40, radius=9, seed=3)
    prediction = ideal_prediction(labels, radius_px=4.0)
    rng = np.random.default_rng(0)
    prediction.arrays["offsets"] += rng.normal(0, 2 * SPACING, prediction.arrays["offsets"].shape)
    prediction.arrays["seed"] = np.clip(
        prediction.arrays["seed"] + rng.normal(0, 0.05, prediction.arrays["seed"].shape), 0, 1
    )
    params = Params(seed_thresh=0.8, min_size=10)
    fast = postprocess(prediction, params)
    slow = brute_force_cluster(prediction, params)
    assert fast.max() > 20
    np.testing.assert_array_equal(fast, slow)


def test_thresholds_act_as_documented():
    _, labels = blobs_image((128, 128), n=10, radius=6, seed=5)
    prediction = ideal_prediction(labels)
    assert postprocess(prediction, Params(seed_thresh=0.99, min_size=1)).max() == 0
    assert postprocess(prediction, Params(fg_thresh=0.999, min_size=1)).max() == 0
    everything = postprocess(prediction, Params(min_size=1))
    assert postprocess(prediction, Params(min_size=10_000)).max() == 0
    assert everything.max() == len(np.unique(labels)) - 1


def test_scores_are_the_centre_seeds():
    _, labels = blobs_image((128, 128), n=8, radius=6, seed=7)
    result, scores = cluster(ideal_prediction(labels), Params(min_size=1))
    assert len(scores) == result.max() + 1
    assert np.all(scores[1:] > 0.9)


def test_empty_foreground_gives_empty_labels():
    prediction = ideal_prediction(np.zeros((64, 64), np.int32))
    assert postprocess(prediction, Params()).shape == (64, 64)
    assert postprocess(prediction, Params()).max() == 0


def test_method_contract():
    method = get_method("embedding")
    assert method.out_channels(2) == (4, 1) and method.out_channels(3) == (6, 1)
    assert set(method.OUTPUT_KINDS) == {"offsets", "sigma", "seed"}
    with pytest.raises(ValueError, match="unknown method"):
        get_method("nope")

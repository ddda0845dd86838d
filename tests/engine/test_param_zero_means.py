"""A parameter whose help says "0 = off" or "0 = no limit" acts so: at 0 the post-processing
gives what it gives with that step skipped, or with a limit nothing can fail; and one that
does act at 0 only so says it (the Tune panel shows "off"/"no limit" from these help texts).

Data: real ISBI 2012 membranes (boundary), real Lucchi++ mitochondria (semantic), real DSB2018
nuclei (embedding, patches) made into predictions, and a synthetic cell movie (temporal).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella.engine.evaluation import mask_pieces
from tessella.engine.methods import METHOD_NAMES, Prediction, _superpixels, get_method
from tessella.engine.methods import boundary as boundary_method
from tessella.engine.methods._base import relative_spacing
from tessella.engine.params import make_params, param_specs
from tests.conftest import cell_movie, perfect_patch_prediction

from .test_boundary import imperfect_prediction
from .test_embedding import ideal_prediction
from .test_semantic import degraded

ZERO_MEANS = re.compile(r"\b0 = (off|no limit)\b")


def same_objects(a: np.ndarray, b: np.ndarray) -> bool:
    """The same objects, whatever their numbers."""
    if a.shape != b.shape or not np.array_equal(a > 0, b > 0):
        return False
    pairs = np.unique(np.stack([a.reshape(-1), b.reshape(-1)]), axis=1)
    return len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]


# --- the data, small crops --------------------------------------------------------------------


@pytest.fixture(scope="module")
def isbi_crop(data_dir):
    """A 256² ISBI boundary prediction and a foreground map that dims half of its cells."""
    membranes = tifffile.imread(data_dir / "em_membranes_isbi2012" / "boundaries" / "00.tif")
    membranes = membranes[:256, :256] == 1
    cells, n = ndimage.label(~membranes)
    brightness = np.random.default_rng(0).uniform(0.0, 1.0, n + 1)
    foreground = brightness[cells] * (cells > 0)
    return imperfect_prediction(membranes, 0), foreground.astype(np.float32)


def boundary_run(isbi_crop, foreground=True, **values):
    boundary_method.clear_cache()
    boundary_map, fg = isbi_crop
    arrays = {"boundary": boundary_map[None]}
    if foreground:
        arrays["foreground"] = fg[None]
    prediction = Prediction(arrays, "YX")
    return boundary_method.postprocess(prediction, make_params(boundary_method.Params, **values))


def boundary_superpixels(isbi_crop, **values):
    prediction = Prediction({"boundary": isbi_crop[0][None]}, "YX")
    return boundary_method.superpixels(prediction, make_params(boundary_method.Params, **values))


@pytest.fixture(scope="module")
def mito(data_dir):
    """A (6, 160, 160) crop of the Lucchi++ validation mitochondria as a noisy probability."""
    truth = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")
    return degraded(truth[:6, 300:460, 400:560] > 0, seed=0)


#: every step of the semantic method off: thresholded components and nothing else
SEMANTIC_OFF = {"z_median": 0, "radius": 0, "fill_holes": False, "split": False, "min_size": 0}


def semantic_run(probability, **values):
    method = get_method("semantic")
    axes = "ZYX" if probability.ndim == 3 else "YX"
    params = make_params(method.Params, **{**SEMANTIC_OFF, **values})
    return method.postprocess(Prediction({"foreground": probability[None]}, axes), params)


@pytest.fixture(scope="module")
def nuclei_crop(nuclei_sample):
    """Real nuclei labels of a 128² crop (nuclei cut by its edges are small)."""
    _, labels = nuclei_sample
    crop, _, _ = _relabel(labels[:128, :128])
    return crop


def _relabel(labels):
    from skimage.segmentation import relabel_sequential

    return relabel_sequential(labels.astype(np.int32))


def embedding_run(labels, **values):
    method = get_method("embedding")
    prediction = ideal_prediction(labels, radius_px=4.0)
    rng = np.random.default_rng(0)
    prediction.arrays["offsets"] += rng.normal(0, 2 / 1024, prediction.arrays["offsets"].shape)
    return method.postprocess(prediction, method.Params(**{"seed_thresh": 0.5, **values}))


@pytest.fixture(scope="module")
def nuclei_patches(nuclei_crop):
    """What a perfect PatchPerPix network predicts for the nuclei (decoded once, cached)."""
    masks = np.stack([nuclei_crop == k for k in range(1, int(nuclei_crop.max()) + 1)])
    return perfect_patch_prediction(masks)


def patches_run(prediction, **values):
    method = get_method("patches")
    return method.postprocess(prediction, make_params(method.Params, **values))


@pytest.fixture(scope="module")
def movie_predictions():
    """Predictions of a 6-frame cell movie: noisy foreground (specks) and centre maps."""
    from tessella.engine.train.methods import centre_map

    _image, labels, _tracks = cell_movie(frames=6)
    rng = np.random.default_rng(0)
    predictions = []
    for frame in labels:
        foreground = np.clip((frame > 0) + rng.normal(0, 0.25, frame.shape), 0, 1)
        arrays = {"foreground": foreground[None], "centre": centre_map(frame)[None]}
        predictions.append(Prediction({k: v.astype(np.float32) for k, v in arrays.items()}, "YX"))
    return predictions


def temporal_series(predictions, **values):
    method = get_method("temporal")
    params = make_params(method.Params, **{"link": False, **values})
    return method.postprocess_series(predictions, params)[0]


# --- each parameter: (at 0, the step skipped or no limit, a value that acts) -------------------


def _sigma_seeds(data, monkeypatch):
    at_zero = boundary_superpixels(data["isbi"], sigma_seeds=0)
    # the smoothing skipped: the seeds come from the distance map itself
    plain = SimpleNamespace(**{**vars(ndimage), "gaussian_filter": lambda array, sigma: array})
    with monkeypatch.context() as patch:
        patch.setattr(_superpixels, "ndimage", plain)
        skipped = boundary_superpixels(data["isbi"], sigma_seeds=2.0)
    return at_zero, skipped, boundary_superpixels(data["isbi"], sigma_seeds=2.0)


def _min_superpixel(data, monkeypatch):
    at_zero = boundary_superpixels(data["isbi"], min_superpixel=0)
    params = boundary_method.Params(min_superpixel=0)
    boundary_map = data["isbi"][0]
    relative = relative_spacing(Prediction({"boundary": boundary_map[None]}, "YX"), 2)
    skipped = _superpixels._watershed(boundary_map, relative, params)  # nothing merged
    return at_zero, skipped, boundary_superpixels(data["isbi"], min_superpixel=20)


def _boundary_min_size(data, monkeypatch):
    skipped = boundary_run(data["isbi"], min_size=1)  # every object has a pixel
    smallest = int(np.bincount(skipped.reshape(-1))[1:].min())
    on = boundary_run(data["isbi"], min_size=smallest + 1)
    return boundary_run(data["isbi"], min_size=0), skipped, on


def _boundary_max_size(data, monkeypatch):
    run, everything = boundary_run, data["isbi"][0].size  # nothing is larger than the image
    return (
        run(data["isbi"], max_size=0),
        run(data["isbi"], max_size=everything),
        run(data["isbi"], max_size=600),
    )


def _fg_thresh(data, monkeypatch):
    skipped = boundary_run(data["isbi"], foreground=False)  # no foreground: nothing dropped
    return boundary_run(data["isbi"], fg_thresh=0.0), skipped, boundary_run(data["isbi"])


def _embedding_min_size(data, monkeypatch):
    run = embedding_run
    return run(data["nuclei"], min_size=0), run(data["nuclei"], min_size=1), run(data["nuclei"])


def _min_unclustered(data, monkeypatch):
    # a fraction below 0: no proposal can fail the check (the dataclass does not validate)
    skipped = embedding_run(data["nuclei"], min_unclustered=-1.0)
    on = embedding_run(data["nuclei"], min_unclustered=0.9)
    return embedding_run(data["nuclei"], min_unclustered=0.0), skipped, on


def _patches_min_size(data, monkeypatch):
    run, prediction = patches_run, data["patches"]
    return run(prediction, min_size=0), run(prediction, min_size=1), run(prediction)


def _z_median(data, monkeypatch):
    skipped = mask_pieces(data["mito"] > 0.5)[0]  # 3D pieces of the threshold (as --gt-binary)
    return semantic_run(data["mito"], z_median=0), skipped, semantic_run(data["mito"], z_median=3)


def _radius(data, monkeypatch):
    plane = data["mito"][2]
    skipped = mask_pieces(plane > 0.5)[0]
    return semantic_run(plane, radius=0), skipped, semantic_run(plane, radius=2)


def _semantic_min_size(data, monkeypatch):
    plane = data["mito"][2]
    skipped = mask_pieces(plane > 0.5)[0]  # every piece kept
    return semantic_run(plane, min_size=0), skipped, semantic_run(plane, min_size=100)


def _temporal_sigma(data, monkeypatch):
    method, movie = get_method("temporal"), data["movie"]
    params = make_params(method.Params, temporal_sigma=1.0)
    # a frame's postprocess does no smoothing along time
    skipped = np.stack([method.postprocess(p, params) for p in movie])
    return temporal_series(movie, temporal_sigma=0.0), skipped, temporal_series(movie)


def _temporal_min_size(data, monkeypatch):
    movie = data["movie"]
    at_zero, skipped = temporal_series(movie, min_size=0), temporal_series(movie, min_size=1)
    return at_zero, skipped, temporal_series(movie)


CHECKS = {
    ("boundary", "sigma_seeds"): _sigma_seeds,
    ("boundary", "min_superpixel"): _min_superpixel,
    ("boundary", "min_size"): _boundary_min_size,
    ("boundary", "max_size"): _boundary_max_size,
    ("boundary", "fg_thresh"): _fg_thresh,
    ("embedding", "min_size"): _embedding_min_size,
    ("embedding", "min_unclustered"): _min_unclustered,
    ("patches", "min_size"): _patches_min_size,
    ("semantic", "z_median"): _z_median,
    ("semantic", "radius"): _radius,
    ("semantic", "min_size"): _semantic_min_size,
    ("temporal", "temporal_sigma"): _temporal_sigma,
    ("temporal", "min_size"): _temporal_min_size,
}


def test_the_help_says_what_0_means_exactly_where_it_means_off_or_no_limit():
    """Every parameter checked below says "0 = off"/"0 = no limit" in its help, and none
    other does (min_size, min_superpixel, sigma_seeds, fg_thresh and min_unclustered acted
    so without saying it: Tune had its own table of three names)."""
    said = {
        (method, spec.name)
        for method in METHOD_NAMES
        for spec in param_specs(get_method(method).Params)
        if spec.low == 0 and ZERO_MEANS.search(spec.help)
    }
    assert said == set(CHECKS)


@pytest.fixture(scope="module")
def data(isbi_crop, mito, nuclei_crop, nuclei_patches, movie_predictions):
    return {
        "isbi": isbi_crop,
        "mito": mito,
        "nuclei": nuclei_crop,
        "patches": nuclei_patches,
        "movie": movie_predictions,
    }


@pytest.mark.parametrize("method, name", sorted(CHECKS))
def test_0_acts_as_its_help_says(method, name, data, monkeypatch):
    spec = {spec.name: spec for spec in param_specs(get_method(method).Params)}[name]
    assert ZERO_MEANS.search(spec.help), spec.help
    at_zero, skipped, on = CHECKS[(method, name)](data, monkeypatch)
    assert same_objects(at_zero, skipped)
    assert not same_objects(on, skipped)  # the step (limit) does act on these data
    assert at_zero.max() > 0

"""Semantic post-processing (threshold, Z median, opening/closing, holes, components, split) on
the real Lucchi++ mitochondria and on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from scipy import ndimage
from skimage.draw import line

from tessella.engine.methods import Prediction, get_method, semantic
from tessella.engine.methods.semantic import Params, distance_transform, postprocess
from tessella.engine.metrics import foreground_iou
from tessella.engine.params import make_params, param_specs

LUCCHI = "em_mito_lucchipp"


@pytest.fixture(scope="module")
def val_mito(data_dir):
    """The Lucchi++ validation mitochondria, (25, 768, 1024) bool."""
    return tifffile.imread(data_dir / LUCCHI / "val" / "mito.tif") > 0


def as_prediction(probability, spacing=None) -> Prediction:
    axes = "ZYX" if probability.ndim == 3 else "YX"
    meta = {} if spacing is None else {"spacing": spacing}
    return Prediction({"foreground": probability[None].astype(np.float32)}, axes, meta)


def degraded(truth: np.ndarray, seed: int) -> np.ndarray:
    """A network-like probability: the truth blurred (sigma 1), pixel noise (sd 0.2) and 300
    small false-positive blobs (25 voxels each) scattered over the volume."""
    rng = np.random.default_rng(seed)
    probability = ndimage.gaussian_filter(truth.astype(np.float32), 1.0)
    probability += rng.normal(0, 0.2, truth.shape).astype(np.float32)
    specks = np.zeros(truth.shape, bool)
    specks[tuple(rng.integers(0, n, 300) for n in truth.shape)] = True
    probability[ndimage.binary_dilation(specks, iterations=2)] = 0.9
    return np.clip(probability, 0, 1)


def test_the_method_is_registered_and_slicewise():
    method = get_method("semantic")
    assert method is semantic and method.SLICEWISE_3D
    assert method.out_channels(2) == method.out_channels(3) == (1,)
    import torch

    raw = torch.tensor([[[[0.0, 100.0], [-100.0, 0.0]]]])
    outputs = method.activate(raw, 2)
    assert set(outputs) == set(method.OUTPUT_KINDS) == {"foreground"}
    assert outputs["foreground"].tolist() == [[[[0.5, 1.0], [0.0, 0.5]]]]


def test_params_take_sliders_checkboxes_and_strings():
    kinds = {spec.name: spec.kind for spec in param_specs(Params)}
    assert kinds["fill_holes"] is bool and kinds["split"] is bool
    assert kinds["z_median"] is int and kinds["threshold"] is float
    params = make_params(Params, fill_holes="1", split="yes", z_median="5", min_size=10)
    assert params.fill_holes is True and params.split is True and params.z_median == 5
    with pytest.raises(ValueError, match="z_median"):
        make_params(Params, z_median=-1)


def test_clean_truth_gives_exactly_its_3d_components(val_mito):
    components, n = ndimage.label(val_mito)
    probability = val_mito.astype(np.float32)
    labels = postprocess(as_prediction(probability), Params(min_size=0))
    assert labels.dtype == np.int32 and np.array_equal(labels, components)
    sizes = np.bincount(components.ravel())[1:]
    default = postprocess(as_prediction(probability), Params())
    assert default.max() == np.count_nonzero(sizes >= 100) == n == 13


def test_noisy_probability_of_the_truth_is_recovered(val_mito):
    probability = degraded(val_mito, seed=0)
    raw = probability > 0.5
    assert foreground_iou(val_mito, raw) < 0.9  # measured 0.853
    assert ndimage.label(raw)[1] > 1000
    prediction = as_prediction(probability)
    before = prediction.arrays["foreground"].copy()
    labels = postprocess(prediction, Params(z_median=5))
    assert foreground_iou(val_mito, labels) >= 0.95  # measured 0.954
    assert labels.max() == ndimage.label(val_mito)[1]
    smoothed = postprocess(prediction, Params(z_median=3, radius=1))
    assert foreground_iou(val_mito, smoothed) >= 0.95  # measured 0.959
    assert np.array_equal(prediction.arrays["foreground"], before)  # not modified


@pytest.mark.parametrize("size", [2, 3, 4, 5, 7])
@pytest.mark.parametrize("depth", [1, 2, 6])
def test_z_vote_is_the_median_along_z(size, depth):
    rng = np.random.default_rng(size * 10 + depth)
    mask = rng.random((depth, 9, 11)) > 0.5
    odd = size | 1
    expected = ndimage.median_filter(mask.view(np.uint8), size=(odd, 1, 1), mode="reflect") > 0
    got = semantic.foreground_mask(as_prediction(mask.astype(np.float32)), Params(z_median=size))
    assert np.array_equal(got, expected)


def test_z_median_removes_a_single_slice_error(val_mito):
    truth = val_mito[:9, :384, :512]
    probability = truth.astype(np.float32)
    free = ~ndimage.binary_dilation(truth.any(0), iterations=5)
    ys, xs = np.nonzero(ndimage.binary_erosion(free, np.ones((41, 41))))
    y, x = ys[0], xs[0]  # a 40x40 window with no mitochondria in any slice
    probability[4, y - 20 : y + 20, x - 20 : x + 20] = 1.0  # one slice's false positive
    probability[4][truth[4]] = 0.0  # and the same slice misses every mitochondrion
    plain = postprocess(as_prediction(probability), Params(min_size=0))
    assert plain.max() > ndimage.label(truth)[1] and foreground_iou(truth, plain) < 0.95
    filtered = postprocess(as_prediction(probability), Params(z_median=3, min_size=0))
    assert not filtered[4, y - 20 : y + 20, x - 20 : x + 20].any()
    assert foreground_iou(truth[4], filtered[4]) > 0.9  # measured 0.928: its neighbours agree
    assert foreground_iou(truth, filtered) > 0.97  # measured 0.974 (the truth varies along Z)
    assert filtered.max() == ndimage.label(truth)[1]


def test_opening_removes_thin_bridges_and_hairs(val_mito):
    truth = val_mito[:6, :384, :512]
    components, n = ndimage.label(truth)
    a, b = np.argsort(np.bincount(components.ravel())[1:])[-2:] + 1
    centre_a = np.round(ndimage.center_of_mass(components[3] == a)).astype(int)
    centre_b = np.round(ndimage.center_of_mass(components[3] == b)).astype(int)
    thin = np.zeros(truth.shape[1:], bool)
    thin[line(*centre_a, *centre_b)] = True  # a bridge between the two
    thin[line(*centre_a, 0, 0)] = True  # and a hair to the corner
    thin = ndimage.binary_dilation(thin)  # 3 pixels wide, face-connected
    probability = (truth | thin).astype(np.float32)  # in every slice
    merged = postprocess(as_prediction(probability), Params(min_size=0))
    assert merged.max() < n
    opened = postprocess(as_prediction(probability), Params(radius=2, min_size=0))
    assert opened.max() == n
    reference = postprocess(as_prediction(truth), Params(radius=2, min_size=0))
    assert foreground_iou(reference, opened) > 0.99  # as if the bits had never been there
    assert foreground_iou(truth, opened) > 0.95  # measured 0.962: edges are smoothed too
    assert not opened[3, 0, 0]  # the hair is gone


def test_opening_follows_the_voxel_spacing():
    probability = np.zeros((7, 40, 40), np.float32)
    probability[3, 5:35, 5:35] = 1.0  # one slice thick
    isotropic = postprocess(as_prediction(probability), Params(radius=2, min_size=0))
    assert isotropic.max() == 0  # a ball does not fit into one slice
    thick = postprocess(as_prediction(probability, (5.0, 1.0, 1.0)), Params(radius=2, min_size=0))
    assert thick.max() == 1 and not np.delete(thick, 3, axis=0).any()
    assert np.count_nonzero(thick) > 0.98 * 30 * 30  # a disc in the plane fits (not the corners)


def test_fill_holes_fills_what_is_enclosed_within_a_plane():
    yy, xx = np.mgrid[:40, :40]
    ring = ((yy - 20) ** 2 + (xx - 20) ** 2 < 15**2) & ((yy - 20) ** 2 + (xx - 20) ** 2 >= 5**2)
    cup = ring & ~((xx >= 20) & (np.abs(yy - 20) < 2))  # a ring cut open to the right
    image = np.zeros((40, 80), np.float32)
    image[:, :40], image[:, 40:] = ring, cup
    filled = semantic.foreground_mask(as_prediction(image), Params(fill_holes=True))
    assert filled[20, 20] and not filled[20, 60]  # the cut ring's inside reaches outside
    tube = np.repeat(ring[None], 5, axis=0).astype(np.float32)  # open along Z: filled per plane
    assert semantic.foreground_mask(as_prediction(tube), Params(fill_holes=True))[:, 20, 20].all()
    hole_at_edge = np.ones((20, 20), np.float32)
    hole_at_edge[0:5, 5:10] = 0
    assert not semantic.foreground_mask(as_prediction(hole_at_edge), Params(fill_holes=True))[0, 6]


def test_min_size_drops_small_objects_and_renumbers():
    probability = np.zeros((30, 60), np.float32)
    probability[2:7, 2:12] = 1.0  # 50 pixels
    probability[10:25, 20:30] = 1.0  # 150 pixels
    probability[2:4, 40:42] = 1.0  # 4 pixels
    labels = postprocess(as_prediction(probability), Params(min_size=100))
    assert labels.max() == 1 and np.count_nonzero(labels) == 150 and labels[15, 25] == 1
    assert postprocess(as_prediction(probability), Params(min_size=4)).max() == 3


def test_split_separates_two_touching_real_mitochondria(data_dir):
    truth = tifffile.imread(data_dir / LUCCHI / "train" / "mito.tif")[0:10, 340:560, 300:620] > 0
    assert ndimage.label(truth)[1] == 1  # two mitochondria that touch: one component
    prediction = as_prediction(truth.astype(np.float32))
    assert postprocess(prediction, Params()).max() == 1
    labels = postprocess(prediction, Params(split=True))
    sizes = np.bincount(labels.ravel())[1:]
    assert len(sizes) == 2 and sizes.min() > 0.3 * sizes.sum()
    assert np.array_equal(labels > 0, truth)


def test_split_cuts_touching_discs_but_not_a_wavy_sausage():
    yy, xx = np.mgrid[:60, :120]
    discs = ((yy - 30) ** 2 + (xx - 30) ** 2 < 20**2) | ((yy - 30) ** 2 + (xx - 64) ** 2 < 18**2)
    sausage = np.abs(yy - 30) < 8 + 1.5 * np.sin(xx / 4.0)  # bumps every 25 pixels
    sausage &= (xx > 5) & (xx < 115)
    for mask, expected in ((discs, 2), (sausage, 1)):
        prediction = as_prediction(mask.astype(np.float32))
        assert postprocess(prediction, Params(min_size=0)).max() == 1
        labels = postprocess(prediction, Params(split=True, min_distance=5, min_size=0))
        assert labels.max() == expected
    labels = postprocess(as_prediction(discs.astype(np.float32)), Params(split=True))
    assert labels[30, 30] != labels[30, 64] and labels[30, 30] > 0 and labels[30, 64] > 0


def test_split_of_a_mask_without_background_is_one_object():
    labels = postprocess(as_prediction(np.ones((5, 8, 8), np.float32)), Params(split=True))
    assert labels.max() == 1 and labels.min() == 1


@pytest.mark.parametrize("shape", [(25,), (17, 23), (6, 15, 19)])
def test_distance_transform_matches_scipy(shape):
    rng = np.random.default_rng(len(shape))
    mask = ndimage.gaussian_filter(rng.random(shape), 1.5) > 0.5
    for sampling in (None, np.linspace(0.5, 3.0, len(shape))):
        expected = ndimage.distance_transform_edt(mask, sampling=sampling)
        np.testing.assert_allclose(distance_transform(mask, sampling), expected, atol=1e-4)

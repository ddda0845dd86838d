"""The patches method (PatchPerPix): assembly with overlaps, caching, training data, model."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy import ndimage

from tessella.engine import metrics
from tessella.engine.methods import get_method
from tessella.engine.methods._base import Prediction
from tessella.engine.methods.patches import mirrored_grid
from tessella.engine.models import PatchUNet
from tessella.engine.models.patches import decode_numpy
from tessella.engine.params import make_params
from tessella.engine.train.overlapping import (
    bitmask_to_stack,
    encode_labels,
    labels_to_bitmask,
    load_overlapping_pairs,
    stack_to_bitmask,
)
from tests.conftest import blobs_image, crossing_rods, perfect_patch_prediction, train_tiny

patches = get_method("patches")


def _best_iou(found, truth):
    return metrics.stack_iou_matrix(truth, found).max(1)


def test_mutex_watershed_separates_crossing_rods_and_keeps_the_overlap():
    rods = crossing_rods()
    prediction = perfect_patch_prediction(rods)
    found = patches.instances(prediction, make_params(patches.Params, mutex=True, min_size=20))
    assert len(found) == 3
    assert (_best_iou(found, rods) > 0.95).all()
    crossing = rods[0] & rods[1]
    assert crossing.sum() > 20
    # both crossing rods own the pixels where they overlap
    holders = found[:, crossing].all(1)
    assert holders.sum() == 2
    # the label image has every rod, the smaller painted on top where they cross
    labels = patches.postprocess(prediction, make_params(patches.Params, mutex=True, min_size=20))
    assert len(np.unique(labels)) - 1 == 3
    smaller = int(np.argmin([(found[k] & crossing).sum() and found[k].sum() for k in (0, 1, 2)]))
    assert smaller in (0, 1, 2)
    on_top = labels[crossing]
    assert np.unique(on_top).size == 1  # one rod shows at the crossing


def test_components_and_min_size():
    rods = crossing_rods()
    prediction = perfect_patch_prediction(rods)
    # without repulsion, patches near the crossing that share it link the two rods
    joined = patches.instances(prediction, make_params(patches.Params, mutex=False, min_size=20))
    assert len(joined) == 2
    assert metrics.stack_iou_matrix(rods[:2].any(0)[None], joined).max() > 0.95
    # a sparser cover keeps fewer patches near the crossing: components then keep them apart
    sparse = make_params(patches.Params, mutex=False, min_size=20, cover_threshold=0.7)
    found = patches.instances(prediction, sparse)
    assert len(found) == 3 and (_best_iou(found, rods) > 0.95).all()
    big = patches.instances(prediction, make_params(patches.Params, mutex=True, min_size=500))
    assert len(big) == len([r for r in rods if r.sum() >= 500]) < 3


def test_candidates_are_cached_across_cover_and_graph_parameters(monkeypatch):
    from tessella.engine.models import patches as patch_models

    prediction = perfect_patch_prediction(crossing_rods())
    calls = []
    original = patch_models.decode_numpy
    monkeypatch.setattr(patch_models, "decode_numpy", lambda *a: calls.append(1) or original(*a))
    patches._CACHE.clear()
    base = make_params(patches.Params, mutex=True, min_size=20)
    patches.instances(prediction, base)
    for change in ({"cover_threshold": 0.5}, {"affinity_threshold": 0.6}, {"min_size": 5}):
        patches.instances(prediction, make_params(patches.Params, base, **change))
    assert len(calls) == 1
    patches.instances(prediction, make_params(patches.Params, base, patch_threshold=0.6))
    assert len(calls) == 2  # the claims depend on it: decoded again


def test_a_recycled_id_is_not_a_cache_hit():
    """A freed prediction's id can be reused by the next one (as blocks of a blockwise run
    are): the cache must recompute, not hand back the old prediction's candidates."""
    patches._CACHE.clear()
    params = make_params(patches.Params, mutex=True, min_size=20)
    small = perfect_patch_prediction(crossing_rods()[:, :40])
    patches.instances(small, params)
    [(key, value)] = patches._CACHE.items()
    other = perfect_patch_prediction(crossing_rods())
    patches._CACHE[(id(other), *key[1:])] = value  # the old entry under the new object's id
    found = patches.instances(other, params)
    assert found.shape[1:] == other.arrays["numinst"].shape[1:]


def test_empty_prediction_gives_no_instances():
    prediction = perfect_patch_prediction(np.zeros((2, 40, 50), bool))
    assert patches.instances(prediction, patches.Params()).shape == (0, 40, 50)
    assert not patches.postprocess(prediction, patches.Params()).any()


def test_patch_unet_decoder_matches_numpy():
    torch.manual_seed(0)
    net = PatchUNet(features=(8, 16), code=6, patch=7).eval()
    codes = torch.randn(4, 6)
    with torch.no_grad():
        expected = torch.sigmoid(net.decode(codes)).numpy()
    np.testing.assert_allclose(
        decode_numpy(codes.numpy(), net.decoder_weights()), expected, atol=1e-5
    )
    with pytest.raises(ValueError, match="odd"):
        PatchUNet(patch=8)


def test_bitmask_round_trip_and_limits():
    rods = crossing_rods()
    bits = stack_to_bitmask(rods)
    np.testing.assert_array_equal(bitmask_to_stack(bits), rods)
    crowded = np.zeros((40, 40), np.int32)  # 100 objects within 64 pixels of each other
    crowded[::4, ::4] = np.arange(1, 101).reshape(10, 10)
    with pytest.raises(ValueError, match="many.tif: 100 objects, more than 62 of them within"):
        labels_to_bitmask(crowded, "many.tif")


def _as_set(stack):
    return {np.flatnonzero(m).tobytes() for m in stack}


def test_crowded_images_share_bits_between_objects_far_apart(data_dir, tmp_path):
    """A DSB2018 training image with 375 nuclei (more than the 62 bits) codes and decodes
    every nucleus exactly, and the shape patches of the training targets see only their own
    nucleus: objects sharing a bit lie further apart than a patch reaches."""
    import tifffile

    from tessella.engine.train.methods import PATCH_SAMPLES, _patch_targets

    masks = data_dir / "nuclei2d_dsb2018" / "train" / "masks"
    labels = max(
        (tifffile.imread(p) for p in sorted(masks.glob("*.tif"))[:200]), key=lambda a: a.max()
    )
    truth = metrics.labels_to_stack(labels)
    assert len(truth) > 150
    bits, shared = encode_labels(labels)
    assert shared  # some bits are shared
    assert _as_set(bitmask_to_stack(bits, shared)) == _as_set(truth)
    np.testing.assert_array_equal(labels_to_bitmask(labels), bits)
    np.testing.assert_array_equal(stack_to_bitmask(truth), bits)
    for sub in ("images", "masks"):  # as `tessella train patches` reads a folder
        (tmp_path / sub).mkdir()
    tifffile.imwrite(tmp_path / "images" / "a.tif", (labels > 0).astype(np.uint8))
    tifffile.imwrite(tmp_path / "masks" / "a.tif", labels)
    [sample] = load_overlapping_pairs(tmp_path)
    np.testing.assert_array_equal(sample.labels, bits)
    assert sample.shared == shared
    numinst, coords, target, _valid = _patch_targets(bits, None, np.random.default_rng(1), 41)
    np.testing.assert_array_equal(numinst, (labels > 0).astype(int))
    padded = np.pad(labels, 20)
    for i in range(PATCH_SAMPLES):
        y, x = coords[i]
        window = padded[y : y + 41, x : x + 41] == labels[y, x]
        np.testing.assert_array_equal(target[i], window)


def test_an_object_in_pieces_far_apart_stays_one_object(tmp_path, data_dir):
    """One mask of a real BBBC010 well holding two worms 230 px apart (one annotation in two
    pieces) comes back from the training data as one object, not two (the parts of a bit
    63 px or more apart used to be taken for objects sharing it)."""
    import tifffile

    from tessella.engine.train.methods import _patch_validation_pair

    root = data_dir / "worms_bbbc010"
    image = tifffile.imread(root / "gfp" / "E03.tif")
    worms = tifffile.imread(root / "worm_masks" / "E03.tif") > 0
    stack = np.concatenate([(worms[0] | worms[2])[None], worms[[1, *range(3, len(worms))]]])
    gap = ndimage.distance_transform_edt(~worms[0])[worms[2]].min()
    assert gap > 200
    for sub, array in (("images", image), ("masks", stack.astype(np.uint8))):
        (tmp_path / sub).mkdir()
        tifffile.imwrite(tmp_path / sub / "E03.tif", array)
    [sample] = load_overlapping_pairs(tmp_path)
    assert sample.shared == 0  # 13 objects: a bit each
    np.testing.assert_array_equal(bitmask_to_stack(sample.labels), stack)
    # the hold-out's truth, as training scores it (the prediction does not matter here)
    nothing = SimpleNamespace(instances=lambda *args: np.zeros((0, *image.shape), bool))
    truth, _found = _patch_validation_pair(nothing, None, sample.labels, None, None, 0)
    np.testing.assert_array_equal(truth, stack)


def test_an_object_in_pieces_far_apart_stays_one_where_bits_are_shared():
    """In an image of more than 62 objects (bits shared by objects far apart), an object in
    two pieces 200 px apart gets a bit of its own and comes back whole; the objects sharing
    bits come back apart, also in every orientation of a hold-out sample."""
    from tessella.engine.train.data import Sample, orientations
    from tessella.engine.train.overlapping import as_overlapping

    _image, labels = blobs_image((160, 480), n=90, radius=5, seed=3)
    ids = [i for i in np.unique(labels) if i]
    centre = {i: np.argwhere(labels == i).mean(0) for i in ids}
    left = min(ids, key=lambda i: centre[i][1])
    right = next(i for i in ids if centre[i][1] - centre[left][1] > 230)
    labels[labels == right] = left  # one object, two pieces
    truth = metrics.labels_to_stack(labels)
    assert len(truth) > 62
    bits, shared = encode_labels(labels)
    assert shared
    assert _as_set(bitmask_to_stack(bits, shared)) == _as_set(truth)
    [sample] = as_overlapping([Sample(np.zeros((1, *labels.shape), np.float32), labels, "a")])
    assert sample.shared == shared
    for turned in orientations([sample]):
        assert len(bitmask_to_stack(turned.labels, turned.shared)) == len(truth)


def test_patch_targets_sample_single_object_pixels():
    from tessella.engine.train.methods import PATCH_SAMPLES, _patch_targets

    rods = crossing_rods()
    numinst, coords, target, valid = _patch_targets(
        stack_to_bitmask(rods), None, np.random.default_rng(0), patch=15
    )
    np.testing.assert_array_equal(numinst, np.minimum(rods.sum(0), 2))
    assert coords.shape == (PATCH_SAMPLES, 2) and target.shape == (PATCH_SAMPLES, 15, 15)
    assert (numinst[coords[:, 0], coords[:, 1]] == 1).all()
    y, x = coords[0]
    owner = int(np.argmax(rods[:, y, x]))
    window = np.pad(rods[owner], 7)[y : y + 15, x : x + 15]
    np.testing.assert_array_equal(target[0], window)
    # overlaps are rare: half the samples lie within 10 px of one
    near = np.pad(rods.sum(0) >= 2, 10)
    close = [near[y : y + 21, x : x + 21].any() for y, x in coords]
    assert np.mean(close) >= 0.5


def test_overlapping_pairs_from_mask_stacks(tmp_path):
    import tifffile

    rods = crossing_rods()
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    image = rods.any(0) * 100 + np.random.default_rng(0).normal(50, 5, rods.shape[1:])
    tifffile.imwrite(tmp_path / "images" / "A01.tif", image.astype(np.uint16))
    tifffile.imwrite(
        tmp_path / "masks" / "A01.tif", rods.astype(np.uint16), photometric="minisblack"
    )
    tifffile.imwrite(tmp_path / "images" / "A02.tif", image.astype(np.uint16))
    tifffile.imwrite(
        tmp_path / "masks" / "A02.tif",
        rods[:, :50].astype(np.uint16),
        photometric="minisblack",
    )
    with pytest.raises(ValueError, match="A02.tif: expected an \\(N, H, W\\) stack"):
        load_overlapping_pairs(tmp_path)
    [sample] = load_overlapping_pairs(tmp_path, exclude=["A02"])
    np.testing.assert_array_equal(bitmask_to_stack(sample.labels), rods)


def test_stack_average_precision_counts_overlapping_objects():
    rods = crossing_rods()
    perfect = metrics.stack_average_precision_scores([(rods, rods)])
    assert perfect["ap"][0.5] == 1.0 and perfect["avs"] == 1.0
    # the two crossing rods merged: the merge still matches the longer rod (IoU > 0.5), the
    # other is missed: 2 true positives, 1 false negative
    merged = np.stack([rods[0] | rods[1], rods[2]])
    iou = metrics.stack_iou_matrix(rods, merged)
    assert iou[0, 0] > 0.5 > iou[1, 0]
    scores = metrics.stack_average_precision_scores([(rods, merged)], (0.5,))
    assert scores["ap"][0.5] == pytest.approx(2 / 3)


def test_a_patches_model_trained_on_nuclei_runs_end_to_end(tiny_patches_dir, nuclei_sample):
    """The method is general: a (briefly) DSB2018-trained model segments a nuclei image, with
    and without test-time augmentation."""
    from tessella.engine.pipeline import run_steps, segment_steps
    from tessella.engine.registry import load_model

    model = load_model(tiny_patches_dir)
    assert model.card.raw["architecture"]["name"] == "PatchUNet"
    image = nuclei_sample[0][:128, :160]
    result = run_steps(segment_steps(image, model, "YX", {"fg_threshold": 0.0}, tta=False))
    assert result.labels.shape == image.shape
    prediction = result.predictions[0]
    assert prediction.arrays["code"].shape == (8, *image.shape)
    assert prediction.meta["decoder"]["patch"] == 9
    stack = patches.instances(prediction, patches.Params(fg_threshold=0.0))
    assert stack.ndim == 3 and stack.shape[1:] == image.shape
    # TTA: numinst averaged, one code per transform (8 x 8 channels), patches averaged
    augmented = run_steps(segment_steps(image, model, "YX", {"fg_threshold": 0.0}, tta=True))
    assert augmented.options["tta"] is True
    assert augmented.predictions[0].arrays["code"].shape == (64, *image.shape)
    np.testing.assert_allclose(  # the identity's code (batched with the others)
        augmented.predictions[0].arrays["code"][:8], prediction.arrays["code"], atol=0.05
    )
    assert augmented.labels.shape == image.shape
    broken = Prediction(
        {"numinst": prediction.arrays["numinst"], "code": np.zeros((12, *image.shape))},
        "YX",
        prediction.meta,
    )
    with pytest.raises(ValueError, match="code has 12 channels; the decoder takes 8"):
        patches.instances(broken, patches.Params())


def test_a_fine_tune_takes_the_base_models_patch_and_code(tiny_patches_dir, tmp_path):
    # the base has a 9x9 shape patch and an 8-channel code; the training defaults are 41 and
    # 32. The targets must be made for the base's heads, and the card must say so
    from tessella.engine.registry import load_model

    base = load_model(tiny_patches_dir).card.raw
    assert (base["architecture"]["args"]["patch"], base["architecture"]["args"]["code"]) == (9, 8)
    data = base["training"]["data"]  # the base's own (real nuclei) training folder
    tuned = train_tiny("patches", data, tmp_path / "tuned", base=str(tiny_patches_dir))
    args = load_model(tuned).card.raw["architecture"]["args"]
    assert (args["patch"], args["code"]) == (9, 8)


@pytest.mark.parametrize("stride", [1, 2, 3, 4])
def test_mirrored_grid_flips_onto_itself(stride):
    for length in range(1, 40):
        grid = mirrored_grid(length, stride)
        assert (grid == grid[::-1]).all(), (length, stride)
        assert grid[0] and grid[-1]
        # as dense as a plain grid: at most one position more or less, where the halves meet
        assert abs(grid.sum() - len(range(0, length, stride))) <= 1
        assert np.diff(np.flatnonzero(grid)).max(initial=1) <= max(1, 2 * stride - 1)


def test_labels_and_instances_is_postprocess_and_instances_from_one_assembly(data_dir, monkeypatch):
    """On worms2d's prediction of a BBBC010 crop where worms cross (held-out well E03; this
    copy keeps the brightfield images in gfp/): the labels and the stack of one assembly are
    what postprocess and instances give, for each kind of parameter change Tune makes."""
    import tifffile

    from tessella.engine.pipeline import run_steps, segment_steps

    image = tifffile.imread(data_dir / "worms_bbbc010" / "gfp" / "E03.tif")[200:456, 200:456]
    result = run_steps(segment_steps(image, "worms2d", "YX", device="cpu"))
    prediction, tuned = result.predictions[0], result.params
    assembled = []
    original = patches._assemble_sparse
    monkeypatch.setattr(patches, "_assemble_sparse", lambda *a: assembled.append(1) or original(*a))
    changes = ({}, {"cover_threshold": 0.7}, {"mutex": False}, {"min_size": 0})

    def anew(params):  # the last assemblies are kept (the pipeline's of ``tuned`` too)
        patches._candidates(prediction, params).assembled.clear()

    for change in changes + ({"patch_threshold": 0.5},):
        params = make_params(patches.Params, tuned, **change)
        anew(params)
        before = len(assembled)
        labels, stack = patches.labels_and_instances(prediction, params)
        assert len(assembled) == before + 1
        anew(params)
        np.testing.assert_array_equal(labels, patches.postprocess(prediction, params))
        anew(params)
        np.testing.assert_array_equal(stack, patches.instances(prediction, params))
        assert labels.dtype == np.int32 and stack.dtype == bool
        if not change:  # worms cross here: some pixels belong to two of them
            assert len(stack) >= 3 and (stack.sum(0) > 1).sum() > 10
            assert set(np.unique(labels[labels > 0]).tolist()) == set(range(1, len(stack) + 1))

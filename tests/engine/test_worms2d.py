"""The bundled worms2d model on BBBC010 validation wells it never saw, in memory and blockwise."""

import numpy as np
import pytest
import tifffile
import zarr

from tessella.engine import metrics
from tessella.engine.blockwise import segment_blockwise_steps
from tessella.engine.methods import patches
from tessella.engine.pipeline import run_steps, segment_steps
from tessella.engine.registry import load_model
from tests.engine.test_blockwise import same_partition, write_zarr

# this copy of BBBC010 keeps the brightfield images in gfp/ (aligned with worm_masks/)
WELL = "E03"


def _well(data_dir):
    root = data_dir / "worms_bbbc010"
    image = tifffile.imread(root / "gfp" / f"{WELL}.tif")
    truth = tifffile.imread(root / "worm_masks" / f"{WELL}.tif") > 0
    return image, truth


@pytest.fixture(scope="module")
def well_result(data_dir):
    """worms2d's plain in-memory result of the whole well (run once; tests only read it)."""
    return run_steps(segment_steps(_well(data_dir)[0], load_model("worms2d"), "YX"))


def test_card_and_a_validation_well(data_dir, well_result):
    model = load_model("worms2d")
    card = model.card.raw
    assert card["method"] == "patches" and card["architecture"]["name"] == "PatchUNet"
    assert card["training"]["command"].startswith("tessella train patches")
    assert WELL in card["training"]["config"]["exclude"]  # never trained on
    _image, truth = _well(data_dir)
    result = well_result
    stack = patches.instances(result.predictions[0], result.params)
    scores = metrics.stack_average_precision_scores([(truth, stack)])
    assert scores["ap"][0.5] > 0.3
    # the label image shows every object of the stack
    assert len(np.unique(result.labels)) - 1 == len(stack)


def test_blockwise_matches_in_memory(tmp_path, data_dir, well_result):
    model = load_model("worms2d")
    image, _truth = _well(data_dir)
    expected = well_result.labels
    source = write_zarr(tmp_path / "well.zarr", image, (128, 128))
    steps = segment_blockwise_steps(source, tmp_path / "out.zarr", model, block=384, device="cpu")
    run_steps(steps)
    labels = zarr.open(str(tmp_path / "out.zarr"))[...]
    assert labels.shape == image.shape
    assert metrics.matching(expected, labels, 0.5).ap >= 0.9


def test_blockwise_drops_small_instances_as_in_memory(tmp_path, data_dir):
    """An instance under ``min_size`` (93 px here, under worms2d's 300) that overlaps a worm
    is never painted in memory, so those pixels stay the worm's. Blockwise, a block painted
    it over the worm (blocks filtered nothing) and the stitching dropped it, leaving 5
    pixels of the worm background. Blocks of 128 px: the worms are cut and stitched too."""
    import dataclasses

    image = tifffile.imread(data_dir / "worms_bbbc010" / "gfp" / "A03.tif")  # brightfield
    image = image[200:456, 300:556]
    result = run_steps(segment_steps(image, "worms2d", "YX", device="cpu"))
    expected = result.labels
    unfiltered = patches.instances(
        result.predictions[0], dataclasses.replace(result.params, min_size=0)
    )
    small = unfiltered[unfiltered.sum(axis=(1, 2)) < result.params.min_size]
    assert (small.any(axis=0) & (expected > 0)).any()  # a small one over a worm kept
    source = write_zarr(tmp_path / "crop.zarr", image, (128, 128))
    steps = segment_blockwise_steps(
        source, tmp_path / "out.zarr", "worms2d", block=128, device="cpu"
    )
    run_steps(steps)
    labels = zarr.open(str(tmp_path / "out.zarr"))[...]
    assert np.count_nonzero((expected > 0) != (labels > 0)) == 0
    assert same_partition(expected, labels)


def test_tta_patches_agree_once_flipped_back(data_dir):
    """Under TTA each transform's code decodes to a patch in that transform's frame; flipped
    back (tta.inverse_spatial) it must match the plain patch, and not before flipping back."""
    from tessella.engine.models.patches import decode_numpy
    from tessella.engine.tta import dihedral_transforms, inverse_spatial

    image, _truth = _well(data_dir)
    image = image[100:356, 200:456]
    prediction = run_steps(segment_steps(image, "worms2d", "YX", tta=True)).predictions[0]
    code, weights = prediction.arrays["code"], prediction.meta["decoder"]
    size = weights["w1"].shape[0]
    assert code.shape == (8 * size, *image.shape)
    points = np.argwhere(prediction.arrays["numinst"][1] > 0.5)[::50]
    assert len(points) > 20

    def decoded(k):
        return decode_numpy(code[k * size : (k + 1) * size, points[:, 0], points[:, 1]].T, weights)

    identity = decoded(0)
    for k, transform in enumerate(dihedral_transforms(2)[1:], start=1):
        patches_k = decoded(k)
        flipped_back = np.abs(inverse_spatial(patches_k, transform) - identity).mean()
        as_is = np.abs(patches_k - identity).mean()
        assert flipped_back < 0.06 < 0.15 < as_is, (transform, flipped_back, as_is)


def test_blockwise_with_tta_matches_in_memory(tmp_path, data_dir):
    """Patch-space TTA through the blockwise path (stacked codes per block) agrees with the
    in-memory result. A 320 x 448 crop of the well with 9 worms, cut into 2 x 2 blocks of 224
    so that worms cross both seams (the whole well in blocks of 384 cost 3x the CPU time)."""
    model = load_model("worms2d")
    image = _well(data_dir)[0][100:420, 150:598]
    expected = run_steps(segment_steps(image, model, "YX", tta=True)).labels
    assert len(np.unique(expected)) > 8
    source = write_zarr(tmp_path / "well.zarr", image, (128, 128))
    steps = segment_blockwise_steps(
        source, tmp_path / "out.zarr", model, block=224, device="cpu", tta=True
    )
    run_steps(steps)
    labels = zarr.open(str(tmp_path / "out.zarr"))[...]
    assert metrics.matching(expected, labels, 0.5).ap >= 0.9


def test_tta_assembly_does_not_depend_on_orientation(data_dir):
    """With TTA the network's output turns with the image; with ``mirrored_grid`` the candidate
    grid flips onto itself too, so a turned crop (even sides) gives the same worms, turned. With
    the default ``[::2]`` grid, which moves by a pixel under a flip of an even side, 12-13
    foreground pixels and 17-40 pixels of the worms' partition changed on this crop."""
    from tessella.engine.tta import dihedral_transforms, inverse_spatial, transform_image

    image = _well(data_dir)[0][100:356, 150:470]  # 256 x 320
    model = load_model("worms2d")
    params = {"mirrored_grid": True}
    reference = run_steps(segment_steps(image, model, "YX", params, tta=True)).labels
    assert len(np.unique(reference)) > 5
    transforms = dihedral_transforms(2)
    for transform in (transforms[2], transforms[-1]):  # flip Y; transpose and flip both
        turned_image = transform_image(image, transform)
        turned = run_steps(segment_steps(turned_image, model, "YX", params, tta=True))
        back = inverse_spatial(turned.labels, transform)
        assert back.shape == reference.shape
        assert np.count_nonzero((reference > 0) != (back > 0)) <= 2, transform
        # pixels of each reference worm outside its best match in the turned result
        moved = 0
        for label in np.unique(reference[reference > 0]):
            inside = back[reference == label]
            moved += inside.size - np.bincount(inside).max()
        assert moved <= 5, (transform, moved)

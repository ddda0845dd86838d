"""Training folders with small volumes: a plain TIFF of 3 or 4 planes (which tifffile tags as
planar RGB) with a labels volume of its shape is a volume cut into slices for a 2D model, and a
volume's default hold-out is its last slices, not a random middle one."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.engine.train.data import load_folder_pairs, load_pairs, split_holdout

LUCCHI = "em_mito_lucchipp"
NORM = {"low": 1.0, "high": 99.8}


def _lucchi_folder(root, data_dir, depth, shape=(192, 192)):
    """images/a.tif and masks/a.tif: ``depth`` slices of Lucchi++ train, written with a plain
    ``tifffile.imwrite`` (no axes in the file), as a user cropping a stack would."""
    pages = range(depth)
    image = tifffile.imread(data_dir / LUCCHI / "train" / "image.tif", key=pages)
    mito = tifffile.imread(data_dir / LUCCHI / "train" / "mito.tif", key=pages)
    image, mito = image[:, : shape[0], : shape[1]], mito[:, : shape[0], : shape[1]]
    few = depth in (3, 4)
    photometric, planar = ("rgb", "separate") if few else ("minisblack", None)
    for sub, array in (("images", image), ("masks", mito)):
        (root / sub).mkdir(parents=True)
        # what a plain imwrite of 3 or 4 planes writes (tifffile warns it will change that)
        tifffile.imwrite(root / sub / "a.tif", array, photometric=photometric, planarconfig=planar)
    return root, image, mito


@pytest.mark.parametrize("depth", [3, 4])
def test_a_plain_stack_of_few_planes_with_a_labels_volume_is_cut_into_slices(
    tmp_path, data_dir, depth
):
    root, _, mito = _lucchi_folder(tmp_path, data_dir, depth)
    samples = load_folder_pairs(root, "YX", 1, NORM)
    assert [s.name for s in samples] == [f"a.tif[z={z:03d}]" for z in range(depth)]
    for z, sample in enumerate(samples):
        assert sample.image.shape == (1, 192, 192) and not sample.colour
        assert np.array_equal(sample.labels, mito[z])
    # a 3D model takes it whole, cut into slabs where a hold-out range names it
    slabs = load_folder_pairs(root, "ZYX", 1, NORM, cut=[f"a[z={depth - 1}:{depth}]"])
    assert [s.name for s in slabs] == [
        f"a.tif[z=000:{depth - 1:03d}]",
        f"a.tif[z={depth - 1:03d}:{depth:03d}]",
    ]


def test_a_planar_colour_image_with_2d_labels_is_one_colour_sample(tmp_path, nuclei_sample):
    """The same planes with 2D labels are colour: one sample, channels averaged."""
    image, labels = nuclei_sample[0][:96, :128], nuclei_sample[1][:96, :128]
    colour = np.stack([image, image // 2, 255 - image]).astype(np.uint8)  # (3, Y, X) planar
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    tifffile.imwrite(
        tmp_path / "images" / "c.tif", colour, photometric="rgb", planarconfig="separate"
    )
    tifffile.imwrite(tmp_path / "masks" / "c.tif", labels)
    [sample] = load_folder_pairs(tmp_path, "YX", 1, NORM)
    assert sample.name == "c.tif" and sample.image.shape == (1, 96, 128) and sample.colour
    assert np.array_equal(sample.labels, labels)


def test_a_stated_channel_axis_is_not_cut_into_slices(tmp_path, data_dir):
    """ImageJ metadata that calls the planes channels wins over the labels' shape."""
    root, image, mito = _lucchi_folder(tmp_path, data_dir, 3)
    tifffile.imwrite(root / "images" / "a.tif", image, imagej=True, metadata={"axes": "CYX"})
    with pytest.raises(ValueError, match="do not match") as refused:
        load_folder_pairs(root, "YX", 1, NORM)
    assert "[z=" not in str(refused.value)


def test_the_refusal_of_a_volume_for_a_2d_model_advises_no_axes_option():
    """Training has no --axes: the refusal must not advise 'use axes TYX'."""
    volume = np.random.default_rng(0).random((5, 32, 32)).astype(np.float32)
    labels = np.zeros((5, 32, 32), np.int32)
    with pytest.raises(ValueError) as refused:
        load_pairs([volume], [labels], "YX", 1, NORM, ["v.tif"], [("img/v.tif", "m/v.tif")])
    message = str(refused.value)
    assert message.startswith("img/v.tif: the image has spatial axes ZYX")
    assert "TYX" not in message and "axes T" not in message


def test_a_folder_volume_holds_out_its_last_fifth_of_slices(tmp_path, data_dir):
    """As the Train panel proposes for a volume layer: neighbouring slices are near copies, so a
    random middle slice would score the model on what it learns from its neighbours."""
    root, _, _ = _lucchi_folder(tmp_path, data_dir, 10, shape=(64, 64))
    samples = load_folder_pairs(root, "YX", 1, NORM)
    for seed in range(3):
        train, held = split_holdout(samples, 0.2, seed)
        assert [s.name for s in held] == ["a.tif[z=008]", "a.tif[z=009]"]
        assert [s.name for s in train] == [f"a.tif[z={z:03d}]" for z in range(8)]
    # --val-fraction 0.1 of 6 slices: still at least the last one
    _, held = split_holdout(samples[:6], 0.1)
    assert [s.name for s in held] == ["a.tif[z=005]"]

"""A binary (semantic) mask given as the labels of an instance method is refused before any
training, naming the data and its files; the semantic method and real labels are taken."""

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.train import TrainConfig
from tessella.engine.train.loop import _training_samples
from tessella.engine.train.methods import get_training
from tests.conftest import cell_movie, nuclei_folder

NORM = {"low": 1.0, "high": 99.8}
TINY = [
    "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--patch", "64",
    "--device", "cpu", "--features", "4,8", "-q",
]  # fmt: skip


def _binarised(folder):
    """``folder/masks`` made 0/1 (every nucleus 1), as a semantic mask."""
    for path in sorted((folder / "masks").glob("*.tif")):
        tifffile.imwrite(path, (tifffile.imread(path) > 0).astype(np.uint8))
    return folder


def _samples(method, data, **options):
    config = TrainConfig(method, str(data), "unused", **options)
    return _training_samples(config, None, None, get_training(method), NORM, False)


@pytest.mark.parametrize("method", ["boundary", "embedding", "patches"])
def test_a_binary_mask_is_refused_by_the_instance_methods(tmp_path, nuclei_sample, capsys, method):
    data = _binarised(nuclei_folder(tmp_path / "data", nuclei_sample, count=3))
    out = tmp_path / "model"
    code = main(["train", method, "--data", str(data), "--out", str(out), *TINY])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1, err
    assert str(data) in err and "'0.tif'" in err and "hold only 0 and 1" in err, err
    assert f"the {method} method would learn as one object per image" in err, err
    assert "scipy.ndimage.label" in err, err
    assert not out.exists()


def test_a_binary_time_lapse_is_refused(tmp_path, capsys):
    image, labels, _ = cell_movie(frames=4)
    for sub, array in (("images", image), ("masks", (labels > 0).astype(np.uint8))):
        (tmp_path / sub).mkdir()
        tifffile.imwrite(tmp_path / sub / "mov.tif", array, photometric="minisblack")
    code = main(["train", "temporal", "--data", str(tmp_path), "--out", str(tmp_path / "m"), *TINY])
    err = capsys.readouterr().err
    assert code == 1 and "the labels of 'mov' hold only 0 and 1" in err, err


def test_the_semantic_method_takes_a_binary_mask(tmp_path, nuclei_sample):
    data = _binarised(nuclei_folder(tmp_path / "data", nuclei_sample, count=3))
    samples, held, _ = _samples("semantic", data)
    assert len(samples) + len(held) == 3


def test_labels_with_one_binary_image_are_taken(tmp_path, nuclei_sample):
    # an image whose one object lies in two pieces (a crop cut it) beside labelled images
    data = nuclei_folder(tmp_path / "data", nuclei_sample, count=3)
    two = np.zeros((128, 128), np.uint16)
    two[10:20, 10:20] = two[50:60, 50:60] = 1
    tifffile.imwrite(data / "masks" / "2.tif", two)
    samples, held, _ = _samples("boundary", data)
    assert len(samples) + len(held) == 3


def test_binary_layers_given_as_samples_are_refused_by_name(nuclei_sample):
    # as the napari Train panel gives its layers: the message names them, no folder
    from tessella.engine.train.data import Sample

    image, labels = nuclei_sample
    pairs = [
        Sample(image[None, :128, :128].astype(np.float32), (labels[:128, :128] > 0) * 1, name)
        for name in ("a bin", "b bin")
    ]
    config = TrainConfig("boundary", "napari layers", "unused")
    with pytest.raises(ValueError, match=r"^the labels of 'a bin', 'b bin' hold only 0 and 1 \("):
        _training_samples(config, pairs[:1], pairs[1:], get_training("boundary"), NORM, False)


def test_one_piece_covering_most_of_every_image_is_warned_of(tmp_path, nuclei_sample):
    # touching cells of a 0/1 mask join into one piece: taken, but said loudly
    import warnings

    data = nuclei_folder(tmp_path / "data", nuclei_sample, count=3)
    for i, size in enumerate((100, 110, 120)):
        one = np.zeros((128, 128), np.uint8)
        one[:size, :size] = 1
        tifffile.imwrite(data / "masks" / f"{i}.tif", one)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samples, held, _ = _samples("boundary", data)
    said = [str(w.message) for w in caught if "one piece" in str(w.message)]
    assert len(said) == 1 and said[0].startswith(f"{data}: the labels of '0.tif', '1.tif', "), said
    assert "covering 61% or more of each image ('0.tif'): a binary mask of touching" in said[0]
    # one small object an image (sparse annotation): no word
    for i in range(3):
        one = np.zeros((128, 128), np.uint8)
        one[10:40, 10:40] = 1
        tifffile.imwrite(data / "masks" / f"{i}.tif", one)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _samples("boundary", data)
    assert not [w for w in caught if "one piece" in str(w.message)]


def _worm_crops(folder, worms, picks):
    """``folder/{images,masks}``: a crop around each single BBBC010 worm ``(well, plane)`` of
    ``picks`` (its brightfield image, in ``gfp/`` in this copy), the worm labelled 1, as a
    tool that crops one object per image writes them."""
    from scipy import ndimage

    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
    for well, plane in picks:
        worm = tifffile.imread(worms / "worm_masks" / f"{well}.tif")[plane] != 0
        box = ndimage.find_objects(worm.astype(np.uint8))[0]
        box = tuple(slice(max(s.start - 16, 0), s.stop + 16) for s in box)
        image = tifffile.imread(worms / "gfp" / f"{well}.tif")[box]
        tifffile.imwrite(folder / "images" / f"{well}_{plane}.tif", image)
        tifffile.imwrite(folder / "masks" / f"{well}_{plane}.tif", worm[box].astype(np.uint8))
    return folder


def test_crops_of_single_real_worms_are_taken_as_labels(tmp_path, data_dir):
    """One BBBC010 worm per image, labelled 1: A06 plane 12's worm touches itself only at a
    corner (2 pieces without the diagonals), B07 plane 10's mask has a stray pixel beside the
    worm; neither is a binary mask of several objects. A mask of a whole well's worms is."""
    worms = data_dir / "worms_bbbc010"
    picks = [("A01", 0), ("A06", 12), ("B07", 10), ("B14", 8)]  # B14: 4 pieces by 4-neighbours
    data = _worm_crops(tmp_path / "crops", worms, picks)
    samples, held, _ = _samples("embedding", data)
    assert len(samples) + len(held) == 4

    # several worms of a well in one 0/1 mask: still refused, naming the pieces
    well = tmp_path / "well"
    for sub in ("images", "masks"):
        (well / sub).mkdir(parents=True)
    crop = (slice(0, 260), slice(0, 348))
    masks = tifffile.imread(worms / "worm_masks" / "A01.tif")[(slice(None), *crop)]
    tifffile.imwrite(well / "images" / "A01.tif", tifffile.imread(worms / "gfp" / "A01.tif")[crop])
    tifffile.imwrite(well / "masks" / "A01.tif", masks.any(axis=0).astype(np.uint8))
    with pytest.raises(ValueError, match=r"hold only 0 and 1 \(\d+ separate pieces in 'A01.tif'"):
        _samples("embedding", well)

"""Training data that cannot train or score a model is refused up front, naming the file;
labels keep every object whatever their IDs; doubtful boundary maps are warned about."""

import json

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella.cli import main
from tessella.engine.train.data import load_folder_pairs
from tessella.engine.train.overlapping import bitmask_to_stack, load_overlapping_pairs
from tessella.engine.train.timelapse import load_timelapse_samples

ISBI = "em_membranes_isbi2012"
NORM = {"low": 1.0, "high": 99.8}
TINY = [
    "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "2", "--patch", "64",
    "--workers", "0", "--device", "cpu", "--features", "4,8,16", "-q",
]  # fmt: skip


def _crops(root, image, truth, sub, size, replaced=None, count=3):
    """``root/images`` and ``root/<sub>`` holding ``count`` ``size``-pixel square crops of
    ``image`` and ``truth`` down the first column; ``replaced[i]``, when given, replaces
    crop i's ground truth."""
    for folder in ("images", sub):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        box = (slice(size * i, size * (i + 1)), slice(0, size))
        tifffile.imwrite(root / "images" / f"{i}.tif", image[box])
        own = None if replaced is None else replaced.get(i)
        tifffile.imwrite(root / sub / f"{i}.tif", truth[box] if own is None else own)
    return root


def _isbi_crops(data_dir, root, maps=None, count=3):
    """96x96 crops of ISBI 2012 slice 00 in ``root/images`` and ``root/boundaries`` (1 =
    membrane, 0 = cell); ``maps[i]``, when given, replaces crop i's map."""
    image = tifffile.imread(data_dir / ISBI / "images" / "00.tif")
    membranes = tifffile.imread(data_dir / ISBI / "boundaries" / "00.tif")
    return _crops(root, image, membranes, "boundaries", 96, maps, count)


def _nuclei_pairs(root, nuclei_sample, masks=None, count=3):
    """128x128 crops of the DSB2018 nuclei sample in ``root/images`` and ``root/masks``;
    ``masks[i]``, when given, replaces crop i's labels."""
    image, labels = nuclei_sample
    return _crops(root, image, labels, "masks", 128, masks, count)


def _train(method, data, out, *options):
    return main(["train", method, "--data", str(data), "--out", str(out), *TINY, *options])


# --- a hold-out with nothing to score, training data with nothing to learn -----------------


def test_a_boundary_holdout_without_cell_interior_is_refused_by_name(tmp_path, data_dir, capsys):
    """An all-membrane hold-out map has no cell, so V_rand is NaN for it: no epoch beat the
    best, no model was written, yet the CLI said "model written" (exit 0). Refused before
    training, naming the file; the output folder is not made."""
    data = _isbi_crops(data_dir, tmp_path / "b_hold", {2: np.ones((96, 96), np.uint16)})
    assert _train("boundary", data, tmp_path / "out", "--holdout", "2") == 1
    captured = capsys.readouterr()
    assert "hold-out image 2.tif of" in captured.err and "no cell interior" in captured.err
    assert "choose other hold-out images" in captured.err
    assert "model written" not in captured.out
    assert not (tmp_path / "out").exists()


def test_soft_boundary_maps_as_val_data_are_warned_about_and_refused(tmp_path, data_dir, capsys):
    """Probability maps (no exact 0) given as --val-data: every pixel is membrane. The map
    is said to be soft and the hold-out is refused, naming the file."""
    good = _isbi_crops(data_dir, tmp_path / "good")
    membranes = tifffile.imread(data_dir / ISBI / "boundaries" / "01.tif")[:96, :96]
    soft = np.clip(ndimage.gaussian_filter(membranes.astype(np.float32), 1.5), 0.01, 0.99)
    val = _isbi_crops(data_dir, tmp_path / "soft", {0: soft}, count=1)
    assert _train("boundary", good, tmp_path / "out", "--val-data", str(val)) == 1
    captured = capsys.readouterr()
    assert f"{val / 'boundaries' / '0.tif'}: a soft boundary map" in captured.err
    assert "hold-out image 0.tif of" in captured.err and "nothing to score" in captured.err
    assert "model written" not in captured.out
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("method", ["embedding", "semantic", "boundary", "patches"])
def test_masks_without_any_object_are_refused_naming_the_folder(
    tmp_path, nuclei_sample, method, capsys
):
    empty = np.zeros((128, 128), np.uint16)
    data = _nuclei_pairs(tmp_path / "none", nuclei_sample, dict.fromkeys(range(3), empty))
    assert _train(method, data, tmp_path / "out", "--holdout", "2") == 1
    err = capsys.readouterr().err
    assert f"no object in any training mask of {data}" in err and "nothing to learn" in err
    assert not (tmp_path / "out").exists()


def test_a_holdout_without_any_object_is_refused(tmp_path, nuclei_sample, capsys):
    """AP of a hold-out with no object is 1.0 for a model that finds nothing: the epochs
    cannot be told apart. Refused, naming the images."""
    data = _nuclei_pairs(tmp_path / "data", nuclei_sample)
    empty = np.zeros((128, 128), np.uint16)
    val = _nuclei_pairs(tmp_path / "val", nuclei_sample, {0: empty}, count=1)
    assert _train("embedding", data, tmp_path / "out", "--val-data", str(val)) == 1
    err = capsys.readouterr().err
    assert f"none of the hold-out images 0.tif of {val} has an object" in err
    assert not (tmp_path / "out").exists()


def test_an_undefined_score_stops_training_and_the_log_stays_json(
    tmp_path, data_dir, capsys, monkeypatch
):
    """Should a NaN score get past the checks, training stops with an error (nothing was
    kept), the log has null for it, and the CLI never says "model written"."""
    from tessella.engine.train import loop

    monkeypatch.setattr(loop, "_refuse_nothing_to_learn_or_score", lambda *a: None, raising=False)
    data = _isbi_crops(data_dir, tmp_path / "b_hold", {2: np.ones((96, 96), np.uint16)})
    out = tmp_path / "out"
    out.mkdir()  # a folder that was there is kept (with the log) when training fails
    assert _train("boundary", data, out, "--holdout", "2") == 1
    captured = capsys.readouterr()
    assert "val_vrand of epoch 1 is undefined" in captured.err
    assert "model written" not in captured.out
    entries = [json.loads(line) for line in (out / "train.log").read_text().splitlines()]
    assert entries[0]["val_vrand"] is None
    assert not (out / "card.json").exists()


def test_the_cli_says_model_written_only_when_there_is_one(tmp_path, monkeypatch, capsys):
    """Training that ends without a card and weights (whatever the reason) is an error."""
    from tessella.engine import train as train_package

    def nothing(config):
        (tmp_path / "out").mkdir()
        yield from ()

    monkeypatch.setattr(train_package, "train_steps", nothing)
    args = ["train", "embedding", "--data", str(tmp_path), "--out", str(tmp_path / "out")]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "model written" not in captured.out
    assert f"training ended without writing a model to {tmp_path / 'out'}" in captured.err


# --- label IDs --------------------------------------------------------------------------------


def _far_ids(labels: np.ndarray, offset: int, dtype) -> np.ndarray:
    """``labels`` with every other object's ID raised by ``offset``, as ``dtype``: with
    2**32 the raised objects share their low 32 bits with objects kept."""
    out = labels.astype(dtype)
    ids = np.unique(labels)[1:]
    for low, high in zip(ids[1::2], ids[::2]):  # high takes low's ID + offset
        out[labels == high] = np.asarray(low, dtype) + np.asarray(offset, dtype)
    return out


def _same_objects(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two label images partition the pixels into the same objects."""
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1)
    return len(pairs[0]) == len(np.unique(a)) == len(np.unique(b))


@pytest.mark.parametrize(
    "offset, dtype", [(2**32, np.uint64), (2**32, np.int64), (2**31, np.uint32)]
)
def test_large_label_ids_keep_every_object(tmp_path, nuclei_sample, offset, dtype):
    """uint64 masks: objects 5 and 2**32 + 5 merged in the int32 cast; IDs between 2**31 and
    2**32 became negative ("Cannot relabel array that contains negative values")."""
    _, labels = nuclei_sample
    masks = {i: _far_ids(labels[128 * i : 128 * (i + 1), :128], offset, dtype) for i in range(3)}
    data = _nuclei_pairs(tmp_path / "big", nuclei_sample, masks)
    for sample, i in zip(load_folder_pairs(data, "YX", 1, NORM), range(3)):
        assert sample.labels.dtype == np.int32 and sample.labels.min() >= 0
        assert _same_objects(sample.labels, masks[i])
    # time-lapse folders (a TYX movie of the crops) and overlapping-objects folders alike
    movie = tmp_path / "movie"
    for sub in ("images", "masks"):
        (movie / sub).mkdir(parents=True)
    image, _ = nuclei_sample
    frames = np.stack([image[128 * i : 128 * (i + 1), :128] for i in range(3)])
    tifffile.imwrite(movie / "images" / "m.tif", frames, photometric="minisblack")
    tifffile.imwrite(
        movie / "masks" / "m.tif", np.stack([masks[i] for i in range(3)]), photometric="minisblack"
    )
    for sample, i in zip(load_timelapse_samples(movie, 3), range(3)):
        assert sample.labels.min() >= 0 and _same_objects(sample.labels, masks[i])
    for sample, i in zip(load_overlapping_pairs(data, NORM), range(3)):
        stack = bitmask_to_stack(sample.labels, sample.shared)
        assert len(stack) == len(np.unique(masks[i])) - 1


def test_a_large_unannotated_label_is_kept_apart_from_the_renumbered_ids(tmp_path, nuclei_sample):
    from tessella.engine.train.data import apply_ignore_label

    _, labels = nuclei_sample
    mask = _far_ids(labels[:128, :128], 2**32, np.uint64)
    mask[:10, :10] = 65535  # not annotated
    data = _nuclei_pairs(tmp_path / "sparse", nuclei_sample, {0: mask}, count=1)
    [sample] = apply_ignore_label(load_folder_pairs(data, "YX", 1, NORM, ignore_label=65535), 65535)
    assert sample.ignore[:10, :10].all() and sample.ignore.sum() == 100
    known = np.where(mask == 65535, 0, mask)
    assert _same_objects(sample.labels, known)


def test_negative_labels_are_refused_naming_the_file(tmp_path, nuclei_sample):
    _, labels = nuclei_sample
    mask = labels[:128, :128].astype(np.int32)
    mask[mask == mask.max()] = -4
    data = _nuclei_pairs(tmp_path / "neg", nuclei_sample, {0: mask}, count=1)
    said = f"{data / 'masks' / '0.tif'}: labels must not be negative \\(found -4\\)"
    with pytest.raises(ValueError, match=said):
        load_folder_pairs(data, "YX", 1, NORM)
    with pytest.raises(ValueError, match=said):
        load_overlapping_pairs(data, NORM)
    # an unannotated label may be negative
    assert load_folder_pairs(data, "YX", 1, NORM, ignore_label=-4)[0].labels.min() == -4
    movie = tmp_path / "movie"
    for sub in ("images", "masks"):
        (movie / sub).mkdir(parents=True)
    frames = np.stack([nuclei_sample[0][:128, :128]] * 4)
    tifffile.imwrite(movie / "images" / "m.tif", frames, photometric="minisblack")
    tifffile.imwrite(movie / "masks" / "m.tif", np.stack([mask] * 4), photometric="minisblack")
    with pytest.raises(ValueError, match="m.tif: labels must not be negative"):
        load_timelapse_samples(movie, 3)


# --- errors name the file ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["boundary", "semantic"])
def test_2d_images_for_a_3d_model_are_named(tmp_path, data_dir, nuclei_sample, method, capsys):
    if method == "boundary":
        data = _isbi_crops(data_dir, tmp_path / "good")
    else:
        data = _nuclei_pairs(tmp_path / "good", nuclei_sample)
    assert _train(method, data, tmp_path / "out", "--ndim", "3") == 1
    err = capsys.readouterr().err
    assert f"{data / 'images' / '0.tif'}: the image has spatial axes YX" in err
    assert "--ndim 2" in err


def test_a_mismatched_val_data_file_is_named_by_its_path(tmp_path, nuclei_sample, capsys):
    """--data and --val-data both hold a 2.tif: the error names the folder of the bad one."""
    data = _nuclei_pairs(tmp_path / "good", nuclei_sample)
    bad = _nuclei_pairs(tmp_path / "bad", nuclei_sample, {2: np.zeros((50, 50), np.uint16)})
    assert _train("embedding", data, tmp_path / "out", "--val-data", str(bad)) == 1
    err = capsys.readouterr().err
    assert f"{bad / 'masks' / '2.tif'}: labels of shape (50, 50) do not match" in err
    assert str(bad / "images" / "2.tif") in err


def test_empty_folders_say_they_hold_no_tiffs(tmp_path, capsys):
    for sub in ("images", "masks"):
        (tmp_path / "t_empty" / sub).mkdir(parents=True)
    for sub in ("images", "boundaries"):
        (tmp_path / "b_empty" / sub).mkdir(parents=True)
    assert _train("temporal", tmp_path / "t_empty", tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 't_empty' / 'images'} holds no TIFF files" in err, err
    assert _train("boundary", tmp_path / "b_empty", tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert err.strip().endswith(f"{tmp_path / 'b_empty' / 'images'} holds no TIFF files"), err


# --- boundary map polarity --------------------------------------------------------------------


def test_boundary_maps_of_the_opposite_polarity_are_warned_about(tmp_path, data_dir):
    """ISBI 2012's originals are 255 = cell, 0 = membrane; read as 1 = membrane, their
    "membrane" covers most pixels and the "cells" are the membranes."""
    membranes = tifffile.imread(data_dir / ISBI / "boundaries" / "00.tif")
    inverted = {
        i: ((membranes[96 * i : 96 * (i + 1), :96] == 0) * 255).astype(np.uint8) for i in range(3)
    }
    data = _isbi_crops(data_dir, tmp_path / "inverted", inverted)
    with pytest.warns(UserWarning, match="polarity inverted") as caught:
        load_folder_pairs(data, "YX", 1, NORM)
    [warning] = [w for w in caught if "polarity" in str(w.message)]
    message = str(warning.message)
    assert message.startswith(f"{data / 'boundaries' / '0.tif'}: ") and "1.tif, 2.tif" in message
    good = _isbi_crops(data_dir, tmp_path / "good")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_folder_pairs(good, "YX", 1, NORM)

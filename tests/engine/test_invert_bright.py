"""Bright-background images (brightfield, H&E) inverted before the network when the card says
``normalization.invert_bright_background``: the rule on real DSB2018 images, segmentation in
memory and blockwise, training and fine-tuning, and the export that cannot express it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tifffile
import yaml
import zarr

from tessella.cli import main
from tessella.engine import metrics
from tessella.engine.axes import guess_axes, to_model_layout
from tessella.engine.blockwise import segment_blockwise_steps, work_dir
from tessella.engine.normalize import normalize, percentile_normalize
from tessella.engine.pipeline import run_steps, segment
from tessella.engine.registry import bundled_dir, load_model
from tessella.engine.train.data import load_folder_pairs

from .test_blockwise import write_zarr

INVERT = {"low": 1.0, "high": 99.8, "invert_bright_background": True}


def flagged_copy(tmp_path, name="nuclei2d", invert=True):
    """A copy of a bundled model whose card inverts bright-background images (or not)."""
    out = tmp_path / f"{name}-{invert}"
    shutil.copytree(bundled_dir() / name, out)
    card = json.loads((out / "card.json").read_text())
    card["normalization"]["invert_bright_background"] = invert
    (out / "card.json").write_text(json.dumps(card))
    return out


def inverted(image: np.ndarray) -> np.ndarray:
    return (image.max() - image + image.min()).astype(image.dtype)


@pytest.mark.parametrize(
    "split, n_images, n_dark, n_dark_colour", [("val", 64, 10, 8), ("train", 600, 113, 99)]
)
def test_the_rule_finds_every_dark_object_image_of_dsb2018(
    data_dir, split, n_images, n_dark, n_dark_colour
):
    """On every DSB2018 image, an image is inverted exactly when its ground-truth nuclei are
    darker than its background (validation: 8 H&E/brightfield colour images, 2 grey
    brightfield). The training split holds the hard cases: dense or low-contrast H&E whose
    median lies at 0.43 and 0.49, which the first threshold (0.5) left as they were."""
    folder = data_dir / "nuclei2d_dsb2018" / split
    found = []
    for path in sorted((folder / "images").glob("*.tif")):
        image = tifffile.imread(path)
        data = to_model_layout(image, guess_axes(image.shape), "YX", 1)
        plain, flipped = percentile_normalize(data)[0], normalize(data, INVERT)[0]
        was_inverted = not np.allclose(plain, flipped)
        if was_inverted:
            np.testing.assert_allclose(flipped, 1 - plain, atol=1e-6)
        labels = tifffile.imread(folder / "masks" / path.name)
        dark_objects = plain[labels > 0].mean() < plain[labels == 0].mean()
        assert was_inverted == dark_objects, path.name
        found.append((was_inverted, image.ndim == 3))
    assert len(found) == n_images
    assert sum(i for i, _ in found) == n_dark
    assert sum(i and c for i, c in found) == n_dark_colour


def test_an_inverted_image_segments_as_the_original(tmp_path, nuclei_sample):
    image, truth = nuclei_sample
    model = load_model(flagged_copy(tmp_path, invert=True))
    plain = load_model(flagged_copy(tmp_path, invert=False))  # the same weights, not inverting
    original = segment(image, model, "YX", device="cpu")
    # a fluorescence image keeps its polarity: the flag changes nothing there
    np.testing.assert_array_equal(segment(image, plain, "YX", device="cpu"), original)
    dark_on_bright = segment(inverted(image), model, "YX", device="cpu")
    unflagged = segment(inverted(image), plain, "YX", device="cpu")
    agree = metrics.matching(original, dark_on_bright, 0.5).ap
    # the percentiles of an inverted image are not the mirror ones (1 / 99.8), so not equal
    assert agree >= 0.97
    assert agree > metrics.matching(original, unflagged, 0.5).ap
    assert metrics.matching(truth, dark_on_bright, 0.5).ap >= 0.88


def test_blockwise_inverts_the_whole_image_as_in_memory(tmp_path, nuclei_sample):
    image = inverted(nuclei_sample[0])
    model = load_model(flagged_copy(tmp_path))
    expected = segment(image, model, "YX", device="cpu")
    source = write_zarr(tmp_path / "dark.zarr", image, (128, 128))
    steps = segment_blockwise_steps(source, tmp_path / "out.zarr", model, block=256, device="cpu")
    while next(steps).stage == "scan":
        pass
    ranges = json.loads((work_dir(tmp_path / "out.zarr") / "ranges.json").read_text())
    assert [values[0][4] for _unit, values in ranges] == [True]  # one frame, inverted
    run_steps(steps)
    labels = zarr.open(str(tmp_path / "out.zarr"))[...]
    assert metrics.matching(expected, labels, 0.5).ap >= 0.99


def test_the_user_can_overrule_the_card_per_run_in_memory_blockwise_and_from_the_cli(
    tmp_path, nuclei_sample
):
    """``invert`` (``--invert/--no-invert``, the Segment widget's Intensities) decides the
    polarity for one run, for any model: True shows a dark-object image to a model that does
    not invert as it would see the original; False keeps an image the card's rule would flip.
    The recipe records the choice and replays it; blockwise runs decide it for every frame."""
    image, truth = nuclei_sample
    dark = inverted(image)
    flagged = load_model(flagged_copy(tmp_path, invert=True))
    plain = load_model(flagged_copy(tmp_path, invert=False))
    auto = segment(dark, flagged, "YX", device="cpu")
    np.testing.assert_array_equal(segment(dark, plain, "YX", device="cpu", invert=True), auto)
    kept = segment(dark, flagged, "YX", device="cpu", invert=False)
    np.testing.assert_array_equal(kept, segment(dark, plain, "YX", device="cpu"))
    assert metrics.matching(truth, kept, 0.5).ap < metrics.matching(truth, auto, 0.5).ap - 0.3
    # a fluorescence image forced through inversion is what a wrong guess costs
    forced = segment(image, flagged, "YX", device="cpu", invert=True)
    assert metrics.matching(truth, forced, 0.5).ap < 0.5

    tifffile.imwrite(tmp_path / "dark.tif", dark)
    out = tmp_path / "labels.tif"
    model_dir = str(flagged_copy(tmp_path / "cli", invert=False))
    assert main(["segment", str(tmp_path / "dark.tif"), "-o", str(out), "--model", model_dir,
                 "--invert", "--device", "cpu", "-q"]) == 0  # fmt: skip
    np.testing.assert_array_equal(tifffile.imread(out), auto)
    recipe = out.with_name("labels.recipe.json")
    assert json.loads(recipe.read_text())["invert"] is True
    again = tmp_path / "again.tif"
    assert main(["segment", str(tmp_path / "dark.tif"), "-o", str(again), "--recipe",
                 str(recipe), "--device", "cpu", "-q"]) == 0  # fmt: skip
    np.testing.assert_array_equal(tifffile.imread(again), auto)
    assert main(["segment", str(tmp_path / "dark.tif"), "-o", str(tmp_path / "auto.tif"),
                 "--model", model_dir, "--device", "cpu", "-q"]) == 0  # fmt: skip
    auto_recipe = json.loads((tmp_path / "auto.recipe.json").read_text())
    assert "invert" not in auto_recipe  # not given: the card decided

    source = write_zarr(tmp_path / "dark.zarr", dark, (128, 128))
    result = run_steps(
        segment_blockwise_steps(
            source, tmp_path / "b.zarr", plain, block=256, device="cpu", invert=True
        )
    )
    assert result.recipe["invert"] is True
    labels = zarr.open(str(tmp_path / "b.zarr"))[...]
    assert metrics.matching(auto, labels, 0.5).ap >= 0.99


def test_training_inverts_and_the_card_and_fine_tunes_keep_it(tmp_path, nuclei_sample, capsys):
    image, labels = inverted(nuclei_sample[0]), nuclei_sample[1]
    data = tmp_path / "data"
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True)
    for i, rows in enumerate((slice(0, 256), slice(256, 512))):
        tifffile.imwrite(data / "images" / f"{i}.tif", image[rows])
        tifffile.imwrite(data / "masks" / f"{i}.tif", labels[rows])
    samples = load_folder_pairs(data, "YX", 1, INVERT)
    plain = load_folder_pairs(data, "YX", 1, {"low": 1.0, "high": 99.8})
    for got, kept in zip(samples, plain):  # bright background: trained on as 1 - x
        np.testing.assert_allclose(got.image, 1 - kept.image, atol=1e-6)

    common = ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--patch", "128"]
    common += ["--val-fraction", "0.5", "--device", "cpu", "--features", "8,16"]
    assert main(["train", "embedding", "--data", str(data), "--out", str(tmp_path / "a"),
                 "--invert-bright-background", *common]) == 0  # fmt: skip
    card = json.loads((tmp_path / "a" / "card.json").read_text())
    assert card["normalization"]["invert_bright_background"] is True
    assert card["training"]["config"]["invert_bright_background"] is True

    tune = ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--patch", "128"]
    tune += ["--val-fraction", "0.5", "--device", "cpu"]
    base = ["--data", str(data), "--base", str(tmp_path / "a")]
    assert main(["train", "embedding", *base, "--out", str(tmp_path / "b"), *tune]) == 0
    inherited = json.loads((tmp_path / "b" / "card.json").read_text())
    assert inherited["normalization"]["invert_bright_background"] is True
    assert main(["train", "embedding", *base, "--out", str(tmp_path / "c"),
                 "--no-invert-bright-background", *tune]) == 0  # fmt: skip
    dropped = json.loads((tmp_path / "c" / "card.json").read_text())
    assert "invert_bright_background" not in dropped["normalization"]
    assert dropped["training"]["config"]["invert_bright_background"] is False


def test_export_tells_other_software_to_invert_and_tessella_reads_the_flag_back(
    tmp_path, capsys, monkeypatch
):
    import zipfile

    from tessella.engine.bioimageio import INVERT_NOTE, import_bioimageio

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    package = tmp_path / "package.zip"
    assert main(["export-bioimageio", str(flagged_copy(tmp_path)), str(package)]) == 0
    assert INVERT_NOTE in capsys.readouterr().out
    with zipfile.ZipFile(package) as archive:
        assert INVERT_NOTE in archive.read("README.md").decode()
        rdf = yaml.safe_load(archive.read("rdf.yaml"))
        assert "invert bright-background images first" in rdf["inputs"][0]["description"]
    model = load_model(import_bioimageio(package))
    assert model.card.normalization["invert_bright_background"] is True


def test_a_card_whose_inversion_is_not_a_boolean_is_refused_by_name(tmp_path):
    from tessella.engine.registry import ModelError

    model = flagged_copy(tmp_path, invert="yes")
    with pytest.raises(
        ModelError, match=r"card.json: normalization.invert_bright_background 'yes'"
    ):
        load_model(model)

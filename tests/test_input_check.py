"""Segment warns, in one line naming the image and the model, of an image that looks unlike the
model's training images as the network sees them (the card's ``input_statistics``): worms2d
given the GFP channel of BBBC010 (the files in ``brightfield/`` of this copy) instead of the
brightfield images it was trained on (``gfp/``); not the brightfield image itself; and no check
for a model whose card records no range."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.pipeline import run_steps, segment_steps
from tessella.engine.registry import find_model, load_model
from tests.conftest import DATA

WORMS = DATA / "worms_bbbc010"
CROP = np.s_[:, :348]  # the left half of the well (its edge and the dark surround included)


def _well(folder: str) -> np.ndarray:
    path = WORMS / folder / "E03.tif"
    if not path.is_file():
        pytest.fail(f"{path} is missing (the shared BBBC010 data)")
    return tifffile.imread(path)[CROP]


def _said(image: np.ndarray, model, name: str) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_steps(segment_steps(image, model, device="cpu", name=name))
    return [str(w.message) for w in caught if "looks unlike" in str(w.message)]


def test_worms2d_warns_of_the_gfp_channel_not_of_brightfield():
    said = _said(_well("brightfield"), "worms2d", "brightfield/E03.tif")
    assert len(said) == 1
    line = said[0]
    assert "\n" not in line
    assert line.startswith("brightfield/E03.tif looks unlike the images model 'worms2d'")
    assert "90th percentile" in line and "training" in line  # what differs, and by how much
    assert _said(_well("gfp"), "worms2d", "gfp/E03.tif") == []


def test_a_card_without_the_range_does_no_check(tmp_path):
    source = find_model("worms2d")
    copy = tmp_path / "worms-no-stats"
    shutil.copytree(source, copy)
    card = json.loads((copy / "card.json").read_text())
    assert "input_statistics" in card  # the bundled card records it...
    del card["input_statistics"]  # ...this copy does not
    (copy / "card.json").write_text(json.dumps(card))
    assert _said(_well("brightfield"), load_model(str(copy)), "brightfield/E03.tif") == []


def test_cli_says_it_on_one_line(tmp_path, capsys):
    image = tmp_path / "E03.tif"
    tifffile.imwrite(image, _well("brightfield"))
    out = str(tmp_path / "out.tif")
    args = ["segment", str(image), "-o", out, "--model", "worms2d", "--no-tta", "--device", "cpu"]
    assert main(args) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "looks unlike" in line]
    assert len(lines) == 1
    assert str(image) in lines[0] and "'worms2d'" in lines[0]


def test_a_fine_tune_does_not_inherit_its_bases_range(tmp_path, nuclei_sample, monkeypatch):
    """A fine-tune is trained on other images than its base: the base's range (a bundled
    model's) would warn of the very images it was tuned for; its card has none (no check)."""
    import itertools

    import tessella.engine.train.loop as loop
    from tessella.engine.train import TrainConfig, train
    from tests.conftest import nuclei_folder
    from tests.engine.test_train_card_warnings import TINY

    scores = itertools.count(1)
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: next(scores) / 10)
    data = nuclei_folder(tmp_path / "data", nuclei_sample, count=2)
    base, tuned = tmp_path / "base", tmp_path / "tuned"
    train(TrainConfig("boundary", str(data), str(base), **TINY))
    card = json.loads((base / "card.json").read_text())
    card["input_statistics"] = json.loads((find_model("worms2d") / "card.json").read_text())[
        "input_statistics"
    ]
    (base / "card.json").write_text(json.dumps(card))
    train(TrainConfig("boundary", str(data), str(tuned), base=str(base), **TINY))
    assert "input_statistics" in json.loads((base / "card.json").read_text())
    assert "input_statistics" not in json.loads((tuned / "card.json").read_text())
    assert load_model(str(tuned)).card.normalization == load_model(str(base)).card.normalization


def test_training_records_the_range_and_segment_checks_against_it(
    tmp_path, nuclei_sample, monkeypatch
):
    """A model trained on 10 images or more records the range of its training images in its
    card: one of them is not warned of, the same image inverted is; fewer record none."""
    import itertools

    import tessella.engine.train.loop as loop
    from tessella.engine.train import TrainConfig, train
    from tests.engine.test_train_card_warnings import TINY

    scores = itertools.count(1)
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: next(scores) / 10)
    image, labels = nuclei_sample
    crops = [
        np.s_[y : y + 128, x : x + 128] for y in range(0, 384, 128) for x in range(0, 512, 128)
    ]
    many, few = tmp_path / "many", tmp_path / "few"
    for folder, count in ((many, len(crops)), (few, 3)):
        for sub in ("images", "masks"):
            (folder / sub).mkdir(parents=True)
        for i, crop in enumerate(crops[:count]):
            tifffile.imwrite(folder / "images" / f"{i:02d}.tif", image[crop])
            tifffile.imwrite(folder / "masks" / f"{i:02d}.tif", labels[crop].astype(np.uint16))
    held = ("00", "05")
    train(TrainConfig("boundary", str(many), str(tmp_path / "m"), holdout=held, **TINY))
    stats = json.loads((tmp_path / "m" / "card.json").read_text())["input_statistics"]
    assert stats["n"] == len(crops) - 2
    assert all(lo <= hi for lo, hi in zip(stats["low"], stats["high"], strict=True))
    model = load_model(str(tmp_path / "m"))
    assert _said(image[crops[3]], model, "crop 3") == []
    inverted = image[crops[3]].max() - image[crops[3]]
    [line] = _said(inverted, model, "crop 3 inverted")
    assert line.startswith("crop 3 inverted looks unlike the images model 'm'")

    train(TrainConfig("boundary", str(few), str(tmp_path / "f"), holdout=("00",), **TINY))
    assert "input_statistics" not in json.loads((tmp_path / "f" / "card.json").read_text())


@pytest.mark.parametrize(
    ("model", "path", "crop"),
    [
        ("em-mito2d", "em_mito_lucchipp/val/image.tif", np.s_[0, :256, :256]),
        ("worms2d", "worms_bbbc010/gfp/E03.tif", np.s_[100:420, 150:550]),
    ],
    ids=["lucchi-val-crop", "worms-well-inside"],
)
def test_a_crop_of_the_kind_of_images_a_model_is_for_is_not_warned_of(model, path, crop):
    """The ranges were of whole training images alone: a 256x256 crop of the Lucchi++ val
    volume (normalised on its own, as Segment does) was warned of by em-mito2d, a crop inside
    a brightfield well by worms2d. The cards' ranges now cover the training images' crops."""
    image = tifffile.imread(DATA / path)[crop]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_steps(segment_steps(image, model, tta=False, device="cpu", name="crop"))
    assert [str(w.message) for w in caught if "looks unlike" in str(w.message)] == []

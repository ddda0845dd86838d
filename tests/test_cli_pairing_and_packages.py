"""``tessella evaluate`` pairs folders by name without the suffix; a recipe made with a
bioimage.io package replays from the package once its import's cache folder is gone."""

import json
import shutil

import numpy as np
import pytest
import tifffile

from tessella.cli import main


@pytest.fixture
def nuclei_masks(nuclei_sample):
    """Three 128x128 crops of the DSB2018 nuclei sample's labels."""
    _, labels = nuclei_sample
    return [labels[128 * i : 128 * (i + 1), :128] for i in range(3)]


def test_predictions_pair_with_ground_truth_by_stem(tmp_path, nuclei_masks, capsys):
    """``tessella segment images/`` keeps each input's suffix: P/a.tiff is G/a.tif's
    prediction. Extra predictions are skipped, and the printout says so."""
    gt, pred = tmp_path / "G", tmp_path / "P"
    gt.mkdir(), pred.mkdir()
    for name, mask in zip("abc", nuclei_masks):
        tifffile.imwrite(gt / f"{name}.tif", mask)
    tifffile.imwrite(pred / "a.tiff", nuclei_masks[0])
    tifffile.imwrite(pred / "b.ome.tif", nuclei_masks[1])
    tifffile.imwrite(pred / "c.TIF", nuclei_masks[2])
    tifffile.imwrite(pred / "extra.tif", nuclei_masks[0])
    assert main(["evaluate", str(pred), str(gt), "--json", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert "images: 3" in out
    assert f"skipped: 1 prediction in {pred} without ground truth (extra.tif)" in out
    assert json.loads((tmp_path / "s.json").read_text())["avs"] == 1.0


def test_missing_and_ambiguous_predictions_are_named_in_one_line(tmp_path, nuclei_masks, capsys):
    gt, pred = tmp_path / "G", tmp_path / "P"
    gt.mkdir(), pred.mkdir()
    for name in "abcdefgh":
        tifffile.imwrite(gt / f"{name}.tif", nuclei_masks[0])
    tifffile.imwrite(pred / "a.tiff", nuclei_masks[0])
    assert main(["evaluate", str(pred), str(gt)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "no prediction for 7 of the 8 ground-truth images" in err
    assert "b.tif, c.tif, d.tif, e.tif, f.tif and 2 more" in err
    tifffile.imwrite(pred / "a.tif", nuclei_masks[0])  # a.tif and a.tiff: which is a's?
    for name in "bcdefgh":
        tifffile.imwrite(pred / f"{name}.tif", nuclei_masks[0])
    assert main(["evaluate", str(pred), str(gt)]) == 1
    err = capsys.readouterr().err
    assert f"{pred}: a.tif and a.tiff share the name 'a'" in err


def test_a_recipe_made_with_a_package_replays_once_its_cache_is_gone(
    tmp_path, nuclei_sample, monkeypatch, capsys
):
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    package = tmp_path / "nuclei.zip"
    assert main(["export-bioimageio", "nuclei2d", str(package)]) == 0
    tifffile.imwrite(tmp_path / "img.tif", nuclei_sample[0][:256, :256])
    first = tmp_path / "first.tif"
    segment = ["segment", str(tmp_path / "img.tif"), "--device", "cpu", "-q"]
    assert main([*segment, "-o", str(first), "--model", str(package)]) == 0
    recipe = json.loads((tmp_path / "first.recipe.json").read_text())
    assert recipe["model_package"] == str(package.resolve())
    from tessella.engine.registry import sha256_file

    assert recipe["model_package_sha256"] == sha256_file(package)
    shutil.rmtree(cache / "tessella" / "bioimageio")  # the import's cache folder is gone
    replay = tmp_path / "replay.tif"
    recipe_file = str(tmp_path / "first.recipe.json")
    assert main([*segment, "-o", str(replay), "--recipe", recipe_file]) == 0
    np.testing.assert_array_equal(tifffile.imread(replay), tifffile.imread(first))
    replayed = json.loads((tmp_path / "replay.recipe.json").read_text())
    assert replayed["model_package"] == recipe["model_package"]
    capsys.readouterr()
    # the package moved away too: the message names it
    package.rename(tmp_path / "moved.zip")
    shutil.rmtree(cache / "tessella" / "bioimageio")
    assert main([*segment, "-o", str(tmp_path / "again.tif"), "--recipe", recipe_file]) == 1
    err = capsys.readouterr().err
    assert f"made with the bioimage.io package {package.resolve()}, which is not there" in err
    assert "pass --model" in err

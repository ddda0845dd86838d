"""``tessella.replay`` of a recipe made with ``tessella segment --voxel-size``: the recipe's
``voxel_size`` replaces the image's own pixel size, as ``tessella segment --recipe`` replays
it (the command's rule, :func:`tessella.cli._segment.recipe_voxel_size`). replay used the
file's pixel size instead, so an ImageJ TIFF of 1 x 1 x 1 was segmented isotropic where the
command's replay used 50 x 4 x 4."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

import tessella
from tessella.cli import main
from tessella.engine.io import read_image

OPTIONS = ["--model", "em-membranes2d", "--device", "cpu", "--no-tta", "-q"]


@pytest.fixture(scope="module")
def made(data_dir, tmp_path_factory):
    """A 3x64x64 ISBI crop as an ImageJ TIFF of spacing 1, 1, 1, a recipe of voxel size
    50, 4, 4, and the labels ``tessella segment --recipe`` replays of it on that TIFF."""
    images = data_dir / "em_membranes_isbi2012" / "images"
    crop = np.stack([tifffile.imread(images / f"{i:02d}.tif")[:64, :64] for i in range(15, 18)])
    folder = tmp_path_factory.mktemp("replay_voxel")
    source = folder / "ij111.tif"
    tifffile.imwrite(
        source,
        crop,
        imagej=True,
        resolution=(1.0, 1.0),
        metadata={"axes": "ZYX", "spacing": 1.0, "unit": "um"},
    )
    recipe = folder / "voxel.recipe.json"  # the fields a --voxel-size 50,4,4 run records
    fields = {"model": "em-membranes2d", "tta": False, "axes": "ZYX", "spacing": [50, 4, 4]}
    recipe.write_text(json.dumps(fields | {"voxel_size": [50, 4, 4], "unit": "µm"}))
    again = folder / "again.tif"
    replay = ["segment", str(source), "-o", str(again), "--device", "cpu", "-q"]
    assert main([*replay, "--recipe", str(recipe)]) == 0
    return source, recipe, tifffile.imread(again)


def test_replay_applies_the_recipes_voxel_size_over_the_files_as_the_command(made):
    source, recipe, by_command = made
    image = read_image(source)
    assert image.pixel_size == {"Z": 1.0, "Y": 1.0, "X": 1.0}  # (the file's own, isotropic)
    assert by_command.max() > 1
    assert read_image(recipe.with_name("again.tif")).pixel_size == {"Z": 50, "Y": 4, "X": 4}
    labels = tessella.replay(recipe, image, device="cpu")
    assert np.array_equal(labels, by_command)
    # the dict form and an array (no pixel size of its own) alike
    recorded = json.loads(recipe.read_text())
    assert np.array_equal(tessella.replay(recorded, image, device="cpu"), by_command)
    assert np.array_equal(tessella.replay(recorded, image.data, device="cpu"), by_command)
    # (the file's own 1 x 1 x 1, which replay used, gives other labels: the test tells)
    isotropic = {k: v for k, v in recorded.items() if k not in ("voxel_size", "spacing")}
    assert not np.array_equal(tessella.replay(isotropic, image, device="cpu"), by_command)


def test_a_bad_or_unfitting_voxel_size_is_refused_naming_the_recipe(made):
    source, recipe, _ = made
    recorded = json.loads(recipe.read_text())
    with pytest.raises(ValueError, match=r"recipe's voxel_size must be 2 or 3 positive numbers"):
        tessella.replay({**recorded, "voxel_size": [0, 4, 4]}, read_image(source))
    with pytest.raises(ValueError, match=r"voxel_size gives 2 sizes but the image has axes ZYX"):
        tessella.replay({**recorded, "voxel_size": [4, 4]}, read_image(source))

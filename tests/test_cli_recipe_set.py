"""`tessella segment --recipe R.json --set name=value`: --set goes on top of the recipe's
parameters before they are checked, so it can fix a hand-edited recipe's bad value."""

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image


@pytest.fixture
def image_file(tmp_path, nuclei_sample):
    path = tmp_path / "img.tif"
    tifffile.imwrite(path, nuclei_sample[0][:256, :256])
    return path


def test_set_fixes_a_bad_value_of_a_recipe(tmp_path, image_file, capsys):
    recipe = tmp_path / "r.recipe.json"
    recipe.write_text(
        json.dumps({"model": "nuclei2d", "params": {"seed_thresh": 3, "min_size": 25}})
    )
    fixed = tmp_path / "fixed.tif"
    replay = ["segment", str(image_file), "-o", str(fixed), "--recipe", str(recipe), "-q"]
    assert main([*replay, "--set", "seed_thresh=0.8"]) == 0, capsys.readouterr().err
    recorded = json.loads((tmp_path / "fixed.recipe.json").read_text())["params"]
    assert recorded["seed_thresh"] == 0.8 and recorded["min_size"] == 25  # the recipe's kept
    by_hand = tmp_path / "by_hand.tif"
    sets = ["--set", "seed_thresh=0.8", "--set", "min_size=25"]
    assert main(["segment", str(image_file), "-o", str(by_hand), "--model", "nuclei2d", *sets]) == 0
    labels = read_image(fixed).data
    assert labels.max() > 0
    np.testing.assert_array_equal(labels, read_image(by_hand).data)


@pytest.mark.parametrize(
    "params, sets, source, name",
    [
        # --set fixes one bad value; the other is still the recipe's
        ({"seed_thresh": 3, "min_size": -1}, ["seed_thresh=0.8"], "recipe", "min_size"),
        ({"seed_thresh": 3}, ["min_size=20"], "recipe", "seed_thresh"),
        ({"bogus": 1}, ["seed_thresh=0.8"], "recipe", "bogus"),
        ({"seed_thresh": 0.8}, ["seed_thresh=3"], "--set", "seed_thresh"),
        ({"seed_thresh": 3}, ["seed_thresh=yes"], "--set", "seed_thresh"),
    ],
)
def test_a_bad_value_left_names_where_it_came_from(
    tmp_path, image_file, capsys, params, sets, source, name
):
    recipe = tmp_path / "r.recipe.json"
    recipe.write_text(json.dumps({"model": "nuclei2d", "params": params}))
    out = tmp_path / "o.tif"
    argv = ["segment", str(image_file), "-o", str(out), "--recipe", str(recipe)]
    assert main([*argv, *(arg for s in sets for arg in ("--set", s))]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    named = str(recipe) if source == "recipe" else "--set:"
    assert named in line and f"parameter {name!r}" in line, line
    assert (str(recipe) in line) == (source == "recipe"), line
    assert not out.exists()

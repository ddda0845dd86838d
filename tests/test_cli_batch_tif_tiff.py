"""A folder holding ``a.tif`` and ``a.tiff`` (s35 f14, #4): ``tessella segment`` refused it
("would share the recipe a.recipe.json"), a refusal that 2dfb26c made needless (each labels
file keeps its own recipe: ``a.recipe.json`` and ``a.tiff.recipe.json``). What still
collides is ``--csv``'s ``a.csv``: that is refused, before any work."""

from __future__ import annotations

import json
import warnings

import pytest
import tifffile

from tessella._io import RECIPE_KEY, LabelsChangedWarning, UnclearRecipeWarning, read_layers
from tessella.cli import CliError, main
from tessella.cli._inputs import _segment_jobs
from tests.conftest import DATA

RUN = ["--model", "nuclei2d", "--no-tta", "--device", "cpu", "-q"]


@pytest.fixture
def folder(tmp_path):
    """Two real nuclei crops (96 x 96) of the DSB2018 fixture as ``a.tif`` and ``a.tiff``."""
    source = DATA / "fixtures" / "img2d.tif"
    if not source.is_file():
        pytest.fail(f"the fixture image is not at {source} (set TESSELLA_DATA)")
    image = tifffile.imread(source)
    images = tmp_path / "in"
    images.mkdir()
    tifffile.imwrite(images / "a.tif", image[:96, :96])
    tifffile.imwrite(images / "a.tiff", image[96:192, 96:192])
    return images


def _reopened(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelsChangedWarning)
        warnings.simplefilter("error", UnclearRecipeWarning)
        [(data, meta, _kind)] = read_layers(str(path))
    return data, meta["metadata"][RECIPE_KEY]


def test_the_jobs_collide_only_in_their_csv(folder, tmp_path):
    out = tmp_path / "out"
    jobs = _segment_jobs([str(folder)], str(out), csv=False)
    assert [(s.name, t.name) for s, t in jobs] == [("a.tif", "a.tif"), ("a.tiff", "a.tiff")]
    with pytest.raises(CliError, match=r"a\.tif and a\.tiff would both be measured into a\.csv"):
        _segment_jobs([str(folder)], str(out), csv=True)


def test_a_tif_and_a_tiff_are_segmented_each_with_its_recipe(folder, tmp_path):
    out = tmp_path / "out"
    assert main(["segment", str(folder), "-o", str(out), *RUN]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "a.recipe.json",
        "a.tif",
        "a.tiff",
        "a.tiff.recipe.json",
    ]
    assert json.loads((out / "a.recipe.json").read_text())["exported"] == {"tiff": "a.tif"}
    assert json.loads((out / "a.tiff.recipe.json").read_text())["exported"] == {"tiff": "a.tiff"}
    for name in ("a.tif", "a.tiff"):  # each reopens with its own recipe, its labels unchanged
        data, recipe = _reopened(out / name)
        assert recipe["input"].endswith(name)
        assert data.max() > 0
    mtimes = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(["segment", str(folder), "-o", str(out), *RUN, "--skip-existing"]) == 0
    assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes  # both kept


def test_their_csvs_would_collide_refused_before_any_work(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["segment", str(folder), "-o", str(out), *RUN, "--csv"]) == 1
    err = capsys.readouterr().err
    assert "a.tif and a.tiff would both be measured into a.csv (--csv)" in err, err
    assert not out.exists() or not any(out.iterdir())

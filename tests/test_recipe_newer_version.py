"""A recipe written by a newer Tessella, with a field this version does not know, is replayed
with a warning naming the fields ignored and both versions (s35 f1, gap 3 of the session
before: it was refused outright, so a recipe shared by a colleague on a newer version could
not be replayed at all). A recipe of this version or an older one, or of no version, with
such a field is still refused: there it is a misspelling ("parms") that would be replayed as
the default. In ``tessella.replay``, ``tessella segment --recipe`` and ``read_recipe`` (what
the Segment and Tune panels' recipe buttons read) alike."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

import tessella
from tessella._io_recipe import NewerRecipeWarning, read_recipe
from tessella.cli import main
from tests.conftest import DATA


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A real DSB2018 nuclei crop (96 x 96) segmented by ``tessella segment`` (nuclei2d, a
    seed threshold of 0.5): ``(image path, labels path, recipe)``."""
    source = DATA / "fixtures" / "img2d.tif"
    if not source.is_file():
        pytest.fail(f"the fixture image is not at {source} (set TESSELLA_DATA)")
    folder = tmp_path_factory.mktemp("newer")
    image = folder / "nuclei.tif"
    tifffile.imwrite(image, tifffile.imread(source)[:96, :96])
    labels = folder / "labels.tif"
    args = ["segment", str(image), "-o", str(labels), "--model", "nuclei2d"]
    assert main([*args, "--set", "seed_thresh=0.5", "--no-tta", "-q"]) == 0
    return image, labels, json.loads((folder / "labels.recipe.json").read_text())


def _written(tmp_path, recipe, version):
    path = tmp_path / "shared.recipe.json"
    fields = {"shape_prior": {"kind": "ellipse"}, "Tile": 512}  # what 99.0 might write
    params = {**recipe["params"], "shape_weight": 2.0}  # a parameter added in 99.0
    path.write_text(json.dumps({**recipe, **fields, "params": params, "tessella_version": version}))
    return path


def test_a_newer_recipe_replays_without_the_fields_it_cannot_apply(made, tmp_path, capsys):
    image, labels, recipe = made
    newer = _written(tmp_path, recipe, "99.0")
    said = (
        rf"{newer}: written by Tessella 99\.0, newer than this one \({tessella.__version__}\), "
        r"it holds fields 'shape_prior', 'Tile' and embedding parameter 'shape_weight' that "
        r"this version does not know and ignores; replaying it may not give the same labels "
        r"as Tessella 99\.0 does \(update Tessella to apply them\)$"
    )
    with pytest.warns(NewerRecipeWarning, match=said):
        again = tessella.replay(newer, tessella.read_image(image))
    np.testing.assert_array_equal(again, tessella.read_image(labels).data)  # the same labels
    with pytest.warns(NewerRecipeWarning, match=said):
        read = read_recipe(newer)  # (the panels' "From recipe file…" and Load recipe)
    assert "shape_prior" not in read and "Tile" not in read
    assert read["params"] == recipe["params"]  # (its seed threshold of 0.5, no shape_weight)

    out = tmp_path / "out.tif"
    assert main(["segment", str(image), "--recipe", str(newer), "-o", str(out), "-q"]) == 0
    err = capsys.readouterr().err
    assert "written by Tessella 99.0, newer than this one" in err and "'shape_weight'" in err
    assert len(err.strip().splitlines()) == 1  # one line
    np.testing.assert_array_equal(tessella.read_image(out).data, tessella.read_image(labels).data)


@pytest.mark.parametrize("version", [tessella.__version__, "0.0.1", None, "next"])
def test_a_recipe_not_newer_with_an_unknown_field_is_refused(made, tmp_path, capsys, version):
    image, _labels, recipe = made
    path = _written(tmp_path, recipe, version)
    with pytest.raises(ValueError, match=r"unknown fields 'shape_prior', 'Tile' \(did you"):
        tessella.replay(path, tessella.read_image(image))
    out = tmp_path / "out.tif"
    assert main(["segment", str(image), "--recipe", str(path), "-o", str(out), "-q"]) == 1
    assert f"{path}: unknown fields 'shape_prior'" in capsys.readouterr().err
    assert not out.exists()

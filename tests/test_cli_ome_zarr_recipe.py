"""``tessella segment IMAGE -o NAME.ome.zarr`` keeps its recipe inside the OME-Zarr too (the
group's attributes, under "tessella", as Export's "Labels as OME-Zarr" does), so a zarr moved
without ``NAME.ome.recipe.json`` keeps how it was made: it wrote the recipe beside it only
(e0ebb41). The recipe beside it is still written and read; ``--recipe`` reads either."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tifffile
import zarr

from tessella._io import RECIPE_KEY, get_reader
from tessella.cli import main
from tessella.engine.io import read_image
from tests.conftest import DATA

DSB = DATA / "nuclei2d_dsb2018" / "val" / "images"


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """A crop of a real DSB2018 validation image."""
    if not DSB.is_dir():
        pytest.skip(f"the shared datasets are not at {DATA} (set TESSELLA_DATA)")
    pixels = tifffile.imread(sorted(DSB.glob("*.tif"))[0])[:128, :128]
    path = tmp_path_factory.mktemp("in") / "nuclei.tif"
    tifffile.imwrite(path, pixels)
    return path


def _segment(*args) -> int:
    return main(["segment", *map(str, args), "--device", "cpu", "--no-tta", "-q"])


def test_the_recipe_is_kept_inside_the_ome_zarr_and_beside_it(tmp_path, image):
    out = tmp_path / "out.ome.zarr"
    assert _segment(image, "-o", out) == 0
    beside = json.loads((tmp_path / "out.ome.recipe.json").read_text())
    inside = zarr.open_group(str(out), mode="r").attrs["tessella"]
    assert inside == beside and inside["input"] == str(image)

    # moved without the recipe beside it: the napari reader finds the recipe inside
    moved = tmp_path / "elsewhere" / "moved.ome.zarr"
    moved.parent.mkdir()
    shutil.move(out, moved)
    [(labels, kwargs, kind)] = get_reader(str(moved))(str(moved))
    assert kind == "labels" and kwargs["metadata"][RECIPE_KEY]["model"] == beside["model"]

    # --recipe replays the recipe the zarr keeps, as the one beside it
    again, json_again = tmp_path / "again.tif", tmp_path / "json_again.tif"
    assert _segment(image, "-o", again, "--recipe", moved) == 0
    assert _segment(image, "-o", json_again, "--recipe", tmp_path / "out.ome.recipe.json") == 0
    first = np.asarray(read_image(moved).data)
    assert np.array_equal(tifffile.imread(again), first)
    assert np.array_equal(tifffile.imread(json_again), first)


def test_ome_zarr_0_5_labels_of_an_ome_zarr_0_5_image_keep_it_too(tmp_path, image):
    """An OME-Zarr 0.5 image gives 0.5 labels (zarr v3, their metadata under "ome"): the
    recipe goes beside "ome" in their attributes."""
    source = zarr.open_group(str(tmp_path / "in.ome.zarr"), mode="w", zarr_format=3)
    source.create_array("s0", shape=(128, 128), dtype="uint8")[...] = tifffile.imread(image)
    multiscale = {
        "axes": [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}],
        "datasets": [
            {"path": "s0", "coordinateTransformations": [{"type": "scale", "scale": [1.0, 1.0]}]}
        ],
    }
    source.attrs["ome"] = {"version": "0.5", "multiscales": [multiscale]}
    out = tmp_path / "out.ome.zarr"
    assert _segment(tmp_path / "in.ome.zarr", "-o", out) == 0
    written = zarr.open_group(str(out), mode="r")
    assert written.metadata.zarr_format == 3 and written.attrs["ome"]["version"] == "0.5"
    beside = json.loads((tmp_path / "out.ome.recipe.json").read_text())
    assert written.attrs["tessella"] == beside


def test_recipe_of_a_zarr_that_keeps_none_is_refused_naming_it(tmp_path, image, capsys):
    plain = tmp_path / "plain.zarr"
    zarr.open_array(str(plain), mode="w", shape=(4, 4), dtype="u1")
    assert _segment(image, "-o", tmp_path / "x.tif", "--recipe", plain) != 0
    err = capsys.readouterr().err
    assert f"{plain}: a zarr that keeps no recipe in its attributes" in err

"""tessella segment --recipe of a recipe made on an image without a pixel size (Tune's
*Save recipe* on a BBBC010 well: ``"spacing": [1.0, 1.0]``, no ``"unit"``) replayed on a
folder of such images writes the labels in pixels without a warning (t13 #4: it printed,
for every image, that the voxel size 1,1 named no unit and to add ``"unit": "nm"``); a
unitless spacing other than 1 is warned of once per run, not once per image."""

from __future__ import annotations

import json

import tifffile

from tessella.cli import main
from tests.conftest import DATA

WELLS = DATA / "worms_bbbc010" / "gfp"  # (the brightfield images in this copy)


def _plate(folder, wells=("E03", "D07")):
    """Two real wells, cropped to 160 x 200 px (a worm or two each), without a pixel size."""
    folder.mkdir()
    for well in wells:
        image = tifffile.imread(WELLS / f"{well}.tif")
        tifffile.imwrite(folder / f"{well}.tif", image[180:340, 250:450])
    return folder


def _recipe(path, spacing):
    """A recipe as Tune's Save recipe wrote it on a well (t13's tuned.recipe.json)."""
    recipe = {
        "model": "worms2d",
        "method": "patches",
        "params": {"cover_threshold": 0.55, "affinity_threshold": 0.6},
        "axes": "YX",
        "tta": False,
        "spacing": spacing,
    }
    path.write_text(json.dumps(recipe))
    return path


def _segment(tmp_path, spacing):
    plate = _plate(tmp_path / "plate")
    recipe = _recipe(tmp_path / "tuned.recipe.json", spacing)
    out = tmp_path / "out"
    argv = ["segment", str(plate), "-o", str(out), "--recipe", str(recipe), "--device", "cpu"]
    assert main([*argv, "-q"]) == 0
    return out


def test_a_recipe_of_pixels_replays_without_a_unit_warning(tmp_path, capsys):
    out = _segment(tmp_path, [1.0, 1.0])
    err = capsys.readouterr().err
    assert "names no unit" not in err, err
    for well in ("E03", "D07"):  # written in pixels, as before
        with tifffile.TiffFile(out / f"{well}.tif") as tif:
            assert tif.imagej_metadata is None or tif.imagej_metadata.get("unit") in (
                None,
                "pixel",
            )


def test_a_unitless_spacing_is_warned_of_once_per_run(tmp_path, capsys):
    _segment(tmp_path, [2.0, 2.0])
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if "names no unit" in line]
    assert len(warned) == 1, err  # (one run of two images: not one per image)
    assert "2,2" in warned[0] and '"unit"' in warned[0]

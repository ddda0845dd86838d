"""Units read from files and recipes by the case rules of SI symbols, as `--voxel-size` reads
them (s34 f3 #4; f319c7f for `--voxel-size`): one function, `engine.io._write.unit_symbol`.
`unit_for` lower-cased every unit it was given, so a file's or a recipe's "Mm" (megametres)
was written as mm and "PM" (peta) as pm, while "µM" (the metre typed M, as users type µm)
was kept as "µM", a unit nothing reads. Now "NM", "UM", "µM" are nm, µm; "Mm" read from a file
is kept as given (megametres, what the file says), and a recipe's "Mm" is refused in one line
naming the symbol meant, as `--voxel-size 4Mm` is. Real DSB2018 crop, nuclei2d on CPU."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.engine.io import read_image
from tessella.engine.io._write import unit_for, write_labels, write_zarr_labels
from tests.conftest import DATA

IMAGE = DATA / "nuclei2d_dsb2018" / "val" / "images"
OPTIONS = ["--model", "nuclei2d", "--device", "cpu", "--no-tta", "-q"]


@pytest.mark.parametrize(
    ("given", "symbol"),
    [
        ("µM", "µm"),  # before: "µM", kept
        ("μM", "µm"),
        ("uM", "µm"),
        ("UM", "µm"),
        ("NM", "nm"),
        ("nM", "nm"),
        ("Mm", "Mm"),  # before: "mm"
        ("MM", "MM"),  # before: "mm"
        ("PM", "PM"),  # before: "pm"
        ("Ms", "Ms"),  # before: "ms" (megaseconds)
        ("MICRONS", "µm"),
        ("Nanometres", "nm"),
        ("\\u00B5m", "µm"),
        ("pixel", "pixel"),
    ],
)
def test_units_are_read_by_the_case_rules_of_voxel_size(given, symbol):
    from tessella.cli._segment import _length_symbol
    from tessella.engine.io._write import unit_symbol

    assert unit_symbol(given) == symbol
    assert unit_for(given, "zarr") == symbol  # what every writer writes
    if symbol in ("µm", "nm"):  # --voxel-size reads it so too: one rule
        assert _length_symbol("4", given, given) == symbol


def test_a_files_units_keep_their_case_when_written_again(tmp_path):
    """Labels written with a file's unit: "Mm" is written as megametres (before: mm, 1e9-fold
    off), "µM" as µm (before: "µM", which readers take for no length)."""
    labels = np.zeros((8, 8), np.uint16)
    labels[2:5, 2:5] = 1
    written = {}
    for unit in ("Mm", "µM", "UM"):
        tif = write_labels(tmp_path / f"{unit}.tif", labels, "YX", {"Y": 2.0, "X": 2.0}, unit)
        store = write_zarr_labels(
            tmp_path / f"{unit}.zarr", labels, "YX", {"Y": 2.0, "X": 2.0}, unit
        )
        written[unit] = (read_image(tif).unit, read_image(store).unit)
    assert written["Mm"] == ("Mm", "Mm")
    assert written["µM"] == ("µm", "µm")
    assert written["UM"] == ("µm", "µm")
    assert zarr.open(str(tmp_path / "µM.zarr"), mode="r").attrs["unit"] == "µm"


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """A real DSB2018 fluorescence crop (128 x 128) in a TIFF without a pixel size."""
    path = sorted(IMAGE.glob("*.tif"))[0]
    folder = tmp_path_factory.mktemp("unit_case")
    tifffile.imwrite(folder / "plain.tif", tifffile.imread(path)[:128, :128])
    return folder / "plain.tif"


def _recipe(path, unit):
    path.write_text(
        json.dumps({"model": "nuclei2d", "axes": "YX", "spacing": [0.5, 0.5], "unit": unit})
    )
    return path


def test_a_recipes_unit_in_another_case_is_read_as_voxel_size_reads_it(plain, tmp_path, capsys):
    """A recipe edited by hand, as the unitless-recipe warning says to ("add "unit": "nm""):
    "µM" gives the labels µm (before: "µM", in the labels and the new recipe), "Mm" is
    refused in one line before any work (before: the labels written in mm)."""
    out = tmp_path / "micro.tif"
    recipe = _recipe(tmp_path / "typed µM.json", "µM")
    assert main(["segment", str(plain), "--recipe", str(recipe), "-o", str(out), *OPTIONS]) == 0
    assert "warning" not in capsys.readouterr().err
    written = read_image(out)
    assert (written.pixel_size, written.unit) == ({"Y": 0.5, "X": 0.5}, "µm")
    assert json.loads((tmp_path / "typed µM.json").read_text())["unit"] == "µM"  # (given)
    assert json.loads(out.with_name("micro.recipe.json").read_text())["unit"] == "µm"
    assert tifffile.imread(out).max() > 3  # nuclei found

    mega = _recipe(tmp_path / "typed Mm.json", "Mm")
    out = tmp_path / "mega.tif"
    assert main(["segment", str(plain), "--recipe", str(mega), "-o", str(out), *OPTIONS]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"{mega}: its \"unit\" 'Mm' reads as megametres (M is mega, m milli" in err, err
    assert 'for millimetres write "unit": "mm"' in err
    assert not out.exists()


def test_a_files_megametres_are_kept_with_a_warning(tmp_path, recwarn):
    """A TIFF whose ImageJ unit is 'Mm' with pixels of 0.0005 (plainly millimetres typed in
    the wrong case) was kept silently as megametres, its CSV in area_Mm2: now kept (what the
    file says) with one warning naming the file and the symbol meant (s34 r11 #5), as a
    recipe's 'Mm' and --voxel-size's are refused. 'mm' and 'micron' give none."""
    import warnings

    from tessella.engine.io._tiff import UnitCaseWarning

    pixels = np.zeros((16, 16), np.uint8)
    for unit in ("Mm", "mm", "micron"):
        path = tmp_path / f"{unit}.tif"
        tifffile.imwrite(
            path, pixels, imagej=True, resolution=(2000, 2000), metadata={"unit": unit}
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            read = read_image(path)
        said = [str(w.message) for w in caught if issubclass(w.category, UnitCaseWarning)]
        if unit == "Mm":
            assert read.unit == "Mm"  # kept as the file says
            assert len(said) == 1, said
            assert said[0].startswith(f"{path}: its unit 'Mm' reads as megametres"), said
            assert "If millimetres are meant, set the unit to mm" in said[0]
        else:
            assert said == [], said


def test_pixels_however_spelt_are_one_unit(tmp_path):
    """A recipe's "unit": "pixels" gave labels in 'pixels' while the recipe written with them
    recorded none (two writers disagreeing; s34 r11 #6): 'pixels', 'px', 'PX' and 'Pixel'
    are now all 'pixel', as the labels and recipes spell it. Fails before ('pixels' kept)."""
    from tessella.engine.io._write import unit_symbol

    assert [unit_symbol(u) for u in ("pixels", "px", "PX", "Pixel", "pixel")] == ["pixel"] * 5
    labels = np.zeros((8, 8), np.uint16)
    for unit in ("pixels", "px"):
        tif = write_labels(tmp_path / f"{unit}.tif", labels, "YX", {"Y": 0.5, "X": 0.5}, unit)
        assert read_image(tif).unit == "pixel", unit

"""``SegmentResult.recipe()`` records the unit of its spacing where that is the pixel size of
a file ``read_image`` read (s34 user test t16, finding 2): it recorded ``"spacing"`` but no
``"unit"``, unlike ``tessella segment``'s recipe of the same file, so replaying it with
``tessella segment --recipe`` on the same pixels without metadata wrote labels with a pixel
size of 0.333 *pixel*, and a warning advised a unit 1000x off ("nm")."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

import tessella
from tessella.cli import main
from tests.conftest import DATA

PIXEL = 1 / 3  # µm, as t16's nuclei.tif (BBBC-like fluorescence at 3 pixels per µm)


@pytest.fixture(scope="module")
def nuclei_um(tmp_path_factory):
    """A real DSB2018 nuclei crop (128 x 128) as an ImageJ TIFF of 1/3 µm pixels, and the same
    pixels without metadata: ``(with_unit, without)`` paths."""
    source = DATA / "fixtures" / "img2d.tif"
    if not source.is_file():
        pytest.fail(f"the fixture image is not at {source} (set TESSELLA_DATA)")
    crop = tifffile.imread(source)[:128, :128]
    folder = tmp_path_factory.mktemp("unit")
    with_unit, without = folder / "nuclei.tif", folder / "nuclei_nopx.tif"
    tifffile.imwrite(
        with_unit, crop, imagej=True, resolution=(1 / PIXEL, 1 / PIXEL), metadata={"unit": "um"}
    )
    tifffile.imwrite(without, crop)
    return with_unit, without


def test_recipe_records_the_files_unit_and_a_replay_keeps_it(nuclei_um, tmp_path, capsys):
    with_unit, without = nuclei_um
    image = tessella.read_image(with_unit)
    assert image.unit == "µm" and image.pixel_size["X"] == pytest.approx(PIXEL)
    result = tessella.run_steps(tessella.segment_steps(image, "nuclei2d", tta=False))
    recipe = result.recipe()
    assert recipe["spacing"] == pytest.approx([PIXEL, PIXEL])
    assert recipe["unit"] == "µm"
    assert result.with_params(min_size=20).recipe()["unit"] == "µm"  # (kept when re-tuned)
    # a spacing given by the call: its unit is not known, none recorded (nor for an array)
    given = tessella.segment_steps(image, "nuclei2d", tta=False, spacing=(0.5, 0.5))
    assert "unit" not in tessella.run_steps(given).recipe()
    # replayed by the command on the same pixels without metadata: labels in µm, no warning
    path = tmp_path / "api.recipe.json"
    path.write_text(json.dumps(recipe))
    out = tmp_path / "replay.tif"
    capsys.readouterr()
    assert main(["segment", str(without), "--recipe", str(path), "-o", str(out), "-q"]) == 0
    assert "names no unit" not in capsys.readouterr().err
    replayed = tessella.read_image(out)
    assert replayed.unit == "µm"
    assert replayed.pixel_size["X"] == pytest.approx(PIXEL, rel=1e-4)
    assert np.array_equal(replayed.data, result.labels)

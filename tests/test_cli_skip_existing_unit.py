"""``tessella segment --skip-existing`` compares the unit of ``--voxel-size`` (f11's finding):
an output made with ``--voxel-size 50,4,4`` (plain numbers: µm, the input names no unit) was
kept as done on a rerun with ``50nm,4nm,4nm``, its labels and recipe written in µm, 1000
times too large (post-processing compares voxel sizes relative to their smallest, so the
voxel sizes looked the same). Now such an output is refused as made with other settings,
naming both sizes and units; a voxel size of the same length in another unit (0.05um,...)
is still skipped. Real data: two 128² ISBI 2012 sections, em-membranes2d on the CPU."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main

OPTIONS = ["--model", "em-membranes2d", "--device", "cpu", "--no-tta", "-q"]


@pytest.fixture(scope="module")
def made_in_um(data_dir, tmp_path_factory):
    """ISBI sections 10-11 (128², a plain TIFF: no pixel size) segmented with
    ``--voxel-size 50,4,4``: labels and recipe in µm."""
    images = data_dir / "em_membranes_isbi2012" / "images"
    crop = np.stack([tifffile.imread(images / f"{i:02d}.tif")[:128, :128] for i in (10, 11)])
    folder = tmp_path_factory.mktemp("skip_unit")
    tifffile.imwrite(folder / "plain.tif", crop, photometric="minisblack")
    out = folder / "labels.tif"
    args = ["segment", str(folder / "plain.tif"), "-o", str(out), *OPTIONS]
    assert main([*args, "--voxel-size", "50,4,4"]) == 0
    recipe = json.loads((folder / "labels.recipe.json").read_text())
    assert recipe["unit"] == "µm" and recipe["voxel_size"] == [50.0, 4.0, 4.0]
    return folder, args, out


def test_another_unit_is_refused_naming_it(made_in_um, capsys):
    folder, args, out = made_in_um
    stamp = out.stat().st_mtime_ns
    capsys.readouterr()
    assert main([*args, "--skip-existing", "--voxel-size", "50nm,4nm,4nm"]) != 0  # (before: 0)
    said = capsys.readouterr().err
    assert "voxel size [50.0, 4.0, 4.0] µm (this run: [50.0, 4.0, 4.0] nm)" in said, said
    assert "--overwrite" in said
    assert out.stat().st_mtime_ns == stamp  # (refused before any work)
    # another size in the same unit too: 0.05,0.004,0.004 µm is not 50,4,4 µm
    assert main([*args, "--skip-existing", "--voxel-size", "0.05um,0.004um,0.004um"]) != 0
    assert "(this run: [0.05, 0.004, 0.004] µm)" in capsys.readouterr().err


def test_the_same_length_in_another_unit_is_skipped(made_in_um, capsys):
    folder, args, out = made_in_um
    stamp = out.stat().st_mtime_ns
    capsys.readouterr()
    assert main([*args, "--skip-existing", "--voxel-size", "50um,4um,4um"]) == 0
    assert main([*args, "--skip-existing", "--voxel-size", "50000nm,4000nm,4000nm"]) == 0
    assert main([*args, "--skip-existing", "--voxel-size", "50,4,4"]) == 0
    assert out.stat().st_mtime_ns == stamp
    assert tifffile.TiffFile(out).imagej_metadata["unit"] == "micron"

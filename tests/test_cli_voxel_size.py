"""``tessella segment --voxel-size Z,Y,X`` (t8 finding 7): an EM stack whose TIFF has no Z
spacing is given its voxel size on the command line, used for the 3D post-processing exactly
as the TIFF's ImageJ spacing would be, recorded in the recipe (``--recipe`` replays it) and
written as the output's pixel size; a voxel size a recipe gives (its ``spacing``, the file
having none) is written as the output's pixel size too. Bad values are refused in one line
before any work."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image

OPTIONS = ["--model", "em-membranes2d", "--device", "cpu", "--no-tta", "-q"]


@pytest.fixture(scope="module")
def stacks(data_dir, tmp_path_factory):
    """A 3x64x64 ISBI crop twice: a plain TIFF (no pixel size) and an ImageJ one with the
    4 x 4 x 50 nm voxel size."""
    images = data_dir / "em_membranes_isbi2012" / "images"
    crop = np.stack([tifffile.imread(images / f"{i:02d}.tif")[:64, :64] for i in range(15, 18)])
    folder = tmp_path_factory.mktemp("voxel")
    tifffile.imwrite(folder / "plain.tif", crop, photometric="minisblack")
    tifffile.imwrite(
        folder / "ij.tif",
        crop,
        imagej=True,
        resolution=(0.25, 0.25),
        metadata={"axes": "ZYX", "spacing": 50, "unit": "nm"},
    )
    return folder


@pytest.fixture(scope="module")
def by_imagej(stacks):
    out = stacks / "ij_labels.tif"
    assert main(["segment", str(stacks / "ij.tif"), "-o", str(out), *OPTIONS]) == 0
    return tifffile.imread(out)


def test_voxel_size_segments_as_the_imagej_spacing_and_is_written_and_replayed(
    stacks, by_imagej, tmp_path, capsys
):
    out = tmp_path / "labels.tif"
    args = ["segment", str(stacks / "plain.tif"), "-o", str(out), *OPTIONS]
    assert main([*args, "--voxel-size", "50,4,4"]) == 0
    assert "Z spacing" not in capsys.readouterr().err  # (the plain stack's warning)
    labels = tifffile.imread(out)
    assert by_imagej.max() > 1 and np.array_equal(labels, by_imagej)
    written = read_image(out)  # the output's pixel size: the one given, in µm (none named)
    assert written.pixel_size == {"Z": 50.0, "Y": 4.0, "X": 4.0} and written.unit == "µm"
    recipe = json.loads((tmp_path / "labels.recipe.json").read_text())
    assert recipe["spacing"] == [50.0, 4.0, 4.0] and recipe["voxel_size"] == [50.0, 4.0, 4.0]
    # --recipe replays it: the same labels and pixel size
    again = tmp_path / "again.tif"
    replay = ["segment", str(stacks / "plain.tif"), "-o", str(again), "--device", "cpu", "-q"]
    assert main([*replay, "--recipe", str(tmp_path / "labels.recipe.json")]) == 0
    assert np.array_equal(tifffile.imread(again), by_imagej)
    assert read_image(again).pixel_size == {"Z": 50.0, "Y": 4.0, "X": 4.0}


def test_a_recipe_s_spacing_is_written_as_the_output_s_pixel_size(stacks, by_imagej, tmp_path):
    partial = tmp_path / "spacing.json"  # a recipe of a voxel size alone, with --model
    partial.write_text(json.dumps({"spacing": [50, 4, 4]}))
    out = tmp_path / "labels.tif"
    args = ["segment", str(stacks / "plain.tif"), "-o", str(out), *OPTIONS]
    assert main([*args, "--recipe", str(partial)]) == 0
    assert np.array_equal(tifffile.imread(out), by_imagej)
    assert read_image(out).pixel_size == {"Z": 50.0, "Y": 4.0, "X": 4.0}


def test_the_unknown_z_spacing_hint_names_voxel_size():
    from tessella.cli._segment import Z_SPACING_FIXES

    assert "--voxel-size Z,Y,X" in Z_SPACING_FIXES


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (["--voxel-size", "0,4,4"], "--voxel-size must be 2 or 3 positive numbers"),
        (["--voxel-size=-50,4,4"], "--voxel-size must be 2 or 3 positive numbers"),
        (["--voxel-size", "50,4"], "--voxel-size gives 2 sizes but --axes ZYX"),
        (["--voxel-size", "a,b,c"], "got 'a,b,c'"),
        (["--voxel-size", "1,2,3,4"], "--voxel-size must be 2 or 3 positive numbers"),
        (["--voxel-size", "nan,4,4"], "--voxel-size must be 2 or 3 positive numbers"),
    ],
)
def test_bad_values_are_refused_in_one_line_before_any_work(
    stacks, tmp_path, capsys, monkeypatch, given, said
):
    import tessella.engine.registry as registry

    def no_model(*_args, **_kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(registry, "load_model", no_model)
    out = tmp_path / "labels.tif"
    args = ["segment", str(stacks / "plain.tif"), "-o", str(out), *OPTIONS, "--axes", "ZYX"]
    assert main([*args, *given]) == 1
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_another_number_of_sizes_than_the_image_s_axes_is_refused(stacks, tmp_path, capsys):
    out = tmp_path / "labels.tif"
    args = ["segment", str(stacks / "plain.tif"), "-o", str(out), *OPTIONS]
    assert main([*args, "--voxel-size", "4,4"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--voxel-size gives 2 sizes but the image has axes ZYX: give 3, Z,Y,X" in err
    assert not out.exists()

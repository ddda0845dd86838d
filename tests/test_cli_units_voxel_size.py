"""``tessella segment --voxel-size`` with units (user test s33/t11 #2b, #3): an EM analyst's
voxel size in nm (``50nm,4nm,4nm``) is taken, segments as the same voxel size in µm does, and
the labels (TIFF, zarr, OME-Zarr) and the recipe are written in nm, which ``--recipe``
replays; sizes in several units are converted to the finest; plain numbers stay in the
input's unit, µm where it names none. Before, ``50nm,4nm,4nm`` was refused and nm could not
be said at all. A voxel size that looks given in X,Y,Z order (``4,4,50``) is warned of.
Real data: two 128² ISBI 2012 sections, em-membranes2d on the CPU."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.engine.io import read_image

OPTIONS = ["--model", "em-membranes2d", "--device", "cpu", "--no-tta", "-q"]
NM = {"Z": 50.0, "Y": 4.0, "X": 4.0}


@pytest.fixture(scope="module")
def stacks(data_dir, tmp_path_factory):
    """ISBI sections 10-11 cropped to 128²: a plain TIFF (no pixel size) and an ImageJ one
    in nm (50 nm sections of 4 nm pixels)."""
    images = data_dir / "em_membranes_isbi2012" / "images"
    crop = np.stack([tifffile.imread(images / f"{i:02d}.tif")[:128, :128] for i in (10, 11)])
    folder = tmp_path_factory.mktemp("units")
    tifffile.imwrite(folder / "plain.tif", crop, photometric="minisblack")
    tifffile.imwrite(
        folder / "ij_nm.tif",
        crop,
        imagej=True,
        resolution=(0.25, 0.25),
        metadata={"axes": "ZYX", "spacing": 50, "unit": "nm"},
    )
    return folder


@pytest.fixture(scope="module")
def by_imagej(stacks):
    """The labels of the ImageJ stack, segmented with its own voxel size."""
    out = stacks / "ij_labels.tif"
    assert main(["segment", str(stacks / "ij_nm.tif"), "-o", str(out), *OPTIONS]) == 0
    labels = tifffile.imread(out)
    assert labels.max() > 5
    return labels


def _segment(stacks, out, *more) -> int:
    return main(["segment", str(stacks / "plain.tif"), "-o", str(out), *OPTIONS, *more])


def test_a_voxel_size_in_nm_is_written_in_nm_and_replayed(stacks, by_imagej, tmp_path, capsys):
    out = tmp_path / "labels.tif"
    assert _segment(stacks, out, "--voxel-size", "50nm,4nm,4nm") == 0  # (before: refused)
    assert "warning" not in capsys.readouterr().err
    np.testing.assert_array_equal(tifffile.imread(out), by_imagej)
    written = read_image(out)
    assert written.unit == "nm" and written.pixel_size == pytest.approx(NM)
    with tifffile.TiffFile(out) as tif:  # (what Fiji reads)
        assert tif.imagej_metadata["unit"] == "nm" and tif.imagej_metadata["spacing"] == 50
    recipe = json.loads((tmp_path / "labels.recipe.json").read_text())
    assert recipe["unit"] == "nm" and recipe["voxel_size"] == [50.0, 4.0, 4.0]
    # --recipe replays it: the same labels, in nm
    again = tmp_path / "again.tif"
    replay = ["segment", str(stacks / "plain.tif"), "-o", str(again), "--device", "cpu", "-q"]
    assert main([*replay, "--recipe", str(tmp_path / "labels.recipe.json")]) == 0
    np.testing.assert_array_equal(tifffile.imread(again), by_imagej)
    assert read_image(again).unit == "nm" and read_image(again).pixel_size == pytest.approx(NM)


def test_sizes_in_several_units_are_converted_to_the_finest_in_ome_zarr_and_zarr(
    stacks, by_imagej, tmp_path
):
    """``0.05um,4nm,4nm`` (a section thickness in µm, pixels in nm) is 50,4,4 nm: the OME-Zarr
    axes say nanometer with scale [50, 4, 4], the zarr's own attributes nm."""
    out = tmp_path / "labels.ome.zarr"
    assert _segment(stacks, out, "--voxel-size", "0.05um, 4nm, 4 nm") == 0
    attrs = dict(zarr.open_group(str(out), mode="r").attrs)
    [multiscale] = attrs["multiscales"]
    assert [a.get("unit") for a in multiscale["axes"]] == ["nanometer"] * 3
    scale = multiscale["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert scale == pytest.approx([50, 4, 4])
    read = read_image(out)  # (the reader gives OME-Zarr's spelling)
    assert read.unit == "nanometer" and read.pixel_size == pytest.approx(NM)
    np.testing.assert_array_equal(np.asarray(read.data), by_imagej)
    assert attrs["tessella"]["unit"] == "nm"  # (its recipe, in its attributes)

    # a zarr in (no pixel size of its own), a zarr out: its attributes in µm
    source = tmp_path / "plain.zarr"
    array = zarr.open_array(str(source), mode="w", shape=by_imagej.shape, dtype="uint8")
    array[:] = tifffile.imread(stacks / "plain.tif")
    plain = tmp_path / "labels.zarr"
    args = ["segment", str(source), "-o", str(plain), *OPTIONS]
    assert main([*args, "--voxel-size", "0.05µm,0.004µm,0.004µm"]) == 0
    assert zarr.open_array(str(plain), mode="r").attrs["unit"] == "µm"
    read = read_image(plain)
    assert read.unit == "µm" and read.pixel_size == pytest.approx(
        {"Z": 0.05, "Y": 0.004, "X": 0.004}
    )
    np.testing.assert_array_equal(np.asarray(read.data), by_imagej)


def test_plain_numbers_are_still_um(stacks, by_imagej, tmp_path):
    out = tmp_path / "labels.tif"
    assert _segment(stacks, out, "--voxel-size", "0.05,0.004,0.004") == 0
    read = read_image(out)
    assert read.unit == "µm" and read.pixel_size == pytest.approx(
        {"Z": 0.05, "Y": 0.004, "X": 0.004}
    )
    np.testing.assert_array_equal(tifffile.imread(out), by_imagej)


def test_a_voxel_size_in_x_y_z_order_is_warned_of_and_still_used(stacks, tmp_path, capsys):
    """t11 #3: ``4,4,50`` (Fiji's width, height, depth) ran without a word."""
    out = tmp_path / "labels.tif"
    assert _segment(stacks, out, "--voxel-size", "4nm,4nm,50nm") == 0
    err = capsys.readouterr().err
    [line] = [line for line in err.splitlines() if "warning" in line]
    assert "--voxel-size 4nm,4nm,50nm is read as Z 4, Y 4, X 50" in line
    assert "looks like X,Y,Z order" in line and "--voxel-size 50nm,4nm,4nm" in line
    assert read_image(out).pixel_size == pytest.approx({"Z": 4, "Y": 4, "X": 50})  # as given


@pytest.fixture
def no_model(monkeypatch):
    """Loading a model fails the test: what is checked here is checked before any work."""
    import tessella.engine.registry as registry

    def refused(*_args, **_kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(registry, "load_model", refused)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("50,4nm,4nm", "--voxel-size: give a unit on every size or on none"),
        ("50s,4s,4s", "--voxel-size: 's' is not a unit of length; give nm, µm (um) or mm"),
        ("50x4x4", "--voxel-size must be 2 or 3 positive numbers"),
        ("0nm,4nm,4nm", "--voxel-size must be 2 or 3 positive numbers"),
        ("50nm,4nm", "--voxel-size gives 2 sizes but --axes ZYX"),
    ],
)
def test_bad_units_are_refused_in_one_line_before_any_work(
    stacks, tmp_path, capsys, no_model, given, said
):
    out = tmp_path / "labels.tif"
    assert _segment(stacks, out, "--axes", "ZYX", "--voxel-size", given) == 1
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1, err
    assert not out.exists()


@pytest.mark.parametrize("given", ["50,4,4", "4,4,4", "50,4,6", "1,0.5,0.1", "0.2,0.1,0.15"])
def test_no_order_warning_where_z_is_not_finer_or_y_and_x_are_near(
    stacks, tmp_path, capsys, no_model, given
):
    with pytest.raises(AssertionError, match="a model was loaded"):
        _segment(stacks, tmp_path / "labels.tif", "--voxel-size", given)
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("given", "suggested"), [("4,4,50", "50,4,4"), ("0.004,0.004,0.05", "0.05,0.004,0.004")]
)
def test_the_order_warning_names_the_values_and_the_z_y_x_order(
    stacks, tmp_path, capsys, no_model, given, suggested
):
    with pytest.raises(AssertionError, match="a model was loaded"):
        _segment(stacks, tmp_path / "labels.tif", "--voxel-size", given)
    err = capsys.readouterr().err
    assert f"warning: --voxel-size {given} is read as Z" in err
    assert "its order is Z,Y,X" in err and f"give --voxel-size {suggested}" in err


def test_blockwise_writes_the_labels_zarr_and_its_recipe_in_the_unit_given(stacks, tmp_path):
    source = tmp_path / "plain.zarr"
    crop = tifffile.imread(stacks / "plain.tif")
    zarr.open_array(str(source), mode="w", shape=crop.shape, dtype="uint8")[:] = crop
    out = tmp_path / "labels.zarr"
    args = ["segment", str(source), "-o", str(out), *OPTIONS, "--blockwise", "--workers", "0"]
    assert main([*args, "--voxel-size", "50nm,4nm,4nm"]) == 0
    read = read_image(out)
    assert read.unit == "nm" and read.pixel_size == pytest.approx(NM)
    recipe = json.loads((tmp_path / "labels.recipe.json").read_text())
    assert recipe["unit"] == "nm" and recipe["voxel_size"] == [50.0, 4.0, 4.0]


def test_a_recipe_spacing_without_a_unit_is_warned_of_and_one_with_a_unit_is_written_in_it(
    stacks, by_imagej, tmp_path, capsys
):
    """A recipe's ``spacing`` used for an image without a pixel size: with its ``unit`` the
    labels are written in it; without one (Export's recipes before t11's report), in pixels,
    and a warning says how to give the unit."""
    older = tmp_path / "spacing_only.json"
    older.write_text(json.dumps({"spacing": [50, 4, 4]}))
    out = tmp_path / "older.tif"
    assert _segment(stacks, out, "--recipe", str(older)) == 0
    err = capsys.readouterr().err
    assert "the voxel size 50,4,4 of" in err and 'names no unit (its recipe has no "unit")' in err
    # how to give the unit, without pairing the sizes with a unit it cannot know (s34 t16 #2:
    # "e.g. 0.333333nm" was advised for a spacing in µm)
    assert "the unit these sizes were measured in" in err and "50nm" not in err
    assert read_image(out).pixel_size == pytest.approx(NM)

    newer = tmp_path / "spacing_in_nm.json"
    newer.write_text(json.dumps({"spacing": [50, 4, 4], "unit": "nm"}))
    out = tmp_path / "newer.tif"
    assert _segment(stacks, out, "--recipe", str(newer)) == 0
    assert "warning" not in capsys.readouterr().err
    np.testing.assert_array_equal(tifffile.imread(out), by_imagej)
    assert read_image(out).unit == "nm" and read_image(out).pixel_size == pytest.approx(NM)

"""``tessella segment --voxel-size 50nm,4nm,4nm`` of an OME-Zarr whose axes are in micrometer
(r10 #1): the labels' axes say nanometer with scale [50, 4, 4], as the recipe beside them
says nm. Before, the scale was replaced but each axis kept "micrometer": 50 µm sections of
4 µm pixels, 1000x too large, in the image's labels group, a separate .ome.zarr and a
blockwise run alike; an OME-Zarr with no axis units wrote no unit (pixel), losing the nm.
Real data: two 128² ISBI 2012 sections, em-membranes2d on the CPU."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.engine.blockwise._store import given_pixel_size
from tessella.engine.io import read_image

OPTIONS = ["--model", "em-membranes2d", "--device", "cpu", "--no-tta", "-q"]
NM = {"Z": 50.0, "Y": 4.0, "X": 4.0}


@dataclasses.dataclass
class _Data:  # (what given_pixel_size needs of read_image's ImageData)
    axes: str
    pixel_size: dict
    unit: str
    ome: dict | None


def _ome_zarr(path, crop, unit: str | None, scale):
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    encoding = {"name": "v2", "separator": "/"}
    group.create_array("0", data=crop, chunks=(1, 128, 128), chunk_key_encoding=encoding)
    axes = [{"name": n, "type": "space"} | ({"unit": unit} if unit else {}) for n in "zyx"]
    transforms = [{"type": "scale", "scale": scale}]
    group.attrs["multiscales"] = [{"version": "0.4", "name": "em", "axes": axes, "datasets": [
        {"path": "0", "coordinateTransformations": transforms}]}]  # fmt: skip
    return path


@pytest.fixture(scope="module")
def sections(data_dir):
    images = data_dir / "em_membranes_isbi2012" / "images"
    return np.stack([tifffile.imread(images / f"{i:02d}.tif")[:128, :128] for i in (10, 11)])


@pytest.fixture(scope="module")
def in_um(sections, tmp_path_factory):
    """The sections as an OME-Zarr in micrometer: 1 µm sections of 4 nm (0.004 µm) pixels
    (a section thickness the file got wrong, which --voxel-size corrects)."""
    folder = tmp_path_factory.mktemp("omez")
    return _ome_zarr(folder / "em.ome.zarr", sections, "micrometer", [1.0, 0.004, 0.004])


@pytest.fixture(scope="module")
def reference(in_um, sections):
    """The labels of the same sections given in nm as a plain TIFF (the TIFF path was right)."""
    plain = in_um.parent / "plain.tif"
    tifffile.imwrite(plain, sections, photometric="minisblack")
    out = in_um.parent / "reference.tif"
    assert (
        main(["segment", str(plain), "-o", str(out), *OPTIONS, "--voxel-size", "50nm,4nm,4nm"]) == 0
    )
    assert read_image(out).unit == "nm"
    labels = tifffile.imread(out)
    assert labels.max() > 5
    return labels


def _axes_and_scale(path):
    attrs = dict(zarr.open_group(str(path), mode="r").attrs)
    [multiscale] = attrs.get("multiscales") or attrs["ome"]["multiscales"]
    scale = multiscale["datasets"][0]["coordinateTransformations"][0]["scale"]
    return [axis.get("unit") for axis in multiscale["axes"]], scale


def _assert_in_nm(path, reference):
    units, scale = _axes_and_scale(path)
    assert units == ["nanometer"] * 3  # (before: ["micrometer"] * 3)
    assert scale == pytest.approx([50, 4, 4])
    read = read_image(path)
    assert read.unit == "nanometer" and read.pixel_size == pytest.approx(NM)
    np.testing.assert_array_equal(np.asarray(read.data), reference)


def test_labels_in_the_image_and_beside_it_are_written_in_nm(in_um, reference):
    inside = in_um / "labels" / "cells"
    assert (
        main(["segment", str(in_um), "-o", str(inside), *OPTIONS, "--voxel-size", "50nm,4nm,4nm"])
        == 0
    )
    _assert_in_nm(inside, reference)
    # the image itself is untouched: still in micrometer
    assert _axes_and_scale(in_um) == (["micrometer"] * 3, [1.0, 0.004, 0.004])

    beside = in_um.parent / "sep.ome.zarr"
    assert (
        main(["segment", str(in_um), "-o", str(beside), *OPTIONS, "--voxel-size", "50nm,4nm,4nm"])
        == 0
    )
    _assert_in_nm(beside, reference)
    recipe = json.loads((in_um.parent / "sep.ome.recipe.json").read_text())
    assert recipe["unit"] == "nm" and recipe["voxel_size"] == [50.0, 4.0, 4.0]  # (agrees)


def test_blockwise_labels_in_the_image_are_written_in_nm(in_um, reference):
    out = in_um / "labels" / "bw"
    args = ["segment", str(in_um), "-o", str(out), *OPTIONS, "--voxel-size", "50nm,4nm,4nm"]
    assert main([*args, "--blockwise", "--workers", "0"]) == 0
    units, scale = _axes_and_scale(out)
    assert units == ["nanometer"] * 3 and scale == pytest.approx([50, 4, 4])
    read = read_image(out)
    assert read.unit == "nanometer" and read.pixel_size == pytest.approx(NM)


def test_an_ome_zarr_without_units_is_written_in_the_unit_given(sections, tmp_path, reference):
    source = _ome_zarr(tmp_path / "nounit.ome.zarr", sections, None, [1.0, 1.0, 1.0])
    out = tmp_path / "labels.ome.zarr"
    assert (
        main(["segment", str(source), "-o", str(out), *OPTIONS, "--voxel-size", "50nm,4nm,4nm"])
        == 0
    )
    _assert_in_nm(out, reference)  # (before: no unit: read as pixel)


def test_given_pixel_size_sets_the_axes_unit_and_keeps_the_rest():
    """The rule itself: only the spatial axes given change unit; a time axis keeps its own;
    no unit given keeps the file's; "pixel" leaves the axes without one (NGFF's way)."""
    ome = {
        "version": "0.4",
        "axes": [
            {"name": "t", "type": "time", "unit": "second"},
            {"name": "c", "type": "channel"},
            {"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"},
        ],
        "scale": [30.0, 1.0, 0.1, 0.1],
        "kept": [0, 2, 3],  # (the channel dropped)
    }
    data = _Data("TYX", {"Y": 0.1, "X": 0.1}, "micrometer", ome)
    given = given_pixel_size(data, {"Y": 65.0, "X": 65.0}, "nm")
    assert [a.get("unit") for a in given.ome["axes"]] == ["second", None, "nanometer", "nanometer"]
    assert given.ome["scale"] == [30.0, 1.0, 65.0, 65.0] and given.unit == "nm"
    assert ome["axes"][2]["unit"] == "micrometer"  # (the input's layout is not changed)
    kept = given_pixel_size(data, {"Y": 0.2, "X": 0.2})
    assert [a.get("unit") for a in kept.ome["axes"]][2:] == ["micrometer"] * 2
    assert [a.get("unit") for a in given_pixel_size(data, {"Y": 1, "X": 1}, "µm").ome["axes"]][
        2:
    ] == ["micrometer"] * 2
    pixels = given_pixel_size(data, {"Y": 1.0, "X": 1.0}, "pixel")
    assert [a.get("unit") for a in pixels.ome["axes"]] == ["second", None, None, None]

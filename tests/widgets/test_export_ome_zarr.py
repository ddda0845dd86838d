"""Export's OME-Zarr labels (user test s28/t4 P9): labels of a TIFF-sourced EM stack written as
a standalone OME-Zarr labels image (NGFF 0.4: one scale level, axes with types and units, the
voxel size as the scale), which other OME-Zarr tools read the voxel size of and Tessella's
reader reopens as labels with their recipe; a plain ``.zarr`` stays a Tessella zarr array."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from napari.layers import Labels
from scipy import ndimage as ndi

from tessella._widgets.export import ExportWidget
from tessella.engine.digest import labels_digest
from tessella.engine.io import read_image
from tests.conftest import SEGMENT_RECIPE

#: ISBI 2012's voxel: 4 x 4 nm in a section, 50 nm sections (in µm, as Fiji writes them)
VOXEL = {"Z": 0.05, "Y": 0.004, "X": 0.004}
#: the units OME-NGFF 0.4 allows on a space axis (UDUNITS-2 names), those Tessella writes
SPACE_UNITS = {"angstrom", "nanometer", "micrometer", "millimeter", "centimeter", "meter"}


@pytest.fixture
def isbi_stack(data_dir, tmp_path):
    """Three 128² ISBI 2012 sections as an ImageJ ZYX TIFF at 0.004 x 0.004 x 0.05 µm, and
    labels of them: the regions between the membranes (the boundary maps) of each section."""
    images = data_dir / "em_membranes_isbi2012" / "images"
    membranes = data_dir / "em_membranes_isbi2012" / "boundaries"  # 1 = membrane
    stack = np.stack([tifffile.imread(images / f"0{i}.tif")[:128, :128] for i in range(3)])
    tifffile.imwrite(
        tmp_path / "isbi.tif",
        stack,
        imagej=True,
        resolution=(1 / VOXEL["X"], 1 / VOXEL["Y"]),
        metadata={"axes": "ZYX", "spacing": VOXEL["Z"], "unit": "micron"},
    )
    labels = np.zeros(stack.shape, np.uint16)
    for z in range(3):  # (3D-connected, the sections' regions merge into a few)
        walls = tifffile.imread(membranes / f"0{z}.tif")[:128, :128]
        regions, count = ndi.label(walls == 0)
        labels[z] = np.where(regions > 0, regions + labels.max(), 0)
    assert len(np.unique(labels)) > 40  # (real regions, not one blob)
    return tmp_path / "isbi.tif", labels


def _exporter(make_napari_viewer, isbi_stack):
    """The viewer with the ISBI stack opened by Tessella's reader and its labels as Segment
    leaves them (the image's scale, its recipe, its source), and the Export panel."""
    path, labels = isbi_stack
    viewer = make_napari_viewer()
    [image] = viewer.open(str(path), plugin="tessella")
    recipe = {**SEGMENT_RECIPE, "axes": "ZYX"}
    metadata = {
        "tessella_source": image.name,
        "tessella_source_id": image.unique_id,
        "tessella_recipe": recipe,
    }
    layer = viewer.add_labels(labels, name="isbi labels", scale=image.scale, metadata=metadata)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(layer.unique_id))
    return viewer, widget, layer


def _ngff_04_labels(store, ndim: int) -> dict:
    """The OME-Zarr metadata of the labels image ``store``, checked against NGFF 0.4's
    structure by hand (ome-zarr-py is not installed): a zarr v2 group, multiscales with
    version, axes (names, types, units), datasets with their scale, ``image-label``; its
    array zarr v2 with "/" chunk keys."""
    assert json.loads((store / ".zgroup").read_text()) == {"zarr_format": 2}
    attrs = json.loads((store / ".zattrs").read_text())
    [multiscale] = attrs["multiscales"]
    assert multiscale["version"] == "0.4"
    axes = multiscale["axes"]
    assert len(axes) == ndim and all(isinstance(a["name"], str) for a in axes)
    assert len({a["name"] for a in axes}) == ndim  # unique names
    kinds = [a["type"] for a in axes]
    assert 2 <= kinds.count("space") <= 3 and set(kinds) <= {"time", "channel", "space"}
    assert kinds == sorted(kinds, key=["time", "channel", "space"].index)  # NGFF's order
    for axis in axes:
        if axis["type"] == "space" and "unit" in axis:
            assert axis["unit"] in SPACE_UNITS
    datasets = multiscale["datasets"]
    assert len(datasets) >= 1 and datasets[0]["path"] == "0"
    [transform] = datasets[0]["coordinateTransformations"]
    assert transform["type"] == "scale" and len(transform["scale"]) == ndim
    assert all(isinstance(v, float) and v > 0 for v in transform["scale"])
    label = attrs["image-label"]
    assert label["version"] == "0.4"
    array = json.loads((store / "0" / ".zarray").read_text())
    assert array["zarr_format"] == 2 and array["dimension_separator"] == "/"
    assert len(array["shape"]) == ndim and np.dtype(array["dtype"]).kind == "u"
    return attrs


def test_export_writes_ome_zarr_labels_of_a_tiff_stack_with_their_voxel_size(
    make_napari_viewer, isbi_stack, qtbot, tmp_path
):
    """The tester's case: labels of an ISBI stack read from a TIFF, exported as OME-Zarr.
    The store holds NGFF 0.4 metadata with the voxel size (z 0.05, y x 0.004 micrometer);
    Tessella's reader reopens it as labels at that scale, the same labels, with their
    recipe; the TIFF beside it is as before."""
    viewer, widget, layer = _exporter(make_napari_viewer, isbi_stack)
    labels = isbi_stack[1]
    widget.zarr_checkbox.setChecked(False)
    widget.ome_zarr_checkbox.setChecked(True)
    widget.csv_checkbox.setChecked(False)
    widget.recipe_checkbox.setChecked(True)
    widget.path_edit.setText(str(tmp_path / "out" / "isbi_lab"))
    (tmp_path / "out").mkdir()
    # the image was read from a file: its identity is hashed for the recipe first
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export()
    store = tmp_path / "out" / "isbi_lab.ome.zarr"
    assert blocker.args[0] == [
        tmp_path / "out" / "isbi_lab.tif",
        store,
        tmp_path / "out" / "isbi_lab.recipe.json",
    ], widget.status_label.text()
    assert "isbi_lab.ome.zarr" in widget.status_label.text()

    attrs = _ngff_04_labels(store, 3)
    [multiscale] = attrs["multiscales"]
    assert [(a["name"], a["type"], a.get("unit")) for a in multiscale["axes"]] == [
        ("z", "space", "micrometer"),
        ("y", "space", "micrometer"),
        ("x", "space", "micrometer"),
    ]
    scale = multiscale["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert scale == pytest.approx([VOXEL["Z"], VOXEL["Y"], VOXEL["X"]])
    assert multiscale["name"] == "isbi labels"
    # the recipe goes in its attributes too (the reader finds no isbi_lab.recipe.json for
    # isbi_lab.ome.zarr), the same as the file's
    recipe = json.loads((tmp_path / "out" / "isbi_lab.recipe.json").read_text())
    assert attrs["tessella"] == recipe
    assert recipe["exported"]["ome_zarr"] == "isbi_lab.ome.zarr"
    assert recipe["labels_digest"] == labels_digest(labels)

    read = read_image(store)
    assert read.labels and read.axes == "ZYX"
    assert read.pixel_size == pytest.approx(VOXEL)
    np.testing.assert_array_equal(np.asarray(read.data), labels)

    [opened] = viewer.open(str(store), plugin="tessella")
    assert isinstance(opened, Labels)
    assert tuple(opened.scale) == pytest.approx((VOXEL["Z"], VOXEL["Y"], VOXEL["X"]))
    np.testing.assert_array_equal(np.asarray(opened.data), labels)
    assert opened.metadata["tessella_recipe"]["params"] == SEGMENT_RECIPE["params"]
    # the TIFF written beside it has the same voxel size
    tif = read_image(tmp_path / "out" / "isbi_lab.tif")
    assert tif.pixel_size == pytest.approx(VOXEL)


def test_typing_a_name_ending_in_ome_zarr_ticks_ome_zarr_and_keeps_plain_zarr_plain(
    make_napari_viewer, isbi_stack, qtbot, tmp_path
):
    """A *Save as* typed as ``x.ome.zarr`` asks for OME-Zarr: its option is ticked and every
    output is named ``x.*`` (before, the plain zarr array was written as ``x.ome.zarr``,
    without OME metadata); a plain ``.zarr`` ticked too stays Tessella's zarr array."""
    viewer, widget, layer = _exporter(make_napari_viewer, isbi_stack)
    labels = isbi_stack[1]
    for checkbox in (widget.tiff_checkbox, widget.csv_checkbox, widget.recipe_checkbox):
        checkbox.setChecked(False)
    widget.zarr_checkbox.setChecked(True)  # (OME-Zarr is not ticked)
    qtbot.keyClicks(widget.path_edit, str(tmp_path / "em.ome.zarr"))
    written = widget.export()
    # (before: [em.ome.zarr], the plain zarr array under that name)
    assert written == [tmp_path / "em.zarr", tmp_path / "em.ome.zarr"]
    assert widget.ome_zarr_checkbox.isChecked()

    _ngff_04_labels(tmp_path / "em.ome.zarr", 3)
    plain = json.loads((tmp_path / "em.zarr" / "zarr.json").read_text())
    assert plain["node_type"] == "array" and "multiscales" not in plain["attributes"]
    assert plain["attributes"]["tessella_axes"] == "ZYX"
    for store in written:
        read = read_image(store)
        assert read.labels and read.pixel_size == pytest.approx(VOXEL)
        np.testing.assert_array_equal(np.asarray(read.data), labels)


def test_ome_zarr_labels_of_a_movie_and_of_an_image_without_pixel_size(tmp_path, nuclei_sample):
    """The writer alone: TYX labels get a time axis first (no unit, scale 1); labels without
    a pixel size get space axes without a unit and a scale of 1; both reopen as labels."""
    from tessella.engine.io._write import write_ome_zarr_labels

    labels = nuclei_sample[1][:96, :128].astype(np.uint16)
    movie = np.stack([labels, np.roll(labels, 3, axis=1)])
    store = write_ome_zarr_labels(
        tmp_path / "movie.ome.zarr", movie, "TYX", {"Y": 0.5, "X": 0.5}, "µm"
    )
    axes = _ngff_04_labels(store, 3)["multiscales"][0]["axes"]
    assert axes == [
        {"name": "t", "type": "time"},
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"},
    ]
    read = read_image(store)
    assert read.labels and read.axes == "TYX" and read.pixel_size == {"Y": 0.5, "X": 0.5}
    np.testing.assert_array_equal(np.asarray(read.data), movie)

    store = write_ome_zarr_labels(tmp_path / "plain.ome.zarr", labels, "YX", None, "pixel")
    attrs = _ngff_04_labels(store, 2)
    assert [a.get("unit") for a in attrs["multiscales"][0]["axes"]] == [None, None]
    assert attrs["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"] == [
        1.0,
        1.0,
    ]
    read = read_image(store)
    assert read.labels and read.axes == "YX"
    np.testing.assert_array_equal(np.asarray(read.data), labels)

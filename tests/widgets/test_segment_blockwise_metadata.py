"""Segment's *Blockwise into zarr* on an anisotropic EM volume keeps what the layer knows, as
``tessella segment --blockwise`` keeps what the file says: the voxel size reaches the
post-processing (the same labels as in memory) and the zarr written (pixel size, OME-Zarr
labels for OME-Zarr input, the file in the recipe); a volume's default block is the CLI's."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import zarr

from tessella.engine.io import read_image
from tests.widgets.test_segment_blockwise import same_partition

SPACING = (0.02, 0.005, 0.005)  # Lucchi++'s voxel size (µm): Z 4x coarser than Y and X


@pytest.fixture(scope="module")
def aniso_crop(data_dir):
    """A real Lucchi++ crop (8x128x256) where em-mito2d's opening with a ball of the voxel
    size finds 3 mitochondria and the isotropic ball 2 (6320 voxels differ)."""
    return tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "image.tif")[:8, 256:384, :256]


@pytest.fixture(scope="module")
def in_memory_labels(aniso_crop):
    """What Segment gives in memory on the crop with its voxel size (the layer's scale)."""
    from tessella.engine.pipeline import segment

    labels = segment(aniso_crop, "em-mito2d", "ZYX", tta=False, device="cpu", spacing=SPACING)
    assert labels.max() == 3
    return labels


def run_blockwise(viewer, widget, layer, out, run_to_end):
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText(layer.name))
    from tessella.engine.registry import find_model

    assert widget.add_model(find_model("em-mito2d"))
    widget.device_combo.setCurrentText("cpu")
    widget.tta_checkbox.setChecked(False)
    widget.blockwise_checkbox.setChecked(True)
    widget.blockwise_edit.setText(str(out))
    run_to_end(widget)
    assert "written to" in widget.status_label.text(), widget.status_label.text()
    return zarr.open(str(out), mode="r").attrs["tessella"]


def test_blockwise_on_an_ome_zarr_layer_uses_and_keeps_its_voxel_size(
    segment_widget, aniso_crop, in_memory_labels, tmp_path, run_to_end
):
    group = zarr.open_group(str(tmp_path / "aniso.ome.zarr"), mode="w", zarr_format=2)
    group.create_array("0", shape=aniso_crop.shape, chunks=(8, 64, 64), dtype="uint8")[:] = (
        aniso_crop
    )
    axes = [{"name": a, "type": "space", "unit": "micrometer"} for a in "zyx"]
    scale = [{"type": "scale", "scale": list(SPACING)}]
    dataset = {"path": "0", "coordinateTransformations": scale}
    group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": [dataset]}]
    viewer, widget = segment_widget
    [layer] = viewer.open(str(tmp_path / "aniso.ome.zarr"), plugin="tessella")
    np.testing.assert_allclose(layer.scale, SPACING)
    out = tmp_path / "aniso_labels.zarr"
    recipe = run_blockwise(viewer, widget, layer, out, run_to_end)

    labels = read_image(out)
    # the voxel size reached the post-processing: in memory's 3 objects, not the isotropic 2
    assert same_partition(labels.data, in_memory_labels)
    np.testing.assert_allclose(recipe["spacing"], SPACING)
    # ... and the zarr keeps it, as OME-Zarr labels of the file named in the recipe
    assert labels.ome is not None and labels.axes == "ZYX"
    assert labels.pixel_size == dict(zip("ZYX", SPACING)) and labels.unit == "micrometer"
    assert recipe["input"] == str(tmp_path / "aniso.ome.zarr")


def test_blockwise_on_an_imagej_tiff_layer_in_memory_keeps_its_voxel_size(
    segment_widget, aniso_crop, in_memory_labels, tmp_path, run_to_end
):
    path = tmp_path / "aniso.tif"
    resolution = (1 / SPACING[1], 1 / SPACING[2])
    metadata = {"spacing": SPACING[0], "unit": "um", "axes": "ZYX"}
    tifffile.imwrite(path, aniso_crop, imagej=True, resolution=resolution, metadata=metadata)
    viewer, widget = segment_widget
    [layer] = viewer.open(str(path), plugin="tessella")
    assert isinstance(layer.data, np.ndarray)
    out = tmp_path / "aniso_labels.zarr"
    recipe = run_blockwise(viewer, widget, layer, out, run_to_end)

    labels = read_image(out)
    assert same_partition(labels.data, in_memory_labels)
    assert labels.pixel_size == pytest.approx(dict(zip("ZYX", SPACING)))
    assert labels.unit in ("µm", "micrometer", "micron", "um")
    assert recipe["input"] == str(path) and recipe["spacing"] == pytest.approx(SPACING)


def test_block_size_defaults_to_the_clis_for_the_layers_axes_unless_set(
    segment_widget, nuclei_image
):
    from tessella.engine.blockwise import DEFAULT_BLOCK  # the CLI's (the engine's) default

    viewer, widget = segment_widget
    viewer.add_image(np.zeros((40, 64, 64), np.uint8), name="volume")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("volume"))
    assert widget.axes_combo.currentText() == "TYX"  # (nuclei2d reads the slices one by one)
    assert widget.block_spin.value() == DEFAULT_BLOCK[2] == 2048
    widget.axes_combo.setCurrentText("ZYX")
    # a volume's blocks are cut along Z too: the CLI's 256, not 2048 (one block of it all)
    assert widget.block_spin.value() == DEFAULT_BLOCK[3] == 256
    assert "Z" in widget.block_spin.toolTip()
    widget.axes_combo.setCurrentText("TYX")  # frames: 2D blocks
    assert widget.block_spin.value() == DEFAULT_BLOCK[2] == 2048
    viewer.add_image(nuclei_image, name="image")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("image"))
    assert widget.block_spin.value() == 2048
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("volume"))
    widget.axes_combo.setCurrentText("ZYX")
    assert widget.block_spin.value() == 256
    widget.block_spin.setValue(512)  # the user's choice stays, whatever the layer
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("image"))
    assert widget.block_spin.value() == 512


def test_blockwise_status_says_the_time_per_block_and_the_time_left(segment_widget, monkeypatch):
    import doctest
    from types import SimpleNamespace

    from tessella._widgets import _segment_blockwise
    from tessella.engine.blockwise import BlockProgress

    assert doctest.testmod(_segment_blockwise).failed == 0
    _viewer, widget = segment_widget
    now = [1000.0]
    monkeypatch.setattr(_segment_blockwise.time, "perf_counter", lambda: now[0])
    region = (slice(0, 512), slice(0, 512))
    widget._run, widget._stage_clock = SimpleNamespace(name="val"), None
    try:  # 10 blocks kept from a cancelled run: not in the rate, as the CLI's bar
        assert widget._blockwise_status(BlockProgress("segment", 10, 48)) == (
            "'val': segment, 10 of 48"
        )
        now[0] += 50  # the first block of this run: the set-up in it, not timed
        widget._blockwise_status(BlockProgress("segment", 11, 48, region))
        for done in (12, 13):  # then 3 blocks a minute
            now[0] += 20
            said = widget._blockwise_status(BlockProgress("segment", done, 48, region))
        assert said == "'val': segment, 13 of 48 (20 s a block, about 12 min left)"
        assert widget._blockwise_status(BlockProgress("stitch", 0, 48)) == "'val': stitch, 0 of 48"
    finally:
        widget._run = None


def test_axes_that_do_not_fit_the_layer_are_refused_and_the_panel_runs_again(
    segment_widget, tmp_path, qtbot
):
    """Axes typed for another layer ("YX" for a volume with a voxel size): the blockwise
    Run raised out of its Qt slot after the run was set, so every later Run said "a run
    is in progress" until the panel was reopened (review of 22a6048)."""
    viewer, widget = segment_widget
    viewer.add_image(np.zeros((4, 64, 64), np.uint8), name="vol", scale=(2.0, 1.0, 1.0))
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("vol"))
    widget.axes_combo.setCurrentText("YX")
    widget.blockwise_checkbox.setChecked(True)
    widget.blockwise_edit.setText(str(tmp_path / "out.zarr"))

    widget._on_run_clicked()

    assert widget._run is None and widget._preview is None
    assert widget.status_label.text().startswith("cannot segment 'vol' blockwise: ")
    assert "does not fit axes YX" in widget.status_label.text()
    assert [layer.name for layer in viewer.layers] == ["vol"]
    assert not (tmp_path / "out.zarr").exists()
    widget.axes_combo.setCurrentText("ZYX")  # the next Run runs (its engine answers)
    widget._on_run_clicked()
    assert widget._run is not None
    qtbot.waitUntil(lambda: widget._run is None, timeout=120_000)
    assert "a run is in progress" not in widget.status_label.text()
    assert widget.run_button.isEnabled()


def test_a_relative_output_is_shown_and_said_in_full(segment_widget, tmp_path, monkeypatch):
    """A relative output ("out.zarr") goes to napari's working folder (make run: the
    repository); the status line gave the relative name alone, so the user could not
    tell where the labels went."""
    viewer, widget = segment_widget
    monkeypatch.chdir(tmp_path)
    viewer.add_image(np.zeros((4, 64, 64), np.uint8), name="vol", scale=(2.0, 1.0, 1.0))
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("vol"))
    widget.axes_combo.setCurrentText("YX")  # (refused after the output is settled)
    widget.blockwise_checkbox.setChecked(True)
    widget.blockwise_edit.setText("out.zarr")

    widget._on_run_clicked()

    assert widget.blockwise_edit.text() == str(tmp_path / "out.zarr")

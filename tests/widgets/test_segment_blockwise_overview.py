"""A big 2D blockwise output in the GUI: while blocks finish, the preview is a downsampled
copy in memory (napari would read the whole provisional plane on the GUI thread at each
block: 53 s and +2 GB for a 20000² mosaic), updated from each finished block's region; the
result is a multiscale layer, the output zarr over a downsampled copy of the final labels,
and Export writes the full-resolution labels. The size above which this happens is lowered
so that the real 520x512 nuclei sample is "big"."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from tessella import _io
from tessella._widgets import _blockwise
from tessella._widgets._layers import full_resolution
from tessella.engine.blockwise import work_dir
from tessella.engine.io import read_image

STRIDE = 5  # 520x512 with at most 128 px a side: every 5th pixel, 104x103


@pytest.fixture
def big_nuclei(tmp_path, nuclei_sample, monkeypatch):
    """The real nuclei sample as a chunked zarr, above the (lowered) overview size."""
    monkeypatch.setattr(_blockwise, "OVERVIEW_PIXELS", 256 * 256, raising=False)
    monkeypatch.setattr(_blockwise, "OVERVIEW_SIDE", 128, raising=False)
    # the reader's computed levels halve down to 64 px a side, not 1024: 1/2, 1/4, 1/8
    monkeypatch.setattr(_io, "PYRAMID_SMALLEST", 64)
    image = nuclei_sample[0]
    array = zarr.create_array(
        str(tmp_path / "mosaic.zarr"), shape=image.shape, dtype=image.dtype, chunks=(256, 256)
    )
    array[...] = image
    return zarr.open_array(str(tmp_path / "mosaic.zarr"), mode="r")


def test_big_2d_blockwise_preview_is_downsampled_and_result_multiscale(
    segment_widget, big_nuclei, nuclei_sample, tmp_path, qtbot
):
    viewer, widget = segment_widget
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    viewer.add_image(big_nuclei, name="mosaic", scale=(0.5, 0.5), translate=(10.0, -4.0))
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("mosaic"))
    widget.blockwise_checkbox.setChecked(True)
    out = tmp_path / "mosaic labels.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(256)  # 3 x 2 blocks
    widget.tta_checkbox.setChecked(False)
    name = "mosaic labels (nuclei2d, blocks so far)"
    seen: list[tuple[slice, ...]] = []
    checked = []
    previews = set()

    def check(progress):  # after the panel's own slot: the preview shows the block
        if progress.stage != "segment" or progress.region is None:
            return
        seen.append(progress.region)
        preview = viewer.layers[name]
        previews.add(preview)
        copy = full_resolution(preview)  # (multiscale of one level since s33: finish gives
        # it the result's levels)
        # in memory, every 5th pixel, 5 times the image's pixel size, the same origin
        assert isinstance(copy, np.ndarray) and copy.shape == (104, 103)
        np.testing.assert_allclose(preview.scale, (2.5, 2.5))
        np.testing.assert_allclose(preview.translate, (10.0, -4.0))
        provisional = zarr.open_array(str(work_dir(out) / "provisional.zarr"), mode="r")
        shown = np.zeros(copy.shape, bool)
        for region in seen:  # each finished block's labels, where they are
            at, tile = _blockwise.strided(provisional, region, STRIDE)
            np.testing.assert_array_equal(copy[at], tile)
            shown[at] = True
        assert copy[shown].any() and not copy[~shown].any()  # the others: not yet
        # a preview pixel is drawn where the full-resolution pixel it samples is
        j, k = 40, 30
        np.testing.assert_allclose(
            preview.data_to_world((j, k)),
            viewer.layers["mosaic"].data_to_world((STRIDE * j, STRIDE * k)),
        )
        checked.append(len(seen))

    removed = []
    viewer.layers.events.removed.connect(lambda event: removed.append(event.value.name))
    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
        widget.worker.yielded.connect(check)
    assert checked == [1, 2, 3, 4, 5, 6], widget.status_label.text()

    layer = viewer.layers["mosaic labels (nuclei2d)"]
    assert name not in [lay.name for lay in viewer.layers]  # replaced, in its place
    # by the preview layer itself taking the result's levels: no layer removed and added
    # (napari's removal alone froze 1.9 s at 8192², most of it a full gc.collect)
    assert previews == {layer} and removed == []
    assert viewer.layers.selection.active is layer
    assert [lay.name for lay in viewer.layers] == ["mosaic", "mosaic labels (nuclei2d)"]
    assert layer.multiscale and len(layer.data) == 4
    full = zarr.open_array(str(out), mode="r")
    level0, half, quarter, coarsest = layer.data
    assert isinstance(level0, zarr.Array) and level0.shape == (520, 512)  # the zarr, lazily
    assert str(out) in str(level0.store)
    labels = np.asarray(full[...])
    assert labels.max() > 50  # the final, stitched labels (IDs consecutive over the image)
    # the middle levels: every 2nd and 4th pixel, read lazily, label IDs exact; then the copy
    assert not isinstance(half, np.ndarray) and not isinstance(quarter, np.ndarray)
    np.testing.assert_array_equal(np.asarray(half), labels[::2, ::2])
    np.testing.assert_array_equal(np.asarray(quarter), labels[::4, ::4])
    np.testing.assert_array_equal(coarsest, labels[::STRIDE, ::STRIDE])  # the final IDs
    # zoomed to a quarter, napari draws the quarter level, not level 0 (nor the coarse copy)
    viewer.window.show()  # (napari picks the level as it draws)
    viewer.scene.camera.center = layer.data_to_world((260, 256))
    viewer.scene.camera.zoom = 1 / (4 * 0.5 * 1.1)  # (screen pixels a world unit; 0.5 a pixel)
    qtbot.waitUntil(lambda: layer.data_level == 2, timeout=10_000)
    np.testing.assert_allclose(layer.scale, (0.5, 0.5))
    np.testing.assert_allclose(layer.translate, (10.0, -4.0))
    assert not layer.editable  # (napari does not paint multiscale labels)
    assert layer.metadata["tessella_recipe"]["model"]

    # Tune and Correct recognise it: a blockwise result on disk, said by name
    assert tune.layer_combo.count() == 0
    assert tune.status_label.text().startswith(
        "'mosaic labels (nuclei2d)' was segmented blockwise: its labels are read from"
    )
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findData(layer.unique_id))
    correct.relabel_button.click()
    assert "layer 'mosaic labels (nuclei2d)' is not in memory" in correct.status_label.text()
    np.testing.assert_array_equal(full[...], labels)  # (nothing written)

    # Evaluate scores the full-resolution labels
    from tessella.engine.metrics import matching

    truth = nuclei_sample[1]
    viewer.add_labels(truth, name="truth", scale=(0.5, 0.5), translate=(10.0, -4.0))
    _dock, evaluate = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    evaluate.pred_combo.setCurrentText("mosaic labels (nuclei2d)")
    evaluate.truth_combo.setCurrentText("truth")
    assert evaluate.prediction_layer is layer
    evaluate.evaluate_button.click()
    qtbot.waitUntil(lambda: evaluate.last_scores is not None, timeout=120_000)
    expected = matching(truth, labels, 0.5)
    assert evaluate.last_evaluation.tp == expected.tp > 100
    assert (evaluate.last_evaluation.fp, evaluate.last_evaluation.fn) == (expected.fp, expected.fn)

    # Export writes the full-resolution labels, not the downsampled level
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    export.labels_combo.setCurrentText("mosaic labels (nuclei2d)")
    assert export.labels_layer is layer
    (tmp_path / "export").mkdir()
    export.path_edit.setText(str(tmp_path / "export" / "result"))
    for checkbox in (export.tiff_checkbox, export.zarr_checkbox, export.csv_checkbox):
        checkbox.setChecked(True)
    export.export_button.click()
    tif = tmp_path / "export" / "result.tif"
    qtbot.waitUntil(tif.exists, timeout=60_000)
    qtbot.waitUntil(lambda: export.export_button.isEnabled(), timeout=60_000)
    np.testing.assert_array_equal(read_image(tif).data, labels)
    np.testing.assert_array_equal(read_image(tmp_path / "export" / "result.zarr").data, labels)
    csv = (tmp_path / "export" / "result.csv").read_text().splitlines()
    assert len(csv) - 1 == np.unique(labels[labels > 0]).size  # every object, one row each


def test_overview_only_for_big_2d_outputs():
    """Below the size (and for volumes) the preview and result are the zarr, as before."""
    assert _blockwise.overview_stride((520, 512)) == 1
    assert _blockwise.overview_stride((4096, 4096)) == 1  # the real size
    assert _blockwise.overview_stride((4097, 4096)) == 3
    assert _blockwise.overview_stride((20000, 20000)) == 10
    assert _blockwise.overview_stride((3, 20000, 20000)) == 1  # a volume: a slice at a time


def test_middle_levels_halve_down_to_the_overview(tmp_path):
    """At the real sizes: the reader's levels of every 2nd, 4th, ... pixel, those finer than
    the overview only (an empty 20000² zarr: made without reading it)."""
    big = zarr.create_array(
        str(tmp_path / "big.zarr"), shape=(20000, 20000), chunks=(2048, 2048), dtype="uint32"
    )
    stride = _blockwise.overview_stride(big.shape)  # 10: 2000 px a side
    shapes = [level.shape for level in _blockwise.middle_levels(big, stride)]
    assert shapes == [(10000, 10000), (5000, 5000), (2500, 2500)]
    wide = zarr.create_array(
        str(tmp_path / "wide.zarr"), shape=(8192, 4100), chunks=(1024, 1024), dtype="uint32"
    )  # stride 4: the 1/4 level would be the overview's size; only 1/2
    levels = _blockwise.middle_levels(wide, _blockwise.overview_stride(wide.shape))
    assert [level.shape for level in levels] == [(4096, 2050)]


def test_strided_tiles_of_blocks_make_the_whole_copy():
    """Blocks read apart, each strided on the global grid, paste into array[::s, ::s]."""
    rng = np.random.default_rng(0)
    array = rng.integers(0, 1000, (523, 517), dtype=np.uint32)
    for stride in (2, 3, 5, 7):
        copy = np.zeros(array[::stride, ::stride].shape, array.dtype)
        for y in range(0, 523, 100):
            for x in range(0, 517, 128):
                at, tile = _blockwise.strided(
                    array, (slice(y, min(y + 100, 523)), slice(x, min(x + 128, 517))), stride
                )
                copy[at] = tile
        np.testing.assert_array_equal(copy, array[::stride, ::stride])


def test_big_2d_preview_kept_by_cancel_shows_the_kept_blocks_when_resumed(
    segment_widget, big_nuclei, tmp_path, qtbot, run_to_end
):
    viewer, widget = segment_widget
    viewer.add_image(big_nuclei, name="mosaic")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("mosaic"))
    widget.blockwise_checkbox.setChecked(True)
    out = tmp_path / "resumed.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(256)
    widget.tta_checkbox.setChecked(False)
    regions: list[tuple[slice, ...]] = []

    def cancel_after_two(progress):
        if progress.stage == "segment" and progress.region is not None:
            regions.append(progress.region)
            if len(regions) == 2:
                widget.cancel_button.click()

    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
        widget.worker.yielded.connect(cancel_after_two)
    assert "Run again to resume" in widget.status_label.text()
    preview = viewer.layers["mosaic labels (nuclei2d, blocks so far)"]
    provisional = zarr.open_array(str(work_dir(out) / "provisional.zarr"), mode="r")
    records = {int(p.stem) for p in (work_dir(out) / "blocks").glob("*.npz")}
    grid = [
        (slice(y, min(y + 256, 520)), slice(x, x + 256)) for y in (0, 256, 512) for x in (0, 256)
    ]
    regions = [grid[i] for i in sorted(records)]  # (a block may finish as Cancel is clicked)
    assert len(regions) >= 2
    kept = full_resolution(preview)
    assert isinstance(kept, np.ndarray) and kept.shape == (104, 103)
    for region in regions:
        at, tile = _blockwise.strided(provisional, region, STRIDE)
        np.testing.assert_array_equal(kept[at], tile)

    resumed = []

    def check(progress):  # the kept blocks and this run's, in the same layer
        if progress.stage != "segment" or progress.region is None:
            return
        regions.append(progress.region)
        assert viewer.layers["mosaic labels (nuclei2d, blocks so far)"] is preview
        for region in regions:
            at, tile = _blockwise.strided(provisional, region, STRIDE)
            np.testing.assert_array_equal(full_resolution(preview)[at], tile)
        resumed.append(len(regions))

    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
        widget.worker.yielded.connect(check)
    assert resumed == list(range(len(records) + 1, 7)), widget.status_label.text()
    assert f"{len(records)} blocks resumed" in widget.status_label.text()
    layer = viewer.layers["mosaic labels (nuclei2d)"]
    assert layer.multiscale and str(out) in str(layer.data[0].store)
    np.testing.assert_array_equal(layer.data[-1], np.asarray(layer.data[0])[::STRIDE, ::STRIDE])
    np.testing.assert_allclose(layer.scale, (1.0, 1.0))

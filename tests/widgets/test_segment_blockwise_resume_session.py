"""Segment resumes a blockwise run cancelled in an earlier napari session (user test s32/t9,
finding 8): reopening the image offers that run's output and block size, and Run shows the
blocks it kept at once and says it is resuming (as the CLI's 'resuming: N of M blocks
already done')."""

from __future__ import annotations

import numpy as np
import zarr
from qtpy.QtCore import Qt

from tessella.engine.blockwise import work_dir


def _zarr_crop(nuclei_image, tmp_path):
    path = tmp_path / "crop.zarr"
    array = zarr.create_array(
        str(path), shape=(128, 256), dtype=nuclei_image.dtype, chunks=(128, 128)
    )
    array[...] = nuclei_image[:128, :256]  # two blocks of 128
    return path


def _open(viewer, widget, path):
    viewer.open(str(path), plugin="tessella")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("crop"))


def test_reopened_image_offers_its_unfinished_run_and_shows_the_kept_blocks_at_once(
    make_napari_viewer, segment_model_dir, nuclei_image, tmp_path, qtbot
):
    path = _zarr_crop(nuclei_image, tmp_path)
    out = tmp_path / "my run.zarr"  # not the default output's name, nor its block size

    # session 1: blockwise into a chosen output, stopped after its first block
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    assert widget.add_model(segment_model_dir)
    _open(viewer, widget, path)
    widget.blockwise_checkbox.setChecked(True)
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(128)

    def stop_after_one(progress):  # in the worker's thread: it stops right after block 1
        if progress.stage == "segment" and progress.region is not None:
            widget.worker.quit()

    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
        widget.worker.yielded.connect(stop_after_one, Qt.ConnectionType.DirectConnection)
    assert len(list((work_dir(out) / "blocks").glob("*.npz"))) == 1

    # session 2: a new viewer and panel; the image reopened
    viewer2 = make_napari_viewer()
    _dock2, widget2 = viewer2.window.add_plugin_dock_widget("tessella", "Segment")
    assert widget2.add_model(segment_model_dir)
    _open(viewer2, widget2, path)
    assert widget2.blockwise_checkbox.isChecked()
    assert widget2.blockwise_edit.text() == str(out)
    assert widget2.block_spin.value() == 128
    offered = widget2.status_label.text()
    assert "unfinished blockwise run (1 of 2 blocks done, 128 px blocks)" in offered
    assert "Run resumes it" in offered

    seen = []

    def stop_at_resume(progress):  # in the worker's thread: no block of this run is written
        if progress.stage == "segment" and progress.region is None:
            widget2.worker.quit()

    def at_resume(progress):  # (after the panel's own slot)
        if progress.stage == "segment" and progress.region is None and not seen:
            names = [layer.name for layer in viewer2.layers]
            shown = [np.asarray(layer.data).max() for layer in viewer2.layers[1:]]
            seen.append((names, widget2.status_label.text(), shown))

    widget2.worker = None
    with qtbot.waitSignal(widget2.run_finished, timeout=300_000):
        widget2.run_button.click()
        widget2.worker.yielded.connect(stop_at_resume, Qt.ConnectionType.DirectConnection)
        widget2.worker.yielded.connect(at_resume)
    names, status, shown = seen[0]
    preview = "crop labels (nuclei2d, blocks so far)"
    assert preview in names  # the kept block, before this run finished one
    assert status.startswith("'crop': resuming: 1 of 2 blocks already done, shown in")
    assert shown[0] > 0  # the kept block's labels

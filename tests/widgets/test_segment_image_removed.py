"""Removing the image layer while Segment runs stops the run as Cancel does (a user test):
before, the status line only said so and the run went on to add its labels."""

from __future__ import annotations

import inspect

import numpy as np
import zarr

from tessella._widgets._blockwise import kept_work
from tessella.engine.blockwise import work_dir
from tests.widgets.test_segment_widget import choose_layer


def _usable(widget) -> bool:
    return widget.run_button.isEnabled() and not widget.cancel_button.isEnabled()


def test_removing_the_image_mid_run_stops_it_and_adds_nothing(
    segment_widget, nuclei_image, qtbot, run_to_end
):
    viewer, widget = segment_widget
    # the real nuclei image tiled 3x3 (1536²) in 256-px tiles: tens of tiles to stop between
    viewer.add_image(np.tile(nuclei_image, (3, 3)), name="nuclei big")
    mine = np.zeros(nuclei_image.shape, np.int32)
    mine[10:50, 10:50] = 7
    other = viewer.add_labels(mine.copy(), name="mine")
    choose_layer(widget, "nuclei big")
    widget.tile_spin.setValue(256)
    counts = []
    widget.progress_bar.valueChanged.connect(counts.append)

    with qtbot.waitSignal(widget.run_finished, timeout=120_000):
        widget.run_button.click()
        qtbot.waitUntil(lambda: widget.progress_bar.value() >= 1, timeout=60_000)
        total = widget.progress_bar.maximum()
        viewer.layers.remove("nuclei big")

    assert widget.worker.abort_requested  # stopped as Cancel stops it, not run to the end
    assert inspect.getgeneratorstate(widget.worker._gen) == inspect.GEN_CLOSED
    assert max(counts) < total
    assert [layer.name for layer in viewer.layers] == ["mine"]
    np.testing.assert_array_equal(other.data, mine)
    assert widget.status_label.text() == (
        "Stopped: layer 'nuclei big' was removed during the run; no layer was added."
    )
    assert _usable(widget)
    assert widget.progress_bar.value() == 0 and widget.progress_bar.format() == ""

    viewer.add_image(nuclei_image, name="nuclei")  # usable again
    choose_layer(widget, "nuclei")
    run_to_end(widget)
    assert "added 'nuclei labels (nuclei2d)" in widget.status_label.text()


def test_removing_the_image_mid_blockwise_run_stops_it(
    segment_widget, nuclei_sample, tmp_path, qtbot
):
    viewer, widget = segment_widget
    image = nuclei_sample[0]
    array = zarr.create_array(
        str(tmp_path / "big.zarr"), shape=image.shape, dtype=image.dtype, chunks=(128, 128)
    )
    array[...] = image
    viewer.add_image(zarr.open_array(str(tmp_path / "big.zarr"), mode="r"), name="big")
    other = viewer.add_labels(np.zeros((64, 64), np.int32), name="mine")
    choose_layer(widget, "big")
    widget.blockwise_checkbox.setChecked(True)
    out = tmp_path / "removed.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(128)  # 20 blocks
    blocks = []

    def remove_after_two(progress):
        if progress.stage == "segment" and progress.region is not None:
            blocks.append(progress)
            if len(blocks) == 2:
                viewer.layers.remove("big")

    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
        widget.worker.yielded.connect(remove_after_two)

    assert widget.worker.abort_requested
    assert not out.exists() and work_dir(out).is_dir()  # unfinished: resumable, as a cancel
    # the preview of the finished blocks stays (as after Cancel); no result layer is added
    preview = "big labels (nuclei2d, blocks so far)"
    assert [layer.name for layer in viewer.layers] == ["mine", preview]
    assert not other.data.any()
    kept = kept_work(out).segmented
    assert 2 <= kept < 20
    assert widget.status_label.text() == (
        "Stopped: layer 'big' was removed during the run; "
        f"{kept} finished blocks are kept on disk (shown in '{preview}'): "
        "reopen 'big' (the same file) and Run again to resume."
    )
    assert _usable(widget)
    assert widget.progress_bar.value() == 0

    # as said: the same file opened again resumes the kept blocks and finishes the labels
    viewer.add_image(zarr.open_array(str(tmp_path / "big.zarr"), mode="r"), name="big")
    choose_layer(widget, "big")
    widget.blockwise_checkbox.setChecked(True)  # (a small image: in memory by default)
    widget.blockwise_edit.setText(str(out))
    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
    assert out.is_dir() and not work_dir(out).exists()
    # (the kept preview becomes the result, in its place)
    assert [layer.name for layer in viewer.layers] == ["mine", "big labels (nuclei2d)", "big"]
    assert f"(20 blocks, {kept} blocks resumed)" in widget.status_label.text()
    assert np.asarray(viewer.layers["big labels (nuclei2d)"].data).max() > 0

"""Segment's blockwise mode: a lazy zarr-backed layer is segmented block by block into a zarr,
shown as blocks finish; cancel keeps the finished blocks and Run resumes."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from tessella.engine.blockwise import work_dir
from tessella.engine.metrics import matching
from tessella.engine.pipeline import segment


@pytest.fixture
def lazy_nuclei(tmp_path, nuclei_sample):
    """The real 520x512 nuclei sample as a chunked zarr array (what a big file would be)."""
    image = nuclei_sample[0]
    array = zarr.create_array(
        str(tmp_path / "nuclei.zarr"), shape=image.shape, dtype=image.dtype, chunks=(256, 256)
    )
    array[...] = image
    return zarr.open_array(str(tmp_path / "nuclei.zarr"), mode="r")


def test_blockwise_run_writes_zarr_labels_that_match_in_memory(
    segment_widget, lazy_nuclei, tmp_path, run_to_end, segment_model_dir
):
    viewer, widget = segment_widget
    viewer.add_image(lazy_nuclei, name="big", scale=(0.5, 0.5))
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("big"))
    assert widget.blockwise_checkbox.isChecked()  # lazy data defaults to blockwise
    out = tmp_path / "big labels.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(256)
    run_to_end(widget)

    layer = viewer.layers["big labels"]
    assert not isinstance(layer.data, np.ndarray)  # read lazily from the output zarr
    assert out.is_dir() and layer.data.shape == lazy_nuclei.shape
    np.testing.assert_allclose(layer.scale, (0.5, 0.5))
    assert layer.metadata["tessella_recipe"]["model"]
    assert "written to" in widget.status_label.text()
    in_memory = segment(np.asarray(lazy_nuclei), str(segment_model_dir), "YX")
    assert matching(in_memory, np.asarray(layer.data), 0.5).f1 >= 0.99


def test_cancel_keeps_blocks_and_run_resumes(
    segment_widget, lazy_nuclei, tmp_path, run_to_end, qtbot
):
    viewer, widget = segment_widget
    viewer.add_image(lazy_nuclei, name="big")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("big"))
    out = tmp_path / "resumed.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(128)
    blocks = []

    def cancel_after_two(progress):
        if progress.stage == "segment" and progress.region is not None:
            blocks.append(progress)
            if len(blocks) == 2:
                widget.cancel_button.click()

    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
        widget.worker.yielded.connect(cancel_after_two)
    assert "Run again to resume" in widget.status_label.text()
    assert "big labels (blocks so far)" not in [x.name for x in viewer.layers]
    assert not out.exists() and work_dir(out).is_dir()

    run_to_end(widget)
    assert "blocks resumed" in widget.status_label.text()
    assert out.is_dir() and viewer.layers["big labels"].data.shape == lazy_nuclei.shape

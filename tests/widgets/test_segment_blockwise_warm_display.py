"""What napari does once a process for its first labels layer (pandas imported for the
layer's features, numba compiling the labels colormap for uint32: ~3 s of the 4.3-4.6 s the
first finished block froze napari in user test s32/t9, finding 7) is done in the blockwise
run's worker thread before any block, not on the GUI thread when the first block's preview
is added."""

from __future__ import annotations

import threading

import numpy as np


def test_the_worker_warms_napari_s_labels_display_before_the_first_block(
    segment_widget, nuclei_image, tmp_path, run_to_end, monkeypatch
):
    from tessella._widgets import _blockwise

    calls: list[tuple[str, bool]] = []
    original = getattr(_blockwise, "warm_labels_display", None)

    def recorded(*args, **kwargs):
        calls.append(("warm", threading.current_thread() is threading.main_thread()))
        if original is not None:
            original(*args, **kwargs)

    monkeypatch.setattr(_blockwise, "warm_labels_display", recorded, raising=False)
    viewer, widget = segment_widget
    viewer.add_image(nuclei_image[:128, :128].copy(), name="crop")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("crop"))
    widget.blockwise_checkbox.setChecked(True)
    widget.blockwise_edit.setText(str(tmp_path / "crop_labels.zarr"))
    widget.block_spin.setValue(128)
    real_block_done = _blockwise.BlockwisePreview.block_done

    def block_done(self):
        calls.append(("block", True))
        real_block_done(self)

    monkeypatch.setattr(_blockwise.BlockwisePreview, "block_done", block_done)
    run_to_end(widget)
    assert calls[:2] == [("warm", False), ("block", True)], calls
    assert np.asarray(viewer.layers["crop labels (nuclei2d)"].data).max() > 0

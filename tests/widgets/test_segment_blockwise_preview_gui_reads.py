"""The preview of a 2D blockwise run is a copy in memory that the worker pastes each finished
block into: napari never reads the provisional zarr on the GUI thread (user test s34/t15,
finding 2: at 4096² napari read the whole provisional plane after each block, decompressing it
on the GUI thread: the GUI thread waited on zarr's reads 9 s in 16 blocks, freezes of up to 5.6
s on 2 busy cores, benchmarks/gui_blockwise_stutter.py). The result is then the zarr itself,
equal to the copy shown."""

from __future__ import annotations

import threading

import numpy as np
import zarr


def test_the_gui_thread_reads_no_provisional_zarr_during_a_2d_run(
    segment_widget, lazy_nuclei, tmp_path, qtbot, monkeypatch
):
    viewer, widget = segment_widget
    viewer.add_image(lazy_nuclei, name="nuclei")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("nuclei"))
    widget.blockwise_checkbox.setChecked(True)
    out = tmp_path / "nuclei_labels.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(256)  # 520x512: 3 x 2 blocks
    widget.tta_checkbox.setChecked(False)

    gui_reads = []
    read = zarr.Array.__getitem__

    def counted(self, selection):
        if threading.current_thread() is threading.main_thread() and "provisional" in str(
            self.store_path
        ):
            gui_reads.append(str(self.store_path))
        return read(self, selection)

    monkeypatch.setattr(zarr.Array, "__getitem__", counted)
    shown = []  # the preview's data after each finished block (the panel's slot ran first)

    def block_done(progress):
        if getattr(progress, "stage", "") == "segment" and progress.region is not None:
            layer = viewer.layers["nuclei labels (nuclei2d, blocks so far)"]
            shown.append((type(layer.data), int(np.count_nonzero(layer.data))))

    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
        widget.worker.yielded.connect(block_done)  # (after the panel's own slots)

    assert "6 blocks" in widget.status_label.text(), widget.status_label.text()
    assert len(shown) == 6
    assert all(kind is np.ndarray for kind, _ in shown)
    filled = [count for _, count in shown]
    assert filled == sorted(filled) and filled[-1] > 0  # the blocks pasted in, one by one
    assert gui_reads == []
    result = viewer.layers["nuclei labels (nuclei2d)"]
    assert not result.multiscale and isinstance(result.data, zarr.Array)
    assert result.data.shape == lazy_nuclei.shape
    assert not result.editable

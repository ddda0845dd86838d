"""A finished blockwise result is read-only in napari (a zarr opened read-only: the brush,
fill and eraser are off), and Segment's status says so with how to edit a copy, in the words
Correct uses when asked to edit it; following them gives an editable copy.

Before, the status ended at "written to X": the brush was simply greyed out, and only an
attempt to edit in Correct said why. A 2D result too big for the reader to read into memory
points to Correct's 'Edit the region in view' first (it edits the .zarr in place)."""

from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import QPushButton

HOW = "to edit a copy, open its .zarr with File > Open"


def _run_blockwise(segment_widget, lazy_nuclei, tmp_path, run_to_end):
    viewer, widget = segment_widget
    viewer.add_image(lazy_nuclei, name="big")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("big"))
    widget.blockwise_checkbox.setChecked(True)
    out = tmp_path / "big labels.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(256)
    run_to_end(widget)
    return viewer, widget, out, viewer.layers["big labels (nuclei2d)"]


def _correct_says(viewer, layer) -> str:
    """What Correct says when asked to relabel ``layer`` (an edit)."""
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findData(layer.unique_id))
    correct.relabel_button.click()
    return correct.status_label.text()


def test_the_finished_result_says_it_is_read_only_and_how_to_edit_a_copy(
    segment_widget, lazy_nuclei, tmp_path, run_to_end, monkeypatch
):
    monkeypatch.delenv("TESSELLA_LAZY_LABELS_PIXELS", raising=False)
    viewer, widget, out, layer = _run_blockwise(segment_widget, lazy_nuclei, tmp_path, run_to_end)
    assert not layer.editable  # napari's brush is off
    status = widget.status_label.text()
    assert f"written to {out}; read-only here: {HOW}" in status, status
    assert status.endswith(HOW)  # 520x512: the reader reads it into memory, no variable
    assert HOW in _correct_says(viewer, layer)  # the same words there

    # doing what it says gives a copy that can be painted
    (copy,) = viewer.open(str(out), plugin="tessella")
    assert isinstance(copy.data, np.ndarray) and copy.editable
    copy.paint((5, 5), 999, refresh=False)
    assert copy.data[5, 5] == 999
    np.testing.assert_array_equal(np.asarray(layer.data)[100:], copy.data[100:])


def test_a_result_over_the_in_memory_limit_names_the_variable_to_set(
    segment_widget, lazy_nuclei, tmp_path, run_to_end, monkeypatch
):
    """Over TESSELLA_LAZY_LABELS_PIXELS (lowered here to 100,000 pixels) the reader would
    open the zarr lazily, read-only again: the status says what to set the variable to,
    and with it set so, File > Open gives an editable copy."""
    monkeypatch.setenv("TESSELLA_LAZY_LABELS_PIXELS", "100000")
    viewer, widget, out, layer = _run_blockwise(segment_widget, lazy_nuclei, tmp_path, run_to_end)
    status = widget.status_label.text()
    assert status.endswith(f"{HOW} after setting TESSELLA_LAZY_LABELS_PIXELS to 266,241 or more"), (
        status
    )
    # Correct's region in view first: it edits the .zarr itself, no variable to set
    assert "; read-only here: edit it in Correct ('Edit the region in view'), or to edit" in status
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert [b for b in correct.findChildren(QPushButton) if b.text() == "Edit the region in view"]
    assert HOW in _correct_says(viewer, layer)

    monkeypatch.setenv("TESSELLA_LAZY_LABELS_PIXELS", "266,241")
    (copy,) = viewer.open(str(out), plugin="tessella")
    assert isinstance(copy.data, np.ndarray) and copy.editable

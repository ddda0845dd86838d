"""A cancelled blockwise run's preview ("... (nuclei2d, blocks so far)") is hidden under a newer
result of its image, as older results are (r9 #3: after a rerun into another output it stayed
visible, and its blocky provisional labels showed through the new result at opacity 0.7).
Hidden, not removed: a Run into the cancelled output resumes in it and shows it again."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt

from tests.widgets.helpers import choose_model


def test_a_cancelled_run_s_preview_is_hidden_under_a_newer_result_and_shown_on_resume(
    segment_widget, nuclei_image, tmp_path, run_to_end, qtbot
):
    viewer, widget = segment_widget
    choose_model(widget, "nuclei2d")
    viewer.add_image(nuclei_image[:256, :256].copy(), name="crop")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("crop"))
    widget.blockwise_checkbox.setChecked(True)
    first, second = tmp_path / "first.zarr", tmp_path / "second.zarr"
    widget.blockwise_edit.setText(str(first))
    widget.block_spin.setValue(128)

    def stop_after_one(progress):  # in the worker's thread: it stops right after block 1
        if progress.stage == "segment" and progress.region is not None:
            widget.worker.quit()

    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
        widget.worker.yielded.connect(stop_after_one, Qt.ConnectionType.DirectConnection)
    preview = viewer.layers["crop labels (nuclei2d, blocks so far)"]
    assert preview.visible and "Run again to resume" in widget.status_label.text()

    # the user runs into another output: its result hides the stale preview
    widget.blockwise_edit.setText(str(second))
    run_to_end(widget)
    result = viewer.layers["crop labels (nuclei2d)"]
    assert result.visible and result is not preview
    assert preview in viewer.layers and not preview.visible  # hidden, not removed
    assert widget.status_label.text().endswith(
        "; hid 'crop labels (nuclei2d, blocks so far)' (the blocks a cancelled run kept for "
        "first.zarr: Run into first.zarr to resume it)"
    ), widget.status_label.text()

    # resuming into the cancelled output shows its preview again, which becomes the result
    widget.blockwise_checkbox.setChecked(True)
    widget.blockwise_edit.setText(str(first))
    seen = []
    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
        seen.append(preview.visible)
    assert seen == [True]  # shown while its blocks are resumed
    assert "1 block resumed" in widget.status_label.text()
    assert "so far" not in preview.name and not result.visible  # the result, on top
    assert preview.visible and np.asarray(preview.data).max() > 5

"""User test s29/t2: a blockwise output in a folder that takes no files is refused before any
work in words a user reads (item 8: the engine's "[Errno 1] Operation not permitted:
'/sys/.mosaic4k_labels.zarr.blockwise'", a hidden folder the user never chose), and the
Segment panel's status line shows whole lines as soon as it is set (item 10: a two-line status
was cut through the middle until Qt laid the panel out again, and stayed so while the GUI
thread was busy)."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
from qtpy.QtWidgets import QApplication


def _sys_takes_files() -> bool:
    """Whether a file can be made in /sys (never on Linux, root or not; no /sys elsewhere)."""
    try:
        fd, path = tempfile.mkstemp(dir="/sys")
    except OSError:
        return not os.path.isdir("/sys")
    os.close(fd)
    os.remove(path)
    return True


@pytest.fixture
def errors(monkeypatch) -> list[str]:
    from tessella._widgets import _segment_blockwise

    said: list[str] = []
    monkeypatch.setattr(_segment_blockwise, "show_error", said.append)
    return said


@pytest.mark.skipif(_sys_takes_files(), reason="no /sys that refuses files here")
def test_an_output_folder_that_takes_no_files_is_refused_before_any_work(
    segment_widget, nuclei_image, errors
):
    viewer, widget = segment_widget
    viewer.add_image(nuclei_image[:96, :96].copy(), name="mosaic4k")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("mosaic4k"))
    widget.blockwise_checkbox.setChecked(True)
    widget.blockwise_edit.setText("/sys/mosaic4k_labels.zarr")
    widget.run_button.click()
    assert widget.worker is None  # nothing started
    said = widget.status_label.text()
    assert said.startswith("blockwise output '/sys/mosaic4k_labels.zarr': cannot write there (")
    assert said.endswith("); choose another folder.")  # (the reason: Permission denied...)
    assert len(errors) == 1 and errors[0].endswith(said) and ".blockwise" not in errors[0]
    assert widget.run_button.isEnabled()


def test_a_longer_status_shows_whole_lines_at_once(make_napari_viewer, qtbot):
    """At 1366x768, a status of two lines set after one of one line gets its height before
    the event loop runs again (what a busy GUI thread shows meanwhile)."""
    viewer = make_napari_viewer(show=True)
    window = viewer.window._qt_window
    window.resize(1366, 768)
    viewer.add_image(np.zeros((64, 64), np.uint8), name="mosaic20k")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    widget.blockwise_checkbox.setChecked(True)
    widget.status_label.setText("'mosaic20k': segment, 7 of 100")
    qtbot.wait(300)
    label = widget.status_label
    one_line = label.height()
    widget.status_label.setText(
        "'mosaic20k': cancelled; 7 finished blocks are kept on disk (shown in 'mosaic20k "
        "labels (nuclei2d, blocks so far)'): Run again to resume."
    )
    needed = label.heightForWidth(label.width())
    assert needed > one_line  # (it wraps: two lines or more at this width)
    assert label.height() >= needed  # no event processed since: laid out at once
    QApplication.processEvents()
    qtbot.wait(100)
    assert label.height() >= label.heightForWidth(label.width())

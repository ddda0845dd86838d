"""Segment's blockwise Run refused (the status line says why, not the previous run's outcome;
a missing output folder is not made) and cancelled before any block was segmented (the
status says what is kept: nothing, or the blocks the intensity scan finished)."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from qtpy.QtCore import Qt

from tessella.engine.blockwise import work_dir


@pytest.fixture
def errors(monkeypatch) -> list[str]:
    from tessella._widgets import _segment_blockwise

    said: list[str] = []
    monkeypatch.setattr(_segment_blockwise, "show_error", said.append)
    return said


def test_refused_blockwise_outputs_are_said_on_the_status_line(
    segment_widget, nuclei_image, tmp_path, errors, run_to_end
):
    """A .tif output, an output in a folder that does not exist (a typo: the folder was made
    and the run went on), and no output at all are refused in one line, shown on the status
    line as well as in the notification; the status showed the previous run's success."""
    viewer, widget = segment_widget
    viewer.add_image(nuclei_image[:96, :96].copy(), name="mem")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("mem"))
    widget.blockwise_checkbox.setChecked(True)
    previous = "'mem': 12 objects in 1.0 s (1 block), written to /somewhere/mem_labels.zarr"
    cases = {
        str(tmp_path / "out.tif"): f"blockwise output '{tmp_path / 'out.tif'}' must be a .zarr",
        str(tmp_path / "nope" / "deeper" / "out.zarr"): (
            f"folder '{tmp_path / 'nope'}' does not exist; create it first"
        ),
        "  ": "give the blockwise output",
    }
    for text, said in cases.items():
        widget.status_label.setText(previous)
        widget.blockwise_edit.setText(text)
        widget.run_button.click()
        assert widget.worker is None and widget.run_button.isEnabled()
        assert said in widget.status_label.text() and said in errors[-1]
        assert errors[-1] == f"Segment: {widget.status_label.text()}"
    assert len(errors) == 3
    assert not (tmp_path / "nope").exists()
    (tmp_path / "file").write_text("not a folder")
    widget.blockwise_edit.setText(str(tmp_path / "file" / "out.zarr"))
    widget.run_button.click()
    assert widget.status_label.text().endswith(f"'{tmp_path / 'file'}' is a file, not a folder.")


def test_run_refused_without_an_image_says_so_on_the_status_line(segment_widget):
    _viewer, widget = segment_widget
    widget.status_label.setText("'gone': 5 objects in 1.0 s, added 'gone labels'")
    widget.run_button.click()
    assert widget.status_label.text() == "Add an image layer first."


def test_cancel_in_the_scan_keeps_what_it_scanned_and_says_so(
    segment_widget, tmp_path, qtbot, run_to_end
):
    """Cancel while the intensity scan runs (its bar read '8 / 16 blocks', as if 8 blocks
    were segmented): the status said finished blocks were kept to resume, though none was.
    Then the bar named the scan and the status said nothing is kept, and nothing was: a
    4-minute scan of an EM volume was lost (user test t2, item 3). Now the blocks the scan
    finished are kept (``scan/N.npz`` in the hidden work folder), the status says so, and
    Run again resumes the scan with the blocks it had not read. A cancel before any block
    was scanned keeps nothing, and says that: the hidden work folder goes, so Run with
    another block size is not refused for an 'unfinished run' with nothing in it. A cancel
    after the scan keeps the scan, and says that."""
    viewer, widget = segment_widget
    image = (np.indices((384, 256)).sum(0) % 97).astype(np.uint16)  # 3 x 2 blocks of 128
    zarr.create_array(str(tmp_path / "big.zarr"), data=image, chunks=(128, 128))
    viewer.add_image(zarr.open_array(str(tmp_path / "big.zarr"), mode="r"), name="big")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("big"))
    widget.blockwise_checkbox.setChecked(True)  # (a small lazy layer runs in memory by default)
    out = tmp_path / "big_labels.zarr"
    widget.blockwise_edit.setText(str(out))
    bars, cancelling = [], []

    def stop_in(stage: str, done: int):
        def stop(progress):  # in the worker's thread: stops right at this point
            if progress.stage == stage and progress.done == done:
                widget.worker.quit()

        return stop

    def click_cancel(progress):  # after the widget's own handler
        bars.append((progress.stage, widget.progress_bar.text()))
        if progress.stage == "scan" and progress.done == 2:
            widget.cancel_button.click()
            cancelling.append(widget.status_label.text())

    # before any block was scanned: nothing is kept, and another block size is not refused
    widget.block_spin.setValue(192)
    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=120_000):
        widget.run_button.click()
        widget.worker.yielded.connect(stop_in("scan", 0), Qt.ConnectionType.DirectConnection)
    assert widget.status_label.text() == (
        "'big': cancelled before any block was segmented; nothing is kept: Run again starts over."
    )
    assert not work_dir(out).exists() and not out.exists()

    widget.block_spin.setValue(128)
    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=120_000):
        widget.run_button.click()
        widget.worker.yielded.connect(stop_in("scan", 2), Qt.ConnectionType.DirectConnection)
        widget.worker.yielded.connect(click_cancel)
    assert ("scan", "intensity scan: 2 / 6 blocks") in bars
    assert cancelling == ["Cancelling the intensity scan (no block is segmented yet)…"]
    assert widget.status_label.text() == (
        "'big': cancelled; the intensity scan of 2 blocks is kept on disk: Run again to resume it."
    )
    assert len(list((work_dir(out) / "scan").glob("*.npz"))) == 2 and not out.exists()
    assert [layer.name for layer in viewer.layers] == ["big"]

    # Run again: the scan resumes at 2 of 6; cancelled right after it, which is kept
    bars.clear()
    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=120_000):
        widget.run_button.click()
        widget.worker.yielded.connect(stop_in("segment", 0), Qt.ConnectionType.DirectConnection)
        widget.worker.yielded.connect(lambda p: bars.append((p.stage, p.done)))
    assert [done for stage, done in bars if stage == "scan"] == [2, 3, 4, 5, 6]
    assert widget.status_label.text() == (
        "'big': cancelled; no block was segmented yet; the intensity scan is kept on disk: Run "
        "again to resume."
    )
    assert (work_dir(out) / "ranges.json").exists()
    assert not list((work_dir(out) / "blocks").glob("*.npz"))

    run_to_end(widget)
    assert "(6 blocks) with " in widget.status_label.text()
    assert "'s defaults, written to" in widget.status_label.text()
    assert out.is_dir() and not work_dir(out).exists()

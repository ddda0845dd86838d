"""An export is all or nothing (review 3, R1): every output is written under a temporary name
beside it and renamed into place only once all are written. Before, an Overwrite export
cancelled after its TIFF (or failing on a later output) left the new TIFF beside the earlier
CSV, which described other labels, and the earlier TIFF was lost; the status line said
"Cancelled: nothing written" all the same, and closing the panel mid-export cancelled it
without a word. Now a cancel or a failure leaves every earlier file byte for byte as it was
(the OME-Zarr folder and a CTC folder whole, its other files too), a successful Overwrite
replaces them all, and closing the panel says in a notification that nothing was written.
Real shown viewer, the real nuclei sample (labels on disk: written in Export's worker)."""

from __future__ import annotations

import errno
import hashlib
import threading
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

import tessella.engine.io._write as engine_write
import tessella.engine.measure as engine_measure
from tessella._widgets import _export_lazy, _export_write
from tessella._widgets.export import ExportWidget

OUTPUTS = {"nuclei.tif", "nuclei.ome.zarr", "nuclei.csv"}


def _on_disk(tmp_path: Path, name: str, labels: np.ndarray):
    """``labels`` as a chunked zarr opened read-only (what a blockwise result is)."""
    path = tmp_path / name
    array = zarr.create_array(str(path), shape=labels.shape, dtype=labels.dtype, chunks=(256, 256))
    array[...] = labels
    return zarr.open_array(str(path), mode="r")


def _contents(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) -> the md5 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _choose(widget: ExportWidget, layer) -> None:
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(layer.unique_id))


@pytest.fixture
def exported_once(make_napari_viewer, tmp_path, nuclei_sample, qtbot):
    """The nuclei labels (on disk) exported to TIFF, OME-Zarr and CSV (with the image's
    intensities), then other labels (object 1 erased, on disk) chosen to be exported over
    them with Overwrite ticked."""
    image, labels = nuclei_sample
    labels = labels.astype(np.uint32)
    viewer = make_napari_viewer(show=True)
    viewer.add_image(image, name="nuclei")
    first = viewer.add_labels(_on_disk(tmp_path, "first.zarr", labels), name="nuclei labels")
    out = tmp_path / "out"
    out.mkdir()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    _choose(widget, first)
    widget.path_edit.setText(str(out / "nuclei"))
    widget.image_combo.setCurrentIndex(widget.image_combo.findText("nuclei"))
    widget.recipe_checkbox.setChecked(False)  # (these labels were not made by Segment)
    for box in (widget.tiff_checkbox, widget.csv_checkbox, widget.ome_zarr_checkbox):
        box.setChecked(True)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
    assert {p.name for p in blocker.args[0]} == OUTPUTS, widget.status_label.text()
    new = labels.copy()
    new[new == 1] = 0
    assert (labels == 1).any()
    second = viewer.add_labels(_on_disk(tmp_path, "second.zarr", new), name="other labels")
    _choose(widget, second)
    widget.path_edit.setText(str(out / "nuclei"))
    widget.overwrite_checkbox.setChecked(True)
    return viewer, widget, out, labels, new


def test_cancel_after_the_first_output_keeps_every_earlier_file(exported_once, qtbot, monkeypatch):
    viewer, widget, out, labels, _new = exported_once
    before = _contents(out)
    written, go = threading.Event(), threading.Event()
    # (labels on disk: the TIFF is written a band at a time, write_labels_in_strips)
    real = engine_write.write_labels_in_strips

    def write_then_wait(*args, **kwargs):  # the TIFF is written whole, then Cancel is clicked
        path = real(*args, **kwargs)
        written.set()
        assert go.wait(30)
        return path

    monkeypatch.setattr(engine_write, "write_labels_in_strips", write_then_wait)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
        qtbot.waitUntil(written.is_set, timeout=30_000)
        widget.cancel_button.click()
        assert "Cancelling" in widget.status_label.text()
        go.set()
    assert blocker.args[0] == []
    assert _contents(out) == before  # the TIFF, the OME-Zarr and the CSV byte for byte
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)  # no temporary left
    np.testing.assert_array_equal(tifffile.imread(out / "nuclei.tif"), labels)
    assert widget.status_label.text() == (
        "Cancelled: nothing written for 'other labels'; existing files unchanged."
    )
    assert widget.worker is None and widget.export_button.isEnabled()


def test_an_error_in_the_second_output_keeps_every_earlier_file(exported_once, qtbot, monkeypatch):
    viewer, widget, out, _labels, _new = exported_once
    before = _contents(out)

    def full(path, *args, **kwargs):  # (the OME-Zarr is written after the TIFF)
        Path(path).mkdir()
        (Path(path) / "zarr.json").write_text("{")  # cut short by the full disk
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    # (labels on disk: the OME-Zarr is written a piece at a time, write_labels_in_pieces)
    monkeypatch.setattr(_export_lazy, "write_labels_in_pieces", full)
    errors: list[str] = []
    monkeypatch.setattr(_export_write, "show_error", errors.append)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
    assert blocker.args[0] == []
    assert _contents(out) == before
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
    target = out / "nuclei.ome.zarr"
    assert errors == [f"Export: cannot write {target}: No space left on device"]
    assert widget.status_label.text() == (
        f"Failed on {target}; nothing else written; existing files unchanged."
    )


def test_a_failure_while_putting_them_in_place_restores_every_earlier_file(
    exported_once, qtbot, monkeypatch
):
    """The CSV, last, cannot be renamed into place: the TIFF and the OME-Zarr already in
    place are taken back, and the earlier ones restored."""
    viewer, widget, out, _labels, _new = exported_once
    before = _contents(out)
    real = _export_write._place

    def place(item, overwrite, token):
        if item.output.kind == "csv":
            raise PermissionError(errno.EACCES, "Permission denied", str(item.output.path))
        return real(item, overwrite, token)

    monkeypatch.setattr(_export_write, "_place", place)
    monkeypatch.setattr(_export_write, "show_error", lambda message: None)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
    assert blocker.args[0] == []
    assert _contents(out) == before
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
    assert widget.status_label.text().startswith(f"Failed on {out / 'nuclei.csv'}; ")


def test_a_successful_overwrite_replaces_them_all(exported_once, qtbot):
    viewer, widget, out, labels, new = exported_once
    before = _contents(out)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
    assert {p.name for p in blocker.args[0]} == OUTPUTS, widget.status_label.text()
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)  # no backup left
    after = _contents(out)
    assert after["nuclei.tif"] != before["nuclei.tif"]
    assert after["nuclei.csv"] != before["nuclei.csv"]
    np.testing.assert_array_equal(tifffile.imread(out / "nuclei.tif"), new)
    np.testing.assert_array_equal(zarr.open_array(str(out / "nuclei.ome.zarr" / "0"))[:], new)
    rows = (out / "nuclei.csv").read_text().splitlines()
    assert len(rows) - 1 == len(np.unique(new)) - 1 == len(np.unique(labels)) - 2
    assert not any(row.split(",")[0] == "1" for row in rows[1:])
    assert widget.status_label.text().startswith("Wrote nuclei.tif, nuclei.ome.zarr, nuclei.csv")


def test_a_cancel_while_they_are_put_in_place_comes_too_late(exported_once, qtbot, monkeypatch):
    """Once every output is written, the renames into place are not stopped halfway: Cancel
    then says it is too late, and the export completes and says so."""
    viewer, widget, out, _labels, new = exported_once
    placing, go = threading.Event(), threading.Event()
    real = _export_write._place_all

    def place_all(*args, **kwargs):
        placing.set()
        assert go.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(_export_write, "_place_all", place_all)
    told: list[str] = []
    monkeypatch.setattr(_export_write, "show_info", told.append)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
        qtbot.waitUntil(placing.is_set, timeout=30_000)
        widget.cancel_button.click()
        assert widget.status_label.text().startswith("Too late to cancel")
        shown: list[int] = []  # the bar goes on to the end (it stayed where the click was)
        widget.progress_bar.valueChanged.connect(shown.append)
        go.set()
    assert {p.name for p in blocker.args[0]} == OUTPUTS
    assert 6 in shown  # reading, measuring, 3 outputs, putting them in place: 6 of 6
    np.testing.assert_array_equal(tifffile.imread(out / "nuclei.tif"), new)
    late = "Cancel came while the files were being put in place: the export completed"
    assert late in widget.status_label.text()
    assert told == [f"Export: {late} (nuclei.tif, nuclei.ome.zarr, nuclei.csv)."]


def test_closing_the_panel_mid_export_says_nothing_was_written(exported_once, qtbot, monkeypatch):
    viewer, widget, out, _labels, _new = exported_once
    before = _contents(out)
    writing, go = threading.Event(), threading.Event()
    real = engine_measure.write_csv

    def slow(*args, **kwargs):
        writing.set()
        assert go.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_measure, "write_csv", slow)
    warned: list[str] = []
    monkeypatch.setattr(_export_write, "show_warning", warned.append)
    widget.export_button.click()
    qtbot.waitUntil(writing.is_set, timeout=30_000)
    worker = widget.worker
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        viewer.window.remove_dock_widget("all")  # the panel's "x"
        go.set()
    assert warned == [
        "Export: the panel was closed; the export of 'other labels' was cancelled and "
        "nothing was written (existing files unchanged)."
    ]
    assert _contents(out) == before
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)


def _movie(labels: np.ndarray, frames: int) -> np.ndarray:
    """``frames`` frames of the nuclei labels, shifted a pixel a frame: tracks linked by ID."""
    return np.stack([np.roll(labels, t, axis=1) for t in range(frames)]).astype(np.uint16)


def test_a_ctc_folder_is_put_back_whole(make_napari_viewer, tmp_path, nuclei_sample, monkeypatch):
    """Labels of 4 frames exported as a CTC folder (a note of the user's in it too), then 3
    frames of other labels over it: a failure at the end takes the new masks back and puts
    the earlier 4 and their res_track.txt back, the note kept; done again, it holds the new
    result only, the note kept."""
    _image, labels = nuclei_sample
    monkeypatch.setattr(_export_write, "WORKER_PIXELS", 10**12)  # (on the GUI thread)
    viewer = make_napari_viewer(show=True)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    widget.path_edit.setText(str(tmp_path / "cells"))
    for box in ("zarr", "csv", "recipe"):
        getattr(widget, f"{box}_checkbox").setChecked(False)
    widget.tiff_checkbox.setChecked(True)

    def export(name: str, movie: np.ndarray) -> list[Path]:
        layer = viewer.add_labels(movie, name=name, axis_labels=("t", "y", "x"))
        _choose(widget, layer)
        widget.ctc_checkbox.setChecked(True)
        assert widget.ctc_checkbox.isEnabled(), widget.ctc_checkbox.toolTip()
        return widget.export()

    res = tmp_path / "cells_RES"
    assert export("first", _movie(labels, 4)) == [tmp_path / "cells.tif", res]
    (res / "notes.txt").write_text("the user's\n")
    before = _contents(tmp_path)
    widget.overwrite_checkbox.setChecked(True)
    real = _export_write._place

    def place_then_fail(item, overwrite, token):
        real(item, overwrite, token)
        if item.output.kind == "ctc":  # (the last: the TIFF and the folder are in place)
            assert item.merged
            raise OSError(errno.EIO, "Input/output error", str(item.output.path))

    monkeypatch.setattr(_export_write, "_place", place_then_fail)
    monkeypatch.setattr(_export_write, "show_error", lambda message: None)
    later = _movie(labels, 3)[:, ::-1]
    assert export("later", later) == []
    assert _contents(tmp_path) == before
    assert widget.status_label.text() == (
        f"Failed on {res}; nothing else written; existing files unchanged."
    )

    monkeypatch.setattr(_export_write, "_place", real)
    assert export("later again", later) == [tmp_path / "cells.tif", res]
    assert sorted(p.name for p in res.iterdir()) == [
        "mask000.tif",
        "mask001.tif",
        "mask002.tif",
        "notes.txt",
        "res_track.txt",
    ]
    assert (res / "notes.txt").read_text() == "the user's\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.tif", "cells_RES"]
    np.testing.assert_array_equal(tifffile.imread(res / "mask001.tif") > 0, later[1] > 0)

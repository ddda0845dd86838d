"""Export of labels on disk (a zarr-backed blockwise result) reads, measures and writes them in
a worker, with a progress bar and Cancel, never on the GUI thread (user test s29/t2, item 5: a
4096² result to TIFF + OME-Zarr + CSV + recipe froze the GUI 6.4 s). Cancel and a failure
leave no file of the export behind and the panel usable. The finished blockwise result, a
read-only zarr, is not editable (item 6: napari's brush raised 'store was opened in
read-only mode')."""

from __future__ import annotations

import errno
import json
import threading

import numpy as np
import pytest
import tifffile
import zarr

import tessella.engine.io._write as engine_write
import tessella.engine.measure as engine_measure
from tessella._widgets.export import ExportWidget


def _lazy_labels(tmp_path, labels: np.ndarray):
    """``labels`` as a chunked zarr opened read-only (what a blockwise result is)."""
    path = tmp_path / "result.zarr"
    array = zarr.create_array(str(path), shape=labels.shape, dtype=labels.dtype, chunks=(256, 256))
    array[...] = labels
    return zarr.open_array(str(path), mode="r")


def _export_panel(viewer, layer, base) -> ExportWidget:
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(layer.unique_id))
    widget.path_edit.setText(str(base))
    for box in (widget.tiff_checkbox, widget.csv_checkbox, widget.ome_zarr_checkbox):
        box.setChecked(True)
    return widget


@pytest.fixture
def lazy_result(make_napari_viewer, tmp_path, nuclei_sample):
    """The real nuclei sample's image and its labels as a read-only zarr layer, and an empty
    output folder."""
    image, labels = nuclei_sample
    viewer = make_napari_viewer()
    viewer.add_image(image, name="nuclei")
    layer = viewer.add_labels(
        _lazy_labels(tmp_path, labels.astype(np.uint32)), name="nuclei labels"
    )
    out = tmp_path / "out"
    out.mkdir()
    return viewer, layer, labels, out


def test_lazy_labels_are_exported_in_a_worker_with_progress(lazy_result, qtbot, monkeypatch):
    viewer, layer, labels, out = lazy_result
    widget = _export_panel(viewer, layer, out / "nuclei")
    widget.image_combo.setCurrentIndex(widget.image_combo.findText("nuclei"))
    threads: dict[str, str] = {}

    def spied(module, name):
        real = getattr(module, name)

        def call(*args, **kwargs):
            threads[name] = threading.current_thread().name
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, call)

    # (the TIFF in bands of 256 rows: three for the sample's 520 rows)
    monkeypatch.setattr(engine_measure, "PIECE_PIXELS", 256 * 256, raising=False)
    spied(engine_write, "write_labels_in_strips")  # (the TIFF a band at a time, never whole)
    spied(engine_measure, "measure_objects")
    spied(engine_measure, "write_csv")
    steps: list[tuple] = []
    formats: list[str] = []
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
        assert widget.worker is not None  # the click returned while the worker writes
        # the worker's count from the start: reading, measuring, 3 outputs, placing them
        assert widget.progress_bar.maximum() == 6
        widget.worker.yielded.connect(steps.append)
        # (what the bar says, once the panel has shown each step)
        widget.worker.yielded.connect(lambda _step: formats.append(widget.progress_bar.format()))
        assert not widget.export_button.isEnabled() and widget.cancel_button.isEnabled()
        assert not widget._choices.isEnabled()
    names = {path.name for path in blocker.args[0]}
    assert names == {"nuclei.tif", "nuclei.ome.zarr", "nuclei.csv"}
    assert set(threads) == {"write_labels_in_strips", "measure_objects", "write_csv"}
    assert threading.main_thread().name not in threads.values(), threads
    np.testing.assert_array_equal(tifffile.imread(out / "nuclei.tif"), labels)
    rows = (out / "nuclei.csv").read_text().splitlines()
    assert len(rows) - 1 == len(np.unique(labels)) - 1  # one row an object
    assert "mean_intensity" in rows[0]
    # the bar counted the steps; the panel is as before
    assert [s[2] for s in steps][-1] == "done" and steps[-1][0] == steps[-1][1]
    assert any(s[2] == "writing nuclei.tif" for s in steps)
    # (and, labels on disk, the pieces read: the TIFF's bands counted one by one)
    tif = [s[0] for s in steps if s[2] == "writing nuclei.tif"]
    assert len(tif) == 4 and tif == sorted(tif) and len(set(tif)) == 4, tif
    assert widget.progress_bar.maximum() == 1  # (reset at the end)
    assert "%v / %m pieces: writing nuclei.tif" in formats, formats
    assert widget.worker is None and widget.export_button.isEnabled()
    assert not widget.cancel_button.isEnabled() and widget._choices.isEnabled()
    assert widget.status_label.text().startswith("Wrote nuclei.tif, nuclei.ome.zarr, nuclei.csv")


def test_refusals_come_before_the_worker(lazy_result, qtbot):
    """An output that exists (Overwrite off) is refused at once, with no worker started."""
    viewer, layer, _labels, out = lazy_result
    (out / "nuclei.csv").write_text("kept\n")
    widget = _export_panel(viewer, layer, out / "nuclei")
    assert widget.export() == []
    assert widget.worker is None
    assert "already exists" in widget.status_label.text()
    assert sorted(p.name for p in out.iterdir()) == ["nuclei.csv"]


def test_cancel_leaves_no_file_and_the_panel_exports_again(lazy_result, qtbot, monkeypatch):
    viewer, layer, labels, out = lazy_result
    widget = _export_panel(viewer, layer, out / "nuclei")
    writing, go = threading.Event(), threading.Event()
    real = engine_write.write_labels_in_strips

    def slow_write(*args, **kwargs):  # the TIFF's bands are read once Cancel was clicked
        writing.set()
        assert go.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_write, "write_labels_in_strips", slow_write)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
        qtbot.waitUntil(writing.is_set, timeout=30_000)
        widget.cancel_button.click()
        assert "Cancelling" in widget.status_label.text()
        go.set()
    assert blocker.args[0] == []
    assert list(out.iterdir()) == []  # the TIFF written before the cancel was removed
    assert widget.status_label.text() == (
        "Cancelled: nothing written for 'nuclei labels'; existing files unchanged."
    )
    assert widget.worker is None and widget.export_button.isEnabled()

    monkeypatch.setattr(engine_write, "write_labels_in_strips", real)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
    assert {p.name for p in blocker.args[0]} == {"nuclei.tif", "nuclei.ome.zarr", "nuclei.csv"}


def test_a_failed_write_leaves_no_file_and_the_panel_usable(lazy_result, qtbot, monkeypatch):
    viewer, layer, _labels, out = lazy_result
    widget = _export_panel(viewer, layer, out / "nuclei")
    widget.recipe_checkbox.setChecked(False)

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(engine_measure, "write_csv", full)
    errors: list[str] = []
    from tessella._widgets import _export_write

    monkeypatch.setattr(_export_write, "show_error", errors.append)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
    assert blocker.args[0] == []
    assert list(out.iterdir()) == []  # the TIFF and OME-Zarr written before it are removed
    assert errors == [f"Export: cannot write {out / 'nuclei.csv'}: No space left on device"]
    assert widget.status_label.text() == f"Failed on {out / 'nuclei.csv'}; nothing else written."
    assert widget.worker is None and widget.export_button.isEnabled()
    assert widget._choices.isEnabled() and not widget.cancel_button.isEnabled()


def test_finished_blockwise_result_is_not_editable_and_exports(
    segment_widget, nuclei_sample, tmp_path, run_to_end, qtbot
):
    """A real blockwise run: its result is a read-only zarr layer that napari's brush, fill
    and eraser cannot edit (editable False), and Export writes it with its recipe."""
    image = nuclei_sample[0]
    array = zarr.create_array(
        str(tmp_path / "nuclei.zarr"), shape=image.shape, dtype=image.dtype, chunks=(256, 256)
    )
    array[...] = image
    viewer, widget = segment_widget
    viewer.add_image(zarr.open_array(str(tmp_path / "nuclei.zarr"), mode="r"), name="big")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("big"))
    widget.blockwise_checkbox.setChecked(True)
    widget.blockwise_edit.setText(str(tmp_path / "big_labels.zarr"))
    widget.block_spin.setValue(256)
    run_to_end(widget)
    layer = viewer.layers["big labels (nuclei2d)"]
    assert not isinstance(layer.data, np.ndarray)
    assert layer.editable is False
    out = tmp_path / "out"
    out.mkdir()
    export = _export_panel(viewer, layer, out / "big")
    with qtbot.waitSignal(export.exported, timeout=60_000) as blocker:
        export.export_button.click()
        assert export.worker is not None
    names = {p.name for p in blocker.args[0]}
    assert names == {"big.tif", "big.ome.zarr", "big.csv", "big.recipe.json"}
    recipe = json.loads((out / "big.recipe.json").read_text())
    assert recipe["exported"]["tiff"] == "big.tif" and "labels_digest" in recipe
    np.testing.assert_array_equal(tifffile.imread(out / "big.tif"), np.asarray(layer.data))


def test_labels_on_disk_are_not_read_on_the_gui_thread_when_the_input_is_hashed(
    make_napari_viewer, tmp_path, nuclei_sample, qtbot, monkeypatch
):
    """The tester's case: the image opened from a zarr file (its identity goes in the
    recipe, hashed in a worker first), the labels a read-only zarr with Segment's recipe.
    The labels were copied whole on the GUI thread before hashing, and compared whole after."""
    from tessella._widgets.segment import RECIPE_KEY, SOURCE_ID_KEY, SOURCE_KEY
    from tests.conftest import SEGMENT_RECIPE

    image, labels = nuclei_sample
    source = zarr.create_array(
        str(tmp_path / "nuclei.zarr"), shape=image.shape, dtype=image.dtype, chunks=(256, 256)
    )
    source[...] = image
    viewer = make_napari_viewer()
    [opened] = viewer.open(str(tmp_path / "nuclei.zarr"), plugin="tessella")
    recipe = {k: v for k, v in SEGMENT_RECIPE.items() if k != "input"}
    metadata = {RECIPE_KEY: recipe, SOURCE_KEY: opened.name, SOURCE_ID_KEY: opened.unique_id}
    layer = viewer.add_labels(
        _lazy_labels(tmp_path, labels.astype(np.uint32)), name="nuclei labels", metadata=metadata
    )
    out = tmp_path / "out"
    out.mkdir()
    widget = _export_panel(viewer, layer, out / "nuclei")
    assert widget.recipe_checkbox.isEnabled() and widget.recipe_checkbox.isChecked()
    reads: list[str] = []
    real = zarr.Array.__array__

    def spy(self, *args, **kwargs):
        if tuple(self.shape) == labels.shape:
            reads.append(threading.current_thread().name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(zarr.Array, "__array__", spy)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
    names = {p.name for p in blocker.args[0]}
    assert names == {"nuclei.tif", "nuclei.ome.zarr", "nuclei.csv", "nuclei.recipe.json"}
    assert reads == []  # (never read whole: the worker reads them a piece at a time)
    written = json.loads((out / "nuclei.recipe.json").read_text())
    assert "input_identity" in written

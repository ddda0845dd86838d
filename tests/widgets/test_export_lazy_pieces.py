"""Export of labels on disk (a blockwise result opened lazily) to zarr, OME-Zarr (its levels
included) and CSV reads them a piece at a time, never whole, and writes the very files the
labels in memory give (user test s32/t9, finding 3: Export of a 12288² result read all 576
MiB of its labels, napari's memory 1.69 -> 2.68 GB)."""

from __future__ import annotations

import hashlib
import json
import threading

import numpy as np
import pytest
import zarr

import tessella.engine.io._write as engine_write
import tessella.engine.measure as engine_measure
from tessella._widgets.export import ExportWidget


def _files(folder):
    """Every file under ``folder``: its path there -> SHA-256 of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _panel(viewer, layer, base) -> ExportWidget:
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(layer.unique_id))
    widget.image_combo.setCurrentIndex(widget.image_combo.findText("nuclei"))
    widget.path_edit.setText(str(base))
    widget.tiff_checkbox.setChecked(False)
    for box in (widget.csv_checkbox, widget.ome_zarr_checkbox, widget.zarr_checkbox):
        box.setChecked(True)
    return widget


@pytest.fixture
def worker_reads(monkeypatch):
    """The size of every zarr read made off the GUI thread (Export's worker)."""
    reads: list[int] = []
    real = zarr.Array.__getitem__

    def spied(self, selection):
        found = real(self, selection)
        if threading.current_thread() is not threading.main_thread():
            reads.append(int(np.size(found)))
        return found

    monkeypatch.setattr(zarr.Array, "__getitem__", spied)
    return reads


def test_labels_on_disk_are_exported_in_pieces_as_in_memory(
    make_napari_viewer, tmp_path, nuclei_sample, qtbot, monkeypatch, worker_reads
):
    image, labels = nuclei_sample
    labels = labels.astype(np.uint32)
    # pieces of one 128² chunk, and levels below 512² (the sample is 520x512): nuclei cross
    # the pieces' borders, and the OME-Zarr's levels are written a piece at a time too
    monkeypatch.setattr(engine_measure, "PIECE_PIXELS", 128 * 128, raising=False)
    monkeypatch.setattr(engine_write, "LEVELS_PIXELS", 256 * 256)
    monkeypatch.setattr(engine_write, "LEVELS_SMALLEST", 128)
    stored = zarr.create_array(
        str(tmp_path / "result.zarr"), shape=labels.shape, dtype=labels.dtype, chunks=(128, 128)
    )
    stored[...] = labels
    viewer = make_napari_viewer()
    viewer.add_image(image, name="nuclei", scale=(0.5, 0.5))
    lazy = viewer.add_labels(
        zarr.open_array(str(tmp_path / "result.zarr"), mode="r"), name="lazy", scale=(0.5, 0.5)
    )
    in_memory = viewer.add_labels(labels, name="in memory", scale=(0.5, 0.5))
    (tmp_path / "pieces").mkdir()
    (tmp_path / "whole").mkdir()

    widget = _panel(viewer, lazy, tmp_path / "pieces" / "nuclei")
    worker_reads.clear()
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
        assert widget.worker is not None  # (labels on disk: in a worker)
    names = sorted(path.name for path in blocker.args[0])
    assert names == ["nuclei.csv", "nuclei.ome.zarr", "nuclei.zarr"], widget.status_label.text()
    # (measured a 128² chunk at a time; written a chunk of the zarr written, 512², at a time)
    assert worker_reads and max(worker_reads) <= 512 * 512 < labels.size, max(worker_reads)

    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(in_memory.unique_id))
    widget.path_edit.setText(str(tmp_path / "whole" / "nuclei"))
    written = widget.export()  # (labels in memory: written at once, read whole)
    assert sorted(path.name for path in written) == names

    pieces, whole = _files(tmp_path / "pieces"), _files(tmp_path / "whole")
    attrs = "nuclei.ome.zarr/.zattrs"  # (named after its layer: 'lazy', 'in memory')
    assert pieces.pop(attrs) != whole.pop(attrs) and pieces == whole
    said = [
        json.loads((tmp_path / folder / attrs).read_text().replace(name, '"N"'))
        for folder, name in (("pieces", '"lazy"'), ("whole", '"in memory"'))
    ]
    assert said[0] == said[1] and len(said[0]["multiscales"][0]["datasets"]) == 4
    assert "nuclei.ome.zarr/3/.zarray" in whole  # (levels 1 to 3 were written)
    rows = (tmp_path / "pieces" / "nuclei.csv").read_text().splitlines()
    assert len(rows) - 1 == len(np.unique(labels)) - 1
    assert "area_um2" in rows[0] and "mean_intensity" in rows[0]


def test_cancel_between_pieces_leaves_nothing(tmp_path, monkeypatch):
    """Cancel, looked at between two pieces of labels on disk, stops the export while it
    writes a zarr: nothing is left (the temporary zarr removed)."""
    from tessella._widgets._export_outputs import _Output
    from tessella._widgets._export_write import _export_steps, _Plan

    monkeypatch.setattr(engine_measure, "PIECE_PIXELS", 64 * 64, raising=False)
    labels = np.zeros((256, 256), np.uint16)
    labels[10:200, 10:200] = 7
    stored = zarr.create_array(
        str(tmp_path / "l.zarr"), shape=labels.shape, dtype=labels.dtype, chunks=(64, 64)
    )
    stored[...] = labels
    out = tmp_path / "out"
    out.mkdir()
    plan = _Plan(
        name="l",
        outputs=[_Output("zarr", out / "l.zarr"), _Output("csv", out / "l.csv")],
        overwrite=False,
        make_folder=None,
        data=zarr.open_array(str(tmp_path / "l.zarr"), mode="r"),
        axes="YX",
        pixel_size=None,
        unit="pixel",
        stack=None,
        image=None,
        result=None,
        numbers=None,
        lineage={},
        recipe=None,
    )
    steps = _export_steps(plan)
    said = []
    try:
        while True:
            said.append(next(steps)[2])
            if said[-1] == "writing l.zarr":  # (Cancel now: seen by the zarr's writer)
                break
    except StopIteration:
        pytest.fail(f"ended early: {said}")
    assert said[0] == "checking 'l' (a piece at a time)"
    assert "measuring the objects (a piece at a time)" in said
    plan.cancel.set()
    with pytest.raises(StopIteration) as stop:
        next(steps)
    assert stop.value.value.cancelled
    assert sorted(p.name for p in out.iterdir()) == []
    assert len(said) == 3  # (no step after the zarr's)


def test_a_cancel_seen_between_pieces_stops_the_writer(tmp_path):
    from tessella._widgets._export_lazy import Stopped, write_labels_in_pieces

    stored = zarr.create_array(
        str(tmp_path / "l.zarr"), shape=(600, 600), dtype=np.uint16, chunks=(64, 64)
    )
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Stopped):
        write_labels_in_pieces(
            tmp_path / "w.zarr", stored, (0, 1), "YX", None, "pixel", ome=False, cancel=cancel
        )

"""Export of labels on disk (a lazy zarr-backed layer) reads their store in several passes
(range, measures, each output) over seconds: a write into that store meanwhile (Correct's
Write back, or any other) gave a CSV and a zarr of different labels, silently (user test
s32/r6 finding 11: 8235 CSV rows, 8216 objects in the zarr). The store's files are stamped
as the export begins and again before its files are put in place: changed, nothing is
written and the status line says so, naming the layer and the store."""

from __future__ import annotations

import hashlib

import numpy as np
import zarr

import tessella.engine.measure as engine_measure
from tessella._widgets.export import ExportWidget


def _files(folder):
    """Every file under ``folder``: its path there -> SHA-256 of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _csv_ids(path) -> set[int]:
    rows = path.read_text().splitlines()
    column = rows[0].split(",").index("label")
    return {int(row.split(",")[column]) for row in rows[1:]}


def test_a_write_into_the_store_while_exporting_writes_nothing(
    make_napari_viewer, tmp_path, nuclei_sample, qtbot, monkeypatch
):
    image, labels = nuclei_sample
    labels = labels.astype(np.uint32)
    store = tmp_path / "result.zarr"
    stored = zarr.create_array(
        str(store), shape=labels.shape, dtype=labels.dtype, chunks=(128, 128)
    )
    stored[...] = labels
    viewer = make_napari_viewer()
    viewer.add_image(image, name="nuclei")
    lazy = viewer.add_labels(zarr.open_array(str(store), mode="r"), name="lazy")
    out = tmp_path / "out"
    out.mkdir()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(lazy.unique_id))
    widget.image_combo.setCurrentIndex(widget.image_combo.findText("nuclei"))
    widget.path_edit.setText(str(out / "n"))
    widget.tiff_checkbox.setChecked(False)
    widget.ome_zarr_checkbox.setChecked(False)
    for box in (widget.csv_checkbox, widget.zarr_checkbox, widget.overwrite_checkbox):
        box.setChecked(True)

    # a normal export: written, the CSV and the zarr of the same labels
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
        assert widget.worker is not None  # (labels on disk: in a worker)
    assert sorted(p.name for p in blocker.args[0]) == ["n.csv", "n.zarr"]
    objects = set(np.unique(labels).tolist()) - {0}
    assert _csv_ids(out / "n.csv") == objects
    assert set(np.unique(zarr.open_array(str(out / "n.zarr"))[...]).tolist()) - {0} == objects
    before = _files(out)

    # the next export: once the objects are measured (the CSV's rows known), another writer
    # deletes the objects of the top-left chunk in the store, as Write back does
    real = engine_measure.measure_objects
    gone = set(np.unique(labels[:128, :128]).tolist()) - {0}
    assert gone

    def measured_then_written(*args, **kwargs):
        table = real(*args, **kwargs)
        writer = zarr.open_array(str(store), mode="r+")
        writer[:128, :128] = 0
        return table

    monkeypatch.setattr(engine_measure, "measure_objects", measured_then_written)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
    said = widget.status_label.text()
    assert blocker.args[0] == [], said
    assert said.startswith("Nothing written: the labels of 'lazy' in "), said
    assert str(store) in said and "changed on disk while exporting" in said, said
    assert "Export again" in said, said
    assert _files(out) == before  # the earlier files untouched, no temporary left
    assert sorted(p.name for p in out.iterdir()) == ["n.csv", "n.zarr"]
    assert widget.export_button.isEnabled()

    # exported again, nothing writing meanwhile: the CSV and the zarr agree, without them
    monkeypatch.setattr(engine_measure, "measure_objects", real)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
    assert sorted(p.name for p in blocker.args[0]) == ["n.csv", "n.zarr"], (
        widget.status_label.text()
    )
    in_zarr = set(np.unique(zarr.open_array(str(out / "n.zarr"))[...]).tolist()) - {0}
    assert in_zarr == set(np.unique(zarr.open_array(str(store))[...]).tolist()) - {0}
    assert _csv_ids(out / "n.csv") == in_zarr != objects  # (the objects wholly there: gone)

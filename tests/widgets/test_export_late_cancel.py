"""Export's windows where a file could change unsaid (review r2, findings 1 and 4).

A Cancel, or the panel closed, just as the input file's hash ends: the hashing worker has
returned, its 'returned' signal is queued, and quit() cannot take it back. Before, the
export then went on and wrote (with Overwrite, over the earlier file) after the panel said
that nothing was written. Now nothing is written, and the status line says it was cancelled.

A failure while the outputs are put in place, where an earlier file cannot be put back (or,
after a successful export, cannot be removed): before, the status line said "existing files
unchanged" while the earlier file was left under a hidden name; now it names that file."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
from qtpy.QtCore import QThreadPool

import tessella._widgets._export_write as export_write
import tessella.engine.io._leftovers as leftovers
from tessella._widgets.export import ExportWidget
from tests.widgets.test_export_identity_as_read import _widget, opened  # noqa: F401


@pytest.mark.parametrize("how", ["cancel", "close"])
def test_a_cancel_as_the_hash_ends_writes_nothing(opened, tmp_path, qtbot, monkeypatch, how):  # noqa: F811
    viewer, _image, _labels_layer, path = opened
    labels = _labels_layer
    monkeypatch.setattr(export_write, "_IDENTITIES", {})  # (hashed in the worker)
    warned: list[str] = []
    monkeypatch.setattr(export_write, "show_warning", warned.append)
    out = tmp_path / "out"
    out.mkdir()
    (out / "cells.tif").write_bytes(b"the earlier labels")
    widget = _widget(viewer, labels, out / "cells")
    widget.overwrite_checkbox.setChecked(True)

    assert widget.export() == []
    assert widget.worker is not None  # hashing img2d.tif
    # the worker returns; its signals wait in the GUI thread's queue (no event handled)
    assert QThreadPool.globalInstance().waitForDone(30_000)
    if how == "cancel":
        widget.cancel_button.click()
    else:
        viewer.window.remove_dock_widget("all")  # the panel's "x"
    qtbot.waitUntil(lambda: widget.worker is None, timeout=10_000)
    qtbot.wait(50)

    assert sorted(p.name for p in out.iterdir()) == ["cells.tif"]
    assert (out / "cells.tif").read_bytes() == b"the earlier labels"
    assert widget.status_label.text() == (
        f"Cancelled: nothing written (reading {path} for the recipe was stopped)."
    )
    closed = [
        "Export: the panel was closed; the export was cancelled and nothing was written "
        "(existing files unchanged)."
    ]
    assert warned == (closed if how == "close" else [])


@pytest.fixture
def cells(make_napari_viewer, tmp_path):
    """Small labels (no recipe) to export as TIFF and CSV over earlier files, Overwrite on:
    written on the GUI thread."""
    viewer = make_napari_viewer()
    labels = np.zeros((32, 32), np.uint16)
    labels[4:10, 4:10] = 1
    labels[20:28, 12:30] = 2
    layer = viewer.add_labels(labels, name="cells")
    widget = ExportWidget(viewer)
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(layer.unique_id))
    widget.path_edit.setText(str(tmp_path / "cells"))
    widget.tiff_checkbox.setChecked(True)
    widget.csv_checkbox.setChecked(True)
    widget.recipe_checkbox.setChecked(False)
    widget.overwrite_checkbox.setChecked(True)
    (tmp_path / "cells.tif").write_bytes(b"earlier tif")
    (tmp_path / "cells.csv").write_text("earlier csv\n")
    return widget


def test_an_earlier_file_not_put_back_is_named(cells, tmp_path, monkeypatch):
    """The CSV cannot be renamed into place, and the TIFF it replaced cannot be put back:
    the status line and the error name the hidden file that holds it."""
    widget = cells
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        src, dst = Path(src), Path(dst)
        if dst == tmp_path / "cells.csv" and src.name.endswith(".tmp"):
            raise OSError(errno.EIO, "Input/output error")
        if dst == tmp_path / "cells.tif" and src.name.endswith(".old"):
            raise OSError(errno.EACCES, "Permission denied")
        return real(src, dst, *args, **kwargs)

    errors: list[str] = []
    monkeypatch.setattr(export_write, "show_error", errors.append)
    monkeypatch.setattr(os, "replace", replace)
    assert widget.export() == []
    monkeypatch.setattr(os, "replace", real)

    [old] = tmp_path.glob(".cells.tif.*.old")
    assert old.read_bytes() == b"earlier tif"
    assert not (tmp_path / "cells.tif").exists()
    assert (tmp_path / "cells.csv").read_text() == "earlier csv\n"
    kept = (
        "the earlier cells.tif could not be put back (PermissionError: [Errno 13] Permission "
        f"denied): it is kept as {old} (rename it cells.tif to get it back)"
    )
    assert widget.status_label.text() == (
        f"Failed on {tmp_path / 'cells.csv'}; nothing else written; but {kept}."
    )
    assert len(errors) == 1 and errors[0].endswith(f"; but {kept}")


def test_an_earlier_file_not_removed_is_named(cells, tmp_path, monkeypatch):
    """The export succeeds, but what it replaced cannot be removed: it is named."""
    widget = cells
    warned: list[str] = []
    monkeypatch.setattr(export_write, "show_warning", warned.append)
    monkeypatch.setattr(leftovers, "_remove", lambda path: None)  # (rmtree ignores errors)

    written = widget.export()

    assert [p.name for p in written] == ["cells.tif", "cells.csv"]
    left = sorted(tmp_path.glob(".cells.*.del"))
    assert [p.name.split(".")[2] for p in left] == ["csv", "tif"]
    text = widget.status_label.text()
    assert text.startswith("Wrote cells.tif, cells.csv (2 objects)")
    for name, hidden in (("cells.csv", left[0]), ("cells.tif", left[1])):
        assert f"earlier {name} it replaced could not be removed: it is left as {hidden}" in text
    assert len(warned) == 1 and str(left[1]) in warned[0]

"""Export of labels with IDs above 4,294,967,295 (a uint64 layer): as zarr they are written
uint64, each ID kept; as TIFF (uint32 at most) the export fails naming the .tif and how to
relabel them, and writes nothing (before, 2**32 + 5 was written as 5, merged with object 5)."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _export_write
from tessella._widgets.export import ExportWidget
from tessella.engine.io import read_image
from tests.widgets.helpers import said

BIG = 2**32 + 5


@pytest.fixture
def exporter(make_napari_viewer, monkeypatch):
    labels = np.zeros((16, 16), np.uint64)
    labels[2:6, 2:6], labels[8:12, 8:12] = BIG, 5
    viewer = make_napari_viewer()
    viewer.add_labels(labels, name="big")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    return widget, said(monkeypatch, _export_write)


def test_export_as_zarr_keeps_ids_above_uint32(exporter, tmp_path):
    widget, errors = exporter
    widget.tiff_checkbox.setChecked(False)  # (ticked at first)
    widget.zarr_checkbox.setChecked(True)
    widget.path_edit.setText(str(tmp_path / "big"))
    written = widget.export()
    assert written == [tmp_path / "big.zarr", tmp_path / "big.csv"], widget.status_label.text()
    back = np.asarray(read_image(tmp_path / "big.zarr").data)
    assert back.dtype == np.uint64 and (int(back[3, 3]), int(back[9, 9])) == (BIG, 5)
    rows = (tmp_path / "big.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["5", str(BIG)]
    assert errors == []


def test_export_as_tiff_of_ids_above_uint32_fails_naming_the_file(exporter, tmp_path):
    widget, errors = exporter
    widget.tiff_checkbox.setChecked(True)
    widget.zarr_checkbox.setChecked(True)
    widget.path_edit.setText(str(tmp_path / "big"))
    assert widget.export() == []
    assert list(tmp_path.iterdir()) == []
    tif = tmp_path / "big.tif"
    assert len(errors) == 1
    assert errors[0].startswith(f"Export: cannot write {tif}: label ID {BIG} is above"), errors
    assert "relabel" in errors[0] and ".tmp" not in errors[0]
    assert widget.status_label.text().startswith(f"Failed on {tif}; nothing else written")

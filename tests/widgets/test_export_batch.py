"""Export reads its folder once for what killed writes left there, not once an output
(follow-up of 3462f1d): the recovery before it and each engine writer behind its outputs
(``write_labels``, ``write_zarr_labels``, ``write_csv``, ...) read the whole folder, so an
export of three outputs into a folder of 300 files read some 2,000 names. Its recovery and
its writes are now each a ``batch_of_writes``. Counted in names read, not timed."""

from __future__ import annotations

import numpy as np

from tessella._widgets.export import ExportWidget
from tests.engine._leftovers_common import _count_names_read

CELLS = np.zeros((16, 16), np.uint16)
CELLS[2:6, 2:6], CELLS[9:14, 8:13] = 1, 2


def test_an_export_reads_its_folder_once_for_its_recovery_and_once_for_its_writes(
    make_napari_viewer, tmp_path, monkeypatch
):
    for i in range(300):
        (tmp_path / f"earlier{i:03d}.tif").write_bytes(b"")
    viewer = make_napari_viewer()
    viewer.add_labels(CELLS, name="cells")
    widget = ExportWidget(viewer)
    widget.path_edit.setText(str(tmp_path / "cells"))
    widget.zarr_checkbox.setChecked(True)
    read = _count_names_read(monkeypatch, tmp_path)
    written = widget.export()
    assert sorted(p.name for p in written) == ["cells.csv", "cells.tif", "cells.zarr"]
    # (twice: about 600 names; once an output and once a write would be 6 x 300 and more)
    assert read[0] <= 2 * 303 + 20, read[0]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]

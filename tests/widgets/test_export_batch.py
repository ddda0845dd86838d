"""Export reads its folder once for what killed writes left there, not once an output
(follow-up of 3462f1d): the recovery before it and each engine writer behind its outputs
(``write_labels``, ``write_zarr_labels``, ``write_csv``, ...) read the whole folder, so an
export of three outputs into a folder of 300 files read some 2,000 names. Its recovery and
its writes are now each a ``batch_of_writes``. Counted in names read, not timed."""

from __future__ import annotations

import os

import numpy as np

from tessella._widgets.export import ExportWidget

CELLS = np.zeros((16, 16), np.uint16)
CELLS[2:6, 2:6], CELLS[9:14, 8:13] = 1, 2


class _Listing(list):
    """What os.scandir returns, read whole."""

    def __enter__(self):
        return iter(self)

    def __exit__(self, *exc):
        return False

    def close(self):
        pass


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
    read = [0]
    scandir, listdir = os.scandir, os.listdir

    def ours(path) -> bool:
        return os.path.abspath(path) == str(tmp_path)

    def counted_scandir(path="."):
        if not ours(path):
            return scandir(path)
        with scandir(path) as scan:
            entries = _Listing(scan)
        read[0] += len(entries)
        return entries

    def counted_listdir(path="."):
        names = listdir(path)
        read[0] += len(names) if ours(path) else 0
        return names

    monkeypatch.setattr(os, "scandir", counted_scandir)
    monkeypatch.setattr(os, "listdir", counted_listdir)
    written = widget.export()
    assert sorted(p.name for p in written) == ["cells.csv", "cells.tif", "cells.zarr"]
    # (twice: about 600 names; once an output and once a write would be 6 x 300 and more)
    assert read[0] <= 2 * 303 + 20, read[0]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]

"""A write never replaces a file or folder that someone else made at its target while it
ran, where it was not asked to (``overwrite=False``). Before, ``atomic_path(...,
overwrite=False)`` checked the target before the write and then renamed over it (a file
made meanwhile was replaced without a word), ``write_zarr_labels(..., overwrite=False)``
moved a folder made meanwhile aside and removed it, and ``write_ctc(..., overwrite=False)``
merged its result into a folder given one meanwhile. Now the rename refuses to replace
(``rename_no_replace``: renameat2 RENAME_NOREPLACE on Linux, else a hard link) and the
write fails with FileExistsError, their file kept."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from tessella.engine.io import _write, atomic_path, write_zarr_labels

LABELS = np.zeros((8, 8), np.uint16)
LABELS[2:5, 2:5] = 1


def _hidden(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_atomic_path_without_overwrite_keeps_a_file_made_meanwhile(tmp_path):
    out = tmp_path / "table.csv"
    with pytest.raises(FileExistsError):
        with atomic_path(out, overwrite=False) as tmp:
            tmp.write_text("ours\n")
            out.write_text("theirs\n")  # (another writer, while this one runs)
    assert out.read_text() == "theirs\n"
    assert _hidden(tmp_path) == []


def test_write_zarr_labels_without_overwrite_keeps_a_folder_made_meanwhile(tmp_path, monkeypatch):
    out = tmp_path / "labels.zarr"
    real = _write.unit_for

    def unit_for(unit, fmt):  # (called while the new labels are written)
        if not out.exists():
            zarr.create_array(str(out), shape=(2, 2), dtype="u1")[...] = 9
        return real(unit, fmt)

    monkeypatch.setattr(_write, "unit_for", unit_for)
    with pytest.raises(FileExistsError):
        write_zarr_labels(out, LABELS, overwrite=False)
    assert zarr.open_array(str(out)).shape == (2, 2)  # theirs, kept
    assert _hidden(tmp_path) == []


def test_write_ctc_without_overwrite_keeps_a_result_made_meanwhile(tmp_path, monkeypatch):
    import tifffile

    from tessella.engine.tracking import write_ctc

    res = tmp_path / "01_RES"

    imwrite = tifffile.imwrite

    def write(path, *args, **kwargs):  # (another run writes a result there meanwhile)
        if not (res / "mask000.tif").exists():
            res.mkdir(exist_ok=True)
            imwrite(res / "mask000.tif", np.full((8, 8), 3, np.uint16))
        return imwrite(path, *args, **kwargs)

    monkeypatch.setattr(tifffile, "imwrite", write)
    with pytest.raises(FileExistsError):
        write_ctc(np.stack([LABELS] * 2), None, res, overwrite=False)
    monkeypatch.undo()
    assert sorted(p.name for p in res.iterdir()) == ["mask000.tif"]
    assert (tifffile.imread(res / "mask000.tif") == 3).all()
    assert _hidden(tmp_path) == []

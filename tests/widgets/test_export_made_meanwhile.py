"""Without *Overwrite existing files*, Export never replaces what another program made at an
output's name while it wrote (follow-up of 251bd62): it looked (nothing there), then
``os.replace``'d its output in, so a file made between the look and the rename was lost,
and a CTC folder made meanwhile was replaced (empty) or failed as "Directory not empty".
Its outputs are now renamed in with ``rename_no_replace``: a target made meanwhile is a
refusal naming it, kept as it is, and nothing else is written. The race is simulated by
making the target once every output is written, hidden from a look
(``Path.exists``/``is_symlink`` say it is not there), as if made right after Export looked."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import tifffile

from tessella._widgets import _export_write
from tessella._widgets.export import ExportWidget

CELLS = np.zeros((16, 16), np.uint16)
CELLS[2:6, 2:6], CELLS[9:14, 8:13] = 1, 2


def _made_meanwhile(monkeypatch, target: pathlib.Path, make) -> None:
    """``make(target)`` once the outputs are written, before they are put in place; the
    target then looks missing to ``Path.exists`` and ``Path.is_symlink`` (the look came
    before it was made)."""
    real_place_all = _export_write._place_all
    exists, is_symlink = pathlib.Path.exists, pathlib.Path.is_symlink

    def place_all(*args, **kwargs):
        make(target)
        with monkeypatch.context() as hidden:
            hidden.setattr(
                pathlib.Path, "exists", lambda p, *a, **k: p != target and exists(p, *a, **k)
            )
            hidden.setattr(pathlib.Path, "is_symlink", lambda p: p != target and is_symlink(p))
            return real_place_all(*args, **kwargs)

    monkeypatch.setattr(_export_write, "_place_all", place_all)


def _widget(make_napari_viewer, tmp_path, data=CELLS, **layer) -> ExportWidget:
    viewer = make_napari_viewer()
    viewer.add_labels(data, name="cells", **layer)
    widget = ExportWidget(viewer)
    widget.path_edit.setText(str(tmp_path / "cells"))
    widget.zarr_checkbox.setChecked(False)
    widget.overwrite_checkbox.setChecked(False)
    return widget


def test_a_file_made_meanwhile_is_kept_and_named(make_napari_viewer, tmp_path, monkeypatch):
    errors: list[str] = []
    monkeypatch.setattr(_export_write, "show_error", errors.append)
    widget = _widget(make_napari_viewer, tmp_path)
    target = tmp_path / "cells.tif"
    _made_meanwhile(monkeypatch, target, lambda p: p.write_bytes(b"theirs"))

    assert widget.export() == []
    assert target.read_bytes() == b"theirs"  # (was replaced by Export's TIFF)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.tif"]  # no CSV, nothing hidden
    assert errors == [f"Export: cannot write {target}: it was made while the export was written"]
    assert str(target) in widget.status_label.text()


@pytest.mark.parametrize("holds", ["nothing", "a result"])
def test_a_ctc_folder_made_meanwhile_is_not_merged_into(
    make_napari_viewer, tmp_path, monkeypatch, holds
):
    errors: list[str] = []
    monkeypatch.setattr(_export_write, "show_error", errors.append)
    movie = np.stack([CELLS, CELLS, CELLS])
    widget = _widget(make_napari_viewer, tmp_path, movie, axis_labels=("t", "y", "x"))
    widget.tiff_checkbox.setChecked(False)
    widget.csv_checkbox.setChecked(False)
    widget.ctc_checkbox.setChecked(True)
    assert widget.ctc_checkbox.isEnabled(), widget.ctc_checkbox.toolTip()
    target = tmp_path / "cells_RES"
    theirs = np.full((16, 16), 7, np.uint16)

    def make(folder):
        folder.mkdir()
        if holds == "a result":
            tifffile.imwrite(folder / "mask000.tif", theirs)
            (folder / "res_track.txt").write_text("7 0 0 0\n")

    _made_meanwhile(monkeypatch, target, make)

    assert widget.export() == []
    expected = [] if holds == "nothing" else ["mask000.tif", "res_track.txt"]
    assert sorted(p.name for p in target.iterdir()) == expected  # (an empty one was replaced)
    if expected:
        np.testing.assert_array_equal(tifffile.imread(target / "mask000.tif"), theirs)
        assert (target / "res_track.txt").read_text() == "7 0 0 0\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells_RES"]
    assert errors == [f"Export: cannot write {target}: it was made while the export was written"]

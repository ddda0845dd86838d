"""Export's *First frame number*, for labels that record no frame numbers (a TYX stack of
frames 52-57, labels not read from ``t052.tif ...``): their CTC masks were named from 0 with
no way to say otherwise (user test s31/t7), while ``tessella segment --first-frame N`` names
them from N (b6edf2d). The box is shown only while the CTC folder is ticked for such labels;
set to N, the masks are ``maskN.tif ...``, ``res_track.txt`` in those frames, and the CSV's
``frame`` column gives the same numbers."""

from __future__ import annotations

import csv

import numpy as np

from tessella._widgets.export import ExportWidget
from tessella.engine.tracking import read_ctc_tracks

FRAME = np.zeros((16, 16), np.uint16)
FRAME[2:6, 2:6], FRAME[9:14, 8:13] = 1, 2
MOVIE = np.stack([FRAME, FRAME, FRAME])


def _widget(make_napari_viewer, tmp_path, **metadata) -> ExportWidget:
    viewer = make_napari_viewer()
    viewer.add_labels(MOVIE, name="cells", axis_labels=("t", "y", "x"), metadata=metadata)
    widget = ExportWidget(viewer)
    widget.path_edit.setText(str(tmp_path / "cells"))
    for box in ("tiff", "zarr", "recipe"):
        getattr(widget, f"{box}_checkbox").setChecked(False)
    return widget


def _shown(widget: ExportWidget) -> bool:
    return widget._first_frame_row.isVisibleTo(widget)


def test_first_frame_number_names_the_ctc_masks_and_the_csv_frames(make_napari_viewer, tmp_path):
    widget = _widget(make_napari_viewer, tmp_path)
    assert not _shown(widget)  # (CTC not ticked)
    widget.ctc_checkbox.setChecked(True)
    assert widget.ctc_checkbox.isEnabled(), widget.ctc_checkbox.toolTip()
    assert _shown(widget)
    widget.first_frame_spin.setValue(52)
    # (what a recipe written beside them records, as segment --first-frame's does)
    assert widget._frame_numbers_to_record() == [52, 53, 54]

    written = widget.export()
    assert sorted(p.name for p in written) == ["cells.csv", "cells_RES"]
    res = tmp_path / "cells_RES"
    assert sorted(p.name for p in res.glob("mask*.tif")) == [
        "mask052.tif",
        "mask053.tif",
        "mask054.tif",
    ]
    tracks = read_ctc_tracks(res / "res_track.txt")
    assert {(k.start, k.end) for k in tracks} == {(52, 54)}
    with open(tmp_path / "cells.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["t"], r["frame"]) for r in rows] == [
        ("0", "52"),
        ("0", "52"),
        ("1", "53"),
        ("1", "53"),
        ("2", "54"),
        ("2", "54"),
    ]
    assert "CTC masks numbered from 52 (First frame number)" in widget.status_label.text()


def test_it_is_not_offered_for_labels_that_record_their_frame_numbers(make_napari_viewer, tmp_path):
    widget = _widget(make_napari_viewer, tmp_path, frame_numbers=[7, 8, 9])
    widget.ctc_checkbox.setChecked(True)
    assert not _shown(widget)
    widget.first_frame_spin.setValue(52)  # (hidden: not used)
    widget.csv_checkbox.setChecked(False)
    widget.export()
    names = sorted(p.name for p in (tmp_path / "cells_RES").glob("mask*.tif"))
    assert names == ["mask007.tif", "mask008.tif", "mask009.tif"]


def test_unticking_ctc_hides_it_and_0_names_them_from_0(make_napari_viewer, tmp_path):
    widget = _widget(make_napari_viewer, tmp_path)
    widget.ctc_checkbox.setChecked(True)
    assert _shown(widget)
    widget.ctc_checkbox.setChecked(False)
    assert not _shown(widget)
    widget.ctc_checkbox.setChecked(True)
    widget.csv_checkbox.setChecked(False)
    widget.export()
    names = sorted(p.name for p in (tmp_path / "cells_RES").glob("mask*.tif"))
    assert names == ["mask000.tif", "mask001.tif", "mask002.tif"]
    assert "First frame number names them otherwise" in widget.status_label.text()

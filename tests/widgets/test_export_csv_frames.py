"""Export's measurements CSV numbers each row's frame as the movie does (user test s31/t7,
finding 5): its ``t`` column is napari's frame index (0, 1, ...), while the CTC masks and
``res_track.txt`` of the same export are named by the frames the movie was read from
(``t052.tif ...``: 52, ...), so the CSV ran 0-5 beside masks 52-57. Where the labels record
their frame numbers (the layer's metadata ``frame_numbers``), a ``frame`` column after ``t``
now gives them; ``t`` stays as it was, for the readers of it."""

from __future__ import annotations

import csv

import numpy as np

from tessella._widgets.export import ExportWidget

FRAME = np.zeros((16, 16), np.uint16)
FRAME[2:6, 2:6], FRAME[9:14, 8:13] = 1, 2


def _rows(make_napari_viewer, tmp_path, **metadata) -> list[dict[str, str]]:
    viewer = make_napari_viewer()
    movie = np.stack([FRAME, FRAME, FRAME[:, ::-1] * (FRAME[:, ::-1] == 2)])  # (2, 2, 1 objects)
    viewer.add_labels(movie, name="cells", axis_labels=("t", "y", "x"), metadata=metadata)
    widget = ExportWidget(viewer)
    widget.path_edit.setText(str(tmp_path / "cells"))
    for box in ("tiff", "zarr", "recipe"):
        getattr(widget, f"{box}_checkbox").setChecked(False)
    widget.csv_checkbox.setChecked(True)
    assert [p.name for p in widget.export()] == ["cells.csv"]
    with open(tmp_path / "cells.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_csv_gives_the_movies_frame_numbers_beside_t(make_napari_viewer, tmp_path):
    rows = _rows(make_napari_viewer, tmp_path, frame_numbers=[52, 53, 54])
    assert list(rows[0])[:3] == ["t", "frame", "label"]
    assert [(r["t"], r["frame"], r["label"]) for r in rows] == [
        ("0", "52", "1"),
        ("0", "52", "2"),
        ("1", "53", "1"),
        ("1", "53", "2"),
        ("2", "54", "2"),
    ]


def test_labels_without_frame_numbers_get_no_frame_column(make_napari_viewer, tmp_path):
    rows = _rows(make_napari_viewer, tmp_path)
    assert list(rows[0])[:2] == ["t", "label"] and "frame" not in rows[0]
    assert [r["t"] for r in rows] == ["0", "0", "1", "1", "2"]


def test_frame_numbers_not_one_a_frame_give_no_frame_column(make_napari_viewer, tmp_path):
    rows = _rows(make_napari_viewer, tmp_path, frame_numbers=[52, 53])  # (cut since)
    assert "frame" not in rows[0]

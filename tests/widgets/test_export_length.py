"""Export's CSV measures each 2D object's length along its skeleton (``length_px``, and
``length_<unit>`` with a pixel size), as ``tessella segment --csv`` does (the engine's
``measure_objects(length=True)``; worms of an overlapping model each whole, from the mask
stack), for labels in memory and on disk (YX, TYX); volumes get no length column, and no
error. Real BBBC010 wells: segmented by worms2d in a real viewer, and their ground truth."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tifffile
import zarr

from tessella import measure_objects
from tessella._widgets.export import ExportWidget
from tessella.engine.io import read_image, read_mask_stack
from tests.widgets.helpers import choose_model, choose_text

WORMS = ("worms_bbbc010", "gfp")  # (in this copy of BBBC010 the gfp/ files are brightfield)


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _flat(data_dir, well: str) -> np.ndarray:
    """The ground-truth worms of BBBC010 ``well`` as one label image (1..n)."""
    masks = np.asarray(read_mask_stack(data_dir / "worms_bbbc010" / "worm_masks" / f"{well}.tif"))
    flat = np.zeros(masks.shape[1:], np.uint16)
    for k, mask in enumerate(masks, start=1):
        flat[mask & (flat == 0)] = k
    return flat


def _panel(viewer, layer_name: str, base) -> ExportWidget:
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    choose_text(widget.labels_combo, layer_name)
    widget.path_edit.setText(str(base))
    widget.csv_checkbox.setChecked(True)
    return widget


def _assert_table(rows, expected: dict[str, np.ndarray]) -> None:
    """The CSV's rows are ``expected`` (measure_objects' table): its columns, its values."""
    assert list(rows[0]) == list(expected), (list(rows[0]), list(expected))
    for name, values in expected.items():
        np.testing.assert_allclose([float(r[name]) for r in rows], values, rtol=1e-6)


def test_worms2d_result_csv_has_each_whole_worm_length_as_the_cli(
    make_napari_viewer, data_dir, run_to_end, tmp_path
):
    """A BBBC010 well (B12, cropped as tessella segment --csv's test: worms crossing)
    segmented by worms2d in the Segment panel: Export's CSV (from the mask stack: each worm
    whole) has length_px, the values measure_objects(stack, instances=True, length=True)
    gives, as the CLI's --csv writes them."""
    image = np.asarray(read_image(data_dir.joinpath(*WORMS, "B12.tif")).data)[130:390, 174:522]
    viewer = make_napari_viewer()
    viewer.add_image(image, name="B12")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_model(segment, "worms2d")
    choose_text(segment.layer_combo, "B12")
    run_to_end(segment)
    widget = _panel(viewer, "B12 labels (worms2d)", tmp_path / "w")
    choose_text(widget.image_combo, "B12")
    if not widget.stack_checkbox.isChecked():  # (no worm hides another here: stack by hand)
        widget.stack_checkbox.setChecked(True)
    written = [p.name for p in widget.export()]
    assert "w.csv" in written and "w.stack.tif" in written, widget.status_label.text()

    masks = tifffile.imread(tmp_path / "w.stack.tif")  # (N, Y, X): one worm a page
    rows = _rows(tmp_path / "w.csv")
    assert len(rows) == len(masks) > 1
    expected = measure_objects(masks, instances=True, length=True, image=image)
    # the stack's pages are the labels' objects in their order: the same rows, their IDs
    expected["label"] = np.array([int(r["label"]) for r in rows])
    _assert_table(rows, expected)
    assert list(rows[0])[:4] == ["label", "area_px", "length_px", "centroid_y"]
    assert all(float(r["length_px"]) > 20 for r in rows)  # worms, not dots


def test_a_time_series_in_micrometres_gets_length_a_frame_at_a_time(
    make_napari_viewer, data_dir, tmp_path
):
    """TYX labels (two wells' ground truth as two frames) with a pixel size of 1.2 µm:
    length_px and length_um per frame, as measure_objects gives them."""
    frames = np.stack([_flat(data_dir, "A06"), _flat(data_dir, "B12")])
    viewer = make_napari_viewer()
    viewer.add_labels(
        frames, name="worms", scale=(1, 1.2, 1.2), units=("s", "µm", "µm"), axis_labels="tyx"
    )
    widget = _panel(viewer, "worms", tmp_path / "w")
    assert widget.length_checkbox.isEnabled() and not widget.length_checkbox.isChecked()
    widget.length_checkbox.setChecked(True)  # (labels of no worm model: off by default)
    assert "w.csv" in [p.name for p in widget.export()], widget.status_label.text()

    rows = _rows(tmp_path / "w.csv")
    expected = measure_objects(
        frames, axes="TYX", spacing={"Y": 1.2, "X": 1.2}, unit="µm", length=True
    )
    _assert_table(rows, expected)
    assert {"length_px", "length_um"} <= set(rows[0])
    np.testing.assert_allclose(
        [float(r["length_um"]) for r in rows], [1.2 * float(r["length_px"]) for r in rows]
    )


def test_a_volume_gets_no_length_and_no_error(make_napari_viewer, tmp_path):
    """ZYX labels: the CSV is written, without a length column (the engine measures none of
    a volume)."""
    volume = np.zeros((6, 40, 40), np.uint16)
    volume[1:5, 5:15, 5:30] = 1
    volume[2:6, 20:35, 10:20] = 2
    viewer = make_napari_viewer()
    viewer.add_labels(volume, name="cells", axis_labels=("z", "y", "x"))
    widget = _panel(viewer, "cells", tmp_path / "v")
    box = widget.length_checkbox
    assert not box.isEnabled() and "'cells' is a volume" in box.toolTip(), box.toolTip()
    assert "v.csv" in [p.name for p in widget.export()], widget.status_label.text()
    rows = _rows(tmp_path / "v.csv")
    assert [int(r["label"]) for r in rows] == [1, 2]
    assert "volume_px" in rows[0] and not any(name.startswith("length") for name in rows[0])


def _on_disk(tmp_path, labels: np.ndarray):
    stored = zarr.create_array(
        str(tmp_path / "result.zarr"), shape=labels.shape, dtype=labels.dtype, chunks=(128, 128)
    )
    stored[...] = labels
    return zarr.open_array(str(tmp_path / "result.zarr"), mode="r")


def test_labels_on_disk_get_the_length_when_ticked_counted_in_the_progress(
    make_napari_viewer, data_dir, tmp_path, qtbot, monkeypatch
):
    """A blockwise-like result on disk (zarr, 128² chunks: worms cross the pieces' borders),
    of no worm model: the length is off by default (each object would be read from disk on
    its own), the tooltip says what it costs; ticked, Export's CSV, written in a worker a piece at a
    time, has each worm's length as the labels in memory give it, and the progress counts
    the reads of the length pass (a square of labels each)."""
    flat = _flat(data_dir, "A06")
    viewer = make_napari_viewer()
    viewer.add_labels(_on_disk(tmp_path, flat), name="lazy", scale=(1.2, 1.2), units="µm")
    widget = _panel(viewer, "lazy", tmp_path / "w")
    widget.tiff_checkbox.setChecked(False)
    box = widget.length_checkbox
    assert box.isEnabled() and not box.isChecked()
    assert "1.5 ms on disk" in box.toolTip(), box.toolTip()
    box.setChecked(True)
    said: list[str] = []
    real = ExportWidget._on_write_progress

    def spied(self, worker, step):
        said.append(step[2])
        real(self, worker, step)

    monkeypatch.setattr(ExportWidget, "_on_write_progress", spied)
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
        assert widget.worker is not None  # (labels on disk: in a worker)
    assert [p.name for p in blocker.args[0]] == ["w.csv"], widget.status_label.text()
    expected = measure_objects(flat, spacing={"Y": 1.2, "X": 1.2}, unit="µm", length=True)
    _assert_table(_rows(tmp_path / "w.csv"), expected)
    n = len(expected["label"])
    # (read a square of labels at a time since ac6afb0, the bar counting those reads)
    assert f"measuring the length of {n} objects from disk, a square of labels at a time" in said


def test_length_ticked_for_worms_only_and_follows_the_csv(make_napari_viewer, data_dir, tmp_path):
    """Labels with an overlaps layer beside them (worms: a model's or read from a mask stack)
    get the length ticked by default, round nuclei not; unticked, the CSV has none (its
    other columns as they were); the option is off while Measurements is."""
    from tessella._widgets import _results

    flat = _flat(data_dir, "A06")
    masks = np.asarray(read_mask_stack(data_dir / "worms_bbbc010" / "worm_masks" / "A06.tif"))
    hidden = np.zeros_like(flat)  # (A06: crossing worms, the parts of them flat hides)
    for k, mask in enumerate(masks, start=1):
        hidden[mask & (flat != k) & (hidden == 0)] = k
    viewer = make_napari_viewer()
    nuclei = np.zeros((64, 64), np.uint16)
    nuclei[10:20, 10:20] = 1
    viewer.add_labels(nuclei, name="nuclei")
    layer = viewer.add_labels(flat, name="worms")
    _results.show_overlaps(viewer, layer, hidden)
    widget = _panel(viewer, "worms", tmp_path / "w")
    assert widget.length_checkbox.isChecked() and widget.length_checkbox.isEnabled()
    choose_text(widget.labels_combo, "nuclei")
    assert not widget.length_checkbox.isChecked()
    choose_text(widget.labels_combo, "worms")
    assert widget.length_checkbox.isChecked()
    widget.csv_checkbox.setChecked(False)
    assert not widget.length_checkbox.isEnabled()
    widget.csv_checkbox.setChecked(True)
    widget.length_checkbox.setChecked(False)
    widget.stack_checkbox.setChecked(False)
    assert "w.csv" in [p.name for p in widget.export()], widget.status_label.text()
    _assert_table(_rows(tmp_path / "w.csv"), measure_objects(flat))


def test_cancel_while_the_lengths_are_measured_leaves_nothing(data_dir, tmp_path):
    """Cancel, seen between two objects whose length is read from disk: nothing written."""
    from tessella._widgets._export_outputs import _Output
    from tessella._widgets._export_write import _export_steps, _Plan

    out = tmp_path / "out"
    out.mkdir()
    plan = _Plan(
        name="w",
        outputs=[_Output("csv", out / "w.csv")],
        overwrite=False,
        make_folder=None,
        data=_on_disk(tmp_path, _flat(data_dir, "A06")),
        axes="YX",
        pixel_size=None,
        unit="pixel",
        stack=None,
        image=None,
        result=None,
        numbers=None,
        lineage={},
        recipe=None,
        length=True,  # (as ticked)
    )
    steps = _export_steps(plan)
    said = []
    while not said or not said[-1].startswith("measuring the length"):
        said.append(next(steps)[2])
    plan.cancel.set()
    with pytest.raises(StopIteration) as stop:
        next(steps)
    assert stop.value.value.cancelled
    assert list(out.iterdir()) == []

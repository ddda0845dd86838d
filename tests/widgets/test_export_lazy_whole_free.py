"""Export of labels on disk (a blockwise result opened lazily) to TIFF and CTC masks reads
them a band of chunk rows or a frame at a time, never whole, and writes the very files the
labels in memory give (the TIFF byte for byte but an OME-TIFF's random UUID: the same array,
type, resolution and unit); the recipe's digest is hashed in the pass that finds their
range (one reading, not two more); the bar counts the pieces, and Cancel between two of
them leaves no file. A mask stack, each object a mask of the image's size, is not offered
for them (its tooltip says why). Session 33, f3: a 12288² uint32 result (576 MiB) was read
whole for any of these outputs."""

from __future__ import annotations

import hashlib
import json
import re
import threading

import numpy as np
import pytest
import tifffile
import zarr

import tessella.engine.measure as engine_measure
from tessella._widgets import _results
from tessella._widgets._export_outputs import _Output
from tessella._widgets._export_write import _export_steps, _Plan
from tessella._widgets.export import ExportWidget
from tessella.engine.digest import labels_digest


def _files(folder) -> dict[str, str]:
    """Every file under ``folder``: its path there -> SHA-256 of its bytes (an OME-TIFF's
    random UUID left out)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = re.sub(rb'UUID="urn:uuid:[^"]*"', b"", path.read_bytes())
            found[str(path.relative_to(folder))] = hashlib.sha256(data).hexdigest()
    return found


def _stored(path, labels: np.ndarray, chunks) -> zarr.Array:
    """``labels`` as a chunked zarr opened read-only (what a blockwise result is)."""
    array = zarr.create_array(str(path), shape=labels.shape, dtype=labels.dtype, chunks=chunks)
    array[...] = labels
    return zarr.open_array(str(path), mode="r")


@pytest.fixture
def worker_reads(monkeypatch):
    """The size of every zarr read made off the GUI thread (Export's worker)."""
    reads: list[int] = []
    real = zarr.Array.__getitem__

    def spied(self, selection):
        found = real(self, selection)
        if threading.current_thread() is not threading.main_thread():
            reads.append(int(np.size(found)))
        return found

    monkeypatch.setattr(zarr.Array, "__getitem__", spied)
    return reads


def _panel(viewer, layer, base, **ticked) -> ExportWidget:
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(layer.unique_id))
    widget.path_edit.setText(str(base))
    for name in ("tiff", "zarr", "ome_zarr", "csv", "ctc", "recipe"):
        getattr(widget, f"{name}_checkbox").setChecked(ticked.get(name, False))
    return widget


def _export_both(qtbot, widget, lazy, in_memory, tmp_path) -> tuple[list[str], list[str]]:
    """Export ``lazy`` (in the worker) to ``pieces/n``, then ``in_memory`` (at once, read
    whole) to ``whole/n``; returns the names each wrote."""
    (tmp_path / "pieces").mkdir()
    (tmp_path / "whole").mkdir()
    widget.path_edit.setText(str(tmp_path / "pieces" / "n"))
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
        assert widget.worker is not None  # (labels on disk: in a worker)
    lazy_names = sorted(path.name for path in blocker.args[0])
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(in_memory.unique_id))
    widget.path_edit.setText(str(tmp_path / "whole" / "n"))
    whole_names = sorted(path.name for path in widget.export())
    return lazy_names, whole_names


@pytest.mark.parametrize("wide", [False, True], ids=["imagej-uint16", "ome-uint32"])
def test_lazy_tiff_is_written_a_band_at_a_time_as_in_memory(
    make_napari_viewer, tmp_path, nuclei_sample, qtbot, monkeypatch, worker_reads, wide
):
    """The nuclei sample's labels (520x512), IDs up to 65,535 (an ImageJ TIFF, uint16) or
    above (an OME-TIFF, uint32), in 128² chunks, pixel size 0.5 µm: read in bands of 128
    rows (PIECE_PIXELS 128²: one chunk row), the TIFF and the recipe's digest are those of
    the labels in memory."""
    _image, labels = nuclei_sample
    labels = labels.astype(np.uint32) + np.where(labels > 0, 70_000 if wide else 0, 0).astype(
        np.uint32
    )
    monkeypatch.setattr(engine_measure, "PIECE_PIXELS", 128 * 128, raising=False)
    stored = _stored(tmp_path / "result.zarr", labels, (128, 128))
    viewer = make_napari_viewer()
    lazy = viewer.add_labels(stored, name="lazy", scale=(0.5, 0.5), units=("µm", "µm"))
    in_memory = viewer.add_labels(labels, name="memory", scale=(0.5, 0.5), units=("µm", "µm"))
    widget = _panel(viewer, lazy, tmp_path / "n", tiff=True)
    worker_reads.clear()
    names = _export_both(qtbot, widget, lazy, in_memory, tmp_path)
    assert names[0] == names[1] == ["n.tif"], widget.status_label.text()
    # (no read of more than a band of one chunk row; before: the labels read whole)
    assert worker_reads and max(worker_reads) <= 128 * 512 < labels.size, max(worker_reads)
    assert _files(tmp_path / "pieces") == _files(tmp_path / "whole")
    with tifffile.TiffFile(tmp_path / "pieces" / "n.tif") as tif:
        np.testing.assert_array_equal(tif.asarray(), labels)
        assert tif.pages[0].dtype == (np.uint32 if wide else np.uint16)
        assert (tif.is_ome, tif.is_imagej) == (wide, not wide)
        if not wide:
            assert tif.pages[0].tags["XResolution"].value == (2, 1)  # 2 pixels a µm
            assert tif.imagej_metadata["unit"] == "micron"
        else:
            assert 'PhysicalSizeX="0.5"' in tif.ome_metadata
            assert 'PhysicalSizeXUnit="µm"' in tif.ome_metadata


def test_lazy_movie_ctc_masks_are_written_a_frame_at_a_time(
    make_napari_viewer, tmp_path, qtbot, worker_reads
):
    """A synthetic time-lapse (8 frames of 128x160, a division) as a zarr in one-frame
    chunks, its axes t, y, x: the CTC folder (masks and res_track.txt), the TIFF and the
    recipe-free CSV are those of the movie in memory, and no read holds more than a frame."""
    from tests.conftest import cell_movie

    _image, labels, _tracks = cell_movie()
    labels = labels.astype(np.uint32)
    stored = _stored(tmp_path / "movie.zarr", labels, (1, 128, 160))
    viewer = make_napari_viewer()
    lazy = viewer.add_labels(stored, name="lazy", axis_labels=("t", "y", "x"))
    in_memory = viewer.add_labels(labels, name="memory", axis_labels=("t", "y", "x"))
    widget = _panel(viewer, lazy, tmp_path / "n", tiff=True, ctc=True, csv=True)
    assert widget.ctc_checkbox.isEnabled(), widget.ctc_checkbox.toolTip()
    worker_reads.clear()
    names = _export_both(qtbot, widget, lazy, in_memory, tmp_path)
    assert names[0] == names[1] == ["n.csv", "n.tif", "n_RES"], widget.status_label.text()
    frame = labels[0].size
    assert worker_reads and max(worker_reads) <= frame < labels.size, max(worker_reads)
    pieces, whole = _files(tmp_path / "pieces"), _files(tmp_path / "whole")
    assert pieces == whole and "n_RES/mask007.tif" in pieces
    res = (tmp_path / "pieces" / "n_RES" / "res_track.txt").read_text().split("\n")
    assert "4 0 3 0" in res and "5 4 7 0" in res  # (no lineage recorded: no parents)


def test_the_recipe_digest_is_hashed_while_the_range_is_read(
    make_napari_viewer, tmp_path, nuclei_sample, qtbot, worker_reads
):
    """Labels on disk exported to zarr with their recipe are read twice in all (their
    range and digest together, then the zarr), not four times (range, zarr, and the
    digest's own two readings); the digest is the one of the labels in memory."""
    from tessella._widgets.segment import RECIPE_KEY
    from tests.conftest import SEGMENT_RECIPE

    _image, labels = nuclei_sample
    labels = labels.astype(np.uint32)
    stored = _stored(tmp_path / "result.zarr", labels, (128, 128))
    viewer = make_napari_viewer()
    lazy = viewer.add_labels(stored, name="lazy", metadata={RECIPE_KEY: dict(SEGMENT_RECIPE)})
    widget = _panel(viewer, lazy, tmp_path / "out" / "n", zarr=True, recipe=True)
    (tmp_path / "out").mkdir()
    worker_reads.clear()
    with qtbot.waitSignal(widget.exported, timeout=60_000) as blocker:
        widget.export_button.click()
    assert sorted(p.name for p in blocker.args[0]) == ["n.recipe.json", "n.zarr"]
    assert sum(worker_reads) == 2 * labels.size, sum(worker_reads) / labels.size
    recipe = json.loads((tmp_path / "out" / "n.recipe.json").read_text())
    assert recipe["labels_digest"] == labels_digest(labels)
    assert recipe["labels_digest"]["dtype"] == "uint16"


def test_a_mask_stack_is_not_offered_for_labels_on_disk(make_napari_viewer, tmp_path):
    """2D labels on disk with an "overlaps" layer beside them: the mask stack is off and
    disabled, its tooltip saying why (each object a mask of the image's size), and the
    labels are not read whole on the GUI thread to count the overlaps."""
    labels = np.zeros((256, 256), np.uint16)
    labels[20:120, 20:120] = 1
    labels[100:200, 100:200] = 2
    hidden = np.zeros_like(labels)
    hidden[100:120, 100:120] = 2  # (object 2 lies under 1 there)
    stored = _stored(tmp_path / "result.zarr", labels, (128, 128))
    viewer = make_napari_viewer()
    lazy = viewer.add_labels(stored, name="worms")
    _results.show_overlaps(viewer, lazy, hidden)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(lazy.unique_id))
    assert not widget.stack_checkbox.isEnabled() and not widget.stack_checkbox.isChecked()
    tip = widget.stack_checkbox.toolTip()
    assert tip.startswith("No mask stack of 'worms': it is read from disk"), tip
    assert "(N, Y, X)" in tip and "export the labels" in tip
    assert "stack" not in [output.kind for output in widget.outputs()]


def _plan(outputs, data, report=None) -> _Plan:
    plan = _Plan(
        name="l",
        outputs=outputs,
        overwrite=False,
        make_folder=None,
        data=data,
        axes="YX",
        pixel_size={"Y": 0.5, "X": 0.5},
        unit="µm",
        stack=None,
        image=None,
        result=None,
        numbers=None,
        lineage={},
        recipe=None,
    )
    plan.report = report
    return plan


def test_progress_counts_pieces_and_cancel_mid_tiff_leaves_nothing(tmp_path, monkeypatch):
    """The steps of an export of labels on disk to TIFF count the pieces read (the range's,
    then each band of the TIFF), said as they are read; a Cancel while the TIFF is written
    stops it before the next band, and no file is left (its temporary removed)."""
    monkeypatch.setattr(engine_measure, "PIECE_PIXELS", 64 * 256, raising=False)
    labels = np.zeros((512, 256), np.uint16)
    labels[10:500, 10:200] = 7
    stored = _stored(tmp_path / "l.zarr", labels, (64, 64))
    out = tmp_path / "out"
    out.mkdir()
    said: list[tuple[int, int, str]] = []

    def report(step):
        said.append(step)
        if step[2] == "writing l.tif" and step[0] >= 8 + 3:  # (3 of its 8 bands read)
            plan.cancel.set()

    plan = _plan([_Output("tiff", out / "l.tif")], stored, report)
    steps = _export_steps(plan)
    yielded = []
    try:
        while True:
            yielded.append(next(steps))
    except StopIteration as stop:
        done = stop.value
    assert done.cancelled
    assert list(out.iterdir()) == []  # (the TIFF's temporary, half written, removed)
    # the range: 8 pieces of 128² (2 x 2 chunks: PIECE_PIXELS 64 x 256); then the TIFF's
    # bands of one chunk row, 64 x 256: 8; then putting it in place, 1
    assert yielded[0] == (0, 8 + 8 + 1, "checking 'l' (a piece at a time)")
    counts = [s[0] for s in said]
    assert counts == list(range(1, len(counts) + 1)), said
    assert said[-1] == (11, 17, "writing l.tif")  # (8 + 3: the 4th band never read)

    # not cancelled: the same file as the labels in memory give
    plan = _plan([_Output("tiff", out / "l.tif")], stored)
    steps = _export_steps(plan)
    try:
        while True:
            next(steps)
    except StopIteration as stop:
        assert stop.value.written == [out / "l.tif"]
    from tessella.engine.io import write_labels

    write_labels(tmp_path / "whole.tif", labels, "YX", {"Y": 0.5, "X": 0.5}, "µm")
    assert (out / "l.tif").read_bytes() == (tmp_path / "whole.tif").read_bytes()

"""A blockwise run into OME-Zarr labels ends with a "levels" stage (the lower-resolution
levels Export writes: engine/blockwise/_levels.py), yielding the share of their pixels
written, of 100. The panel showed it as blocks, "levels: 37 / 100 blocks" in its bar and
"levels, 37 of 100 (… s a block)" in the status line; now it names the stage and gives the
share, with no time per block (there are no blocks in it). The result layer of a big 2D run
into OME-Zarr labels shows those stored levels, not levels computed again from level 0."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from tessella import _io
from tessella._widgets import _blockwise
from tessella.engine.io import _write
from tests.conftest import write_ome_zarr


@pytest.fixture
def small_levels(monkeypatch):
    """Levels from 256² pixels on, down to 130 px a side (instead of 4096² and 1024)."""
    monkeypatch.setattr(_write, "LEVELS_PIXELS", 256 * 256)
    monkeypatch.setattr(_write, "LEVELS_SMALLEST", 130)


def _blockwise_run(viewer, widget, path, out, run_to_end) -> None:
    [layer] = viewer.open(str(path), plugin="tessella")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    widget.device_combo.setCurrentText("cpu")
    widget.tta_checkbox.setChecked(False)
    widget.blockwise_checkbox.setChecked(True)
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(256)
    run_to_end(widget)


def test_the_levels_stage_is_named_and_counted_in_percent(
    segment_widget, nuclei_sample, tmp_path, qtbot, monkeypatch, run_to_end, small_levels
):
    path = write_ome_zarr(
        tmp_path / "nuclei.ome.zarr", nuclei_sample[0], "yx", [0.5, 0.5], (256, 256)
    )
    viewer, widget = segment_widget
    [layer] = viewer.open(str(path), plugin="tessella")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    widget.device_combo.setCurrentText("cpu")
    widget.tta_checkbox.setChecked(False)
    widget.blockwise_checkbox.setChecked(True)
    out = tmp_path / "labels.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(256)
    seen = []
    shown = widget._on_progress

    def record(progress):
        shown(progress)
        if progress.stage == "levels":
            seen.append((progress.done, widget.progress_bar.text(), widget.status_label.text()))

    monkeypatch.setattr(widget, "_on_progress", record)
    run_to_end(widget)
    assert "written to" in widget.status_label.text(), widget.status_label.text()
    assert seen and seen[-1][0] == 100
    for done, bar, status in seen:
        assert bar == f"writing lower-resolution levels: {done}%", bar
        assert status == f"'nuclei': writing lower-resolution levels, {done}%", status
    group = zarr.open_group(str(out), mode="r")
    assert [d["path"] for d in group.attrs["multiscales"][0]["datasets"]] == ["0", "1", "2"]
    assert np.asarray(group["1"]).shape == (260, 256)


def test_a_big_2d_result_shows_the_levels_its_ome_zarr_stores(
    segment_widget, nuclei_sample, tmp_path, monkeypatch, run_to_end, small_levels
):
    # a "big" 2D output from 256² on, its copy at most 128 px a side (every 5th pixel)
    monkeypatch.setattr(_blockwise, "OVERVIEW_PIXELS", 256 * 256, raising=False)
    monkeypatch.setattr(_blockwise, "OVERVIEW_SIDE", 128, raising=False)
    monkeypatch.setattr(_io, "PYRAMID_SMALLEST", 64)
    path = write_ome_zarr(
        tmp_path / "nuclei.ome.zarr", nuclei_sample[0], "yx", [0.5, 0.5], (256, 256)
    )
    viewer, widget = segment_widget
    out = tmp_path / "labels.zarr"
    _blockwise_run(viewer, widget, path, out, run_to_end)
    result = viewer.layers["nuclei labels (nuclei2d)"]
    assert result.multiscale
    levels = list(result.data)
    stored = zarr.open_group(str(out), mode="r")
    # level 0, the stored levels 1 and 2 (260x256, 130x128) themselves, the 104x103 copy
    assert [tuple(level.shape) for level in levels] == [
        (520, 512),
        (260, 256),
        (130, 128),
        (104, 103),
    ]
    for k in (1, 2):
        assert isinstance(levels[k], zarr.Array), type(levels[k])
        assert levels[k].store_path.path == stored[str(k)].store_path.path
        np.testing.assert_array_equal(levels[k][...], stored["0"][:: 2**k, :: 2**k])

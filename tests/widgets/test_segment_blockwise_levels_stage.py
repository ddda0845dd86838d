"""A blockwise run into OME-Zarr labels ends with a "levels" stage (the lower-resolution
levels Export writes: engine/blockwise/_levels.py), yielding the share of their pixels
written, of 100. The panel showed it as blocks, "levels: 37 / 100 blocks" in its bar and
"levels, 37 of 100 (… s a block)" in the status line; now it names the stage and gives the
share, with no time per block (there are no blocks in it)."""

from __future__ import annotations

import numpy as np
import zarr

from tessella.engine.io import _write
from tests.conftest import write_ome_zarr


def test_the_levels_stage_is_named_and_counted_in_percent(
    segment_widget, nuclei_sample, tmp_path, qtbot, monkeypatch, run_to_end
):
    # levels from 256² pixels on, down to 130 px a side (instead of 4096² and 1024)
    monkeypatch.setattr(_write, "LEVELS_PIXELS", 256 * 256)
    monkeypatch.setattr(_write, "LEVELS_SMALLEST", 130)
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

"""Evaluate of a lazy 2D membrane map (zarr) against lazy labels gives the engine the zarr
arrays in its worker, and the V_rand and VOI it shows beside AP are those of the pair read
whole (cd0bea4: from the overlap table merged over the pieces). Before, asking for V_rand
(the panel always does for a membrane map) made the panel read both layers whole
(``np.asarray``). Real data: ISBI 2012 slice 0."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr
from scipy import ndimage

from tessella._widgets import _evaluate_run
from tessella.engine import evaluation

MAP = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data")) / (
    "em_membranes_isbi2012/boundaries/00.tif"
)


def _zarr(path, array: np.ndarray):
    stored = zarr.create_array(str(path), shape=array.shape, dtype=array.dtype, chunks=(128, 128))
    stored[...] = array
    return zarr.open_array(str(path), mode="r")


@pytest.mark.skipif(not MAP.exists(), reason="no ISBI 2012 data")
def test_a_lazy_membrane_map_is_scored_in_pieces_with_vrand(
    make_napari_viewer, tmp_path, qtbot, monkeypatch
):
    truth = tifffile.imread(MAP)
    prediction = ndimage.label(~ndimage.binary_dilation(truth > 0))[0].astype(np.uint32)
    viewer = make_napari_viewer()
    viewer.add_labels(_zarr(tmp_path / "gt.zarr", truth), name="gt")
    viewer.add_labels(_zarr(tmp_path / "pred.zarr", prediction), name="pred")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    index = widget.kind_combo.findData("boundaries")
    widget.kind_combo.setCurrentIndex(index)
    widget.kind_combo.activated.emit(index)
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)  # (in a worker)
    given = []
    steps = evaluation.evaluate_labels_steps

    def spy(labels_true, labels_pred, *args):
        on_gui = threading.current_thread() is threading.main_thread()
        given.append((type(labels_true), type(labels_pred), on_gui))
        return (yield from steps(labels_true, labels_pred, *args))

    monkeypatch.setattr(evaluation, "evaluate_labels_steps", spy)
    with qtbot.waitSignal(widget.evaluation_finished, timeout=30_000):
        widget.evaluate_button.click()
    assert given == [(zarr.Array, zarr.Array, False)]  # (before: NumPy arrays, read whole)
    whole = evaluation.evaluate_labels(
        truth, prediction, kind="boundaries", metrics_wanted=("ap", "iou", "vrand")
    )
    assert 0.5 < whole.scores["vrand"] < 1
    assert widget.last_scores == whole.scores

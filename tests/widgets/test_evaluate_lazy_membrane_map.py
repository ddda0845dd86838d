"""Evaluate of a lazy 2D membrane map (zarr) against lazy labels is scored a piece at a
time in its worker (``_tiles.tiled_steps``), and the V_rand and VOI it shows beside AP are
those of the pair read whole (cd0bea4: from the overlap table merged over the pieces).
Before, asking for V_rand (the panel always does for a membrane map) made the panel read
both layers whole (``np.asarray``). Real data: ISBI 2012 slice 0."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella._widgets import _evaluate_run
from tessella.engine import evaluation
from tessella.engine.evaluation import _evaluate
from tests.widgets.test_evaluate_lazy_layers import _zarr

MAP = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data")) / (
    "em_membranes_isbi2012/boundaries/00.tif"
)


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
    in_pieces = []  # (the engine's piecewise route, and whether on the GUI thread)
    tiled = _evaluate.tiled_steps
    monkeypatch.setattr(
        _evaluate,
        "tiled_steps",
        lambda *args, **kwargs: (
            in_pieces.append(threading.current_thread().name) or tiled(*args, **kwargs)
        ),
    )
    with qtbot.waitSignal(widget.evaluation_finished, timeout=30_000):
        widget.evaluate_button.click()
    # (before: the panel read both layers whole, as V_rand was asked for, and no pieces)
    assert len(in_pieces) == 1 and in_pieces[0] != threading.main_thread().name
    whole = evaluation.evaluate_labels(
        truth, prediction, kind="boundaries", metrics_wanted=("ap", "iou", "vrand")
    )
    assert 0.5 < whole.scores["vrand"] < 1
    assert widget.last_scores == whole.scores

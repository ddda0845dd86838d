"""Evaluate gives a lazy 3D pair of labels layers (zarr: a blockwise result of a volume or a
movie) to the engine as it is, in its worker, which reads it a piece at a time (a movie
frame by frame), with the scores and errors of the pair read whole. Before, the panel read
both layers whole (``np.asarray``) on the way to the engine: a 64 x 2048 x 2048 uint32
pair took 4.9 GiB and 82-102 s, now 0.3 GiB and 14-21 s."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import tifffile
import zarr

from tessella._widgets import _evaluate_run
from tessella.engine import evaluation

DATA = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data"))
MOVIE = DATA / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "SEG"
NUCLEI = DATA / "fixtures" / "mask3d.tif"

pytestmark = pytest.mark.skipif(
    not (MOVIE.exists() and NUCLEI.exists()), reason="no CTC SIM+ or fixtures data"
)


def _zarr(path, array: np.ndarray, chunks: tuple[int, ...]):
    stored = zarr.create_array(str(path), shape=array.shape, dtype=array.dtype, chunks=chunks)
    stored[...] = array
    return zarr.open_array(str(path), mode="r")


@pytest.mark.parametrize("axes", [("t", "y", "x"), ("z", "y", "x")])
def test_a_lazy_movie_or_volume_is_scored_in_pieces(
    axes, make_napari_viewer, tmp_path, qtbot, monkeypatch
):
    if axes[0] == "t":  # SIM+ SEG frames 0-5 against them shifted 2 pixels, some lost
        truth = np.stack([tifffile.imread(MOVIE / f"man_seg{t:03d}.tif") for t in range(6)])
        chunks: tuple[int, ...] = (1, 256, 256)
    else:  # the 3D nuclei fixture against it shifted 2 slices, some lost
        truth, chunks = tifffile.imread(NUCLEI), (4, 32, 32)
    truth = truth.astype(np.uint32)
    prediction = np.roll(truth, 2, axis=2 if axes[0] == "t" else 0)
    prediction[prediction % 7 == 0] = 0  # (some cells missed)
    lazy_truth = _zarr(tmp_path / "gt.zarr", truth, chunks)
    lazy_prediction = _zarr(tmp_path / "pred.zarr", prediction, chunks)
    viewer = make_napari_viewer()
    viewer.add_labels(lazy_truth, name="gt", axis_labels=axes)
    viewer.add_labels(lazy_prediction, name="pred", axis_labels=axes)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    widget.errors_checkbox.setChecked(True)
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)  # (a large pair: in a worker)
    given = []
    steps = evaluation.evaluate_labels_steps

    def spy(labels_true, labels_pred, *args):
        on_gui = threading.current_thread() is threading.main_thread()
        given.append((type(labels_true), type(labels_pred), on_gui))
        return (yield from steps(labels_true, labels_pred, *args))

    monkeypatch.setattr(evaluation, "evaluate_labels_steps", spy)
    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()

    # the zarr arrays themselves, in the worker (before: np.asarray of each, read whole)
    assert given == [(zarr.Array, zarr.Array, False)]
    frame_axis = 0 if axes[0] == "t" else None
    whole = evaluation.evaluate_labels(
        truth, prediction, 0.5, frame_axis, metrics_wanted=("ap", "iou")
    )
    assert whole.scores["n_images"] == (6 if frame_axis == 0 else 1)
    assert widget.last_scores == whole.scores
    got = widget.last_evaluation
    assert (got.tp, got.fp, got.fn) == (whole.tp, whole.fp, whole.fn) and 0 < whole.fn
    np.testing.assert_array_equal(np.asarray(got.errors), whole.errors)
    [errors] = [layer for layer in viewer.layers if layer.name.startswith("pred errors")]
    # the errors layer is lazy too: napari draws the pieces of the plane shown
    assert isinstance(errors.data, da.Array) and errors.data.shape == truth.shape

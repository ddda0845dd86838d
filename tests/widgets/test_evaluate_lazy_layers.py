"""Evaluate reads a lazy pair of labels layers (zarr: a blockwise result, a multiscale layer's
level 0) a piece at a time in its worker, never whole.

Before, the panel gave the engine ``np.asarray`` of both layers' arrays: a 20000² uint32
pair read whole, 1.6 GB a side (5.5 GiB at the peak, 97 s; now 0.37 GiB, 32 s).
"""

from __future__ import annotations

import threading

import numpy as np
import zarr

from tessella._widgets import _evaluate_run
from tessella.engine import evaluation
from tests.engine.test_evaluation import perturb


def _zarr(path, array: np.ndarray):
    stored = zarr.create_array(str(path), shape=array.shape, dtype=array.dtype, chunks=(128, 128))
    stored[...] = array
    return zarr.open_array(str(path), mode="r")


def test_a_lazy_pair_is_read_in_pieces_in_the_worker(
    make_napari_viewer, nuclei_sample, tmp_path, qtbot, monkeypatch
):
    truth = nuclei_sample[1].astype(np.uint32)
    prediction = perturb(truth).prediction.astype(np.uint32)
    lazy_truth, lazy_prediction = (
        _zarr(tmp_path / "gt.zarr", truth),
        _zarr(tmp_path / "pred.zarr", prediction),
    )
    viewer = make_napari_viewer()
    viewer.add_labels([lazy_truth, lazy_truth[::2, ::2]], name="gt", multiscale=True)
    viewer.add_labels(lazy_prediction, name="pred")
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
    with qtbot.waitSignal(widget.evaluation_finished, timeout=30_000):
        widget.evaluate_button.click()

    # the zarr arrays themselves, in the worker (before: np.asarray of each, read whole)
    assert given == [(zarr.Array, zarr.Array, False)]
    whole = evaluation.evaluate_labels(truth, prediction, 0.5, metrics_wanted=("ap", "iou"))
    assert widget.last_scores == whole.scores and widget.last_evaluation.fn == whole.fn
    np.testing.assert_array_equal(widget.last_evaluation.errors, whole.errors)
    [errors] = [layer for layer in viewer.layers if layer.name.startswith("pred errors")]
    assert errors.data.shape == truth.shape

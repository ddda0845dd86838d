"""Evaluate counts the frames it scores one by one on its progress bar, from the start, and
Cancel stops it after the frame being scored: a movie scored frame by frame, and ground truth
annotating some frames only ("Score annotated frames only": a CTC SEG folder's 30 of 92).

The bar stayed busy until the first frame was matched: on GOWT1's SEG folder that was 7 of
the run's 10 s (the ground truth's objects and checks come first), so it read as a busy bar
only. Now the engine says how many frames it will score before any work, the bar reads
"scored: frame 0 of N" from the start, and "frame 12 of 30" as it goes. The tests hold the
scoring in a frame (its IoU matrix waits on an event), not on time.
"""

from __future__ import annotations

import threading
from functools import wraps

import numpy as np
import pytest

from tessella._widgets import _evaluate_run
from tessella._widgets import evaluate as evaluate_module
from tessella.engine import _metrics_overlap, metrics

FRAMES = 10
ANNOTATED = (1, 3, 4, 6, 8)  # the frames of the sparse ground truth holding objects


@pytest.fixture(params=["movie", "annotated"])
def frames_on_a_worker(request, make_napari_viewer, nuclei_sample, monkeypatch):
    """Real nuclei labels (DSB2018, 128 x 128 crops) as a 10-frame movie and a prediction
    missing some objects, scored in a thread worker frame by frame: every frame ("movie"), or
    only the 5 frames holding ground truth, the others empty ("annotated", checked by hand):
    ``(viewer, widget, frames scored)``."""
    truth = nuclei_sample[1]
    frames = np.stack(
        [truth[(k // 4) * 128 :][:128, (k % 4) * 128 :][:, :128] for k in range(FRAMES)]
    )
    if request.param == "annotated":
        frames[[k for k in range(FRAMES) if k not in ANNOTATED]] = 0
    prediction = np.where(np.isin(frames, np.unique(frames)[1:6]), 0, frames)
    viewer = make_napari_viewer()
    viewer.add_labels(frames, name="gt", metadata={"axes": "TYX"})
    viewer.add_labels(prediction, name="pred", metadata={"axes": "TYX"})
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert (widget.prediction_layer.name, widget.truth_layer.name) == ("pred", "gt")
    widget.errors_checkbox.setChecked(True)
    widget.annotated_checkbox.setChecked(request.param == "annotated")
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)  # in a thread worker
    for module in (_evaluate_run, evaluate_module):
        monkeypatch.setattr(module, "show_info", lambda text: None)
    return viewer, widget, len(ANNOTATED) if request.param == "annotated" else FRAMES


@pytest.fixture
def held(monkeypatch):
    """Counts the frames scored (each frame's IoU of overlapping pairs); the worker waits
    in the frame ``hold_at[0]`` (1 = the first) until the test sets ``go_on``:
    ``(count, hold_at, reached, go_on)``, the first two one-item lists."""
    count, hold_at, reached, go_on = [0], [1], threading.Event(), threading.Event()
    original = metrics._iou_steps  # (the IoU of the overlapping pairs, every one made)

    @wraps(original)
    def counted(*args, **kwargs):
        count[0] += 1
        if count[0] == hold_at[0]:
            reached.set()
            assert go_on.wait(20), "the test did not let the scoring go on"
        return original(*args, **kwargs)

    monkeypatch.setattr(metrics, "_iou_steps", counted)
    monkeypatch.setattr(_metrics_overlap, "_iou_steps", counted)
    yield count, hold_at, reached, go_on
    go_on.set()  # (never leave a worker waiting)


def _errors_layers(viewer) -> list[str]:
    return [layer.name for layer in viewer.layers if "errors" in layer.name]


def test_the_bar_counts_the_frames_scored_from_the_start(frames_on_a_worker, held, qtbot):
    viewer, widget, scored = frames_on_a_worker
    count, _hold_at, reached, go_on = held
    shown: list[tuple[int, int]] = []
    widget.progress_bar.valueChanged.connect(
        lambda value: shown.append((value, widget.progress_bar.maximum()))
    )

    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
        assert reached.wait(20), "the scoring did not reach its first frame"
        # held in the first frame: the bar counts the frames already (it was busy: 0 of 0)
        qtbot.waitUntil(lambda: widget.progress_bar.maximum() == scored, timeout=5_000)
        assert widget.progress_bar.value() == 0
        assert widget.progress_bar.format() == "scored: frame %v of %m"
        go_on.set()

    assert count[0] == scored  # each frame scored once
    assert [value for value, _ in shown] == list(range(scored + 1))
    assert {maximum for _, maximum in shown} == {scored}
    result = widget.last_evaluation
    assert result.scores["n_images"] == scored and result.fn > 0
    if scored < FRAMES:
        assert result.scores["annotated"]["frames"] == scored
    assert _errors_layers(viewer) == ["pred errors @0.5"]


def test_cancel_stops_after_the_frame_being_scored(frames_on_a_worker, held, qtbot):
    viewer, widget, scored = frames_on_a_worker
    count, hold_at, reached, go_on = held
    hold_at[0] = 2
    shown: list[int] = []
    widget.progress_bar.valueChanged.connect(shown.append)

    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
        assert reached.wait(20), "the scoring did not reach its second frame"
        widget.cancel_button.click()
        assert widget.status_label.text() == "Cancelling after the frame being scored…"
        go_on.set()

    assert count[0] <= 3 < scored  # stopped after the frame being scored
    assert widget.progress_bar.maximum() == scored and max(shown) <= 3
    assert widget.status_label.text() == "Cancelled: 'pred' against 'gt' was not scored."
    assert widget.last_scores is None and _errors_layers(viewer) == []
    assert widget.worker is None and widget.progress_bar.isHidden()
    assert widget.evaluate_button.isEnabled() and widget.annotated_checkbox.isEnabled()

    count[0], hold_at[0] = 0, 0  # held no more: the panel scores again, to the end
    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
    assert count[0] == scored and max(shown) == scored
    assert widget.last_evaluation.scores["n_images"] == scored
    assert _errors_layers(viewer) == ["pred errors @0.5"]

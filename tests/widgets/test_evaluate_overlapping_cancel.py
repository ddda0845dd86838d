"""Evaluate's scoring of overlapping masks (worm stacks) stops when cancelled, and counts its
progress, as the scoring of labels does.

Overlapping masks were scored in one step: Cancel took effect only after the whole scoring,
and the progress bar stayed busy. Now the IoU of the ground truth's masks with the
prediction's is computed a group of masks at a time (``MASK_STEP_PIXELS`` pixels), a step
each. The tests count the groups computed, not time: a scoring cancelled in its third group
computes at most one more.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella._widgets import _evaluate_run
from tessella._widgets import evaluate as evaluate_module
from tessella.engine.evaluation import _evaluate
from tests.widgets.helpers import choose_text

WORMS = 9  # in the crop of BBBC010's well E03


@pytest.fixture
def worms_on_a_worker(make_napari_viewer, data_dir, monkeypatch):
    """BBBC010's worm masks of a crop of well E03 (crossing worms), an (N, Y, X) stack, and a
    plausible prediction (each worm a pixel wider, the first two missed) as a stack too,
    scored as overlapping masks in a thread worker one ground-truth mask a step:
    ``(viewer, widget)``."""
    crop = (slice(None), slice(320, 520), slice(150, 430))
    truth = tifffile.imread(data_dir / "worms_bbbc010" / "worm_masks" / "E03.tif")[crop]
    worms = truth[truth.any(axis=(1, 2))] > 0
    assert len(worms) == WORMS
    found = ndimage.binary_dilation(worms[2:], np.ones((1, 3, 3), bool)).astype(np.uint8)
    viewer = make_napari_viewer()
    viewer.add_labels(truth, name="gt")
    viewer.add_labels(found, name="pred")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert (widget.prediction_layer.name, widget.truth_layer.name) == ("pred", "gt")
    choose_text(widget.kind_combo, "overlapping masks")
    assert widget.truth_kind == "overlapping"
    widget.errors_checkbox.setChecked(True)
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)  # in a thread worker
    monkeypatch.setattr(_evaluate, "MASK_STEP_PIXELS", truth[0].size, raising=False)
    for module in (_evaluate_run, evaluate_module):
        monkeypatch.setattr(module, "show_info", lambda text: None)
    return viewer, widget


@pytest.fixture
def groups(monkeypatch):
    """Counts the groups of ground-truth masks whose IoU is computed; the worker waits in the
    third until the test sets ``go_on``: ``(count, reached, go_on)``, the first a one-item
    list. (Before the scoring had steps, nothing of it was counted or held.)"""
    count, reached, go_on = [0], threading.Event(), threading.Event()
    original = getattr(_evaluate, "_stack_iou_rows", None)

    def counted(truth, predicted):
        for rows in original(truth, predicted):
            count[0] += 1
            if count[0] == 3:
                reached.set()
                assert go_on.wait(20), "the test did not let the scoring go on"
            yield rows

    monkeypatch.setattr(_evaluate, "_stack_iou_rows", counted, raising=False)
    yield count, reached, go_on
    go_on.set()  # (never leave a worker waiting)


def _errors_layers(viewer) -> list[str]:
    return [layer.name for layer in viewer.layers if "errors" in layer.name]


def test_cancel_stops_the_scoring_of_overlapping_masks(worms_on_a_worker, groups, qtbot):
    viewer, widget = worms_on_a_worker
    count, reached, go_on = groups
    shown: list[int] = []
    widget.progress_bar.valueChanged.connect(shown.append)

    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
        assert reached.wait(20), "the scoring did not reach its third group of masks"
        widget.cancel_button.click()
        assert widget.status_label.text() == "Cancelling after the masks being matched…"
        go_on.set()

    assert count[0] <= 4  # of 9 groups: stopped after the one being computed
    assert widget.progress_bar.maximum() == WORMS and shown and max(shown) <= 4
    assert widget.progress_bar.format() == "matched: %v / %m ground-truth objects"
    assert widget.status_label.text() == "Cancelled: 'pred' against 'gt' was not scored."
    assert widget.last_scores is None and _errors_layers(viewer) == []
    assert widget.evaluate_button.isEnabled() and widget.worker is None

    count[0] = 100  # held no more: the next evaluation runs to its end
    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
    assert count[0] == 100 + WORMS and max(shown) == WORMS
    result = widget.last_evaluation
    assert (result.n_true, result.n_pred, result.fn) == (WORMS, WORMS - 2, 2)
    assert _errors_layers(viewer) == ["pred errors @0.5"]


def test_painting_the_truth_during_the_scoring_adds_no_errors_layer(
    worms_on_a_worker, groups, qtbot
):
    """An edit while a worker scores: the scores are those of the layers when it started,
    and no errors layer of labels that changed is added."""
    viewer, widget = worms_on_a_worker
    _count, reached, go_on = groups

    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
        assert reached.wait(20), "the scoring did not reach its third group of masks"
        viewer.layers["gt"].paint((0, 10, 10), 1)  # a brush dab in the first worm's plane
        go_on.set()

    assert widget.last_evaluation.n_true == WORMS and _errors_layers(viewer) == []
    assert "the ground truth 'gt' was edited during the run: no errors layer added" in (
        widget.status_label.text()
    )

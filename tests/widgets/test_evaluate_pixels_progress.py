"""Evaluate counts the parts of one large image on its bar, and Cancel acts at the next part.

Since 0614d95 the engine reads the overlaps of an image of more than 2048 x 2048 pixels a
chunk at a time and says so (``Progress("pixels", done, total)``), so a worker can stop within
it; the panel ignored that stage: for one large image its bar stayed busy (indeterminate) to
the end, and Cancel said "Cancelling after the image being scored…". Now the bar counts the
parts ("scoring: part 3 of 15 of the image") and Cancel says it acts at the next part.
"""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _evaluate_run

SIDE = 4100  # 5 chunks of 2**22 pixels: 15 parts (ids of each side, then the overlaps)
PARTS = 15


@pytest.fixture
def large_pair_docked(make_napari_viewer, nuclei_sample):
    """A 4100 x 4100 uint16 mosaic of the shipped DSB2018 nuclei labels (each tile's objects
    numbered apart: ~9 000 objects) and a prediction missing every 7th, the Evaluate panel
    docked: ``(viewer, widget, seen)``, ``seen`` the bar's (format, value, maximum) at each
    value it shows."""
    labels = nuclei_sample[1]
    tiles_y, tiles_x = -(-SIDE // labels.shape[0]), -(-SIDE // labels.shape[1])
    mosaic = np.tile(labels, (tiles_y, tiles_x))[:SIDE, :SIDE]
    tile = (np.arange(SIDE) // labels.shape[0])[:, None] * tiles_x + (
        np.arange(SIDE) // labels.shape[1]
    )[None, :]
    truth = np.where(mosaic > 0, mosaic + tile * (int(labels.max()) + 1), 0).astype(np.uint16)
    prediction = np.where(truth % 7 == 0, 0, truth).astype(np.uint16)
    viewer = make_napari_viewer()
    viewer.add_labels(truth, name="gt")
    viewer.add_labels(prediction, name="pred")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert (widget.prediction_layer.name, widget.truth_layer.name) == ("pred", "gt")
    assert truth.size > _evaluate_run.SYNC_MAX_PIXELS  # (scored in a worker as it is)
    bar = widget.progress_bar
    seen: list[tuple[str, int, int]] = []
    bar.valueChanged.connect(lambda value: seen.append((bar.format(), value, bar.maximum())))
    return viewer, widget, seen


PART = "scoring: part %v of %m of the image"


def test_one_large_image_is_counted_by_its_parts(large_pair_docked, qtbot):
    _viewer, widget, seen = large_pair_docked
    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()

    parts = [(value, top) for text, value, top in seen if text == PART]
    assert parts == [(k, PARTS) for k in range(1, PARTS + 1)]  # (before: none, a busy bar)
    assert seen[-1] == ("matched: %v / %m images", 1, 1)
    assert widget.last_evaluation.fn > 0 and widget.last_evaluation.fp == 0
    assert widget.progress_bar.isHidden()


def test_cancel_within_one_large_image(large_pair_docked, qtbot):
    _viewer, widget, seen = large_pair_docked
    said: list[str] = []

    def cancel_at_part_3(value: int) -> None:
        if widget.progress_bar.format() == PART and value == 3:
            widget.cancel_button.click()
            said.append(widget.status_label.text())

    widget.progress_bar.valueChanged.connect(cancel_at_part_3)
    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()

    assert said == ["Cancelling at the next part of the image…"]
    parts = [value for text, value, _top in seen if text == PART]
    assert 3 <= max(parts) < PARTS  # stopped within the image (its reading was under way)
    assert all(text == PART for text, _value, _top in seen)  # never matched
    assert widget.status_label.text() == "Cancelled: 'pred' against 'gt' was not scored."
    assert widget.last_scores is None and widget.evaluate_button.isEnabled()

"""Evaluate draws no outlines on large layers: it dims them, and says why.

While an errors layer is shown, Evaluate drew its prediction and ground truth as outlines
(napari's ``contour``), so that only the errors are filled. napari computes outlines on the
GUI thread at every redraw: on a 4096 x 4096 pair, showing the errors took 1.7-2.5 s and
each refresh 0.9-1.8 s (review r2, finding 5). Layers with planes of more than
``OUTLINE_MAX_PIXELS`` (2048 x 2048) are now dimmed instead, still filled, and the status
line says why they are not outlined. The limit is lowered here, so that a 128 x 128 crop
stands for a large pair.
"""

from __future__ import annotations

import numpy as np

from tessella._widgets import _evaluate_errors
from tessella._widgets.evaluate import SYNC_MAX_PIXELS, EvaluateWidget


def test_large_layers_are_dimmed_not_outlined(make_napari_viewer, nuclei_sample, monkeypatch):
    monkeypatch.setattr(_evaluate_errors, "OUTLINE_MAX_PIXELS", 100 * 100, raising=False)
    truth = nuclei_sample[1][:128, :128]
    prediction = np.where(np.isin(truth, np.unique(truth)[1:3]), 0, truth)
    viewer = make_napari_viewer()
    gt = viewer.add_labels(truth, name="gt")
    pred = viewer.add_labels(prediction, name="pred")
    widget = EvaluateWidget(viewer)
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()  # (a small pair: scored at once)

    errors = viewer.layers["pred errors @0.5"]
    assert errors.visible
    assert (pred.contour, gt.contour) == (0, 0)  # not outlined (they were: (1, 1))...
    assert (pred.opacity, gt.opacity) == (0.3, 0.3)  # ...but dimmed, the errors stand out
    assert widget.status_label.text().endswith(
        " s); errors filled, prediction and ground truth dimmed "
        "(128 x 128 pixels: too large to redraw fast) rather than outlined"
    )

    widget.errors_checkbox.setChecked(False)  # hidden: their opacity back
    assert (pred.opacity, gt.opacity) == (0.7, 0.7)
    widget.errors_checkbox.setChecked(True)
    assert errors.visible and (pred.opacity, gt.opacity) == (0.3, 0.3)
    errors.visible = False  # its eye in the layer list
    assert (pred.opacity, gt.opacity) == (0.7, 0.7)
    errors.visible = True
    assert (pred.opacity, gt.opacity) == (0.3, 0.3)
    assert (pred.contour, gt.contour) == (0, 0)

    # an opacity the user sets meanwhile is theirs: kept when the errors go
    gt.opacity = 0.5
    pred.paint((5, 5), 99)  # an edit: the errors are out of date, hidden
    assert not errors.visible and (pred.opacity, gt.opacity) == (0.7, 0.5)
    widget.evaluate_button.click()  # evaluated again: both dimmed again
    assert errors.visible and (pred.opacity, gt.opacity) == (0.3, 0.3)
    viewer.layers.remove(errors)
    assert (pred.opacity, gt.opacity) == (0.7, 0.5)


def test_the_limit_is_the_size_scored_in_a_worker():
    assert getattr(_evaluate_errors, "OUTLINE_MAX_PIXELS", None) == SYNC_MAX_PIXELS == 2048**2

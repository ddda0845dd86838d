"""Evaluate's errors stand out from the labels they describe, and its first status line says
what the chosen pair is ready for.

The errors layer fills false positives red and missed objects cyan; napari's random label
colours have red and cyan objects too, so a missed worm filled cyan looked like a predicted
worm of that colour (a user's test of BBBC010 D08). While the errors are shown, the
prediction and ground truth are now drawn as outlines, the errors the only filled objects,
and filled again when the errors are hidden. The panel opened with "Choose a prediction and
its ground truth." though both were chosen; it now names the pair it will score.
"""

from __future__ import annotations

import numpy as np

from tessella._widgets.evaluate import EvaluateWidget


def _pair(make_napari_viewer, nuclei_sample):
    """Real nuclei labels (a 128x128 crop) as 'gt' and a prediction missing two of them."""
    truth = nuclei_sample[1][:128, :128]
    prediction = np.where(np.isin(truth, np.unique(truth)[1:3]), 0, truth)
    viewer = make_napari_viewer()
    gt = viewer.add_labels(truth, name="gt")
    pred = viewer.add_labels(prediction, name="pred")
    return viewer, pred, gt


def test_errors_shown_draw_their_layers_as_outlines(make_napari_viewer, nuclei_sample):
    viewer, pred, gt = _pair(make_napari_viewer, nuclei_sample)
    widget = EvaluateWidget(viewer)
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()  # (a small pair: scored at once)

    errors = viewer.layers["pred errors @0.5"]
    assert errors.visible and errors.contour == 0  # the errors filled...
    assert (pred.contour, gt.contour) == (1, 1)  # ...the objects outlined
    assert widget.status_label.text().endswith(
        " s); errors filled, prediction and ground truth outlined"
    )

    widget.errors_checkbox.setChecked(False)  # hidden: filled again
    assert not errors.visible and (pred.contour, gt.contour) == (0, 0)
    widget.errors_checkbox.setChecked(True)
    assert errors.visible and (pred.contour, gt.contour) == (1, 1)
    errors.visible = False  # its eye in the layer list
    assert (pred.contour, gt.contour) == (0, 0)
    errors.visible = True
    assert (pred.contour, gt.contour) == (1, 1)

    # an outline the user sets meanwhile is theirs: kept when the errors go
    gt.contour = 3
    pred.paint((5, 5), 99)  # an edit: the errors are out of date, hidden
    assert not errors.visible and (pred.contour, gt.contour) == (0, 3)
    widget.evaluate_button.click()  # evaluated again: shown, the filled prediction outlined
    assert errors.visible and (pred.contour, gt.contour) == (1, 3)
    assert widget.status_label.text().endswith(" s); errors filled, prediction outlined")
    viewer.layers.remove(errors)
    assert (pred.contour, gt.contour) == (0, 3)


def test_the_first_status_names_the_pair_chosen(make_napari_viewer, nuclei_sample):
    viewer, pred, gt = _pair(make_napari_viewer, nuclei_sample)
    widget = EvaluateWidget(viewer)
    assert (widget.prediction_layer, widget.truth_layer) == (pred, gt)
    assert widget.status_label.text() == "Click Evaluate to score 'pred' against 'gt'."

    viewer.layers.remove(gt)
    assert widget.status_label.text() == (
        "Open the ground truth of 'pred' (a labels layer), or choose one."
    )
    viewer.layers.remove(pred)
    assert widget.status_label.text() == (
        "Add two labels layers: a prediction (a Segment result) and its ground truth."
    )
    viewer.add_layer(gt)
    viewer.add_layer(pred)
    assert widget.status_label.text() == "Click Evaluate to score 'pred' against 'gt'."

    widget.evaluate_button.click()  # the report stays while the pair changes
    report = widget.status_label.text()
    assert report.startswith("'pred' against 'gt' (instances (labels)): avS")
    pred.name = "pred 2"
    assert widget.status_label.text() == report

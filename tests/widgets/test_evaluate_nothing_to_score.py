"""Evaluate says when AP and avS average over fewer images than the pair holds, as
``tessella evaluate`` does: a pair with no object in either layer read "avS 1.000" like a
perfect prediction (the 1.0 is the convention for nothing to score), and frames with nothing
to score were left out of the means without a word."""

from __future__ import annotations

import numpy as np
import pytest

from tessella.engine.evaluation import score_pairs


def _evaluated(viewer, truth, prediction, metadata=None):
    viewer.add_labels(truth, name="gt", metadata=metadata or {})
    viewer.add_labels(prediction, name="pred", metadata=metadata or {})
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert (widget.prediction_layer.name, widget.truth_layer.name) == ("pred", "gt")
    widget.evaluate_button.click()
    return widget


def test_a_pair_without_objects_is_not_called_perfect(make_napari_viewer):
    empty = np.zeros((64, 64), np.int32)
    widget = _evaluated(make_napari_viewer(), empty, empty)

    # the numbers stay those of `tessella evaluate` (1.0 by convention, no image averaged)
    assert widget.last_scores["avs"] == 1.0 and widget.last_scores["ap_images"] == 0
    assert widget.last_scores["avs"] == score_pairs([(empty, empty)])["avs"]
    assert widget.status_label.text().endswith(
        "\nNo object in either layer: nothing to score (AP, precision, recall, F1 and avS "
        "read 1.0 by convention, as `tessella evaluate` prints them)."
    )


def test_frames_with_nothing_to_score_are_said_left_out(make_napari_viewer, nuclei_sample):
    truth = nuclei_sample[1][:128, :128]
    frames = np.stack([truth, np.zeros_like(truth), truth])  # nothing in frame 1 of either
    prediction = np.where(np.isin(frames, np.unique(truth)[1:4]), 0, frames)
    widget = _evaluated(make_napari_viewer(), frames, prediction, {"axes": "TYX"})

    assert (widget.last_scores["ap_images"], widget.last_scores["n_images"]) == (2, 3)
    assert widget.status_label.text().endswith(
        "\nAP, precision, recall, F1 and avS: means over the 2 of 3 frames with an object in "
        "either layer (the others have nothing to score)."
    )
    # frames 0 and 2 score alike; the empty frame's 1.0 does not lift their mean
    one_frame = score_pairs([(truth, prediction[0])])["avs"]
    assert widget.last_scores["avs"] == pytest.approx(one_frame) and one_frame < 1.0

"""Segment places what a run returns, whatever the model and image: a time-lapse model on a
single 2D image gives 2D labels (a one-frame movie, as ``tessella segment`` writes it) and no
Tracks layer, and an error while placing a result is one notification, not a crashed slot."""

from __future__ import annotations

import numpy as np
from napari.layers import Labels, Tracks

from tessella._widgets import _results, _segment_outputs
from tests.widgets.helpers import choose_model


def test_a_time_lapse_model_on_a_2d_image_gives_2d_labels_and_no_tracks(
    segment_widget, nuclei_image, run_to_end, monkeypatch
):
    viewer, widget = segment_widget
    errors: list[str] = []
    monkeypatch.setattr(_segment_outputs, "show_error", errors.append, raising=False)
    viewer.add_image(nuclei_image[:256, :256], name="crop")
    choose_model(widget, "cells2dt")
    assert widget.axes_combo.currentText() == "YX"

    run_to_end(widget)

    labels = viewer.layers["crop labels (cells2dt)"]
    assert isinstance(labels, Labels) and labels.data.shape == (256, 256)
    assert labels.metadata["tessella_recipe"]["model"] == "cells2dt"
    objects = np.unique(labels.data[labels.data > 0]).size
    assert objects > 5  # real nuclei
    assert not [layer for layer in viewer.layers if isinstance(layer, Tracks)]
    assert errors == []
    status = widget.status_label.text()
    assert status.startswith(f"'crop': {objects} objects in ")
    assert status.endswith(
        "added 'crop labels (cells2dt)' (a 2D image is one frame of a time-lapse: no tracks)"
    )
    assert widget.run_button.isEnabled()
    # Tune's redraw of the tracks beside these labels has none to draw either
    assert _results.show_tracks(viewer, labels, labels.data, {}) is None


def test_an_error_while_placing_a_result_is_one_notification(
    segment_widget, nuclei_image, run_to_end, monkeypatch
):
    """Anything that fails after the network ran (here: placing the overlaps layer) is named
    in one error notification and on the status line; the panel runs again afterwards."""
    viewer, widget = segment_widget
    errors: list[str] = []
    monkeypatch.setattr(_segment_outputs, "show_error", errors.append, raising=False)
    viewer.add_image(nuclei_image[:256, :256], name="crop")

    def broken(*args, **kwargs):
        raise RuntimeError("no room for the overlaps")

    with monkeypatch.context() as patched:
        patched.setattr(_results, "show_overlaps", broken)
        run_to_end(widget)

    expected = (
        "placing the result failed (RuntimeError: no room for the overlaps); placed "
        "'crop labels (nuclei2d)' before it"
    )
    assert errors == [f"Segment failed on layer 'crop': {expected}"]
    assert widget.status_label.text() == f"'crop': failed, {expected}"
    assert widget.run_button.isEnabled() and not widget.cancel_button.isEnabled()

    run_to_end(widget)  # usable again: the same result replaces the labels
    assert errors == [f"Segment failed on layer 'crop': {expected}"]
    assert " objects in " in widget.status_label.text()
    assert widget.status_label.text().endswith("replaced 'crop labels (nuclei2d)'")

"""Tune's note that the labels tuned are covered (review r2, finding 6): a labels layer above
drawn as outlines (contour 1, as a user compares two results, or as Evaluate draws a ground
truth while its errors show) does not cover them; an opaque image layer above them does."""

import numpy as np

from tests.widgets.test_tune_covered_layer import _probability
from tests.widgets.test_tune_gaps import _semantic_result
from tests.widgets.test_tune_widget import change, place


def test_an_outlined_layer_above_is_not_said_to_cover(docked_tune, qtbot):
    viewer, tune = docked_tune
    result = _semantic_result("em-mito3d", _probability(), "ZYX")
    place(viewer, result, name="vol labels")
    other = place(viewer, result, name="other labels")
    other.contour = 1  # outlines only: the layer below shows through
    tune.layer_combo.setCurrentText("vol labels")
    viewer.dims.set_current_step(0, 5)
    change(qtbot, tune, threshold=0.7)
    assert "covers it" not in tune.status_label.text()


def test_an_opaque_image_above_is_said_to_cover(docked_tune, qtbot):
    viewer, tune = docked_tune
    result = _semantic_result("em-mito3d", _probability(), "ZYX")
    place(viewer, result, name="vol labels")
    image = viewer.add_image(np.ones((8, 64, 64), np.float32), name="channel 2")  # on top
    tune.layer_combo.setCurrentText("vol labels")
    viewer.dims.set_current_step(0, 5)
    change(qtbot, tune, threshold=0.7)
    status = tune.status_label.text()
    assert status.endswith(
        "; 'channel 2' above it in the layer list covers it: hide that layer to see it"
    )
    image.blending = "additive"  # the labels show through
    change(qtbot, tune, threshold=0.75)
    assert "covers it" not in tune.status_label.text()

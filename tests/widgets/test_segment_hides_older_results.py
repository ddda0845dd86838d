"""A new result of an image hides the older results of that image (user test s33/t12 #8: a
nuclei2d result left visible under a cells2dt one showed through at opacity 0.7, cells in two
colours). Hidden, not removed, and said in the status line; a layer the panel hid that the
user showed again stays shown; a result replaced into a layer the panel hid is shown."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from napari.layers import Labels, Tracks
from qtpy.QtCore import Qt

from tests.conftest import DATA

SIM = DATA / "ctc_Fluo-N2DH-SIM+" / "01"


def _choose(widget, name: str) -> None:
    widget.model_combo.setCurrentIndex(
        widget.model_combo.findText(f"{name} (", Qt.MatchFlag.MatchStartsWith)
    )


def test_a_new_result_hides_the_older_results_of_its_image(make_napari_viewer, qtbot, run_to_end):
    if not SIM.exists():
        pytest.skip(f"{SIM} is not in the shared data")
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    if not {"nuclei2d", "cells2dt"} <= {card.name for card in widget._cards.values()}:
        pytest.skip("the bundled models are not installed")
    widget.device_combo.setCurrentText("cpu")
    frames = sorted(SIM.glob("t*.tif"))[:3]
    movie = np.stack([tifffile.imread(f)[200:328, 200:328] for f in frames])
    image = viewer.add_image(movie, name="mov", metadata={"axes": "TYX"})
    other = viewer.add_image(movie[0], name="other")  # another image: its results untouched
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(other.unique_id))
    run_to_end(widget)
    other_labels = viewer.layers["other labels (nuclei2d)"]
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(image.unique_id))

    _choose(widget, "nuclei2d")
    run_to_end(widget)
    nuclei = viewer.layers["mov labels (nuclei2d)"]
    assert "hid" not in widget.status_label.text()
    _choose(widget, "cells2dt")
    run_to_end(widget)
    cells = viewer.layers["mov labels (cells2dt)"]
    [tracks] = [layer for layer in viewer.layers if isinstance(layer, Tracks)]
    assert cells.visible and tracks.visible
    assert not nuclei.visible and nuclei in viewer.layers  # hidden, not removed (was visible)
    assert other_labels.visible  # another image's result
    assert widget.status_label.text().endswith(
        "; hid 'mov labels (nuclei2d)' (an older result of 'mov', kept: tick its eye to compare)"
    ), widget.status_label.text()

    # nuclei2d again: its layer replaced and shown; cells2dt's labels and tracks hidden
    _choose(widget, "nuclei2d")
    run_to_end(widget)
    assert viewer.layers["mov labels (nuclei2d)"] is nuclei and nuclei.visible
    assert not cells.visible and not tracks.visible
    assert f"hid '{cells.name}', '{tracks.name}' (older ones of 'mov'" in (
        widget.status_label.text()
    )

    # a layer shown again by the user after the panel hid it is theirs: not hidden again
    cells.visible = True
    _choose(widget, "nuclei2d")
    run_to_end(widget)
    assert cells.visible and not tracks.visible
    assert "hid" not in widget.status_label.text()
    assert [layer.name for layer in viewer.layers if isinstance(layer, Labels)] == [
        "other labels (nuclei2d)",
        "mov labels (nuclei2d)",
        "mov labels (cells2dt)",
    ]

"""Choosing a stack again in Segment with the 2D model the user chose for it says what a Run
will do (the model, how it reads the stack, the Axes) and names the model that reads such
stacks whole, as the first choice's note did; it said just "Ready" (review s33/r9 #6: a
Lucchi++ volume with em-mito2d, after a movie)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tests.conftest import DATA
from tests.widgets.helpers import choose_model

SIM = DATA / "ctc_Fluo-N2DH-SIM+" / "01"
LUCCHI = DATA / "em_mito_lucchipp" / "val" / "image.tif"


def _choose_layer(widget, layer) -> None:
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))


def _model(widget) -> str:
    return widget._cards[widget.model_combo.currentData()].name


def test_a_stack_chosen_again_with_the_user_s_2d_model_says_what_runs(make_napari_viewer, qtbot):
    if not SIM.exists() or not LUCCHI.exists():
        pytest.skip("SIM+ or Lucchi++ is not in the shared data")
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    names = {card.name for card in widget._cards.values()}
    if not {"cells2dt", "nuclei2d", "em-mito2d", "em-mito3d"} <= names:
        pytest.skip("the bundled models are not installed")
    volume = tifffile.imread(LUCCHI)[:8, 200:456, 300:556]  # mitochondria: em-mito3d fits
    em = viewer.add_image(volume, name="em", metadata={"axes": "ZYX"})
    _choose_layer(widget, em)
    qtbot.waitUntil(lambda: "checking" not in widget.status_label.text(), timeout=30_000)
    choose_model(widget, "em-mito2d")  # the user's choice for the volume
    frames = sorted(SIM.glob("t*.tif"))[:3]
    movie = np.stack([tifffile.imread(f)[:128, :128] for f in frames])
    mov = viewer.add_image(movie, name="mov", metadata={"axes": "TYX"})
    _choose_layer(widget, mov)
    assert _model(widget) == "em-mito2d"
    assert widget.status_label.text().startswith("'mov': kept em-mito2d, your choice")
    choose_model(widget, "nuclei2d")  # the user's choice for the movie
    flat = viewer.add_image(movie[0], name="flat")
    _choose_layer(widget, flat)
    assert widget.status_label.text() == "Ready"  # a 2D image: nothing to say

    _choose_layer(widget, em)  # back to the volume: em-mito2d, the user's choice for it
    assert _model(widget) == "em-mito2d"
    assert widget.axes_combo.currentText() == "ZYX"
    # and the model that reads such stacks whole, em-mito3d, which passes its input check on
    # this crop of Lucchi++ (a 3D model is named only where it fits: s35/t20 #6)
    assert widget.status_label.text() == (
        "'em': em-mito2d, your choice for it (slice by slice, Axes ZYX); em-mito3d, a 3D "
        "model, is in Model."
    )
    _choose_layer(widget, mov)  # back to the movie: nuclei2d, frame by frame
    assert _model(widget) == "nuclei2d"
    assert widget.status_label.text() == (
        "'mov': nuclei2d, your choice for it (frame by frame, Axes TYX); cells2dt, a "
        "time-lapse model (TYX), is in Model."
    )

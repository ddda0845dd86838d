"""The Segment panel's default state runs (user tests s33/t11 #1, t12 #5): a stack read as a
volume (ZYX: an ImageJ TIFF of ISBI 2012 sections, or a plain 3D TIFF whose axes are only
guessed) kept nuclei2d with Axes ZYX, and Run failed with the engine's "axes ZYX do not fit
model 'nuclei2d', which segments YX images; for a stack of 2D images use axes TYX", while the
status line promised "(slice by slice)". Now, where the model shown is a 2D model that refuses
volumes, the panel sets Axes TYX (the slices segmented one by one, as frames) and the status
says so and which models read volumes; another model brings the stack's axes back; axes the
user chose in the box are never changed, the status saying what they do instead.

And the status line describes the current state once the user changes the model or the axes
(t11 #7, t12 #7): a preselection note about another model, or a failed Run's line, goes."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from qtpy.QtCore import Qt

from tests.conftest import DATA

ISBI = DATA / "em_membranes_isbi2012" / "images"
SIM = DATA / "ctc_Fluo-N2DH-SIM+" / "01"
VOLUMES = "em-membranes2d, em-mito2d, em-mito3d"  # the bundled models that read volumes


def _panel(make_napari_viewer, *paths):
    for path in paths:
        if not path.exists():
            pytest.skip(f"{path} is not in the shared data")
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    names = {card.name for card in widget._cards.values()}
    if not {"em-mito3d", "nuclei2d", "em-membranes2d", "em-mito2d", "cells2dt"} <= names:
        pytest.skip("the bundled models are not installed")
    return viewer, widget


def _open(viewer, widget, path, qtbot):
    [layer] = viewer.open(str(path), plugin="tessella")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    qtbot.waitUntil(lambda: not widget._sample_workers, timeout=20_000)  # the volume check
    return layer


def _model(widget) -> str:
    return widget._cards[widget.model_combo.currentData()].name


def _choose(widget, name: str) -> None:
    widget.model_combo.setCurrentIndex(
        widget.model_combo.findText(f"{name} (", Qt.MatchFlag.MatchStartsWith)
    )


def _sim_frames(count: int) -> np.ndarray:
    """The first ``count`` frames of the SIM+ movie, 128² crops holding nuclei."""
    frames = sorted(SIM.glob("t*.tif"))[:count]
    return np.stack([tifffile.imread(f)[200:328, 200:328] for f in frames])


def _isbi_crop(path):
    """4 ISBI 2012 sections, 128² each, as an ImageJ ZYX TIFF of 50 nm sections, 4 nm px."""
    stack = np.stack([tifffile.imread(ISBI / f"{i:02d}.tif")[:128, :128] for i in range(4)])
    tifffile.imwrite(
        path,
        stack,
        imagej=True,
        resolution=(1 / 4, 1 / 4),
        metadata={"axes": "ZYX", "spacing": 50, "unit": "nm"},
    )


def test_a_named_zyx_stack_with_nuclei2d_runs_its_slices_one_by_one(
    make_napari_viewer, tmp_path, qtbot, run_to_end
):
    viewer, widget = _panel(make_napari_viewer, ISBI / "03.tif")
    _isbi_crop(tmp_path / "isbi.tif")
    layer = _open(viewer, widget, tmp_path / "isbi.tif", qtbot)
    assert _model(widget) == "nuclei2d"
    assert widget.axes_combo.currentText() == "TYX"  # was ZYX, which nuclei2d refuses
    assert layer.axis_labels == ("z", "y", "x")  # still slices: not renamed "t"
    text = widget.status_label.text()
    assert text.startswith("'isbi': kept nuclei2d (a 2D model): "), text
    assert text.endswith(
        "Axes set to TYX: nuclei2d segments the 4 slices of 'isbi' one by one, not joined "
        f"across slices; for a 3D result choose a model that reads volumes ({VOLUMES})."
    ), text

    # a model that reads volumes: the file's axes back, and the status says the state
    _choose(widget, "em-membranes2d")
    assert widget.axes_combo.currentText() == "ZYX"
    # the note on nuclei2d went (t11 #7); what em-membranes2d's card measured on serial
    # sections (s35/t20 #3)
    assert widget.status_label.text().startswith("em-membranes2d on serial sections (its card")
    _choose(widget, "nuclei2d")
    assert widget.axes_combo.currentText() == "TYX"
    assert widget.status_label.text().startswith("Axes set to TYX: nuclei2d segments the 4")

    # the default state runs (it failed: "axes ZYX do not fit model 'nuclei2d'")
    run_to_end(widget)
    status = widget.status_label.text()
    assert "failed" not in status.lower(), status
    result = viewer.layers["isbi labels (nuclei2d)"]
    assert result.metadata["tessella_recipe"]["axes"] == "TYX"
    assert result.data.shape == layer.data.shape
    assert tuple(result.scale) == tuple(layer.scale)  # (50, 4, 4) nm: the sections kept


def test_axes_the_user_chose_are_kept_and_the_status_says_what_they_do(
    make_napari_viewer, tmp_path, qtbot, run_to_end
):
    viewer, widget = _panel(make_napari_viewer, SIM)
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, _sim_frames(6))  # a plain 3D TIFF (t12 #5): ZYX only guessed
    layer = _open(viewer, widget, stack, qtbot)
    assert _model(widget) == "nuclei2d"
    assert widget.axes_combo.currentText() == "TYX"
    assert layer.axis_labels == ("z", "y", "x")

    widget.axes_combo.setCurrentText("ZYX")  # the user's: kept, the status says why not
    assert widget.status_label.text() == (  # (the note on the model preselection stays)
        "'stack': kept nuclei2d (a 2D model): em-mito3d, a 3D model, was trained on images "
        "unlike it. nuclei2d, a 2D model, does not read axes ZYX: choose Axes TYX to segment "
        "the 6 slices of 'stack' one by one; for a 3D result choose a model that reads "
        f"volumes ({VOLUMES})."
    )
    _choose(widget, "em-mito2d")
    _choose(widget, "nuclei2d")
    assert widget.axes_combo.currentText() == "ZYX"  # no model changes the user's axes
    run_to_end(widget)  # refused by the engine, as the status said
    assert widget.status_label.text().startswith("Failed: 'stack': axes ZYX do not fit")

    # a failed Run's line goes once the model changes (t12 #7)
    _choose(widget, "em-mito2d")
    assert widget.status_label.text() == "Ready"
    _choose(widget, "nuclei2d")
    widget.axes_combo.setCurrentText("TYX")
    assert widget.status_label.text() == "Ready"  # TYX chosen: nothing to say
    run_to_end(widget)
    assert widget.status_label.text().startswith("'stack': "), widget.status_label.text()
    assert "failed" not in widget.status_label.text().lower()
    assert viewer.layers["stack labels (nuclei2d)"].data.shape == layer.data.shape

    # another layer chosen, then this one again: its axes guessed again (TYX for nuclei2d)
    other = viewer.add_image(np.zeros((64, 64), np.uint8), name="plane")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(other.unique_id))
    assert widget.axes_combo.currentText() == "YX"
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    assert widget.axes_combo.currentText() == "TYX"


def test_a_movie_model_note_goes_once_another_model_is_chosen(make_napari_viewer, qtbot):
    """t12 #7: after choosing nuclei2d for a movie, the status still said "Model cells2dt
    preselected ... choose another in Model to use it instead"."""
    viewer, widget = _panel(make_napari_viewer, SIM)
    layer = viewer.add_image(_sim_frames(3), name="mov", metadata={"axes": "TYX"})
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    assert _model(widget) == "cells2dt"
    assert widget.status_label.text().startswith("Model cells2dt preselected for 'mov'")
    _choose(widget, "nuclei2d")
    assert widget.axes_combo.currentText() == "TYX"
    assert widget.status_label.text() == "Ready"

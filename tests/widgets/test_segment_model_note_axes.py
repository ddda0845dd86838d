"""The Segment status line's note on the model the user chose for a stack follows the Axes
and names only a 3D model of the same kind (user test s35/t20 #6: after choosing
em-membranes2d for an ssTEM stack and then Axes TYX, it still read "... (slice by slice, Axes
ZYX); em-mito3d, a 3D model, is in Model.", a mitochondria model for a membrane stack); on
serial sections it gives the card's scores of the model slice by slice and as one 3D stack
(t20 #3: TYX scored V_rand 0.978 against 0.936 on 10 ISBI slices, and the panel said
nothing)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tests.conftest import DATA
from tests.widgets.helpers import choose_model

ISBI = DATA / "em_membranes_isbi2012" / "images"
LUCCHI = DATA / "em_mito_lucchipp" / "val" / "image.tif"


def _panel(make_napari_viewer):
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    names = {card.name for card in widget._cards.values()}
    if not {"em-mito3d", "em-mito2d", "em-membranes2d"} <= names:
        pytest.skip("the bundled models are not installed")
    return viewer, widget


def _open(viewer, widget, path, qtbot):
    [layer] = viewer.open(str(path), plugin="tessella")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    qtbot.waitUntil(lambda: not widget._sample_workers, timeout=20_000)
    return layer


def _choose_layer(widget, layer) -> None:
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))


def _isbi_stack(path, spacing: bool):
    """6 ISBI 2012 slices (ssTEM), their central 256² windows, with a voxel size of
    50 x 4 x 4 nm where ``spacing``."""
    stack = np.stack([tifffile.imread(ISBI / f"{i:02d}.tif")[128:384, 128:384] for i in range(6)])
    if spacing:
        tifffile.imwrite(
            path,
            stack,
            imagej=True,
            resolution=(1 / 4, 1 / 4),
            metadata={"axes": "ZYX", "spacing": 50, "unit": "nm"},
        )
    else:
        tifffile.imwrite(path, stack, imagej=True, metadata={"axes": "ZYX"})
    return path


SCORES_ZYX = (
    "em-membranes2d on serial sections (its card, on ISBI 2012 slices 16-19 of "
    "50 x 4 x 4 nm): V_rand 0.969 slice by slice (Axes TYX) against 0.944 as one 3D stack "
    "(Axes ZYX, this Run's); TYX does not join objects across slices."
)


def test_the_note_on_a_membrane_stack_follows_the_axes(make_napari_viewer, tmp_path, qtbot):
    if not (ISBI / "05.tif").exists():
        pytest.skip("ISBI 2012 is not in the shared data")
    viewer, widget = _panel(make_napari_viewer)
    choose_model(widget, "em-membranes2d")  # the user's choice, before any image
    stack = _open(viewer, widget, _isbi_stack(tmp_path / "isbi_nm.tif", True), qtbot)
    assert widget.axes_combo.currentText() == "ZYX"
    # no mitochondria model named for membranes; the card's scores on serial sections
    assert widget.status_label.text() == (
        f"'isbi_nm': kept em-membranes2d, your choice (slice by slice). {SCORES_ZYX}"
    )

    widget.axes_combo.setCurrentText("TYX")  # the user reads it slice by slice
    scores_tyx = (
        "em-membranes2d on serial sections (its card, on ISBI 2012 slices 16-19 of "
        "50 x 4 x 4 nm): V_rand 0.969 slice by slice (Axes TYX, this Run's) against 0.944 as "
        "one 3D stack (Axes ZYX); TYX does not join objects across slices."
    )
    assert widget.status_label.text() == (
        "'isbi_nm': em-membranes2d, your choice for it (each slice on its own, Axes TYX). "
        + scores_tyx
    )

    # the model chosen again with the stack chosen (t20's order): the note on the model goes,
    # the one on the sections stays; then the stack chosen again (as after a Run, whose new
    # layer lists the layers again): its Axes guessed again, and the note on the user's model
    choose_model(widget, "em-mito2d")
    choose_model(widget, "em-membranes2d")
    assert widget.status_label.text() == scores_tyx
    flat = viewer.add_image(np.zeros((64, 64), np.uint8), name="flat")
    _choose_layer(widget, flat)
    _choose_layer(widget, stack)
    assert widget.axes_combo.currentText() == "ZYX"
    assert widget.status_label.text() == (
        f"'isbi_nm': em-membranes2d, your choice for it (slice by slice, Axes ZYX). {SCORES_ZYX}"
    )
    widget.axes_combo.setCurrentText("TYX")
    assert "(each slice on its own, Axes TYX)" in widget.status_label.text()
    assert "em-mito3d" not in widget.status_label.text()


def test_serial_sections_without_a_voxel_size_are_told_by_their_slices(
    make_napari_viewer, tmp_path, qtbot
):
    """No voxel size: the likeness of neighbouring slices tells serial sections (ISBI), and a
    FIB-SEM volume (Lucchi++, 5 nm isotropic) gets no such note."""
    if not (ISBI / "05.tif").exists() or not LUCCHI.exists():
        pytest.skip("ISBI 2012 or Lucchi++ is not in the shared data")
    viewer, widget = _panel(make_napari_viewer)
    choose_model(widget, "em-membranes2d")
    _open(viewer, widget, _isbi_stack(tmp_path / "isbi.tif", False), qtbot)
    assert widget.status_label.text() == (
        "'isbi': kept em-membranes2d, your choice (slice by slice). "
        + SCORES_ZYX.replace("on serial sections", "on serial sections, as this stack looks")
    )
    lucchi = tmp_path / "lucchi.tif"
    tifffile.imwrite(lucchi, tifffile.imread(LUCCHI)[:8, 200:456, 300:556])
    _open(viewer, widget, lucchi, qtbot)
    assert (
        widget.status_label.text() == "'lucchi': kept em-membranes2d, your choice (slice by slice)."
    )


def test_a_mitochondria_stack_still_names_the_3d_mitochondria_model(
    make_napari_viewer, tmp_path, qtbot
):
    """em-mito2d (semantic) on a Lucchi++ volume: em-mito3d, of the same kind and passing its
    input check there, is named, whatever the Axes."""
    if not LUCCHI.exists():
        pytest.skip("Lucchi++ is not in the shared data")
    viewer, widget = _panel(make_napari_viewer)
    choose_model(widget, "em-mito2d")
    lucchi = tmp_path / "lucchi.tif"
    tifffile.imwrite(lucchi, tifffile.imread(LUCCHI)[:8, 200:456, 300:556])
    _open(viewer, widget, lucchi, qtbot)
    assert widget.status_label.text() == (
        "'lucchi': kept em-mito2d, your choice (slice by slice); em-mito3d, a 3D model, is in "
        "Model."
    )
    widget.axes_combo.setCurrentText("TYX")
    assert widget.status_label.text() == (
        "'lucchi': em-mito2d, your choice for it (each slice on its own, Axes TYX); "
        "em-mito3d, a 3D model, is in Model."
    )

"""The Segment panel warns, naming the layer, where em-membranes2d (a 2D boundary model) is
about to segment a ZYX layer without a scale: its superpixels and agglomeration are 3D with a
Z step as long as a pixel is wide, so that on ISBI's 50 nm sections of 4 nm pixels cells were
joined across sections without a word (6 slices: 83 objects against 93-110 per slice). Not
for a layer whose scale gives the voxel size, nor for the slices segmented as TYX. In memory
and blockwise (where the engine's warning is said once, in the panel's words: the layer's
scale, Axes TYX; not the Python API's spacing= / axes="TYX")."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella._widgets import segment as segment_module
from tests.conftest import DATA
from tests.widgets.helpers import choose_model, choose_text, said


def _stack(size: int = 96, slices: int = 5) -> np.ndarray:
    images = DATA / "em_membranes_isbi2012" / "images"
    return np.stack(
        [tifffile.imread(images / f"{i:02d}.tif")[:size, :size] for i in range(15, 15 + slices)]
    )


def _run(viewer, widget, run_to_end, name: str, axes: str, **layer) -> None:
    viewer.add_image(_stack(), name=name, **layer)
    choose_text(widget.layer_combo, name)
    choose_model(widget, "em-membranes2d")
    widget.axes_combo.setCurrentText(axes)
    run_to_end(widget)
    assert "added" in widget.status_label.text(), widget.status_label.text()


def test_a_layer_without_z_scale_is_warned_of(segment_widget, run_to_end, monkeypatch, data_dir):
    viewer, widget = segment_widget
    warned = said(monkeypatch, segment_module, "show_warning")
    _run(viewer, widget, run_to_end, "em plain", "ZYX")
    [line] = [w for w in warned if "Z scale" in w]
    assert line.startswith("'em plain': the layer has no Z scale; em-membranes2d joins")
    assert "viewer.layers['em plain'].scale" in line and "Axes TYX" in line
    warned.clear()
    _run(viewer, widget, run_to_end, "em spaced", "ZYX", scale=(0.05, 0.004, 0.004))
    _run(viewer, widget, run_to_end, "em slices", "TYX")
    assert not [w for w in warned if "Z scale" in w]


def test_the_blockwise_route_warns_once_in_the_panels_words(
    segment_widget, run_to_end, monkeypatch, tmp_path
):
    viewer, widget = segment_widget
    warned = said(monkeypatch, segment_module, "show_warning")
    for name, scale in (("em plain", None), ("em spaced", (0.05, 0.004, 0.004))):
        layer = {} if scale is None else {"scale": scale}
        viewer.add_image(_stack(64, 3), name=name, **layer)
        choose_text(widget.layer_combo, name)
        choose_model(widget, "em-membranes2d")
        widget.axes_combo.setCurrentText("ZYX")
        widget.blockwise_checkbox.setChecked(True)
        widget.blockwise_edit.setText(str(tmp_path / f"{name}.zarr"))
        widget.tta_checkbox.setChecked(False)
        run_to_end(widget)
        assert "written to" in widget.status_label.text(), widget.status_label.text()
        lines = [w for w in warned if "joins objects across slices" in w]
        if scale is not None:  # (the layer's scale is its voxel size: nothing to say)
            assert lines == []
            continue
        [line] = lines
        assert line.startswith("'em plain': the layer has no Z scale; em-membranes2d joins")
        assert "viewer.layers['em plain'].scale" in line and "Axes TYX" in line
        assert "spacing=" not in line  # (the Python API's words, not the panel's)
        warned.clear()

"""The advice of Segment's unknown-Z-spacing warning, followed as written in the napari
console, gives the layer its voxel size in nm: a Run then warns no more and its labels keep
50 x 4 x 4 nm, as Export writes them (user test s33/t11 #2c: the advice set only the scale,
which napari and Export take as µm, a result 1000 times too big)."""

from __future__ import annotations

import re

import numpy as np
import tifffile

from tessella._io import layer_pixel_size
from tessella._widgets import segment as segment_module
from tests.conftest import DATA
from tests.widgets.helpers import choose_model, choose_text, said


def test_following_the_z_spacing_advice_gives_the_voxel_size_in_nm(
    segment_widget, run_to_end, monkeypatch, data_dir
):
    viewer, widget = segment_widget
    images = DATA / "em_membranes_isbi2012" / "images"
    stack = np.stack([tifffile.imread(images / f"{i:02d}.tif")[:96, :96] for i in range(15, 19)])
    viewer.add_image(stack, name="em")
    choose_text(widget.layer_combo, "em")
    choose_model(widget, "em-membranes2d")
    widget.axes_combo.setCurrentText("ZYX")
    warned = said(monkeypatch, segment_module, "show_warning")
    run_to_end(widget)
    [line] = [w for w in warned if "Z scale" in w]
    advice = re.search(r"e\.g\. (viewer\..*?) for 50 nm sections", line)
    assert advice, line
    exec(advice.group(1), {"viewer": viewer})  # as typed in napari's console

    layer = viewer.layers["em"]
    assert tuple(layer.scale) == (50, 4, 4)
    assert layer_pixel_size("ZYX", tuple(layer.scale), layer.units, [layer.metadata]) == (
        {"Z": 50.0, "Y": 4.0, "X": 4.0},
        "nm",
        False,  # (a unit the layer names, not µm assumed for a scale without one)
    )
    warned.clear()
    run_to_end(widget)
    assert not [w for w in warned if "Z scale" in w]
    labels = viewer.layers["em labels (em-membranes2d)"]
    assert tuple(labels.scale) == (50, 4, 4)
    assert [str(unit) for unit in labels.units] == ["nanometer"] * 3

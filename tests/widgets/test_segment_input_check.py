"""The Segment panel says, as a warning naming the layer and the model, that an image looks
unlike the model's training images: worms2d given the GFP channel of a BBBC010 well (the
files in ``brightfield/`` of this copy); nothing for the brightfield well it was trained on."""

from __future__ import annotations

import tifffile

from tessella._widgets import segment as segment_module
from tests.conftest import DATA
from tests.widgets.helpers import said


def _run_worms2d(viewer, widget, run_to_end, folder: str) -> str:
    image = tifffile.imread(DATA / "worms_bbbc010" / folder / "E03.tif")[:, :348]
    name = f"E03 {folder}"
    viewer.add_image(image, name=name)
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText(name))
    combo = widget.model_combo
    [index] = [i for i in range(combo.count()) if combo.itemText(i).startswith("worms2d")]
    combo.setCurrentIndex(index)
    run_to_end(widget)
    return name


def test_the_panel_warns_of_the_gfp_channel_given_to_worms2d(
    segment_widget, run_to_end, monkeypatch
):
    viewer, widget = segment_widget
    warned = said(monkeypatch, segment_module, "show_warning")
    name = _run_worms2d(viewer, widget, run_to_end, "brightfield")
    lines = [line for line in warned if "looks unlike" in line]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert name in lines[0] and "'worms2d'" in lines[0] and "90th percentile" in lines[0]
    assert "added" in widget.status_label.text()  # the run went on, the panel usable
    assert widget.run_button.isEnabled()
    warned.clear()
    _run_worms2d(viewer, widget, run_to_end, "gfp")
    assert not [line for line in warned if "looks unlike" in line]

"""The Segment panel's blockwise route warns, as its in-memory route does (a napari warning
naming the layer and the model), that an image looks unlike the model's training images:
worms2d given the GFP channel of a BBBC010 well (``brightfield/`` in this copy), as a
zarr-backed layer segmented blockwise; nothing for the brightfield well it was trained on."""

from __future__ import annotations

import tifffile

from tessella._widgets import segment as segment_module
from tests.conftest import DATA
from tests.widgets.helpers import said
from tests.widgets.test_segment_blockwise import lazy_layer_with_model


def _run(segment_widget, tmp_path, run_to_end, folder: str) -> str:
    image = tifffile.imread(DATA / "worms_bbbc010" / folder / "E03.tif")[:, :348]
    name = f"E03 {folder}"
    _viewer, widget = lazy_layer_with_model(
        segment_widget, tmp_path, name, image, (256, 256), "worms2d"
    )
    widget.blockwise_edit.setText(str(tmp_path / f"{folder} labels.zarr"))
    widget.tta_checkbox.setChecked(False)
    run_to_end(widget)
    assert "written to" in widget.status_label.text()  # the run went on to the end
    return name


def test_the_blockwise_route_warns_of_the_gfp_channel_given_to_worms2d(
    segment_widget, tmp_path, run_to_end, monkeypatch
):
    warned = said(monkeypatch, segment_module, "show_warning")
    name = _run(segment_widget, tmp_path, run_to_end, "brightfield")
    lines = [line for line in warned if "looks unlike" in line]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert lines[0].startswith(f"{name} looks unlike the images model 'worms2d'")
    assert "90th percentile" in lines[0]
    warned.clear()
    _run(segment_widget, tmp_path, run_to_end, "gfp")
    assert not [line for line in warned if "looks unlike" in line]

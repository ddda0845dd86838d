"""Segment after a user test (t1): the network maps *Show network outputs* adds lie below the
labels, half transparent, and a new run replaces them in place (they were added above the
labels in additive blending: on an EM slice the canvas went white and the labels being tuned
could not be seen); a movie (a folder of frames, TYX) gets the time-lapse model preselected
unless a model was chosen for it (it got nuclei2d); and the progress counts frames and tiles
from 1, naming a movie's frame as napari's slider does, from 0, with its file's number
("frame 0 of 5" read as 0-based; "frame 2 of 6 (t053)" named the slider's frame 1)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from napari.layers import Image, Labels
from qtpy.QtWidgets import QLabel

from tessella._widgets.segment import OUTPUT_KEY
from tests.conftest import DATA
from tests.widgets.helpers import choose_model

GOWT1 = DATA / "ctc_Fluo-N2DH-GOWT1" / "01"


def _needs(path):
    if not path.exists():
        pytest.skip(f"{path} is not in the shared data")
    return path


def _crop(kind: str) -> np.ndarray:
    """A real image the model of ``kind`` is made for, cut small (a run takes seconds)."""
    if kind == "em":
        return tifffile.imread(_needs(DATA / "em_membranes_isbi2012/images/17.tif"))[:256, :256]
    if kind == "nuclei":
        return tifffile.imread(_needs(DATA / "fixtures/img2d.tif"))[:256, :256]
    if kind == "mito":
        return tifffile.imread(_needs(DATA / "em_mito_lucchipp/val/image.tif"))[0, :256, :256]
    if kind == "worms":
        return tifffile.imread(_needs(DATA / "worms_bbbc010/brightfield/A01.tif"))[:256, :256]
    frames = [tifffile.imread(_needs(GOWT1 / f"t{t:03d}.tif")) for t in (39, 40, 41)]
    return np.stack([frame[384:576, 384:576] for frame in frames])  # cells mid-field


def _segment(viewer):
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    return widget


def _maps(viewer, image) -> list:
    """The network map layers Segment placed for ``image`` (not its labels)."""
    return [
        layer
        for layer in viewer.layers
        if isinstance(layer, Image)
        and isinstance(layer.metadata.get(OUTPUT_KEY), dict)
        and layer.metadata.get("tessella_source_id") == image.unique_id
    ]


@pytest.mark.parametrize(
    ("model", "kind", "maps"),
    [
        ("em-membranes2d", "em", {"boundary", "foreground"}),
        ("nuclei2d", "nuclei", {"seed"}),
        ("em-mito2d", "mito", {"foreground"}),
        ("worms2d", "worms", {"foreground"}),  # the patches' P(1 or more objects)
        ("cells2dt", "movie", {"foreground", "centre"}),
    ],
)
def test_network_maps_lie_below_the_labels_half_transparent(
    make_napari_viewer, run_to_end, model, kind, maps
):
    image_data = _crop(kind)
    viewer = make_napari_viewer()
    metadata = {"axes": "TYX"} if kind == "movie" else {}
    image = viewer.add_image(image_data, name="img", metadata=metadata)
    widget = _segment(viewer)
    choose_model(widget, model)
    widget.device_combo.setCurrentText("cpu")
    widget.outputs_checkbox.setChecked(True)

    run_to_end(widget)

    assert "failed" not in widget.status_label.text()
    labels = viewer.layers[f"img labels ({model})"]
    placed = _maps(viewer, image)
    assert {layer.metadata[OUTPUT_KEY]["kind"] for layer in placed} == maps
    layers = viewer.layers
    for layer in placed:
        # between the image and its labels: the labels are drawn over the maps
        assert layers.index(image) < layers.index(layer) < layers.index(labels), layer.name
        assert layer.data.shape == labels.data.shape
        assert layer.blending == "translucent" and layer.opacity == pytest.approx(0.5)
        assert layer.colormap.name == "magma"
        assert tuple(layer.contrast_limits) == (0.0, 1.0)
    # one map shown at a time (two at half opacity hide the image), the others a click away
    assert sum(layer.visible for layer in placed) == 1
    assert labels.visible and labels.opacity >= 0.5
    assert viewer.layers.selection.active is labels  # what is tuned and corrected next


def test_a_new_run_replaces_the_maps_in_place_below_the_labels(make_napari_viewer, run_to_end):
    viewer = make_napari_viewer()
    image = viewer.add_image(_crop("em"), name="17")
    widget = _segment(viewer)
    choose_model(widget, "em-membranes2d")
    widget.device_combo.setCurrentText("cpu")
    widget.outputs_checkbox.setChecked(True)
    run_to_end(widget)
    labels = viewer.layers["17 labels (em-membranes2d)"]
    boundary = viewer.layers["17 boundary (em-membranes2d)"]
    foreground = viewer.layers["17 foreground (em-membranes2d)"]
    names = [layer.name for layer in viewer.layers]
    # the user shows the foreground map, more opaque, and drags it to the top
    foreground.visible, foreground.opacity = True, 0.8
    viewer.layers.move(viewer.layers.index(foreground), len(viewer.layers))
    assert viewer.layers.index(foreground) > viewer.layers.index(labels)

    run_to_end(widget)

    assert "replaced '17 labels (em-membranes2d)'" in widget.status_label.text()
    assert sorted(layer.name for layer in viewer.layers) == sorted(names)  # none stacked
    assert viewer.layers["17 labels (em-membranes2d)"] is labels
    assert _maps(viewer, image) == [
        layer for layer in viewer.layers if layer in (boundary, foreground)
    ]
    top = viewer.layers.index(labels)
    assert viewer.layers.index(boundary) < top and viewer.layers.index(foreground) < top
    assert foreground.visible and foreground.opacity == pytest.approx(0.8)  # the user's


@pytest.fixture
def movie_folder(tmp_path):
    """Three GOWT1 frames saved as t039.tif... (as the Cell Tracking Challenge numbers them):
    Tessella's reader opens the folder as one TYX movie that records their numbers."""
    folder = tmp_path / "mov"
    folder.mkdir()
    for t, frame in zip((39, 40, 41), _crop("movie")):
        tifffile.imwrite(folder / f"t{t:03d}.tif", frame)
    return folder


def test_a_movie_gets_the_time_lapse_model_unless_one_was_chosen(
    make_napari_viewer, movie_folder, nuclei_image
):
    viewer = make_napari_viewer()
    [movie] = viewer.open(str(movie_folder), plugin="tessella")
    assert movie.metadata["axes"] == "TYX"
    widget = _segment(viewer)
    if "cells2dt" not in [card.name for card in widget._cards.values()]:
        pytest.skip("the bundled cells2dt model is not installed")
    assert widget.image_layer is movie
    card = widget._cards[widget.model_combo.currentData()]
    assert card.name == "cells2dt"
    assert widget.axes_combo.currentText() == "TYX"

    # a 2D image: the default model again (cells2dt was only preselected for the movie)
    still = viewer.add_image(nuclei_image, name="nuclei")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(still.unique_id))
    assert widget._cards[widget.model_combo.currentData()].name == "nuclei2d"
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(movie.unique_id))
    assert widget._cards[widget.model_combo.currentData()].name == "cells2dt"

    # a model the user chose for the movie stays its model, also after another layer
    choose_model(widget, "nuclei2d")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(still.unique_id))
    choose_model(widget, "em-membranes2d")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(movie.unique_id))
    assert widget._cards[widget.model_combo.currentData()].name == "nuclei2d"

    # a movie opened after the user chose models keeps the model shown, the user's (since
    # session 33: cells2dt was preselected over it), the status saying cells2dt exists
    [second] = viewer.open(str(movie_folder), plugin="tessella")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(second.unique_id))
    assert widget._cards[widget.model_combo.currentData()].name == "nuclei2d"
    assert "your choice (frame by frame); cells2dt" in widget.status_label.text()


def _status_lines(widget) -> list[str]:
    """Every text the panel's status line shows from now on."""
    shown: list[str] = []
    label = widget.status_label

    def set_text(text: str) -> None:
        shown.append(text)
        QLabel.setText(label, text)

    label.setText = set_text
    return shown


def test_progress_counts_frames_from_one_with_their_numbers(
    make_napari_viewer, movie_folder, run_to_end
):
    viewer = make_napari_viewer()
    [movie] = viewer.open(str(movie_folder), plugin="tessella")
    widget = _segment(viewer)
    choose_model(widget, "cells2dt")  # one tile a frame: the count is of frames
    widget.device_combo.setCurrentText("cpu")
    shown = _status_lines(widget)

    run_to_end(widget)

    predicting = [line for line in shown if "predicting" in line]
    # the frame named as napari's slider shows it (from 0) with its file's number, and
    # counted from 1 (user test s31/t7, finding 5)
    assert predicting[0] == "'mov': predicting frame 0 (t039), 1 of 3"
    assert predicting[-1] == "'mov': predicting frame 2 (t041), 3 of 3"
    assert not [line for line in predicting if " 0 of " in line]
    assert isinstance(viewer.layers["mov labels (cells2dt)"], Labels)

    # several tiles a frame: the tile counted from 1, and the frame it lies in
    choose_model(widget, "nuclei2d")
    widget.axes_combo.setCurrentText("TYX")
    widget.tile_spin.setValue(widget.tile_spin.minimum())
    shown.clear()
    run_to_end(widget)
    predicting = [line for line in shown if "predicting" in line]
    assert "failed" not in widget.status_label.text()
    total = int(predicting[0].split(" of ")[1].split(",")[0])
    assert total % 3 == 0 and total > 3
    assert predicting[0] == f"'mov': predicting tile 1 of {total}, in frame 0 (t039)"
    assert predicting[-1] == f"'mov': predicting tile {total} of {total}, in frame 2 (t041)"
    assert not [line for line in predicting if " 0 of " in line]

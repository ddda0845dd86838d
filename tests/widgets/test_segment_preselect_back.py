"""Segment's model preselection for a movie is undone for the next 2D image by going back to
the model the user was working with, not to the default (review 3, R2): a user segmenting EM
images with em-membranes2d who opened a movie once (cells2dt preselected) got nuclei2d on the
next EM image without being told. Since session 33 a movie keeps the model the user chose
(cells2dt is preselected only where none was chosen), so the user keeps em-membranes2d."""

from __future__ import annotations

import pytest
import tifffile

from tests.conftest import DATA
from tests.widgets.helpers import choose_model

GOWT1 = DATA / "ctc_Fluo-N2DH-GOWT1" / "01"
EM = DATA / "em_membranes_isbi2012" / "images"


@pytest.fixture
def movie_folder(tmp_path):
    """Three real GOWT1 frames as t039.tif...: Tessella's reader opens the folder as a TYX
    movie."""
    if not GOWT1.exists():
        pytest.skip(f"{GOWT1} is not in the shared data")
    folder = tmp_path / "mov"
    folder.mkdir()
    for t in (39, 40, 41):
        frame = tifffile.imread(GOWT1 / f"t{t:03d}.tif")[384:576, 384:576]
        tifffile.imwrite(folder / f"t{t:03d}.tif", frame)
    return folder


def _em(name: str):
    path = EM / name
    if not path.exists():
        pytest.skip(f"{path} is not in the shared data")
    return tifffile.imread(path)[:256, :256]


def _model(widget) -> str:
    return widget._cards[widget.model_combo.currentData()].name


def _choose_layer(widget, layer) -> None:
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))


def test_a_2d_image_after_a_movie_gets_the_model_used_before_it(make_napari_viewer, movie_folder):
    viewer = make_napari_viewer()
    first = viewer.add_image(_em("17.tif"), name="em 17")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    if "cells2dt" not in [card.name for card in widget._cards.values()]:
        pytest.skip("the bundled cells2dt model is not installed")
    assert widget.image_layer is first
    choose_model(widget, "em-membranes2d")

    [movie] = viewer.open(str(movie_folder), plugin="tessella")
    _choose_layer(widget, movie)
    # the user's choice: kept for the movie (since session 33; cells2dt was preselected
    # over it, and the next EM image got the model before it back)
    assert _model(widget) == "em-membranes2d"

    # a new EM image (nothing chosen for it): the model the user had, not nuclei2d
    second = viewer.add_image(_em("18.tif"), name="em 18")
    _choose_layer(widget, second)
    assert _model(widget) == "em-membranes2d"


def test_a_2d_image_after_a_preselected_movie_gets_the_default_back(
    make_napari_viewer, movie_folder
):
    """With no model chosen, a movie gets cells2dt preselected; a 2D image afterwards gets
    the model shown before it (the default), each time."""
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    if "cells2dt" not in [card.name for card in widget._cards.values()]:
        pytest.skip("the bundled cells2dt model is not installed")
    [movie] = viewer.open(str(movie_folder), plugin="tessella")
    _choose_layer(widget, movie)
    assert _model(widget) == "cells2dt"  # preselected for the movie

    second = viewer.add_image(_em("18.tif"), name="em 18")
    _choose_layer(widget, second)
    assert _model(widget) == "nuclei2d"

    # the movie again, then another new image: the same
    _choose_layer(widget, movie)
    assert _model(widget) == "cells2dt"
    third = viewer.add_image(_em("19.tif"), name="em 19")
    _choose_layer(widget, third)
    assert _model(widget) == "nuclei2d"

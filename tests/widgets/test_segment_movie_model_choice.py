"""A time-lapse gets cells2dt preselected only where the user has chosen no model (s32's note:
"a TYX movie still gets cells2dt over the user's choice"), as a volume gets a 3D model only
then (test_segment_volume_model_fit); the status line says what was kept or preselected and
why. A stack added from code is judged as a file's where its metadata names its axes; without
them (its axes a guess from its shape) it keeps the model shown."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tests.conftest import DATA
from tests.widgets.helpers import choose_model

GOWT1 = DATA / "ctc_Fluo-N2DH-GOWT1" / "01"
LUCCHI = DATA / "em_mito_lucchipp" / "val" / "image.tif"


@pytest.fixture
def frames():
    """Three real GOWT1 frames (192x192 crops), TYX."""
    if not GOWT1.exists():
        pytest.skip(f"{GOWT1} is not in the shared data")
    return np.stack(
        [tifffile.imread(GOWT1 / f"t{t:03d}.tif")[384:576, 384:576] for t in (39, 40, 41)]
    )


@pytest.fixture
def movie_folder(tmp_path, frames):
    """The frames as t039.tif...: Tessella's reader opens the folder as a TYX movie."""
    folder = tmp_path / "mov"
    folder.mkdir()
    for t, frame in zip((39, 40, 41), frames):
        tifffile.imwrite(folder / f"t{t:03d}.tif", frame)
    return folder


def _panel(make_napari_viewer):
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    names = {card.name for card in widget._cards.values()}
    if not {"cells2dt", "nuclei2d", "em-membranes2d", "em-mito3d"} <= names:
        pytest.skip("the bundled models are not installed")
    return viewer, widget


def _model(widget) -> str:
    return widget._cards[widget.model_combo.currentData()].name


def _choose_layer(widget, layer) -> None:
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))


def test_a_movie_keeps_the_model_the_user_chose(make_napari_viewer, movie_folder, frames):
    viewer, widget = _panel(make_napari_viewer)
    choose_model(widget, "em-membranes2d")  # before any image

    [movie] = viewer.open(str(movie_folder), plugin="tessella")
    _choose_layer(widget, movie)
    assert widget.axes_combo.currentText() == "TYX"
    assert _model(widget) == "em-membranes2d"  # was cells2dt
    assert widget.status_label.text() == (
        "'mov': kept em-membranes2d, your choice (frame by frame); cells2dt, a time-lapse "
        "model (TYX), is in Model."
    )

    # a movie added from code, its axes named: the same
    code = viewer.add_image(frames, name="code movie", metadata={"axes": "TYX"})
    _choose_layer(widget, code)
    assert _model(widget) == "em-membranes2d"
    assert widget.status_label.text().startswith("'code movie': kept em-membranes2d, your")

    # the model the user chose for an image is a choice too, though another was chosen since
    first = viewer.add_image(frames[0], name="first")
    _choose_layer(widget, first)
    choose_model(widget, "nuclei2d")
    choose_model(widget, "em-membranes2d")  # for 'first'
    other = viewer.add_image(frames[1], name="other")
    _choose_layer(widget, other)
    choose_model(widget, "nuclei2d")  # for 'other', the last choice
    _choose_layer(widget, first)
    assert _model(widget) == "em-membranes2d"  # (brought back for 'first')
    second = viewer.add_image(frames[::-1], name="second", metadata={"axes": "TYX"})
    _choose_layer(widget, second)
    assert _model(widget) == "em-membranes2d"
    assert widget.status_label.text().startswith("'second': kept em-membranes2d, your choice")

    # cells2dt chosen for a movie: kept for the next, nothing to say
    choose_model(widget, "cells2dt")
    third = viewer.add_image(frames[1:], name="third", metadata={"axes": "TYX"})
    _choose_layer(widget, third)
    assert _model(widget) == "cells2dt"
    assert widget.status_label.text() == "Ready"


def test_with_no_model_chosen_a_movie_gets_cells2dt_and_says_why(make_napari_viewer, movie_folder):
    viewer, widget = _panel(make_napari_viewer)
    [movie] = viewer.open(str(movie_folder), plugin="tessella")
    _choose_layer(widget, movie)
    assert _model(widget) == "cells2dt"
    assert widget.status_label.text() == (
        "Model cells2dt preselected for 'mov', a time-lapse (TYX): it reads time-lapses, "
        "and no model was chosen; choose another in Model to use it instead."
    )


def test_a_volume_added_from_code_with_named_axes_is_judged_as_a_file_s(make_napari_viewer, qtbot):
    """An EM crop added from code: with metadata axes ZYX it gets em-mito3d as the same
    crop opened from a TIFF does (nothing chosen); without axes (ZYX only guessed from its
    shape: it could be frames) it keeps the model shown, as before."""
    if not LUCCHI.exists():
        pytest.skip(f"{LUCCHI} is not in the shared data")
    crop = tifffile.imread(LUCCHI)[:8, 200:456, 300:556]
    viewer, widget = _panel(make_napari_viewer)

    guessed = viewer.add_image(crop, name="guessed")
    _choose_layer(widget, guessed)
    assert _model(widget) == "nuclei2d"
    assert widget.status_label.text().startswith(  # (no note on the model: the axes')
        "Axes set to TYX: nuclei2d segments the 8 slices of 'guessed' one by one"
    )

    named = viewer.add_image(crop, name="named", metadata={"axes": "ZYX"})
    _choose_layer(widget, named)
    qtbot.waitUntil(lambda: not widget._sample_workers, timeout=20_000)  # (judged in a worker)
    assert _model(widget) == "em-mito3d"  # was nuclei2d
    assert widget.status_label.text().startswith(
        "Model em-mito3d preselected for 'named', a volume (ZYX)"
    )

"""Segment preselects a 3D model for a volume opened from a file only where it fits (review
s32/r5, finding 2): since 2f964d8 every ZYX file got em-mito3d (a mitochondria EM model),
also over em-membranes2d chosen by the user for an EM membrane stack, and for a fluorescence
nuclei volume; and the status line kept naming the first volume once another was chosen.

Now the model the user chose is kept (the status saying a 3D model exists), and otherwise a
3D model is preselected only where the engine's input check on a sample of the volume passes
for it and it fits better than the model shown (_segment_fit); the status names the layer."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import zarr

from tests.conftest import DATA
from tests.widgets.helpers import choose_model

ISBI = DATA / "em_membranes_isbi2012" / "images"
LUCCHI = DATA / "em_mito_lucchipp" / "val" / "image.tif"
IMG3D = DATA / "fixtures" / "img3d.tif"


def _needs(*paths):
    for path in paths:
        if not path.exists():
            pytest.skip(f"{path} is not in the shared data")


def _panel(make_napari_viewer):
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    names = {card.name for card in widget._cards.values()}
    if not {"em-mito3d", "nuclei2d", "em-membranes2d"} <= names:
        pytest.skip("the bundled models are not installed")
    return viewer, widget


def _open(viewer, widget, path, qtbot):
    """Open ``path`` with Tessella's reader and choose its layer in the panel (a layer
    opened later does not become the panel's by itself)."""
    [layer] = viewer.open(str(path), plugin="tessella")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    _judged(widget, qtbot)
    return layer


def _judged(widget, qtbot) -> None:
    """Wait for the worker that samples and judges a volume (in memory too, since session
    33: off the GUI thread) to have done."""
    qtbot.waitUntil(lambda: not widget._sample_workers, timeout=20_000)


def _model(widget) -> str:
    return widget._cards[widget.model_combo.currentData()].name


def _lucchi_crop(tmp_path):
    """An 8x256x256 crop of the Lucchi++ FIB-SEM volume (ZYX, uint8), as a TIFF."""
    path = tmp_path / "lucchi.tif"
    tifffile.imwrite(path, tifffile.imread(LUCCHI)[:8, 200:456, 300:556])
    return path


def test_the_model_the_user_chose_is_kept_for_an_em_stack_and_a_nuclei_volume(
    make_napari_viewer, tmp_path, qtbot
):
    _needs(ISBI / "00.tif", IMG3D)
    viewer, widget = _panel(make_napari_viewer)
    choose_model(widget, "em-membranes2d")  # before any image
    stack = tmp_path / "isbi.tif"
    tifffile.imwrite(stack, np.stack([tifffile.imread(ISBI / f"{i:02d}.tif") for i in range(6)]))

    _open(viewer, widget, stack, qtbot)
    assert widget.axes_combo.currentText() == "ZYX"
    assert _model(widget) == "em-membranes2d"  # was em-mito3d
    # no mitochondria model named for a membrane stack (s35/t20 #6), and what the card
    # measured on serial sections (t20 #3)
    assert widget.status_label.text().startswith(
        "'isbi': kept em-membranes2d, your choice (slice by slice). em-membranes2d on serial "
        "sections, as this stack looks (its card"
    )

    _open(viewer, widget, IMG3D, qtbot)
    assert _model(widget) == "em-membranes2d"
    assert widget.status_label.text().startswith("'img3d': kept em-membranes2d, your choice")


def test_a_nuclei_volume_keeps_nuclei2d_and_an_em_volume_gets_em_mito3d(
    make_napari_viewer, tmp_path, qtbot
):
    _needs(LUCCHI, IMG3D)
    viewer, widget = _panel(make_napari_viewer)
    assert _model(widget) == "nuclei2d"  # the default: nobody chose it

    _open(viewer, widget, IMG3D, qtbot)  # synthetic fluorescence nuclei, 31x61x57
    assert _model(widget) == "nuclei2d"  # was em-mito3d
    assert widget.status_label.text() == (
        "'img3d': kept nuclei2d (a 2D model): em-mito3d, a 3D model, was trained on "
        "images unlike it. Axes set to TYX: nuclei2d segments the 31 slices of 'img3d' one "
        "by one, not joined across slices; for a 3D result choose a model that reads volumes "
        "(em-membranes2d, em-mito2d, em-mito3d)."
    )
    assert widget.axes_combo.currentText() == "TYX"

    _open(viewer, widget, _lucchi_crop(tmp_path), qtbot)
    assert _model(widget) == "em-mito3d"
    assert widget.status_label.text() == (
        "Model em-mito3d preselected for 'lucchi', a volume (ZYX): it looks more like "
        "em-mito3d's training images than nuclei2d's (a guess: an EM stack of membranes "
        "passes the same check; for membranes choose em-membranes2d); choose another in "
        "Model to use it instead."
    )

    # the nuclei volume again: back to nuclei2d, the status about it, not about 'lucchi'
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("img3d"))
    assert _model(widget) == "nuclei2d"
    assert widget.status_label.text().startswith("'img3d': kept nuclei2d")


def test_a_second_volume_s_status_names_it(make_napari_viewer, tmp_path, qtbot):
    """Two EM volumes one after the other both get em-mito3d (the combo does not change for
    the second): the status line names the second, not the first."""
    _needs(LUCCHI)
    viewer, widget = _panel(make_napari_viewer)
    first = _lucchi_crop(tmp_path)
    second = tmp_path / "second.tif"
    tifffile.imwrite(second, tifffile.imread(LUCCHI)[10:18, 300:556, 500:756])

    _open(viewer, widget, first, qtbot)
    assert _model(widget) == "em-mito3d"
    _open(viewer, widget, second, qtbot)
    assert _model(widget) == "em-mito3d"
    assert "for 'second', a volume (ZYX)" in widget.status_label.text()

    # a 2D image: the note on the volume goes with the 3D model
    viewer.add_image(tifffile.imread(LUCCHI)[0, :128, :128], name="plane")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("plane"))
    assert _model(widget) == "nuclei2d"
    assert widget.status_label.text() == "Ready"


def test_a_lazy_volume_is_sampled_in_a_worker(make_napari_viewer, tmp_path, qtbot):
    """A zarr volume (read lazily) is sampled off the GUI thread; its model follows."""
    _needs(LUCCHI)
    viewer, widget = _panel(make_napari_viewer)
    crop = tifffile.imread(LUCCHI)[:8, 200:456, 300:556]
    array = zarr.create_array(str(tmp_path / "em.zarr"), shape=crop.shape, dtype="uint8")
    array[...] = crop

    _open(viewer, widget, tmp_path / "em.zarr", qtbot)
    qtbot.waitUntil(lambda: _model(widget) == "em-mito3d", timeout=10_000)
    assert widget.status_label.text().startswith("Model em-mito3d preselected for 'em'")

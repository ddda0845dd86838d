"""With no model chosen, an EM membrane stack (ISBI 2012) got em-mito3d, a mitochondria 3D
model, silently (s32's note): its intensities pass em-mito3d's input check as Lucchi++'s do,
so the check cannot tell membranes from mitochondria. What tells the two data sets apart is
how alike neighbouring slices are against neighbouring pixels (_segment_fit.slice_likeness):
ISBI's 50 nm sections of 4 nm pixels 0.29 against 0.88, Lucchi++'s 5 nm isotropic voxels
about as alike. Now a volume whose slices are far apart gets no 3D model by a guess (the
status says why and names the 2D EM models to choose from), and a 3D model preselected from
the look of a volume says it is a guess and names em-membranes2d for membranes."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tests.conftest import DATA

ISBI = DATA / "em_membranes_isbi2012" / "images"
LUCCHI = DATA / "em_mito_lucchipp" / "val" / "image.tif"


def _needs(*paths):
    for path in paths:
        if not path.exists():
            pytest.skip(f"{path} is not in the shared data")


def _panel(make_napari_viewer):
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    names = {card.name for card in widget._cards.values()}
    if not {"em-mito3d", "nuclei2d", "em-membranes2d", "em-mito2d"} <= names:
        pytest.skip("the bundled models are not installed")
    return viewer, widget


def _open(viewer, widget, path, qtbot):
    """Open ``path`` with Tessella's reader, choose its layer in the panel and (with
    ``qtbot``) wait for its check."""
    [layer] = viewer.open(str(path), plugin="tessella")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    if qtbot is not None:
        _judged(widget, qtbot)
    return layer


def _judged(widget, qtbot) -> None:
    """Wait for the worker that samples and judges a volume (in memory too, since session
    33: off the GUI thread) to have done."""
    qtbot.waitUntil(lambda: not widget._sample_workers, timeout=20_000)


def _model(widget) -> str:
    return widget._cards[widget.model_combo.currentData()].name


def _isbi():
    return np.stack([tifffile.imread(ISBI / f"{i:02d}.tif") for i in range(20)])


def test_the_likeness_of_slices_tells_sstem_from_fib_sem():
    from tessella._widgets._segment_fit import slice_likeness

    _needs(ISBI / "19.tif", LUCCHI)
    isbi = slice_likeness(_isbi(), "ZYX")
    lucchi = slice_likeness(tifffile.imread(LUCCHI), "ZYX")
    assert isbi is not None and lucchi is not None
    assert isbi.far_apart and not lucchi.far_apart
    assert isbi.slices < 0.4 * isbi.pixels and lucchi.slices > 0.9 * lucchi.pixels
    assert slice_likeness(np.zeros((4, 32, 32), np.uint8), "ZYX") is None  # blank: no say


def test_an_isbi_stack_gets_no_3d_model_and_a_lucchi_crop_is_said_a_guess(
    make_napari_viewer, tmp_path, qtbot
):
    _needs(ISBI / "19.tif", LUCCHI)
    viewer, widget = _panel(make_napari_viewer)
    stack = tmp_path / "isbi.tif"
    tifffile.imwrite(stack, _isbi())

    _open(viewer, widget, stack, qtbot)
    assert widget.axes_combo.currentText() == "TYX"  # (nuclei2d refuses ZYX: one by one)
    assert _model(widget) == "nuclei2d"  # was em-mito3d, silently
    text = widget.status_label.text()
    assert text.startswith(
        "'isbi': kept nuclei2d (a 2D model): "
        "its neighbouring slices are far less alike "
        "than its neighbouring pixels (0.29 against 0.88: sections thick for the pixel size), "
        "so em-mito3d, a 3D model, is not preselected; if it is EM, choose a 2D model by "
        "what it shows (for membranes em-membranes2d, for mitochondria em-mito2d)."
    ), text

    crop = tmp_path / "lucchi.tif"
    tifffile.imwrite(crop, tifffile.imread(LUCCHI)[:8, 200:456, 300:556])
    _open(viewer, widget, crop, qtbot)
    assert _model(widget) == "em-mito3d"
    assert widget.axes_combo.currentText() == "ZYX"
    assert widget.status_label.text() == (
        "Model em-mito3d preselected for 'lucchi', a volume (ZYX): it looks more like "
        "em-mito3d's training images than nuclei2d's (a guess: an EM stack of membranes "
        "passes the same check; for membranes choose em-membranes2d); choose another in "
        "Model to use it instead."
    )


def test_an_in_memory_volume_is_judged_off_the_gui_thread(
    make_napari_viewer, tmp_path, qtbot, monkeypatch
):
    """The input check of an in-memory volume (0.3 s for Lucchi++ val on a busy machine)
    ran on the GUI thread as the layer was chosen; now in a worker, the status saying so
    meanwhile, and the layer gets its model when done."""
    import threading

    from tessella._widgets import _segment_fit

    _needs(LUCCHI)
    viewer, widget = _panel(make_napari_viewer)
    threads = []
    fit = _segment_fit.fit

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return fit(*args, **kwargs)

    monkeypatch.setattr(_segment_fit, "fit", recorded)
    crop = tmp_path / "lucchi.tif"
    tifffile.imwrite(crop, tifffile.imread(LUCCHI)[:8, 200:456, 300:556])
    [layer] = viewer.open(str(crop), plugin="tessella")
    assert isinstance(layer.data, np.ndarray)
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    if widget._sample_workers:  # (not done yet: the model shown is kept meanwhile)
        assert _model(widget) == "nuclei2d"
        assert widget.status_label.text().startswith(
            "'lucchi': checking which model fits this volume… Axes set to TYX: nuclei2d "
        )
    _judged(widget, qtbot)
    assert _model(widget) == "em-mito3d"
    assert threads and not any(threads)  # every fit in the worker


def test_a_check_that_ends_during_a_run_changes_no_model(
    make_napari_viewer, tmp_path, qtbot, monkeypatch
):
    """Run clicked before the volume's check is done runs the model shown; the check ending
    during the run changes no model (the run's result is named after the model it ran)."""
    import threading

    from tessella._widgets import _segment_fit

    _needs(LUCCHI)
    viewer, widget = _panel(make_napari_viewer)
    widget.device_combo.setCurrentText("cpu")
    gate = threading.Event()
    read = _segment_fit.read_sample

    def held(*args):
        gate.wait(60)
        return read(*args)

    monkeypatch.setattr(_segment_fit, "read_sample", held)
    crop = tmp_path / "lucchi.tif"
    tifffile.imwrite(crop, tifffile.imread(LUCCHI)[:4, 200:328, 300:428], photometric="minisblack")
    _open(viewer, widget, crop, qtbot=None)
    assert widget._sample_workers and _model(widget) == "nuclei2d"
    widget.axes_combo.setCurrentText("TYX")  # (nuclei2d refuses ZYX: the slices as frames)
    models = []
    with qtbot.waitSignal(widget.run_finished, timeout=120_000):
        widget.run_button.click()
        gate.set()  # the check ends while the run goes on
        qtbot.waitUntil(lambda: not widget._sample_workers, timeout=30_000)
        models.append(_model(widget))
    assert models == ["nuclei2d"] and _model(widget) == "nuclei2d"
    assert "lucchi labels (nuclei2d)" in [layer.name for layer in viewer.layers]

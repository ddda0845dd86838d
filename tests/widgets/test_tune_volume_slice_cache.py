"""Tune on a volume as fast as on an image (user test s28/t4 P4): a beta change on the slice
previewed reuses that slice's superpixels and region graph, as an image's does (each preview
sliced a new prediction, which missed the boundary method's cache); the progress bar, shown
for a volume only, is not repainted at once at each preview; Apply to all on a volume says
how many objects the volume holds, as a slice preview does. Real ISBI 2012 EM sections,
segmented with the bundled (else a briefly trained) boundary model."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tifffile
from qtpy.QtCore import QEvent, QObject

from tessella.engine.methods import Prediction, boundary
from tessella.engine.params import make_params
from tessella.engine.tracking import carry_ids
from tests.widgets.test_boundary_widgets import ISBI, boundary_model_dir  # noqa: F401
from tests.widgets.test_tune_widget import change, place

SPACING = (50.0, 4.0, 4.0)


@pytest.fixture(scope="module")
def stack_result(boundary_model_dir, data_dir):  # noqa: F811
    """Three 256x256 ISBI sections segmented as one anisotropic volume (ZYX)."""
    from tessella.engine.pipeline import run_steps, segment_steps

    stack = np.stack(
        [tifffile.imread(data_dir / ISBI / "images" / f"{i:02d}.tif") for i in (16, 17, 18)]
    )[:, :256, :256]
    return run_steps(segment_steps(stack, str(boundary_model_dir), "ZYX", spacing=SPACING))


def _in_tune(viewer, result, z=1):
    layer = place(viewer, result, name="stack labels", scale=SPACING)
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    tune.layer_combo.setCurrentIndex(tune.layer_combo.findData(layer.unique_id))
    viewer.dims.set_point(0, z * SPACING[0])  # slice z on screen
    assert tune.apply_all_button.isEnabled()
    return tune, layer


def _copy_of_slice(prediction, z):
    """Slice ``z`` of a ZYX prediction, as a 2D prediction of copies of its arrays."""
    arrays = {key: np.array(array[:, z]) for key, array in prediction.arrays.items()}
    return Prediction(arrays, "YX", {**prediction.meta, "spacing": SPACING[1:]})


@pytest.fixture
def graphs(monkeypatch):
    """Every computation of superpixels and their region graph (the cached stage)."""
    calls = []
    original = boundary._superpixel_graph

    def counted(*args, **kwargs):
        calls.append(args[0].shape)
        return original(*args, **kwargs)

    monkeypatch.setattr(boundary, "_superpixel_graph", counted)
    return calls


def test_a_second_beta_change_on_a_volume_slice_reuses_its_superpixels(
    make_napari_viewer, stack_result, graphs, qtbot
):
    viewer = make_napari_viewer()
    tune, layer = _in_tune(viewer, stack_result)
    boundary.postprocess(stack_result.predictions[0], stack_result.params)  # (Segment's graph,
    graphs.clear()  # made again if another test's graphs pushed it out of the cache)
    # the volume's superpixels and graph, as Segment made them: the slice of its 3D objects
    # (s33 t11 #4), none made again
    change(qtbot, tune, beta=0.45)
    assert graphs == [] and "slice 1" in tune.status_label.text()
    assert "the slice of Apply to all's 3D objects" in tune.status_label.text()
    before = layer.data.copy()

    change(qtbot, tune, beta=0.35)
    assert graphs == []  # (the code before made them again for every change)
    shown = layer.data.copy()
    change(qtbot, tune, beta=0.6)
    assert graphs == []
    # the labels are those of the volume post-processed afresh, bit for bit (with the IDs
    # of the objects on screen carried, as a slice preview does)
    params = make_params(boundary.Params, stack_result.params, beta=0.6)
    prediction = stack_result.predictions[0]
    copies = {key: np.array(array) for key, array in prediction.arrays.items()}
    fresh = boundary.postprocess(Prediction(copies, "ZYX", dict(prediction.meta)), params)
    assert graphs == [(3, 256, 256)], graphs  # (copies: made again)
    expected = carry_ids(shown[1], fresh[1], int(shown.max()) + 1)
    np.testing.assert_array_equal(layer.data[1], expected)
    np.testing.assert_array_equal(layer.data[[0, 2]], before[[0, 2]])
    graphs.clear()

    change(qtbot, tune, sigma_seeds=1.0)  # a superpixel parameter: they must be made again,
    assert graphs == [(256, 256)]  # the slice's alone (the volume's are not cached: in 2D)
    assert "a 2D preview" in tune.status_label.text()
    graphs.clear()
    change(qtbot, tune, beta=0.5)  # and a beta change then reuses the slice's
    assert graphs == []
    assert "a 2D preview" in tune.status_label.text()


def test_apply_to_all_on_a_volume_counts_its_objects(make_napari_viewer, stack_result, qtbot):
    viewer = make_napari_viewer()
    tune, layer = _in_tune(viewer, stack_result)
    change(qtbot, tune, beta=0.3)
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.apply_all_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=60_000)
    params = make_params(boundary.Params, stack_result.params, beta=0.3)
    np.testing.assert_array_equal(
        layer.data, boundary.postprocess(stack_result.predictions[0], params)
    )
    objects = np.unique(layer.data[layer.data > 0]).size
    assert objects > 10
    assert re.fullmatch(
        rf"'stack labels' the whole volume: updated in \d+ ms( \+ \d+ ms drawing)?: "
        rf"{objects} objects(; \d+ of the \d+ objects on slice 1 ha(s|ve) other IDs .*)?",
        tune.status_label.text(),
    )


class _Paints(QObject):
    """Counts the paint events of a widget, and those painted while ``inside`` is set."""

    def __init__(self):
        super().__init__()
        self.inside, self.during, self.total = False, 0, 0

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            self.total += 1
            self.during += self.inside
        return False


def test_a_slice_preview_does_not_repaint_the_progress_bar_at_once(
    make_napari_viewer, stack_result, qtbot
):
    """QProgressBar.setValue repaints at once when shown (about 20 ms a time with the canvas in
    the window, twice per preview); the bar now paints with the rest of the window."""
    viewer = make_napari_viewer(show=True)
    tune, layer = _in_tune(viewer, stack_result)
    bar = tune.progress_bar
    qtbot.waitUntil(bar.isVisible, timeout=10_000)  # (the dock is shown with the window)
    paints = _Paints()
    bar.installEventFilter(paints)
    shown = tune._show_progress

    def showing(request):
        paints.inside = True
        try:
            shown(request)
        finally:
            paints.inside = False

    tune._show_progress = showing
    for beta in (0.45, 0.35, 0.6):
        painted = paints.total
        change(qtbot, tune, beta=beta)
        qtbot.waitUntil(lambda n=painted: bar.value() == 1 and paints.total > n, timeout=10_000)
        assert bar.text() == "slice 1 preview"
    # painted after each preview (above), never while the preview was being written (the
    # code before: at setValue, 2 of the 3 times here)
    assert paints.during == 0
    bar.removeEventFilter(paints)

"""Session 33, f5: ``z_median`` in the slice preview of a volume. It was left out (the status
line said "a 2D preview, without z_median", and moving it ran no preview), so the slice on
screen kept the single-slice errors the Z median is there to remove until Apply to all. Now
the slice's foreground is made as Apply to all makes it, the vote along Z included, from
the slices of its window (and those the ball reaches): the preview is Apply to all's slice.

Real data: the Lucchi++ validation mitochondria (blurred into a probability) with two
single-slice errors a 2D model makes: a blob on slice 6 alone, and a mitochondrion missed on
slice 5 alone."""

from __future__ import annotations

import numpy as np
import tifffile
from scipy import ndimage

from tessella.engine.methods import semantic
from tessella.engine.params import make_params
from tests.widgets.test_tune_gaps import _semantic_result, _volume_in_tune
from tests.widgets.test_tune_widget import change


def _with_slice_errors(data_dir) -> tuple[np.ndarray, tuple, tuple]:
    path = data_dir / "em_mito_lucchipp" / "val" / "mito.tif"
    mito = tifffile.imread(path, key=range(12)).reshape(12, 768, 1024)[:, 256:512, 256:512] > 0
    probability = ndimage.gaussian_filter(mito.astype(np.float32), (0, 2, 2))
    yy, xx = np.mgrid[:256, :256]
    free = ~ndimage.binary_dilation(mito.any(0), iterations=30)
    y, x = np.argwhere(free)[len(np.argwhere(free)) // 2]  # a blob on slice 6 only
    probability[6][(yy - y) ** 2 + (xx - x) ** 2 < 15**2] = 0.9
    pieces, _ = ndimage.label(mito[5])
    biggest = np.argmax(np.bincount(pieces.ravel())[1:]) + 1
    probability[5][pieces == biggest] = 0.1  # a mitochondrion missed on slice 5 only
    inside = ndimage.distance_transform_edt(pieces == biggest)
    centre = np.unravel_index(np.argmax(inside), inside.shape)  # (on slices 3-7 too)
    assert mito[3:8][(slice(None), *centre)].sum() == 5
    return probability, (y, x), centre


def _same_objects(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two label images hold the same objects, whatever their IDs."""
    pairs = set(zip(a.ravel().tolist(), b.ravel().tolist()))
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def test_z_median_is_previewed_as_apply_to_all_makes_the_slice(docked_tune, qtbot, data_dir):
    probability, blob, missed = _with_slice_errors(data_dir)
    result = _semantic_result("em-mito3d", probability, "ZYX")
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=5)
    assert result.params.z_median == 0 and result.params.radius == 2
    change(qtbot, tune, radius=0)  # (the 3D ball's opening and closing mend them too)
    assert layer.data[(5, *missed)] == 0  # the error is in the labels

    # the mitochondrion missed on slice 5: filled by the vote of slices 4-6
    change(qtbot, tune, z_median=3)
    params = make_params(semantic.Params, result.params, z_median=3, radius=0)
    applied = semantic.postprocess(result.predictions[0], params)
    assert applied[(5, *missed)] > 0 and layer.data[(5, *missed)] > 0
    assert _same_objects(layer.data[5], applied[5])
    status = tune.status_label.text()
    assert "slice 5" in status and "without z_median" not in status, status

    # the blob on slice 6 alone: removed by the vote, with a ball too
    viewer.dims.set_current_step(0, 6)
    assert semantic.postprocess(
        result.predictions[0], make_params(semantic.Params, result.params, radius=0)
    )[(6, *blob)]
    change(qtbot, tune, z_median=5, radius=3)
    params = make_params(semantic.Params, result.params, z_median=5, radius=3)
    applied = semantic.postprocess(result.predictions[0], params)
    assert applied[(6, *blob)] == 0 and layer.data[(6, *blob)] == 0
    assert _same_objects(layer.data[6], applied[6])

    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.apply_all_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    np.testing.assert_array_equal(layer.data, applied)

"""Session 32, Tune gap 2: with ``radius`` > 0 (em-mito2d and em-mito3d: 2) the slice preview
of a volume opened and closed the slice alone with a disc, while *Apply to all* uses a 3D
ball, so the preview showed other objects (and other sizes, so other objects passed
``min_size``) than *Apply to all* then made of that slice. The slice's foreground is now made
in 3D on the slab of slices the ball reaches (:mod:`tessella._widgets._tune_masks`)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella._widgets._tune_frames import _slice_of
from tessella.engine.methods import semantic
from tests.widgets.test_tune_gaps import _volume_in_tune, _wait
from tests.widgets.test_tune_widget import change


@pytest.fixture(scope="module")
def lucchi_result(data_dir):
    """em-mito2d (its defaults: radius 2, holes filled) on an 8x128x128 Lucchi++ crop."""
    from tessella.engine.pipeline import segment_steps
    from tessella.engine.progress import run_steps

    image = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "image.tif")
    crop = np.ascontiguousarray(image[:8, 256:384, 256:384])
    return run_steps(segment_steps(crop, "em-mito2d", "ZYX", tta=False, device="cpu"))


def _apply_to_all(qtbot, tune, layer, z: int) -> np.ndarray:
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.apply_all_button.click()
    _wait(qtbot, tune)
    assert "the whole volume" in tune.status_label.text()
    return np.asarray(layer.data[z]) > 0


def test_a_slice_preview_with_a_radius_is_the_slice_of_apply_to_all(
    docked_tune, lucchi_result, qtbot
):
    assert lucchi_result.params.radius == 2
    z = 4
    viewer, tune, layer = _volume_in_tune(docked_tune, lucchi_result, z=z)
    for values in ({"threshold": 0.45}, {"min_size": 1500}, {"radius": 3, "threshold": 0.3}):
        change(qtbot, tune, timeout=30_000, **values)
        assert f"slice {z}" in tune.status_label.text()
        preview = np.asarray(layer.data[z]) > 0
        # (the slice opened alone with a disc is not what Apply to all makes of it here)
        alone = semantic.foreground_mask(_slice_of(lucchi_result.predictions[0], z), tune.params)
        volume = semantic.foreground_mask(lucchi_result.predictions[0], tune.params)[z]
        assert not np.array_equal(alone, volume)
        np.testing.assert_array_equal(preview, _apply_to_all(qtbot, tune, layer, z))

"""Reset and Load recipe on a time-lapse redo every frame, as *Apply to all* does, linking
included (acceptance 2, Tune finding): they redid only the frame on screen, so after tuning and
*Apply to all* the other frames kept the tuned labels while the controls showed the defaults."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tessella._widgets import _results
from tests.widgets.test_temporal_widgets import (
    _movie_in_tune,
    _perfect_predictions,
    _set_then_apply_to_all,
)


@pytest.fixture(scope="module")
def cell_movie_result(tiny_temporal_dir):
    """The tiny temporal model's result on a cell movie, its predictions perfect ones."""
    from dataclasses import replace

    from tessella.engine.pipeline import run_steps, segment_steps
    from tests.conftest import cell_movie

    image, labels, _tracks = cell_movie()
    result = run_steps(segment_steps(image, str(tiny_temporal_dir), "TYX"))
    return replace(result, predictions=_perfect_predictions(labels))


def _click_and_wait(qtbot, tune, click) -> None:
    """``click()`` (Reset or Load recipe), which starts *Apply to all* at once: its Cancel is
    usable; then wait until the run is done."""
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        click()
        assert tune.cancel_button.isEnabled()  # Apply to all's run, which Cancel stops
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)


def test_reset_and_load_recipe_redo_every_frame_of_a_movie(
    make_napari_viewer, cell_movie_result, qtbot, tmp_path
):
    viewer, tune, layer = _movie_in_tune(make_napari_viewer, cell_movie_result)
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.apply_all_button.click()  # the model's values on every frame, linked
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    default = layer.data.copy()
    tracks = _results.tracks_layer(viewer, layer)
    assert tracks is not None and tracks.visible

    # tuned: big objects only, unlinked (every frame's objects their own IDs), on every frame
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.set_param("min_size", 400)
    _set_then_apply_to_all(qtbot, tune, "link", False)
    tuned = layer.data.copy()
    assert not tracks.visible
    assert all(not np.array_equal(tuned[t], default[t]) for t in range(1, len(tuned)))
    path = tune.save_recipe(tmp_path / "tuned.recipe.json")
    assert json.loads(path.read_text())["params"]["min_size"] == 400

    viewer.dims.set_point(0, 0)  # frame 0 on screen
    _click_and_wait(qtbot, tune, tune.reset_button.click)
    assert tune.controls["min_size"].value() == 100 and tune.controls["link"].isChecked()
    np.testing.assert_array_equal(layer.data, default)  # every frame, linked again
    assert tracks.visible
    assert "tracks, linked" in tune.status_label.text()
    recipe, reproduces = _results.recipe_on_screen(layer)
    assert reproduces and recipe["params"] == cell_movie_result.recipe()["params"]

    _click_and_wait(qtbot, tune, lambda: tune.load_recipe(path))
    assert tune.controls["min_size"].value() == 400 and not tune.controls["link"].isChecked()
    np.testing.assert_array_equal(layer.data, tuned)
    assert not tracks.visible
    assert "not linked" in tune.status_label.text()

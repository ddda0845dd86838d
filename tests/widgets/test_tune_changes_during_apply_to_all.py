"""A change that no preview shows (a time-lapse's linking parameters; a volume's z_median
until session 33, which its slice preview now shows),
made while *Apply to all* runs, supersedes that run and starts *Apply to all* again with it,
as any other change supersedes it. It was kept for a later *Apply to all*: the run under way
ended with the old value, its status replaced the "applies at Apply to all" line, and the
controls showed the new value while the labels and their recipe held the old one."""

from __future__ import annotations

import numpy as np

from tessella._widgets import tune as tune_module
from tessella.engine.methods import semantic, temporal
from tessella.engine.params import make_params
from tests.widgets.test_temporal_widgets import _movie_in_tune
from tests.widgets.test_tune_gaps import _volume_in_tune, cells_movie, volume_result  # noqa: F401
from tests.widgets.test_tune_widget import set_control


def _linked_movie(result, **values) -> np.ndarray:
    """The labels Apply to all makes of the movie with ``values`` (linked or not)."""
    params = make_params(temporal.Params, result.params, **values)
    frames = tuple(range(len(result.predictions)))
    *_frames, (_none, (labels, _lineage)) = tune_module._postprocess_frames(
        temporal, result.predictions, params, frames, None, True
    )
    return labels


def _apply_to_all_then_set(qtbot, tune, name, value) -> str:
    """Click Apply to all and, while it runs, set ``name``; wait until nothing runs; return
    the status line right after the change."""
    tune.apply_all_button.click()
    assert tune.busy and tune.worker is not None  # the run under way
    set_control(tune.controls[name], value)
    said = tune.status_label.text()
    qtbot.waitUntil(lambda: not tune.busy, timeout=60_000)
    return said


def test_a_linking_parameter_changed_during_apply_to_all_starts_it_again(
    make_napari_viewer,
    cells_movie,  # noqa: F811
    qtbot,
):
    result = cells_movie
    _viewer, tune, layer = _movie_in_tune(make_napari_viewer, result)
    old = result.params.max_distance
    assert not np.array_equal(_linked_movie(result, max_distance=0.0), _linked_movie(result))

    said = _apply_to_all_then_set(qtbot, tune, "max_distance", 0.0)
    assert said == (
        "'movie labels': max_distance=0.0 changed during Apply to all, which starts again with "
        "it (it acts on how the frames are linked; the preview of one frame is not linked)"
    )
    recipe = layer.metadata["tessella_recipe"]["params"]
    assert tune.params.max_distance == recipe["max_distance"] == 0.0 != old  # (it kept 40)
    np.testing.assert_array_equal(layer.data, _linked_movie(result, max_distance=0.0))
    assert "8 frames" in tune.status_label.text() and "linked in" in tune.status_label.text()

    # link off: the labels of an unlinked movie, and the status says so
    said = _apply_to_all_then_set(qtbot, tune, "link", False)
    assert said.startswith("'movie labels': link off changed during Apply to all")
    assert "(it leaves the frames unlinked, each object with its own ID;" in said
    assert layer.metadata["tessella_recipe"]["params"]["link"] is False
    np.testing.assert_array_equal(layer.data, _linked_movie(result, max_distance=0.0, link=False))
    assert "not linked (link is off" in tune.status_label.text()


def test_z_median_changed_during_apply_to_all_of_a_volume_starts_it_again(
    docked_tune,
    volume_result,  # noqa: F811
    qtbot,
):
    _viewer, widget, layer = _volume_in_tune(docked_tune, volume_result)
    params = make_params(semantic.Params, volume_result.params, z_median=5)
    wanted = semantic.postprocess(volume_result.predictions[0], params)
    assert not np.array_equal(wanted, volume_result.labels)

    said = _apply_to_all_then_set(qtbot, widget, "z_median", 5)
    assert said == (
        "'vol labels': z_median=5 changed during Apply to all, which starts again with it "
        "(so that every slice gets it, not only the one on screen)"
    )
    assert widget.params.z_median == layer.metadata["tessella_recipe"]["params"]["z_median"] == 5
    np.testing.assert_array_equal(layer.data, wanted)
    assert "the whole volume" in widget.status_label.text()

"""After *Apply to all*, the labels of a movie or volume hold one set of parameters, or Tune
says which frames or slices hold which (user test s29/t1 P8):

- a change made while *Apply to all* runs (any parameter, not only the linking ones) starts
  it again with the new value: it previewed the frame on screen and dropped the *Apply to
  all*, leaving that frame at the new value and the others at the old ones;
- a change once it is done previews the slice or frame on screen, and the status line names
  the mix ("slice 5 at threshold=0.3, the other 9 slices at threshold=0.5: Apply to all to
  make them one"); Save recipe and Export's recipe never claim one set for it, even for
  labels too large to fingerprint (their recipe said it reproduced them)."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _labels_states, _results
from tessella.engine.methods import semantic
from tessella.engine.params import make_params
from tests.widgets.test_temporal_widgets import _movie_in_tune
from tests.widgets.test_tune_changes_during_apply_to_all import (
    _apply_to_all_then_set,
    _linked_movie,
)
from tests.widgets.test_tune_gaps import _volume_in_tune, cells_movie, volume_result  # noqa: F401
from tests.widgets.test_tune_widget import change


def test_a_preview_change_during_apply_to_all_of_a_movie_starts_it_again(
    make_napari_viewer,
    cells_movie,  # noqa: F811
    qtbot,
):
    result = cells_movie
    _viewer, tune, layer = _movie_in_tune(make_napari_viewer, result)
    size = result.params.min_size + 150
    wanted = _linked_movie(result, min_size=size)
    assert not np.array_equal(wanted, _linked_movie(result))

    said = _apply_to_all_then_set(qtbot, tune, "min_size", size)

    assert said == (
        f"'movie labels': min_size={size} changed during Apply to all, which starts again "
        "with it (so that every frame gets it, not only the one on screen)"
    )
    np.testing.assert_array_equal(layer.data, wanted)  # every frame, linked
    assert layer.metadata["tessella_recipe"]["params"]["min_size"] == size
    assert "8 frames" in tune.status_label.text() and "linked in" in tune.status_label.text()
    recipe, reproduces = _results.recipe_on_screen(layer)
    assert reproduces and recipe["params"]["min_size"] == size


@pytest.mark.parametrize("fingerprinted", [True, False])
def test_a_slice_previewed_after_apply_to_all_is_named_and_no_recipe_claims_one_set(
    docked_tune,
    volume_result,  # noqa: F811
    qtbot,
    tmp_path,
    monkeypatch,
    fingerprinted,
):
    if not fingerprinted:  # labels over MAX_FINGERPRINT_BYTES: no recorded states
        monkeypatch.setattr(_labels_states, "MAX_FINGERPRINT_BYTES", 0)
    _viewer, tune, layer = _volume_in_tune(docked_tune, volume_result)
    n = layer.data.shape[0]
    base = make_params(semantic.Params, volume_result.params, threshold=0.4)
    whole = semantic.postprocess(volume_result.predictions[0], base)
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.set_param("threshold", 0.4)  # a preview of slice 5 ...
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.apply_all_button.click()  # ... then all of the volume
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    np.testing.assert_array_equal(layer.data, whole)
    assert "the whole volume" in tune.status_label.text()

    change(qtbot, tune, threshold=0.3)  # after Apply to all: slice 5 alone, in 2D

    assert not np.array_equal(layer.data[5], whole[5])
    np.testing.assert_array_equal(np.delete(layer.data, 5, 0), np.delete(whole, 5, 0))
    said = tune.status_label.text()
    assert said.startswith("'vol labels' slice 5: updated in ")
    assert said.endswith(
        f"; slice 5 at threshold=0.3, the other {n - 1} slices at threshold=0.4: "
        "Apply to all to make them one"
    )
    # Export's recipe (the recipe of the labels on screen) does not reproduce them, and says why
    recipe, reproduces = _results.recipe_on_screen(layer)
    assert not reproduces and recipe["params"]["threshold"] == 0.4
    assert "slice 5 at threshold=0.3" in recipe["note"]
    # Save recipe warns, naming the mix
    assert tune.save_recipe(tmp_path / "r.json") is not None
    assert tune.status_label.text().endswith(
        f"the recipe saved does not make these labels (slice 5 at threshold=0.3, the other "
        f"{n - 1} slices at threshold=0.4: Apply to all first)"
    )

    # Apply to all: one set again, the recipe reproduces them, no note of a mix
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.apply_all_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    wanted = semantic.postprocess(
        volume_result.predictions[0], make_params(semantic.Params, base, threshold=0.3)
    )
    np.testing.assert_array_equal(layer.data, wanted)
    assert "slices at" not in tune.status_label.text()
    recipe, reproduces = _results.recipe_on_screen(layer)
    assert reproduces and recipe["params"]["threshold"] == 0.3 and "note" not in recipe

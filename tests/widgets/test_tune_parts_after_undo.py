"""Which parameters each slice of a volume holds follows the labels through Ctrl+Z (review 3,
B3): Tune records the values each slice was written with, to name a mix in the status line
and in the recipe Export writes. The record went stale after an undo: Apply to all at
threshold 0.4, a preview of slice 5 at 0.3 and of slice 3 at 0.35, Ctrl+Z (slice 3 back at
0.4), a preview of slice 7: both said "slice 3 at threshold=0.35". Each slice's values are
now found again from the labels it holds; a slice holding labels Tune did not write (painted)
is said to have changed, never counted in a set."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets import _labels_states, _results
from tessella.engine.methods import semantic
from tessella.engine.params import make_params
from tests.widgets.test_tune_gaps import _volume_in_tune, volume_result  # noqa: F401
from tests.widgets.test_tune_widget import change

MIX = "Apply to all to make them one"


def _applied_at_04(qtbot, docked_tune, result):
    """The volume in Tune, *Apply to all* at threshold 0.4 done; its labels."""
    viewer, tune, layer = _volume_in_tune(docked_tune, result)
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.set_param("threshold", 0.4)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.apply_all_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    whole = semantic.postprocess(
        result.predictions[0], make_params(semantic.Params, result.params, threshold=0.4)
    )
    np.testing.assert_array_equal(layer.data, whole)
    return viewer, tune, layer, whole


def _note(layer) -> str:
    """The note of the recipe Export writes for the labels on screen."""
    recipe, reproduces = _results.recipe_on_screen(layer)
    assert not reproduces
    return recipe["note"]


@pytest.mark.parametrize("fingerprinted", [True, False])
def test_an_undone_slice_preview_is_not_named_after_the_pointer_enters_the_panel(
    docked_tune,
    volume_result,  # noqa: F811
    qtbot,
    monkeypatch,
    fingerprinted,
):
    if not fingerprinted:  # labels over MAX_FINGERPRINT_BYTES: no recorded states
        monkeypatch.setattr(_labels_states, "MAX_FINGERPRINT_BYTES", 0)
    viewer, tune, layer, whole = _applied_at_04(qtbot, docked_tune, volume_result)
    n = layer.data.shape[0]
    change(qtbot, tune, threshold=0.3)  # slice 5
    viewer.dims.set_current_step(0, 3)
    change(qtbot, tune, threshold=0.35)  # slice 3
    assert tune.status_label.text().endswith(
        f"; slice 3 at threshold=0.35, slice 5 at threshold=0.3, the other {n - 2} slices at "
        f"threshold=0.4: {MIX}"
    )

    layer.undo()  # Ctrl+Z: slice 3's preview
    np.testing.assert_array_equal(layer.data[3], whole[3])
    # Export's recipe at once (labels too large to fingerprint included): slice 5 alone
    note = _note(layer)
    assert f"(slice 5 at threshold=0.3, the other {n - 1} slices at threshold=0.4)" in note
    tune.follow_labels_on_screen()  # what the pointer entering the panel runs
    viewer.dims.set_current_step(0, 7)
    change(qtbot, tune, threshold=0.32)  # slice 7

    np.testing.assert_array_equal(layer.data[3], whole[3])
    mix = f"slice 5 at threshold=0.3, slice 7 at threshold=0.32, the other {n - 2} slices at "
    mix += "threshold=0.4"
    said = tune.status_label.text()
    assert said.startswith("'vol labels' slice 7: updated in ") and "0.35" not in said
    assert said.endswith(f"; {mix}: {MIX}")
    note = _note(layer)
    assert f"({mix})" in note and "0.35" not in note

    layer.redo()  # slice 7's preview undone and redone: slice 7 at 0.32 again
    layer.undo()
    layer.redo()
    viewer.dims.set_current_step(0, 1)
    change(qtbot, tune, threshold=0.45)  # slice 1
    assert tune.status_label.text().endswith(
        f"; slice 1 at threshold=0.45, slice 5 at threshold=0.3, slice 7 at threshold=0.32, "
        f"the other {n - 3} slices at threshold=0.4: {MIX}"
    )


def test_an_undone_slice_preview_is_not_named_without_the_pointer_entering(
    docked_tune,
    volume_result,  # noqa: F811
    qtbot,
):
    viewer, tune, layer, whole = _applied_at_04(qtbot, docked_tune, volume_result)
    n = layer.data.shape[0]
    change(qtbot, tune, threshold=0.3)  # slice 5
    layer.undo()  # Ctrl+Z, the pointer staying on the canvas
    np.testing.assert_array_equal(layer.data, whole)
    viewer.dims.set_current_step(0, 3)
    change(qtbot, tune, threshold=0.35)  # slice 3

    np.testing.assert_array_equal(layer.data[5], whole[5])
    mix = f"slice 3 at threshold=0.35, the other {n - 1} slices at threshold=0.4"
    assert tune.status_label.text().endswith(f"; {mix}: {MIX}")
    note = _note(layer)
    assert f"({mix})" in note and "slice 5" not in note

    layer.undo()  # slice 3 back: one set again, nothing named
    layer.redo()  # and slice 3's preview again: named again once Tune writes
    viewer.dims.set_current_step(0, 8)
    change(qtbot, tune, threshold=0.4)  # slice 8 at the values of the rest
    assert tune.status_label.text().endswith(f"; {mix}: {MIX}")


def test_a_slice_painted_after_previews_is_said_changed_not_counted_in_a_set(
    docked_tune,
    volume_result,  # noqa: F811
    qtbot,
):
    viewer, tune, layer, _whole = _applied_at_04(qtbot, docked_tune, volume_result)
    n = layer.data.shape[0]
    change(qtbot, tune, threshold=0.3)  # slice 5
    # painted by hand: a new step of the undo history (napari's brush does the same)
    ys, xs = np.nonzero(layer.data[2] == 0)
    layer.data_setitem((np.full(3, 2), ys[:3], xs[:3]), 99)
    viewer.dims.set_current_step(0, 7)
    change(qtbot, tune, threshold=0.32)  # slice 7

    mix = (
        "slice 5 at threshold=0.3, slice 7 at threshold=0.32, slice 2 changed since Tune "
        f"wrote it (painted, or undone), the other {n - 3} slices at threshold=0.4"
    )
    assert tune.status_label.text().endswith(f"; {mix}: {MIX}")
    assert f"({mix})" in _note(layer)

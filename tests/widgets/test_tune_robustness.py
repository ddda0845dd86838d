"""Tune on labels the user changed behind its back, and Cancel on a volume (acceptance
tester's report s25/robust): more objects than a layer converted to uint8 holds had their IDs
wrapped around (ID 256 became 0, 257 became 1, ...) while the status line counted them all;
labels cropped or transposed were silently replaced by Segment's shape; a Cancel that came
too late to stop a volume said "cancelled; 0 of 1 frame still show the earlier parameters"."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tessella.engine.methods import semantic
from tessella.engine.params import make_params
from tests.widgets.test_tune_gaps import _semantic_result, _volume_in_tune, volume_result  # noqa: F401
from tests.widgets.test_tune_widget import change, place

SMALL, BIG = 200, 100  # discs of about 50 and 200 pixels


def _discs() -> np.ndarray:
    """A foreground probability of 300 separate discs on a 20x15 grid of 28 px cells: the
    first 200 of radius 4 (about 50 px), the others of radius 8 (about 200 px)."""
    yy, xx = np.mgrid[:28, :28] - 13.5
    probability = np.zeros((15 * 28, 20 * 28), np.float32)
    for k in range(SMALL + BIG):
        y, x = divmod(k, 20)
        radius = 4 if k < SMALL else 8
        cell = probability[y * 28 : (y + 1) * 28, x * 28 : (x + 1) * 28]
        cell[yy**2 + xx**2 <= radius**2] = 0.9
    return probability


@pytest.fixture(scope="module")
def discs_result():
    """A Segment result of em-mito2d on :func:`_discs` (no network run), with every disc
    kept (min_size 10)."""
    from dataclasses import replace

    result = _semantic_result("em-mito2d", _discs(), "YX")
    params = make_params(semantic.Params, result.params, min_size=10)
    labels = semantic.postprocess(result.predictions[0], params)
    assert labels.max() == SMALL + BIG and labels.dtype == np.int32
    return replace(result, params=params, labels=labels)


def _made(result, **values) -> np.ndarray:
    params = make_params(semantic.Params, result.params, **values)
    return semantic.postprocess(result.predictions[0], params)


def test_more_objects_than_a_uint8_layer_holds_widen_it(docked_tune, discs_result, qtbot):
    viewer, widget = docked_tune
    layer = place(viewer, discs_result, name="discs labels")
    with layer.block_history():  # a correction first: disc 2 merged into disc 1
        layer.data_setitem(np.nonzero(layer.data == 2), 1)
    change(qtbot, widget, min_size=100)  # the big discs only: IDs 1..100
    assert layer.data.max() == BIG
    layer.data = layer.data.astype(np.uint8)  # as napari's Convert datatype > uint8 does

    change(qtbot, widget, min_size=10)  # 300 objects again
    # every object keeps its own ID: none wrapped around onto another (256 -> 0, 257 -> 1)
    np.testing.assert_array_equal(layer.data, _made(discs_result, min_size=10))
    assert layer.data.dtype == np.int32
    assert widget.status_label.text().startswith("'discs labels': updated in ")
    assert widget.status_label.text().endswith(
        ": 300 objects (IDs up to 300 do not fit in uint8, so the layer is now int32: "
        "history restarted)"
    )
    # the history restarted: the steps before (the correction, the update to min_size
    # 100) are not undone into these labels (disc 2 would be 1 again)
    layer.undo()
    np.testing.assert_array_equal(layer.data, _made(discs_result, min_size=10))

    change(qtbot, widget, min_size=100)  # an int32 layer again: one undo step, as before
    np.testing.assert_array_equal(layer.data, _made(discs_result, min_size=100))
    assert widget.status_label.text().endswith(": 100 objects")


def test_a_slice_preview_of_a_uint8_volume_widens_it(docked_tune, qtbot):
    """A slice previewed alone keeps the IDs its objects had and gives the others new IDs
    after the volume's largest: past 255 in a uint8 volume, where they were cast to uint8."""
    result = _semantic_result("em-mito3d", np.stack([_discs()] * 3), "ZYX")
    viewer, widget = docked_tune
    layer = place(viewer, result, name="vol labels")
    viewer.dims.set_current_step(0, 1)
    layer.data = np.where(layer.data > BIG, 0, layer.data).astype(np.uint8)  # big discs only

    change(qtbot, widget, min_size=10)  # slice 1: the big discs keep IDs, small ones get new
    shown = layer.data[1]
    assert layer.data.dtype == np.int32
    assert np.unique(shown).size - 1 == SMALL + BIG  # no two discs share an ID
    assert set(np.unique(shown[shown > BIG]).tolist()) == set(range(BIG + 1, SMALL + BIG + 1))
    assert "IDs up to 300 do not fit in uint8, so the layer is now int32" in (
        widget.status_label.text()
    )


@pytest.mark.parametrize("how", ["cropped", "transposed"])
def test_labels_of_another_shape_are_left_as_they_are(docked_tune, discs_result, qtbot, how):
    viewer, widget = docked_tune
    layer = place(viewer, discs_result, name="discs labels")
    mine = layer.data[:100, :100].copy() if how == "cropped" else layer.data.T.copy()
    layer.data = mine
    kept = mine.copy()

    change(qtbot, widget, min_size=100)
    assert layer.data is mine and np.array_equal(mine, kept)  # untouched
    made = "x".join(map(str, discs_result.labels.shape))
    assert widget.status_label.text() == (
        f"'discs labels' no longer has the shape Segment made "
        f"({'x'.join(map(str, mine.shape))}, not {made}): Tune left it as it is; "
        "run Segment again to tune it"
    )
    assert widget.controls["min_size"].value() == widget.params.min_size == 10  # as on screen

    layer.data = discs_result.labels.copy()  # Segment's shape again: the panel goes on
    change(qtbot, widget, min_size=100)
    np.testing.assert_array_equal(layer.data, _made(discs_result, min_size=100))
    assert widget.status_label.text().endswith(": 100 objects")


def test_labels_reshaped_during_an_update_are_left_as_they_are(
    docked_tune, discs_result, qtbot, monkeypatch
):
    viewer, widget = docked_tune
    layer = place(viewer, discs_result, name="discs labels")
    running, cropped = threading.Event(), threading.Event()
    original = semantic.postprocess

    def held(prediction, params):  # waits until the user cropped the labels
        running.set()
        cropped.wait(20)
        return original(prediction, params)

    monkeypatch.setattr(semantic, "postprocess", held)
    with qtbot.waitSignal(widget.update_finished, timeout=30_000):
        widget.controls["min_size"].setValue(100)
        assert running.wait(20)
        mine = layer.data[:100, :100].copy()
        layer.data = mine
        cropped.set()
    qtbot.waitUntil(lambda: not widget.busy, timeout=10_000)

    assert layer.data is mine
    assert widget.status_label.text().startswith(
        "'discs labels' no longer has the shape Segment made (100x100, not 420x560)"
    )
    assert widget.controls["min_size"].value() == 10


def test_cancel_is_off_while_apply_to_all_updates_a_volume_in_one_piece(
    docked_tune,
    volume_result,  # noqa: F811
    qtbot,
    monkeypatch,
):
    """A volume is post-processed in one piece, which a Cancel cannot stop: Cancel looked
    active during it and changed nothing (user test s35/t20 #4). It is off then, its tooltip
    saying why; it comes back for what it can stop."""
    from tessella._widgets._tune_running import CANCEL_TIP, ONE_PIECE_TIP

    _viewer, widget, layer = _volume_in_tune(docked_tune, volume_result)
    change(qtbot, widget, threshold=0.3)  # a 2D preview of slice 5
    running, release = threading.Event(), threading.Event()
    original = semantic.postprocess

    def held(prediction, params):  # the whole volume's waits until released
        if "Z" in prediction.spatial_axes:
            running.set()
            release.wait(20)
        return original(prediction, params)

    monkeypatch.setattr(semantic, "postprocess", held)
    with qtbot.waitSignal(widget.update_finished, timeout=30_000):
        widget.apply_all_button.click()
        assert running.wait(20)
        qtbot.wait(50)
        assert widget.busy and not widget.cancel_button.isEnabled()
        assert widget.cancel_button.toolTip() == ONE_PIECE_TIP
        widget.cancel_button.click()  # (off: nothing)
        release.set()
    qtbot.waitUntil(lambda: not widget.busy, timeout=10_000)

    np.testing.assert_array_equal(layer.data, _made(volume_result, threshold=0.3))
    assert widget.status_label.text().startswith("'vol labels' the whole volume: updated in ")
    assert widget.cancel_button.toolTip() == CANCEL_TIP
    assert not widget.cancel_button.isEnabled() and widget.apply_all_button.isEnabled()

"""Undo after a labels layer's data were replaced: napari 0.9 keeps the layer's undo history
when ``layer.data`` is set, so a step recorded on the old array was written into the new one
(old pixels back, or IndexError on a smaller array). Tessella restarts the history where it
replaces data, and whenever data of a layer Correct edited or Segment made are replaced;
Correct's Undo refuses a step that no longer fits (s25 robustness findings). Also the
singular of Export's one-frame-track note."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from tessella._widgets import _results
from tessella._widgets._blockwise import PREVIEW_KEY, BlockwisePreview
from tessella._widgets._export_write import _one_frame_tracks
from tessella.engine.tracking import ctc_tracks
from tests.widgets.conftest import rods_labels_and_hidden
from tests.widgets.helpers import choose_text
from tests.widgets.test_evaluate_widget import (
    error_layers,
    evaluate_widget,  # noqa: F401 (a fixture)
    nuclei_pair,  # noqa: F401 (a fixture)
)


def _paint_step(layer, value: int, where: np.ndarray | None = None) -> None:
    """Paint ``value`` into the top-left 20x20 of ``layer`` (or the pixels of mask ``where``)
    as one undo step, as napari's brush records it."""
    if where is None:
        where = np.zeros(layer.data.shape, bool)
        where[:20, :20] = True
    with layer.block_history():
        layer.data_setitem(np.nonzero(where), value)
    assert len(layer._undo_history) == 1


def _correct(viewer, layer):
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    choose_text(widget.layer_combo, layer.name)
    return widget


def test_segment_replacing_an_edited_result_restarts_its_history(
    segment_widget, nuclei_sample, run_to_end
):
    viewer, widget = segment_widget
    image = nuclei_sample[0][:128, :128]
    viewer.add_image(image, name="nuc")
    choose_text(widget.layer_combo, "nuc")
    run_to_end(widget)
    layer = viewer.layers["nuc labels (nuclei2d)"]
    _paint_step(layer, 999)
    assert layer.metadata.get("tessella_edited")
    viewer.layers["nuc"].data = np.ascontiguousarray(image[::-1])  # another image
    widget.replace_edited_checkbox.setChecked(True)

    run_to_end(widget)

    assert viewer.layers["nuc labels (nuclei2d)"] is layer  # replaced, not added
    new = np.array(layer.data, copy=True)
    layer.undo()  # the painted step: its old pixels were written into the new labels
    np.testing.assert_array_equal(layer.data, new)
    correct = _correct(viewer, layer)
    assert not correct.undo_button.isEnabled()
    correct.undo()
    assert correct.status_label.text() == "Nothing to undo on 'nuc labels (nuclei2d)'"


def test_blockwise_preview_and_final_labels_restart_the_history(make_napari_viewer, tmp_path):
    from tessella.engine.blockwise import work_dir

    viewer = make_napari_viewer()
    final = np.arange(64 * 64, dtype=np.int32).reshape(64, 64) // 300
    kept = {}
    for run in ("blocks", "final"):  # a preview an earlier run kept (in memory), painted
        out = tmp_path / f"{run}.zarr"
        zarr.save_array(str(out), final)
        work_dir(out).mkdir(parents=True, exist_ok=True)
        zarr.save_array(str(work_dir(out) / "provisional.zarr"), final[::-1].copy())
        layer = viewer.add_labels(np.full((64, 64), 5, np.int32), metadata={PREVIEW_KEY: str(out)})
        _paint_step(layer, 7)
        kept[run] = (BlockwisePreview(viewer, out, f"{run} labels", {}), layer)

    preview, layer = kept["blocks"]
    preview.block_done()  # shows this run's blocks
    layer.undo()  # wrote 5s into the read-only blocks (ValueError)
    np.testing.assert_array_equal(np.asarray(layer.data), final[::-1])

    preview, layer = kept["final"]
    preview.finish({})  # (a run that finished before its first block was shown)
    layer.undo()
    np.testing.assert_array_equal(np.asarray(layer.data), final)


def test_overlaps_layer_replaced_restarts_its_history(make_napari_viewer):
    _rods, labels, hidden = rods_labels_and_hidden()
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels, name="rods")
    shown = _results.show_overlaps(viewer, layer, hidden)
    _paint_step(shown, 3, where=hidden > 0)
    other = np.roll(hidden, 20, axis=-1)  # rods that moved: the old pixels are background
    assert not (other > 0)[hidden > 0].any()

    _results.show_overlaps(viewer, layer, other.copy())  # (the layer holds the array)

    assert _results.companion_layer(viewer, layer, "overlaps") is shown
    shown.undo()
    np.testing.assert_array_equal(shown.data, other)


def test_evaluate_error_layer_replaced_restarts_its_history(
    evaluate_widget,  # noqa: F811
):
    viewer, widget = evaluate_widget
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()
    [layer] = error_layers(viewer)
    _paint_step(layer, 2)
    widget.threshold_spin.setValue(0.7)

    widget.evaluate_button.click()  # the same layer, new errors

    assert error_layers(viewer) == [layer]
    new = layer.data.copy()
    layer.undo()
    np.testing.assert_array_equal(layer.data, new)


@pytest.fixture
def edited(make_napari_viewer, nuclei_sample):
    """A viewer, a 256x256 labels layer "gt" and Correct on it."""
    viewer = make_napari_viewer()
    layer = viewer.add_labels(nuclei_sample[1][:256, :256].copy(), name="gt")
    return viewer, layer, _correct(viewer, layer)


def test_correct_undo_after_the_user_cropped_the_data_clears_the_history(edited):
    viewer, layer, correct = edited
    with layer.block_history():  # one step (undone last piece first): outside the crop, inside
        layer.data_setitem((np.array([200]), np.array([200])), 901)
        layer.data_setitem((np.array([5]), np.array([5])), 900)
    # replaced where Tessella did not see it (before Correct was docked, say): Correct's
    # layers restart their history on napari's data event, so that event is blocked here
    with layer.events.data.blocker():
        layer.data = layer.data[:100, :100].copy()
    cropped = layer.data.copy()

    correct.undo_button.click()  # raised IndexError in napari, after writing (5, 5) back

    text = correct.status_label.text()
    assert (
        text == "Cannot undo on 'gt': its data were replaced since that edit (undo history cleared)"
    )
    np.testing.assert_array_equal(layer.data, cropped)
    assert not correct.undo_button.isEnabled() and not correct.redo_button.isEnabled()
    correct.undo()
    assert correct.status_label.text() == "Nothing to undo on 'gt'"
    correct.redo()
    assert correct.status_label.text() == "Nothing to redo on 'gt'"

    kept = int(cropped[cropped > 0][0])
    correct.set_selection([kept])
    assert correct.delete()  # editing goes on on the cropped labels
    correct.undo_button.click()
    assert correct.status_label.text() == f"Undid: delete {kept} on 'gt'"
    np.testing.assert_array_equal(layer.data, cropped)


def test_correct_undo_after_the_user_replaced_data_of_the_same_shape(edited):
    viewer, layer, correct = edited
    correct.set_selection([int(layer.data[layer.data > 0][0])])
    assert correct.delete()
    other = np.ascontiguousarray(layer.data[::-1])

    layer.data = other  # same shape: napari's undo would write the deleted object into it

    assert not correct.undo_button.isEnabled()
    correct.undo()
    assert correct.status_label.text() == "Nothing to undo on 'gt'"
    np.testing.assert_array_equal(layer.data, other)


@pytest.mark.parametrize(
    ("frames", "expected"), [(1, "the one track is"), (2, "every one of the 2 tracks is")]
)
def test_one_frame_tracks_note_counts_one_track_in_the_singular(frames, expected):
    movie = np.zeros((3, 8, 8), np.uint16)
    for t in range(frames):
        movie[t, 2:4, 2:4] = t + 1  # each object in one frame only

    [note] = _one_frame_tracks(ctc_tracks(movie))

    assert note.startswith(f"{expected} one frame long (no ID is in two frames)")


def test_a_layer_correct_lists_restarts_its_history_when_the_user_replaces_its_data(
    make_napari_viewer,
):
    """A labels layer Correct lists but never edited (painted with napari's brush, then its
    data replaced in the console with an array of the same shape): Correct's Undo wrote
    the brush stroke into the new labels."""
    viewer = make_napari_viewer()
    layer = viewer.add_labels(np.zeros((64, 64), np.int32), name="gt")
    widget = _correct(viewer, layer)
    _paint_step(layer, 5)
    new = np.full((64, 64), 7, np.int32)
    layer.data = new.copy()

    widget.undo()

    assert (layer.data == new).all()
    assert widget.status_label.text() == "Nothing to undo on 'gt'"


def test_tunes_update_of_the_overlaps_layer_restarts_its_history(make_napari_viewer):
    """Tune rewrites an overlaps layer in place (or replaces its data): a step the user
    painted there before was written into the new overlaps by Ctrl+Z (review of 86b4121)."""
    from types import SimpleNamespace

    from tessella._widgets._tune_writing import TuneWriting

    viewer = make_napari_viewer()
    _rods, labels, hidden = rods_labels_and_hidden()
    layer = viewer.add_labels(labels, name="rods")
    _results.show_overlaps(viewer, layer, hidden.copy())
    shown = _results.companion_layer(viewer, layer, "overlaps")
    with shown.block_history():  # the user paints over the hidden rods: one step
        shown.data_setitem(np.nonzero(hidden > 0), 3)
    for moved in (np.roll(hidden, 20, axis=-1), np.roll(hidden, 20, axis=-2)[:, :-1]):
        TuneWriting._show_overlaps(SimpleNamespace(viewer=viewer), layer, moved.copy())
        assert _results.companion_layer(viewer, layer, "overlaps") is shown
        shown.undo()
        np.testing.assert_array_equal(shown.data, moved)

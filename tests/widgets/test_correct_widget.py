"""The Correct dock widget in a real viewer: every edit is one step of napari's undo history."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import zarr
from scipy import ndimage as ndi

from tessella._io import LabelsChangedWarning
from tessella._widgets import _results
from tessella._widgets import correct as correct_module
from tessella._widgets.correct import LINES_LAYER, SEEDS_LAYER, CorrectWidget, parse_ids
from tessella.engine import edit
from tessella.engine.metrics import matching
from tests.conftest import SEGMENT_RECIPE
from tests.engine.test_edit import touching_pair

SCALE = (0.5, 0.25)  # non-unit pixel size: the canvas and the data coordinates differ


@pytest.fixture
def correct(make_napari_viewer, nuclei_sample):
    """A viewer with the real ground-truth labels (scaled) and the docked Correct widget."""
    viewer = make_napari_viewer()
    layer = viewer.add_labels(nuclei_sample[1].copy(), name="nuclei labels", scale=SCALE)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert isinstance(widget, CorrectWidget)
    assert widget.labels_layer is layer
    return viewer, widget, layer


def largest(labels: np.ndarray) -> int:
    return int(np.argmax(np.bincount(labels.ravel())[1:]) + 1)


def check_undo_redo(layer, before: np.ndarray, widget) -> None:
    """One Undo restores ``before`` exactly; one Redo brings the edit back."""
    after = layer.data.copy()
    assert not np.array_equal(after, before)
    widget.undo_button.click()
    assert np.array_equal(layer.data, before)
    widget.redo_button.click()
    assert np.array_equal(layer.data, after)


def test_parse_ids():
    assert parse_ids(" 3, 7 12,") == [3, 7, 12]
    with pytest.raises(ValueError, match="'x' is not a label ID"):
        parse_ids("3 x")
    with pytest.raises(ValueError, match="'0' is not"):
        parse_ids("0")


def test_merge_equals_the_engine_and_undoes_in_one_step(correct):
    _viewer, widget, layer = correct
    before = layer.data.copy()
    a, b = touching_pair(before)
    expected = before.copy()
    edit.merge(before, [a, b]).apply(expected)
    widget.set_selection([b, a])
    widget.merge_button.click()
    assert np.array_equal(layer.data, expected)
    assert widget.selection_edit.text() == str(a)
    check_undo_redo(layer, before, widget)


def _prepare(viewer, widget, layer, operation: str):
    """Set up ``operation`` on real labels; return the click that runs it and its check."""
    labels = layer.data
    big = largest(labels)
    if operation == "delete":
        widget.set_selection([big, 3])
        return widget.delete_button, lambda: not np.isin(layer.data, [big, 3]).any()
    if operation == "fill holes":
        cy, cx = (int(c) for c in ndi.center_of_mass(labels == big))
        labels[cy - 2 : cy + 3, cx - 2 : cx + 3] = 0
        layer.data = labels.copy()
        return widget.fill_button, lambda: (
            layer.data[cy - 2 : cy + 3, cx - 2 : cx + 3] == big
        ).all()
    if operation == "remove small":
        widget.min_size_spin.setValue(150)
        sizes = np.bincount(layer.data.ravel())
        return (
            widget.remove_small_button,
            lambda: (
                set(np.unique(layer.data))
                == {0} | {i for i in range(1, sizes.size) if sizes[i] >= 150}
            ),
        )
    if operation == "relabel":
        layer.data = labels * 2
        return widget.relabel_button, lambda: np.array_equal(
            np.unique(layer.data), np.arange(layer.data.max() + 1)
        )
    if operation == "watershed":
        a, b = touching_pair(labels)
        merged = labels.copy()
        edit.merge(labels, [a, b]).apply(merged)
        layer.data = merged
        widget.set_selection([a])
        region = merged == a  # before the split edits the layer's array in place
        return widget.split_seeds_button, lambda: len(np.unique(layer.data[region])) == 2
    # split along a line drawn in the split-lines layer (world coordinates, as a user draws)
    widget.draw_line_button.click()
    shapes = viewer.layers[LINES_LAYER]
    assert viewer.layers.selection.active is shapes and shapes.mode == "add_line"
    rows, cols = np.nonzero(labels == big)
    cx = int(np.median(cols))
    world = np.array([[rows.min() - 2, cx], [rows.max() + 2, cx]]) * np.array(SCALE)
    shapes.add_lines(np.array([shapes.world_to_data(w) for w in world]))
    original = labels.copy()
    return (
        widget.split_line_button,
        lambda: len(np.unique(layer.data[original == big])) == 2 and len(shapes.data) == 0,
    )


@pytest.mark.parametrize(
    "operation", ["delete", "fill holes", "remove small", "relabel", "watershed", "line"]
)
def test_every_operation_is_undoable_and_redoable(correct, operation):
    viewer, widget, layer = correct
    button, done = _prepare(viewer, widget, layer, operation)
    before = layer.data.copy()
    with_signal = []
    widget.edited.connect(with_signal.append)
    button.click()
    assert with_signal, widget.status_label.text()
    assert done()
    check_undo_redo(layer, before, widget)


def test_corrections_share_napari_history_with_painting(correct):
    _viewer, widget, layer = correct
    before = layer.data.copy()
    widget.set_selection([5])
    widget.delete_button.click()
    layer.paint((10, 10), 500)  # a brush stroke with a new label, as the user paints
    assert (layer.data == 500).any()
    layer.undo()  # Ctrl+Z undoes the stroke first, then the deletion
    assert not (layer.data == 500).any() and not (layer.data == 5).any()
    layer.undo()
    assert np.array_equal(layer.data, before)


def test_helper_layers_lie_where_the_labels_lie_units_included(correct):
    """The split-lines and split-seeds layers take the labels' scale, translate, units and
    axis labels (other units made napari drop every layer's units, the scale bar's too)."""
    viewer, widget, layer = correct
    layer.units = ("µm", "µm")
    layer.translate = (5.0, 7.0)
    widget.draw_line_button.click()
    lines = viewer.layers[LINES_LAYER]
    assert lines.units == layer.units and lines.axis_labels == layer.axis_labels
    np.testing.assert_allclose(lines.scale, layer.scale)
    np.testing.assert_allclose(lines.translate, layer.translate)


def test_pick_toggles_the_clicked_label(correct):
    viewer, widget, layer = correct
    big = largest(layer.data)
    rows, cols = np.nonzero(layer.data == big)
    world = np.array([rows[0], cols[0]]) * SCALE
    click = SimpleNamespace(
        type="mouse_press", position=tuple(world), view_direction=None, dims_displayed=[0, 1]
    )
    widget.pick_button.setChecked(True)
    assert layer.mode == "pan_zoom"
    assert widget._pick in layer.mouse_drag_callbacks
    widget._pick(layer, click)
    assert widget.selected_ids() == [big]
    widget._pick(layer, click)
    assert widget.selected_ids() == []
    widget.pick_button.setChecked(False)
    assert widget._pick not in layer.mouse_drag_callbacks
    widget.pick_button.setChecked(True)  # closing the panel while picking stops picking
    viewer.window.remove_dock_widget(widget)
    assert widget._pick not in layer.mouse_drag_callbacks


def test_bad_requests_change_nothing_and_leave_the_widget_usable(correct):
    viewer, widget, layer = correct
    before = layer.data.copy()
    widget.set_selection([4])
    assert not widget.merge()  # needs two labels
    widget.set_selection(["4 x"])
    assert not widget.delete()
    widget.set_selection([4, 9999])
    assert not widget.merge()
    assert "no object with label 9999" in widget.status_label.text()
    assert np.array_equal(layer.data, before)
    assert not widget.split_along_lines()  # no line drawn
    widget.set_selection([4, 5])
    assert widget.merge()  # still works


def test_lazy_labels_are_refused_by_name(correct):
    import dask.array as da

    viewer, widget, _layer = correct
    lazy = viewer.add_labels(da.zeros((64, 64), dtype=np.uint16, chunks=32), name="lazy")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(lazy.unique_id))
    widget.relabel_button.click()
    assert "layer 'lazy' is not in memory" in widget.status_label.text()
    assert "open its .zarr with File > Open" in widget.status_label.text()


def test_labels_on_disk_opened_through_the_reader_can_be_edited(correct, tmp_path):
    """What the message above advises: a zarr of labels (as blockwise writes) opened with
    File > Open comes into memory, and Correct edits it."""
    from tessella.engine.io import write_zarr_labels

    viewer, widget, layer = correct
    gappy = np.where(layer.data > 0, layer.data + 100, 0)
    write_zarr_labels(tmp_path / "result.zarr", gappy, "YX")
    [opened] = viewer.open(str(tmp_path / "result.zarr"), plugin="tessella")
    assert isinstance(opened.data, np.ndarray)
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(opened.unique_id))
    assert widget.relabel()
    assert opened.data.max() == len(np.unique(gappy)) - 1


def test_reopened_blockwise_labels_keep_their_recipe_through_edits_and_export(correct, tmp_path):
    """The route the message above advises, to the end: a blockwise zarr (its recipe in the
    ``tessella`` attribute) opened with File > Open carries the recipe as Segment's layers
    do, so Export writes it; after a Correct edit the recipe says the labels were edited."""
    import json

    from tessella.engine.io import write_zarr_labels

    viewer, widget, layer = correct
    recipe = {
        **SEGMENT_RECIPE,
        "blockwise": {"block": [512, 512], "halo": [96, 96], "stitch": "overlap"},
        "input": "mosaic.zarr",
    }
    path = write_zarr_labels(tmp_path / "mosaic_labels.zarr", layer.data, "YX")
    zarr.open(str(path), mode="r+").attrs["tessella"] = recipe  # as blockwise Segment does
    with warnings.catch_warnings():  # labels their recipe reproduces say nothing on open
        warnings.simplefilter("error", LabelsChangedWarning)
        [opened] = viewer.open(str(path), plugin="tessella")
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    export.labels_combo.setCurrentIndex(export.labels_combo.findData(opened.unique_id))
    assert export.recipe_checkbox.isEnabled()

    def exported(name: str, files: bool = True) -> dict:
        export.path_edit.setText(str(tmp_path / name))
        export.tiff_checkbox.setChecked(files)
        export.csv_checkbox.setChecked(files)
        export.recipe_checkbox.setChecked(True)
        export.export()
        return json.loads((tmp_path / f"{name}.recipe.json").read_text())

    as_read = exported("as_read")
    assert as_read.pop("exported")["tiff"] == "as_read.tif"
    assert as_read.pop("labels_digest")["shape"] == list(opened.data.shape)  # (the reader's)
    assert as_read == recipe  # unedited: the recipe reproduces them
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(opened.unique_id))
    widget.set_selection(touching_pair(opened.data))
    assert widget.merge()
    edited = exported("edited")
    assert edited["labels_edited"] is True
    assert edited["params"] == recipe["params"] and edited["blockwise"] == recipe["blockwise"]

    # reopened in a new session and exported again (the recipe alone): still edited, and
    # none of the first export's keys (they were copied: 'exported' named edited.tif, and
    # the labels were taken as what the recipe makes)
    with pytest.warns(LabelsChangedWarning, match="edited.recipe.json does not reproduce these"):
        [reopened] = viewer.open(str(tmp_path / "edited.tif"), plugin="tessella")
    export.labels_combo.setCurrentIndex(export.labels_combo.findData(reopened.unique_id))
    again = exported("again", files=False)
    assert "the recipe makes them as they were before" in export.status_label.text()
    assert again.pop("labels_edited") is True and again.pop("note") == edited["note"]
    assert again == recipe


def test_removing_the_chosen_layer_says_which_layer_is_edited_now(correct):
    """The combo falls back to another labels layer (here the ground truth): the status and
    a notification say so, and the next edit's message names the layer it changed."""
    viewer, widget, truth = correct
    shown = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(correct_module, "show_warning", shown.append, raising=False)
        copy = viewer.add_labels(truth.data.copy(), name="copy to remove", scale=SCALE)
        widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(copy.unique_id))
        a, b = touching_pair(truth.data)
        widget.set_selection([a, b])
        viewer.layers.remove(copy)
    message = "Correct: 'copy to remove' was removed; now editing 'nuclei labels'"
    assert shown == [message]
    assert widget.status_label.text() == message
    assert widget.labels_layer is truth and widget.selected_ids() == []
    widget.set_selection([a, b])
    assert widget.merge()
    assert widget.status_label.text().startswith(
        f"merge {a}, {b} into {min(a, b)} on 'nuclei labels': "
    )
    viewer.layers.remove(truth)
    assert widget.status_label.text() == (
        "Correct: 'nuclei labels' was removed; no labels layer is left to edit"
    )


def test_layers_tessella_or_the_viewer_removes_are_told_in_the_status_line_only(correct, tmp_path):
    """Correct warned at every removal of its chosen layer, also when Tessella removed it (a
    blockwise run's "(blocks so far)" preview discarded, an Evaluate errors layer replaced)
    and once per layer when the viewer cleared or closed. Those now go to the status line
    alone; removing the layer the user edits still warns (test above), once for a batch."""
    from tessella._widgets._blockwise import PREVIEW_KEY, BlockwisePreview
    from tessella._widgets.evaluate import ERRORS_KEY

    viewer, widget, truth = correct
    shown = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(correct_module, "show_warning", shown.append, raising=False)
        out = tmp_path / "nuclei_labels.zarr"
        viewer.add_labels(
            truth.data.copy(), name="nuclei (blocks so far)", metadata={PREVIEW_KEY: str(out)}
        )
        preview = BlockwisePreview(viewer, out, "nuclei_labels", {})  # the kept preview
        widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(preview.layer.unique_id))
        preview.discard()
        assert widget.labels_layer is truth
        assert widget.status_label.text() == (
            "Correct: 'nuclei (blocks so far)' was removed; now editing 'nuclei labels'"
        )
        errors = viewer.add_labels(
            np.zeros_like(truth.data), name="pred errors @0.5", metadata={ERRORS_KEY: "pred"}
        )
        widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(errors.unique_id))
        viewer.layers.remove(errors)
        assert widget.status_label.text().startswith("Correct: 'pred errors @0.5' was removed")
        assert shown == []

        # the user deletes the selected layers, the one edited among them: one warning
        edited = viewer.add_labels(truth.data.copy(), name="edited", scale=SCALE)
        other = viewer.add_labels(truth.data.copy(), name="other", scale=SCALE)
        widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(edited.unique_id))
        viewer.layers.selection = {edited, other}
        viewer.layers.remove_selected()
        assert shown == ["Correct: 'edited' was removed; now editing 'nuclei labels'"]

        # the viewer clears (as when it closes): the edited layer goes with all the others
        first = viewer.add_labels(truth.data.copy(), name="first", scale=SCALE)
        viewer.add_labels(truth.data.copy(), name="last", scale=SCALE)
        widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(first.unique_id))
        viewer.layers.clear()
        assert len(shown) == 1
        assert widget.status_label.text() == (
            "Correct: 'first' was removed; no labels layer is left to edit"
        )


def test_the_status_line_says_what_each_notification_says(correct, monkeypatch):
    viewer, widget, layer = correct
    shown = []
    for kind in ("show_info", "show_error", "show_warning"):
        monkeypatch.setattr(correct_module, kind, shown.append, raising=False)

    def says_the_same(action) -> None:
        shown.clear()
        action()
        assert len(shown) == 1 and widget.status_label.text() == shown[0], shown

    widget.set_selection([999])
    assert not widget.delete()  # an error on this layer first, to see it replaced
    assert widget.status_label.text() == "Delete on layer 'nuclei labels': no object with label 999"
    widget.selection_edit.setText("abc")
    says_the_same(widget.merge)
    assert "'abc' is not a label ID" in widget.status_label.text()
    says_the_same(widget.split_along_lines)  # no line drawn
    a, b = touching_pair(layer.data)
    widget.set_selection([a, b])
    says_the_same(widget.split_watershed)  # two labels
    widget.set_selection([a])
    says_the_same(widget.merge_button.click)
    assert widget.status_label.text() == "Merge: select 2 labels first (type IDs or use Pick)."
    # without a notification the status line still moves on: next suspicious, edits
    shown.clear()
    suspect = widget.step_suspicious()
    assert (
        shown == [] and f"label {suspect.label} is {suspect.reason}" in widget.status_label.text()
    )
    assert widget.status_label.text().startswith("Suspicious in 'nuclei labels': ")


def test_a_watershed_split_without_two_peaks_says_to_place_seeds(correct):
    """A round object has one peak in the distance to its border: the message points to the
    seed points that would split it."""
    _viewer, widget, layer = correct
    sizes = np.bincount(layer.data.ravel())
    sizes[0] = 0
    small = int(np.nonzero((sizes > 0) & (sizes < 60))[0][0])
    widget.set_selection([small])
    assert not widget.split_watershed()
    status = widget.status_label.text()
    assert f"label {small} has fewer than two peaks" in status
    assert f"'{SEEDS_LAYER}' points layer" in status


def test_split_with_seed_points_in_a_volume(make_napari_viewer, nuclei_sample):
    viewer = make_napari_viewer()
    labels = nuclei_sample[1].copy()
    a, b = touching_pair(labels)
    merged = labels.copy()
    edit.merge(labels, [a, b]).apply(merged)
    volume = np.stack([merged, merged, merged])  # two touching tubes, merged into one object
    layer = viewer.add_labels(volume, name="volume", scale=(2.0, *SCALE))
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    centres = [ndi.center_of_mass(labels == i) for i in (a, b)]
    seeds = viewer.add_points(
        np.array([[1, *c] for c in centres]), name=SEEDS_LAYER, scale=layer.scale
    )
    widget.set_selection([a])
    assert widget.split_watershed()
    assert len(seeds.data) == 0  # used seeds are cleared
    new = int(layer.data.max())
    truth = np.where(np.isin(labels, [a, b]), labels, 0)
    for z in range(3):  # the 3D object is split into the two tubes, in every slice
        split = layer.data[z]
        assert matching(truth, np.where(np.isin(split, [a, new]), split, 0), 0.8).tp == 2
    others = ~np.isin(volume, [a])
    assert np.array_equal(layer.data[others], volume[others])


def test_next_suspicious_centres_the_view_on_each_object(correct):
    viewer, widget, layer = correct
    labels = layer.data
    labels[0:2, 500:502] = 600  # a 4-pixel speck in the top right corner
    layer.data = labels
    suspect = widget.step_suspicious()
    assert suspect.label == 600 and suspect.reason == "small"
    assert np.allclose(viewer.scene.camera.center[-2:], np.array([0.5, 500.5]) * SCALE)
    assert layer.selected_label == 600
    assert widget.selected_ids() == [600]
    assert "label 600 is small" in widget.suspect_label.text()
    # deleting it from the review step makes the list fresh without it
    widget.delete_button.click()
    assert all(s.label != 600 for s in widget.suspects())


def test_suspicious_objects_in_a_volume_move_the_slice(make_napari_viewer, nuclei_sample):
    viewer = make_napari_viewer()
    labels = nuclei_sample[1]
    volume = np.stack([labels, labels, labels]).astype(np.uint16)
    volume[2, 100:102, 100:102] = 700
    layer = viewer.add_labels(volume, name="volume")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    seen = [widget.step_suspicious() for _ in widget.suspects()]
    speck = next(s for s in seen if s.label == 700)
    assert speck.centroid == pytest.approx((2, 100.5, 100.5))
    widget._suspect_index = [s.label for s in seen].index(700) - 1
    widget.step_suspicious()
    assert viewer.dims.point[0] == pytest.approx(2)


def test_confidence_comes_from_the_cached_prediction(
    make_napari_viewer, nuclei_image, segment_model_dir
):
    from tessella.engine.pipeline import run_steps, segment_steps

    result = run_steps(segment_steps(nuclei_image, str(segment_model_dir), "YX"))
    viewer = make_napari_viewer()
    layer = viewer.add_labels(result.labels, name="segmented")
    _results.register(layer, result, viewer.layers)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    seed = result.predictions[0].arrays["seed"][0]
    assert np.array_equal(widget._height_map(layer), seed)
    for suspect in widget.suspects():
        assert suspect.confidence == pytest.approx(
            float(seed[result.labels == suspect.label].mean())
        )


def test_split_lines_drawn_for_a_2d_layer_never_act_on_a_volume(make_napari_viewer, nuclei_sample):
    """A 'split lines' layer drawn over a 2D labels layer is not used for a volume (its
    points would land on slice 0): the volume gets its own lines layer, and a line drawn on
    the slice on screen splits the object there, swept through the volume's other slices."""
    viewer = make_napari_viewer()
    labels = nuclei_sample[1]
    flat = viewer.add_labels(labels.copy(), name="flat")
    volume = viewer.add_labels(np.stack([labels, labels, labels]), name="volume")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(flat.unique_id))
    widget.draw_line_button.click()
    big = int(np.argmax(np.bincount(labels.ravel())[1:]) + 1)
    rows, cols = np.nonzero(labels == big)
    cx = int(np.median(cols))
    viewer.layers[LINES_LAYER].add_lines(np.array([[rows.min() - 2, cx], [rows.max() + 2, cx]]))

    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(volume.unique_id))
    assert not widget.split_along_lines()  # the 2D lines are not this volume's
    assert np.array_equal(volume.data[0], labels)
    widget.draw_line_button.click()
    shapes = viewer.layers[LINES_LAYER]
    assert shapes.ndim == 3 and len(shapes.data) == 0
    viewer.dims.set_current_step(0, 2)
    shapes.add_lines(np.array([[2, rows.min() - 2, cx], [2, rows.max() + 2, cx]]))
    assert widget.split_along_lines()
    assert len(np.unique(volume.data[2][labels == big])) == 2
    assert np.array_equal(volume.data[0], volume.data[2])  # the same cut in every slice
    assert np.array_equal(volume.data[1], volume.data[2])

"""Three gaps of Export (and the axes Correct and Evaluate take), in a real viewer:

1. the mask stack (``.stack.tif``) is ticked only where the chosen labels' objects overlap,
   disabled with a tooltip saying why where they cannot, and follows the Labels combo box
   and edits of the labels;
2. the recipe Export writes names the files written beside it, the stack included;
3. axes the reader only guessed from the shape (a plain 3D TIFF is ZYX) rank below a
   recipe's axes and the layer's napari ``axis_labels``, for Correct, Evaluate and Export.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import tifffile

from tessella._io import (
    AXES_GUESSED_KEY,
    EXPORT_ONLY_KEYS,
    RECIPE_KEY,
    LabelsChangedWarning,
    labels_axes,
    read_layers,
    recorded_axes,
)
from tessella._widgets import _results
from tessella._widgets.export import ExportWidget, network_instances
from tessella.engine.digest import labels_digest
from tessella.engine.io import read_image, read_mask_stack
from tests.widgets.helpers import choose_model, choose_text

WORMS = ("worms_bbbc010", "gfp")  # (in this copy of BBBC010 the gfp/ files are brightfield)
SIM = "ctc_Fluo-N2DH-SIM+"


def _segment_wells(viewer, data_dir, run_to_end, wells) -> None:
    """Each BBBC010 well as an image layer, segmented by worms2d in the Segment widget."""
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_model(segment, "worms2d")
    for well in wells:
        image = np.asarray(read_image(data_dir.joinpath(*WORMS, f"{well}.tif")).data)
        viewer.add_image(image, name=well)
        choose_text(segment.layer_combo, well)
        run_to_end(segment)
        assert f"{well} labels (worms2d)" in [layer.name for layer in viewer.layers]


def _stack_option(widget: ExportWidget) -> tuple[bool, bool, str]:
    box = widget.stack_checkbox
    return box.isEnabled(), box.isChecked(), box.toolTip()


# --- 1. the mask stack follows the data ----------------------------------------------------


def test_the_stack_is_ticked_only_for_labels_whose_objects_overlap(
    make_napari_viewer, data_dir, run_to_end, nuclei_sample, tmp_path
):
    """worms2d's labels of BBBC010 A06 (crossing worms) and A20 (no worm hides another) and
    the nuclei sample's labels: the stack is ticked for A06 only, tickable for A20 (a method
    that keeps overlapping objects, nothing overlaps), disabled for the nuclei; each
    tooltip says why, and choosing another layer in the combo box follows."""
    viewer = make_napari_viewer()
    _image, nuclei = nuclei_sample
    viewer.add_labels(nuclei, name="nuclei labels")
    _segment_wells(viewer, data_dir, run_to_end, ["A06", "A20"])
    assert "A06 labels (worms2d) overlaps" in [layer.name for layer in viewer.layers]
    assert "A20 labels (worms2d) overlaps" not in [layer.name for layer in viewer.layers]
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    widget.path_edit.setText(str(tmp_path / "w"))

    choose_text(widget.labels_combo, "A06 labels (worms2d)")
    enabled, ticked, a06_tip = _stack_option(widget)
    assert enabled and ticked
    assert "stack" in [o.kind for o in widget.outputs()]

    choose_text(
        widget.labels_combo, "A20 labels (worms2d)"
    )  # worms2d's, but no worm crosses another
    enabled, ticked, a20_tip = _stack_option(widget)
    assert enabled and not ticked
    assert "stack" not in [o.kind for o in widget.outputs()]
    assert [p.name for p in widget.export()] == ["w.tif", "w.csv", "w.recipe.json"]

    choose_text(widget.labels_combo, "nuclei labels")  # ordinary labels: nothing can overlap
    enabled, ticked, nuclei_tip = _stack_option(widget)
    assert not enabled and not ticked

    assert "objects overlap another" in a06_tip and "'A06 labels (worms2d)'" in a06_tip
    assert "No objects overlap in 'A20 labels (worms2d)'" in a20_tip and "Tick it" in a20_tip
    assert "No objects overlap in 'nuclei labels'" in nuclei_tip
    assert "no overlaps layer" in nuclei_tip

    choose_text(
        widget.labels_combo, "A06 labels (worms2d)"
    )  # back: the default for these labels again
    assert _stack_option(widget)[:2] == (True, True)

    choose_text(widget.labels_combo, "A20 labels (worms2d)")  # ticked by hand: a stack all the same
    widget.stack_checkbox.setChecked(True)
    widget.path_edit.setText(str(tmp_path / "a20"))
    assert "a20.stack.tif" in [p.name for p in widget.export()]
    stack = read_mask_stack(tmp_path / "a20.stack.tif")
    assert stack.sum(axis=0).max() == 1  # no pixel in two masks


def test_an_overlaps_layer_counts_only_where_it_hides_part_of_another_object(
    make_napari_viewer, data_dir
):
    """Labels without a network result, an "overlaps" layer beside them (as Segment leaves
    it): BBBC010 A06's ground-truth worms flattened, the hidden parts in that layer. The
    stack is ticked while a hidden worm is still in the labels; labels that kept none of the
    hidden worms (an overlaps layer of other labels) get it unticked."""
    masks = np.asarray(read_mask_stack(data_dir / "worms_bbbc010" / "worm_masks" / "A06.tif"))
    flat = np.zeros(masks.shape[1:], np.uint16)
    for k, mask in enumerate(masks.astype(bool), start=1):  # later worms lie on top
        flat[mask] = k
    hidden = np.zeros_like(flat)  # each worm where another covers it, as Segment paints it
    for k, mask in enumerate(masks.astype(bool), start=1):
        hidden[mask & (flat != k) & (hidden == 0)] = k
    assert hidden.any()
    viewer = make_napari_viewer()
    layer = viewer.add_labels(flat, name="worms")
    _results.show_overlaps(viewer, layer, hidden)
    without = flat.copy()
    without[np.isin(without, np.unique(hidden[hidden > 0]))] = 0  # the hidden worms erased
    other = viewer.add_labels(without, name="other worms")
    _results.show_overlaps(viewer, other, hidden)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")

    choose_text(widget.labels_combo, "other worms")
    enabled, ticked, other_tip = _stack_option(widget)
    assert enabled and not ticked
    choose_text(widget.labels_combo, "worms")
    enabled, ticked, tip = _stack_option(widget)
    assert enabled and ticked
    assert "No objects overlap in 'other worms'" in other_tip
    assert f"of {len(np.unique(flat)) - 1} objects overlap another" in tip


def test_the_stack_keeps_the_pixel_size_of_the_labels(make_napari_viewer, data_dir, tmp_path):
    """BBBC010 A06's ground-truth worms flattened at 1.2 µm per pixel, their hidden parts in
    an overlaps layer: the stack Export writes beside the labels TIFF has the same pixel size
    and unit (it had none, so Fiji measured the worms in pixels), its objects as ImageJ
    frames; it reads back as the worms, `tessella evaluate --overlapping` scores it against
    the ground truth, and our reader opens it as the worms' labels and overlaps at that
    scale."""
    from tessella.cli import main

    gt = data_dir / "worms_bbbc010" / "worm_masks" / "A06.tif"
    masks = np.asarray(read_mask_stack(gt))
    flat = np.zeros(masks.shape[1:], np.uint16)
    for k, mask in enumerate(masks, start=1):
        flat[mask] = k
    hidden = np.zeros_like(flat)
    for k, mask in enumerate(masks, start=1):
        hidden[mask & (flat != k) & (hidden == 0)] = k
    viewer = make_napari_viewer()
    layer = viewer.add_labels(flat, name="worms", scale=(1.2, 1.2), units=("µm", "µm"))
    _results.show_overlaps(viewer, layer, hidden)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    choose_text(widget.labels_combo, "worms")
    widget.path_edit.setText(str(tmp_path / "w"))

    assert [p.name for p in widget.export()] == ["w.tif", "w.stack.tif", "w.csv"]

    labels, stack = read_image(tmp_path / "w.tif"), read_image(tmp_path / "w.stack.tif")
    assert stack.pixel_size == labels.pixel_size == pytest.approx({"Y": 1.2, "X": 1.2})
    assert stack.unit == labels.unit == "µm"
    assert stack.axes == "TYX"
    with tifffile.TiffFile(tmp_path / "w.stack.tif") as tif:
        assert tif.imagej_metadata["frames"] == len(masks)
    np.testing.assert_array_equal(read_mask_stack(tmp_path / "w.stack.tif"), masks)
    scores = tmp_path / "scores.json"
    assert main(["evaluate", str(tmp_path / "w.stack.tif"), str(gt), "--overlapping", "-q",
                 "--json", str(scores)]) == 0  # fmt: skip
    assert set(json.loads(scores.read_text())["ap"].values()) == {1.0}
    # the worms again (labels and overlaps, as Segment shows them), not a movie of masks
    opened = viewer.open(str(tmp_path / "w.stack.tif"), plugin="tessella")
    assert [layer.name for layer in opened] == ["w.stack", "w.stack overlaps"]
    for layer in opened:
        assert layer.data.shape == masks.shape[1:] and tuple(layer.scale) == (1.2, 1.2)
    assert np.unique(opened[0].data).size == len(masks) + 1


def test_the_stack_option_follows_edits_of_the_labels(
    make_napari_viewer, data_dir, run_to_end, qtbot, monkeypatch, tmp_path
):
    """A06: Correct deletes, one after another, every worm that crosses another. Once the
    edits pause the stack is unticked, its tooltip saying that none overlaps, after one
    check of the labels (none while editing; they were not checked at all, the option
    stayed ticked). Undone, Export pressed at once checks again and writes the stack."""
    viewer = make_napari_viewer()
    _segment_wells(viewer, data_dir, run_to_end, ["A06"])
    layer = viewer.layers["A06 labels (worms2d)"]
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    choose_text(widget.labels_combo, "A06 labels (worms2d)")
    widget.path_edit.setText(str(tmp_path / "w"))
    assert _stack_option(widget)[:2] == (True, True)
    method, result = network_instances(layer)
    masks = np.asarray(method.instances(result.predictions[0], result.params), bool)
    shared = masks.sum(axis=0) > 1
    crossing = (np.flatnonzero(masks[:, shared].any(axis=1)) + 1).tolist()  # object k: mask k-1
    assert len(crossing) >= 2
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    choose_text(correct.layer_combo, "A06 labels (worms2d)")
    checks: list[int] = []
    overlapping = ExportWidget._overlapping

    def counted(self, labels_layer):
        checks.append(1)
        return overlapping(self, labels_layer)

    monkeypatch.setattr(ExportWidget, "_overlapping", counted)

    for label in crossing:
        correct.set_selection([label])
        assert correct.delete()
    assert checks == []  # nothing scanned while editing
    qtbot.waitUntil(lambda: not widget.stack_checkbox.isChecked(), timeout=5_000)
    assert len(checks) == 1
    enabled, _ticked, tip = _stack_option(widget)
    assert enabled and "No objects overlap in 'A06 labels (worms2d)'" in tip
    assert "stack" not in [o.kind for o in widget.outputs()]

    for _ in crossing:
        correct.undo()
    written = widget.export()
    assert [p.name for p in written] == ["w.tif", "w.stack.tif", "w.csv", "w.recipe.json"]
    assert widget.stack_checkbox.isChecked()
    assert len(read_mask_stack(tmp_path / "w.stack.tif")) == len(masks)


# --- 2. the recipe says what was written ---------------------------------------------------


def test_the_recipe_names_the_stack_written_beside_it(
    make_napari_viewer, data_dir, run_to_end, tmp_path
):
    """A06's export with the defaults: the recipe names every file written, the stack with
    its object count and source; the CLI still replays it (as flat labels: `stack` stays
    unset, so a replay writes the labels, not a stack in their place). Without the stack,
    the recipe names none."""
    from tessella.cli import main

    viewer = make_napari_viewer()
    _segment_wells(viewer, data_dir, run_to_end, ["A06"])
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    choose_text(widget.labels_combo, "A06 labels (worms2d)")
    widget.path_edit.setText(str(tmp_path / "w"))

    written = widget.export()

    assert [p.name for p in written] == ["w.tif", "w.stack.tif", "w.csv", "w.recipe.json"]
    recipe = json.loads((tmp_path / "w.recipe.json").read_text())
    assert recipe["exported"] == {"tiff": "w.tif", "stack": "w.stack.tif", "csv": "w.csv"}
    assert recipe["stack_objects"] == len(read_mask_stack(tmp_path / "w.stack.tif")) == 14
    assert recipe["stack_from"] == "the network's instances"
    assert "stack" not in recipe
    well = data_dir.joinpath(*WORMS, "A06.tif")
    replay = tmp_path / "replay.tif"
    assert main(["segment", str(well), "-o", str(replay), "--recipe",
                 str(tmp_path / "w.recipe.json"), "-q"]) == 0  # fmt: skip
    np.testing.assert_array_equal(
        read_image(replay).data, viewer.layers["A06 labels (worms2d)"].data
    )

    # the stack reopens with this recipe, which vouches for it by the stack's own digest ...
    stack_path = tmp_path / "w.stack.tif"
    assert recipe["stack_digest"] == labels_digest(read_mask_stack(stack_path))
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelsChangedWarning)
        layers = read_layers(str(stack_path))
    assert [layer[1]["name"] for layer in layers] == ["w.stack", "w.stack overlaps"]
    reopened = layers[0][1]["metadata"][RECIPE_KEY]
    assert reopened["model"] == "worms2d" and reopened["params"] == recipe["params"]
    assert not set(EXPORT_ONLY_KEYS) & set(reopened)
    # ... and says so on open once the stack was changed (saved again without its ImageJ note)
    masks = tifffile.imread(stack_path)
    masks[0, 0, 0] ^= 1
    tifffile.imwrite(stack_path, masks)
    with pytest.warns(LabelsChangedWarning, match=r"w\.stack\.tif: .*w\.recipe\.json"):
        layers = read_layers(str(stack_path))
    assert layers[0][1]["metadata"][RECIPE_KEY]["model"] == "worms2d"
    assert layers[0][2] == "labels" and layers[0][0].ndim == 2

    widget.stack_checkbox.setChecked(False)
    widget.zarr_checkbox.setChecked(True)
    widget.overwrite_checkbox.setChecked(True)
    assert [p.name for p in widget.export()] == ["w.tif", "w.zarr", "w.csv", "w.recipe.json"]
    recipe = json.loads((tmp_path / "w.recipe.json").read_text())
    assert recipe["exported"] == {"tiff": "w.tif", "zarr": "w.zarr", "csv": "w.csv"}
    assert "stack_objects" not in recipe and "stack_from" not in recipe


# --- 3. guessed axes rank below better evidence --------------------------------------------


def test_guessed_axes_rank_below_a_recipe_and_named_axis_labels():
    guessed = {"axes": "ZYX", AXES_GUESSED_KEY: True}
    assert labels_axes(3, guessed, ("t", "y", "x")) == "TYX"  # the user named them
    assert labels_axes(3, {**guessed, "tessella_recipe": {"axes": "TYX"}}) == "TYX"
    assert recorded_axes(3, guessed) == labels_axes(3, guessed) == "ZYX"  # nothing better
    assert recorded_axes(3, guessed, ("t", "y", "x")) == "TYX"  # the user named them
    assert recorded_axes(3, guessed, ("-3", "-2", "-1")) == "ZYX"  # napari's defaults
    assert recorded_axes(3, guessed, ("z", "y", "x")) == "ZYX"  # the reader's own names
    recipe = {**guessed, "tessella_recipe": {"axes": "TYX"}}
    assert recorded_axes(3, recipe, ("z", "y", "x")) == "TYX"  # how Segment read the image
    named = {"axes": "ZYX"}  # the file named them: first
    assert recorded_axes(3, {**named, "tessella_recipe": {"axes": "TYX"}}) == "ZYX"
    assert labels_axes(3, named, ("t", "y", "x")) == "ZYX"
    assert recorded_axes(3, {}, ("time", "y", "x")) == "TYX"
    assert recorded_axes(3, {}) is None


@pytest.fixture
def plain_movie_labels(data_dir, tmp_path):
    """Fluo-N2DH-SIM+ tracking ground truth, frames 0-5 (a 256x256 crop), written as a plain
    3D TIFF (no axes: the reader guesses ZYX)."""
    folder = data_dir / SIM / "01_GT" / "TRA"
    frames = [read_image(folder / f"man_track{t:03d}.tif").data[:256, :256] for t in range(6)]
    movie = np.stack([np.asarray(f) for f in frames]).astype(np.uint16)
    path = tmp_path / "movie_labels.tif"
    tifffile.imwrite(path, movie)
    return path, movie


@pytest.fixture
def named_movie(make_napari_viewer, plain_movie_labels):
    """A viewer with those labels opened by the reader (guessed ZYX), their first axis then
    named "t" in napari (what the user knows: frames)."""
    path, movie = plain_movie_labels
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(path), plugin="tessella")
    assert layer.metadata["axes"] == "ZYX" and layer.metadata[AXES_GUESSED_KEY]
    layer.axis_labels = ("t", "y", "x")
    return viewer, layer, movie


def test_correct_sizes_the_objects_of_a_named_plain_tiff_movie_frame_by_frame(named_movie):
    """Remove small on a movie opened from a plain TIFF, named TYX: each frame's objects are
    sized alone (as one volume, a cell is all its frames together)."""
    from tessella.engine.edit import remove_small

    viewer, layer, movie = named_movie
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    choose_text(correct.layer_combo, layer.name)
    _ids, counts = np.unique(movie[movie > 0], return_counts=True)
    size = int(np.median(counts) / len(movie) * 1.5)
    per_frame, as_volume = movie.copy(), movie.copy()
    remove_small(movie, size, axes="TYX").apply(per_frame)
    remove_small(movie, size).apply(as_volume)
    assert not np.array_equal(per_frame, as_volume)
    correct.min_size_spin.setValue(size)

    assert correct.remove_small()

    np.testing.assert_array_equal(layer.data, per_frame)
    correct.undo_button.click()
    np.testing.assert_array_equal(layer.data, movie)


def test_evaluate_scores_a_named_plain_tiff_movie_frame_by_frame(named_movie):
    """Untracked predictions (IDs 1..n in each frame) against tracked ground truth opened
    from a plain TIFF, named TYX: matched frame by frame, as `tessella evaluate` scores a
    folder of frames (as one volume, every cell would be its frames together)."""
    viewer, layer, movie = named_movie
    untracked = np.zeros_like(movie)
    for t, frame in enumerate(movie):
        found = np.unique(frame[frame > 0])
        untracked[t] = np.where(frame > 0, np.searchsorted(found, frame) + 1, 0)
    viewer.add_labels(untracked, name="untracked")
    _dock, evaluate = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    choose_text(evaluate.truth_combo, layer.name)
    choose_text(evaluate.pred_combo, "untracked")

    evaluate.evaluate_button.click()

    result = evaluate.last_evaluation
    assert result is not None
    cells = len(np.unique(movie[movie > 0]))
    assert result.n_true == sum(len(np.unique(f[f > 0])) for f in movie) > cells
    assert evaluate.last_scores["ap"]["0.5"] == pytest.approx(1.0)


def test_export_writes_a_named_plain_tiff_movie_as_tyx_and_ctc(named_movie, tmp_path):
    viewer, layer, movie = named_movie
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    choose_text(export.labels_combo, layer.name)
    export.path_edit.setText(str(tmp_path / "out"))
    export.ctc_checkbox.setChecked(True)

    written = [p.name for p in export.export()]

    assert written == ["out.tif", "out.csv", "out_RES"]
    assert read_image(tmp_path / "out.tif").axes == "TYX"
    assert len(list((tmp_path / "out_RES").glob("mask*.tif"))) == len(movie)


def test_labels_segmented_from_a_plain_tiff_movie_are_frames_everywhere(
    make_napari_viewer, data_dir, run_to_end, tmp_path
):
    """A movie opened from a plain 3D TIFF (guessed ZYX) segmented by cells2dt, which
    Segment reads as frames (TYX): its labels are frames for Correct, Evaluate and Export
    too (the recipe's axes), and napari's Save writes them as TYX."""
    from tessella._widgets.correct import _axes_of
    from tessella._widgets.evaluate import _frame_axis

    folder = data_dir / SIM / "01"
    movie = np.stack([np.asarray(read_image(folder / f"t{t:03d}.tif").data) for t in range(6)])
    path = tmp_path / "movie.tif"
    tifffile.imwrite(path, movie[:, :256, :256])
    viewer = make_napari_viewer()
    [image] = viewer.open(str(path), plugin="tessella")
    assert image.metadata[AXES_GUESSED_KEY]
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_text(segment.layer_combo, "movie")
    choose_model(segment, "cells2dt")
    assert segment.axes_combo.currentText() == "TYX"
    run_to_end(segment)
    labels = viewer.layers["movie labels (cells2dt)"]
    assert labels.metadata["tessella_recipe"]["axes"] == "TYX"

    assert _axes_of(labels) == "TYX"
    assert _frame_axis(labels) == 0
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    choose_text(export.labels_combo, "movie labels (cells2dt)")
    assert export._is_time_lapse()
    [saved, recipe] = labels.save(str(tmp_path / "saved.tif"), plugin="tessella")
    assert read_image(saved).axes == "TYX"
    assert recipe.endswith("saved.recipe.json")  # (its recipe beside it, 0fcb428)

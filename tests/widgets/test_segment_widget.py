"""The Segment dock widget: docking, layer list, runs, replacing results, cancel, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from napari.layers import Labels

from tessella._widgets import segment as segment_module
from tessella._widgets._segment_image import refuses_volumes
from tessella._widgets.segment import SegmentWidget, guess_layer_axes


def combo_items(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def choose_layer(widget, name: str) -> None:
    index = widget.layer_combo.findText(name)
    assert index >= 0, name
    widget.layer_combo.setCurrentIndex(index)


def own_labels(viewer, source: str) -> list:
    return [
        layer
        for layer in viewer.layers
        if isinstance(layer, Labels) and layer.metadata.get("tessella_source") == source
    ]


def test_widget_docks_from_manifest_and_lists_image_layers(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((8, 8)), name="a")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    assert isinstance(widget, SegmentWidget)
    assert combo_items(widget.layer_combo) == ["a"]

    viewer.add_labels(np.zeros((8, 8), np.uint8), name="not an image")
    viewer.add_image(np.zeros((8, 8)), name="b")
    assert combo_items(widget.layer_combo) == ["a", "b"]

    choose_layer(widget, "b")
    viewer.layers["a"].name = "renamed"
    assert combo_items(widget.layer_combo) == ["renamed", "b"]
    assert widget.layer_combo.currentText() == "b"  # a rename elsewhere keeps the choice

    viewer.layers.remove("b")
    assert combo_items(widget.layer_combo) == ["renamed"]
    assert widget.image_layer.name == "renamed"
    viewer.layers.remove("renamed")
    assert combo_items(widget.layer_combo) == []
    assert widget.image_layer is None

    # each model with the axes of what it segments: cells2dt's movies (it read "YX")
    models = {text.split()[0]: text for text in combo_items(widget.model_combo)}
    assert models["cells2dt"] == "cells2dt (temporal, TYX)"
    assert models["nuclei2d"] == "nuclei2d (embedding, YX)"
    assert models["em-mito3d"] == "em-mito3d (semantic, ZYX)"


def test_run_adds_labels_with_the_image_scale_and_recipe(
    segment_widget, segment_model_dir, nuclei_image, run_to_end
):
    viewer, widget = segment_widget
    viewer.add_image(nuclei_image, name="nuclei", scale=(0.5, 0.5), translate=(10, 20))
    choose_layer(widget, "nuclei")
    progress_values = []
    widget.progress_bar.valueChanged.connect(progress_values.append)

    run_to_end(widget)

    labels = [layer for layer in viewer.layers if isinstance(layer, Labels)]
    assert [layer.name for layer in labels] == ["nuclei labels (nuclei2d)"]
    result = labels[0]
    assert result.data.shape == nuclei_image.shape
    assert result.data.dtype.kind in "iu"
    np.testing.assert_allclose(result.scale, (0.5, 0.5))
    np.testing.assert_allclose(result.translate, (10, 20))
    recipe = result.metadata["tessella_recipe"]
    assert recipe["model"] == json.loads((segment_model_dir / "card.json").read_text())["name"]
    assert recipe["tile"] == widget.tile_spin.value()
    assert recipe["axes"] == "YX"
    assert result.metadata["tessella_source"] == "nuclei"
    assert progress_values and progress_values[-1] == widget.progress_bar.maximum() >= 1
    assert widget.run_button.isEnabled() and not widget.cancel_button.isEnabled()
    assert not widget.worker.is_running
    assert "objects" in widget.status_label.text()


def test_second_run_replaces_its_own_layer_and_leaves_the_users_alone(
    segment_widget, nuclei_image, run_to_end
):
    viewer, widget = segment_widget
    viewer.add_image(nuclei_image, name="nuclei")
    mine = np.zeros(nuclei_image.shape, np.int32)
    mine[10:50, 10:50] = 7
    # the user's layer has the very name the widget would give its own
    user_layer = viewer.add_labels(mine.copy(), name="nuclei labels (nuclei2d)")
    choose_layer(widget, "nuclei")

    run_to_end(widget)
    [ours] = own_labels(viewer, "nuclei")
    assert ours is not user_layer
    count, first_data = len(viewer.layers), ours.data

    widget.tile_spin.setValue(256)
    run_to_end(widget)

    assert len(viewer.layers) == count
    assert [layer.unique_id for layer in own_labels(viewer, "nuclei")] == [ours.unique_id]
    assert ours.data is not first_data
    assert ours.metadata["tessella_recipe"]["tile"] == 256
    np.testing.assert_array_equal(user_layer.data, mine)
    assert "tessella_recipe" not in user_layer.metadata


def test_run_again_after_deleting_the_result_adds_a_new_layer(
    segment_widget, nuclei_image, run_to_end
):
    viewer, widget = segment_widget
    viewer.add_image(nuclei_image, name="nuclei")
    choose_layer(widget, "nuclei")
    run_to_end(widget)
    viewer.layers.remove("nuclei labels (nuclei2d)")

    run_to_end(widget)

    assert [layer.name for layer in own_labels(viewer, "nuclei")] == ["nuclei labels (nuclei2d)"]


def test_cancel_mid_run_adds_nothing_and_stops_early(
    segment_widget, nuclei_image, qtbot, run_to_end
):
    viewer, widget = segment_widget
    rng = np.random.default_rng(0)
    big = rng.normal(20, 5, (3000, 3000)).astype(np.float32)
    yy, xx = np.ogrid[:3000, :3000]
    big[(yy % 60 - 30) ** 2 + (xx % 60 - 30) ** 2 < 150] += 150  # a lattice of nuclei-like discs
    viewer.add_image(big, name="big")
    choose_layer(widget, "big")
    widget.tile_spin.setValue(256)  # hundreds of tiles
    count = len(viewer.layers)

    with qtbot.waitSignal(widget.run_finished, timeout=120_000):
        widget.run_button.click()
        assert not widget.run_button.isEnabled() and widget.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: widget.progress_bar.value() >= 1, timeout=60_000)
        widget.cancel_button.click()

    assert len(viewer.layers) == count
    assert widget.worker.abort_requested
    assert 0 < widget.progress_bar.value() < widget.progress_bar.maximum()
    # the bar says where it stopped, not a count that looks still running (s31/t7)
    assert re.fullmatch(r"cancelled at \d+ of \d+ tiles", widget.progress_bar.text())
    assert "cancelled" in widget.status_label.text()
    assert widget.run_button.isEnabled() and not widget.cancel_button.isEnabled()
    # the engine's generator was closed, not left suspended until garbage collection
    import inspect

    from tessella.engine.memory import retaining

    assert inspect.getgeneratorstate(widget.worker._gen) == inspect.GEN_CLOSED
    assert not retaining()

    # closing the panel mid-run stops the run the same way: nothing is added afterwards
    with qtbot.waitSignal(widget.run_finished, timeout=120_000):
        widget.run_button.click()
        qtbot.waitUntil(lambda: widget.progress_bar.value() >= 1, timeout=60_000)
        viewer.window.remove_dock_widget(widget)
    assert widget.worker.abort_requested and len(viewer.layers) == count

    viewer.add_image(nuclei_image, name="nuclei")  # usable again
    choose_layer(widget, "nuclei")
    run_to_end(widget)
    assert len(own_labels(viewer, "nuclei")) == 1


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.full((128, 128), np.inf, np.float32), "infinite"),  # (constant: 0 objects)
        (np.where(np.eye(128) > 0, np.nan, 1.0).astype(np.float32), "NaN"),
        (np.random.default_rng(0).random((3, 96, 96)).astype(np.float32), "TYX"),
    ],
    ids=["infinite", "nan", "3d-stack-for-a-2d-model"],
)
def test_error_is_reported_and_the_widget_stays_usable(
    segment_widget, nuclei_image, monkeypatch, run_to_end, image, message
):
    viewer, widget = segment_widget
    errors = []
    monkeypatch.setattr(segment_module, "show_error", errors.append)
    viewer.add_image(image, name="bad")
    choose_layer(widget, "bad")
    if message == "TYX":  # axes ZYX the user chose (the panel shows TYX for nuclei2d)
        widget.axes_combo.setCurrentText("ZYX")
    count = len(viewer.layers)

    run_to_end(widget)

    assert len(errors) == 1
    # the engine's message names the layer, quoted: once (it was "on layer 'bad': bad ...")
    assert errors[0].startswith("Segment failed: 'bad'") and errors[0].count("bad") == 1
    assert message in errors[0]
    assert "\n" not in errors[0]
    assert len(viewer.layers) == count
    assert widget.run_button.isEnabled() and not widget.cancel_button.isEnabled()
    assert widget.progress_bar.text() == ""  # no "0 / 1 tiles" for a run that never tiled

    viewer.add_image(nuclei_image, name="nuclei")
    choose_layer(widget, "nuclei")
    run_to_end(widget)
    assert errors[1:] == []
    assert len(own_labels(viewer, "nuclei")) == 1


def test_axes_are_guessed_from_the_layer(segment_widget):
    viewer, widget = segment_widget
    rng = np.random.default_rng(0)
    cases = {
        "rgb": (viewer.add_image(rng.integers(0, 255, (64, 64, 3), np.uint8), rgb=True), "YXC"),
        "stack": (viewer.add_image(rng.random((5, 64, 64))), "ZYX"),
        "plain": (viewer.add_image(rng.random((64, 64))), "YX"),
        "movie": (viewer.add_image(rng.random((5, 64, 64)), metadata={"axes": "tyx"}), "TYX"),
    }
    for name, (layer, expected) in cases.items():
        layer.name = name
        assert guess_layer_axes(layer) == expected, name
        choose_layer(widget, name)
        # (a 2D model that refuses volumes, as nuclei2d: a stack's slices one by one)
        card = widget._cards[widget.model_combo.currentData()]
        shown = "TYX" if expected == "ZYX" and refuses_volumes(card) else expected
        assert widget.axes_combo.currentText() == shown, name


def test_rgb_image_gives_2d_labels_with_its_scale(segment_widget, nuclei_image, run_to_end):
    viewer, widget = segment_widget
    rgb = np.stack([nuclei_image] * 3, axis=-1)
    viewer.add_image(rgb, name="colour", rgb=True, scale=(2.0, 3.0))
    choose_layer(widget, "colour")
    assert widget.axes_combo.currentText() == "YXC"

    run_to_end(widget)

    [labels] = own_labels(viewer, "colour")
    assert labels.data.shape == nuclei_image.shape
    np.testing.assert_allclose(labels.scale, (2.0, 3.0))


def test_network_outputs_are_shown_on_request(segment_widget, nuclei_image, run_to_end):
    viewer, widget = segment_widget
    viewer.add_image(nuclei_image, name="nuclei", scale=(0.5, 0.5))
    choose_layer(widget, "nuclei")
    widget.outputs_checkbox.setChecked(True)

    run_to_end(widget)

    seed = viewer.layers["nuclei seed (nuclei2d)"]
    assert seed.data.shape == nuclei_image.shape
    assert seed.data.dtype.kind == "f"
    np.testing.assert_allclose(seed.scale, (0.5, 0.5))


def test_load_model_button_adds_a_model_by_its_card_or_package(
    segment_widget, segment_model_dir, tmp_path, monkeypatch
):
    viewer, widget = segment_widget
    from tessella._widgets import _segment_models  # where Load model… says what is wrong

    errors = []
    monkeypatch.setattr(_segment_models, "show_error", errors.append)
    chosen = {"file": str(Path(segment_model_dir) / "card.json")}
    monkeypatch.setattr(
        _segment_models.QFileDialog,
        "getOpenFileName",
        staticmethod(lambda *args, **kwargs: (chosen["file"], "")),
    )
    widget.model_combo.setCurrentIndex(-1)

    widget.load_model_button.click()
    assert widget.model_combo.currentData() == str(Path(segment_model_dir).resolve())
    count = widget.model_combo.count()

    (tmp_path / "card.json").write_text("{}")  # not a model's card
    chosen["file"] = str(tmp_path / "card.json")
    widget.load_model_button.click()
    assert widget.model_combo.count() == count
    assert widget.model_combo.currentData() == str(Path(segment_model_dir).resolve())
    assert len(errors) == 1 and "Cannot use" in errors[0]

    # a bioimage.io package exported by Tessella is unpacked into the cache and listed
    from tessella.engine.bioimageio import export_bioimageio

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    chosen["file"] = str(export_bioimageio(segment_model_dir, tmp_path / "model.zip"))
    widget.load_model_button.click()
    assert widget.model_combo.count() == count + 1
    assert str(tmp_path / "cache") in widget.model_combo.currentData()
    assert widget.model_combo.currentText().endswith(", bioimage.io package)")  # told apart


def test_runtime_error_in_the_engine_is_reported(
    segment_widget, nuclei_image, monkeypatch, run_to_end
):
    """superqt's worker swallows a RuntimeError (it takes it for a deleted worker): torch's
    out-of-memory errors are RuntimeErrors, so the widget must still hear of them."""
    from tessella.engine import pipeline
    from tessella.engine.progress import Progress

    def out_of_memory(image, **options):
        yield Progress("predict", 0, 4)
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(pipeline, "segment_steps", out_of_memory)
    errors = []
    monkeypatch.setattr(segment_module, "show_error", errors.append)
    viewer, widget = segment_widget
    viewer.add_image(nuclei_image, name="nuclei")
    choose_layer(widget, "nuclei")
    count = len(viewer.layers)

    run_to_end(widget)

    assert errors == [
        "Segment failed on layer 'nuclei': CUDA out of memory. Tried to allocate 2.00 GiB"
    ]
    assert len(viewer.layers) == count
    assert widget.run_button.isEnabled()


def test_run_again_keeps_a_result_the_user_edited(segment_widget, nuclei_image, run_to_end):
    viewer, widget = segment_widget
    viewer.add_image(nuclei_image, name="nuclei")
    choose_layer(widget, "nuclei")
    run_to_end(widget)
    [ours] = own_labels(viewer, "nuclei")
    ours.paint((20, 20), 999)  # the user corrects the result with the brush
    edited = ours.data.copy()

    run_to_end(widget)

    first, second = own_labels(viewer, "nuclei")
    assert first is ours and np.array_equal(ours.data, edited)
    assert second.name != ours.name and not (second.data == 999).any()

    # asked to, the widget replaces the edited layer it made
    widget.replace_edited_checkbox.setChecked(True)
    second.paint((20, 20), 998)
    assert (second.data == 998).any()
    layers_before = len(viewer.layers)
    run_to_end(widget)
    assert len(viewer.layers) == layers_before
    assert not (second.data == 998).any()  # replaced in place
    assert np.array_equal(ours.data, edited)


def test_default_tile_shrinks_when_free_memory_is_short(segment_widget, monkeypatch):
    from tessella.engine import device

    _viewer, widget = segment_widget
    card = widget._cards[widget.model_combo.currentData()]
    largest = int(card.defaults.get("tile", 1024))
    monkeypatch.setattr(device, "free_memory", lambda device="auto": 64 * 2**30)
    widget._on_model_changed(widget.model_combo.currentIndex())
    assert widget.tile_spin.value() == largest
    monkeypatch.setattr(device, "free_memory", lambda device="auto": 64 * 2**20)
    widget.device_combo.setCurrentText("cpu")  # choosing a device re-derives the tile
    widget._on_model_changed(widget.model_combo.currentIndex())
    assert 32 <= widget.tile_spin.value() < largest
    assert widget.tile_spin.value() % 32 == 0


def test_intensities_choice_reaches_the_network_and_the_recipe(
    segment_widget, segment_model_dir, nuclei_image, run_to_end
):
    """The Intensities row overrules the model's polarity rule for a run: Keep shows a
    dark-on-bright image to the network as it is, Invert flips it; the recipe says which."""
    from tessella.engine.pipeline import segment

    viewer, widget = segment_widget
    dark = (nuclei_image.max() - nuclei_image + nuclei_image.min()).astype(nuclei_image.dtype)
    viewer.add_image(dark, name="dark")
    choose_layer(widget, "dark")
    assert widget.invert_combo.currentData() is None  # as the model says, by default
    run_to_end(widget)
    [auto] = own_labels(viewer, "dark")
    assert "invert" not in auto.metadata["tessella_recipe"]
    automatic = auto.data.copy()

    for value in (False, True):
        widget.invert_combo.setCurrentIndex(widget.invert_combo.findData(value))
        run_to_end(widget)
        [layer] = own_labels(viewer, "dark")  # the widget's own result is replaced
        assert layer.metadata["tessella_recipe"]["invert"] is value
        expected = segment(dark, str(segment_model_dir), "YX", device="cpu", invert=value)
        np.testing.assert_array_equal(layer.data, expected)
        if value:  # this image has a bright background: the card's rule inverts it too
            reference = json.loads((segment_model_dir / "card.json").read_text())
            if reference["normalization"].get("invert_bright_background"):
                np.testing.assert_array_equal(layer.data, automatic)
    assert widget.invert_combo.isEnabled()


def test_a_reopened_panel_replaces_the_results_of_the_closed_one(
    segment_widget, nuclei_image, run_to_end, segment_model_dir
):
    from napari.layers import Layer

    viewer, widget = segment_widget
    viewer.add_image(nuclei_image[:256, :256], name="nuclei")
    choose_layer(widget, "nuclei")
    run_to_end(widget)
    [ours] = own_labels(viewer, "nuclei")
    copy = Layer.create(*ours.as_layer_data_tuple())  # napari's "Duplicate Layer"
    copy.name = "nuclei labels copy"
    viewer.add_layer(copy)
    copied = copy.data.copy()

    def reopen(widget):
        viewer.window.remove_dock_widget(widget)  # what the panel's "x" does
        _dock, again = viewer.window.add_plugin_dock_widget("tessella", "Segment")
        assert again is not widget and again.add_model(segment_model_dir)
        choose_layer(again, "nuclei")
        return again

    widget = reopen(widget)
    first_data = ours.data
    widget.tile_spin.setValue(192)
    run_to_end(widget)

    assert [layer.name for layer in viewer.layers] == [
        "nuclei",
        "nuclei labels (nuclei2d)",
        copy.name,
    ]
    assert ours.data is not first_data and ours.metadata["tessella_recipe"]["tile"] == 192
    np.testing.assert_array_equal(copy.data, copied)  # a copy is the user's

    # edits are known to any panel: an edited result is kept, a new one added
    ours.paint((20, 20), 999)
    widget = reopen(widget)
    run_to_end(widget)
    names = [layer.name for layer in viewer.layers]
    assert names == [
        "nuclei",
        "nuclei labels (nuclei2d)",
        copy.name,
        "nuclei labels (nuclei2d) [1]",
    ]
    assert (ours.data == 999).any()


def test_segment_tune_and_correct_fit_a_small_screen_and_scroll(
    segment_widget, nuclei_image, run_to_end
):
    from qtpy.QtWidgets import QScrollArea

    viewer, segment = segment_widget
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    viewer.window.add_plugin_dock_widget("tessella", "Correct")
    viewer.add_image(nuclei_image[:256, :256], name="nuclei")
    choose_layer(segment, "nuclei")
    run_to_end(segment)
    assert tune.controls  # Tune shows the result's parameters: at its tallest
    window = viewer.window._qt_window

    window.resize(1366, 768)

    assert window.minimumSizeHint().height() <= 768
    for panel in (segment, tune):
        scroll = panel.findChild(QScrollArea)
        # the options scroll; the status line stays below them (tests/widgets/test_dock_layout.py)
        assert scroll is not None and scroll.widget().isAncestorOf(panel.layer_combo)
        assert not scroll.isAncestorOf(panel.status_label)
        assert panel.minimumSizeHint().height() <= 200  # a few rows; the rest scrolls


def test_another_model_adds_its_own_layer_and_a_renamed_result_is_kept(
    segment_widget, nuclei_image, run_to_end, tiny_patches_dir
):
    from tessella._widgets import _results
    from tessella.engine.registry import read_card

    viewer, widget = segment_widget
    viewer.add_image(nuclei_image[:128, :128], name="nuclei")
    choose_layer(widget, "nuclei")
    first_model = widget.model_combo.currentIndex()
    run_to_end(widget)
    first = viewer.layers["nuclei labels (nuclei2d)"]
    first_data = first.data.copy()
    assert widget.status_label.text().endswith("added 'nuclei labels (nuclei2d)'")

    # another model on the same image: a new layer named after it, beside the first
    assert widget.add_model(tiny_patches_dir)
    other = read_card(tiny_patches_dir).name
    run_to_end(widget)
    second = viewer.layers[f"nuclei labels ({other})"]
    assert second is not first
    assert second.metadata["tessella_recipe"]["model"] == other
    np.testing.assert_array_equal(first.data, first_data)
    assert first.metadata["tessella_recipe"]["model"] != other
    assert widget.status_label.text().endswith(  # (the older result hidden: s33/t12 #8)
        f"added 'nuclei labels ({other})'; hid 'nuclei labels (nuclei2d)' (an older result "
        "of 'nuclei', kept: tick its eye to compare)"
    )
    # its companion layers follow it, the first result keeps its own (none here)
    assert _results.companion_layer(viewer, first, "overlaps") is None
    assert _results.get(first).model.card.name != other
    assert _results.get(second).model.card.name == other

    # the same model again replaces its own layer only (another tile than the first run's,
    # so the recipe shows the new run; not the smallest tile, whose tiny cores make
    # thousands of network calls on this image)
    count = len(viewer.layers)
    assert second.metadata["tessella_recipe"]["tile"] != 256
    widget.tile_spin.setValue(256)
    run_to_end(widget)
    assert len(viewer.layers) == count
    assert second.metadata["tessella_recipe"]["tile"] == 256
    assert widget.status_label.text().endswith(f"replaced 'nuclei labels ({other})'")
    np.testing.assert_array_equal(first.data, first_data)

    # a result the user renamed is theirs: the first model's next run adds a layer
    first.name = "nuclei2d result"
    widget.model_combo.setCurrentIndex(first_model)
    run_to_end(widget)
    assert len(viewer.layers) == count + 1
    third = viewer.layers["nuclei labels (nuclei2d)"]
    assert third is not first and widget.status_label.text().endswith(
        f"added 'nuclei labels (nuclei2d)'; hid 'nuclei labels ({other})' (an older result "
        "of 'nuclei', kept: tick its eye to compare)"
    )
    np.testing.assert_array_equal(first.data, first_data)
    # ... which the run after replaces
    run_to_end(widget)
    assert len(viewer.layers) == count + 1
    assert widget.status_label.text().endswith("replaced 'nuclei labels (nuclei2d)'")


def test_the_smallest_tile_offered_leaves_a_core_of_twice_the_halo():
    """A tile steps by its core (tile - 3 x halo): the panel's smallest tile left nuclei2d a
    16-px core (112-px tiles), thousands of tiles for a 1024² image. Every bundled model's
    smallest tile now keeps a core of twice its halo, fits its network's size multiple and
    is no larger than the card's own tile."""
    from tessella._widgets.segment import _smallest_tile
    from tessella.engine.registry import list_models

    cards = [card for card, _directory, origin in list_models() if origin == "bundled"]
    assert len(cards) >= 6
    for card in cards:
        halo = int(card.defaults.get("halo", 32))
        levels = len(card.raw["architecture"]["args"]["features"])
        smallest = _smallest_tile(card)
        assert smallest - 3 * halo >= 2 * halo, card.name
        assert smallest % 2 ** (levels - 1) == 0, card.name
        assert smallest <= int(card.defaults.get("tile", 1024)), card.name


def test_result_names_say_the_model_whichever_ran_first_and_the_axes_where_taken(
    segment_widget, nuclei_image, run_to_end, tiny_patches_dir
):
    """A user test: the first result was "<image> labels" whatever model made it and only a
    second model's said which; every result now names its model, the same one on other axes
    (a stack's planes as channels, then as frames) its axes too."""
    from tessella.engine.registry import read_card

    viewer, widget = segment_widget
    first_model = widget.model_combo.currentIndex()
    assert widget.add_model(tiny_patches_dir)  # another model first
    other = read_card(tiny_patches_dir).name
    viewer.add_image(nuclei_image[:128, :128], name="crop")
    choose_layer(widget, "crop")
    run_to_end(widget)
    widget.model_combo.setCurrentIndex(first_model)
    run_to_end(widget)
    assert [layer.name for layer in own_labels(viewer, "crop")] == [
        f"crop labels ({other})",
        "crop labels (nuclei2d)",
    ]

    stack = np.stack([nuclei_image[:96, :96], nuclei_image[96:192, :96], nuclei_image[:96, 96:192]])
    viewer.add_image(stack, name="stack")
    choose_layer(widget, "stack")
    widget.axes_combo.setCurrentText("CYX")
    run_to_end(widget)
    widget.axes_combo.setCurrentText("TYX")
    run_to_end(widget)
    assert [layer.name for layer in own_labels(viewer, "stack")] == [
        "stack labels (nuclei2d)",
        "stack labels (nuclei2d, TYX)",
    ]
    assert widget.status_label.text().endswith(
        "added 'stack labels (nuclei2d, TYX)'; hid 'stack labels (nuclei2d)' (an older result "
        "of 'stack', kept: tick its eye to compare)"
    )

"""Segment's *Parameters*: which post-processing parameters a Run uses, in memory and
blockwise. A user tuned a crop of a big slide in Tune and wanted to segment the whole slide
blockwise with those values: the panel's blockwise Run always used the model's defaults, and
the in-memory Run reused tuned values only from the same image's previous result (Tune's
message sent blockwise users to the command line). Now the combo box offers "As tuned on this
image" (the default, as before), the model's defaults, "As 'NAME'" for each labels layer made
with the chosen model, and a recipe file; the result's recipe records what was used."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

from tessella._widgets import _results
from tessella.engine.methods import embedding
from tessella.engine.params import make_params, params_to_dict
from tests.widgets.helpers import choose_model, said
from tests.widgets.test_segment_blockwise import same_partition
from tests.widgets.test_tune_widget import change


def entries(widget) -> list[str]:
    return [widget.params_combo.itemText(i) for i in range(widget.params_combo.count())]


TUNED, DEFAULTS, FROM_FILE = "As tuned on this image", "The model's defaults", "From recipe file…"


def choose(widget, text: str) -> None:
    """Choose the entry ``text`` of Parameters, as a click does."""
    index = widget.params_combo.findText(text)
    assert index >= 0, text
    widget.params_combo.setCurrentIndex(index)


def chosen(widget) -> str:
    return widget.params_combo.currentText()


def recipe_of(widget, **params) -> dict:
    """A recipe as Segment writes one for the chosen model (its name and weights)."""
    card = widget._cards[widget.model_combo.currentData()]
    values = params_to_dict(make_params(embedding.Params, **params))
    return {
        "model": card.name,
        "model_sha256": card.sha256,
        "method": card.method,
        "params": values,
    }


def default_params(widget):
    card = widget._cards[widget.model_combo.currentData()]
    return make_params(embedding.Params, **card.defaults.get("params", {}))


def n_objects(labels) -> int:
    return int(np.unique(labels[labels > 0]).size)


@pytest.fixture
def errors(monkeypatch) -> list[str]:
    """The error notifications of Segment's Parameters."""
    from tessella._widgets import _segment_params

    return said(monkeypatch, _segment_params)


def test_the_entries_follow_the_labels_layers_and_the_model(segment_widget):
    """A labels layer made with the chosen model (same sha256) is offered, others are not;
    its entry follows a rename and goes with the layer, or when another model is chosen (the
    status line then says the choice went back to "As tuned on this image")."""
    viewer, widget = segment_widget
    choose_model(widget, "nuclei2d")
    assert entries(widget) == [
        "As tuned on this image",
        "The model's defaults",
        "From recipe file…",
    ]
    assert chosen(widget) == TUNED  # today's behaviour by default

    crop = viewer.add_labels(
        np.zeros((16, 16), np.uint32),
        name="crop labels",
        metadata={"tessella_recipe": recipe_of(widget, min_size=200)},
    )
    other = recipe_of(widget) | {"model": "em-mito2d", "model_sha256": "0" * 64}
    viewer.add_labels(
        np.zeros((16, 16), np.uint32), name="mito", metadata={"tessella_recipe": other}
    )
    viewer.add_labels(np.zeros((16, 16), np.uint32), name="painted")  # no recipe
    assert entries(widget)[2:] == ["As 'crop labels'", "From recipe file…"]

    choose(widget, "As 'crop labels'")
    crop.name = "tuned crop"
    assert entries(widget)[2] == "As 'tuned crop'"
    assert chosen(widget) == "As 'tuned crop'"  # still the choice

    choose_model(widget, "em-mito2d")  # another model: the crop's values are not its
    assert "As 'tuned crop'" not in entries(widget)
    assert chosen(widget) == TUNED
    assert widget.status_label.text() == (
        "Parameters: 'tuned crop' is no longer offered (it was made with another model than "
        "the one chosen); back to 'As tuned on this image'."
    )
    choose_model(widget, "nuclei2d")
    assert "As 'tuned crop'" in entries(widget)

    choose(widget, "As 'tuned crop'")
    viewer.layers.remove(crop)
    assert entries(widget) == [
        "As tuned on this image",
        "The model's defaults",
        "From recipe file…",
    ]
    assert chosen(widget) == TUNED
    assert "'tuned crop' is no longer offered (its layer was removed)" in widget.status_label.text()


def test_blockwise_with_a_tuned_crop_s_parameters_matches_in_memory(
    segment_widget, nuclei_image, tmp_path, run_to_end, qtbot
):
    """The whole-image scenario: segment a crop in memory, tune it in Tune, then segment
    the image blockwise (tiny blocks) "As 'crop labels (nuclei2d)'": the zarr's recipe holds the
    crop's tuned values and its labels are those of an in-memory run with them, not the
    defaults'."""
    viewer, widget = segment_widget
    choose_model(widget, "nuclei2d")
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    slide = nuclei_image[:256, :256]
    viewer.add_image(slide[64:192, 64:192], name="crop")
    run_to_end(widget)
    crop = viewer.layers["crop labels (nuclei2d)"]
    change(qtbot, tune, min_size=300)  # drops the smaller nuclei
    tuned = crop.metadata["tessella_recipe"]["params"]
    assert tuned["min_size"] == 300

    viewer.add_image(slide, name="slide")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("slide"))
    choose(widget, "As 'crop labels (nuclei2d)'")
    run_to_end(widget)  # in memory
    in_memory = viewer.layers["slide labels (nuclei2d)"]
    assert in_memory.metadata["tessella_recipe"]["params"] == tuned
    assert " s with the parameters of 'crop labels (nuclei2d)', added 'slide labels" in (
        widget.status_label.text()
    )
    reference = np.asarray(in_memory.data).copy()
    result = _results.get(in_memory)  # the model's own values on the same network output:
    default_labels = embedding.postprocess(result.predictions[0], default_params(widget))
    in_memory.name = "in memory"  # kept: the blockwise result gets its own layer

    widget.blockwise_checkbox.setChecked(True)
    out = tmp_path / "slide labels.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(128)
    run_to_end(widget)

    layer = viewer.layers["slide labels (nuclei2d)"]
    recipe = layer.metadata["tessella_recipe"]
    assert "blockwise" in recipe and recipe["params"] == tuned
    assert zarr.open(str(out), mode="r").attrs["tessella"]["params"] == tuned  # kept on disk
    assert "4 blocks) with the parameters of 'crop labels (nuclei2d)', written to" in (
        widget.status_label.text()
    )
    assert same_partition(np.asarray(layer.data), reference)
    assert n_objects(reference) < n_objects(default_labels)  # (not the defaults' objects)


def test_a_recipe_file_of_another_model_is_refused_and_the_panel_stays_usable(
    segment_widget, nuclei_image, tmp_path, run_to_end, errors, monkeypatch
):
    """ "From recipe file…" opens a file dialog; a recipe made with another model is refused
    naming the file and both models, one with a value out of range as Tune's Load recipe
    refuses it; the choice stays as it was and Run works; a good one is listed, chosen, and
    its values make the result (its recipe records them)."""
    viewer, widget = segment_widget
    choose_model(widget, "nuclei2d")
    card = widget._cards[widget.model_combo.currentData()]
    choose(widget, DEFAULTS)
    mito = tmp_path / "mito.recipe.json"
    mito.write_text(
        json.dumps({"model": "em-mito2d", "model_sha256": "e61e" * 16, "method": "semantic",
                    "params": {"threshold": 0.4}})
    )  # fmt: skip
    picked = [str(mito)]
    monkeypatch.setattr(
        "tessella._widgets._segment_params.QFileDialog.getOpenFileName",
        lambda *a, **k: (picked.pop(), ""),
    )
    choose(widget, FROM_FILE)
    why = (
        f"{mito}: made with model 'em-mito2d' (sha256 e61ee61ee61e…), not with the chosen "
        f"model 'nuclei2d' (sha256 {card.sha256[:12]}…); choose that model first, or another "
        "recipe"
    )
    assert errors == [f"Segment: cannot use recipe {why}"]
    assert widget.status_label.text() == f"Recipe not used: {why}"
    assert chosen(widget) == DEFAULTS  # as it was
    assert "From 'mito.recipe.json'" not in entries(widget)

    wild = tmp_path / "wild.recipe.json"
    wild.write_text(json.dumps(recipe_of(widget) | {"params": {"seed_thresh": 1.5}}))
    with pytest.raises(ValueError) as refused:  # Tune's Load recipe says the same
        make_params(embedding.Params, seed_thresh=1.5)
    assert not widget.use_recipe_file(wild)
    assert errors[-1] == f"Segment: cannot use recipe {wild}: {refused.value}"
    assert chosen(widget) == DEFAULTS

    good = tmp_path / "good.recipe.json"
    good.write_text(json.dumps(recipe_of(widget, seed_thresh=0.95, min_size=150)))
    picked.append(str(good))
    choose(widget, FROM_FILE)
    assert chosen(widget) == "From 'good.recipe.json'"
    viewer.add_image(nuclei_image[:128, :128], name="nuclei")
    run_to_end(widget)
    recipe = viewer.layers["nuclei labels (nuclei2d)"].metadata["tessella_recipe"]
    assert (recipe["params"]["seed_thresh"], recipe["params"]["min_size"]) == (0.95, 150)
    assert " s with the parameters of good.recipe.json, added 'nuclei labels (nuclei2d)'" in (
        widget.status_label.text()
    )

    picked.append("")  # the dialog left: the choice stays
    choose(widget, FROM_FILE)
    assert chosen(widget) == "From 'good.recipe.json'"


def test_by_default_a_run_keeps_the_tuned_values_and_the_defaults_can_be_chosen(
    segment_widget, nuclei_image, tmp_path, run_to_end, qtbot
):
    """ "As tuned on this image" is today's behaviour (a new run keeps the values tuned on the
    image's result), now also blockwise; "The model's defaults" goes back to the model's."""
    viewer, widget = segment_widget
    choose_model(widget, "nuclei2d")
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    viewer.add_image(nuclei_image[:128, :128], name="nuclei")
    run_to_end(widget)
    change(qtbot, tune, min_size=150)
    layer = viewer.layers["nuclei labels (nuclei2d)"]

    assert chosen(widget) == TUNED
    run_to_end(widget)
    assert layer.metadata["tessella_recipe"]["params"]["min_size"] == 150
    assert " s with the parameters tuned before, replaced 'nuclei labels (nuclei2d)'" in (
        widget.status_label.text()
    )

    widget.blockwise_checkbox.setChecked(True)  # blockwise, as tuned on this image
    widget.blockwise_edit.setText(str(tmp_path / "nuclei.zarr"))
    widget.block_spin.setValue(128)
    run_to_end(widget)
    blockwise = viewer.layers["nuclei labels (nuclei2d) [1]"]
    assert blockwise.metadata["tessella_recipe"]["params"]["min_size"] == 150
    assert "with the parameters tuned before, written to" in widget.status_label.text()

    widget.blockwise_checkbox.setChecked(False)
    choose(widget, DEFAULTS)
    run_to_end(widget)
    defaults = params_to_dict(default_params(widget))
    assert layer.metadata["tessella_recipe"]["params"] == defaults
    assert "tuned before" not in widget.status_label.text()
    assert " s with nuclei2d's defaults, replaced 'nuclei labels (nuclei2d)'" in (
        widget.status_label.text()
    )


def test_tune_says_a_blockwise_result_is_tuned_through_segment_s_parameters(docked_tune):
    """Tune's line for a blockwise result (which it cannot update) gives the panel's route
    (tune a crop in memory, then Segment blockwise "As 'CROP labels'" or "From recipe
    file…") beside the command line's; it said the panel's blockwise Run used the model's
    own parameters."""
    viewer, tune = docked_tune
    recipe = {"model": "nuclei2d", "params": {"min_size": 300}, "blockwise": {"block": [128]}}
    viewer.add_labels(
        np.zeros((16, 16), np.uint32),
        name="slide labels (nuclei2d)",
        metadata={"tessella_recipe": recipe},
    )
    text = tune.status_label.text()
    assert text.startswith("'slide labels (nuclei2d)' was segmented blockwise")
    assert (
        "then tick 'Blockwise into zarr' again and choose those labels (As 'CROP labels') or a "
        "recipe you saved (From recipe file…) under Segment's Parameters, and Run" in text
    )
    assert "--blockwise --recipe RECIPE.json" in text and "model's own" not in text

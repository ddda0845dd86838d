"""Tune's Save and Load recipe with files that cannot be written or read, and a recipe whose
values lie off the controls' grid (acceptance pass 2, session 24): a failed save said
"[Errno 17] File exists" and left "Saved recipe to ..." of the save before on the status
line; a missing folder was made; a file that is not JSON gave the parser's words; 0.625
showed as "0.62" (a spin box even rounded the value in use)."""

from __future__ import annotations

import json

import pytest

from tests.widgets.helpers import proposed_save_names, said
from tests.widgets.test_tune_widget import place


def test_a_failed_save_says_why_on_the_status_line_and_makes_no_folder(
    docked_tune, result_2d, tmp_path
):
    viewer, widget = docked_tune
    place(viewer, result_2d)
    good = widget.save_recipe(tmp_path / "a.recipe.json")
    assert good is not None and widget.status_label.text() == f"Saved recipe to {good}"

    (tmp_path / "afile").write_text("x")
    assert widget.save_recipe(tmp_path / "afile" / "x.json") is None
    assert widget.status_label.text() == (
        f"Recipe not saved: cannot write {tmp_path / 'afile' / 'x.json'}: "
        f"'{tmp_path / 'afile'}' is a file, not a folder"
    )

    missing = tmp_path / "no_such" / "deeper" / "x.json"
    assert widget.save_recipe(missing) is None
    assert f"folder '{tmp_path / 'no_such'}' does not exist" in widget.status_label.text()
    assert not (tmp_path / "no_such").exists()


def test_a_file_that_is_not_json_is_said_so(docked_tune, result_2d, tmp_path):
    viewer, widget = docked_tune
    place(viewer, result_2d)
    bad = tmp_path / "notjson.recipe.json"
    bad.write_text("model: nuclei2d\n")
    assert not widget.load_recipe(bad)
    assert widget.status_label.text() == (
        f"Recipe not loaded: {bad}: not JSON (line 1, column 1: Expecting value)"
    )


@pytest.mark.parametrize("name", ["fg_thresh", "seed_thresh"])
def test_a_value_off_the_controls_grid_is_shown_as_it_is_used(
    docked_tune, result_2d, tmp_path, qtbot, name
):
    viewer, widget = docked_tune
    place(viewer, result_2d)
    recipe = tmp_path / "fine.recipe.json"
    recipe.write_text(json.dumps({"params": {name: 0.625}}))
    assert widget.load_recipe(recipe)
    qtbot.waitUntil(lambda: not widget.busy, timeout=20_000)
    control = widget.controls[name]
    assert getattr(widget.params, name) == 0.625
    assert control.value() == pytest.approx(0.625)
    assert "0.625" in control._label.text()


def test_save_proposes_one_file_name_after_the_layer(docked_tune, result_2d, monkeypatch):
    """Save recipe's dialog proposes a file named after the labels layer as Export names
    its files: a layer "../cells/v2" proposed a path into another folder."""
    from tessella._widgets import _tune_recipes

    viewer, widget = docked_tune
    layer = place(viewer, result_2d)
    proposed = proposed_save_names(monkeypatch, _tune_recipes)
    for name in ("../cells/v2", "CON", "nuclei labels"):  # proposed_name: Export's rule
        layer.name = name
        widget.save_button.click()
    assert proposed == [
        "cells_v2.recipe.json",
        "CON_.recipe.json",
        "nuclei_labels.recipe.json",
    ]


def test_a_recipe_of_other_weights_of_the_model_is_loaded_with_a_warning(
    docked_tune, result_2d, tmp_path, monkeypatch, qtbot
):
    """A recipe of the same model name made with other weights (a fine-tune saved under the
    name) loaded without a word, where `segment --recipe` warns and Segment's Parameters
    refuse it (review3)."""
    from tessella._widgets import _tune_recipes

    viewer, widget = docked_tune
    place(viewer, result_2d)
    warned = said(monkeypatch, _tune_recipes, "show_warning")
    card = widget.result.model.card
    recipe = tmp_path / "tuned.recipe.json"
    recipe.write_text(
        json.dumps({"model": card.name, "model_sha256": "e61e" * 16, "params": {"min_size": 40}})
    )
    assert widget.load_recipe(recipe)
    qtbot.waitUntil(lambda: not widget.busy, timeout=20_000)
    assert widget.params.min_size == 40
    assert warned == [
        f"Recipe {recipe} was made with other weights of {card.name!r} (sha256 e61ee61ee61e…, "
        f"not {card.sha256[:12]}…)"
    ]

"""Segment's *Parameters* "From recipe file…" took the recipe of labels edited by hand
(``labels_edited``, as Export writes it) without a word (t3 finding 3): a Run gives the labels
as they were before the edits. It now says so in a notification and the status line."""

from __future__ import annotations

from tests.test_recipe_labels_edited import edited_recipe, said
from tests.widgets.helpers import choose_model
from tests.widgets.test_segment_parameters import FROM_FILE, choose, recipe_of


def test_the_segment_panel_says_so_of_a_recipe_file_of_edited_labels(
    segment_widget, tmp_path, monkeypatch
):
    viewer, widget = segment_widget
    choose_model(widget, "nuclei2d")
    edited = edited_recipe(tmp_path, recipe_of(widget, seed_thresh=0.95))
    shown: list[str] = []
    monkeypatch.setattr(
        "tessella._widgets._segment_params.show_warning", shown.append, raising=False
    )
    monkeypatch.setattr(
        "tessella._widgets._segment_params.QFileDialog.getOpenFileName",
        lambda *a, **k: (str(edited), ""),
    )
    choose(widget, FROM_FILE)
    assert shown == [f"Segment: recipe {said(edited)}"]
    assert widget.status_label.text() == (
        f"Parameters from {edited}: Run uses them. The recipe {said(edited).split(': ', 1)[1]}."
    )

"""Correct's "Selected" box takes ranges and lists of label IDs ("3-5, 9"), refuses bad text
in one line naming the entry, and IDs not in the layer naming them (as ranges when many)."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets.correct import CorrectWidget, parse_ids
from tessella.engine import edit


def test_parse_ids_takes_ranges_and_lists():
    assert parse_ids("3-5, 9") == [3, 4, 5, 9]
    assert parse_ids(" 12 3 - 5,7") == [12, 3, 4, 5, 7]
    assert parse_ids("4, 3-5, 4") == [4, 3, 5]  # each ID once, in the order given
    assert parse_ids("6-6") == [6]
    assert parse_ids("") == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("5-3", "'5-3' is not a range: 5 is larger than 3 (write 3-5)"),
        ("3, x", "'x' is not a label ID"),
        ("0-4", "'0-4' is not a range of label IDs"),
        ("2-", "'2-' is not a range of label IDs"),
        ("1-2000000", "'1-2000000': too many label IDs (at most 100,000 in all)"),
    ],
)
def test_parse_ids_refuses_bad_text_naming_it(text, says):
    with pytest.raises(ValueError) as raised:
        parse_ids(text)
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)


def test_id_words_shortens_runs():
    from tessella.engine._edit_changes import id_words

    assert id_words([9, 5, 3, 4]) == "3-5, 9"
    assert id_words([1, 2]) == "1, 2"
    assert id_words(range(100, 100_000)) == "100-99999"
    assert id_words(list(range(1, 40, 2)), most=3) == "1, 3, 5 and 17 more IDs"


@pytest.fixture
def correct(make_napari_viewer, nuclei_sample):
    viewer = make_napari_viewer()
    layer = viewer.add_labels(nuclei_sample[1].copy(), name="gt")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert isinstance(widget, CorrectWidget) and widget.labels_layer is layer
    return viewer, widget, layer


def test_delete_and_merge_take_a_range_in_the_viewer(correct):
    _viewer, widget, layer = correct
    before = layer.data.copy()
    present = set(np.unique(before).tolist())
    assert {3, 4, 5, 9} <= present

    widget.selection_edit.setText("3-5, 9")
    assert widget.delete()
    expected = edit.delete(before, [3, 4, 5, 9])
    want = before.copy()
    expected.apply(want)
    np.testing.assert_array_equal(layer.data, want)
    assert not np.isin(layer.data, [3, 4, 5, 9]).any()
    assert widget.status_label.text().startswith("delete 3, 4, 5, 9 on 'gt'")

    widget.undo_button.click()
    np.testing.assert_array_equal(layer.data, before)
    widget.selection_edit.setText("10 - 12")
    assert widget.merge()
    assert not np.isin(layer.data, [11, 12]).any()
    assert (layer.data == 10).sum() >= sum((before == i).sum() for i in (10, 11, 12))
    assert widget.selection_edit.text() == "10"


def test_bad_text_and_missing_ids_are_refused_and_change_nothing(correct):
    _viewer, widget, layer = correct
    before = layer.data.copy()
    top = int(before.max())

    widget.selection_edit.setText("5-3")
    assert not widget.merge()
    assert (
        widget.status_label.text() == "Merge: '5-3' is not a range: 5 is larger than 3 (write 3-5)"
    )
    widget.selection_edit.setText("3, x")
    assert not widget.delete()
    assert widget.status_label.text().startswith("Delete: 'x' is not a label ID")

    # IDs not in the layer: refused as a single missing ID is, the missing ones named as ranges
    widget.selection_edit.setText(f"3-5, {top + 1}-{top + 500}, {top + 1000}")
    assert not widget.delete()
    assert widget.status_label.text() == (
        f"Delete on layer 'gt': no object with label {top + 1}-{top + 500}, {top + 1000}"
    )
    np.testing.assert_array_equal(layer.data, before)

    widget.selection_edit.setText("3-4")  # still usable
    assert widget.merge()
    assert not (layer.data == 4).any()

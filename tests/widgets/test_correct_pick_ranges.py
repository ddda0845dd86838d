"""Correct's Pick after a range keeps every ID (review A, findings 1 and 10): Pick wrote the
selection back as a flat list, and a QLineEdit keeps 32,767 characters, so "20000-29999" and
one click left 5,000-odd IDs in the box, without a word; a selection that did not parse was
replaced by the clicked ID. The box now gets ranges back as ranges, in the order given, and
a typo stays, named in the status line. parse_ids reads en and em dashes as range dashes and
refuses '²' in its own words."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tessella._widgets.correct import MAX_SELECTED, CorrectWidget, ids_text, parse_ids


@pytest.fixture
def correct(make_napari_viewer, nuclei_sample):
    """A viewer with the real nuclei ground truth and the docked Correct widget, picking."""
    viewer = make_napari_viewer()
    layer = viewer.add_labels(nuclei_sample[1].copy(), name="nuclei ground truth")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert isinstance(widget, CorrectWidget) and widget.labels_layer is layer
    widget.pick_button.setChecked(True)
    return viewer, widget, layer


def click_on(layer, label: int) -> None:
    """A click on the object ``label``, through the layer's mouse callbacks (Pick's)."""
    rows, cols = np.nonzero(layer.data == label)
    click = SimpleNamespace(
        type="mouse_press",
        position=(float(rows[0]), float(cols[0])),
        view_direction=None,
        dims_displayed=[0, 1],
    )
    for callback in list(layer.mouse_drag_callbacks):
        callback(layer, click)


def test_pick_after_a_range_keeps_every_id_in_order(correct):
    _viewer, widget, layer = correct
    ids = [int(i) for i in np.unique(layer.data) if i]
    first, second = ids[3], ids[7]
    widget.selection_edit.setText("20000-29999")  # 10,000 IDs: 69,999 characters flat
    click_on(layer, first)
    assert widget.selected_ids() == [*range(20_000, 30_000), first]
    assert widget.selection_edit.text() == f"20000-29999, {first}"
    click_on(layer, second)
    click_on(layer, first)  # picked again: unselected
    assert widget.selected_ids() == [*range(20_000, 30_000), second]

    widget.selection_edit.setText(f"1-{first + 5000}")  # the clicked label inside a range
    click_on(layer, first)
    assert widget.selected_ids() == [i for i in range(1, first + 5001) if i != first]
    assert widget.selection_edit.text() == f"1-{first - 1}, {first + 1}-{first + 5000}"


def test_the_selection_box_keeps_a_long_list(correct):
    _viewer, widget, layer = correct
    scattered = list(range(1, 40_000, 2))  # 20,000 IDs with no run: 117,779 characters
    widget.set_selection(scattered)
    assert widget.selected_ids() == scattered
    click_on(layer, 2)  # (2 is an object of the ground truth)
    assert widget.selected_ids() == [*scattered, 2]


def test_the_selection_keeps_the_order_given(correct):
    """Merge on a movie keeps the first selected ID: the box keeps it first."""
    _viewer, widget, layer = correct
    ids = [int(i) for i in np.unique(layer.data) if i]
    assert ids[4:7] == [ids[4], ids[4] + 1, ids[4] + 2]
    widget.set_selection([ids[9], *ids[4:7], ids[1]])
    assert widget.selection_edit.text() == f"{ids[9]}, {ids[4]}-{ids[6]}, {ids[1]}"
    click_on(layer, ids[2])
    assert widget.selected_ids() == [ids[9], *ids[4:7], ids[1], ids[2]]


def test_pick_on_a_typo_leaves_it_and_says_so(correct):
    _viewer, widget, layer = correct
    label = int(np.unique(layer.data)[5])
    widget.selection_edit.setText("4, 9-3")
    click_on(layer, label)
    assert widget.selection_edit.text() == "4, 9-3"  # not replaced by the clicked ID
    status = widget.status_label.text()
    assert status == (
        "Pick: '9-3' is not a range: 9 is larger than 3 (write 3-9); the selection is left "
        "as it is: correct it, then click again"
    )
    widget.selection_edit.setText("4, 3-9")  # corrected: the click unselects 5
    click_on(layer, label)
    assert label == 5 and widget.selected_ids() == [4, 3, 6, 7, 8, 9]
    assert widget.selection_edit.text() == "4, 3, 6-9"


def test_pick_adds_no_id_past_the_most_a_selection_names(correct):
    _viewer, widget, layer = correct
    label = int(np.unique(layer.data)[5])
    text = f"1000001-{1_000_000 + MAX_SELECTED}"
    widget.selection_edit.setText(text)
    click_on(layer, label)
    assert widget.selection_edit.text() == text
    assert widget.status_label.text() == (
        f"Pick: label {label} not added: at most {MAX_SELECTED:,} label IDs can be selected"
    )


def test_ids_text_is_what_parse_ids_reads_back():
    for ids in ([7, 3, 4, 5, 6, 9], [1, 2], [5, 4, 3], [*range(1, 10_001), 12_345], []):
        assert parse_ids(ids_text(ids)) == ids
    assert ids_text([7, 3, 4, 5, 6, 9]) == "7, 3-6, 9"
    assert ids_text([1, 2, 4]) == "1, 2, 4"


@pytest.mark.parametrize("text", ["3–5", "3 — 5", "3−5", "3 - 5"])
def test_parse_ids_reads_en_and_em_dashes_as_ranges(text):
    assert parse_ids(f"{text}, 9") == [3, 4, 5, 9]


@pytest.mark.parametrize("text", ["²", "3-²", "½"])
def test_parse_ids_refuses_other_digits_in_its_own_words(text):
    with pytest.raises(ValueError, match="is not a") as raised:
        parse_ids(text)
    assert "invalid literal" not in str(raised.value)

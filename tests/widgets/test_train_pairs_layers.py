"""Train's list of pairs follows its layers: removing a layer of a pair takes that pair off the
list and says so, naming the pair and the layer (it was dropped without a word); the other
pairs stay, and a renamed layer shows its new name in the list."""

from __future__ import annotations

from tessella._widgets import train as train_module
from tests.widgets.helpers import said, train_panel


def test_removing_a_layer_of_a_pair_says_which_pair_left(viewer_models, nuclei_sample, monkeypatch):
    viewer, _models = viewer_models
    image, labels = nuclei_sample
    train = train_panel(viewer, epochs=1)
    shown = said(monkeypatch, train_module, "show_info")
    first = (
        viewer.add_image(image[:128, :128], name="a"),
        viewer.add_labels(labels[:128, :128], name="a_gt"),
    )
    second = (
        viewer.add_image(image[128:256, :128], name="b"),
        viewer.add_labels(labels[128:256, :128], name="b_gt"),
    )
    for pair in (first, second):
        train.add_pair(*pair)
    assert [train.pair_list.item(i).text() for i in range(2)] == ["a  ↔  a_gt", "b  ↔  b_gt"]

    first[1].name = "a corrected"  # a rename shows in the list
    assert train.pair_list.item(0).text() == "a  ↔  a corrected"

    viewer.layers.remove(first[1])

    text = (
        "Pair 'a  ↔  a corrected' taken off the list: its labels layer 'a corrected' was "
        "removed from the viewer (1 pair left)."
    )
    assert shown == [f"Train: {text}"] and train.status_label.text() == text
    assert train.pairs == [(second[0].unique_id, second[1].unique_id)]
    assert [train.pair_list.item(i).text() for i in range(train.pair_list.count())] == [
        "b  ↔  b_gt"
    ]

    viewer.layers.remove(second[0])  # an image layer, the last pair
    assert shown[-1] == (
        "Train: Pair 'b  ↔  b_gt' taken off the list: its image layer 'b' was removed from the "
        "viewer (0 pairs left)."
    )
    assert train.pairs == [] and train.pair_list.count() == 0

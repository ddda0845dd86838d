"""Train's Compare scores on a pair the run held out, and says whether the model trained on
the image it compares on (user test s30/t3, finding 2): it took the first listed pair, a
training image, where the run had held out another, and nothing said so; a fine-tune scored
on its own training image looks better than it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from napari.layers import Image, Labels

from tessella._widgets._train_runs import held_pairs
from tessella._widgets.train import layer_samples
from tessella.engine.train._selectors import split_holdout
from tests.widgets.helpers import train_panel
from tests.widgets.test_train_gaps import _volume


def test_what_a_run_held_out_of_each_pair():
    """A pair held out whole, a volume held out in part (its slab, named as the Hold out
    field names it), a pair trained on (absent)."""
    image, labels = _volume(depth=5)
    a = (Image(image[0], name="img A"), Labels(labels[0], name="gt A"))
    b = (Image(image[1], name="img B"), Labels(labels[1], name="gt B"))
    samples, held = split_holdout(layer_samples([a, b], 2), 0.2, 0, ["gt B"])
    assert held_pairs([a, b], samples, held, ["gt B"]) == {
        (b[0].unique_id, b[1].unique_id): (True, ("gt B",))
    }
    vol = (Image(image, name="vol"), Labels(labels, name="vol gt"))
    samples, held = split_holdout(layer_samples([vol], 2), 0.2, 0, ["vol gt[z=3:5]"])
    assert held_pairs([vol], samples, held, ["vol gt[z=3:5]"]) == {
        (vol[0].unique_id, vol[1].unique_id): (False, ("vol gt[z=3:5]",))
    }


def test_compare_takes_the_pair_held_out_and_says_what_it_trained_on(make_napari_viewer, qtbot):
    from tessella.engine.registry import models_named

    found = models_named("nuclei2d")
    if not found:
        pytest.skip("the bundled nuclei2d model is not installed")
    viewer = make_napari_viewer()
    image, labels = _volume(depth=2)
    train = train_panel(viewer)
    pairs = []
    for k, name in enumerate("AB"):
        pair = (
            viewer.add_image(image[k], name=f"img {name}"),
            viewer.add_labels(labels[k], name=f"gt {name}"),
        )
        train.add_pair(*pair)
        pairs.append((pair[0].unique_id, pair[1].unique_id))
    # as a run on both listed pairs leaves the panel, 'gt B' held out (a model with no base)
    train.last_model, train.last_base, train.last_temporal = Path(found[0][1]), None, False
    train.last_pairs, train.last_held = tuple(pairs), {pairs[1]: (True, ("gt B",))}

    with qtbot.waitSignal(train.compare_finished, timeout=120_000):
        assert train.compare()
    text = train.status_label.text()
    assert text.startswith("Against 'gt B' on 'img B' (held out of training): nuclei2d: AP"), text

    train.last_held = {}  # nothing held out of these pairs: the first, said to be trained on
    with qtbot.waitSignal(train.compare_finished, timeout=120_000):
        assert train.compare()
    assert train.status_label.text().startswith(
        "Against 'gt A' on 'img A' (trained on it: the scores flatter the new model): nuclei2d"
    )

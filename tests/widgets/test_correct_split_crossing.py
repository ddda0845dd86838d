"""Correct's splits of a worm another crosses, in a napari viewer (t13 finding 1, 1b):
worms2d on BBBC010 well B12 shows worm 6 in three parts (677 + 312 + 1 px) either side of
worm 14, which lies on it over 126 px. Split by watershed into 2 used to turn the 313 px
past the crossing into background ('528 px changed', nothing more said); a split line
across it made 6 objects. Now the pieces hold the whole worm, the stretch past the
crossing going with the piece it continues under worm 14 (said in the status line), and
Export's stack of the pieces is the whole worm, nothing lost."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from tessella._widgets._object_stack import object_stack
from tessella._widgets.correct import LINES_LAYER
from tests.widgets.conftest import worms_in_viewer

#: worms2d's result of B12, run once a session (:func:`b12_result`)
_B12: dict = {}


@pytest.fixture(scope="session")
def b12_result(data_dir):
    """worms2d's result of BBBC010 B12 (its ``gfp/`` image is the brightfield one), run once
    a session (test_correct_split_refused takes it too; worms_in_viewer places a copy of
    its labels, so no test changes it)."""
    import tifffile

    from tessella.engine.pipeline import run_steps, segment_steps

    if "B12" not in _B12:  # (a fixture imported into another module is defined there again)
        image = tifffile.imread(data_dir / "worms_bbbc010" / "gfp" / "B12.tif")
        _B12["B12"] = run_steps(segment_steps(image, "worms2d", "YX"))
    return _B12["B12"]


@pytest.fixture
def b12(make_napari_viewer, b12_result):
    """``(viewer, correct, labels layer, instances, labels before)``, as Segment shows B12
    (the helper names the layer after B15, its usual well)."""
    viewer, correct, layer, _overlaps, instances = worms_in_viewer(make_napari_viewer, b12_result)
    original = np.array(layer.data)
    parts, _count = ndi.label(original == 6)
    assert sorted(np.bincount(parts.ravel())[1:].tolist()) == [1, 312, 677]  # as t13 measured
    assert int((instances[5] & instances[13]).sum()) == 126  # worm 14 on worm 6
    return viewer, correct, layer, instances, original


def _beyond(original: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Worm 6's main part (677 px) and its stretch past the crossing (312 px)."""
    parts, _count = ndi.label(original == 6)
    order = np.argsort(-np.bincount(parts.ravel())[1:]) + 1
    return parts == order[0], parts == order[1]


def _pieces(viewer, layer, original, instances) -> dict[int, int]:
    """``{id: px}`` of worm 6's pieces on screen; asserts no pixel of it became background,
    nothing else changed, and Export's stack of its pieces is the whole worm (1116 px)."""
    labels = np.asarray(layer.data)
    was = original == 6
    assert not (labels[was] == 0).any(), f"{int((labels[was] == 0).sum())} px of worm 6 erased"
    np.testing.assert_array_equal(labels[~was], original[~was])
    ids, counts = np.unique(labels[was], return_counts=True)
    stack = object_stack(viewer, layer, labels)
    masks = dict(zip(stack.ids.tolist(), stack.masks))
    union = np.logical_or.reduce([masks[i] for i in ids.tolist()])
    np.testing.assert_array_equal(union, instances[5])
    return dict(zip(ids.tolist(), counts.tolist()))


def test_watershed_split_of_a_crossed_worm_keeps_it_whole_and_says_so(b12):
    viewer, correct, layer, instances, original = b12
    correct.set_selection([6])
    correct.pieces_spin.setValue(2)
    correct.split_seeds_button.click()
    status = correct.status_label.text()
    assert status == (
        f"split 6 into 2 by watershed (new: 15) on '{layer.name}': 215 px changed; part of 6 "
        "apart from the rest (313 px) joined the piece it continues under the objects over it "
        "(a crossing)"
    )
    pieces = _pieces(viewer, layer, original, instances)
    assert set(pieces) == {6, 15} and sum(pieces.values()) == 990
    main, beyond = _beyond(original)
    labels = np.asarray(layer.data)
    assert len(np.unique(labels[beyond])) == 1  # the stretch past the crossing: one piece
    ring = ndi.binary_dilation(instances[5] & instances[13], iterations=2) & main
    assert set(np.unique(labels[ring]).tolist()) == set(np.unique(labels[beyond]).tolist())
    correct.undo_button.click()
    np.testing.assert_array_equal(layer.data, original)


def test_a_split_line_across_a_crossed_worm_makes_its_two_sides(b12):
    viewer, correct, layer, instances, original = b12
    main, beyond = _beyond(original)
    ys, xs = np.nonzero(main)
    k = np.argsort(xs, kind="stable")[len(xs) // 5]  # t13's line, a fifth along the worm
    y, x = int(ys[k]), int(xs[k])
    correct.set_selection([6])
    correct.draw_line_button.click()
    shapes = viewer.layers[LINES_LAYER]
    shapes.add_lines(np.array([[y - 12, x - 12], [y + 12, x + 12]], float))
    correct.split_line_button.click()
    status = correct.status_label.text()
    assert status.startswith(f"split 6 into 2 by line (new: 15) on '{layer.name}': "), status
    assert status.endswith(
        "px changed; part of 6 apart from the rest (313 px) joined the piece it continues under "
        "the objects over it (a crossing)"
    )
    pieces = _pieces(viewer, layer, original, instances)
    assert len(pieces) == 2 and min(pieces.values()) > 4, pieces  # no shards (6 objects before)
    assert set(np.unique(np.asarray(layer.data)[beyond]).tolist()) == {6}
    assert len(shapes.data) == 0
    correct.undo_button.click()
    np.testing.assert_array_equal(layer.data, original)


def _split_across_the_middle(viewer, correct, original) -> None:
    """Split worm 6 by a line across the middle of it (its pixels sorted by column)."""
    ys, xs = np.nonzero(original == 6)
    k = np.argsort(xs, kind="stable")[len(xs) // 2]
    y, x = int(ys[k]), int(xs[k])
    correct.set_selection([6])
    correct.draw_line_button.click()
    viewer.layers[LINES_LAYER].add_lines(np.array([[y - 15, x], [y + 15, x]], float))
    correct.split_line_button.click()
    assert correct.status_label.text().startswith("split 6 into 2 by line (new: 15)")


def _each_piece_one_worm(stack, instances, original) -> None:
    """Export's stack gives worm 6's 126 px hidden under worm 14 to the piece they continue
    (15, the one past the crossing), nothing lost, each piece one 8-connected worm."""
    masks = dict(zip(stack.ids.tolist(), stack.masks))
    hidden = instances[5] & (original != 6)
    assert int(hidden.sum()) == 126
    assert int((masks[15] & hidden).sum()) == 126 and not (masks[6] & hidden).any()
    np.testing.assert_array_equal(masks[6] | masks[15], instances[5])
    assert not (masks[6] & masks[15]).any()
    for piece in (6, 15):
        assert ndi.label(masks[piece], np.ones((3, 3), bool))[1] == 1, piece


def test_a_split_crossed_worm_s_hidden_pixels_go_to_the_piece_they_continue(b12):
    """The 126 px worm 14 hides went all to 6 (the ID kept), each piece then two parts apart
    in Export's stack; now they go to the piece they continue, as the split does for those
    shown, and the overlaps layer shows it so."""
    viewer, correct, layer, instances, original = b12
    main, beyond = _beyond(original)
    _split_across_the_middle(viewer, correct, original)
    labels = np.asarray(layer.data)
    assert set(np.unique(labels[beyond]).tolist()) == {15}  # the stretch past the crossing
    stack = object_stack(viewer, layer, labels)
    assert stack.source.startswith("the edited labels, hidden parts from the network")
    _each_piece_one_worm(stack, instances, original)
    overlaps = np.asarray(viewer.layers[f"{layer.name} overlaps"].data)
    hidden = instances[5] & (original != 6)
    assert set(np.unique(overlaps[hidden]).tolist()) == {15}


def test_without_the_network_result_a_split_shares_the_hidden_pixels_too(b12):
    """The same split of labels whose result is gone (Tessella keeps the last 4): the hidden
    parts come from the overlaps layer, which still names worm 6 on all of it."""
    from tessella._widgets import _results

    viewer, correct, layer, instances, original = b12
    _results.discard(layer)
    _split_across_the_middle(viewer, correct, original)
    labels = np.asarray(layer.data)
    stack = object_stack(viewer, layer, labels)
    assert stack.source == "the labels with their overlaps layer"
    _each_piece_one_worm(stack, instances, original)
    overlaps = np.asarray(viewer.layers[f"{layer.name} overlaps"].data)
    hidden = instances[5] & (original != 6)
    assert set(np.unique(overlaps[hidden]).tolist()) == {15}
    assert not np.isin(overlaps[labels == 15], [6]).any()  # (6 was drawn over all of 15)
    correct.undo_button.click()
    np.testing.assert_array_equal(layer.data, original)
    stack = object_stack(viewer, layer, original)
    masks = dict(zip(stack.ids.tolist(), stack.masks))
    np.testing.assert_array_equal(masks[6], instances[5])

"""The overlaps follower and Delete on labels without a network result work object by
object in boxes, or pixel by pixel (review r2, finding 4): they must give what the full
stack of objects gives."""

from __future__ import annotations

import numpy as np

from tessella._widgets._object_stack import (
    _hidden_in_boxes,
    _Stack,
    _uncovered_by,
    hidden_objects,
)


def _stack(labels: np.ndarray, hidden: np.ndarray) -> _Stack:
    """object_stack's path without a result: the whole-image stack (background in the
    labels is background for every object)."""
    ids = np.unique(labels[labels > 0])
    masks = np.stack([(labels == k) | ((hidden == k) & (labels > 0)) for k in ids.tolist()])
    return _Stack(masks, ids, "")


def _full(labels: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    return hidden_objects(_stack(labels, hidden), labels, np.int32)


def _uncovered_full(labels, hidden, indices, values):
    """uncovered's rule on the whole stack: each background pixel written shows the top
    (smallest) object of the stack under the one removed that the edit leaves."""
    stack = _stack(labels, hidden)
    after = labels.copy()
    after[indices] = values
    gone = np.setdiff1d(np.unique(labels[labels > 0]), np.unique(after[after > 0]))
    zero = values == 0
    rows, cols = (np.asarray(i)[zero] for i in indices)
    was = labels[rows, cols]
    shown = np.zeros(rows.shape, values.dtype)
    sizes = stack.masks.reshape(len(stack.masks), -1).sum(axis=1)
    for n in np.argsort(-sizes, kind="stable"):
        if int(stack.ids[n]) not in gone:
            shown[stack.masks[n][rows, cols] & (was != stack.ids[n])] = stack.ids[n]
    out = values.copy()
    out[zero] = shown
    return out


def _crossings(rng):
    for _trial in range(40):
        labels = np.zeros((60, 70), np.int32)
        hidden = np.zeros_like(labels)
        for label in range(1, 9):  # bars, some crossing: the hidden part in the other layer
            y, x = rng.integers(0, 50, 2)
            h, w = rng.integers(2, 25, 2)
            region = (slice(y, y + h), slice(x, x + w))
            hidden[region] = np.where(labels[region] > 0, labels[region], hidden[region])
            labels[region] = label
        for _edit in range(int(rng.integers(0, 4))):  # edits of either, a deletion
            y, x = rng.integers(0, 55, 2)
            target = labels if rng.random() < 0.5 else hidden
            target[y : y + 5, x : x + 5] = int(rng.integers(0, 11))
            if rng.random() < 0.3:
                labels[labels == int(rng.integers(1, 9))] = 0
        yield labels, hidden


def test_boxes_draw_what_the_whole_stack_draws():
    for labels, hidden in _crossings(np.random.default_rng(1)):
        np.testing.assert_array_equal(
            _hidden_in_boxes(labels, hidden, np.int32), _full(labels, hidden)
        )


def test_delete_shows_what_the_whole_stack_shows():
    rng = np.random.default_rng(2)
    for labels, hidden in _crossings(rng):
        present = np.unique(labels[labels > 0])
        if not present.size:
            continue
        for label in rng.choice(present, min(3, present.size), replace=False).tolist():
            indices = np.nonzero(labels == label)  # deleted, or (half) erased
            values = np.zeros(indices[0].shape, labels.dtype)
            if rng.random() < 0.3:
                values[: values.size // 2] = label
            expected = _uncovered_full(labels, hidden, indices, values)
            got = _uncovered_by(labels, hidden, indices, values, values == 0)
            np.testing.assert_array_equal(got, expected)


def test_an_edited_stack_keeps_each_object_in_its_box():
    """_edited_stack (labels edited from a network result or a mask stack) fills each
    object in its box only: nothing of it lies outside, and the overlaps drawn from the
    boxes are those drawn from the whole masks."""
    from tessella._widgets._object_stack import _edited_stack
    from tessella.engine.io import mask_stack_labels

    rng = np.random.default_rng(3)
    for _trial in range(20):
        masks = np.zeros((8, 60, 70), bool)
        for n in range(8):
            y, x = rng.integers(0, 50, 2)
            h, w = rng.integers(2, 25, 2)
            masks[n, y : y + h, x : x + w] = True
        before = mask_stack_labels(masks)[0]
        labels = before.astype(np.int32)
        for _edit in range(int(rng.integers(1, 4))):  # paint, delete, merge
            y, x = rng.integers(0, 55, 2)
            labels[y : y + 5, x : x + 5] = int(rng.integers(0, 11))
            if rng.random() < 0.3:
                labels[labels == int(rng.integers(1, 9))] = int(rng.integers(0, 3))
        stack = _edited_stack(labels, masks, before, "test")
        if stack is None:
            continue
        assert stack.boxes is not None and len(stack.boxes) == len(stack.ids)
        for mask, box in zip(stack.masks, stack.boxes):
            outside = mask.copy()
            outside[box] = False
            assert not outside.any()
        plain = _Stack(stack.masks, stack.ids, "")
        np.testing.assert_array_equal(hidden_objects(stack, labels), hidden_objects(plain, labels))


def test_labels_as_written_change_nothing_unedited():
    """``then`` (the labels when the overlaps were written) equal to the labels: no object
    is a piece of another, the same drawing as without it."""
    for labels, hidden in _crossings(np.random.default_rng(3)):
        np.testing.assert_array_equal(
            _hidden_in_boxes(labels, hidden, np.int32, then=labels), _full(labels, hidden)
        )


def test_a_piece_split_off_gets_the_hidden_pixels_it_continues():
    """Bar 1 (rows 10-12) under bar 2 (columns 19-21), bar 4 (a speck on bar 1 when the
    overlaps were written, hiding it). Split: columns 12-18 and the stretch past the
    crossing become 3. The crossing's hidden pixels go to 3, which is drawn whole, not 1
    painted over all of 3 (as when the overlaps layer alone said whose they were); 1 keeps
    the pixels under 4, which lay on it then."""
    then = np.zeros((30, 45), np.int32)
    then[10:13, 0:41] = 1
    then[0:30, 19:22] = 2
    then[10:13, 3:5] = 4
    hidden = np.zeros_like(then)
    hidden[10:13, 0:41] = 1  # (1 whole: hidden under 2 and 4)
    labels = then.copy()
    labels[10:13, 12:19] = 3
    labels[10:13, 22:41] = 3
    out = _hidden_in_boxes(labels, hidden, np.int32, then=then)
    crossing = (slice(10, 13), slice(19, 22))
    assert (out[crossing] == 3).all()
    assert (out[labels == 3] == 3).all()
    assert (out[10:13, 3:5] == 1).all() and (out[10:13, 0:3] == 1).all()  # 1 under 4
    assert not (out == 2).any() and not (out == 4).any()
    # without ``then`` (no way to tell a piece): 1 as the layer says, over all of 3
    assert (_hidden_in_boxes(labels, hidden, np.int32)[labels == 3] == 1).all()

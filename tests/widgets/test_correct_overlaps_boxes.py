"""The overlaps follower of labels without a network result works object by object in
boxes (review r2, finding 4): it must draw what the full stack of objects gives."""

from __future__ import annotations

import numpy as np

from tessella._widgets._object_stack import _hidden_in_boxes, _Stack, hidden_objects


def _full(labels: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """hidden_objects of object_stack's path without a result: the whole-image stack."""
    ids = np.unique(labels[labels > 0])
    under = set(np.unique(hidden).tolist())
    masks = np.stack([(labels == k) | ((hidden == k) & (k in under)) for k in ids.tolist()])
    return hidden_objects(_Stack(masks, ids, ""), labels, np.int32)


def test_boxes_draw_what_the_whole_stack_draws():
    rng = np.random.default_rng(1)
    for _trial in range(40):
        labels = np.zeros((60, 70), np.int32)
        hidden = np.zeros_like(labels)
        for label in range(1, 9):  # bars, some crossing: the hidden part in the other layer
            y, x = rng.integers(0, 50, 2)
            h, w = rng.integers(2, 25, 2)
            region = (slice(y, y + h), slice(x, x + w))
            hidden[region] = np.where(labels[region] > 0, label, hidden[region])
            labels[region] = label
        for _edit in range(int(rng.integers(0, 4))):  # edits of either, a deletion
            y, x = rng.integers(0, 55, 2)
            target = labels if rng.random() < 0.5 else hidden
            target[y : y + 5, x : x + 5] = int(rng.integers(0, 11))
            if rng.random() < 0.3:
                labels[labels == int(rng.integers(1, 9))] = 0
        np.testing.assert_array_equal(
            _hidden_in_boxes(labels, hidden, np.int32), _full(labels, hidden)
        )

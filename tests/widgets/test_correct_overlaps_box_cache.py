"""The overlaps follower keeps the boxes of the objects between redraws (``_Boxes``: found
again only where the labels or the overlaps changed): after any sequence of edits they must
be what ``scipy.ndimage.find_objects`` finds, and the overlaps drawn what they would be
drawn from boxes found afresh."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from tessella._widgets._object_stack import _Boxes, _hidden_in_boxes


def test_kept_boxes_are_those_found_afresh():
    rng = np.random.default_rng(4)
    labels = np.zeros((80, 90), np.int32)
    hidden = np.zeros_like(labels)
    for label in range(1, 12):  # bars, some crossing: the hidden part in the other layer
        y, x = rng.integers(0, 70, 2)
        h, w = rng.integers(2, 30, 2)
        region = (slice(y, y + h), slice(x, x + w))
        hidden[region] = np.where(labels[region] > 0, labels[region], hidden[region])
        labels[region] = label
    boxes = (_Boxes(), _Boxes())
    for _step in range(200):
        y, x = rng.integers(0, 78, 2)
        size = int(rng.integers(1, 12))
        target = labels if rng.random() < 0.8 else hidden
        value = int(rng.choice([0, 0, *range(1, 16)]))
        target[y : y + size, x : x + size] = value
        if rng.random() < 0.1:  # a Delete, or a fill with 0
            labels[labels == int(rng.integers(1, 16))] = 0
        np.testing.assert_array_equal(
            _hidden_in_boxes(labels, hidden, np.int32, boxes),
            _hidden_in_boxes(labels, hidden, np.int32),
        )
        for cache, image in zip(boxes, (labels, hidden)):
            assert cache.of(image) == ndimage.find_objects(image)
    assert boxes[0].of(np.full((4, 4), 10**9, np.int64)) is None  # (IDs too large: not kept)

"""Split along a line swept through a volume's slices (``split_line(..., through=(0,))``): a
merged pair of nuclei in a Z-stack is cut whole, in every slice it spans, not in the slice the
line is drawn in only."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from tessella.engine import edit


def _two_spheres_as_one(shape=(9, 40, 60), radius=9.0, gap=-3.0):
    """Two touching (overlapping by ``-gap``) balls along X, labelled 12 together, with an
    unrelated object 3 beside them: ``(labels, centres)``."""
    z, y, x = np.indices(shape)
    cz, cy = shape[0] // 2, shape[1] // 2
    cx1 = 30 - radius - gap / 2
    cx2 = 30 + radius + gap / 2
    # flattened along Z (z scaled by 2): an anisotropic stack of a few slices
    ball1 = ((z - cz) * 2.0) ** 2 + (y - cy) ** 2 + (x - cx1) ** 2 <= radius**2
    ball2 = ((z - cz) * 2.0) ** 2 + (y - cy) ** 2 + (x - cx2) ** 2 <= radius**2
    labels = np.zeros(shape, np.uint16)
    labels[ball1 | ball2] = 12
    labels[:, 2:6, 2:6] = 3
    return labels, (ball1, ball2)


def _applied(labels, change):
    out = labels.copy()
    change.apply(out)
    return out


def test_a_line_swept_through_z_splits_the_whole_object_in_every_slice():
    labels, (ball1, ball2) = _two_spheres_as_one()
    assert ndi.label(labels == 12)[1] == 1  # one object
    spans = np.flatnonzero((labels == 12).any(axis=(1, 2)))
    assert len(spans) >= 7
    line = np.array([[4, 5, 30], [4, 35, 30]], float)  # in slice 4, between the balls

    change = edit.split_line(labels, 12, line, through=(0,))
    split = _applied(labels, change)

    new = int(split.max())
    assert new == 13 and change.description == "split 12 into 2 by line (new: 13)"
    assert np.array_equal(np.isin(split, [12, 13]), labels == 12)  # the same pixels
    assert np.array_equal(split == 3, labels == 3)  # the other object untouched
    for z in spans:  # every slice the object spans is cut into the two balls' sides
        assert set(np.unique(split[z][labels[z] == 12])) == {12, 13}, z
        columns = [np.nonzero(split[z] == v)[1] for v in (12, 13)]
        columns.sort(key=np.median)
        assert columns[0].max() <= 30 <= columns[1].min(), z  # one each side of the line
    for piece in (12, 13):  # each piece one connected 3D object, one ball's side
        assert ndi.label(split == piece)[1] == 1
    one = split[ball1 & ~ball2]
    other = split[ball2 & ~ball1]
    assert len(np.unique(one)) == 1 and len(np.unique(other)) == 1 and one[0] != other[0]


def test_a_line_swept_through_z_cuts_slices_it_does_not_reach_in_its_own():
    """The object widens beyond the line's ends in another slice: there the two sides meet
    round the line's ends; the cut still parts them where the swept line crosses them."""
    labels, _ = _two_spheres_as_one()
    labels[1, 5:35, 15:45] = 12  # a slab wider (in Y) than the line reaches
    line = np.array([[4, 12, 30], [4, 28, 30]], float)  # crosses the balls in slice 4 only
    split = _applied(labels, edit.split_line(labels, 12, line, through=(0,)))
    assert set(np.unique(split[labels == 12])) == {12, 13}
    for z in np.flatnonzero((labels == 12).any(axis=(1, 2))):
        columns = {v: np.nonzero(split[z] == v)[1] for v in (12, 13)}
        assert all(len(c) for c in columns.values()), z  # both pieces in every slice
        lefts = [v for v, c in columns.items() if np.median(c) < 30]
        assert len(lefts) == 1, z  # one piece on each side of X=30, the same in each slice
    assert ndi.label(split == 12)[1] == ndi.label(split == 13)[1] == 1


def test_without_through_the_line_still_cuts_its_own_slice_only():
    labels, _ = _two_spheres_as_one()
    line = np.array([[4, 5, 30], [4, 35, 30]], float)
    split = _applied(labels, edit.split_line(labels, 12, line))
    others = [z for z in range(labels.shape[0]) if z != 4]
    assert np.array_equal(split[others], labels[others])


def test_a_swept_line_that_misses_the_object_is_refused():
    labels, _ = _two_spheres_as_one()
    with pytest.raises(ValueError, match="does not cut label 12"):
        edit.split_line(labels, 12, np.array([[4, 0, 55], [4, 5, 58]], float), through=(0,))
    with pytest.raises(ValueError, match="label 7 is not in the slices"):
        edit.split_line(labels, 7, np.array([[4, 5, 30], [4, 35, 30]], float), through=(0,))

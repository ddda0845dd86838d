"""Merge closes only the cracks between the objects it merges, never an object's own notches
(user test s33/t11 #6: two mitochondria of an em-mito3d result 85 voxels apart took 180
background voxels of their own concavities into the merged object)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from tessella.engine.edit import merge


def _ellipsoid(shape, centre, radii) -> np.ndarray:
    grid = np.ogrid[tuple(slice(0, n) for n in shape)]
    return sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii, strict=True)) <= 1


def _two_notched_mitochondria() -> np.ndarray:
    """A 12 x 64 x 96 volume with two elongated objects 40 voxels apart, each with one-voxel
    notches cut into its outline (as a network's outlines have): a closing fills those."""
    labels = np.zeros((12, 64, 96), np.int32)
    a = _ellipsoid(labels.shape, (6, 32, 20), (4, 10, 14))
    b = _ellipsoid(labels.shape, (6, 32, 76), (4, 9, 12))
    a[:, 32, 6:14] = False  # a one-voxel slot from the outline into object 3
    b[:, 22:28, 76] = False  # and one into object 5
    labels[a] = 3
    labels[b] = 5
    labels[:, 10:14, 44:50] = 8  # another object between them, untouched
    return labels


def test_merging_two_separate_objects_adds_no_voxel_of_their_notches():
    labels = _two_notched_mitochondria()
    before = {i: int(np.count_nonzero(labels == i)) for i in (3, 5)}
    change = merge(labels, [5, 3], axes="ZYX")
    after = labels.copy()
    change.apply(after)
    # only object 5's voxels change (to 3); no background joins either object
    assert change.size == before[5]
    assert int(np.count_nonzero(after == 3)) == before[3] + before[5]
    np.testing.assert_array_equal(after == 0, labels == 0)
    np.testing.assert_array_equal(after == 8, labels == 8)


def test_merging_two_touching_halves_still_closes_the_crack_between_them():
    """One cell cut in two by a one-voxel crack (an instance method's gap between touching
    objects), each half notched too: the whole crack joins the merged object, the notches
    stay background."""
    labels = np.zeros((10, 60, 60), np.int32)
    cell = _ellipsoid(labels.shape, (5, 30, 30), (4, 20, 20))
    cell[:, 12:18, 22] = False  # a notch of the left half
    left, right = cell.copy(), cell.copy()
    left[:, :, 30:] = False
    right[:, :, :31] = False
    labels[left] = 4
    labels[right] = 9
    # the crack as a closing of the two halves fills it (as merge did before: the rim, where
    # the halves part, stays open); every one of its voxels joins, none of the notch's
    closing = ndi.binary_closing(
        np.pad(labels > 0, 1, mode="edge"), ndi.generate_binary_structure(3, 1)
    )[1:-1, 1:-1, 1:-1]
    crack = np.zeros(labels.shape, bool)
    crack[:, :, 30] = closing[:, :, 30] & (labels[:, :, 30] == 0)
    assert int(np.count_nonzero(crack)) > 150
    change = merge(labels, [4, 9], axes="ZYX")
    after = labels.copy()
    change.apply(after)
    filled = (after == 4) & (labels == 0)
    np.testing.assert_array_equal(filled, crack)
    notch = closing & (labels == 0) & ~crack
    assert notch[:, 12:18, 22].any()  # (what merge filled before, and must not)
    assert not (after[notch] == 4).any(), "a notch of one half was filled"


def test_a_2d_crack_along_a_diagonal_is_closed():
    """Two objects across a one-pixel crack that runs diagonally: each crack pixel touches
    the other object only at a corner, and still joins."""
    labels = np.zeros((40, 40), np.int32)
    rows, cols = np.indices(labels.shape)
    inside = (rows > 5) & (rows < 35) & (cols > 5) & (cols < 35)
    labels[inside & (cols - rows > 0)] = 1
    labels[inside & (cols - rows < -1)] = 2
    crack = inside & (cols - rows >= -1) & (cols - rows <= 0)
    after = labels.copy()
    merge(labels, [1, 2]).apply(after)
    inner = crack & (rows > 7) & (rows < 33) & (cols > 7) & (cols < 33)
    assert (after[inner] == 1).all()

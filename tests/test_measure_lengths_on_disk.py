"""``measure_objects(zarr labels, length=True)`` (``tessella segment --blockwise --csv`` of 2D
labels): each object's length was measured from its bounding box read from disk on its own,
which decompresses a whole chunk per object (an 8192² mosaic of 42 435 nuclei in 1024² chunks:
177 s, against 31 s for the labels in memory). Now the objects are cut from one read per
square of whole chunks (widened for objects that reach past it; one reaching further is read
alone): the same lengths, a read per square instead of one per object."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

import tessella.engine.measure as measure
from tessella.engine.measure import measure_objects


class _Counted:
    """A zarr array that counts the reads made of it."""

    def __init__(self, array) -> None:
        self.array, self.reads = array, 0
        self.shape, self.dtype, self.chunks = array.shape, array.dtype, array.chunks

    def __getitem__(self, index):
        self.reads += 1
        return self.array[index]


def _labels(shape=(2, 200, 170)):
    """Frames of small blobs on a grid, a bar across a square's edge, a long object crossing
    several squares (read alone), and a worm-like slanted line."""
    labels = np.zeros(shape, np.uint32)
    n = 0
    for y in range(4, shape[1] - 10, 14):
        for x in range(4, shape[2] - 10, 14):
            n += 1
            labels[:, y : y + 6 + n % 5, x : x + 5] = n
    labels[:, 60:66, 20:140] = n + 1  # (across the edge of squares of 64 at x 64, 128)
    labels[:, 5:195, 150:153] = n + 2  # (longer than a square and its margin)
    for x in range(30, 110):
        labels[1, 120 + x // 4 : 123 + x // 4, x] = n + 3
    return labels


@pytest.mark.parametrize("axes", ["YX", "TYX"])
def test_lengths_on_disk_are_those_in_memory_with_a_read_per_square(tmp_path, axes):
    labels = _labels()
    if axes == "YX":
        labels = labels[1]
    stored = zarr.open(
        str(tmp_path / "l.zarr"), mode="w", shape=labels.shape, chunks=labels.shape, dtype="u4"
    )
    stored[...] = labels
    counted = _Counted(stored)
    with pytest.MonkeyPatch.context() as patch:  # (squares of 64: many, on small labels)
        patch.setattr(measure, "_REGION_SIDE", 64, raising=False)
        patch.setattr(measure, "_REGION_MARGIN", 16, raising=False)
        patch.setattr(measure, "PIECE_PIXELS", 64 * 64)
        disk = measure_objects(counted, axes=axes, length=True, spacing=(0.5, 0.25))
    whole = measure_objects(labels, axes=axes, length=True, spacing=(0.5, 0.25))
    assert list(disk) == list(whole)
    for name in whole:
        np.testing.assert_allclose(disk[name], whole[name], rtol=1e-12, err_msg=name)
    frames = 2 if axes == "TYX" else 1
    objects = len(whole["label"])
    # the pieces (labels of 200x170 in pieces of 64x64: 4 x 3) and the squares, per frame,
    # and the long object alone: far fewer reads than objects (one each before)
    assert objects > 150 * frames
    assert counted.reads <= frames * (12 + 12 + 1)

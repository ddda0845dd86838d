"""A line swept through a volume across one part of a label in several parts (two real
Lucchi++ mitochondria, far apart, under one ID: a wrong merge) cuts that part in two and
leaves the other with the piece nearest it, said in the description: before, every
connected part became an object (3 pieces). Nothing of the label is lost."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from tessella.engine.edit import split_line


@pytest.fixture(scope="module")
def merged(data_dir):
    """``(labels, big, small)``: connected components of the val mitochondria in a
    25x320x370 crop, two that lie apart (176k and 99k voxels) under ID ``big``."""
    import tifffile

    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")
    labels, _count = ndi.label(mito[:, 200:520, 50:420] > 0)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    big, small = (int(i) for i in np.argsort(-sizes)[1:3])  # (the 2nd and 3rd largest)
    assert not (ndi.binary_dilation(labels == big) & (labels == small)).any()
    labels[labels == small] = big
    return labels.astype(np.int32), big, small


def test_a_swept_line_across_one_part_leaves_the_other_with_the_nearest_piece(merged):
    labels, big, _small = merged
    before = labels == big
    parts, count = ndi.label(before)
    assert count == 2
    first = parts == np.argmax(np.bincount(parts.ravel())[1:]) + 1  # the part the line cuts
    z, ys, xs = np.nonzero(first)
    cx = float(np.median(xs))
    line = np.array([[12, ys.min() - 2, cx], [12, ys.max() + 2, cx]])
    change = split_line(labels, big, line, through=(0,))
    out = labels.copy()
    change.apply(out)
    assert not (out[before] == 0).any()
    ids, counts = np.unique(out[before], return_counts=True)
    assert len(ids) == 2, dict(zip(ids.tolist(), counts.tolist()))  # 3 before
    other = before & ~first
    assert len(np.unique(out[other])) == 1  # the other part whole, with one of the halves
    px = int(other.sum())
    assert f"; part of {big} apart from the rest ({px} px) joined the piece nearest it" in (
        change.description
    )

"""Linking a movie whose label IDs lie far above its pixel count (a label of 2**31, as a
uint32 or int64 image may hold): the same tracks and lineage as with the IDs unshifted, in
memory of the movie's size (frame_objects, link's lookup and carry_ids sized their tables by
the largest ID: 16-32 GiB for 2**31, s34 f11 #1)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import tifffile

from tessella.engine.tracking import carry_ids, frame_objects, link

SIM = "ctc_Fluo-N2DH-SIM+"
SHIFT = 2**31


@pytest.fixture(scope="module")
def movie(data_dir) -> np.ndarray:
    """SIM+ 01's ground truth, frames 15-24, a 256x256 crop (9-13 nuclei a frame, four
    divisions)."""
    root = data_dir / SIM / "01_GT" / "SEG"
    if not root.is_dir():
        pytest.skip(f"{root} not found (see the data README)")
    frames = [tifffile.imread(root / f"man_seg{t:03d}.tif")[300:556, :256] for t in range(15, 25)]
    return np.stack(frames).astype(np.int64)


def _shifted(labels: np.ndarray, dtype) -> np.ndarray:
    return np.where(labels > 0, labels + SHIFT, 0).astype(dtype)


def _peak(fn, *args):
    tracemalloc.start()
    try:
        out = fn(*args)
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", [np.uint32, np.int64])
def test_link_with_ids_above_2_31_equals_link_of_the_same_objects(movie, dtype):
    expected, lineage = link(movie)
    assert len(lineage) >= 4 and all(np.unique(f).size > 9 for f in movie)
    shifted = _shifted(movie, dtype)
    assert int(shifted.max()) >= SHIFT
    (tracked, shifted_lineage), peak = _peak(link, shifted)
    np.testing.assert_array_equal(tracked, expected)
    assert shifted_lineage == lineage
    assert peak < 60 * movie.nbytes, peak  # (not tables of 2**31 entries)
    for frame, big in zip(movie, shifted):
        a, b = frame_objects(frame), frame_objects(big)
        np.testing.assert_array_equal(b.ids, a.ids + SHIFT)
        np.testing.assert_array_equal(b.areas, a.areas)
        np.testing.assert_array_equal(b.centres, a.centres)  # the same sums, same order


@pytest.mark.parametrize("dtype", [np.uint32, np.int64])
def test_carry_ids_with_ids_above_2_31(movie, dtype):
    """A frame redone (Tune on a linked movie) keeps the IDs of its objects that overlap the
    frame before, whatever their size, and numbers the others from next_id on."""
    before = movie[2].copy()
    redone = movie[2].copy()
    ids = np.unique(redone)[1:]
    redone[redone == ids[0]] = 0  # one object gone
    redone[:20, :20] = 999  # a new one
    expected = carry_ids(before, redone, 500)
    big_before = _shifted(before, dtype)
    (carried, peak) = _peak(carry_ids, big_before, _shifted(redone, dtype), SHIFT + 500)
    assert carried.dtype == dtype
    kept = expected < 500
    np.testing.assert_array_equal(carried[kept], _shifted(expected, dtype)[kept])
    np.testing.assert_array_equal(carried[~kept], expected[~kept] + SHIFT)
    assert peak < 60 * before.nbytes, peak

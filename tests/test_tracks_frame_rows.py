"""The Tracks layer's rows of one frame (``frame_track_rows``, which drawing the tracks of a
movie and opening a CTC folder compute for every frame) are each object's ID, the frame and
its centroid: checked against scipy's ``center_of_mass`` on real tracking markers, and on
the frames a movie may hold (none, a volume, IDs far apart, a wide type)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella.engine.tracking import frame_track_rows, napari_tracks
from tessella.engine.tracking._link import frame_objects

SIM = "ctc_Fluo-N2DH-SIM+"


def _reference(frame: np.ndarray, t: int) -> np.ndarray:
    ids = np.unique(frame)
    ids = ids[ids != 0]
    centres = ndimage.center_of_mass(np.ones(frame.shape), frame, ids)
    return np.array([[i, t, *c] for i, c in zip(ids, centres)], np.float64).reshape(
        -1, 2 + frame.ndim
    )


@pytest.fixture(scope="module")
def markers(data_dir) -> np.ndarray:
    """SIM+ 01's TRA markers of frames 30-32 (about 40 cells each, as the CTC folder holds them)."""
    root = data_dir / SIM / "01_GT" / "TRA"
    if not root.is_dir():
        pytest.skip(f"{root} not found (see the data README)")
    return np.stack([tifffile.imread(root / f"man_track{t:03d}.tif") for t in (30, 31, 32)])


def test_rows_are_each_objects_id_frame_and_centroid(markers):
    for t, frame in enumerate(markers):
        rows = frame_track_rows(frame, t + 30)
        expected = _reference(frame, t + 30)
        assert rows.dtype == np.float64 and rows.shape == expected.shape and len(rows) > 20
        np.testing.assert_array_equal(rows[:, :2], expected[:, :2])  # IDs sorted, frame
        np.testing.assert_allclose(rows[:, 2:], expected[:, 2:], rtol=0, atol=1e-9)
    data, graph = napari_tracks(markers, {int(markers[2].max()): int(markers[0].max())})
    assert len(data) == sum(len(np.unique(f)) - 1 for f in markers)
    assert np.all(np.diff(data[:, 1]) >= 0)  # frame by frame


def test_frames_of_every_kind():
    empty = np.zeros((5, 7), np.uint16)
    assert frame_track_rows(empty, 3).shape == (0, 4)
    assert frame_objects(empty).ids.size == 0
    volume = np.zeros((4, 6, 8), np.uint32)
    volume[1:3, 2:5, 1:4] = 70000  # an ID no uint16 holds
    volume[0, 0, 7] = 2
    rows = frame_track_rows(volume, 9)
    assert rows.shape == (2, 5)
    np.testing.assert_array_equal(rows, _reference(volume, 9))
    np.testing.assert_array_equal(rows[1], [70000, 9, 1.5, 3.0, 2.0])
    sparse = np.zeros((3, 3), np.int64)
    sparse[0, 0], sparse[2, 2], sparse[2, 1] = 1, 500, 500
    np.testing.assert_array_equal(frame_track_rows(sparse, 0), [[1, 0, 0, 0], [500, 0, 2, 1.5]])


@pytest.mark.parametrize("dtype", [np.int64, np.uint32, np.uint64])
def test_ids_far_above_the_pixel_count_cost_no_more(markers, dtype):
    """A label of 2**31 (s34 r11 #8) made the rows allocate 32 GiB (sums sized by the largest
    ID: MemoryError): now the IDs are numbered 1..K first, the same rows, and the peak memory
    is of the frame's size. Fails before (run under a 6 GB address-space limit: MemoryError)."""
    import tracemalloc

    frame = markers[0].astype(dtype)
    ids = np.unique(frame)[1:]
    frame[frame == ids[0]] = 2**31  # (a uint32's top half too)
    frame[frame == ids[1]] = 2**31 + 7
    expected = _reference(frame, 4)
    tracemalloc.start()
    try:
        rows = frame_track_rows(frame, 4)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(rows[:, :2], expected[:, :2])
    np.testing.assert_allclose(rows[:, 2:], expected[:, 2:], rtol=0, atol=1e-9)
    assert rows[-1, 0] == 2**31 + 7 and rows[-2, 0] == 2**31
    assert peak < 40 * frame.nbytes + 2**20, peak  # (not 2**31 sums)

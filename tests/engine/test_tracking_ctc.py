"""CTC export of tracks that skip frames: split at each gap, as the format requires, on the
ground-truth tracks of Fluo-N2DH-SIM+ (a cell erased from one frame)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

from tessella.engine import tracking

FRAMES = 13  # frames 0-12: tracks 11 and 18 divide at frame 10 (daughters 31-34)


@pytest.fixture(scope="module")
def sim_tracks(data_dir):
    """The TRA markers of Fluo-N2DH-SIM+ 01 (frames 0-12) and their lineage."""
    root = data_dir / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "TRA"
    markers = np.stack([tifffile.imread(root / f"man_track{t:03d}.tif") for t in range(FRAMES)])
    table = tracking.read_ctc_tracks(root / "man_track.txt")
    lineage = {k.id: k.parent for k in table if k.parent and k.start < FRAMES}
    return markers.astype(np.uint16), lineage


def _erase(markers, track, frame):
    movie = markers.copy()
    movie[frame][movie[frame] == track] = 0
    return movie


def _written(directory):
    masks = np.stack([tifffile.imread(p) for p in sorted(directory.glob("mask*.tif"))])
    table = {k.id: k for k in tracking.read_ctc_tracks(directory / "res_track.txt")}
    return masks, table


def test_a_cell_erased_from_one_frame_splits_its_track_there(sim_tracks, tmp_path):
    markers, lineage = sim_tracks
    assert lineage[31] == 11 and lineage[32] == 11  # 11 divides at frame 10
    movie = _erase(markers, 11, 8)  # the mother is missing from frame 8

    with pytest.warns(UserWarning) as caught:
        tracking.write_ctc(movie, lineage, tmp_path / "RES")

    notes = [str(w.message) for w in caught]
    assert len(notes) == 1 and "track 11 is missing from frame 8" in notes[0]
    assert "split" in notes[0] and "1 new track" in notes[0]
    masks, table = _written(tmp_path / "RES")
    new = int(markers.max()) + 1
    assert (table[11].start, table[11].end, table[11].parent) == (0, 7, 0)
    assert (table[new].start, table[new].end, table[new].parent) == (9, 9, 11)
    # the daughters descend from the piece of the mother they follow
    assert table[31].parent == new and table[32].parent == new
    assert table[33].parent == 18  # another division, untouched
    expected = movie.copy()
    expected[9][movie[9] == 11] = new
    np.testing.assert_array_equal(masks, expected)
    # every track continuous, every parent ending before its daughters begin
    for k in table.values():
        present = [t for t in range(FRAMES) if (masks[t] == k.id).any()]
        assert present == list(range(k.start, k.end + 1))
        assert not k.parent or table[k.parent].end < k.start


def test_zarr_frames_and_a_checked_plan_write_the_same_files(sim_tracks, tmp_path):
    """A movie read frame by frame (blockwise zarr), and tracks checked before writing
    (:func:`ctc_tracks`, what Export does), give the same files as an array."""
    import zarr

    markers, lineage = sim_tracks
    movie = _erase(_erase(markers, 5, 3), 5, 4)  # a gap of two frames
    stored = zarr.create_array(str(tmp_path / "m.zarr"), shape=movie.shape, dtype=movie.dtype)
    stored[...] = movie
    plan = tracking.ctc_tracks(movie, lineage)
    assert plan.split == {5: [3, 4]} and plan.notes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tracking.write_ctc(movie, lineage, tmp_path / "array")
        tracking.write_ctc(zarr.open(str(tmp_path / "m.zarr"), mode="r"), lineage, tmp_path / "z")
        tracking.write_ctc(movie, None, tmp_path / "plan", tracks=plan)
    first = _written(tmp_path / "array")
    for other in ("z", "plan"):
        masks, table = _written(tmp_path / other)
        np.testing.assert_array_equal(masks, first[0])
        assert table == first[1]
    assert (tmp_path / "array" / "res_track.txt").read_text() == (
        tmp_path / "plan" / "res_track.txt"
    ).read_text()


def test_tracks_without_gaps_are_written_as_they_are(sim_tracks, tmp_path):
    markers, lineage = sim_tracks
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to say
        tracking.write_ctc(markers, lineage, tmp_path / "RES")
    masks, table = _written(tmp_path / "RES")
    np.testing.assert_array_equal(masks, markers)
    assert {k.id: k.parent for k in table.values() if k.parent} == lineage


def test_ids_over_uint16_after_splitting_write_nothing(sim_tracks, tmp_path):
    markers, lineage = sim_tracks
    movie = _erase(markers, 11, 8).astype(np.int32)
    movie[movie == 34] = tracking.CTC_MAX_ID  # the split piece would need the next ID
    with pytest.raises(ValueError, match="uint16"):
        tracking.ctc_tracks(movie, lineage)
    with pytest.raises(ValueError, match="uint16"):
        tracking.write_ctc(movie, lineage, tmp_path / "RES")
    assert not (tmp_path / "RES").exists() and not list(tmp_path.iterdir())


def test_an_erased_mother_is_no_parent_of_a_split_piece():
    """Mother 5 erased from every frame, track 1 with gaps: its new pieces counted up from
    the largest ID present (4, 5, ...), so one took the absent mother's ID and her
    daughters were written as children of track 1's last piece."""
    movie = np.zeros((10, 8, 8), np.uint16)
    movie[[0, 2, 4], 0, 0] = 1  # track 1 skips frames 1 and 3
    movie[5:, 4, 4] = 2  # daughters 2 and 3 of mother 5, who is in no frame
    movie[5:, 6, 6] = 3
    plan = tracking.ctc_tracks(movie, {2: 5, 3: 5})
    parents = {track.id: track.parent for track in plan.tracks}
    assert parents[2] == 0 and parents[3] == 0
    pieces = sorted(i for i in parents if i not in (1, 2, 3))
    assert [parents[i] for i in pieces] == [1, pieces[0]]  # track 1's pieces chain
    _split, lineage = tracking.split_at_gaps(movie, {2: 5, 3: 5})
    assert 2 not in lineage and 3 not in lineage

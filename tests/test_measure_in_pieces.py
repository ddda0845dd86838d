"""measure_objects of labels on disk (a zarr: a blockwise result opened lazily) reads them a
piece of whole chunks at a time, never whole, and gives exactly the table of the labels read
into memory, objects crossing the pieces' borders included (user test s32/t9, finding 3:
Export of a 12288² result read all 576 MiB of its labels to measure them)."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

import tessella.engine.measure as measure
from tessella.engine.measure import measure_objects


class _NoWholeReads:
    """A zarr array that reads only pieces smaller than itself (never ``np.asarray`` of it)."""

    def __init__(self, array):
        self._array = array
        self.shape, self.dtype, self.chunks = array.shape, array.dtype, array.chunks
        self.ndim = array.ndim
        self.reads: list[int] = []

    def __getitem__(self, index):
        piece = np.asarray(self._array[index])
        assert piece.size < np.prod(self.shape), "read whole"
        self.reads.append(piece.size)
        return piece

    def __array__(self, dtype=None, copy=None):
        raise AssertionError("read whole")


def _on_disk(tmp_path, name, array, chunks):
    stored = zarr.create_array(
        str(tmp_path / f"{name}.zarr"), shape=array.shape, dtype=array.dtype, chunks=chunks
    )
    stored[...] = array
    return _NoWholeReads(zarr.open_array(str(tmp_path / f"{name}.zarr"), mode="r"))


def _same(table, whole):
    assert list(table) == list(whole)
    for name in whole:
        assert table[name].dtype == whole[name].dtype, name
        np.testing.assert_array_equal(table[name], whole[name], err_msg=name)


@pytest.fixture
def small_pieces(monkeypatch):
    # pieces of one 64² chunk: the 520x512 sample's nuclei cross many piece borders
    monkeypatch.setattr(measure, "PIECE_PIXELS", 64 * 64, raising=False)


def test_2d_labels_on_disk_are_measured_in_pieces_exactly(tmp_path, nuclei_sample, small_pieces):
    image, labels = nuclei_sample
    labels = labels.astype(np.uint32)
    lazy = _on_disk(tmp_path, "labels", labels, (64, 64))
    lazy_image = _on_disk(tmp_path, "image", image, (100, 100))
    spacing = {"Y": 0.5, "X": 0.5}
    table = measure_objects(lazy, image=lazy_image, spacing=spacing)
    whole = measure_objects(labels, image=image, spacing=spacing)
    _same(table, whole)
    assert max(lazy.reads) == 64 * 64 and len(lazy.reads) == 9 * 8
    # objects crossing chunk borders: bounding boxes over two or more pieces
    crossing = (table["bbox_min_y"] // 64 != table["bbox_max_y"] // 64) | (
        table["bbox_min_x"] // 64 != table["bbox_max_x"] // 64
    )
    assert crossing.sum() > 20
    # a probability map in memory beside labels on disk (floats: to rounding)
    confidence = np.random.default_rng(0).random(labels.shape).astype(np.float32)
    table = measure_objects(lazy, confidence=confidence)
    whole = measure_objects(labels, confidence=confidence)
    np.testing.assert_allclose(table["mean_confidence"], whole["mean_confidence"], rtol=1e-6)


def test_volumes_and_frames_on_disk_are_measured_in_pieces_exactly(
    tmp_path, nuclei_sample, small_pieces
):
    image, labels = nuclei_sample
    labels = labels[:128, :192].astype(np.uint16)
    image = image[:128, :192]
    volume = np.stack([labels, np.roll(labels, 9, axis=1), np.zeros_like(labels)])
    channels = np.stack([image, image // 2], axis=-1)
    images = np.stack([channels, channels[::-1], channels])
    lazy = _on_disk(tmp_path, "volume", volume, (2, 64, 64))
    _same(
        measure_objects(lazy, image=images, axes="TYX"),
        measure_objects(volume, image=images, axes="TYX"),
    )
    lazy = _on_disk(tmp_path, "zyx", volume, (2, 64, 64))
    spacing = {"Z": 2.0, "Y": 0.5, "X": 0.5}
    _same(
        measure_objects(lazy, image=images[..., 0], spacing=spacing),
        measure_objects(volume, image=images[..., 0], spacing=spacing),
    )


def test_export_finds_the_divisions_ends_in_labels_on_disk_piece_by_piece(tmp_path):
    """Export's recipe keeps the divisions whose ends are in the labels (_present): of labels
    on disk (a blockwise movie), found a piece at a time (it raised AttributeError on a zarr
    once Export stopped reading such labels whole, d05b652)."""
    from tessella._widgets._export_outputs import _present

    labels = np.zeros((3, 200, 200), np.uint32)
    labels[0, :10, :10], labels[2, 150:, 150:], labels[1, 70:90, 60:140] = 4, 9, 2**20
    lazy = _on_disk(tmp_path, "movie", labels, (1, 64, 64))
    wanted = {4, 5, 9, 2**20}
    assert _present(lazy, wanted) == _present(labels, wanted) == {4, 9, 2**20}
    assert max(lazy.reads) == 200 * 200  # (a frame at a time)

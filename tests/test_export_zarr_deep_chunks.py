"""Export's zarr and OME-Zarr of 3D labels on disk whose chunks are deeper than those it
writes (a blockwise result of a volume: 256³ chunks; the zarr written: 8 x 512 x 512 for
2048² uint32 planes) decode each chunk once, not once per piece written (r8 finding 3: 32
times for 256-deep chunks). The zarr written is the same (values, type, chunks), each read
counts on the progress bar, and Cancel stops it."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import zarr

from tessella._widgets._export_lazy import Stopped, Ticker, write_labels_in_pieces, zarr_pieces
from tessella.engine import digest


@pytest.fixture
def shallow(monkeypatch):
    """The zarr written in chunks 4 planes deep (as 2048² uint32 planes get 8), not whole."""
    monkeypatch.setattr(digest, "_PIECE_BYTES", 4 * 160 * 200 * 2)


@pytest.fixture
def memory_reads(monkeypatch):
    """How many chunks are read from zarrs in memory (the labels on disk here; the zarr
    written is on disk): each read of a chunk decodes it whole."""
    reads = {"n": 0}
    get = zarr.storage.MemoryStore.get

    async def counting(self, key, *args, **kwargs):
        if key.startswith("c/"):
            reads["n"] += 1
        return await get(self, key, *args, **kwargs)

    monkeypatch.setattr(zarr.storage.MemoryStore, "get", counting)
    return reads


def _stored(labels, chunks):
    """``labels`` in a zarr in memory."""
    store = zarr.storage.MemoryStore()
    z = zarr.create_array(store, shape=labels.shape, chunks=chunks, dtype=labels.dtype)
    z[...] = labels
    return zarr.open_array(store, mode="r")


@pytest.mark.parametrize("ome", [False, True], ids=["zarr", "ome_zarr"])
@pytest.mark.parametrize("chunks", [(24, 80, 100), (12, 160, 200), (24, 64, 64)])
def test_each_deep_chunk_read_once(tmp_path, mito_3d, shallow, memory_reads, ome, chunks):
    stored = _stored(mito_3d, chunks)
    reads = memory_reads
    reads["n"] = 0
    ends = (int(mito_3d.min()), int(mito_3d.max()))
    total = zarr_pieces(stored, ends, ome)
    ticker = Ticker(total)
    ticker.begin("writing", total)
    out = tmp_path / ("l.ome.zarr" if ome else "l.zarr")
    write_labels_in_pieces(
        out,
        stored,
        ends,
        "ZYX",
        {"Z": 5.0, "Y": 15.0, "X": 15.0},
        "nm",
        ome,
        name="mito_3d",
        ticker=ticker,
    )
    chunk_count = int(np.prod([-(-n // c) for n, c in zip(mito_3d.shape, chunks)]))
    assert reads["n"] == chunk_count  # (before: 6x, 3x, 6x, each piece 4 deep)
    assert ticker.done == total  # (every read counted on the bar)
    written = zarr.open_array(str(out / "0" if ome else out), mode="r")
    assert written.chunks == (4, 160, 200) and written.dtype == np.uint16
    np.testing.assert_array_equal(written[...], mito_3d)


def test_cancel_between_two_reads(tmp_path, mito_3d, shallow):
    stored = _stored(mito_3d, (24, 80, 100))
    cancel = threading.Event()
    ticker = Ticker(1, cancel)
    original = ticker.tick

    def tick():
        original()
        cancel.set()  # (Cancel pressed while the first region is read)

    ticker.tick = tick  # type: ignore[method-assign]
    with pytest.raises(Stopped):
        write_labels_in_pieces(
            tmp_path / "l.zarr", stored, (0, 6), "ZYX", None, "µm", False, ticker=ticker
        )


def test_the_levels_read_from_level_0_written(
    tmp_path, mito_3d, shallow, memory_reads, monkeypatch
):
    """An OME-Zarr's lower-resolution levels (planes over 4096², here over 100²) are taken
    from its level 0 just written, in chunks the levels' pieces hold whole, not from the
    labels again, whose deep chunks each piece decoded whole (before: 48 more reads)."""
    from tessella.engine.io import _write

    monkeypatch.setattr(_write, "LEVELS_PIXELS", 100 * 100)
    monkeypatch.setattr(_write, "LEVELS_SMALLEST", 50)
    stored = _stored(mito_3d, (24, 80, 100))
    memory_reads["n"] = 0
    ends = (int(mito_3d.min()), int(mito_3d.max()))
    total = zarr_pieces(stored, ends, True)
    ticker = Ticker(total)
    ticker.begin("writing", total)
    out = tmp_path / "l.ome.zarr"
    write_labels_in_pieces(out, stored, ends, "ZYX", None, "µm", True, name="m", ticker=ticker)
    assert memory_reads["n"] == 4  # (level 0 only; before: 52)
    assert ticker.done == total
    group = zarr.open_group(str(out), mode="r")
    np.testing.assert_array_equal(group["1"][...], mito_3d[:, ::2, ::2])
    np.testing.assert_array_equal(group["2"][...], mito_3d[:, ::4, ::4])

"""Export's TIFF of 3D labels on disk whose zarr chunks are several planes deep (a blockwise
result of a volume: chunks of the block, 256³ by default) decodes each chunk once, not once
per plane (r8 finding 1: each page read alone decoded every chunk it crosses, a 256-deep
chunk 256 times, 42 s where a whole read takes 0.08 s). The file is still byte for byte the
one ``write_labels`` writes of the labels in memory, each read counts on the progress bar,
and Cancel stops it between two reads."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import tifffile
import zarr
from zarr.core.codec_pipeline import BatchedCodecPipeline

from tessella._widgets import _export_lazy
from tessella._widgets._export_lazy import Stopped, Ticker, tiff_bands, tiff_pieces
from tessella._widgets._export_outputs import _Output
from tessella._widgets._export_write import _export_steps, _Plan
from tessella.engine.io import write_labels
from tessella.engine.io._write import write_labels_in_strips


@pytest.fixture
def decodes(monkeypatch):
    """How many zarr chunks are decoded (every read of a chunk decodes it whole)."""
    count = {"n": 0}
    original = BatchedCodecPipeline.decode_batch

    async def counting(self, batch, *args, **kwargs):
        batch = list(batch)
        count["n"] += len(batch)
        return await original(self, batch, *args, **kwargs)

    monkeypatch.setattr(BatchedCodecPipeline, "decode_batch", counting)
    return count


def _stored(tmp_path, labels, chunks):
    z = zarr.create_array(
        str(tmp_path / "r.zarr"), shape=labels.shape, chunks=chunks, dtype=labels.dtype
    )
    z[...] = labels
    return zarr.open_array(str(tmp_path / "r.zarr"), mode="r")


def _chunk_count(stored) -> int:
    return int(np.prod([-(-n // c) for n, c in zip(stored.shape, stored.chunks)]))


@pytest.mark.parametrize("chunks", [(24, 160, 200), (8, 64, 64), (24, 32, 200)])
def test_each_deep_chunk_decoded_once_and_the_same_file(tmp_path, mito_3d, decodes, chunks):
    stored = _stored(tmp_path, mito_3d, chunks)
    write_labels(tmp_path / "whole.tif", mito_3d, "ZYX", {"Z": 5.0, "Y": 5.0, "X": 5.0}, "nm")
    decodes["n"] = 0
    reads = len(tiff_pieces(stored))
    ticker = Ticker(reads)
    ticker.begin("writing", reads)
    ends = (int(mito_3d.min()), int(mito_3d.max()))
    write_labels_in_strips(
        tmp_path / "bands.tif",
        tiff_bands(stored, ticker),
        mito_3d.shape,
        ends,
        "ZYX",
        {"Z": 5.0, "Y": 5.0, "X": 5.0},
        "nm",
    )
    assert decodes["n"] == _chunk_count(stored)  # (before: once per plane, 24x)
    assert ticker.done == reads  # (every read counted on the bar)
    assert (tmp_path / "bands.tif").read_bytes() == (tmp_path / "whole.tif").read_bytes()


def test_slabs_bounded_by_memory(tmp_path, mito_3d, decodes, monkeypatch):
    """Where a chunk's depth of pages is more than the slab's bytes, slabs of fewer pages,
    none crossing a chunk's edge: a chunk decoded once per slab, not once per page."""
    monkeypatch.setattr(_export_lazy, "TIFF_SLAB_BYTES", 5 * 160 * 200 * 4)  # 5 pages
    stored = _stored(tmp_path, mito_3d, (12, 80, 200))
    decodes["n"] = 0
    pages = np.stack(list(tiff_bands(stored, Ticker(1))))
    np.testing.assert_array_equal(pages, mito_3d)
    # a 12-deep chunk in slabs of 5, 5, 2: 3 decodes each (before: 12)
    assert decodes["n"] == 3 * _chunk_count(stored)


def test_a_time_lapse_of_volumes(tmp_path, mito_3d, decodes):
    movie = np.stack([mito_3d[:12], mito_3d[12:]])  # T=2, Z=12
    stored = _stored(tmp_path, movie, (1, 6, 80, 100))
    decodes["n"] = 0
    pages = np.stack(list(tiff_bands(stored, Ticker(1))))
    np.testing.assert_array_equal(pages, movie.reshape(-1, *movie.shape[-2:]))
    assert decodes["n"] == _chunk_count(stored)


def test_cancel_between_two_reads(tmp_path, mito_3d):
    stored = _stored(tmp_path, mito_3d, (8, 64, 64))
    cancel = threading.Event()
    ticker = Ticker(len(tiff_pieces(stored)), cancel)
    bands = tiff_bands(stored, ticker)
    next(bands)
    cancel.set()
    with pytest.raises(Stopped):
        list(bands)


def test_export_of_a_deep_chunked_result(tmp_path, mito_3d, decodes):
    """Through Export's own steps (as its worker runs them): the TIFF pass decodes each chunk
    once (the range/digest pass once more), and the progress ends at its total."""
    stored = _stored(tmp_path, mito_3d, (24, 160, 200))  # (one chunk, as blockwise writes)
    out = tmp_path / "out"
    out.mkdir()
    plan = _Plan(
        name="mito_3d",
        outputs=[_Output("tiff", out / "mito_3d.tif")],
        overwrite=False,
        make_folder=None,
        data=stored,
        axes="ZYX",
        pixel_size={"Z": 5.0, "Y": 5.0, "X": 5.0},
        unit="nm",
        stack=None,
        image=None,
        result=None,
        numbers=None,
        lineage={},
        recipe=None,
    )
    decodes["n"] = 0
    steps = _export_steps(plan)
    said = []
    try:
        while True:
            said.append(next(steps))
    except StopIteration as stop:
        done = stop.value
    assert done.written == [out / "mito_3d.tif"]
    assert decodes["n"] == 2  # (before: 1 + 24)
    np.testing.assert_array_equal(tifffile.imread(out / "mito_3d.tif"), mito_3d)

"""A volume stored one slice per chunk (ZYX chunks of 1xYxX: written slice by slice, as many
tools export it, and what napari shows a volume from best) is not "thin along Z": neither
opening it in napari nor a blockwise run says to rechunk it. An image stored one row of
pixels per chunk (1x8192, a few KiB a chunk) still is, in both.

A blockwise run judges a layout by what its blocks read: each decodes every chunk it touches
whole, so chunks of 64 KiB or more, or whole slices, that make every block decode many times
its own bytes are said there (not when opening them, where napari reads the view's chunks)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile
import zarr

from tessella._io import ChunksWarning, read_layers
from tessella.engine.blockwise._grid import block_grid
from tessella.engine.blockwise._store import _check_chunks, _open_input


@pytest.fixture(scope="module")
def volume(data_dir) -> np.ndarray:
    """A 25x512x512 crop of a real EM volume (Lucchi++, uint8)."""
    return tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "image.tif")[:, :512, :512]


def _zarr(path, data, chunks):
    array = zarr.create_array(str(path), shape=data.shape, dtype=data.dtype, chunks=chunks)
    array[...] = data
    return path


def _opened(path) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_layers(path)
    return [str(w.message) for w in caught if issubclass(w.category, ChunksWarning)]


def _blockwise(path, axes, block) -> list[str]:
    data = _open_input(path, axes)
    grid = block_grid(data.array.shape, block, 16)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _check_chunks(data, grid)
    return [str(w.message) for w in caught if "is stored in chunks of" in str(w.message)]


def test_a_volume_stored_a_slice_per_chunk_is_not_called_thin(tmp_path, volume):
    slices = _zarr(tmp_path / "slices.zarr", volume, (1, 512, 512))
    assert _opened(slices) == []
    assert _blockwise(slices, "ZYX", 256) == []
    # (a whole slice of 128x128 uint8 is 16 KiB, small, but it is a whole slice still)
    small = _zarr(tmp_path / "small.zarr", volume[:, :128, :128], (1, 128, 128))
    assert _opened(small) == []
    assert _blockwise(small, "ZYX", 128) == []


def test_an_image_stored_in_rows_is_still_called_thin(tmp_path, volume):
    # a 2D slide 512x8192 (the EM slices side by side) in chunks of one row, 8 KiB each
    slide = np.concatenate([volume[i] for i in range(16)], axis=1)
    rows = _zarr(tmp_path / "rows.zarr", slide, (1, 8192))
    (opened,) = _opened(rows)
    assert opened.startswith(f"{rows}: stored in chunks of 1x8192 pixels (YX), thin along Y")
    (said,) = _blockwise(rows, "YX", 2048)
    assert said.startswith(f"{rows} is stored in chunks of 1x8192 pixels (YX): every block")
    assert "tessella convert" in said


def _layout(path, shape, dtype, chunks):
    """A zarr of ``shape`` in ``chunks`` holding its metadata only (every chunk the fill
    value, so no chunk file): the checks read the layout, not the pixels."""
    zarr.create_array(str(path), shape=shape, dtype=dtype, chunks=chunks)
    return path


def test_a_slide_in_rows_of_64_kib_is_said_by_blockwise_only(tmp_path):
    # rows of 32768 uint16 px, 64 KiB a chunk: a 2048-px block reads 1024 of them, 32768 px
    # wide, and decodes 16 times its bytes (a 1024x2048 chunk: about 2 times)
    rows = _layout(tmp_path / "rows.zarr", (1024, 32768), "uint16", (1, 32768))
    assert _opened(rows) == []
    (said,) = _blockwise(rows, "YX", 2048)
    assert said.startswith(
        f"{rows} is stored in chunks of 1x32768 pixels (YX): every block reads about 1,024 "
        "chunks and decodes 16 times the bytes it reads, an estimated "
    )
    assert "times the work of chunks of 1024 px, which is slow" in said
    assert said.endswith("--chunk 1024")  # what convert writes for 2048-px blocks
    assert f"tessella convert {rows} {tmp_path / 'rows_rechunked.zarr'}" in said


def test_a_volume_in_whole_planes_is_said_by_blockwise_only(tmp_path):
    # whole 4096x4096 uint8 planes, 16 MiB a chunk: a 256-px block (288 px with its halo of
    # 16) decodes each plane it meets whole, (4096 / 286)^2 = 205 times its bytes
    planes = _layout(tmp_path / "planes.zarr", (64, 4096, 4096), "uint8", (1, 4096, 4096))
    assert _opened(planes) == []
    (said,) = _blockwise(planes, "ZYX", 256)
    assert "chunks of 1x4096x4096 pixels (ZYX): every block reads about 64 chunks" in said
    assert "decodes 205 times the bytes it reads" in said
    assert said.endswith("--chunk 128")


def test_layouts_that_read_no_worse_than_rechunked_are_not_said(tmp_path):
    # what `tessella convert --chunk` writes, chunks of the block's edge (its default before:
    # their blocks read at most 3.3 times the work of chunks of half the edge), smaller
    # tiles, and whole 512x512 slices (each block decodes about 3 times its bytes)
    for name, shape, dtype, chunks, axes, block in [
        ("slide", (1024, 32768), "uint16", (1024, 1024), "YX", 2048),
        ("blocks", (1024, 32768), "uint16", (1024, 2048), "YX", 2048),
        ("tiles", (1024, 32768), "uint16", (512, 512), "YX", 2048),
        ("cubes", (512, 512, 512), "uint8", (128, 128, 128), "ZYX", 256),
        ("cubes256", (2048, 2048, 2048), "uint16", (256, 256, 256), "ZYX", 256),
        ("slices", (512, 512, 512), "uint8", (1, 512, 512), "ZYX", 256),
    ]:
        path = _layout(tmp_path / f"{name}.zarr", shape, dtype, chunks)
        assert _blockwise(path, axes, block) == [], name


def test_convert_writes_chunks_of_half_the_default_block(tmp_path, volume):
    # blocks are read with their halos: chunks of half their edge (1024 px in 2D, 128 in
    # 3D) read faster than chunks of the edge (benchmarks/convert_chunk_sides.py)
    from tessella.engine.blockwise import to_chunked_zarr

    tif = tmp_path / "em.tif"
    tifffile.imwrite(tif, volume, metadata={"axes": "ZYX"})
    assert zarr.open(str(to_chunked_zarr(tif, tmp_path / "em.zarr")), mode="r").chunks == (
        25,
        128,
        128,
    )
    slide = tmp_path / "slide.tif"
    tifffile.imwrite(slide, np.concatenate([volume[0], volume[1], volume[2]], axis=1))
    converted = zarr.open(str(to_chunked_zarr(slide, tmp_path / "slide.zarr")), mode="r")
    assert converted.chunks == (512, 1024)


def test_what_the_advice_writes_is_what_the_check_compares_with(tmp_path):
    # the command a badly chunked zarr is answered with writes chunks the check finds fine
    from tessella.engine.blockwise import to_chunked_zarr

    rows = _layout(tmp_path / "rows.zarr", (1024, 32768), "uint16", (1, 32768))
    (said,) = _blockwise(rows, "YX", 2048)
    assert said.endswith("--chunk 1024")
    rechunked = to_chunked_zarr(rows, tmp_path / "rows_rechunked.zarr")  # (its default)
    assert zarr.open(str(rechunked), mode="r").chunks == (1024, 1024)
    assert _blockwise(rechunked, "YX", 2048) == []

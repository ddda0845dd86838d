"""A volume stored one slice per chunk (ZYX chunks of 1xYxX: written slice by slice, as many
tools export it, and what napari shows a volume from best) is not "thin along Z": neither
opening it in napari nor a blockwise run says to rechunk it. An image stored one row of
pixels per chunk (1x8192, a few KiB a chunk) still is, in both."""

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
    return [str(w.message) for w in caught if "thin along" in str(w.message)]


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
    assert said.startswith(f"{rows} is stored in chunks of 1x8192 pixels (YX), thin along Y")

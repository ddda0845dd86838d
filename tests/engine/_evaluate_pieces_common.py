"""What the tests of pairs scored a piece at a time share: a pair written as a zarr and a
TIFF, a spy on the most pixels ``score_paths`` reads at once (``io.as_array``) with the
pieces made ``side`` pixels wide (``_tiles.TILE_SIDE``), and a lazy array counting them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
import zarr

from tessella.engine import io
from tessella.engine.evaluation import _tiles


def write_pair_file(folder: Path, name: str, array: np.ndarray, chunks: int) -> tuple[str, str]:
    """``array`` as NAME.zarr (chunks of ``chunks`` x ``chunks``) and NAME.tif in
    ``folder``; returns their paths (zarr, TIFF)."""
    store = zarr.open(str(folder / f"{name}.zarr"), mode="w", shape=array.shape,
                      chunks=(chunks, chunks), dtype=array.dtype)  # fmt: skip
    store[:] = array
    tifffile.imwrite(folder / f"{name}.tif", array)
    return str(folder / f"{name}.zarr"), str(folder / f"{name}.tif")


def spy_largest_read(monkeypatch, side: int) -> list[int]:
    """Pieces of ``side`` pixels, and a list whose one item is the most pixels read at once
    by ``io.as_array`` since (what ``score_paths`` reads with)."""
    monkeypatch.setattr(_tiles, "TILE_SIDE", side)
    seen = [0]
    as_array = io.as_array

    def spy(data, *args, **kwargs):
        array = as_array(data, *args, **kwargs)
        seen[0] = max(seen[0], array.size)
        return array

    monkeypatch.setattr(io, "as_array", spy)
    return seen


class Lazy:
    """A 2D array not in memory (as a zarr is), counting the most pixels read at once in
    ``seen[0]``."""

    def __init__(self, array: np.ndarray, seen: list[int]):
        self.array, self.seen = array, seen
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim

    def __getitem__(self, where):
        piece = self.array[where]
        self.seen[0] = max(self.seen[0], piece.size)
        return piece

    def __array__(self, dtype=None, copy=None):
        self.seen[0] = max(self.seen[0], self.array.size)
        return self.array if dtype is None else self.array.astype(dtype)

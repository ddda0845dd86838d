"""Blocks over a label array: cores that tile it, halos around them, the boxes next to each face."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BlockGrid:
    """Blocks over a label array: the cores tile it; each is read with ``halo`` more per side.

    Examples
    --------
    >>> grid = block_grid((1000, 700), block=512, halo=64)
    >>> grid.counts, grid.n_blocks
    ((2, 2), 4)
    >>> grid.core((1, 1))
    (slice(512, 1000, None), slice(512, 700, None))
    >>> grid.extended((1, 1))
    (slice(448, 1000, None), slice(448, 700, None))
    """

    shape: tuple[int, ...]
    block: tuple[int, ...]
    halo: tuple[int, ...]

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(-(-n // b) for n, b in zip(self.shape, self.block))

    @property
    def n_blocks(self) -> int:
        return int(np.prod(self.counts))

    def indices(self) -> list[tuple[int, ...]]:
        return list(itertools.product(*(range(c) for c in self.counts)))

    def linear(self, index: tuple[int, ...]) -> int:
        return int(np.ravel_multi_index(index, self.counts))

    def contains(self, index: tuple[int, ...]) -> bool:
        return all(0 <= i < c for i, c in zip(index, self.counts))

    def core(self, index: tuple[int, ...]) -> tuple[slice, ...]:
        return tuple(
            slice(i * b, min((i + 1) * b, n)) for i, b, n in zip(index, self.block, self.shape)
        )

    def extended(self, index: tuple[int, ...]) -> tuple[slice, ...]:
        return tuple(
            slice(max(0, s.start - h), min(s.stop + h, n))
            for s, h, n in zip(self.core(index), self.halo, self.shape)
        )


def _as_tuple(value, n: int) -> tuple[int, ...]:
    """``value`` (an int, or one int per axis) as ``n`` ints (a sequence keeps its length)."""
    if np.ndim(value) == 0:
        return (int(value),) * n
    return tuple(int(v) for v in value)


def block_grid(shape, block, halo) -> BlockGrid:
    """A :class:`BlockGrid`; ``block`` and ``halo`` are an int or one value per axis."""
    shape = tuple(int(n) for n in shape)
    block = _as_tuple(block, len(shape))
    halo = _as_tuple(halo, len(shape))
    if not len(block) == len(halo) == len(shape):
        raise ValueError(f"block {block} and halo {halo} must have {len(shape)} values")
    if any(b < 1 for b in block) or any(h < 0 for h in halo) or any(n < 1 for n in shape):
        raise ValueError(f"bad block {block} or halo {halo} for an array of shape {shape}")
    return BlockGrid(shape, tuple(min(b, n) for b, n in zip(block, shape)), halo)


def _offsets(stitched: tuple[bool, ...], positive: bool):
    """Neighbour offsets (faces, edges, corners) along the ``stitched`` axes; with ``positive``
    only those whose first non-zero component is +1, so that each pair of blocks comes once."""
    for offset in itertools.product(*((-1, 0, 1) if s else (0,) for s in stitched)):
        nonzero = [o for o in offset if o]
        if nonzero and (not positive or nonzero[0] > 0):
            yield offset


def _face_box(grid: BlockGrid, index, offset, depth) -> list[tuple[int, int]]:
    """Pixels within ``depth`` of the face (edge, corner) shared with block ``index + offset``:
    the same box seen from either block."""
    box = []
    for core, o, d in zip(grid.core(index), offset, depth):
        edge = core.stop if o > 0 else core.start
        box.append((edge - d, edge + d) if o else (core.start, core.stop))
    return box


def _within(box, region: tuple[slice, ...], inside: tuple[slice, ...] | None = None):
    """``box`` clipped to ``region``, as slices relative to ``inside`` (default ``region``)."""
    inside = inside or region
    return tuple(
        slice(lo - i.start, max(hi, lo) - i.start)
        for lo, hi, i in (
            (max(b0, r.start), min(b1, r.stop), i) for (b0, b1), r, i in zip(box, region, inside)
        )
    )

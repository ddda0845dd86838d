"""Tiled inference with a halo and smooth blending, in 2D and 3D.

The image is padded by ``halo`` on every side (``pad_mode``, mirrored by default) and cut into
windows of ``tile_shape`` whose origins are multiples of the network's ``multiple`` (so a
pooling network sees every window aligned the same way). Each window's outer ``halo`` is
context only (weight 0); inside, the weight rises with a raised cosine over ``ramp`` pixels and
is 1 in the middle, so neighbouring windows cross-fade. The accumulators have the image's size:
memory grows with the image, not with the number of tiles. When the network's receptive field
fits in the halo, the tiled result equals the untiled one to float precision.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from .progress import Progress

__all__ = ["PAD_MODES", "TileGrid", "tile_grid", "predict_tiled", "blend_window", "pad_array"]

#: how the image is extended past its edges: numpy's ``reflect`` (d c b | a b c d), ``symmetric``
#: (c b a | a b c d) or ``edge`` (a a a | a b c d). A model card's ``defaults.pad`` chooses.
PAD_MODES = ("reflect", "symmetric", "edge")


def pad_array(array: np.ndarray, widths: Sequence[tuple[int, int]], mode: str) -> np.ndarray:
    """``np.pad`` with one of :data:`PAD_MODES` (checked: a card or a caller may give any)."""
    if mode not in PAD_MODES:
        raise ValueError(f"padding {mode!r}: choose one of {', '.join(PAD_MODES)}")
    return np.pad(array, widths, mode=cast(Any, mode))


Forward = Callable[[np.ndarray], dict[str, np.ndarray]]


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


@dataclass(frozen=True)
class TileGrid:
    """Where the windows go. Coordinates are in the padded image."""

    shape: tuple[int, ...]  # the image's spatial shape
    padded_shape: tuple[int, ...]
    tile_shape: tuple[int, ...]
    halo: tuple[int, ...]
    ramp: tuple[int, ...]
    origins: tuple[tuple[int, ...], ...]  # per axis, the window starts

    @property
    def n_tiles(self) -> int:
        return int(np.prod([len(o) for o in self.origins]))

    def windows(self):
        """Each window as a tuple of slices into the padded image."""
        for start in itertools.product(*self.origins):
            yield tuple(slice(s, s + t) for s, t in zip(start, self.tile_shape))


def tile_grid(
    shape: Sequence[int],
    tile_shape: Sequence[int],
    halo: Sequence[int],
    multiple: int = 1,
    ramp: Sequence[int] | None = None,
) -> TileGrid:
    """Plan the windows for an image of spatial ``shape``.

    Examples
    --------
    >>> grid = tile_grid((1000, 1000), tile_shape=(512, 512), halo=(32, 32), multiple=16)
    >>> grid.n_tiles, grid.tile_shape
    (9, (432, 432))
    """
    ndim = len(shape)
    tile_shape, halo = tuple(int(t) for t in tile_shape), tuple(int(h) for h in halo)
    ramp = tuple(int(r) for r in (ramp if ramp is not None else halo))
    if not (len(tile_shape) == len(halo) == len(ramp) == ndim):
        raise ValueError(f"tile_shape {tile_shape} and halo {halo} must have {ndim} axes")
    if any(s <= 0 for s in shape):
        raise ValueError(f"cannot tile an empty image of shape {tuple(shape)}")
    tiles, origins, padded = [], [], []
    for n, requested, h, r in zip(shape, tile_shape, halo, ramp):
        needed = _round_up(n + 2 * h, multiple)
        t = min(_round_up(requested, multiple), needed)
        step = (t - 2 * h - r) // multiple * multiple
        if t < needed and step < multiple:
            raise ValueError(
                f"tile size {requested} is too small for halo {h} and blending ramp {r}; "
                f"use a tile of at least {_round_up(2 * h + r + multiple, multiple)}"
            )
        if t < needed:
            # the fewest windows of at most ``t`` that cover the axis, then the smallest
            # window giving that count: less padding and overlap to compute
            count = 1 + -(-(needed - t) // step)
            overhead = 2 * h + r
            smallest = _round_up(-(-(needed + (count - 1) * overhead) // count), multiple)
            t = min(t, max(smallest, _round_up(overhead + multiple, multiple)))
            step = (t - 2 * h - r) // multiple * multiple
        total = max(needed, t)
        starts = list(range(0, total - t, step)) if t < total else []
        starts.append(total - t)
        tiles.append(t)
        origins.append(tuple(sorted(set(starts))))
        padded.append(total)
    return TileGrid(tuple(shape), tuple(padded), tuple(tiles), halo, ramp, tuple(origins))


def blend_window(length: int, halo: int, ramp: int) -> np.ndarray:
    """1D weights: 0 over the halo, a raised-cosine ramp, 1 in the middle (never 0 inside)."""
    weights = np.ones(length, dtype=np.float32)
    inner = length - 2 * halo
    ramp = max(0, min(ramp, inner // 2))
    if halo:
        weights[:halo] = 0
        weights[length - halo :] = 0
    if ramp:
        rise = 0.5 - 0.5 * np.cos(np.pi * (np.arange(ramp, dtype=np.float32) + 0.5) / ramp)
        weights[halo : halo + ramp] = rise
        weights[length - halo - ramp : length - halo] = rise[::-1]
    return weights


def predict_tiled(
    image: np.ndarray,
    forward: Forward,
    tile_shape: Sequence[int],
    halo: Sequence[int],
    multiple: int = 1,
    ramp: Sequence[int] | None = None,
    stage: str = "predict",
    pad_mode: str = "reflect",
) -> Generator[Progress, None, dict[str, np.ndarray]]:
    """Run ``forward`` window by window over ``image`` (``(channels, *spatial)``).

    ``forward`` maps a ``(channels, *tile_shape)`` float32 window to named
    ``(k, *tile_shape)`` outputs. This is a generator: it yields a :class:`Progress` after
    every window and returns the blended outputs, each ``(k, *spatial)`` float32. Closing the
    generator (cancel) stops it before the next window. ``pad_mode`` (:data:`PAD_MODES`) says
    how the image is extended past its edges.
    """
    spatial = image.shape[1:]
    grid = tile_grid(spatial, tile_shape, halo, multiple, ramp)
    pad = [(0, 0)] + [(h, p - n - h) for n, h, p in zip(spatial, grid.halo, grid.padded_shape)]
    padded = pad_array(image.astype(np.float32, copy=False), pad, pad_mode)
    window = np.ones(grid.tile_shape, dtype=np.float32)
    for axis, (t, h, r) in enumerate(zip(grid.tile_shape, grid.halo, grid.ramp)):
        shape = [1] * len(spatial)
        shape[axis] = t
        window = window * blend_window(t, h, r).reshape(shape)
    weight_sum = np.zeros(grid.padded_shape, dtype=np.float32)
    sums: dict[str, np.ndarray] = {}
    total = grid.n_tiles
    yield Progress(stage, 0, total)
    for done, slices in enumerate(grid.windows(), start=1):
        index = (slice(None), *slices)  # all channels of this window
        outputs = forward(np.ascontiguousarray(padded[index]))
        for name, values in outputs.items():
            if name not in sums:
                sums[name] = np.zeros((values.shape[0], *grid.padded_shape), dtype=np.float32)
            sums[name][index] += values * window
        weight_sum[slices] += window
        yield Progress(stage, done, total)
    crop = tuple(slice(h, h + n) for h, n in zip(grid.halo, spatial))
    norm = weight_sum[crop]
    channel_crop = (slice(None), *crop)
    return {name: acc[channel_crop] / norm for name, acc in sums.items()}

"""The parts of a large or lazy ground truth read to guess what it is (``ground_truth_kind``
with ``sample_pixels``): :func:`sample_planes`, the first look, and :func:`wider_look`, the
second where the first shows little. Only the parts are read (a dask array's computed
together); windows are contiguous, so thin lines and the regions between them stay as they
are."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["sample_planes", "wider_look"]


def _read(array, windows: list[tuple]) -> list[np.ndarray]:
    """The ``windows`` (index tuples) of ``array``, numpy or lazy (a dask array's computed
    together, its graph optimised once)."""
    parts = [array[window] for window in windows]
    if hasattr(array, "__dask_graph__"):
        import dask

        parts = list(dask.compute(*parts))
    return [np.asarray(part) for part in parts]


def _fit(height: int, width: int, pixels: int) -> tuple[int, int]:
    """The height and width of a window of about ``pixels`` pixels, as square as a
    ``height`` x ``width`` plane allows."""
    h = min(height, max(1, math.isqrt(max(1, pixels))))
    w = min(width, max(1, pixels // h))
    return min(height, max(1, pixels // w)), w


def _around(centre: int, size: int, extent: int) -> slice:
    start = min(max(0, centre - size // 2), extent - size)
    return slice(start, start + size)


def sample_planes(array, max_pixels: int) -> tuple[np.ndarray, str]:
    """``(sample, words)``: at most about ``max_pixels`` pixels of ``array`` (numpy, or lazy:
    dask, zarr; only the sample is read), and what the sample is in words ("" when it is the
    whole array, which is then read whole).

    A 2D array gives a 3 x 3 grid of windows spread evenly over it (its corners, the middles
    of its edges and its centre; fewer where a window spans a whole side) as an
    ``(n, y, x)`` stack: one central window can hold one object of many, as sparse
    annotations do, and a ground truth of instances then looked like a binary mask.
    A larger array gives up to 16 of its 2D planes (the last two axes), the whole of each or
    its central window, as an ``(n, y, x)`` stack: 8 pairs of neighbouring planes spread
    evenly, so neighbours in the sample are mostly neighbours in the array
    (:func:`mask_stack_reason` compares them). Windows are contiguous, so thin lines and the
    regions between them stay as they are.

    >>> sample, words = sample_planes(np.zeros((100, 64, 64), np.uint8), 16 * 32 * 32)
    >>> sample.shape, words
    ((16, 32, 32), '16 of its 100 planes, each its central 32 x 32 of 64 x 64')
    >>> sample, words = sample_planes(np.zeros((300, 300), np.uint8), 9 * 50 * 50)
    >>> sample.shape, words
    ((9, 50, 50), '9 windows of 50 x 50 spread evenly over its 300 x 300 pixels')
    >>> sample_planes(np.zeros((64, 64)), 4096)[1]
    ''
    """
    shape = tuple(int(size) for size in array.shape)
    if math.prod(shape) <= max_pixels or len(shape) < 2:
        return np.asarray(array), ""
    height, width = shape[-2:]
    count = math.prod(shape[:-2])
    if count <= 16:
        picks = list(range(count))
    else:
        starts = np.unique(np.linspace(0, count - 2, 8).astype(int))
        picks = sorted({*starts.tolist(), *(starts + 1).tolist()})
    grid = 3 if len(shape) == 2 else 1  # windows per side of a plane
    budget = max(1, max_pixels // (len(picks) * grid * grid))
    h = min(height, max(1, math.isqrt(budget)))
    w = min(width, max(1, budget // h))
    h = min(height, max(1, budget // w))
    if grid == 1:
        tops, lefts = [(height - h) // 2], [(width - w) // 2]
    else:  # first to last row and column, evenly
        tops = np.unique(np.linspace(0, height - h, grid).astype(int)).tolist()
        lefts = np.unique(np.linspace(0, width - w, grid).astype(int)).tolist()
    windows = [(slice(top, top + h), slice(left, left + w)) for top in tops for left in lefts]
    planes = _read(
        array,
        [tuple(np.unravel_index(k, shape[:-2])) + window for k in picks for window in windows],
    )
    if len(shape) == 2:
        spread = f"spread evenly over its {height} x {width} pixels"
        return np.stack(planes), f"{len(planes)} windows of {h} x {w} {spread}"
    cut = "" if (h, w) == (height, width) else f"central {h} x {w} of {height} x {width}"
    words = f"{len(picks)} of its {count} planes" + (f", each its {cut}" if cut else "")
    return np.stack(planes), words


def wider_look(array, probe_pixels: int, close_pixels: int) -> tuple[np.ndarray, np.ndarray, str]:
    """``(probe, close, words)``: a second look at a large ``array`` (numpy, or lazy; 2 axes
    or more, the last two a plane), and what it was in words.

    ``probe``: about ``probe_pixels`` pixels as small windows spread over it, 3 x 3 over a
    2D image, one on each of up to 32 planes spread over the depth of a larger array, their
    place in the plane going round a 3 x 3 grid from plane to plane (so that annotation kept
    to some planes, or to one part of them, is found); ``close``: about ``close_pixels``
    more as one window (a pair of neighbouring planes' windows) around the probe window
    holding most annotation, large enough to hold a good many cells of a membrane map whose
    cells are larger than the probe's or :func:`sample_planes`' windows; none (an empty
    array) when the probe found nothing.

    >>> volume = np.zeros((200, 64, 64), np.uint8)
    >>> volume[100:110, 40:60, 40:60] = 1
    >>> probe, close, words = wider_look(volume, 32 * 16 * 16, 2 * 32 * 32)
    >>> probe.shape, close.shape, int(close.sum())
    ((32, 16, 16), (2, 32, 32), 400)
    >>> words
    'then 32 small windows over 32 planes and 32 x 32 of planes 109-110 around the fullest'
    >>> wider_look(np.zeros((300, 300), np.uint8), 9 * 50 * 50, 100 * 100)[1].shape
    (0, 50, 50)
    """
    shape = tuple(int(size) for size in array.shape)
    height, width = shape[-2:]
    count = math.prod(shape[:-2])
    picks = np.unique(np.linspace(0, count - 1, min(count, 32)).astype(int)).tolist()
    places = 9 if count == 1 else 1  # windows per picked plane
    h, w = _fit(height, width, probe_pixels // (len(picks) * places))
    tops = np.unique(np.linspace(0, height - h, 3).astype(int)).tolist()
    lefts = np.unique(np.linspace(0, width - w, 3).astype(int)).tolist()
    grid = [(top, left) for top in tops for left in lefts]
    probes = [  # (plane, top, left)
        (plane, *grid[(i * places + j) % len(grid)])
        for i, plane in enumerate(picks)
        for j in range(places)
    ]

    def plane_index(plane: int) -> tuple:
        return tuple(int(k) for k in np.unravel_index(plane, shape[:-2]))

    probe = np.stack(
        _read(
            array,
            [
                (*plane_index(plane), slice(top, top + h), slice(left, left + w))
                for plane, top, left in probes
            ],
        )
    )
    fullest = int(np.argmax(np.count_nonzero(probe.reshape(len(probe), -1), axis=1)))
    plane, top, left = probes[fullest]
    where = "it" if count == 1 else f"{len(picks)} planes"
    words = f"then {len(probes)} small windows over {where}"
    if not probe[fullest].any():  # (nothing to look closer at)
        return probe, probe[:0], words
    planes = [plane] if count == 1 else [min(plane, count - 2), min(plane, count - 2) + 1]
    close_h, close_w = _fit(height, width, close_pixels // len(planes))
    window = (_around(top + h // 2, close_h, height), _around(left + w // 2, close_w, width))
    close = np.stack(_read(array, [(*plane_index(k), *window) for k in planes]))
    pair = "" if count == 1 else f" of planes {planes[0]}-{planes[1]}"
    words += f" and {close_h} x {close_w}{pair} around the fullest"
    return probe, close, words

"""The parts of a large or lazy ground truth read to guess what it is (``ground_truth_kind``
with ``sample_pixels``): :func:`sample_planes`, the first look, and :func:`wider_look`, the
second where the first shows little. Only the parts are read (a dask array's computed
together); windows are contiguous, so thin lines and the regions between them stay as they
are."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["sample_planes", "wider_look"]

#: windows of :func:`wider_look`'s probe of a 2D image in each gap between the first windows,
#: along each side
_PER_GAP = 2


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


def _first_windows(
    shape: tuple[int, ...], max_pixels: int
) -> tuple[list[int], tuple[int, int], list[int], list[int]]:
    """``(picks, (h, w), tops, lefts)``: the planes :func:`sample_planes` reads of an array of
    ``shape`` (flat indices over the axes before the last two), and its windows in each: the
    ``h`` x ``w`` ones at every pair of ``tops`` and ``lefts``."""
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
        return picks, (h, w), [(height - h) // 2], [(width - w) // 2]
    # first to last row and column, evenly
    tops = np.unique(np.linspace(0, height - h, grid).astype(int)).tolist()
    lefts = np.unique(np.linspace(0, width - w, grid).astype(int)).tolist()
    return picks, (h, w), tops, lefts


def _between(extent: int, starts: list[int], seen: int, size: int) -> list[tuple[int, bool]]:
    """``(start, in_seen)`` of windows of ``size`` along one side (``extent`` long) of a
    plane whose first look read ``seen`` long from each of ``starts``: one centred on each
    such stretch (``in_seen``), and up to :data:`_PER_GAP` spread evenly over each gap
    between or beside them (space before, between and after them alike), so that a grid of
    them, less the windows in seen stretches both ways, lies between the first windows."""
    places: list[tuple[int, bool]] = []
    end = 0
    for start in [*sorted(starts), extent]:
        gap = start - end
        if gap > 0:
            fits = min(_PER_GAP, -(-gap // size))  # (one where the gap is no wider)
            free = gap - fits * size
            for i in range(fits):
                place = end + free * (i + 1) // (fits + 1) + i * size
                places.append((min(max(0, place), extent - size), False))
        if start < extent:
            places.append((min(max(0, start + (seen - size) // 2), extent - size), True))
            end = max(end, start + seen)
    return list(dict.fromkeys(places))


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
    picks, (h, w), tops, lefts = _first_windows(shape, max_pixels)
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


def wider_look(
    array, probe_pixels: int, close_pixels: int, first_pixels: int
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(probe, close, words)``: a second look at a large ``array`` (numpy, or lazy; 2 axes
    or more, the last two a plane) after :func:`sample_planes` with ``first_pixels``, and
    what it was in words.

    ``probe``: about ``probe_pixels`` pixels as small windows spread over it. Over a 2D
    image they lie between the first look's windows, where it read nothing: rows and
    columns of them through the middle of each stretch it read and two spread evenly over
    each gap between (40 windows against its 3 x 3), less the places it read both ways; so
    annotation kept to a part of the image the first look missed is found where it is wider
    than the spaces left between all the windows (about 310 to 370 pixels of a 4096 x 4096
    image, with the budget Evaluate uses). Over a larger array, one on each of up to 32
    planes spread over its depth, their place in the plane going round a 3 x 3 grid from
    plane to plane: annotation over enough planes for 9 of them to go round the grid, and
    wider than the spaces between the grid's windows, is found wherever it is in the plane;
    annotation in fewer planes, or in a smaller part of them, can fall between the windows
    (see :func:`ground_truth_kind` for what Evaluate's budget makes of a volume).
    ``close``: about ``close_pixels`` more as one window (a pair of neighbouring
    planes' windows) around the probe window holding most annotation, large enough to hold a
    good many cells of a membrane map whose cells are larger than the probe's or
    :func:`sample_planes`' windows; none (an empty array) when the probe found nothing.

    >>> volume = np.zeros((200, 64, 64), np.uint8)
    >>> volume[100:110, 40:60, 40:60] = 1
    >>> probe, close, words = wider_look(volume, 32 * 16 * 16, 2 * 32 * 32, 16 * 32 * 32)
    >>> probe.shape, close.shape, int(close.sum())
    ((32, 16, 16), (2, 32, 32), 400)
    >>> words
    'then 32 small windows over 32 planes and 32 x 32 of planes 109-110 around the fullest'
    >>> image = np.zeros((600, 600), np.uint8)  # the first look: 9 windows of 100 x 100
    >>> image[150:200, 400:450] = 1  # between them
    >>> probe, close, words = wider_look(image, 40 * 30 * 30, 200 * 200, 9 * 100 * 100)
    >>> probe.shape, close.shape, int(close.sum()), words
    ((40, 30, 30), (1, 200, 200), 2500, 'then 40 small windows between them and 200 x 200 ...')
    >>> wider_look(np.zeros((300, 300), np.uint8), 40 * 25 * 25, 100 * 100, 9 * 50 * 50)[1].shape
    (0, 25, 25)
    """
    shape = tuple(int(size) for size in array.shape)
    height, width = shape[-2:]
    count = math.prod(shape[:-2])
    picks = np.unique(np.linspace(0, count - 1, min(count, 32)).astype(int)).tolist()
    if count == 1:  # between the first windows
        _, (first_h, first_w), first_tops, first_lefts = _first_windows(shape, first_pixels)

        def places(size: tuple[int, int]) -> list[tuple[int, int]]:
            rows = _between(height, first_tops, first_h, size[0])
            columns = _between(width, first_lefts, first_w, size[1])
            return [
                (top, left) for top, seen in rows for left, also in columns if not (seen and also)
            ]

        h, w = _fit(height, width, probe_pixels // max(1, len(places((1, 1)))))
        grid = places((h, w)) or [(top, left) for top in first_tops for left in first_lefts]
        probes = [(0, top, left) for top, left in grid]  # (plane, top, left)
    else:
        h, w = _fit(height, width, probe_pixels // len(picks))
        tops = np.unique(np.linspace(0, height - h, 3).astype(int)).tolist()
        lefts = np.unique(np.linspace(0, width - w, 3).astype(int)).tolist()
        grid = [(top, left) for top in tops for left in lefts]
        probes = [(plane, *grid[i % len(grid)]) for i, plane in enumerate(picks)]

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
    where = "between them" if count == 1 else f"over {len(picks)} planes"
    words = f"then {len(probes)} small windows {where}"
    if not probe[fullest].any():  # (nothing to look closer at)
        return probe, probe[:0], words
    planes = [plane] if count == 1 else [min(plane, count - 2), min(plane, count - 2) + 1]
    close_h, close_w = _fit(height, width, close_pixels // len(planes))
    window = (_around(top + h // 2, close_h, height), _around(left + w // 2, close_w, width))
    close = np.stack(_read(array, [(*plane_index(k), *window) for k in planes]))
    pair = "" if count == 1 else f" of planes {planes[0]}-{planes[1]}"
    words += f" and {close_h} x {close_w}{pair} around the fullest"
    return probe, close, words

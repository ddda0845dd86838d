"""A guess at what a ground truth is (:func:`ground_truth_kind`): instance labels, a binary
mask, a membrane map or a stack of overlapping object masks."""

from __future__ import annotations

import math

import numpy as np

from ._mistakes import _membrane_cells, _two_values, mask_stack_reason

__all__ = ["ground_truth_kind", "sample_planes"]

#: above this many pixels, the connected pieces of a mask are not counted for
#: :func:`ground_truth_kind`'s words (a full 3D labelling takes about 0.1 s per 20 Mpx)
_COUNT_PIXELS = 2**22


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
    planes = [
        array[tuple(np.unravel_index(k, shape[:-2])) + window] for k in picks for window in windows
    ]
    if hasattr(array, "__dask_graph__"):  # computed together: the graph is optimised once
        import dask

        planes = list(dask.compute(*planes))
    planes = [np.asarray(plane) for plane in planes]
    if len(shape) == 2:
        spread = f"spread evenly over its {height} x {width} pixels"
        return np.stack(planes), f"{len(planes)} windows of {h} x {w} {spread}"
    cut = "" if (h, w) == (height, width) else f"central {h} x {w} of {height} x {width}"
    words = f"{len(picks)} of its {count} planes" + (f", each its {cut}" if cut else "")
    return np.stack(planes), words


def ground_truth_kind(
    truth, prediction_shape: tuple, prediction=None, sample_pixels: int | None = None
) -> tuple[str, str]:
    """``(kind, why)``: what the ground truth ``truth`` most likely is for a prediction of
    ``prediction_shape``, a key of :data:`GROUND_TRUTH_KINDS`, and why in a few words.

    ``"overlapping"``: an ``(N, Y, X)`` array against a ``(Y, X)`` prediction, one that looks
    like a stack of object masks (:func:`mask_stack_reason`) against a prediction of its
    shape, or against an ``(M, Y, X)`` prediction of the same image size that looks like one
    too (``prediction``, its data, when at hand; else its shape alone is taken);
    ``"boundaries"``: 0 and one value in thin lines around many regions; ``"binary"``: 0 and
    one value otherwise; else ``"labels"``. Quick enough to call at every change of a pair:
    a few sections are looked at, and the pieces of a mask over 4 Mpx are not counted.

    ``sample_pixels``: a larger ``truth`` (and ``prediction``), lazy ones included, is judged
    from a sample of about that many of its pixels (:func:`sample_planes`), the rest never
    read; ``why`` then ends by saying so. The choice between ``"overlapping"`` and the others
    by shape alone reads no pixel.

    >>> ground_truth_kind(np.array([[0, 1, 1, 0, 1]]), (1, 5))
    ('binary', 'only 0 and 1 (2 connected pieces): probably a binary mask')
    >>> ground_truth_kind(np.array([[0, 1, 1, 0, 2]]), (1, 5))[0]
    'labels'
    """
    from scipy import ndimage

    truth_shape, shape = tuple(np.shape(truth)), tuple(prediction_shape)
    if len(truth_shape) == len(shape) + 1 == 3 and truth_shape[1:] == shape:
        return "overlapping", (
            f"a stack of {truth_shape[0]} (Y, X) planes against a (Y, X) prediction: one object "
            "mask per plane"
        )

    def read(array):  # the whole array, or a sample of it
        if sample_pixels is None:
            return np.asarray(array), ""
        return sample_planes(array, sample_pixels)

    truth, sampled = read(truth)
    sample = f" (guessed from a sample: {sampled})" if sampled else ""
    stacks = len(truth_shape) == len(shape) == 3 and truth_shape[1:] == shape[1:]
    reason = mask_stack_reason(truth) if stacks else None
    if reason and (
        truth_shape == shape
        or prediction is None
        or mask_stack_reason(read(prediction)[0]) is not None
    ):
        against = "" if truth_shape == shape else f" against a stack of {shape[0]} object masks"
        return "overlapping", f"a stack of object masks: {reason}{against}{sample}"
    value = _two_values(truth)
    if value is None:
        return "labels", f"many object IDs: instance labels{sample}"
    if _membrane_cells(truth != 0, 4):
        return "boundaries", (
            f"only 0 and {value}, in thin lines between regions: a membrane map{sample}"
        )
    pieces = ""
    if truth.size <= _COUNT_PIXELS and not sampled:  # (a sample's pieces are not the array's)
        count = ndimage.label(truth != 0)[1]
        pieces = f" ({count} connected piece{'s' if count != 1 else ''})"
    return "binary", f"only 0 and {value}{pieces}: probably a binary mask{sample}"

"""A guess at what a ground truth is (:func:`ground_truth_kind`): instance labels, a binary
mask, a membrane map or a stack of overlapping object masks."""

from __future__ import annotations

import numpy as np

from ._mistakes import _membrane_cells, _two_values, mask_stack_reason

__all__ = ["ground_truth_kind"]

#: above this many pixels, the connected pieces of a mask are not counted for
#: :func:`ground_truth_kind`'s words (a full 3D labelling takes about 0.1 s per 20 Mpx)
_COUNT_PIXELS = 2**22


def ground_truth_kind(truth, prediction_shape: tuple, prediction=None) -> tuple[str, str]:
    """``(kind, why)``: what the ground truth ``truth`` most likely is for a prediction of
    ``prediction_shape``, a key of :data:`GROUND_TRUTH_KINDS`, and why in a few words.

    ``"overlapping"``: an ``(N, Y, X)`` array against a ``(Y, X)`` prediction, one that looks
    like a stack of object masks (:func:`mask_stack_reason`) against a prediction of its
    shape, or against an ``(M, Y, X)`` prediction of the same image size that looks like one
    too (``prediction``, its data, when at hand; else its shape alone is taken);
    ``"boundaries"``: 0 and one value in thin lines around many regions; ``"binary"``: 0 and
    one value otherwise; else ``"labels"``. Quick enough to call at every change of a pair:
    a few sections are looked at, and the pieces of a mask over 4 Mpx are not counted.

    >>> ground_truth_kind(np.array([[0, 1, 1, 0, 1]]), (1, 5))
    ('binary', 'only 0 and 1 (2 connected pieces): probably a binary mask')
    >>> ground_truth_kind(np.array([[0, 1, 1, 0, 2]]), (1, 5))[0]
    'labels'
    """
    from scipy import ndimage

    truth = np.asarray(truth)
    shape = tuple(prediction_shape)
    if truth.ndim == len(shape) + 1 == 3 and truth.shape[1:] == shape:
        return "overlapping", (
            f"a stack of {len(truth)} (Y, X) planes against a (Y, X) prediction: one object "
            "mask per plane"
        )
    stacks = truth.ndim == len(shape) == 3 and truth.shape[1:] == shape[1:]
    reason = mask_stack_reason(truth) if stacks else None
    if reason and (
        truth.shape == shape or prediction is None or mask_stack_reason(prediction) is not None
    ):
        against = "" if truth.shape == shape else f" against a stack of {shape[0]} object masks"
        return "overlapping", f"a stack of object masks: {reason}{against}"
    value = _two_values(truth)
    if value is None:
        return "labels", "many object IDs: instance labels"
    if _membrane_cells(truth != 0, 4):
        return "boundaries", f"only 0 and {value}, in thin lines between regions: a membrane map"
    pieces = ""
    if truth.size <= _COUNT_PIXELS:
        count = ndimage.label(truth != 0)[1]
        pieces = f" ({count} connected piece{'s' if count != 1 else ''})"
    return "binary", f"only 0 and {value}{pieces}: probably a binary mask"

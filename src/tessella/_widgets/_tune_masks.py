"""The foreground of a volume's slices as *Apply to all* makes it, for Tune's slice preview
(:mod:`._tune_frames`): the semantic method opens and closes its mask with a 3D ball
(``radius``), so a slice's foreground depends on the slices the ball reaches. Made alone in
2D (a disc), a slice kept bits the ball removes and lost ones it keeps, and objects' sizes
(which objects pass ``min_size``) differed between the preview and the result (README said
so). Here a slice's foreground is made by the method's own
:func:`~tessella.engine.methods.semantic.slab_foreground`, the function *Apply to all*'s
``foreground_mask`` calls for the whole volume, on the slab of slices it depends on
(:func:`reach`), which gives it exactly as the whole volume does (:func:`slice_masks`).
This module only chooses the slab and keeps the masks made.

``z_median`` (a majority vote of the thresholded slices along Z) is made so too, since
session 33: the slab reaches its window's half beyond the ball's reach
(:func:`acts_in_preview`). It stayed out of the preview before (moving it ran none)."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from tessella.engine.methods._morphology import Stopped

__all__ = ["Stopped", "acts_in_preview", "plane_labels", "plane_mask", "reach", "slice_masks"]


def _mask_params(params):
    """The parameters the preview's foreground is made with: those given, without the size
    limits (which act on objects, not on the foreground: a ``min_size`` dragged finds the
    mask made)."""
    off = {k: 0 for k in ("min_size", "max_size") if hasattr(params, k)}
    return replace(params, **off)


def _slabs(method) -> bool:
    """Whether ``method`` makes a slice's foreground from a slab of slices as it makes the
    whole volume's (the semantic method's ``slab_foreground``)."""
    return getattr(method, "NAME", None) == "semantic" and hasattr(method, "slab_foreground")


def acts_in_preview(method, axes: str, name: str) -> bool:
    """Whether the parameter ``name``, which acts along Z, acts in the slice preview of a
    volume with these ``axes`` (its labels'): the semantic method's ``z_median`` on a ZYX
    volume, whose slice's foreground is made on the slab of slices around it (:func:`reach`)."""
    return name == "z_median" and _slabs(method) and axes == "ZYX"


def reach(method, prediction, params) -> int:
    """How many slices each way a slice's foreground depends on: for the semantic method,
    with a ``radius`` four times the ball's reach along Z (an opening then a closing: four
    erosions or dilations, each reaching that far), and with a ``z_median`` the half of its
    window more (the vote comes first); 0 otherwise (a slice's foreground is then made
    alone, in 2D, as before). Only for ZYX predictions (Z first, as the method's filters
    along Z take it)."""
    if not _slabs(method) or prediction.spatial_axes != "ZYX":
        return 0
    radius = int(getattr(params, "radius", 0) or 0)
    half = (int(getattr(params, "z_median", 0) or 0) | 1) // 2  # (even sizes: the next odd)
    if radius <= 0:
        return half
    from tessella.engine.methods._base import relative_spacing
    from tessella.engine.methods._morphology import ball, margin

    return margin(ball(radius, relative_spacing(prediction, 3))) + half


def _run_of(prediction, plane: int) -> tuple[int, int]:
    """The slices ``(start, stop)`` *Apply to all* post-processes with ``plane`` as one
    volume: the run between blank slices that holds it, or the whole volume."""
    from tessella.engine.methods._base import blank_free_runs

    depth = prediction.spatial_shape[0]
    runs = blank_free_runs(prediction) or [(0, depth)]
    return next(((a, b) for a, b in runs if a <= plane < b), (plane, plane + 1))


def slice_masks(method, prediction, params, lo: int, hi: int, run=None, halt=None) -> np.ndarray:
    """The foreground of slices ``lo``..``hi - 1`` of a ZYX volume prediction, each exactly
    as *Apply to all* makes it (``z_median`` included), ``run`` being the run of slices
    between blank ones that holds them, which *Apply to all* takes as a volume of its own
    (:func:`_run_of` of ``lo`` by default). ``halt`` (a function): :class:`Stopped` is
    raised when it returns True (checked between two rows of the ball).

    The method's :func:`~tessella.engine.methods.semantic.slab_foreground` (threshold,
    opening and closing with its ball, hole filling: what its ``foreground_mask`` makes of
    the whole volume) on the slab of slices :func:`reach` beyond ``lo`` and ``hi``, cut
    there or at the run's ends (beyond which the image's edge: foreground for an erosion,
    mirrored for the Z median, as *Apply to all* has it)."""
    from tessella.engine.methods._base import relative_spacing

    params = _mask_params(params)
    start, stop = _run_of(prediction, lo) if run is None else run
    margin = reach(method, prediction, params)
    a, b = max(start, lo - margin), min(stop, hi + margin)
    probability = next(iter(prediction.arrays.values()))[0, a:b]
    relative = relative_spacing(prediction, 3)
    ends = (a == start, b == stop)
    return method.slab_foreground(probability, params, relative, lo - a, hi - a, ends, halt)


#: the foreground of previewed slices, most recent last: ``(id(prediction), plane, the
#: parameters it is made with) -> (weak reference to prediction, mask)``; a min_size dragged
#: on a slice finds its foreground made
_MASKS: OrderedDict[tuple, tuple[weakref.ref, np.ndarray]] = OrderedDict()
MASKS_KEPT = 4
_MASKS_LOCK = threading.RLock()  # (reentrant: a prediction freed under it drops its masks)


def plane_mask(method, prediction, params, plane: int, halt=None) -> np.ndarray:
    """Slice ``plane``'s foreground as *Apply to all* makes it (:func:`slice_masks`), kept
    for the next preview of the slice with the same values but the size limits."""
    key = (id(prediction), plane, _mask_params(params))
    with _MASKS_LOCK:
        hit = _MASKS.get(key)
        if hit is not None and hit[0]() is prediction:
            _MASKS.move_to_end(key)
            return hit[1]
    mask = slice_masks(method, prediction, params, plane, plane + 1, halt=halt)[0]
    with _MASKS_LOCK:
        _MASKS[key] = (weakref.ref(prediction, partial(_forget, key[0])), mask)
        while len(_MASKS) > MASKS_KEPT:
            _MASKS.popitem(last=False)
    return mask


def _forget(prediction_id: int, reference: weakref.ref) -> None:
    """A volume prediction was freed: drop the masks made of it."""
    with _MASKS_LOCK:
        for key in [k for k, (ref, _) in _MASKS.items() if ref is reference]:
            del _MASKS[key]


def plane_labels(method, sliced, mask: np.ndarray, params) -> Any:
    """``method.postprocess`` of the 2D slice ``sliced`` whose foreground is ``mask`` (made
    in 3D): the semantic method's steps after the foreground (its objects, ``split``,
    ``min_size``) on that mask, given as a probability of 1 inside and 0 outside at
    threshold 0.5, with nothing left to open, close or fill."""
    from tessella.engine.methods import Prediction

    probability = mask.astype(np.float32)[None]
    made = Prediction({"foreground": probability}, sliced.spatial_axes, dict(sliced.meta))
    off = {"threshold": 0.5, "radius": 0, "z_median": 0, "fill_holes": False}
    return method.postprocess(made, replace(params, **{k: v for k, v in off.items()}))

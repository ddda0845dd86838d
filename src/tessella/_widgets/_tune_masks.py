"""The foreground of a volume's slices as *Apply to all* makes it, for Tune's slice preview
(:mod:`._tune_frames`): the semantic method opens and closes its mask with a 3D ball
(``radius``), so a slice's foreground depends on the slices the ball reaches. Made alone in
2D (a disc), a slice kept bits the ball removes and lost ones it keeps, and objects' sizes
(which objects pass ``min_size``) differed between the preview and the result (README said
so). Here a slice's foreground is made in 3D on the slab of slices it depends on
(:func:`reach`), which gives it exactly as the whole volume does (:func:`slice_masks`).

``z_median`` stays out of the preview (it says so: "a 2D preview, without z_median"; moving
it runs none), so the foreground here is made without it, as the preview's own slice was."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

__all__ = ["Stopped", "plane_labels", "plane_mask", "reach", "slice_masks"]


class Stopped(Exception):
    """Raised where ``halt()`` says so (the preview was cancelled or superseded): between
    two rows of the ball, each a fraction of a second even at ``radius`` 10."""


def _mask_params(params):
    """The parameters the preview's foreground is made with: those given, without
    ``z_median`` (which the preview leaves out) and without the size limits (which act on
    objects, not on the foreground: a ``min_size`` dragged finds the mask made)."""
    off = {k: 0 for k in ("z_median", "min_size", "max_size") if hasattr(params, k)}
    return replace(params, **off)


def reach(method, prediction, params) -> int:
    """How many slices each way a slice's foreground depends on: for the semantic method
    with a ``radius``, four times the ball's reach along Z (an opening then a closing: four
    erosions or dilations, each reaching that far); 0 otherwise (a slice's foreground is
    then made alone, in 2D, as before). Only for ZYX predictions (Z first, as the method's
    filters along Z take it)."""
    if getattr(method, "NAME", None) != "semantic" or not hasattr(method, "foreground_mask"):
        return 0
    radius = int(getattr(params, "radius", 0) or 0)
    if radius <= 0 or prediction.spatial_axes != "ZYX":
        return 0
    from tessella.engine.methods._base import relative_spacing

    relative = relative_spacing(prediction, 3)
    along_z = int(np.floor(radius / relative[0] + 1e-9))  # (as semantic._ball's reach)
    return 4 * along_z


def _run_of(prediction, plane: int) -> tuple[int, int]:
    """The slices ``(start, stop)`` *Apply to all* post-processes with ``plane`` as one
    volume: the run between blank slices that holds it, or the whole volume."""
    from tessella.engine.methods._base import blank_free_runs

    depth = prediction.spatial_shape[0]
    runs = blank_free_runs(prediction) or [(0, depth)]
    return next(((a, b) for a, b in runs if a <= plane < b), (plane, plane + 1))


def slice_masks(method, prediction, params, lo: int, hi: int, run=None, halt=None) -> np.ndarray:
    """The foreground of slices ``lo``..``hi - 1`` of a ZYX volume prediction, each exactly
    as *Apply to all* makes it (without ``z_median``), ``run`` being the run of slices
    between blank ones that holds them, which *Apply to all* takes as a volume of its own
    (:func:`_run_of` of ``lo`` by default). ``halt`` (a function): :class:`Stopped` is
    raised when it returns True (checked between two rows of the ball).

    The semantic method's steps: the threshold, then the opening and the closing with its
    ball (each of their four erosions and dilations of a slice needs the slices the ball
    reaches, ``reach / 4`` each way: only the slices the next step needs are made, from
    the slab of slices ``reach`` beyond ``lo`` and ``hi``; outside the run or the image
    counts as foreground for an erosion, as background for a dilation, as
    ``scipy.ndimage`` has it there), then its hole filling, by the method itself
    (``method.foreground_mask`` of that mask, with nothing left to threshold or open). The
    erosions and dilations are those of the ball's footprint (``method._ball``), made of
    shifted copies, a row of the ball at a time (:func:`_morph`): several times faster
    than ``scipy.ndimage``'s (a preview of a 768x1024 slice at ``radius`` 2 makes 28
    slices' worth of them)."""
    from tessella.engine.methods._base import relative_spacing

    params = _mask_params(params)
    start, stop = _run_of(prediction, lo) if run is None else run
    margin = reach(method, prediction, params)
    a, b = max(start, lo - margin), min(stop, hi + margin)
    probability = next(iter(prediction.arrays.values()))[0, a:b]
    mask = np.asarray(probability) > params.threshold
    if getattr(params, "radius", 0) > 0:
        ball = method._ball(params.radius, relative_spacing(prediction, 3))
        step = margin // 4
        for k, erode in enumerate((True, False, False, True), start=1):
            # the slices this step has, and those it makes: those the next steps need
            have = (max(a, lo - (5 - k) * step), min(b, hi + (5 - k) * step))
            made = (max(a, lo - (4 - k) * step), min(b, hi + (4 - k) * step))
            i0, i1 = made[0] - have[0], made[1] - have[0]
            mask = _morph(mask, ball, erode, i0, i1, have, (start, stop), halt)
    return _filled(method, prediction, mask, params)


def _morph(mask, ball, erode: bool, i0: int, i1: int, have, ends, halt=None) -> np.ndarray:
    """Slices ``i0``..``i1 - 1`` of ``mask`` (slices ``have`` of the run ``ends``) eroded
    (else dilated) by ``ball``: beyond the run's ends and the image's edges foreground for an
    erosion, background for a dilation (``scipy.ndimage``'s ``border_value`` 1 and 0 as the
    semantic method gives them). Each row of the ball (its voxels at one Z and Y offset: a
    run along X) is one 1D erosion along X, made once per length, shifted to its place."""
    rz, ry, rx = (s // 2 for s in ball.shape)
    n, height, width = mask.shape
    # padded with the border value beyond the image's edges; along Z only where the run ends
    # (a cut slab's end is never reached from the slices made: i0, i1 leave room for it)
    before = rz if have[0] == ends[0] else 0
    after = rz if have[1] == ends[1] else 0
    padded = np.pad(mask, ((before, after), (ry, ry), (rx, rx)), constant_values=erode)
    combine = np.logical_and if erode else np.logical_or
    # along X: a run of 2k + 1 voxels centred on each, for each half-length k the ball has
    rows = []  # (dz, dy, k): the ball's row at offsets dz, dy runs 2k + 1 voxels along X
    for dz in range(ball.shape[0]):
        for dy in range(ball.shape[1]):
            xs = np.flatnonzero(ball[dz, dy])
            if xs.size:  # (the ball is symmetric: its rows are centred)
                rows.append((dz, dy, int(xs.size // 2)))
    z0 = i0 - rz + before  # padded slice of the first slice made, at offset dz = 0
    out = None
    run = padded[:, :, rx : rx + width]  # 2k + 1 voxels along X, for k = 0, 1, ... in turn
    for k in range(max(k for *_, k in rows) + 1):  # (one run at a time: radius 10 kept 11)
        if halt is not None and halt():
            raise Stopped
        if k:
            shifted = padded[:, :, rx - k : rx - k + width]
            run = combine(run, shifted) if k == 1 else combine(run, shifted, out=run)
            combine(run, padded[:, :, rx + k : rx + k + width], out=run)
        for dz, dy, _ in (row for row in rows if row[2] == k):
            part = run[z0 + dz : z0 + dz + i1 - i0, dy : dy + height]
            out = part.copy() if out is None else combine(out, part, out=out)
    assert out is not None  # (the ball holds its centre)
    return out


def _filled(method, prediction, mask: np.ndarray, params) -> np.ndarray:
    """``mask`` (slices of a ZYX volume, opened and closed) with the method's last step,
    its holes filled where ``params`` say so: ``method.foreground_mask`` of it, given as a
    probability of 1 inside and 0 outside at threshold 0.5, with nothing else to do."""
    if not getattr(params, "fill_holes", False):
        return mask
    from tessella.engine.methods import Prediction

    made = Prediction({"foreground": mask[None].astype(np.float32)}, "ZYX", {})
    off = {"threshold": 0.5, "radius": 0, "z_median": 0}
    return np.asarray(method.foreground_mask(made, replace(params, **off)))


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

"""PatchPerPix (Mais, Hirsch, Kainmueller, ECCV 2020): instances from per-pixel shape patches,
overlaps included. 2D.

The network (:class:`~tessella.engine.models.PatchUNet`) predicts the number of instances
at each pixel (0, 1 or 2+: the "numinst" head) and a short code of the pixel's *patch*: which
pixels of the ``P`` x ``P`` window around it belong to its instance; the model's tiny decoder
(its weights travel in ``prediction.meta["decoder"]``) turns codes into patches here, in
numpy. Assembly, in the order of :func:`assemble`:

1. Foreground: pixels whose probability of one or more instances exceeds ``fg_threshold``;
   overlap pixels: probability of 2+ instances above ``overlap_threshold``. Candidate patches
   come from single-instance foreground pixels on a grid of step ``stride``, anchored at the
   top-left pixel, or with ``mirrored_grid`` at both ends of each axis (:func:`mirrored_grid`):
   with test-time augmentation, whose predictions turn with the image, the result then does
   not depend on the image's orientation either.
2. Each candidate's patch is decoded; its pixels above ``patch_threshold`` (and in the
   foreground) are the pixels it claims.
3. Consensus score: how much the candidates a patch claims claim its centre back (the mean of
   their patches at its centre). The reference builds a consensus array of (2P)^2 votes per
   pixel with custom CUDA; this reciprocal vote asks the same question with P^2 / stride^2
   lookups per patch (numba).
4. Cover: patches in decreasing score; a patch is kept unless more than ``cover_threshold`` of
   the pixels it claims are already covered by kept patches.
5. Affinity between kept patches whose windows overlap: where each window holds the other's
   centre, the mean of each one's patch value at the other's centre; for pairs farther apart
   (across a crossing, where no single-instance pixel lies between them), the IoU of their
   claimed pixels on the shared window. Instances are the mutex watershed of the signed graph
   (``mutex`` on, the default: affinities below ``affinity_threshold`` repel, which keeps
   crossing worms apart), or the connected components of the affinities above it (``mutex``
   off, as the reference does for worms with its denser consensus affinities).
6. Painting: a pixel goes to the instance whose patches covering it claim it most (votes /
   patches covering); overlap pixels go to every instance claiming them with at least half
   its patches. Instances under ``min_size`` pixels go.

:func:`postprocess` returns a label image (each pixel's best instance); :func:`instances`
returns the full ``(N, H, W)`` stack with overlaps; :func:`labels_and_instances` both from
one assembly. The decoded candidates (steps 1-3) are cached, so moving ``cover_threshold``,
``affinity_threshold``, ``mutex`` or ``min_size`` does not decode again; so is the last
assembly of each (steps 4-6), so the label image and then the stack of the same prediction
with the same parameters (``tessella segment --stack``, Segment's overlaps layer, Export's
mask stack: the pipeline makes the labels, the caller asks for the stack after) assemble once.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from ..params import param
from ._base import Prediction
from ._patches_steps import (
    _affinities,
    _components,
    _cover,
    _decode,
    _mutex_watershed,
    _paint_box,
    _reciprocal_score,
    mirrored_grid,
)
from ._patches_steps import _find as _find
from ._patches_steps import _window_agreement as _window_agreement

__all__ = [
    "NAME",
    "OUTPUT_KINDS",
    "Params",
    "activate",
    "assemble",
    "instances",
    "labels_and_instances",
    "out_channels",
    "postprocess",
]

NAME = "patches"
#: under test-time augmentation numinst is averaged; a code has no meaning under flips and
#: rotations, so the runner keeps one code per transform ("stacked") and each candidate's
#: patch is decoded once per transform, flipped back and averaged (:func:`_decode`)
OUTPUT_KINDS = {"numinst": "scalar", "code": "stacked"}


@dataclass(frozen=True)
class Params:
    fg_threshold: float = param(
        0.5, 0.0, 1.0, "Foreground where the probability of 1+ instances is above this."
    )
    overlap_threshold: float = param(
        0.5, 0.0, 1.0, "Overlap where the probability of 2+ instances is above this."
    )
    patch_threshold: float = param(0.5, 0.0, 1.0, "A patch claims its pixels above this.")
    cover_threshold: float = param(
        0.9, 0.0, 1.0, "Skip a patch when more than this fraction of it is already covered."
    )
    affinity_threshold: float = param(
        0.5, 0.0, 1.0, "Join two patches when they claim each other's centres above this."
    )
    mutex: bool = param(True, help="Mutex watershed (low affinities repel); off: components.")
    stride: int = param(2, 1, 8, "Candidate patches on a grid of this step (1 = every pixel).")
    mirrored_grid: bool = param(
        False,
        help="Anchor the candidate grid at both ends of each axis: with TTA, a flipped or "
        "rotated image then gives the same objects, turned.",
    )
    min_size: int = param(
        100, 0, 1_000_000_000, "Discard instances with fewer pixels; 0 = no limit."
    )


def out_channels(ndim: int) -> tuple[int, ...]:
    """Number-of-instances logits (0, 1, 2+); the code channels come from the architecture."""
    return (3,)


def activate(raw, ndim: int) -> dict:
    """Raw ``(batch, 3 + code, H, W)`` -> class probabilities and the code (torch)."""
    import torch

    return {"numinst": torch.softmax(raw[:, :3].float(), dim=1), "code": raw[:, 3:].float()}


# --- steps 1-3: candidates, cached ------------------------------------------------------------


@dataclass
class _Candidates:
    coords: np.ndarray  # (n, 2) int64 centre of each candidate patch
    patches: np.ndarray  # (n, P, P) float32 patch probabilities
    claims: np.ndarray  # (n, P, P) bool: above patch_threshold and in the foreground
    score: np.ndarray  # (n,) consensus score
    foreground: np.ndarray  # (H, W) bool
    overlap: np.ndarray  # (H, W) bool
    #: the last assemblies of these candidates (steps 4-6), by the parameters they take
    assembled: OrderedDict = field(default_factory=OrderedDict)


_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 2
#: held for each look-up, insertion and eviction of :data:`_CACHE` (not for the decoding):
#: Tune's worker and Export on the GUI thread may both ask, and a look-up's hit must not be
#: evicted by the other thread before it is moved to the end
_CACHE_LOCK = threading.Lock()
#: assemblies kept per set of candidates: this setting's and the one before it (Export's
#: mask stack of labels made before Tune's last change, say)
_ASSEMBLED_SIZE = 2
_ASSEMBLED_LOCK = threading.Lock()


def _candidates(prediction: Prediction, params: Params) -> _Candidates:
    key = (
        id(prediction),
        params.fg_threshold,
        params.overlap_threshold,
        params.patch_threshold,
        params.stride,
        params.mirrored_grid,
    )
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0]() is prediction:  # not a recycled id of a freed one
            _CACHE.move_to_end(key)
            return hit[1]
    numinst = np.asarray(prediction.arrays["numinst"], np.float32)
    code = np.asarray(prediction.arrays["code"], np.float32)
    if numinst.ndim != 3 or numinst.shape[0] != 3 or code.shape[1:] != numinst.shape[1:]:
        raise ValueError(
            f"patches predictions must hold numinst (3, Y, X) and code (C, Y, X), got "
            f"{numinst.shape} and {code.shape}"
        )
    weights = prediction.meta.get("decoder")
    if weights is None:
        raise ValueError("the prediction lacks the patch decoder (meta['decoder'])")
    foreground = numinst[1] + numinst[2] > params.fg_threshold
    overlap = foreground & (numinst[2] > params.overlap_threshold)
    single = foreground & ~overlap
    if params.mirrored_grid:
        grid = np.outer(*(mirrored_grid(length, params.stride) for length in single.shape))
    else:
        grid = np.zeros(single.shape, bool)
        grid[:: params.stride, :: params.stride] = True
    coords = np.argwhere(single & grid)
    patches = _decode(code, coords, weights)
    size = patches.shape[1]
    half = size // 2
    padded = np.pad(foreground, half)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size))
    claims = (patches > params.patch_threshold) & windows[coords[:, 0], coords[:, 1]]
    index_map = np.full(foreground.shape, -1, np.int64)
    index_map[coords[:, 0], coords[:, 1]] = np.arange(len(coords))
    score = _reciprocal_score(coords, patches, claims, index_map)
    found = _Candidates(coords, patches, claims, score, foreground, overlap)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0]() is prediction:  # another thread decoded them meanwhile:
            _CACHE.move_to_end(key)  # one set of candidates, one cache of their assemblies
            return hit[1]
        _CACHE[key] = (weakref.ref(prediction), found)
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found


# --- steps 4-6 ----------------------------------------------------------------------------------


def _assembled(prediction: Prediction, params: Params):
    """:func:`_assemble_sparse`, kept with the candidates for the parameters of steps 4-6:
    the objects are only read after (:func:`_stack` and :func:`_label_image` copy them)."""
    found = _candidates(prediction, params)
    key = (params.cover_threshold, params.affinity_threshold, params.mutex, params.min_size)
    with _ASSEMBLED_LOCK:  # (Tune's worker and Export on the GUI thread may both ask)
        hit = found.assembled.get(key)
        if hit is not None:
            found.assembled.move_to_end(key)
            return hit
    hit = _assemble_sparse(prediction, params, found)
    with _ASSEMBLED_LOCK:
        found.assembled[key] = hit
        while len(found.assembled) > _ASSEMBLED_SIZE:
            found.assembled.popitem(last=False)
    return hit


def _assemble_sparse(prediction: Prediction, params: Params, found: _Candidates | None = None):
    """Instances as ``[(box, mask)]`` (a mask per bounding box), steps 1-6, and the shape;
    ``found``: the candidates of ``params`` (steps 1-3) where the caller has them already.

    Memory stays at one support map per instance box plus two image-sized maps, so a
    1024² image with hundreds of nuclei needs no (N, H, W) array."""
    if found is None:
        found = _candidates(prediction, params)
    shape = found.foreground.shape
    if len(found.coords) == 0:
        return [], shape
    order = np.argsort(-found.score, kind="stable")
    kept = _cover(found.coords, found.claims, order, shape, params.cover_threshold)
    coords, patches, claims = found.coords[kept], found.patches[kept], found.claims[kept]
    rows, cols, affinity = _affinities(coords, patches, claims)
    group = _mutex_watershed if params.mutex else _components
    roots = group(len(kept), rows, cols, affinity, params.affinity_threshold)
    _, instance_of = np.unique(roots, return_inverse=True)
    half = patches.shape[1] // 2
    best = np.zeros(shape, np.float32)
    owner = np.full(shape, -1, np.int64)
    supports = []
    for k in range(int(instance_of.max()) + 1):
        members = np.flatnonzero(instance_of == k)
        low = np.maximum(coords[members].min(0) - half, 0)
        high = np.minimum(coords[members].max(0) + half + 1, shape)
        box = (slice(int(low[0]), int(high[0])), slice(int(low[1]), int(high[1])))
        size = high - low
        support = _paint_box(coords, claims, members, low[0], low[1], size[0], size[1], shape)
        support[~found.foreground[box]] = 0
        better = support > best[box]
        best[box][better] = support[better]
        owner[box][better] = k
        supports.append((box, support))
    objects = []
    for k, (box, support) in enumerate(supports):
        mask = ((owner[box] == k) & (support > 0)) | ((support >= 0.5) & found.overlap[box])
        if mask.sum() >= max(params.min_size, 1):
            objects.append((box, mask))
    return objects, shape


def _stack(objects: list, shape: tuple[int, ...]) -> np.ndarray:
    stack = np.zeros((len(objects), *shape), bool)
    for k, (box, mask) in enumerate(objects):
        stack[k][box] = mask
    return stack


def _label_image(objects: list, shape: tuple[int, ...]) -> np.ndarray:
    labels = np.zeros(shape, np.int32)
    for k in np.argsort([-int(mask.sum()) for _box, mask in objects], kind="stable"):
        box, mask = objects[k]
        labels[box][mask] = k + 1
    return labels


def assemble(prediction: Prediction, params: Params) -> np.ndarray:
    """The instance stack ``(N, H, W)`` (bool; instances may overlap), steps 1-6."""
    return _stack(*_assembled(prediction, params))


def instances(prediction: Prediction, params: Params) -> np.ndarray:
    """Alias of :func:`assemble`: the ``(N, H, W)`` instance stack, overlaps kept."""
    return assemble(prediction, params)


def postprocess(prediction: Prediction, params: Params) -> np.ndarray:
    """A label image: every instance painted, larger ones first, so where instances overlap
    the smaller one shows (:func:`instances` keeps both)."""
    return _label_image(*_assembled(prediction, params))


def labels_and_instances(prediction: Prediction, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """:func:`postprocess` and :func:`instances` from one assembly, for a caller that needs
    both (Tune shows the labels and the objects they hide at every change). Calling the two
    one after the other with the same arguments assembles once too: the last assemblies of
    each prediction are kept.

    Returns
    -------
    labels : (H, W) int32 ndarray
        Equal to ``postprocess(prediction, params)``; object ``k + 1`` is ``instances[k]``.
    instances : (N, H, W) bool ndarray
        Equal to ``instances(prediction, params)``.
    """
    objects, shape = _assembled(prediction, params)
    return _label_image(objects, shape), _stack(objects, shape)

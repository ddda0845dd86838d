"""Semantic segmentation + connected components (EM_Image_Segmentation / BiaPy), 2D and 3D.

The network predicts one foreground probability (e.g. mitochondria in EM). Post-processing,
in the order of :func:`postprocess`:

1. Threshold: foreground where the probability is above ``threshold``.
2. Z filtering (volumes): a median of size ``z_median`` along Z only, which removes the
   single-slice errors of a 2D model run slice by slice. On the thresholded mask it is a
   majority vote of the window, which equals thresholding the median of the probability.
3. Opening then closing with a ball of ``radius`` (removes thin spurious bits, bridges small
   gaps), then ``fill_holes`` (background enclosed within an image plane).
4. Instances: connected components (3D for volumes), pixels that touch at a face, an edge or
   a corner being one object (full connectivity: 8 neighbours in 2D, 26 in 3D), the pieces
   ``tessella evaluate --gt-binary`` scores a binary mask as
   (:func:`tessella.engine.evaluation.mask_pieces`); with ``split``, touching objects are cut
   along the valleys of the distance transform by a watershed from its local maxima (at least
   ``min_distance`` apart), which floods with the same connectivity. Objects under
   ``min_size`` pixels (voxels) go.

Anisotropy: ``prediction.meta["spacing"]`` (voxel size per spatial axis) makes the ball an
ellipsoid (``radius`` and ``min_distance`` count pixels of the finest axis) and scales the
distance transform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..params import param
from ._base import Prediction, in_blank_free_runs, relative_spacing
from ._distance_transform import _CHUNK as _CHUNK
from ._distance_transform import _axis_lines as _axis_lines
from ._distance_transform import _distance_pass as _distance_pass
from ._distance_transform import _lower_envelope as _lower_envelope
from ._distance_transform import distance_transform
from ._morphology import ball as _ball
from ._morphology import opened_closed
from ._seeded_watershed import _flood
from ._seeded_watershed import _heap_pop as _heap_pop
from ._seeded_watershed import _heap_push as _heap_push
from ._seeded_watershed import _neighbours as _neighbours

__all__ = [
    "NAME",
    "OUTPUT_KINDS",
    "Params",
    "activate",
    "distance_transform",
    "foreground_mask",
    "out_channels",
    "postprocess",
    "slab_foreground",
    "split_objects",
]

NAME = "semantic"
#: a 2D model of this method segments a ZYX stack slice by slice; the post-processing is 3D
SLICEWISE_3D = True
OUTPUT_KINDS = {"foreground": "scalar"}
#: split: touching regions stay one object unless their neck is narrower than this fraction
#: of the smaller centre's distance to the background
NECK_RATIO = 0.7


@dataclass(frozen=True)
class Params:
    threshold: float = param(0.5, 0.0, 1.0, "Foreground where the probability is above this.")
    z_median: int = param(
        0,
        0,
        31,
        "Median filter size along Z (volumes; 0 = off; even sizes act as the next odd).",
        needs="Z",
    )
    radius: int = param(
        0, 0, 10, "Opening then closing with a ball of this radius in pixels (0 = off)."
    )
    fill_holes: bool = param(False, help="Fill background enclosed within an image plane.")
    min_size: int = param(
        100, 0, 1_000_000_000, "Discard objects with fewer pixels (voxels); 0 = no limit."
    )
    split: bool = param(False, help="Split touching objects by a distance-transform watershed.")
    min_distance: int = param(
        10,
        1,
        1000,
        "Split: object centres (distance maxima) at least this many pixels apart.",
        only_with="split",
    )


def out_channels(ndim: int) -> tuple[int, ...]:
    """One head with one channel: the foreground logit."""
    return (1,)


def activate(raw, ndim: int) -> dict:
    """Raw network output ``(batch, 1, *spatial)`` -> the foreground probability (torch)."""
    import torch

    return {"foreground": torch.sigmoid(raw[:, 0:1])}


# --- the foreground mask ------------------------------------------------------------------------


def _z_vote(mask: np.ndarray, size: int, ends: tuple[bool, bool] = (True, True)) -> np.ndarray:
    """Median of a boolean volume along axis 0 with scipy's ``reflect`` border: a window of
    ``size`` (odd) votes, and a voxel stays foreground if more than half of it is.

    ``ends``: whether the first and last slices are the volume's (reflected beyond them);
    at a cut end (a slab of the volume's slices) the ``size // 2`` slices there have no
    whole window and are left out of the result, which then has fewer slices."""
    half = size // 2
    pads = (half if ends[0] else 0, half if ends[1] else 0)
    padded = np.pad(mask.view(np.uint8), [pads] + [(0, 0)] * (mask.ndim - 1), "symmetric")
    depth = padded.shape[0] - 2 * half
    votes = padded[:depth].copy()
    for shift in range(1, size):  # shifted sums: far cheaper than a general rank filter
        votes += padded[shift : shift + depth]
    return votes > half


def _fill_planar_holes(mask: np.ndarray) -> np.ndarray:
    """Fill the background that does not reach the edge of its own YX plane."""
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    if mask.ndim == 3:
        structure[0] = structure[2] = False  # no links between planes
    background, _ = ndimage.label(~mask, structure)
    edge = np.concatenate(
        [
            background[..., 0, :],
            background[..., -1, :],
            background[..., :, 0],
            background[..., :, -1],
        ],
        axis=None,
    )
    outside = np.zeros(int(background.max()) + 1, bool)
    outside[edge] = True
    outside[0] = False  # label 0: the foreground itself
    return ~outside[background]


def foreground_mask(prediction: Prediction, params: Params) -> np.ndarray:
    """Boolean foreground after steps 1-3 (threshold, Z median, opening/closing, holes):
    :func:`slab_foreground` of the whole image or volume."""
    probability = np.asarray(prediction.arrays["foreground"])
    if probability.ndim < 3 or probability.shape[0] != 1:
        raise ValueError(f"foreground must be (1, *spatial), got shape {probability.shape}")
    return slab_foreground(
        probability[0], params, relative_spacing(prediction, probability.ndim - 1)
    )


def slab_foreground(
    probability,
    params: Params,
    relative: np.ndarray,
    lo: int = 0,
    hi: int | None = None,
    ends: tuple[bool, bool] = (True, True),
    halt=None,
) -> np.ndarray:
    """The foreground (steps 1-3) of slices ``lo``..``hi - 1`` of ``probability`` (ZYX, a
    slab of a volume's slices; or one YX image, ``lo`` and ``hi`` then unused), exactly as
    the whole volume gives them: :func:`foreground_mask` is this of the whole volume, and
    Tune's slice preview this of the slab of slices the ball reaches around its slice.

    ``relative``: the voxel size per axis over the finest one. ``ends``: whether the slab's
    first and last slices are the volume's (or the run's between blank slices, which
    :func:`postprocess` takes as a volume of its own): beyond them the image's edge, which
    is foreground for the opening's and the closing's erosions; a cut end must lie
    :func:`~._morphology.margin` slices beyond ``lo`` (``hi``), and ``z_median // 2``
    more with a ``z_median``, whose window is that wide. ``halt``: checked between two
    rows of the ball (:class:`~._morphology.Stopped` is raised when it returns True).
    """
    mask = np.asarray(probability) > params.threshold
    size = params.z_median | 1  # 0 -> 1 (off); even sizes -> the next odd one
    if mask.ndim == 3 and size > 1:
        hi = mask.shape[0] if hi is None else hi
        cut = (0 if ends[0] else size // 2, 0 if ends[1] else size // 2)
        if lo < cut[0] or hi > mask.shape[0] - cut[1]:
            raise ValueError(
                f"a cut slab needs {size // 2} slices beyond slices {lo}..{hi - 1} for "
                f"z_median {size}, and those the ball reaches"
            )
        mask = _z_vote(mask, size, ends)  # (the slices of a cut end left out)
        lo, hi = lo - cut[0], hi - cut[0]
    if mask.ndim == 2:
        lo, hi, ends, mask = 0, 1, (True, True), mask[None]
        footprint = _ball(params.radius, relative)[None] if params.radius > 0 else None
    else:
        footprint = _ball(params.radius, relative) if params.radius > 0 else None
    if footprint is not None:
        # outside the image counts as foreground for erosions, so objects at the edge survive
        mask = opened_closed(mask, footprint, lo, hi, ends, halt)
    else:
        mask = mask[lo:hi]
    if params.fill_holes:
        mask = _fill_planar_holes(mask)
    return mask[0] if np.ndim(probability) == 2 else mask


# --- distance transform and splitting -----------------------------------------------------------


def split_objects(mask: np.ndarray, min_distance: int, spacing=None) -> np.ndarray:
    """Objects of ``mask`` (int32, 0 = background), touching ones cut apart; pixels that
    touch at a face, an edge or a corner are one object unless cut (full connectivity, as in
    :func:`postprocess`).

    Seeds are the local maxima of the distance transform within a box of ``min_distance``
    pixels on each side (fewer along coarser axes of ``spacing``); a watershed of the negative
    distance from them divides the objects. Two touching regions stay one object unless the
    neck between them is narrow: its distance (the saddle) below ``NECK_RATIO`` times the
    smaller of the two seeds' distances (e.g. two overlapping discs, but not the bumps of one
    sausage). An object with no seed of its own (a neighbour's larger maximum is in its box)
    stays whole.

    Examples
    --------
    >>> yy, xx = np.mgrid[:20, :36]
    >>> two = ((yy - 10) ** 2 + (xx - 10) ** 2 < 64) | ((yy - 10) ** 2 + (xx - 25) ** 2 < 64)
    >>> labels = split_objects(two, 5)
    >>> int(labels.max()), int(labels[10, 10]), int(labels[10, 25])
    (2, 1, 2)
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    mask = np.ascontiguousarray(mask, bool)
    if mask.all():  # no background, no distances: one object
        return np.ones(mask.shape, np.int32)
    relative = np.ones(mask.ndim) if spacing is None else np.asarray(spacing, np.float64)
    relative = relative / relative.min()
    distance = distance_transform(mask, relative)
    reach = np.floor(min_distance / relative + 1e-9).astype(int)
    window = ndimage.maximum_filter(distance, size=tuple(2 * reach + 1), mode="constant")
    seeds = np.flatnonzero(mask & (distance == window))
    volume = (1,) * (3 - mask.ndim) + mask.shape  # 2D as one plane
    regions, n_regions, first, second, saddle = _flood(
        distance.reshape(volume), mask.reshape(volume), seeds
    )
    peak = np.zeros(n_regions + 1)
    peak[1 : seeds.size + 1] = distance.reshape(-1)[seeds]
    merge = saddle >= NECK_RATIO * np.minimum(peak[first], peak[second])
    n_nodes = n_regions + 1
    graph = coo_matrix((np.ones(int(merge.sum())), (first[merge], second[merge])), (n_nodes,) * 2)
    _, objects = connected_components(graph, directed=False)  # node 0 (background) -> 0
    return objects.astype(np.int32)[regions.reshape(mask.shape)]


# --- entry point --------------------------------------------------------------------------------


def _drop_small(labels: np.ndarray, mask: np.ndarray, min_size: int) -> np.ndarray:
    """``labels`` without objects under ``min_size`` pixels, renumbered 1..n (int32)."""
    sizes = np.bincount(labels[mask], minlength=int(labels.max()) + 1)
    keep = sizes >= max(min_size, 1)
    keep[0] = False
    if keep[1:].all():
        return labels.astype(np.int32, copy=False)
    renumber = np.zeros(sizes.size, np.int32)
    renumber[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return renumber[labels]


def postprocess(prediction: Prediction, params: Params) -> np.ndarray:
    """Instance labels (int32, 0 = background) from a cached ``prediction``.

    ``prediction.arrays["foreground"]`` is a ``(1, *spatial)`` probability; for volumes
    (``ZYX``) the Z median and the components are 3D. Pixels (voxels) touching at a corner
    are one object, as in ``--gt-binary``'s pieces. ``prediction.meta["spacing"]``, if
    given, is the voxel size per spatial axis. The arrays are not modified.

    Examples
    --------
    >>> probability = np.zeros((1, 8, 16), np.float32)
    >>> probability[0, 1:7, 1:6] = 0.9; probability[0, 1:7, 9:15] = 0.8
    >>> probability[0, 0, 7] = 0.7  # a speck: fewer than min_size pixels
    >>> labels = postprocess(Prediction({"foreground": probability}, "YX"), Params(min_size=5))
    >>> int(labels.max()), int(labels[3, 3]), int(labels[3, 12]), int(labels[0, 7])
    (2, 1, 2, 0)
    >>> probability[0, 0, 15] = 0.7  # touches the second object at a corner: part of it
    >>> labels = postprocess(Prediction({"foreground": probability}, "YX"), Params(min_size=5))
    >>> int(labels.max()), bool(labels[0, 15] == labels[3, 12])
    (2, True)

    A volume with blank slices (``meta["blank_slices"]``) is post-processed a run of the
    other slices at a time (:func:`~._base.in_blank_free_runs`): no object reaches across
    a blank slice, nor is the Z median taken over one.
    """
    in_runs = in_blank_free_runs(prediction, lambda part: postprocess(part, params))
    if in_runs is not None:
        return in_runs
    mask = foreground_mask(prediction, params)
    if params.split:
        relative = relative_spacing(prediction, mask.ndim)
        labels = split_objects(mask, params.min_distance, relative)
    else:
        from ..evaluation import mask_pieces  # the pieces --gt-binary scores

        labels, _ = mask_pieces(mask)
    return _drop_small(labels, mask, params.min_size)

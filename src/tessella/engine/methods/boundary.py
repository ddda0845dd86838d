"""Boundary-based instance segmentation (C. elegans germline 3D U-Net; plant-seg/elf), 2D and 3D.

The network predicts a boundary probability (high on the membranes between objects) and a
foreground probability. Post-processing, in the order of :func:`postprocess`:

1. Superpixels: the distance to the nearest boundary (``boundary >= boundary_thresh``), smoothed,
   has a local maximum inside every object; these seed a watershed of
   ``alpha * boundary + (1 - alpha) * (1 - min(distance, DISTANCE_SCALE) / DISTANCE_SCALE)``.
   The distance saturates at a fixed scale rather than being divided by the image's largest
   distance, so a pixel's height depends only on its surroundings: a block of a blockwise run
   (with its halo) gets the superpixels the whole image would. Superpixels smaller than
   ``min_superpixel`` join the neighbour with the weakest boundary between them.
2. Region adjacency graph: for every pair of touching superpixels, the mean boundary
   probability ``p`` over their face contacts and the contact size.
3. Multicut-style agglomeration: edge costs ``size * (log((1 - p) / p) + log((1 - beta) / beta))``
   (positive merges), solved by greedy additive edge contraction.
4. Size filters and a keep threshold on each object's mean foreground probability.

Steps 1-2 depend only on the boundary map and ``boundary_thresh``, ``sigma_seeds``, ``alpha``,
``min_superpixel``; they are cached (:func:`clear_cache`), so a change of ``beta``, ``min_size``,
``max_size`` or ``fg_thresh`` re-runs only steps 3-4.

Anisotropy: ``prediction.meta["spacing"]`` (voxel size per spatial axis) scales the distance
transform and the seed smoothing. An axis sampled at least ``STACKED_RATIO`` times coarser than
the finest (serial-section EM) is handled slice by slice for the superpixels, as elf's stacked
watershed does: a superpixel that leaked through a thick section into another cell could not be
undone by merging. The region graph links the slices, so the objects are 3D.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.segmentation import watershed

from ..params import param
from ._agglomeration import greedy_additive, merge_small_nodes
from ._base import Prediction, relative_spacing

__all__ = [
    "NAME",
    "OUTPUT_KINDS",
    "Params",
    "activate",
    "agglomerate",
    "block_graph",
    "clear_cache",
    "edge_costs",
    "merge_small_superpixels",
    "objects_from_graph",
    "out_channels",
    "postprocess",
    "region_graph",
    "superpixels",
]

NAME = "boundary"
#: a 2D model of this method segments a ZYX stack slice by slice, agglomerating in 3D
SLICEWISE_3D = True
OUTPUT_KINDS = {"boundary": "scalar", "foreground": "scalar"}
STACKED_RATIO = 2.0  # axes this much coarser than the finest get 2D superpixels
P_CLIP = 0.001  # p is clipped to [P_CLIP, 1 - P_CLIP] so that log-odds stay finite
CACHE_SIZE = 4  # superpixel graphs kept: a few predictions (e.g. the slice and the volume)
#: pixels (of the finest axis) at which the distance term of the watershed height saturates;
#: about the largest cell radius in ISBI 2012 (53-81 px per slice), so it rarely saturates there
DISTANCE_SCALE = 64.0


@dataclass(frozen=True)
class Params:
    boundary_thresh: float = param(
        0.5, 0.0, 1.0, "Boundary probability at or above this is membrane when placing seeds."
    )
    sigma_seeds: float = param(
        2.0, 0.0, 10.0, "Smoothing (pixels) of the distance map whose maxima seed superpixels."
    )
    alpha: float = param(
        0.9, 0.0, 1.0, "Watershed height: weight of the boundary map against the distance map."
    )
    min_superpixel: int = param(
        20, 0, 100_000, "Superpixels with fewer pixels join their weakest-boundary neighbour."
    )
    beta: float = param(
        0.5, 0.01, 0.99, "Boundary bias: below 0.5 merges more, above 0.5 splits more."
    )
    min_size: int = param(0, 0, 1_000_000_000, "Discard objects with fewer pixels (voxels).")
    max_size: int = param(
        0, 0, 1_000_000_000, "Discard objects with more pixels (voxels); 0 = no limit."
    )
    fg_thresh: float = param(
        0.5, 0.0, 1.0, "Discard objects whose mean foreground probability is below this."
    )


def out_channels(ndim: int) -> tuple[int, ...]:
    """One head: channel 0 boundary, channel 1 foreground."""
    return (2,)


def activate(raw, ndim: int) -> dict:
    """Raw network output ``(batch, 2, *spatial)`` -> named torch tensors."""
    import torch

    return {"boundary": torch.sigmoid(raw[:, 0:1]), "foreground": torch.sigmoid(raw[:, 1:2])}


# --- superpixels -------------------------------------------------------------------------------


def _neighbourhoods(relative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Face connectivity and the 3x3(x3) maximum-filter footprint, both restricted to the axes
    finer than ``STACKED_RATIO`` so that seeds and watershed stay within a thick section."""
    in_plane = relative < STACKED_RATIO
    ndim = relative.size
    structure = np.zeros((3,) * ndim, bool)
    centre = (1,) * ndim
    structure[centre] = True
    for axis in np.flatnonzero(in_plane):
        for step in (0, 2):
            index = list(centre)
            index[axis] = step
            structure[tuple(index)] = True
    footprint = np.ones(tuple(3 if fine else 1 for fine in in_plane), bool)
    return structure, footprint


def _seeds(smoothed: np.ndarray, interior: np.ndarray, structure, footprint) -> np.ndarray:
    """Labelled local maxima of ``smoothed`` inside ``interior``, at least one per connected
    interior region (a thin region beside a thick one may have no maximum of its own)."""
    peaks = interior & (smoothed == ndimage.maximum_filter(smoothed, footprint=footprint))
    seeds, n_seeds = ndimage.label(peaks, structure)  # a plateau is one seed
    regions, n_regions = ndimage.label(interior, structure)
    has_seed = np.zeros(n_regions + 1, bool)
    has_seed[regions[peaks]] = True
    has_seed[0] = True
    unseeded = np.flatnonzero(~has_seed[regions])
    if unseeded.size:
        region = regions.reshape(-1)[unseeded]
        order = np.lexsort((smoothed.reshape(-1)[unseeded], region))
        last = np.r_[region[order][1:] != region[order][:-1], True]
        best = unseeded[order[last]]  # the highest pixel of each unseeded region
        seeds.reshape(-1)[best] = n_seeds + 1 + np.arange(best.size)
    return seeds


def _watershed(boundary: np.ndarray, relative: np.ndarray, params: Params) -> np.ndarray:
    """Raw superpixels (int32, 1..n, every pixel labelled)."""
    interior = boundary < params.boundary_thresh
    if interior.all():  # no boundary at all: every pixel is far from one
        distance = np.full(boundary.shape, DISTANCE_SCALE, np.float32)
    else:
        distance = ndimage.distance_transform_edt(interior, sampling=relative).astype(np.float32)
    smoothed = distance
    if params.sigma_seeds > 0:
        smoothed = ndimage.gaussian_filter(distance, sigma=params.sigma_seeds / relative)
    structure, footprint = _neighbourhoods(relative)
    seeds = _seeds(smoothed, interior, structure, footprint)
    near = np.minimum(distance, DISTANCE_SCALE) / DISTANCE_SCALE
    height = params.alpha * boundary + (1 - params.alpha) * (1 - near)
    labels = watershed(height.astype(np.float32), markers=seeds, connectivity=structure)
    unreached = labels == 0  # sections (or a whole image) that are all boundary have no seed
    if unreached.any():
        extra, _ = ndimage.label(unreached, structure)
        labels[unreached] = extra[unreached] + labels.max()
    return labels.astype(np.int32, copy=False)


def region_graph(
    superpixels: np.ndarray, boundary: np.ndarray, spacing=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Region adjacency graph of a label image over face-neighbouring pixels (voxels).

    Each pair of face neighbours with different labels (label 0 is ignored) is a contact whose
    value is the mean of the two pixels' boundary probabilities. With ``spacing``, a contact
    counts its face area in units of the finest axis' pixel face.

    Returns
    -------
    edges : (E, 2) int64
        Label pairs ``a < b``, sorted.
    mean_p : (E,) float64
        Contact-weighted mean boundary probability of each edge.
    size : (E,) float64
        Contact size (number of face contacts, or their area with ``spacing``).

    Examples
    --------
    >>> labels = np.array([[1, 1, 2], [1, 1, 2]])
    >>> boundary = np.array([[0.0, 0.2, 0.6], [0.0, 0.4, 0.8]])
    >>> edges, mean_p, size = region_graph(labels, boundary)
    >>> edges.tolist(), mean_p.round(2).tolist(), size.tolist()
    ([[1, 2]], [0.5], [2.0])
    """
    labels = np.asarray(superpixels)
    boundary = np.asarray(boundary, np.float32)
    if labels.shape != boundary.shape:
        raise ValueError(f"superpixels {labels.shape} and boundary {boundary.shape} differ")
    ndim = labels.ndim
    relative = np.ones(ndim) if spacing is None else np.asarray(spacing, np.float64)
    relative = relative / relative.min()
    n_labels = int(labels.max()) + 1 if labels.size else 1
    keys, values, areas = [], [], []
    for axis in range(ndim):
        low = tuple(slice(None, -1) if d == axis else slice(None) for d in range(ndim))
        high = tuple(slice(1, None) if d == axis else slice(None) for d in range(ndim))
        a, b = labels[low], labels[high]
        contact = (a != b) & (a != 0) & (b != 0)
        a, b = a[contact].astype(np.int64), b[contact].astype(np.int64)
        keys.append(np.minimum(a, b) * n_labels + np.maximum(a, b))
        values.append((boundary[low][contact] + boundary[high][contact]) * 0.5)
        areas.append(np.full(a.size, np.prod(np.delete(relative, axis))))
    key = np.concatenate(keys)
    unique, inverse = np.unique(key, return_inverse=True)
    area = np.concatenate(areas)
    size = np.bincount(inverse, weights=area, minlength=unique.size)
    p_sum = np.bincount(inverse, weights=np.concatenate(values) * area, minlength=unique.size)
    edges = np.stack([unique // n_labels, unique % n_labels], axis=1)
    return edges, p_sum / np.maximum(size, 1e-12), size


def _merge_small(labels, edges, mean_p, size, min_superpixel):
    """Superpixels after merging the small ones, relabelled 1..n, and their region graph
    derived from the unmerged one (merged edges: contact-weighted mean p, summed size)."""
    n_nodes = int(labels.max()) + 1
    pixels = np.bincount(labels.reshape(-1), minlength=n_nodes)
    present = pixels > 0
    present[0] = True  # label 0 (background) has no edges, so it stays alone and maps to 0
    if min_superpixel > 0 and edges.size:
        pixels[0] = min_superpixel  # never queued as small
        roots = merge_small_nodes(n_nodes, edges, mean_p, size, pixels, min_superpixel)
    else:
        roots = np.arange(n_nodes)
    lut = np.searchsorted(np.unique(roots[present]), roots).astype(np.int32)
    merged = lut[labels]
    a, b = lut[edges[:, 0]].astype(np.int64), lut[edges[:, 1]].astype(np.int64)
    inter = a != b
    n_merged = int(lut.max()) + 1
    key = np.minimum(a[inter], b[inter]) * n_merged + np.maximum(a[inter], b[inter])
    unique, inverse = np.unique(key, return_inverse=True)
    new_size = np.bincount(inverse, weights=size[inter], minlength=unique.size)
    p_sum = np.bincount(inverse, weights=(mean_p * size)[inter], minlength=unique.size)
    new_edges = np.stack([unique // n_merged, unique % n_merged], axis=1)
    return merged, new_edges, p_sum / np.maximum(new_size, 1e-12), new_size


def merge_small_superpixels(
    superpixels: np.ndarray, boundary: np.ndarray, min_superpixel: int, spacing=None
) -> np.ndarray:
    """Merge every superpixel smaller than ``min_superpixel`` pixels into the neighbour with
    the lowest mean boundary probability between them (smallest first, repeatedly, so merged
    groups that are still small keep merging); relabelled 1..n, 0 stays 0."""
    edges, mean_p, size = region_graph(superpixels, boundary, spacing)
    return _merge_small(np.asarray(superpixels), edges, mean_p, size, min_superpixel)[0]


def _superpixel_graph(boundary, relative, params):
    labels = _watershed(boundary, relative, params)
    edges, mean_p, size = region_graph(labels, boundary, relative)
    return _merge_small(labels, edges, mean_p, size, params.min_superpixel)


def superpixels(prediction: Prediction, params: Params) -> np.ndarray:
    """The superpixels (int32, 1..n, every pixel labelled) that ``postprocess`` agglomerates."""
    boundary = np.asarray(prediction.arrays["boundary"][0], np.float32)
    relative = relative_spacing(prediction, boundary.ndim)
    return _superpixel_graph(boundary, relative, params)[0]


# --- agglomeration ------------------------------------------------------------------------------


def edge_costs(mean_p: np.ndarray, size: np.ndarray, beta: float) -> np.ndarray:
    """Multicut costs: ``size * (log((1 - p) / p) + log((1 - beta) / beta))``, positive =
    attractive (merge); ``p`` is clipped to ``[P_CLIP, 1 - P_CLIP]``."""
    p = np.clip(mean_p, P_CLIP, 1 - P_CLIP)
    return size * (np.log((1 - p) / p) + np.log((1 - beta) / beta))


def agglomerate(n_nodes: int, edges: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Greedy additive edge contraction: cluster of every node, ``(n_nodes,)`` int64, numbered
    0..k-1 in the order of each cluster's smallest node.

    Examples
    --------
    >>> edges = np.array([[0, 1], [0, 2], [1, 2], [2, 3]])
    >>> agglomerate(4, edges, np.array([5.0, 1.0, -3.0, 2.0])).tolist()  # 1 + (-3) < 0
    [0, 0, 1, 1]
    """
    roots = greedy_additive(n_nodes, edges, costs)
    first = np.full(n_nodes, n_nodes, np.int64)
    np.minimum.at(first, roots, np.arange(n_nodes))
    _, clusters = np.unique(first[roots], return_inverse=True)
    return clusters.reshape(-1)


# --- cache and entry point ----------------------------------------------------------------------


def _reference(array):
    """A weak reference where possible (the cache must not keep predictions alive)."""
    try:
        return weakref.ref(array)
    except TypeError:  # objects without weakref support are held strongly
        return lambda: array


class _Graph:
    """Cached superpixels and region graph of one boundary array and superpixel parameters."""

    def __init__(self, boundary, labels, edges, mean_p, size):
        self.source = _reference(boundary)  # a hit must be this very array, not a recycled id
        self.labels = labels
        self.edges = edges
        self.mean_p = mean_p
        self.size = size
        self.pixels = np.bincount(labels.reshape(-1)).astype(np.float64)
        self._foreground: tuple[Callable, np.ndarray] | None = None

    def foreground_sums(self, foreground: np.ndarray | None) -> np.ndarray:
        """Summed foreground probability per superpixel (its pixel count when absent), for
        the ``(1, *spatial)`` array ``foreground``."""
        if foreground is None:
            return self.pixels
        cached = self._foreground
        if cached is not None and cached[0]() is foreground:
            return cached[1]
        values = np.asarray(foreground[0], np.float64).reshape(-1)
        sums = np.bincount(self.labels.reshape(-1), weights=values, minlength=self.pixels.size)
        self._foreground = (_reference(foreground), sums)
        return sums


_cache: OrderedDict[tuple, _Graph] = OrderedDict()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached superpixel graph."""
    with _cache_lock:
        _cache.clear()


def _graph(prediction: Prediction, params: Params) -> _Graph:
    source = prediction.arrays["boundary"]
    boundary = np.asarray(source[0], np.float32)
    relative = relative_spacing(prediction, boundary.ndim)
    key = (
        id(source),
        source.shape,
        tuple(relative),
        params.boundary_thresh,
        params.sigma_seeds,
        params.alpha,
        params.min_superpixel,
    )
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit.source() is source:
            _cache.move_to_end(key)
            return hit
    graph = _Graph(source, *_superpixel_graph(boundary, relative, params))
    with _cache_lock:
        _cache[key] = graph
        _cache.move_to_end(key)
        for stale in [k for k, g in _cache.items() if g.source() is None]:
            del _cache[stale]
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return graph


def postprocess(prediction: Prediction, params: Params) -> np.ndarray:
    """Instance labels (int32, 0 = background) from a cached ``prediction``.

    ``prediction.arrays["boundary"]`` (and optionally ``"foreground"``, else all ones) are
    ``(1, *spatial)`` probabilities; ``prediction.meta["spacing"]``, if given, is the voxel size
    per spatial axis. The arrays are treated as immutable: superpixels are cached per array.

    Examples
    --------
    >>> boundary = np.zeros((1, 6, 9), np.float32); boundary[0, :, 4] = 1.0  # one membrane
    >>> labels = postprocess(Prediction({"boundary": boundary}, "YX"), Params())
    >>> int(labels.max()), bool(labels[0, 0] != labels[0, 8])
    (2, True)
    """
    boundary = prediction.arrays["boundary"]
    foreground = prediction.arrays.get("foreground")
    if foreground is not None and foreground.shape != boundary.shape:
        raise ValueError(f"foreground {foreground.shape} and boundary {boundary.shape} differ")
    graph = _graph(prediction, params)
    fg_sum = graph.foreground_sums(foreground)
    objects = objects_from_graph(
        graph.edges, graph.mean_p, graph.size, graph.pixels, fg_sum, params
    )
    return objects.astype(np.int32)[graph.labels]


def objects_from_graph(edges, mean_p, size, pixels, fg_sum, params: Params) -> np.ndarray:
    """Steps 3-4 on a superpixel graph: the object of every node, ``(n_nodes,)`` int64, 1..k in
    the order of each object's smallest node, 0 where the size or foreground filters drop it.

    ``edges``/``mean_p``/``size`` as :func:`region_graph` gives them, ``pixels`` and ``fg_sum``
    (summed foreground probability; ``pixels`` without a foreground) per node. The in-memory
    post-processing and the blockwise stitching (over the superpixels of all blocks) share it.

    Examples
    --------
    >>> edges = np.array([[0, 1], [1, 2]])
    >>> objects_from_graph(edges, np.array([0.1, 0.9]), np.array([5.0, 5.0]),
    ...     np.array([30.0, 30.0, 5.0]), np.array([30.0, 30.0, 5.0]), Params(min_size=10)).tolist()
    [1, 1, 0]
    """
    pixels = np.asarray(pixels, np.float64)
    n_nodes = pixels.size
    objects = agglomerate(n_nodes, edges, edge_costs(mean_p, size, params.beta))
    n_objects = int(objects.max()) + 1 if n_nodes else 0
    object_pixels = np.bincount(objects, weights=pixels, minlength=n_objects)
    fg_mean = np.bincount(objects, weights=fg_sum, minlength=n_objects)
    np.divide(fg_mean, object_pixels, out=fg_mean, where=object_pixels > 0)
    keep = (object_pixels > 0) & (object_pixels >= params.min_size)
    keep &= fg_mean >= params.fg_thresh
    if params.max_size > 0:
        keep &= object_pixels <= params.max_size
    renumber = np.zeros(n_objects, np.int64)
    renumber[keep] = np.arange(1, int(keep.sum()) + 1)
    return renumber[objects]


def block_graph(prediction: Prediction, params: Params) -> dict:
    """What a block of a blockwise run keeps for the global agglomeration: the superpixels
    (steps 1, cached like :func:`postprocess`), the boundary and foreground maps they are
    weighed with, and the relative voxel size. See :mod:`tessella.engine.blockwise`."""
    boundary = prediction.arrays["boundary"]
    foreground = prediction.arrays.get("foreground")
    graph = _graph(prediction, params)
    return {
        "superpixels": graph.labels,
        "boundary": np.asarray(boundary[0], np.float32),
        "foreground": None if foreground is None else np.asarray(foreground[0], np.float32),
        "spacing": tuple(relative_spacing(prediction, graph.labels.ndim)),
    }

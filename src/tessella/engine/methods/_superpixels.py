"""Boundary method, steps 1-2: superpixels from the boundary map (a seeded watershed, the
small ones merged) and their region adjacency graph. See :mod:`.boundary`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage
from skimage.segmentation import watershed

from ._agglomeration import merge_small_nodes
from ._base import Prediction, relative_spacing

if TYPE_CHECKING:
    from .boundary import Params

__all__ = ["merge_small_superpixels", "region_graph", "superpixels"]


STACKED_RATIO = 2.0  # axes this much coarser than the finest get 2D superpixels
#: pixels (of the finest axis) at which the distance term of the watershed height saturates;
#: about the largest cell radius in ISBI 2012 (53-81 px per slice), so it rarely saturates there
DISTANCE_SCALE = 64.0


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

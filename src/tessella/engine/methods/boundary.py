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

Blank slices (``prediction.meta["blank_slices"]``: constant sections of a stack predicted slice
by slice, or of a 3D model's volume) get no superpixels; each run of the other slices has its
own, so no object reaches across a blank slice and the others are as if it were the stack's
first or last.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..params import param
from ._agglomeration import greedy_additive
from ._base import Prediction, blank_free_runs, relative_spacing
from ._superpixels import DISTANCE_SCALE as DISTANCE_SCALE
from ._superpixels import STACKED_RATIO as STACKED_RATIO
from ._superpixels import _merge_small as _merge_small
from ._superpixels import _neighbourhoods as _neighbourhoods
from ._superpixels import _seeds as _seeds
from ._superpixels import _superpixel_graph, merge_small_superpixels, region_graph, superpixels
from ._superpixels import _watershed as _watershed

__all__ = [
    "NAME",
    "OUTPUT_KINDS",
    "Params",
    "UnknownZSpacingWarning",
    "activate",
    "agglomerate",
    "block_graph",
    "cached_plane",
    "clear_cache",
    "edge_costs",
    "merge_small_superpixels",
    "objects_from_graph",
    "out_channels",
    "postprocess",
    "region_graph",
    "superpixels",
    "unknown_z_spacing_note",
    "unknown_z_spacing_warning",
]

NAME = "boundary"
#: a 2D model of this method segments a ZYX stack slice by slice, agglomerating in 3D
SLICEWISE_3D = True
OUTPUT_KINDS = {"boundary": "scalar", "foreground": "scalar"}
P_CLIP = 0.001  # p is clipped to [P_CLIP, 1 - P_CLIP] so that log-odds stay finite
CACHE_SIZE = 4  # superpixel graphs kept: a few predictions (e.g. the slice and the volume)


@dataclass(frozen=True)
class Params:
    boundary_thresh: float = param(
        0.5, 0.0, 1.0, "Boundary probability at or above this is membrane when placing seeds."
    )
    sigma_seeds: float = param(
        2.0,
        0.0,
        10.0,
        "Smoothing (pixels) of the distance map whose maxima seed superpixels; 0 = off.",
    )
    alpha: float = param(
        0.9, 0.0, 1.0, "Watershed height: weight of the boundary map against the distance map."
    )
    min_superpixel: int = param(
        20,
        0,
        100_000,
        "Superpixels with fewer pixels join their weakest-boundary neighbour; 0 = off.",
    )
    beta: float = param(
        0.5, 0.01, 0.99, "Boundary bias: below 0.5 merges more, above 0.5 splits more."
    )
    min_size: int = param(
        0, 0, 1_000_000_000, "Discard objects with fewer pixels (voxels); 0 = no limit."
    )
    max_size: int = param(
        0, 0, 1_000_000_000, "Discard objects with more pixels (voxels); 0 = no limit."
    )
    fg_thresh: float = param(
        0.5, 0.0, 1.0, "Discard objects whose mean foreground probability is below this; 0 = off."
    )


def out_channels(ndim: int) -> tuple[int, ...]:
    """One head: channel 0 boundary, channel 1 foreground."""
    return (2,)


def activate(raw, ndim: int) -> dict:
    """Raw network output ``(batch, 2, *spatial)`` -> named torch tensors."""
    import torch

    return {"boundary": torch.sigmoid(raw[:, 0:1]), "foreground": torch.sigmoid(raw[:, 1:2])}


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


def _graph_key(prediction: Prediction, params: Params) -> tuple:
    source = prediction.arrays["boundary"]
    relative = relative_spacing(prediction, len(source.shape) - 1)
    runs = blank_free_runs(prediction)
    return (
        id(source),
        source.shape,
        tuple(relative),
        params.boundary_thresh,
        params.sigma_seeds,
        params.alpha,
        params.min_superpixel,
        None if runs is None else tuple(runs),
    )


def _cached_graph(prediction: Prediction, params: Params) -> _Graph | None:
    """The cached graph of ``prediction`` with ``params``' superpixel values, or None."""
    source = prediction.arrays["boundary"]
    key = _graph_key(prediction, params)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit.source() is source:
            _cache.move_to_end(key)
            return hit
    return None


def _graph(prediction: Prediction, params: Params) -> _Graph:
    hit = _cached_graph(prediction, params)
    if hit is not None:
        return hit
    source = prediction.arrays["boundary"]
    boundary = np.asarray(source[0], np.float32)
    relative = relative_spacing(prediction, boundary.ndim)
    runs = blank_free_runs(prediction)
    key = _graph_key(prediction, params)
    if runs is None:
        graph = _Graph(source, *_superpixel_graph(boundary, relative, params))
    else:
        graph = _Graph(source, *_runs_graph(boundary, relative, params, runs))
        graph.pixels[0] = 0  # the blank slices: no superpixel, so no object
    with _cache_lock:
        _cache[key] = graph
        _cache.move_to_end(key)
        for stale in [k for k, g in _cache.items() if g.source() is None]:
            del _cache[stale]
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return graph


def _runs_graph(boundary: np.ndarray, relative, params: Params, runs):
    """Superpixels and region graph of a volume with blank slices: those of each run of the
    other slices (``runs``, :func:`~._base.blank_free_runs`) as a volume of its own, numbered
    after the runs before; the blank slices are 0 (no superpixel), so no edge crosses them
    and what the network made of a blank section joins nothing (user test s31/t8)."""
    labels = np.zeros(boundary.shape, np.int32)
    edges, mean_p, size = [np.zeros((0, 2), np.int64)], [np.zeros(0)], [np.zeros(0)]
    after = 0
    for start, stop in runs:
        part, part_edges, part_p, part_size = _superpixel_graph(
            np.ascontiguousarray(boundary[start:stop]), relative, params
        )
        labels[start:stop] = np.where(part > 0, part + after, 0)
        edges.append(part_edges.astype(np.int64) + after)
        mean_p.append(part_p)
        size.append(part_size)
        after += int(part.max()) if part.size else 0
    return labels, np.concatenate(edges), np.concatenate(mean_p), np.concatenate(size)


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


def cached_plane(prediction: Prediction, params: Params, plane: int) -> np.ndarray | None:
    """Slice ``plane`` (along Z) of :func:`postprocess`'s labels of the volume ``prediction``,
    made from its superpixels and region graph where they are cached for ``params``' values
    of steps 1-2 (after a run of the volume with them: Segment's, *Apply to all*): steps 3-4
    on the cached graph (milliseconds: 15-25 ms on a 10x512x512 ISBI stack, whose graph takes
    5-6 s to make), then the slice; the same labels, IDs included, as the volume's. None,
    computing nothing, where they are not cached (Tune then previews the slice in 2D)."""
    graph = _cached_graph(prediction, params)
    if graph is None or "Z" not in prediction.spatial_axes:
        return None
    foreground = prediction.arrays.get("foreground")
    boundary = prediction.arrays["boundary"]
    if foreground is not None and foreground.shape != boundary.shape:
        raise ValueError(f"foreground {foreground.shape} and boundary {boundary.shape} differ")
    fg_sum = graph.foreground_sums(foreground)
    objects = objects_from_graph(
        graph.edges, graph.mean_p, graph.size, graph.pixels, fg_sum, params
    )
    axis = prediction.spatial_axes.index("Z")
    on_plane = graph.labels[(slice(None),) * axis + (plane,)]
    return objects.astype(np.int32)[on_plane]


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


# --- a stack without Z spacing -----------------------------------------------------------------


def _card_voxel(card) -> str:
    """The card's voxel size as "Z x Y x X unit", or "" where it gives none per axis."""
    sizes = card.pixel_size if isinstance(card.pixel_size, dict) else {}
    if not all(isinstance(sizes.get(a), int | float) for a in "ZYX"):
        return ""
    values = [float(sizes[a]) for a in "ZYX"]
    unit = sizes.get("unit", "")
    if unit in ("µm", "um", "micron") and max(values) < 1:  # 0.05 µm reads better as 50 nm
        values, unit = [v * 1000 for v in values], "nm"
    return " x ".join(f"{v:g}" for v in values) + (f" {unit}" if unit else "")


#: what lacks the voxel size of a volume whose file gives no Z spacing
NO_Z_SPACING_IN_FILE = "no Z spacing in the file"


def unknown_z_spacing_note(
    name: str, card, axes: str, spacing, fixes: str, missing: str = NO_Z_SPACING_IN_FILE
) -> str | None:
    """The warning for a 2D model of this method run on a volume (spatial axes ZYX) whose
    voxel size is unknown (``spacing`` None): the slices are predicted one by one but the
    superpixels and the agglomeration are 3D, with a Z step as long as a pixel is wide, so
    that on serial sections (ISBI 2012: 50 nm sections, 4 nm pixels) objects join across
    slices (6 ISBI slices: 83 objects in all against 93-110 per slice, V_rand 0.49 against
    0.96 with the voxel size and 0.98 slice by slice). None for any other run. ``fixes``
    ends the message: how the caller's user sets the voxel size or segments slice by slice;
    ``missing`` says what lacks the voxel size (a file, a napari layer's scale).

    >>> from types import SimpleNamespace
    >>> card = SimpleNamespace(name="em", method="boundary", input={"axes": "YX"},
    ...     pixel_size={"Z": 0.05, "Y": 0.004, "X": 0.004, "unit": "µm"})
    >>> note = unknown_z_spacing_note("s.tif", card, "ZYX", None, "set it")
    >>> note.startswith("s.tif: no Z spacing in the file; em joins objects across slices")
    True
    >>> note.endswith("(the card's voxel size is 50 x 4 x 4 nm): set it")
    True
    >>> unknown_z_spacing_note("s.tif", card, "ZYX", (50, 4, 4), "set it") is None
    True
    >>> unknown_z_spacing_note("s.tif", card, "TYX", None, "set it") is None
    True
    """
    spatial = "".join(a for a in axes.upper() if a in "ZYX")
    if (
        spacing is not None
        or card.method != NAME
        or card.input.get("axes", "YX") != "YX"
        or spatial != "ZYX"
    ):
        return None
    voxel = _card_voxel(card)
    said = f" (the card's voxel size is {voxel})" if voxel else ""
    return (
        f"{name}: {missing}; {card.name} joins objects across slices as if the "
        f"sections were as thin as a pixel is wide{said}: {fixes}"
    )


#: how a caller of the Python API (``tessella.segment``, ``segment_steps``,
#: ``segment_blockwise``) gives a stack its voxel size or segments its slices one by one
API_Z_SPACING_FIXES = (
    "pass the voxel size as spacing=(Z, Y, X) (e.g. spacing=(50, 4, 4) for 50 nm sections "
    'of 4 nm pixels; segment_blockwise: also unit="nm", the unit its labels and recipe '
    'record, else the input\'s, "pixel" where it has none) or segment the slices separately '
    'with axes="TYX"'
)


class UnknownZSpacingWarning(UserWarning):
    """A 2D model of the boundary method segments a volume (ZYX) of unknown voxel size: its
    superpixels and agglomeration are 3D with a Z step as long as a pixel is wide, which on
    serial sections joins objects across slices (:func:`unknown_z_spacing_note`). Warned
    once per input by :func:`~tessella.engine.pipeline.segment_steps` (so
    ``tessella.segment``) and :func:`~tessella.engine.blockwise.segment_blockwise_steps`;
    the labels are as without it. ``name``, ``card`` and ``axes`` are the input's name, the
    model's card and the axes it was read with: what a caller needs to say it in its own
    words (:meth:`reworded`: the command line names its options, the napari panel the
    layer's scale). Filter it as any warning:
    ``warnings.filterwarnings("ignore", category=UnknownZSpacingWarning)``."""

    def __init__(
        self, message: str, name: str = "", card=None, axes: str = "", missing: str | None = None
    ):
        super().__init__(message)
        self.name, self.card, self.axes = name, card, axes
        #: what lacks the voxel size where the input's metadata said more than that it has
        #: none (a Z spacing without a pixel size:
        #: :func:`~tessella.engine.pipeline.missing_voxel_size`), else None
        self.missing = missing

    def reworded(self, fixes: str, name: str | None = None, missing: str | None = None) -> str:
        """The same warning with the caller's ``fixes`` (and ``name``, ``missing``: see
        :func:`unknown_z_spacing_note`; without ``missing``, :attr:`missing` where it is
        set)."""
        missing = self.missing if missing is None else missing
        said = {} if missing is None else {"missing": missing}
        note = unknown_z_spacing_note(
            self.name if name is None else name, self.card, self.axes, None, fixes, **said
        )
        return note or str(self)


def unknown_z_spacing_warning(
    name: str, card, axes: str, spacing, missing: str = NO_Z_SPACING_IN_FILE
) -> UnknownZSpacingWarning | None:
    """The :class:`UnknownZSpacingWarning` due for a run of ``card``'s model on an input
    named ``name`` with ``axes`` and ``spacing`` (None: unknown), worded for a caller of the
    Python API (``spacing=``, ``axes="TYX"``); None where none is due (see
    :func:`unknown_z_spacing_note`).

    >>> from types import SimpleNamespace
    >>> card = SimpleNamespace(name="em", method="boundary", input={"axes": "YX"},
    ...     pixel_size={})
    >>> warning = unknown_z_spacing_warning("image", card, "ZYX", None, "no spacing given")
    >>> str(warning).startswith("image: no spacing given; em joins objects across slices")
    True
    >>> 'axes="TYX"' in str(warning), warning.reworded("use --axes TYX").endswith("--axes TYX")
    (True, True)
    >>> unknown_z_spacing_warning("image", card, "ZYX", (50, 4, 4)) is None
    True
    """
    note = unknown_z_spacing_note(name, card, axes, spacing, API_Z_SPACING_FIXES, missing)
    return None if note is None else UnknownZSpacingWarning(note, name, card, axes)

"""What each method does per block and what after stitching (:class:`BlockwiseSupport`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BlockwiseSupport:
    """How a method's post-processing is split between the blocks and the stitching.

    ``context``: pixels of context the post-processing needs beyond the network's halo (about
    the largest object). ``stitch``: ``"overlap"``, ``"touch"`` or ``"graph"`` (the segmenter
    returns superpixels and ``objects`` finishes them; see the module notes); ``connectivity``
    (1..ndim) says which pixels touch. ``size_params``: names of the (min, max) object-size
    parameters applied to whole objects after stitching ("" = none); blocks run with them at 0.
    """

    context: int
    stitch: str = "overlap"
    connectivity: int = 1
    size_params: tuple[str, str] = ("", "")


def _semantic_support(params) -> BlockwiseSupport:
    """Without ``split``: components of a mask made by local filters -> touch stitching, exact
    (opening/closing/Z median reach at most 4 * radius + z_median / 2 pixels). With ``split``
    the distance watershed separates touching objects -> overlap stitching."""
    radius, z_median = getattr(params, "radius", 0), getattr(params, "z_median", 0)
    if getattr(params, "split", False):
        context = max(32, 4 * radius + 2 * getattr(params, "min_distance", 10))
        return BlockwiseSupport(context, "overlap", size_params=("min_size", ""))
    return BlockwiseSupport(max(16, 4 * radius + z_median), "touch", 3, ("min_size", ""))


def _temporal_support(params) -> BlockwiseSupport:
    """Per frame: threshold, holes, the centre-map watershed (cells up to ~64 px across),
    matched by overlap; ``min_size`` after stitching; linking over the whole movie after."""
    return BlockwiseSupport(64, "overlap", size_params=("min_size", ""))


#: per method: a :class:`BlockwiseSupport`, or a function of the parameters giving one
SUPPORT: dict[str, BlockwiseSupport | Callable] = {
    "embedding": BlockwiseSupport(64, "overlap"),
    "boundary": BlockwiseSupport(128, "graph"),
    "semantic": _semantic_support,
    # objects as label images (where they overlap, one of them shows); worms reach ~250 px.
    # min_size per block, as in memory: an instance under it is never painted, so it cannot
    # cover part of a worm (after stitching it would leave those pixels background), and a
    # worm is measured by its mask, not by the pixels left to it by the instances over it
    "patches": BlockwiseSupport(128, "overlap"),
    "temporal": _temporal_support,
}


def blockwise_support(method: str, params: Any = None) -> BlockwiseSupport:
    """How ``method`` (with ``params``) runs blockwise: the method module's ``BLOCKWISE`` (a
    dict, a :class:`BlockwiseSupport` or a function of the parameters), else :data:`SUPPORT`.

    Examples
    --------
    >>> blockwise_support("boundary").stitch
    'graph'
    """
    import importlib

    try:
        module = importlib.import_module(f"..methods.{method}", __package__)
    except ImportError:
        module = None
    declared = getattr(module, "BLOCKWISE", None) or SUPPORT.get(method)
    if callable(declared) and not isinstance(declared, BlockwiseSupport):
        declared = declared(params)
    if isinstance(declared, dict):
        declared = dict(declared)
        declared["size_params"] = tuple(declared.get("size_params", ("", "")))
        declared = BlockwiseSupport(**declared)
    if declared is None:
        raise ValueError(f"method {method!r} has no blockwise support yet")
    return declared

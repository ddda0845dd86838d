"""Spatial-embedding instance segmentation (EmbedSeg; Neven et al. 2019), 2D and 3D.

The network predicts, per pixel, an offset to its object's centre, a per-axis sigma (the
object's learnt size in embedding space) and a seed map (high at pixels whose embedding lands
on their centre). Post-processing clusters the foreground around the best seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import param
from ._base import Prediction
from ._clustering import cluster_embeddings

__all__ = ["NAME", "Params", "OUTPUT_KINDS", "out_channels", "activate", "postprocess", "cluster"]

NAME = "embedding"
OUTPUT_KINDS = {"offsets": "vector", "sigma": "axial", "seed": "scalar"}
SIGMA_SCALE = 10.0  # s = exp(SIGMA_SCALE * sigma), as in EmbedSeg


@dataclass(frozen=True)
class Params:
    fg_thresh: float = param(0.5, 0.0, 1.0, "Seed map above this is foreground.")
    seed_thresh: float = param(0.9, 0.0, 1.0, "Start no new object at a seed below this.")
    min_size: int = param(
        36, 0, 1_000_000, "Discard proposals with fewer pixels (voxels); 0 = no limit."
    )
    cutoff: float = param(0.5, 0.01, 0.99, "Gaussian membership above this joins the object.")
    min_unclustered: float = param(
        0.5,
        0.0,
        1.0,
        "Accept a proposal only if more than this fraction is still unclaimed; 0 = off.",
    )


def out_channels(ndim: int) -> tuple[int, int]:
    """Channels of the two network branches: offsets + sigmas, and the seed map."""
    return (2 * ndim, 1)


def activate(raw, ndim: int) -> dict:
    """Raw network output ``(batch, 2*ndim + 1, *spatial)`` -> named torch tensors."""
    import torch

    return {
        "offsets": torch.tanh(raw[:, :ndim]),
        "sigma": raw[:, ndim : 2 * ndim],
        "seed": torch.sigmoid(raw[:, 2 * ndim : 2 * ndim + 1]),
    }


def cluster(prediction: Prediction, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Labels and per-label seed scores (index 0 unused) for ``prediction``."""
    seed = prediction.arrays["seed"][0]
    offsets = prediction.arrays["offsets"]
    sigma = prediction.arrays["sigma"]
    ndim = seed.ndim
    spacing = np.asarray(prediction.meta.get("grid_spacing", [1 / 1024] * ndim), np.float64)
    foreground = np.flatnonzero(seed > params.fg_thresh)
    labels = np.zeros(seed.shape, np.int32)
    if foreground.size == 0:
        return labels, np.zeros(1, np.float32)
    coords = np.unravel_index(foreground, seed.shape)
    embeddings = np.empty((ndim, foreground.size), np.float64)
    scales = np.empty((ndim, foreground.size), np.float64)
    for d in range(ndim):
        embeddings[d] = coords[d] + offsets[d].reshape(-1)[foreground] / spacing[d]
        scales[d] = np.exp(SIGMA_SCALE * sigma[d].reshape(-1)[foreground]) * spacing[d] ** 2
    flat_labels, scores = cluster_embeddings(
        embeddings,
        scales,
        seed.reshape(-1)[foreground],
        params.seed_thresh,
        params.cutoff,
        params.min_size,
        params.min_unclustered,
    )
    labels.reshape(-1)[foreground] = flat_labels
    return labels, scores


def postprocess(prediction: Prediction, params: Params) -> np.ndarray:
    """Instance labels (int32, 0 = background) from a cached ``prediction``.

    Examples
    --------
    >>> seed = np.zeros((1, 8, 8), np.float32); seed[0, 2:5, 2:5] = 0.95
    >>> zeros = np.zeros((2, 8, 8), np.float32)
    >>> pred = Prediction({"seed": seed, "offsets": zeros, "sigma": zeros - 0.5}, "YX")
    >>> labels = postprocess(pred, Params(min_size=1))
    >>> int(labels.max()), int((labels > 0).sum())
    (1, 9)
    """
    return cluster(prediction, params)[0]

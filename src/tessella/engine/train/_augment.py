"""Augmentation of training crops: dihedral turns, intensities and noise; rotation and elastic
deformation."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["augment", "deform_margin", "deform"]


def augment(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator, *others):
    """Random dihedral transform (z kept in 3D), intensity scale/shift/gamma and noise.

    ``others`` (arrays shaped like ``labels``) get the same geometric transform and are
    returned after the labels.
    """
    ndim = labels.ndim
    first = ndim - 2
    maps = [labels, *others]
    if rng.random() < 0.5:
        image = np.swapaxes(image, first + 1, first + 2)
        maps = [np.swapaxes(m, first, first + 1) for m in maps]
    for axis in range(ndim):
        if rng.random() < 0.5:
            image = np.flip(image, axis + 1)
            maps = [np.flip(m, axis) for m in maps]
    image = image * rng.uniform(0.7, 1.4) + rng.uniform(-0.15, 0.15)
    if rng.random() < 0.3:
        lo = image.min()
        image = lo + np.abs(image - lo) ** rng.uniform(0.7, 1.4)
    if rng.random() < 0.3:
        # up to 0.2 of the intensity range: as noisy as the worst FIB-SEM sections
        image = image + rng.normal(0, rng.uniform(0.005, 0.2), image.shape)
    return (np.ascontiguousarray(image, np.float32), *(np.ascontiguousarray(m) for m in maps))


def deform_margin(patch: int, max_angle: float = 15.0, strength: float = 0.03) -> int:
    """Pixels to read beyond each side of a ``patch``-wide crop so that :func:`deform` (a
    rotation up to ``max_angle`` degrees and displacements up to about 3 x ``strength`` x
    ``patch``) samples real data, not padding."""
    angle = np.deg2rad(max_angle)
    sweep = patch / 2 * (np.cos(angle) + np.sin(angle) - 1)
    return int(np.ceil(sweep + 3 * strength * patch)) + 1


def deform(
    image: np.ndarray,
    maps: list[np.ndarray],
    rng: np.random.Generator,
    patch: tuple[int, ...],
    max_angle: float = 15.0,
    strength: float = 0.03,
    blur: float = 0.3,
):
    """A ``patch``-sized view of a larger crop, rotated by a random in-plane angle and
    elastically deformed (a random 3x3 grid of displacements, smoothly interpolated), then
    blurred with probability ``blur``.

    ``image`` is ``(C, *spatial)``; ``maps`` (labels, boundary maps, masks; nearest-neighbour
    sampled, so instance IDs and bitmasks stay exact) have its spatial shape, which must
    exceed ``patch`` by :func:`deform_margin` on each side in Y and X (Z is not deformed: the
    field is in-plane, the same for every section, as suits anisotropic stacks).
    """
    spatial = maps[0].shape
    out_yx, in_yx = np.array(patch[-2:]), np.array(spatial[-2:])
    angle = np.deg2rad(rng.uniform(-max_angle, max_angle))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    grid = np.stack(np.meshgrid(*(np.arange(n) for n in out_yx), indexing="ij"))
    relative = grid.reshape(2, -1) - ((out_yx - 1) / 2)[:, None]
    coords = (rotation @ relative + ((in_yx - 1) / 2)[:, None]).reshape(2, *out_yx)
    coarse = rng.normal(0.0, strength * out_yx.mean(), (2, 3, 3))
    for axis in range(2):
        coords[axis] += ndimage.zoom(coarse[axis], out_yx / 3, order=3, mode="nearest")[
            : out_yx[0], : out_yx[1]
        ]
    if len(spatial) == 3:  # same in-plane field for every section
        depth = spatial[0]
        z = np.broadcast_to(np.arange(depth)[:, None, None], (depth, *out_yx))
        coords = np.concatenate([z[None], np.broadcast_to(coords[:, None], (2, depth, *out_yx))])

    image = np.stack(
        [ndimage.map_coordinates(c, coords, order=1, mode="reflect") for c in image]
    ).astype(np.float32)
    # maps are indexed, not interpolated: map_coordinates goes through float64, which would
    # round a bitmask's high bits (objects 53-62) away
    nearest = tuple(_reflect(np.rint(c).astype(np.intp), n) for c, n in zip(coords, spatial))
    maps = [m[nearest] for m in maps]
    if rng.random() < blur:
        sigma = [0.0] + [0.0] * (len(spatial) - 2) + [rng.uniform(0.5, 1.2)] * 2
        image = ndimage.gaussian_filter(image, sigma)
    return image, maps


def _reflect(index: np.ndarray, n: int) -> np.ndarray:
    """``index`` folded into ``0..n-1`` as ``map_coordinates``' ``reflect`` mode does
    (half-sample symmetric: ... b a | a b c d | d c ...)."""
    index = np.mod(index, 2 * n)
    return np.where(index >= n, 2 * n - 1 - index, index)

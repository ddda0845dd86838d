"""Dihedral test-time augmentation that also transforms vector outputs.

A transform is a signed permutation of the spatial axes: the array is transposed by ``perm``
and then flipped along ``flips``. Network outputs computed on the transformed image are brought
back to the original frame by the inverse, and their *vector* channels (e.g. offsets, one
component per spatial axis) are permuted and sign-flipped too; *axial* channels (e.g. sigmas,
one scale per axis) are permuted but keep their sign. *Stacked* outputs (e.g. PatchPerPix's shape
codes, which a transform changes in no way a channel permutation can undo) are brought back to
the image's frame pixel by pixel but not averaged: the runner keeps one copy per transform,
stacked along the channels in the order of :func:`dihedral_transforms`, and the method undoes
the transform in its own space (``patches`` flips and transposes each decoded patch with
:func:`inverse_spatial`, then averages).

In 2D this is the dihedral group of the square (8 transforms). In 3D the z axis is kept in place
(microscopy volumes are usually anisotropic), giving 2 permutations x 8 flips = 16 transforms.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

__all__ = [
    "OutputKind",
    "Transform",
    "dihedral_transforms",
    "invert_outputs",
    "inverse_spatial",
    "spatial",
    "transform_image",
]

OutputKind = str  # "scalar" | "vector" | "axial" | "stacked"


@dataclass(frozen=True)
class Transform:
    """Transpose the spatial axes by ``perm``, then flip the axes where ``flips`` is True."""

    perm: tuple[int, ...]
    flips: tuple[bool, ...]

    @property
    def is_identity(self) -> bool:
        return self.perm == tuple(range(len(self.perm))) and not any(self.flips)


def dihedral_transforms(ndim: int) -> list[Transform]:
    """The 8 (2D) or 16 (3D, z kept in place) transforms; the identity comes first.

    Examples
    --------
    >>> len(dihedral_transforms(2)), len(dihedral_transforms(3))
    (8, 16)
    """
    perms: list[tuple[int, ...]]
    if ndim == 2:
        perms = [(0, 1), (1, 0)]
    elif ndim == 3:
        perms = [(0, 1, 2), (0, 2, 1)]
    else:
        raise ValueError(f"test-time augmentation needs 2 or 3 spatial axes, got {ndim}")
    return [
        Transform(perm, flips)
        for perm in perms
        for flips in itertools.product((False, True), repeat=ndim)
    ]


def spatial(array: np.ndarray, transform: Transform) -> np.ndarray:
    """Apply ``transform`` to the trailing spatial axes of ``array``: a view, not a copy."""
    lead = array.ndim - len(transform.perm)
    axes = tuple(range(lead)) + tuple(lead + p for p in transform.perm)
    out = np.transpose(array, axes)
    flip_axes = tuple(lead + i for i, flip in enumerate(transform.flips) if flip)
    return np.flip(out, flip_axes) if flip_axes else out


def inverse_spatial(array: np.ndarray, transform: Transform) -> np.ndarray:
    """Undo ``transform`` on the trailing spatial axes of ``array`` (a view, not a copy).

    On a window centred on a pixel (odd sides) this maps offsets as the image's pixels map: a
    patch predicted in the transformed frame comes back to the image's frame.

    Examples
    --------
    >>> t = dihedral_transforms(2)[5]  # transpose, then flip the new second axis
    >>> image = np.arange(6).reshape(2, 3)
    >>> bool((inverse_spatial(transform_image(image, t), t) == image).all())
    True
    """
    lead = array.ndim - len(transform.perm)
    flip_axes = tuple(lead + i for i, flip in enumerate(transform.flips) if flip)
    out = np.flip(array, flip_axes) if flip_axes else array
    inverse = np.argsort(transform.perm)
    return np.transpose(out, tuple(range(lead)) + tuple(lead + p for p in inverse))


def transform_image(image: np.ndarray, transform: Transform) -> np.ndarray:
    """Apply ``transform`` to the trailing spatial axes of ``image`` (leading axes untouched)."""
    return np.ascontiguousarray(spatial(image, transform))


def invert_outputs(
    outputs: dict[str, np.ndarray], transform: Transform, kinds: dict[str, OutputKind]
) -> dict[str, np.ndarray]:
    """Bring network outputs computed on ``transform(image)`` back to the image's frame.

    Each output is ``(channels, *spatial)``. For ``vector`` outputs channel ``i`` is the
    component along transformed axis ``i``; for ``axial`` outputs the same but without sign;
    ``scalar`` and ``stacked`` outputs only move their pixels.
    """
    result = {}
    for name, array in outputs.items():
        back = inverse_spatial(array, transform)
        kind = kinds.get(name, "scalar")
        if kind in ("vector", "axial"):
            ndim = len(transform.perm)
            if back.shape[0] != ndim:
                raise ValueError(f"output {name!r} has {back.shape[0]} channels, expected {ndim}")
            components: dict[int, np.ndarray] = {}
            for i, source_axis in enumerate(transform.perm):
                component = back[i]
                if kind == "vector" and transform.flips[i]:
                    component = -component
                components[source_axis] = component
            back = np.stack([components[axis] for axis in range(ndim)])
        result[name] = np.ascontiguousarray(back)
    return result

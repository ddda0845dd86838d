"""Where a layer lies on the canvas: its whole world transform (scale, translate, rotate,
shear and affine), compared between two layers (composed: the placement they make) and
copied to a layer made from another."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["TRANSFORMS", "composed", "last_axes", "placement_note", "world_transform"]

#: the parts of a napari layer's world transform: ``affine`` applied after the other four
TRANSFORMS = ("scale", "translate", "rotate", "shear", "affine")
#: matrices equal to this are one placement (float rounding of an angle, of a composed affine)
_TOLERANCE = 1e-6


def world_transform(layer) -> dict[str, np.ndarray]:
    """The parts of ``layer``'s world transform over all its axes: ``scale`` and ``translate``
    vectors, ``rotate``, ``shear`` (its upper-triangular matrix) and ``affine`` matrices."""
    from napari.utils.transforms.transform_utils import expand_upper_triangular

    shear = np.asarray(layer.shear, float)
    return {
        "scale": np.asarray(layer.scale, float),
        "translate": np.asarray(layer.translate, float),
        "rotate": np.asarray(layer.rotate, float),
        "shear": shear if shear.ndim == 2 else expand_upper_triangular(shear),
        "affine": np.asarray(layer.affine.affine_matrix, float),
    }


def last_axes(transform: dict[str, np.ndarray], count: int) -> dict[str, np.ndarray]:
    """``transform`` (:func:`world_transform`) of the last ``count`` axes alone, in the forms
    a napari layer of ``count`` axes takes them: an ``(N, Y, X)`` stack of masks lies over
    ``(Y, X)`` labels."""
    ndim = len(transform["scale"])
    kept = list(range(ndim - count, ndim))
    return {
        "scale": transform["scale"][kept],
        "translate": transform["translate"][kept],
        "rotate": transform["rotate"][np.ix_(kept, kept)],
        "shear": transform["shear"][np.ix_(kept, kept)],
        "affine": transform["affine"][np.ix_([*kept, ndim], [*kept, ndim])],
    }


def _numbers(values) -> str:
    return ", ".join(f"{value:.4g}" if abs(value) > 1e-12 else "0" for value in values)


def _matrix(rows) -> str:
    return "[" + ", ".join(f"[{_numbers(row)}]" for row in rows) + "]"


def _degrees(cos: float, sin: float) -> str:
    return f"{math.degrees(math.atan2(sin, cos)):.4g}°"


def _rotation(matrix: np.ndarray) -> str:
    """A rotation matrix in words: ``rotate 30°`` in 2D (and for none: ``rotate 0°``),
    ``rotate 45° about z`` for a rotation about one of the last three axes (z, y, x) that
    keeps the other axes, its angle as napari's angles turn it (``rotate=45`` of a 3D layer
    is ``rotate 45° about z``); any other rotation as its matrix."""
    ndim = len(matrix)
    if ndim == 2 or (ndim > 2 and _same(matrix, np.eye(ndim))):
        return f"rotate {_degrees(matrix[0, 0], matrix[1, 0])}"
    for about in range(ndim - 3, ndim) if ndim > 2 else ():
        # the plane turned, in the order napari's matrices turn it: about z from y towards
        # x, about y from x towards z, about x from z towards y
        first, second = (ndim - 3 + (about - ndim + 3 + step) % 3 for step in (1, 2))
        cos, sin = matrix[first, first], matrix[second, first]
        turned = np.eye(ndim)
        turned[np.ix_([first, second], [first, second])] = [[cos, -sin], [sin, cos]]
        if _same(matrix, turned):
            return f"rotate {_degrees(cos, sin)} about {'zyx'[about - ndim + 3]}"
    return f"rotate {_matrix(matrix)}"


def _part(what: str, values: np.ndarray) -> str:
    """One part of a placement in words: ``scale (2, 2)``, ``rotate 30°``, ``affine [...]``."""
    if what in ("scale", "translate"):
        return f"{what} ({', '.join(f'{value:g}' for value in values)})"
    if what == "shear":  # the coefficients napari takes: the upper triangle
        return f"shear ({_numbers(values[np.triu_indices(len(values), 1)])})"
    if what == "rotate":
        return _rotation(values)
    if what == "affine":  # its last row is always (0, ..., 0, 1)
        return f"affine {_matrix(values[:-1])}"
    return f"{what} {_matrix(values)}"


def composed(transform: dict[str, np.ndarray]) -> np.ndarray:
    """The ``(N + 1, N + 1)`` matrix that takes data coordinates to world coordinates, as
    napari composes ``transform`` (:func:`world_transform`): ``affine`` after ``rotate``,
    ``shear`` and ``scale``, then ``translate``. Parts written differently can compose to
    the same placement: ``scale (2, 2)`` and an ``affine`` of diag(2, 2)."""
    from napari.utils.transforms import Affine

    placed = Affine(
        scale=transform["scale"],
        translate=transform["translate"],
        rotate=transform["rotate"],
        shear=transform["shear"],
    )
    return np.asarray(transform["affine"], float) @ placed.affine_matrix


def _same(mine: np.ndarray, theirs: np.ndarray) -> bool:
    return bool(np.allclose(mine, theirs, rtol=1e-5, atol=_TOLERANCE))


def placement_note(pred, truth) -> str:
    """A warning when the layers of a pair do not lie on each other on the canvas (their
    composed world transforms differ on their shared last axes): the scores compare the
    arrays pixel by pixel, whatever their placement. It names both layers and, for each,
    the parts that differ (parts equal on both, such as ``translate (0, 0)``, are left
    out). Layers whose parts differ but compose to the same placement lie on each other: no
    warning."""
    n = min(pred.ndim, truth.ndim)  # an (N, Y, X) stack of masks lies over (Y, X) labels
    mine, theirs = last_axes(world_transform(pred), n), last_axes(world_transform(truth), n)
    if _same(composed(mine), composed(theirs)):
        return ""
    differ = [what for what in TRANSFORMS if not _same(mine[what], theirs[what])]
    if not differ:  # (each part within rounding, their composition not): name them all
        differ = list(TRANSFORMS)

    def placed(parts: dict) -> str:
        return ", ".join(_part(what, parts[what]) for what in differ)

    return (
        f"prediction '{pred.name}' has {placed(mine)} but ground truth '{truth.name}' has "
        f"{placed(theirs)}: the scores compare their pixels one to one, not what the canvas "
        "shows"
    )

"""Per-object measurements of a labels array, and writing them as CSV.

One row per object (per object and frame for a time series): label, size in pixels and, with a
pixel size, in physical units; centroid and bounding box in pixel indices; mean intensity of an
image and mean confidence of a probability map (e.g. a network's seed map) under the object.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .axes import check_axes, spatial_of
from .io import atomic_path
from .progress import warn_at_caller

__all__ = ["labels_axes_for", "measure_objects", "size_column", "write_csv"]

_AXES_BY_NDIM = {2: "YX", 3: "ZYX", 4: "TZYX"}


def labels_axes_for(ndim: int) -> str:
    """The axes a labels array of ``ndim`` dimensions has when nothing says otherwise."""
    if ndim not in _AXES_BY_NDIM:
        raise ValueError(f"labels must have 2 to 4 dimensions, not {ndim}")
    return _AXES_BY_NDIM[ndim]


def _unit_tag(unit: str) -> str:
    """A unit as it can stand in a column name: "µm" -> "um"."""
    unit = {"micron": "um", "micrometer": "um", "pixel": "px"}.get(unit, unit)
    return re.sub(r"[^0-9A-Za-z]", "", unit.replace("µ", "u").replace("μ", "u")) or "unit"


def size_column(spatial_axes: str, unit: str | None = None) -> str:
    """The name of the size column: ``area_px``, ``volume_px``, ``area_um2``, ``volume_um3``.

    Examples
    --------
    >>> size_column("YX"), size_column("ZYX", "µm")
    ('area_px', 'volume_um3')
    """
    kind = "area" if len(spatial_axes) == 2 else "volume"
    if unit is None:
        return f"{kind}_px"
    return f"{kind}_{_unit_tag(unit)}{len(spatial_axes)}"


def _spacing_of(spacing, spatial_axes: str) -> tuple[float, ...] | None:
    """The pixel size of each spatial axis, or None where a mapping gives Y and X but no Z
    (``read_image``'s ``pixel_size`` of a stack whose file says no Z spacing): said once."""
    if isinstance(spacing, Mapping):  # (axis names in either case, as segment takes them)
        given = spacing
        spacing = {str(axis).upper(): size for axis, size in spacing.items()}
        missing = [axis for axis in spatial_axes if axis not in spacing]
        if missing == ["Z"]:
            # the size of a voxel is unknown: a volume in µm³ would be made up
            known = {axis: spacing[axis] for axis in spatial_axes if axis != "Z"}
            _spacing_of(known, spatial_axes.replace("Z", ""))  # (Y and X checked all the same)
            warn_at_caller(
                f"spacing {dict(given)} gives no size for axis Z of the labels' spatial axes "
                f"{spatial_axes}: sizes in pixels only ({size_column(spatial_axes)}); pass "
                f"spacing={{'Z': ..., {', '.join(f'{a!r}: {v}' for a, v in known.items())}}} "
                f"for the volume in physical units"
            )
            return None
        if missing:
            raise ValueError(f"spacing gives no size for axis {', '.join(missing)}")
        values = tuple(float(spacing[axis]) for axis in spatial_axes)
    else:
        values = tuple(float(size) for size in spacing)
        if len(values) != len(spatial_axes):
            raise ValueError(
                f"spacing has {len(values)} entries but the labels have {len(spatial_axes)} "
                f"spatial axes ({spatial_axes})"
            )
    if not all(np.isfinite(size) and size > 0 for size in values):
        raise ValueError(f"spacing must be positive, not {values}")
    return values


def _check_inputs(labels, image, confidence) -> None:
    if labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers, not {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError("labels must not be negative")
    if image is not None:
        fits = image.shape == labels.shape or (
            image.ndim == labels.ndim + 1 and image.shape[:-1] == labels.shape
        )
        if not fits:
            raise ValueError(
                f"image shape {image.shape} differs from labels shape {labels.shape} "
                "(an extra last axis of channels is allowed)"
            )
        if image.dtype.kind not in "biuf":
            raise ValueError(f"image has unsupported pixel type {image.dtype}")
    if confidence is not None:
        if confidence.shape != labels.shape:
            raise ValueError(
                f"confidence shape {confidence.shape} differs from labels shape {labels.shape}"
            )
        if confidence.size and not (np.nanmin(confidence) >= 0 and np.nanmax(confidence) <= 1):
            raise ValueError("confidence values must lie in [0, 1]")


def _measure_frame(
    labels: np.ndarray,
    image: np.ndarray | None,
    confidence: np.ndarray | None,
    spatial_axes: str,
    spacing: tuple[float, ...] | None,
    unit: str | None,
) -> dict[str, np.ndarray]:
    from skimage.measure import regionprops_table

    names = spatial_axes.lower()
    unsigned64 = labels.dtype == np.uint64
    original_ids = None
    if labels.size and int(labels.max()) > max(labels.size, 1 << 16):
        # regionprops keeps a slot per id up to the largest (scipy's find_objects): one id of
        # 2**31 asked for 16 GB. Measure ids 1..N and give each row its own id back.
        from skimage.segmentation import relabel_sequential

        labels, _, inverse = relabel_sequential(labels)
        original_ids = inverse
    table = regionprops_table(labels, properties=("label", "area", "centroid", "bbox"))
    ndim = len(spatial_axes)
    ids = table["label"] if original_ids is None else original_ids[table["label"]]
    ids = np.asarray(ids)  # uint64 ids of 2**63 and more stay unsigned
    columns: dict[str, np.ndarray] = {"label": ids.astype(np.uint64 if unsigned64 else np.int64)}
    area = table["area"].astype(np.int64)  # pixel counts, whatever the spacing
    columns[size_column(spatial_axes)] = area
    if spacing is not None:
        columns[size_column(spatial_axes, unit)] = area * float(np.prod(spacing))
    for i, name in enumerate(names):
        columns[f"centroid_{name}"] = table[f"centroid-{i}"]
    for i, name in enumerate(names):
        columns[f"bbox_min_{name}"] = table[f"bbox-{i}"].astype(np.int64)
    for i, name in enumerate(names):
        # regionprops gives the stop of a slice; the last pixel covered reads better in a table
        columns[f"bbox_max_{name}"] = table[f"bbox-{i + ndim}"].astype(np.int64) - 1
    if image is not None:
        means = regionprops_table(labels, intensity_image=image, properties=("intensity_mean",))
        if image.ndim == labels.ndim:
            columns["mean_intensity"] = means["intensity_mean"]
        else:
            for c in range(image.shape[-1]):
                columns[f"mean_intensity_c{c}"] = means[f"intensity_mean-{c}"]
    if confidence is not None:
        means = regionprops_table(
            labels, intensity_image=confidence, properties=("intensity_mean",)
        )
        columns["mean_confidence"] = means["intensity_mean"]
    return columns


def measure_objects(
    labels: np.ndarray,
    image: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
    spacing: Mapping[str, float] | Sequence[float] | None = None,
    axes: str | None = None,
    unit: str = "µm",
) -> dict[str, np.ndarray]:
    """Measure every object of ``labels``; returns ``{column name: values}``, one row each.

    Parameters
    ----------
    labels : ndarray of int
        Objects numbered from 1; 0 is background.
    image : ndarray, optional
        Intensities of the same shape (or with an extra last axis of channels): adds
        ``mean_intensity`` (``mean_intensity_c0``, ... for channels).
    confidence : ndarray of float in [0, 1], optional
        A probability map of the same shape, e.g. a network's seed map: adds ``mean_confidence``.
    spacing : mapping or sequence, optional
        The pixel size, as ``{"Y": 0.5, "X": 0.5}`` (axis names in either case) or one value
        per spatial axis; adds the size in physical units (``area_um2`` or ``volume_um3`` for
        ``unit="µm"``). None or ``{}`` (``read_image``'s ``pixel_size`` of a file that has
        none): sizes in pixels only. A mapping that gives Y and X but no Z for a volume
        (``read_image``'s ``pixel_size`` of a stack whose file says no Z spacing): sizes in
        pixels only, with a warning saying so; a mapping without Y or X is refused.
    axes : str, optional
        The labels' axes (``YX``, ``ZYX``, ``TYX``, ``TZYX``); by default ``YX``, ``ZYX``
        or ``TZYX`` after the number of dimensions. With a ``T`` axis every frame is measured
        on its own and a ``t`` column says which (one label in two frames is two rows).
    unit : str
        The unit of ``spacing``.

    Returns
    -------
    dict of str to ndarray
        ``t`` (time series only), ``label``, ``area_px`` (``volume_px`` in 3D), the physical
        size, ``centroid_<axis>`` (pixel indices), ``bbox_min_<axis>`` and ``bbox_max_<axis>``
        (first and last pixel index covered), then the means asked for.

    Examples
    --------
    >>> labels = np.zeros((4, 6), np.uint8)
    >>> labels[1:3, 1:4] = 5
    >>> table = measure_objects(labels, spacing={"Y": 0.5, "X": 0.5})
    >>> table["label"], table["area_px"], table["area_um2"]
    (array([5]), array([6]), array([1.5]))
    >>> table["centroid_y"], table["centroid_x"], table["bbox_max_x"]
    (array([1.5]), array([2.]), array([3]))
    """
    labels = np.asarray(labels)
    axes = check_axes(axes or labels_axes_for(labels.ndim), labels.ndim, "labels")
    if "C" in axes:
        raise ValueError(f"labels have no channel axis; got axes {axes}")
    image = None if image is None else np.asarray(image)
    confidence = None if confidence is None else np.asarray(confidence)
    _check_inputs(labels, image, confidence)
    spatial_axes = spatial_of(axes)
    # (read_image's pixel_size of a file without one is {}: no size, as for segment)
    no_size = spacing is None or (isinstance(spacing, Mapping) and not spacing)
    sizes = None if no_size else _spacing_of(spacing, spatial_axes)
    if "T" not in axes:
        return _measure_frame(labels, image, confidence, spatial_axes, sizes, unit)
    t_axis = axes.index("T")
    frames = []
    for t in range(labels.shape[t_axis]):
        index = (slice(None),) * t_axis + (t,)
        frame = _measure_frame(
            labels[index],
            None if image is None else image[index],
            None if confidence is None else confidence[index],
            spatial_axes,
            sizes,
            unit,
        )
        frames.append({"t": np.full(len(frame["label"]), t, np.int64), **frame})
    return {name: np.concatenate([frame[name] for frame in frames]) for name in frames[0]}


def write_csv(
    path: str | os.PathLike,
    columns: Mapping[str, np.ndarray],
    overwrite: bool = False,
    make_parents: bool = False,
) -> Path:
    """Write ``columns`` as a CSV file with a header row, atomically.

    Raises FileExistsError (leaving the file as it was) when ``path`` exists and ``overwrite``
    is False, and ValueError when the columns differ in length. The folder of ``path`` must
    exist (FileNotFoundError naming it), unless ``make_parents``: then the missing folders
    are made, and removed again where the write fails.
    """
    names = list(columns)
    values = [np.asarray(columns[name]).tolist() for name in names]  # Python numbers: exact
    lengths = {len(column) for column in values}
    if len(lengths) > 1:
        counts = ", ".join(f"{name}: {len(column)}" for name, column in zip(names, values))
        raise ValueError(f"columns differ in length ({counts})")
    with atomic_path(path, overwrite, make_parents) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            writer.writerows(zip(*values))
    return Path(path)

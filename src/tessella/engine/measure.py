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

from ._counted_reads import CountedReads
from .axes import check_axes, spatial_of
from .io import atomic_path
from .progress import warn_at_caller

__all__ = [
    "CountedReads",
    "fits_labels",
    "labels_axes_for",
    "length_reads",
    "length_column",
    "measure_objects",
    "size_column",
    "skeleton_length",
    "spacing_for",
    "table_boxes",
    "with_frame_numbers",
    "write_csv",
]

#: labels on disk (zarr, dask) are measured in pieces of whole chunks of about this many
#: pixels (:func:`_measure_in_pieces`): 2048² uint32 labels are 16 MiB, and the sums by
#: object take some ten times that
PIECE_PIXELS = 2048 * 2048
#: a piece whose largest ID is at most this (or 4 times its pixels) is measured by ID as it
#: is (sums of every ID up to it: no sort), else numbered 1..n first
_DIRECT_IDS = 1 << 22

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


def length_column(unit: str | None = None) -> str:
    """The name of the length column: ``length_px``, ``length_um``, ``length_nm``..."""
    return "length_px" if unit is None else f"length_{_unit_tag(unit)}"


def skeleton_length(mask: np.ndarray, spacing: Sequence[float] | None = None) -> float:
    """The length of a 2D object ``mask`` along its skeleton: the longest path through
    ``skimage.morphology.skeletonize(mask)`` (its geodesic diameter, found with a step to a
    side neighbour counting 1 and a diagonal one sqrt(2): side branches are not counted),
    measured along that path smoothed by a moving average of 5 pixels (its ends kept), so
    that the staircase of a slanted stretch counts as the straight line it draws (the
    steps themselves read up to 8% more: 1 + sqrt(2) for a line of slope 1/2, sqrt(5)
    long). ``spacing`` = ``(Y, X)`` sizes: in their unit. An object in several pieces: the
    sum of each piece's length. One pixel (or none): 0.

    >>> rod = np.zeros((5, 12), bool); rod[2, 1:11] = True  # 10 pixels in a row
    >>> skeleton_length(rod), skeleton_length(rod, (0.5, 0.5))
    (9.0, 4.5)
    >>> diagonal = np.eye(6, dtype=bool)  # 5 diagonal steps
    >>> round(skeleton_length(diagonal), 3)
    7.071
    >>> slope = np.zeros((12, 24), bool)  # a 2-pixel-wide bar of slope 1/2, 18 px across
    >>> for x in range(2, 21): slope[1 + x // 2 : 3 + x // 2, x] = True
    >>> float(round(skeleton_length(slope) / np.hypot(18, 9), 2))  # (its steps: 1.08)
    1.0
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components, dijkstra
    from skimage.morphology import skeletonize

    mask = np.pad(np.asarray(mask, bool), 1)
    skeleton = skeletonize(mask)
    ys, xs = np.nonzero(skeleton)
    n = ys.size
    if n < 2:
        return 0.0
    index = np.full(skeleton.shape, -1, np.int64)
    index[ys, xs] = np.arange(n)
    rows, cols, weights = [], [], []
    root2 = float(np.sqrt(2))
    for (dy, dx), weight in (((0, 1), 1.0), ((1, 0), 1.0), ((1, 1), root2), ((1, -1), root2)):
        # (the padding keeps every neighbour inside the array)
        neighbour = index[ys + dy, xs + dx]
        found = neighbour >= 0
        rows.append(np.flatnonzero(found))
        cols.append(neighbour[found])
        weights.append(np.full(int(found.sum()), weight))
    graph = coo_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    ).tocsr()
    pieces, piece = connected_components(graph, directed=False)
    starts = np.unique(piece, return_index=True)[1]
    # two sweeps: the node farthest from any node of a piece is an end of its longest path
    # (exact on a tree, as a skeleton without holes is)
    far = dijkstra(graph, directed=False, indices=starts, min_only=True)
    ends = [np.flatnonzero(piece == p)[np.argmax(far[piece == p])] for p in range(pieces)]
    along, before = dijkstra(
        graph, directed=False, indices=ends, min_only=True, return_predecessors=True
    )[:2]
    size = np.array([1.0, 1.0]) if spacing is None else np.array(spacing[:2], float)
    total = 0.0
    for p in range(pieces):
        members = np.flatnonzero(piece == p)
        node = members[np.argmax(along[members])]
        path = [node]
        while before[node] >= 0:
            node = before[node]
            path.append(node)
        points = np.stack([ys[path], xs[path]], axis=1).astype(float)
        total += _polyline_length(_smoothed(points), size)
    return total


def _smoothed(points: np.ndarray, half: int = 2) -> np.ndarray:
    """``points`` (an ordered path) each averaged with up to ``half`` points either side, as
    many on each side (fewer near the ends, which stay): a straight line stays as it is."""
    out = points.copy()
    n = len(points)
    for i in range(1, n - 1):
        k = min(half, i, n - 1 - i)
        out[i] = points[i - k : i + k + 1].mean(axis=0)
    return out


def _polyline_length(points: np.ndarray, size: np.ndarray) -> float:
    return float(np.hypot(*(np.diff(points, axis=0) * size).T).sum())


def _lengths(
    labels: np.ndarray,
    ids: np.ndarray,
    boxes: np.ndarray,
    spacing: tuple[float, ...] | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`skeleton_length` of each object ``ids[i]`` of 2D ``labels`` on its bounding box
    ``boxes[i]`` (``[min_y, min_x, max_y, max_x]``, last pixel included): in pixels, and in
    the unit of ``spacing`` where given."""
    pixels = np.zeros(len(ids))
    physical = None if spacing is None else np.zeros(len(ids))
    for rows, region, (oy, ox) in _regions_of(labels, boxes):
        for i in rows:
            y0, x0, y1, x1 = (int(v) for v in boxes[i])
            mask = np.asarray(region[y0 - oy : y1 + 1 - oy, x0 - ox : x1 + 1 - ox]) == ids[i]
            pixels[i] = skeleton_length(mask)
            if physical is not None:
                physical[i] = skeleton_length(mask, spacing)
    return pixels, physical


#: labels on disk: the objects whose box starts in one square of this side are cut from one
#: read of it (widened by up to :data:`_REGION_MARGIN` for the objects that reach past it);
#: an object reaching further is read on its own
_REGION_SIDE = 2048
_REGION_MARGIN = 512


def _regions_of(labels, boxes: np.ndarray):
    """``(rows, region, origin)``: the objects ``rows`` (indices into ``boxes``, each
    ``[min_y, min_x, max_y, max_x]``) and a 2D array ``region`` that holds their boxes, its
    first pixel at ``origin`` of ``labels``. In memory: all of them and ``labels`` itself;
    on disk (a zarr, dask or a frame of them): a region read per square of
    :data:`_REGION_SIDE` (whole chunks) for the objects whose box starts in it, never an
    object's box read alone for each (a chunk decompressed once per object), nor all."""
    if isinstance(labels, np.ndarray) or not len(boxes):
        yield range(len(boxes)), labels, (0, 0)
        return
    side, margin = _REGION_SIDE, _REGION_MARGIN
    square = boxes[:, :2] // side
    reach = boxes[:, 2:] - square * side  # (from the square's first pixel)
    alone = (reach >= side + margin).any(axis=1)
    for i in np.flatnonzero(alone):  # (an object too big for a square and its margin)
        y0, x0, y1, x1 = (int(v) for v in boxes[i])
        yield [i], np.asarray(labels[y0 : y1 + 1, x0 : x1 + 1]), (y0, x0)
    rest = np.flatnonzero(~alone)
    if not rest.size:
        return
    keys = square[rest, 0] * (1 << 32) + square[rest, 1]
    order = np.argsort(keys, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(keys[order]) != 0])
    for group in np.split(rest[order], starts[1:]):
        y0, x0 = (int(v) * side for v in square[group[0]])
        y1, x1 = (int(v) for v in boxes[group, 2:].max(axis=0))
        yield group, np.asarray(labels[y0 : y1 + 1, x0 : x1 + 1]), (y0, x0)


def length_reads(boxes: np.ndarray, shape: Sequence[int]) -> int:
    """How many reads from disk the length pass of labels on disk of ``shape`` makes for the
    objects of ``boxes`` (each ``[min_y, min_x, max_y, max_x]``, or with ``t`` first: one
    frame's objects apart from another's): one per square of :data:`_REGION_SIDE` where an
    object's box starts and one for each object too big for its square (:func:`_regions_of`,
    whose reads it counts); a progress bar's total. ``shape`` is the labels' (2D, or with
    ``T`` first: the frames are read apart)."""
    if len(shape) not in (2, 3):
        raise ValueError(f"length is measured of 2D labels (or frames of them), not {shape}")
    width = 4 + (len(shape) == 3)
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, width)
    if not len(boxes):
        return 0
    frames, boxes = (boxes[:, 0], boxes[:, 1:]) if width == 5 else (None, boxes)
    side, margin = _REGION_SIDE, _REGION_MARGIN
    square = boxes[:, :2] // side
    alone = ((boxes[:, 2:] - square * side) >= side + margin).any(axis=1)
    keys = square[~alone]
    if frames is not None:
        keys = np.column_stack([frames[~alone], keys])
    return int(alone.sum()) + len(np.unique(keys, axis=0))


def table_boxes(table: Mapping[str, np.ndarray]) -> np.ndarray:
    """The bounding boxes of a table's 2D objects (:func:`measure_objects`' columns), each
    ``[min_y, min_x, max_y, max_x]``, with a movie's frame ``t`` first: what
    :func:`length_reads` counts."""
    names = [f"bbox_{e}_{a}" for e in ("min", "max") for a in "yx"]
    if "t" in table:
        names = ["t", *names]
    return np.stack([np.asarray(table[n], dtype=np.int64) for n in names], axis=1)


def _with_lengths(
    columns: dict[str, np.ndarray],
    labels,
    spatial_axes: str,
    spacing: tuple[float, ...] | None,
    unit: str | None,
    ids: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """``columns`` with ``length_px`` (and the physical length with ``spacing``) after the
    size columns, for 2D ``labels``; ``ids``: the IDs in ``labels`` of the rows where not
    their ``label`` column (labels numbered 1..n first)."""
    if spatial_axes != "YX":
        raise ValueError(
            f"length is measured of 2D objects (axes YX, or TYX a frame at a time), not of "
            f"{spatial_axes}"
        )
    boxes = np.stack([columns[f"bbox_{e}_{a}"] for e in ("min", "max") for a in "yx"], axis=1)
    pixels, physical = _lengths(labels, columns["label"] if ids is None else ids, boxes, spacing)
    out: dict[str, np.ndarray] = {}
    for name, values in columns.items():
        out[name] = values
        if name == size_column(spatial_axes, unit if spacing is not None else None):
            out[length_column()] = pixels
            if physical is not None:
                out[length_column(unit)] = physical
    return out


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


def fits_labels(image_shape: Sequence[int], labels_shape: Sequence[int]) -> bool:
    """Whether an image of ``image_shape`` gives the intensities of labels of
    ``labels_shape``: the same shape, or that with an extra last axis of channels."""
    image_shape, labels_shape = tuple(image_shape), tuple(labels_shape)
    return image_shape == labels_shape or (
        len(image_shape) == len(labels_shape) + 1 and image_shape[:-1] == labels_shape
    )


def spacing_for(axes: str, pixel_size: Mapping[str, float] | None, physical: bool = True):
    """The pixel size of each spatial axis of ``axes`` (``{"Y": 0.5, "X": 0.5}``) to measure
    physical sizes with: None where not ``physical`` (labels in pixels) or ``pixel_size``
    lacks one of them."""
    spatial = [a for a in axes if a in "ZYX"]
    sizes = pixel_size or {}
    if not physical or not all(a in sizes for a in spatial):
        return None
    return {a: sizes[a] for a in spatial}


def _check_inputs(labels, image, confidence) -> None:
    if labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers, not {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError("labels must not be negative")
    if image is not None:
        if not fits_labels(image.shape, labels.shape):
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
    length: bool = False,
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
    if length:  # (on the labels measured: numbered 1..n where the IDs were too large)
        columns = _with_lengths(columns, labels, spatial_axes, spacing, unit, table["label"])
    return columns


def measure_objects(
    labels: np.ndarray,
    image: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
    spacing: Mapping[str, float] | Sequence[float] | None = None,
    axes: str | None = None,
    unit: str = "µm",
    length: bool = False,
    instances: bool = False,
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
    length : bool
        Add ``length_px`` (and ``length_um``... with ``spacing``) after the sizes: each 2D
        object's length along its skeleton (:func:`skeleton_length`: the longest path
        through ``skimage.morphology.skeletonize`` of its mask, a diagonal step counting
        sqrt(2); it ends about half the width short of each tip), for elongated objects such
        as worms. 2D labels only (``YX``, ``TYX``: a frame at a time). Measured on each
        object's bounding box; labels on disk: the objects whose box starts in a square of
        2048² pixels are cut from one read of it (widened for those reaching past it; one
        reaching further is read on its own), not summed over pieces (a length is not a
        sum): an 8192² mosaic of 42 435 objects in 1024² chunks took 18 s, 31 s in memory.
    instances : bool
        ``labels`` is a stack of objects that may overlap, one a page: ``(N, Y, X)`` (as
        ``tessella segment --stack`` writes it: 0/1 masks), page ``n`` is object ``n + 1``,
        each measured whole (its pixels hidden under another object included), one row a
        page, its columns those of 2D labels (``area_px``, ``centroid_y``...). Without it,
        a stack of 0/1 pages and no ``axes`` is measured as one 3D object with a warning.

    Labels on disk (a zarr or dask array: a blockwise result opened lazily) are read piece by
    piece (:data:`PIECE_PIXELS`, whole chunks), never whole, as are ``image`` and
    ``confidence`` where they are on disk too; each object's sums (pixels, coordinates,
    intensities) and bounding box are gathered over the pieces it crosses, so the table is
    the one of the labels read whole (the same numbers, exactly, for integer images).

    Returns
    -------
    dict of str to ndarray
        ``t`` (time series only), ``label``, ``area_px`` (``volume_px`` in 3D), the physical
        size, ``centroid_<axis>`` (pixel indices), ``bbox_min_<axis>`` and ``bbox_max_<axis>``
        (first and last pixel index covered: both inclusive, so an object is
        ``bbox_max - bbox_min + 1`` pixels across, unlike ``skimage.measure.regionprops``'
        ``bbox``, whose end is one past the last), then the means asked for.

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
    if instances:
        return _measure_instances(labels, image, confidence, spacing, axes, unit, length)
    if _on_disk(labels):  # never read whole: piece by piece, the same table
        table = _measure_in_pieces(labels, image, confidence, spacing, axes, unit)
        if not length:
            return table
        axes = check_axes(axes or labels_axes_for(len(labels.shape)), len(labels.shape), "labels")
        return _lengths_on_disk(table, labels, axes, spacing, unit)
    labels = np.asarray(labels)
    if axes is None and labels.ndim == 3 and labels.shape[0] > 1 and _zero_one(labels):
        warn_at_caller(
            f"labels of shape {labels.shape} hold only 0 and 1: measured as one 3D object "
            "(axes ZYX); if each page is an object (a mask stack, as tessella segment --stack "
            "writes), pass instances=True to measure each whole, or axes= to say what they are"
        )
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
    if length and spatial_axes != "YX":
        raise ValueError(f"length is measured of 2D objects (axes YX or TYX), not {axes}")
    if "T" not in axes:
        return _measure_frame(labels, image, confidence, spatial_axes, sizes, unit, length)
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
            length,
        )
        frames.append({"t": np.full(len(frame["label"]), t, np.int64), **frame})
    return {name: np.concatenate([frame[name] for frame in frames]) for name in frames[0]}


def _zero_one(labels: np.ndarray) -> bool:
    """Whether ``labels`` hold only 0 and 1 (some 1)."""
    return bool(labels.size) and int(labels.max()) == 1 and int(labels.min()) == 0


def _measure_instances(labels, image, confidence, spacing, axes, unit, length):
    """:func:`measure_objects` of ``labels`` = ``(N, *page)`` stack, page ``n`` object
    ``n + 1`` (any non-zero pixel of it): the objects spread over as few label images as
    keep them apart, each measured whole; rows by object."""
    masks = np.asarray(labels) != 0
    if masks.ndim not in (3, 4):
        raise ValueError(
            f"instances=True takes a stack of objects, one a page ((N, Y, X) or (N, Z, Y, X)), "
            f"not shape {masks.shape}"
        )
    page_axes = axes or labels_axes_for(masks.ndim - 1)
    if "T" in page_axes or "C" in page_axes:
        raise ValueError(f"the pages of an instances stack are YX or ZYX, not {page_axes}")
    image = None if image is None else np.asarray(image)
    confidence = None if confidence is None else np.asarray(confidence)
    n = len(masks)
    dtype = np.uint16 if n <= np.iinfo(np.uint16).max else np.int64
    planes: list[np.ndarray] = []
    for page, mask in enumerate(masks):
        plane = next((p for p in planes if not p[mask].any()), None)
        if plane is None:
            plane = np.zeros(masks.shape[1:], dtype)
            planes.append(plane)
        plane[mask] = page + 1
    options = {"image": image, "confidence": confidence, "spacing": spacing, "unit": unit}
    tables = [
        measure_objects(plane, axes=page_axes, length=length, **options)
        for plane in planes or [np.zeros(masks.shape[1:], dtype)]
    ]
    table = {name: np.concatenate([t[name] for t in tables]) for name in tables[0]}
    order = np.argsort(table["label"], kind="stable")
    return {name: values[order] for name, values in table.items()}


def _lengths_on_disk(table, labels, axes: str, spacing, unit) -> dict[str, np.ndarray]:
    """``table`` (of labels on disk, measured piece by piece) with the lengths of its
    objects, each from its bounding box, cut from a region read from disk (a frame's,
    with a ``T`` axis: :func:`_regions_of`)."""
    spatial_axes = spatial_of(axes)
    if spatial_axes != "YX":
        raise ValueError(f"length is measured of 2D objects (axes YX or TYX), not {axes}")
    no_size = spacing is None or (isinstance(spacing, Mapping) and not spacing)
    sizes = None if no_size else _spacing_of(spacing, spatial_axes)
    if "T" not in axes:
        return _with_lengths(table, labels, spatial_axes, sizes, unit)
    t_axis = axes.index("T")
    parts = []
    for t in np.unique(table["t"]) if len(table["t"]) else []:
        rows = table["t"] == t
        frame = _FrameOf(labels, t_axis, int(t))
        parts.append(
            _with_lengths({k: v[rows] for k, v in table.items()}, frame, spatial_axes, sizes, unit)
        )
    if not parts:
        return _with_lengths(table, np.zeros((1, 1), np.int64), spatial_axes, sizes, unit)
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


class _FrameOf:
    """Frame ``t`` of labels on disk, indexed by (Y, X) slices: read only where asked."""

    def __init__(self, labels, t_axis: int, t: int) -> None:
        self.labels, self.t_axis, self.t = labels, t_axis, t

    def __getitem__(self, index):
        full = list(index)
        full.insert(self.t_axis, self.t)
        return self.labels[tuple(full)]


def _on_disk(array) -> bool:
    """Whether ``array`` is read from disk on access (zarr, dask), not a numpy array."""
    return (
        array is not None
        and not isinstance(array, np.ndarray)
        and hasattr(array, "shape")
        and hasattr(array, "dtype")
        and hasattr(array, "__getitem__")
    )


def piece_slices(
    shape: tuple[int, ...], chunks: tuple[int, ...] | None, pixels: int | None = None
) -> list[tuple[slice, ...]]:
    """Slices that cut an array of ``shape`` into pieces of whole ``chunks`` (the axes before
    the last two: one chunk deep; the last two: as many chunks as keep a piece within about
    ``pixels`` pixels, at least one), in C order. ``pixels``: by default
    :data:`PIECE_PIXELS`.

    >>> [tuple((s.start, s.stop) for s in p) for p in piece_slices((5, 7), (2, 4), 32)]
    [((0, 4), (0, 7)), ((4, 5), (0, 7))]
    >>> len(piece_slices((5, 7), (2, 4), 8)), len(piece_slices((3, 5, 7), (1, 2, 4), 32))
    (6, 6)
    >>> [(s.stop - s.start) for s in piece_slices((256, 2048, 2048), (128, 128, 128))[0]]
    [128, 128, 128]
    """
    shape = tuple(int(n) for n in shape)
    pixels = PIECE_PIXELS if pixels is None else pixels
    if chunks is None or len(chunks) != len(shape):
        chunks = tuple([1] * (len(shape) - 2) + [min(n, 2048) for n in shape[-2:]])
    sizes = [max(1, min(int(c), n)) for c, n in zip(chunks, shape)]
    if len(shape) >= 2:
        cy, cx = sizes[-2:]
        deep = int(np.prod(sizes[:-2]))  # (chunks a few planes deep: as many planes a piece)
        per_side = max(1, int((pixels / max(cy * cx * deep, 1)) ** 0.5))
        sizes[-2] = min(shape[-2], cy * per_side) or 1
        sizes[-1] = min(shape[-1], cx * per_side) or 1
    starts = [range(0, n, s) for n, s in zip(shape, sizes)]
    return [
        tuple(slice(a, min(a + s, n)) for a, s, n in zip(start, sizes, shape))
        for start in _product(starts)
    ]


def _product(ranges):
    import itertools

    return itertools.product(*ranges)


def chunks_of(array) -> tuple[int, ...] | None:
    """The chunk shape of a zarr or dask array (its first chunk along each axis), else None."""
    chunks = getattr(array, "chunksize", None) or getattr(array, "chunks", None)
    if isinstance(chunks, tuple) and chunks and isinstance(chunks[0], tuple):
        chunks = tuple(c[0] if c else 1 for c in chunks)  # (dask's chunks: per axis)
    if isinstance(chunks, tuple) and all(isinstance(c, int | np.integer) for c in chunks):
        return tuple(int(c) for c in chunks)
    return None


def _frame_of(piece: np.ndarray | None, t_axis: int | None) -> np.ndarray | None:
    """``piece`` without its T axis (one frame deep), where the labels have one."""
    if piece is None or t_axis is None:
        return piece
    return piece[(slice(None),) * t_axis + (0,)]


def _read(array, index) -> np.ndarray | None:
    if array is None:
        return None
    return np.asarray(array[index])


def _piece_sums(
    piece: np.ndarray,
    origin: tuple[int, ...],
    image: np.ndarray | None,
    confidence: np.ndarray | None,
) -> dict[str, np.ndarray] | None:
    """Each object's partial sums in one ``piece`` of labels whose first pixel is at
    ``origin``: ``ids``, pixel ``count``, coordinate sums ``coords`` (one column an axis),
    ``lo``/``hi`` (bounding box, first and last pixel), ``values`` (intensity sums, one
    column a channel) and ``conf`` (confidence sums); None where it holds no object."""
    from scipy import ndimage

    top = int(piece.max()) if piece.size else 0
    if not top:
        return None
    if top <= max(_DIRECT_IDS, 4 * piece.size):
        # IDs as they are (no sort): sums by ID, then those of the IDs present
        compact = piece if piece.dtype.kind == "i" or piece.dtype.itemsize < 8 else None
        compact = piece.astype(np.intp) if compact is None else compact
        flat = compact.ravel()
        count = np.bincount(flat, minlength=top + 1)
        ids = np.flatnonzero(count[1:]) + 1
        boxes = ndimage.find_objects(compact, max_label=top)
        boxes = [boxes[i - 1] for i in ids]
        picked = ids
    else:  # (IDs of up to 2**64: numbered 1..n in the piece first)
        ids, inverse = np.unique(piece, return_inverse=True)
        inverse = inverse.reshape(piece.shape)
        if ids[0] == 0:  # (background: index 0, which find_objects leaves out)
            ids = ids[1:]
        else:
            inverse = inverse + 1
        flat = inverse.ravel()
        count = np.bincount(flat, minlength=ids.size + 1)
        boxes = ndimage.find_objects(inverse, max_label=ids.size)
        picked = np.arange(1, ids.size + 1)
    n = ids.size
    size = count.size
    count = count[picked].astype(np.int64)
    coords = np.empty((n, piece.ndim), np.float64)
    for axis in range(piece.ndim):
        place = [1] * piece.ndim
        place[axis] = piece.shape[axis]
        grid = np.arange(piece.shape[axis], dtype=np.float64).reshape(place)
        along = np.broadcast_to(grid + origin[axis], piece.shape).ravel()
        coords[:, axis] = np.bincount(flat, weights=along, minlength=size)[picked]
    lo = np.array([[s.start + o for s, o in zip(box, origin)] for box in boxes], np.int64)
    hi = np.array([[s.stop - 1 + o for s, o in zip(box, origin)] for box in boxes], np.int64)
    found: dict[str, np.ndarray] = {"ids": ids, "count": count, "coords": coords, "lo": lo}
    found["hi"] = hi
    if image is not None:
        channels = image.reshape(piece.size, -1)  # (a last axis of channels, or one)
        found["values"] = np.stack(
            [
                np.bincount(flat, weights=channels[:, c].astype(np.float64), minlength=size)[picked]
                for c in range(channels.shape[1])
            ],
            axis=1,
        )
    if confidence is not None:
        found["conf"] = np.bincount(
            flat, weights=confidence.ravel().astype(np.float64), minlength=size
        )[picked]
    return found


def _merged(parts: list[dict[str, np.ndarray]], ndim: int) -> dict[str, np.ndarray]:
    """The sums of :func:`_piece_sums` of every piece, one row an object (by ID, ascending):
    counts and sums added, bounding boxes widened."""
    if not parts:
        return {
            "ids": np.zeros(0, np.int64),
            "count": np.zeros(0, np.int64),
            "coords": np.zeros((0, ndim)),
            "lo": np.zeros((0, ndim), np.int64),
            "hi": np.zeros((0, ndim), np.int64),
        }
    every = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    ids, row = np.unique(every["ids"], return_inverse=True)
    n = ids.size
    merged: dict[str, np.ndarray] = {"ids": ids}
    merged["count"] = np.bincount(row, weights=every["count"], minlength=n).astype(np.int64)
    for name in ("coords", "values"):
        if name in every:
            columns = every[name]
            merged[name] = np.stack(
                [
                    np.bincount(row, weights=columns[:, i], minlength=n)
                    for i in range(columns.shape[1])
                ],
                axis=1,
            )
    if "conf" in every:
        merged["conf"] = np.bincount(row, weights=every["conf"], minlength=n)
    lo = np.full((n, ndim), np.iinfo(np.int64).max, np.int64)
    hi = np.full((n, ndim), -1, np.int64)
    np.minimum.at(lo, row, every["lo"])
    np.maximum.at(hi, row, every["hi"])
    merged["lo"], merged["hi"] = lo, hi
    return merged


def _measure_in_pieces(
    labels,
    image,
    confidence,
    spacing,
    axes: str | None,
    unit: str,
    pixels: int | None = None,
) -> dict[str, np.ndarray]:
    """:func:`measure_objects` of ``labels`` on disk (zarr, dask), read piece by piece
    (:func:`piece_slices` of their chunks): each object's pixel count, coordinate and
    intensity sums and bounding box gathered over the pieces it crosses. The sums of
    coordinates and of integer intensities are exact (float64 holds integers up to 2**53),
    so the table is the one of the labels read whole; intensities and confidences that are
    floats are summed in float64 (the whole-array means of float32 images in float32)."""
    ndim = len(labels.shape)
    axes = check_axes(axes or labels_axes_for(ndim), ndim, "labels")
    if "C" in axes:
        raise ValueError(f"labels have no channel axis; got axes {axes}")
    if np.dtype(labels.dtype).kind not in "iu":
        raise ValueError(f"labels must be integers, not {labels.dtype}")
    shape = tuple(int(n) for n in labels.shape)
    if image is not None:
        fits = tuple(image.shape) == shape or (
            len(image.shape) == ndim + 1 and tuple(image.shape[:-1]) == shape
        )
        if not fits:
            raise ValueError(
                f"image shape {tuple(image.shape)} differs from labels shape {shape} "
                "(an extra last axis of channels is allowed)"
            )
        if np.dtype(image.dtype).kind not in "biuf":
            raise ValueError(f"image has unsupported pixel type {image.dtype}")
    if confidence is not None and tuple(confidence.shape) != shape:
        raise ValueError(
            f"confidence shape {tuple(confidence.shape)} differs from labels shape {shape}"
        )
    spatial_axes = spatial_of(axes)
    no_size = spacing is None or (isinstance(spacing, Mapping) and not spacing)
    sizes = None if no_size else _spacing_of(spacing, spatial_axes)
    t_axis = axes.index("T") if "T" in axes else None
    chunks = chunks_of(labels)
    if chunks is not None and t_axis is not None:
        chunks = tuple(1 if i == t_axis else c for i, c in enumerate(chunks))
    channels = None if image is None else (image.shape[-1] if len(image.shape) > ndim else 0)
    by_frame: dict[int, list[dict[str, np.ndarray]]] = {}
    for index in piece_slices(shape, chunks, pixels):
        piece = np.asarray(labels[index])
        if piece.size and piece.dtype.kind == "i" and piece.min() < 0:
            raise ValueError("labels must not be negative")
        t = 0 if t_axis is None else index[t_axis].start
        origin = tuple(s.start for i, s in enumerate(index) if i != t_axis)
        conf = _read(confidence, index)
        if conf is not None and conf.size and not (np.nanmin(conf) >= 0 and np.nanmax(conf) <= 1):
            raise ValueError("confidence values must lie in [0, 1]")
        sums = _piece_sums(
            piece if t_axis is None else piece[(slice(None),) * t_axis + (0,)],
            origin,
            _frame_of(_read(image, index), t_axis),
            _frame_of(conf, t_axis),
        )
        frame = by_frame.setdefault(t, [])
        if sums is not None:
            frame.append(sums)
    frames = []
    for t in range(1 if t_axis is None else shape[t_axis]):
        merged = _merged(by_frame.get(t, []), len(spatial_axes))
        columns = _columns(merged, labels.dtype, channels, confidence, spatial_axes, sizes, unit)
        if t_axis is not None:
            columns = {"t": np.full(len(columns["label"]), t, np.int64), **columns}
        frames.append(columns)
    if t_axis is None:
        return frames[0]
    return {name: np.concatenate([frame[name] for frame in frames]) for name in frames[0]}


def _columns(
    merged: dict[str, np.ndarray],
    dtype,
    channels: int | None,
    confidence,
    spatial_axes: str,
    spacing: tuple[float, ...] | None,
    unit: str | None,
) -> dict[str, np.ndarray]:
    """The table :func:`_measure_frame` gives, from the sums of :func:`_merged`;
    ``channels``: None without an image, 0 for an image without an axis of channels, else
    how many it has."""
    names = spatial_axes.lower()
    wide = np.dtype(dtype) == np.uint64
    count = merged["count"]
    columns: dict[str, np.ndarray] = {
        "label": merged["ids"].astype(np.uint64 if wide else np.int64),
        size_column(spatial_axes): count,
    }
    if spacing is not None:
        columns[size_column(spatial_axes, unit)] = count * float(np.prod(spacing))
    for i, name in enumerate(names):
        columns[f"centroid_{name}"] = merged["coords"][:, i] / count
    for i, name in enumerate(names):
        columns[f"bbox_min_{name}"] = merged["lo"][:, i]
    for i, name in enumerate(names):
        columns[f"bbox_max_{name}"] = merged["hi"][:, i]
    if channels is not None:
        values = merged.get("values", np.zeros((0, max(channels, 1))))
        if channels == 0:  # (no axis of channels)
            columns["mean_intensity"] = values[:, 0] / count
        else:
            for c in range(channels):
                columns[f"mean_intensity_c{c}"] = values[:, c] / count
    if confidence is not None:
        columns["mean_confidence"] = merged.get("conf", np.zeros(0)) / count
    return columns


def with_frame_numbers(
    table: Mapping[str, np.ndarray], frame_numbers: Sequence[int]
) -> dict[str, np.ndarray]:
    """``table`` (of a time series: its ``t`` column is napari's frame index, from 0) with a
    ``frame`` column after ``t``: the movie's own number of each row's frame,
    ``frame_numbers[t]`` (52 for ``t052.tif``, the number its CTC mask and ``res_track.txt``
    give it). One rule for Export's CSV and ``tessella segment --csv`` of a movie whose frames
    are numbered (a folder of ``tNNN.tif``, ``--first-frame``).

    Raises ValueError for a table without ``t`` or a ``t`` beyond ``frame_numbers``.

    >>> table = {"t": np.array([0, 0, 1]), "label": np.array([1, 2, 1])}
    >>> with_frame_numbers(table, [52, 53])
    {'t': array([0, 0, 1]), 'frame': array([52, 52, 53]), 'label': array([1, 2, 1])}
    """
    if "t" not in table:
        raise ValueError("frame numbers go with a time series' table (its t column)")
    t = np.asarray(table["t"], np.int64)
    numbers = np.asarray(list(frame_numbers), np.int64)
    if t.size and int(t.max()) >= numbers.size:
        raise ValueError(
            f"{numbers.size} frame numbers for a table of {int(t.max()) + 1} frames or more"
        )
    out: dict[str, np.ndarray] = {}
    for name, column in table.items():
        out[name] = column
        if name == "t":
            out["frame"] = numbers[t]
    return out


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

"""Training samples: image/label pairs checked and normalised, ignore labels, orientations."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from ..axes import guess_axes, spatial_of, to_model_layout
from ..evaluation import ignore_label_clash
from ..normalize import normalize
from ._worded import Refused, set_to

__all__ = [
    "Sample",
    "apply_ignore_label",
    "check_finite",
    "refuse_negative",
    "as_int32_labels",
    "load_pairs",
    "boundary_map_note",
    "orientations",
]


@dataclass
class Sample:
    image: np.ndarray  # (C, *spatial) float32, normalised
    labels: np.ndarray  # (*spatial) int32
    name: str
    boundary: np.ndarray | None = None  # (*spatial) bool, when the data are boundary maps
    ignore: np.ndarray | None = None  # (*spatial) bool: pixels left out of the loss
    colour: bool = False  # the file was a colour (RGB/RGBA) image, not grey in three channels
    #: bitmask labels (overlapping objects): the bits that several objects far apart share,
    #: as an integer's bits (:func:`~.overlapping.bitmask_to_stack` splits only those)
    shared: int = 0


def apply_ignore_label(
    samples: list[Sample], value: int | None, marked_when_read: bool = False
) -> list[Sample]:
    """Samples whose pixels labelled ``value`` (the annotator's mark for "not annotated
    here") become background left out of the loss (:attr:`Sample.ignore`), for sparse
    annotations: unlabelled objects there are not taught as background. ``None``: unchanged.

    Raises ValueError if ``value`` is 0 (background) or no sample has a pixel of it (a typo
    would otherwise train as if nothing were marked). ``marked_when_read``: the samples'
    labels are not label values (bitmasks of overlapping objects, marked by
    ``load_overlapping_pairs``); only that some sample is marked is checked. Samples of
    membrane maps are always so.

    Examples
    --------
    >>> labels = np.array([[1, 1, 0, 9, 9]], np.int32)
    >>> (s,) = apply_ignore_label([Sample(np.zeros((1, 1, 5), np.float32), labels, "a")], 9)
    >>> s.labels.tolist(), s.ignore.tolist()
    ([[1, 1, 0, 0, 0]], [[False, False, False, True, True]])
    """
    if value is None:
        return samples
    if value == 0:
        raise ValueError("ignore label 0: 0 is background; mark unannotated parts with another")
    out, found = [], False
    clashes: dict[str, int] = {}  # file: its largest ID, where the value is among the IDs
    largest = 0  # of every sample: a value above it is safe for the whole data set
    for sample in samples:
        if marked_when_read or sample.boundary is not None:  # (load_folder_pairs): the labels
            found |= sample.ignore is not None  # are the map's insides, not its values
            out.append(sample)
            continue
        top = int(sample.labels.max(initial=0))
        largest = max(largest, top)
        marked = sample.labels == value
        if not marked.any():
            out.append(sample)
            continue
        found = True
        if ignore_label_clash(top, value):
            file = sample.name.split("[")[0]  # a volume's slices and slabs: its file
            clashes[file] = max(top, clashes.get(file, 0))
        ignore = marked if sample.ignore is None else sample.ignore | marked
        labels = np.where(marked, 0, sample.labels).astype(sample.labels.dtype)
        out.append(replace(sample, labels=labels, ignore=ignore))
    if not found:
        raise ValueError(
            f"ignore label {value}: no pixel of the {len(samples)} training and hold-out "
            "images has it"
        )
    if clashes:  # one line, with one value safe for every file (not each file's own)
        warnings.warn(_clash_note(clashes, value, largest), stacklevel=2)
    return out


def _clash_note(clashes: dict[str, int], value: int, largest: int) -> str:
    """The warning of :func:`apply_ignore_label` on the files (``clashes``: file, largest ID)
    where ``value`` is among the object IDs; ``largest``: the largest ID of all samples.

    >>> print(_clash_note({"a.tif": 123, "b.tif": 32}, 9, 309))
    unannotated label 9 is among the object IDs of a.tif (up to 123), b.tif (up to 32): an \
object with ID 9 would be left out; a value above every ID of the training and hold-out \
labels (e.g. 310) is safe
    """
    files = [f"{name} (up to {top})" for name, top in clashes.items()]
    more = f" and {len(files) - 5} more" if len(files) > 5 else ""
    return (
        f"unannotated label {value} is among the object IDs of {', '.join(files[:5])}{more}: "
        f"an object with ID {value} would be left out; a value above every ID of the training "
        f"and hold-out labels (e.g. {largest + 1}) is safe"
    )


def check_finite(image: np.ndarray, name: str) -> None:
    """Raise ValueError naming ``name`` if ``image`` holds NaN or infinite values: one such
    pixel in a crop makes the loss NaN, and a step on it every weight."""
    image = np.asarray(image)
    if image.dtype.kind in "fc" and not np.isfinite(image).all():
        raise ValueError(
            f"{name}: the image holds NaN or infinite values; training on it would give a "
            "model of NaN weights (replace them, or leave the image out)"
        )


def refuse_negative(array: np.ndarray, name: str, ignore_label: int | None = None) -> None:
    """Raise ValueError naming ``name`` if ``array`` holds a negative label (other than
    ``ignore_label``, the value of unannotated pixels, which may be negative), as ``tessella
    evaluate`` refuses one.

    >>> refuse_negative(np.array([[0, -1, 2]]), "a.tif", ignore_label=-1)
    >>> refuse_negative(np.array([[0, -3, 2]]), "a.tif")
    Traceback (most recent call last):
    ...
    ValueError: a.tif: labels must not be negative (found -3)
    """
    array = np.asarray(array)
    if array.dtype.kind != "i" or not array.size:
        return
    negative = array < 0
    if ignore_label is not None:
        negative &= array != ignore_label
    if negative.any():
        raise ValueError(
            f"{name}: labels must not be negative (found {int(array[negative].min())})"
        )


_INT32 = np.iinfo(np.int32)


def as_int32_labels(labels, name: str, ignore_label: int | None = None) -> np.ndarray:
    """Integer instance ``labels`` as int32 (what training works in), each object kept apart.

    Labels that fit int32 keep their values. Larger IDs (uint32 or 64-bit masks, where a cast
    would merge objects 5 and 2**32 + 5 or make IDs above 2**31 negative) are given new IDs
    above the largest ID that fits (and other than ``ignore_label``); the other IDs, the
    ``ignore_label`` among them, are kept. ValueError naming ``name`` for labels that are not
    integers or are negative (other than ``ignore_label``).

    >>> as_int32_labels(np.array([[0, 5, 2**32 + 5, 2**31 + 1]], np.uint64), "m.tif").tolist()
    [[0, 5, 7, 6]]
    """
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name}: labels must be integers, got {labels.dtype}")
    refuse_negative(labels, name, ignore_label)
    if not labels.size or (labels.max() <= _INT32.max and labels.min() >= _INT32.min):
        return labels.astype(np.int32)
    if ignore_label is not None and ignore_label > _INT32.max and (labels == ignore_label).any():
        raise ValueError(
            f"{name}: unannotated label {ignore_label} is too large (training works in 32-bit "
            f"labels, at most {_INT32.max}); paint the unannotated parts with a smaller value"
        )
    ids, inverse = np.unique(labels, return_inverse=True)
    large = ids > _INT32.max  # sorted: the last ones
    kept = ids[~large]
    objects = kept[(kept > 0) & (kept != (ignore_label if ignore_label is not None else 0))]
    first = int(objects.max(initial=0)) + 1
    fresh = np.arange(first, first + int(large.sum()) + 1, dtype=np.int64)
    fresh = fresh[fresh != ignore_label][: int(large.sum())]
    if fresh.size and fresh[-1] > _INT32.max:
        raise ValueError(f"{name}: too many objects for 32-bit labels ({len(ids) - 1})")
    table = np.concatenate([kept.astype(np.int64), fresh]).astype(np.int32)
    return table[inverse.reshape(labels.shape)]


def load_pairs(
    images,
    labels_list,
    spatial_axes,
    channels,
    normalization,
    names=None,
    sources=None,
    ignore_label=None,
):
    """Normalise image/label arrays into :class:`Sample` objects (validated).

    ``sources``: ``(image, labels)`` descriptions per pair (e.g. their file paths) that errors
    name, else ``names``. ``ignore_label``: the value of unannotated pixels, which may be
    negative and is kept (:func:`apply_ignore_label` marks it later). Labels become int32
    (:func:`as_int32_labels`: large IDs are renumbered, never merged)."""
    samples = []
    for i, (image, labels) in enumerate(zip(images, labels_list)):
        name = names[i] if names else f"pair {i}"
        image_where, labels_where = sources[i] if sources else (name, name)
        image = np.asarray(image)
        labels = np.asarray(labels)
        check_finite(image, image_where)
        axes = guess_axes(image.shape) if image.ndim != len(spatial_axes) else spatial_axes
        if spatial_of(axes) != spatial_axes:  # said here: training takes no axes to advise
            flat = len(spatial_axes) == 3 and len(spatial_of(axes)) == 2
            said = (
                f"{image_where}: the image has spatial axes {spatial_of(axes)} (shape "
                f"{image.shape}) but the model expects {spatial_axes}"
            )
            if not flat:
                raise ValueError(said)
            raise Refused(  # what makes a 2D model, as each caller sets it
                *(
                    f"{said} (a 3D model trains on ZYX volumes: {make_2d} for 2D images)"
                    for make_2d in (
                        set_to("ndim", 2, "python"),
                        set_to("ndim", 2, "cli"),
                        "choose a 2D model in Start from",
                    )
                )
            )
        try:
            data = to_model_layout(image, axes, spatial_axes, channels)
        except ValueError as exc:
            raise ValueError(f"{image_where}: {exc}") from None
        if data.shape[1:] != labels.shape:
            raise ValueError(
                f"{labels_where}: labels of shape {labels.shape} do not match the spatial "
                f"shape {data.shape[1:]} of the image {image_where}"
            )
        normalized = normalize(data, normalization)
        samples.append(
            Sample(
                normalized,
                as_int32_labels(labels, labels_where, ignore_label),
                name,
                colour=_colour(image, axes),
            )
        )
    return samples


def boundary_map_note(data, name: str, ignore_label: int | None = None) -> str | None:
    """Why the boundary map ``data`` (1 or 255 = membrane, 0 = cell interior) may not be one,
    or None: a soft map (fractional values: only exact 0 is inside), or one whose membrane
    (non-zero) is the majority of its pixels (the opposite polarity, as ISBI 2012's
    originals, 255 = cell, 0 = membrane).

    >>> inverted = np.full((10, 10), 255, np.uint8); inverted[:, 4] = 0
    >>> boundary_map_note(inverted, "b.tif")[:46]
    'b.tif: 90% of its pixels are membrane (not 0);'
    >>> boundary_map_note(255 - inverted, "b.tif") is None
    True
    """
    data = np.asarray(data)
    values = data[data != ignore_label] if ignore_label is not None else data.ravel()
    if not values.size:
        return None
    if data.dtype.kind == "f" and not np.array_equal(values, np.round(values)):
        return (
            f"{name}: a soft boundary map (fractional values, e.g. probabilities): only exact "
            "0 is taken for cell interior and every other value for membrane; threshold it "
            "first (1 = membrane, 0 = inside)"
        )
    fraction = np.count_nonzero(values > 0) / values.size
    if not 0.5 < fraction < 1.0:  # all membrane: no cell to score or learn (refused there)
        return None
    return (
        f"{name}: {fraction:.0%} of its pixels are membrane (not 0); boundary maps are 1 (or "
        "255) = membrane, 0 = cell interior: is the polarity inverted (ISBI 2012's originals "
        "are 255 = cell, 0 = membrane)? If so, invert it (e.g. 255 - map)"
    )


def _colour(image: np.ndarray, axes: str) -> bool:
    """Whether ``image`` is a colour image: 3 or 4 channels whose first three differ."""
    if "C" not in axes or image.shape[axes.index("C")] not in (3, 4):
        return False
    rgb = np.moveaxis(image, axes.index("C"), 0)[:3]
    return not (np.array_equal(rgb[0], rgb[1]) and np.array_equal(rgb[0], rgb[2]))


def orientations(samples: list[Sample]) -> list[Sample]:
    """Every sample in each of its dihedral orientations (8 in 2D; 16 in 3D, z kept), named
    ``NAME[o=K]``: a hold-out scored over them is less noisy than in the one orientation it
    comes in, since neither a network nor a post-processing is exactly equivariant.

    Examples
    --------
    >>> sample = Sample(np.zeros((1, 4, 6), np.float32), np.eye(4, 6, dtype=np.int32), "a")
    >>> turned = orientations([sample])
    >>> len(turned), turned[5].name, turned[5].image.shape, turned[5].labels.shape
    (8, 'a[o=5]', (1, 6, 4), (6, 4))
    """
    from ..tta import dihedral_transforms, spatial

    def turn(array, transform):  # views: no copies of the hold-out (16 of a 3D slab)
        return None if array is None else spatial(array, transform)

    out = []
    for sample in samples:
        for k, transform in enumerate(dihedral_transforms(sample.labels.ndim)):
            out.append(
                Sample(
                    turn(sample.image, transform),
                    turn(sample.labels, transform),
                    f"{sample.name}[o={k}]",
                    turn(sample.boundary, transform),
                    turn(sample.ignore, transform),
                    shared=sample.shared,
                )
            )
    return out

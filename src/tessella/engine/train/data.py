"""Training data: image/label pairs from folders, random crops, augmentation, medoid centres.

A 2D model can train on volumes: :func:`load_folder_pairs` cuts every ZYX file into its
slices, named ``FILE[z=NNN]`` (e.g. ``lucchi.tif[z=012]``). Files and slices are selected (to
hold out or exclude) by :func:`selects`: ``STEM`` is a whole file (all its slices), ``STEM[z=N]``
one slice and ``STEM[z=A:B]`` slices ``A`` to ``B - 1``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import ndimage

from ..axes import guess_axes, spatial_of, to_model_layout
from ..evaluation import ignore_label_clash
from ..io import read_image
from ..normalize import normalize

__all__ = [
    "Sample",
    "apply_ignore_label",
    "as_int32_labels",
    "boundary_map_note",
    "check_finite",
    "refuse_negative",
    "refuse_unknown_exclusions",
    "refuse_wrong_axes",
    "load_pairs",
    "load_folder_pairs",
    "split_holdout",
    "orientations",
    "selects",
    "CropDataset",
    "medoid_map",
    "augment",
    "deform",
    "deform_margin",
    "labels_and_medoids",
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
    for sample in samples:
        if marked_when_read or sample.boundary is not None:  # (load_folder_pairs): the labels
            found |= sample.ignore is not None  # are the map's insides, not its values
            out.append(sample)
            continue
        marked = sample.labels == value
        if not marked.any():
            out.append(sample)
            continue
        found = True
        clash = ignore_label_clash(int(sample.labels.max()), value, sample.name)
        if clash:
            warnings.warn(clash, stacklevel=2)
        ignore = marked if sample.ignore is None else sample.ignore | marked
        labels = np.where(marked, 0, sample.labels).astype(sample.labels.dtype)
        out.append(replace(sample, labels=labels, ignore=ignore))
    if not found:
        raise ValueError(
            f"ignore label {value}: no pixel of the {len(samples)} training and hold-out "
            "images has it"
        )
    return out


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
        try:
            data = to_model_layout(image, axes, spatial_axes, channels)
        except ValueError as exc:
            flat = len(spatial_axes) == 3 and len(spatial_of(axes)) == 2
            hint = " (a 3D model trains on ZYX volumes: --ndim 2 for 2D images)" if flat else ""
            raise ValueError(f"{image_where}: {exc}{hint}") from None
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


_SLICE_NAME = re.compile(
    r"^(?P<file>.+)\[(?P<axis>[zt])=(?P<z>\d+)(?::(?P<stop>\d+))?\]$", re.IGNORECASE
)
_SELECTOR = re.compile(
    r"^(?P<file>.+?)(?:\[(?P<axis>[zt])=(?P<start>\d+)(?::(?P<stop>\d+))?\])?$", re.IGNORECASE
)
_ANY_AXIS = re.compile(r"^(?P<file>.+?)\[\s*(?P<axis>[A-Za-z]+)\s*=[^\]]*\]$")  # any letter
_AXIS_HOLDS = {"z": "slices of a volume", "t": "frames of a movie"}


def _file_stem(name: str) -> str:
    """``name`` without a TIFF suffix (``a.tif`` and ``a`` name the same file)."""
    path = Path(name)
    return path.stem if path.suffix.lower() in (".tif", ".tiff") else name


def _slice_of(sample_name: str) -> tuple[str, int | None, int | None]:
    """(file stem, first slice, slice after the last) of a sample name such as
    ``a.tif[z=012]`` (one slice) or ``a.tif[z=080:100]`` (a slab of a volume); the slices are
    ``None`` for a whole file."""
    match = _SLICE_NAME.match(sample_name)
    if match:
        start = int(match["z"])
        stop = int(match["stop"]) if match["stop"] is not None else start + 1
        return _file_stem(match["file"]), start, stop
    return _file_stem(sample_name), None, None


def selects(selector: str, sample_name: str) -> bool:
    """Whether ``selector`` picks the sample ``sample_name``.

    ``STEM`` (or ``STEM.tif``) picks a whole file, all slices of a volume included;
    ``STEM[z=N]`` one slice of a volume and ``STEM[z=A:B]`` its slices ``A <= z < B``, and a
    slab of a volume (``STEM.tif[z=A:B]``, a 3D model's sample) that lies inside that range.

    Examples
    --------
    >>> selects("lucchi", "lucchi.tif[z=004]"), selects("lucchi[z=0:4]", "lucchi.tif[z=004]")
    (True, False)
    >>> selects("lucchi.tif[z=4]", "lucchi.tif[z=004]"), selects("07", "07.tif")
    (True, True)
    >>> slab = "lucchi.tif[z=080:100]"
    >>> selects("lucchi[z=80:100]", slab), selects("lucchi[z=90:100]", slab)
    (True, False)
    """
    match = _SELECTOR.match(str(selector).strip())
    if match is None:
        return False
    stem, first, end = _slice_of(sample_name)
    if _file_stem(match["file"]) != stem:
        return False
    named = _SLICE_NAME.match(sample_name)
    if match["axis"] and named and match["axis"].lower() != named["axis"].lower():
        return False  # frames are not slices (refuse_wrong_axes says so)
    if match["start"] is None:
        return True
    start = int(match["start"])
    stop = int(match["stop"]) if match["stop"] is not None else start + 1
    return first is not None and end is not None and start <= first and end <= stop


def slab_bounds(selectors, name: str, depth: int) -> list[tuple[int, int]]:
    """Contiguous ``(start, stop)`` slabs of a ``depth``-slice volume file ``name``, cut at the
    z ranges the ``selectors`` name for it, so each selector picks whole slabs.

    >>> slab_bounds(["lucchi[z=80:100]"], "lucchi.tif", 100)
    [(0, 80), (80, 100)]
    >>> slab_bounds(["a[z=10:20]", "b"], "a.tif", 30)
    [(0, 10), (10, 20), (20, 30)]
    """
    cuts = {0, depth}
    for selector in selectors:
        match = _SELECTOR.match(str(selector).strip())
        if match and match["start"] is not None and _file_stem(match["file"]) == _file_stem(name):
            start = int(match["start"])
            stop = int(match["stop"]) if match["stop"] is not None else start + 1
            cuts.update(min(max(c, 0), depth) for c in (start, stop))
    edges = sorted(cuts)
    return list(zip(edges[:-1], edges[1:]))


def refuse_wrong_axes(selectors, names, option: str, method: str | None = None) -> None:
    """Raise ValueError if a selector names slices or frames of a file in ``names`` along
    another axis than the file has: ``STEM[z=...]`` selects slices of a volume and
    ``STEM[t=...]`` frames of a movie (the other letter would pick the same numbers along the
    axis the file has), and a file that is one image has neither. ``option`` (``hold-out``,
    ``exclude``, the command line's ``--holdout``) starts the message; a selector of a file
    not in ``names`` is left to the caller's "not found", unless ``method`` is given: then it
    is checked against the axis that method's samples have (frames for ``temporal``, slices
    for the others), which the command line does before any data is read.

    >>> refuse_wrong_axes(["a[z=1:3]", "b"], ["a.tif[z=000]", "a.tif[z=001]", "b.tif"], "x")
    >>> refuse_wrong_axes(["a[t=1:3]"], ["a.tif[z=000]", "a.tif[z=001]"], "hold-out")
    Traceback (most recent call last):
    ...
    ValueError: hold-out a[t=1:3]: axis 't' selects frames of a movie, but 'a.tif' has slices
    of a volume: select them as a[z=N] or a[z=A:B] (B excluded)
    >>> refuse_wrong_axes(["a[z=4]"], [], "--holdout", method="temporal")
    Traceback (most recent call last):
    ...
    ValueError: --holdout a[z=4]: axis 'z' selects slices of a volume, but the temporal method
    takes frames of a movie: select them as a[t=N] or a[t=A:B] (B excluded)
    """
    axes: dict[str, set[str]] = {}  # file stem -> the axis letters of its samples
    files: dict[str, str] = {}  # file stem -> the file's name, as messages give it
    for name in map(str, names):
        named = _SLICE_NAME.match(name)
        file = named["file"] if named else name
        files.setdefault(_file_stem(file), file)
        axes.setdefault(_file_stem(file), set()).update([named["axis"].lower()] if named else [])
    for selector in map(str, selectors):
        match = _ANY_AXIS.match(selector.strip())
        stem = _file_stem(match["file"].strip()) if match else ""
        by_method = match is not None and stem not in axes and method is not None
        # the axis letters of the file's samples (by_method: those the method's samples have)
        has = {"t" if method == "temporal" else "z"} if by_method else axes.get(stem)
        if match is None or has is None or match["axis"].lower() in has:
            continue
        given = match["axis"]
        lead = (
            f"axis {given!r} selects {_AXIS_HOLDS[given.lower()]}, but"
            if given.lower() in _AXIS_HOLDS
            else f"unknown axis {given!r};"
        )
        if not has:
            unknown = "" if given.lower() in _AXIS_HOLDS else f"unknown axis {given!r}; "
            raise ValueError(
                f"{option} {selector}: {unknown}{files[stem]!r} is one image, with no slices "
                f"(z) or frames (t) to select: name it whole ({stem})"
            )
        axis = sorted(has)[0]
        holder = f"the {method} method takes" if by_method else f"{files[stem]!r} has"
        raise ValueError(
            f"{option} {selector}: {lead} {holder} {_AXIS_HOLDS[axis]}: select "
            f"them as {stem}[{axis}=N] or {stem}[{axis}=A:B] (B excluded)"
        )


def refuse_unknown_exclusions(exclude, names, where) -> None:
    """Raise ValueError if a selector of ``exclude`` picks none of ``names`` (every file,
    slice or frame that ``where`` holds, excluded or not): a typo would otherwise train on
    what it meant to leave out, as ``--holdout`` refuses a name it cannot find; a selector
    of the wrong axis is refused by :func:`refuse_wrong_axes`."""
    names = list(names)
    refuse_wrong_axes(exclude, names, "exclude")
    missing = [str(e) for e in exclude if not any(selects(str(e), n) for n in names)]
    if missing:
        raise ValueError(f"excluded files not found in {where}: {', '.join(sorted(missing))}")


def _selected_file(selector: str) -> str:
    """The file stem that ``selector`` names."""
    match = _SELECTOR.match(str(selector).strip())
    return _file_stem(match["file"]) if match else str(selector)


def _whole_file(selector: str) -> bool:
    match = _SELECTOR.match(str(selector).strip())
    return match is not None and match["start"] is None


def load_folder_pairs(
    directory, spatial_axes, channels, normalization, exclude=(), cut=(), ignore_label=None
) -> list[Sample]:
    """Pairs from ``directory/images/NAME.tif`` and ``directory/masks/NAME.tif`` (instance
    labels; binary masks are fine for the semantic method) or ``directory/boundaries/NAME.tif``
    (boundary maps: 1 = boundary, 0 = inside an object; the objects are the connected insides).

    For a 2D model (``spatial_axes`` ``"YX"``), a volume (a 3D array whose last axis is not
    RGB, or 4D with RGB last, as :func:`~tessella.engine.axes.guess_axes` has it, unless the
    file's metadata calls its first axis channels) becomes one sample per Z slice, named
    ``NAME[z=NNN]``; its labels must be the matching ZYX volume. The files may be symbolic
    links, e.g. ``images/lucchi.tif -> .../train/image.tif`` and ``masks/lucchi.tif ->
    .../train/mito.tif``. Files and slices picked by a selector in ``exclude`` (see
    :func:`selects`) are left out (e.g. the test slices of a stack).

    For a 3D model, a volume that a selector in ``exclude`` or ``cut`` names with a z range
    (``lucchi[z=80:100]``) is cut into slabs at those ranges, named ``NAME[z=A:B]``, so a
    range can be held out (``cut`` = the hold-out selectors) or left out.

    ``ignore_label``: in boundary maps, pixels of that value were not annotated; they are
    neither boundary nor inside and become the samples' ignore mask (instance masks are
    marked later, by :func:`apply_ignore_label`, whatever their source).
    """
    directory = Path(directory)
    image_dir = directory / "images"
    mask_dir, boundary_dir = directory / "masks", directory / "boundaries"
    label_dir = mask_dir if mask_dir.is_dir() else boundary_dir
    if not image_dir.is_dir() or not label_dir.is_dir():
        raise ValueError(
            f"{directory} must hold images/ and masks/ (or boundaries/) folders of TIFFs"
        )
    exclude = [str(name) for name in exclude]
    image_files = sorted(
        p
        for p in image_dir.iterdir()
        if p.suffix.lower() in (".tif", ".tiff")
        and not any(_whole_file(e) and selects(e, p.name) for e in exclude)
    )
    if not image_files:
        left_out = f" (after excluding {', '.join(sorted(exclude))})" if exclude else ""
        raise ValueError(f"{image_dir} holds no TIFF files{left_out}")
    # every file and slice there is, excluded or not: an exclusion that picks none is refused
    files = [p.name for p in image_dir.iterdir() if p.suffix.lower() in (".tif", ".tiff")]
    seen = list(files)
    images, labels, names, sources = [], [], [], []
    notes = []  # boundary maps that may not be ones (soft, or the opposite polarity)
    for path in image_files:
        label_path = label_dir / path.name
        if not label_path.is_file():
            raise ValueError(f"{path}: no matching labels file {label_path}")
        image = read_image(path)
        array = np.asarray(image.data)
        data = np.asarray(read_image(label_path).data)
        if label_dir is boundary_dir:
            refuse_negative(data, str(label_path), ignore_label)
            note = boundary_map_note(data, str(label_path), ignore_label)
            if note:
                notes.append((label_path.name, note))
        axes = guess_axes(array.shape) if array.ndim != len(spatial_axes) else spatial_axes
        # a ZYX(C) volume for a 2D model, unless the file says the first axis is channels
        if spatial_axes == "YX" and spatial_of(axes) == "ZYX" and image.axes[0] != "C":
            if data.shape != array.shape[:3]:
                raise ValueError(
                    f"{label_path}: labels of shape {data.shape} do not match the spatial "
                    f"shape {array.shape[:3]} of the volume {path}"
                )
            for z in range(array.shape[0]):
                name = f"{path.name}[z={z:03d}]"
                seen.append(name)
                if not any(selects(e, name) for e in exclude):
                    images.append(array[z])
                    labels.append(data[z])
                    names.append(name)
                    sources.append((f"{path}[z={z:03d}]", f"{label_path}[z={z:03d}]"))
        elif spatial_axes == "ZYX" and array.ndim == 3 and image.axes[0] != "C":
            if data.shape != array.shape:
                raise ValueError(
                    f"{label_path}: labels of shape {data.shape} do not match the shape "
                    f"{array.shape} of the volume {path}"
                )
            bounds = slab_bounds([*exclude, *cut], path.name, array.shape[0])
            for start, stop in bounds:
                slab = "" if len(bounds) == 1 else f"[z={start:03d}:{stop:03d}]"
                name = path.name + slab
                seen.append(name)
                if not any(selects(e, name) for e in exclude):
                    images.append(array[start:stop])
                    labels.append(data[start:stop])
                    names.append(name)
                    sources.append((f"{path}{slab}", f"{label_path}{slab}"))
        else:
            images.append(array)
            labels.append(data)
            names.append(path.name)
            sources.append((str(path), str(label_path)))
    # a file left out whole is not read: a selector of its slices is taken as found
    unread = {_file_stem(n) for n in files} - {_file_stem(p.name) for p in image_files}
    refuse_unknown_exclusions(
        [e for e in exclude if _selected_file(e) not in unread], seen, image_dir
    )
    if not names:
        raise ValueError(f"{image_dir}: every slice is excluded ({sorted(exclude)})")
    if notes:  # one line, however many maps
        others = [name for name, _ in notes[1:]]
        more = f" and {len(others) - 5} more" if len(others) > 5 else ""
        also = f"; check {', '.join(others[:5])}{more} too" if others else ""
        warnings.warn(notes[0][1] + also, stacklevel=2)
    boundaries, unknown = [], []
    if label_dir is boundary_dir:
        from ..evaluation import membrane_map_objects

        maps = [
            membrane_map_objects(d, ignore_label, labels_where)
            for d, (_, labels_where) in zip(labels, sources)
        ]
        labels = [objects for objects, _, _ in maps]
        boundaries = [membrane for _, membrane, _ in maps]
        unknown = [unannotated for _, _, unannotated in maps]
    samples = load_pairs(
        images,
        labels,
        spatial_axes,
        channels,
        normalization,
        names,
        sources,
        ignore_label=None if boundaries else ignore_label,
    )
    for sample, boundary, u in zip(samples, boundaries, unknown):
        sample.boundary = boundary
        sample.ignore = u if u.any() else None
    return samples


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


def split_holdout(samples: list[Sample], fraction: float, seed: int = 0, names=()):
    """(train, holdout): the samples picked by the selectors in ``names`` (file stems, or
    slices of a volume such as ``lucchi[z=90:100]``; see :func:`selects`), else a seeded
    random ``fraction`` of them, are held out for model selection (at least one; with a
    single sample it serves as both). Slices of one volume are near copies of their
    neighbours: hold out a range of them (or use separate validation data), not a random set.
    """
    if names:
        names = [str(n) for n in names]
        refuse_wrong_axes(names, [s.name for s in samples], "hold-out")
        missing = [n for n in names if not any(selects(n, s.name) for s in samples)]
        if missing:
            raise ValueError(f"hold-out files not found: {', '.join(sorted(missing))}")
        picked = [any(selects(n, s.name) for n in names) for s in samples]
        train = [s for s, held in zip(samples, picked) if not held]
        return train, [s for s, held in zip(samples, picked) if held]
    if len(samples) < 2:
        return samples, samples[:1]
    order = np.random.default_rng(seed).permutation(len(samples))
    n_holdout = max(1, int(round(len(samples) * fraction)))
    return [samples[i] for i in order[n_holdout:]], [samples[i] for i in order[:n_holdout]]


def medoid_map(labels: np.ndarray, rng: np.random.Generator, sample: int = 256) -> np.ndarray:
    """True at each instance's medoid pixel (the pixel with the least summed distance to the
    others, estimated against a random subset of ``sample`` pixels for large objects)."""
    centres = np.zeros(labels.shape, bool)
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        coords = np.argwhere(labels[box] == index)
        subset = coords if len(coords) <= sample else coords[rng.choice(len(coords), sample, False)]
        distances = np.sqrt(((coords[:, None, :] - subset[None, :, :]) ** 2).sum(-1)).sum(1)
        best = coords[np.argmin(distances)]
        centres[tuple(b.start + c for b, c in zip(box, best))] = True
    return centres


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


class CropDataset:
    """Random ``patch`` crops (half of them centred on an object), augmented, with targets.

    ``targets(labels, boundary, rng)`` makes the method's training targets from a crop's
    instance labels (and boundary map, when the data have one); by default the labels and
    their medoids (the embedding method). Index ``i`` is deterministic given ``seed`` so runs
    and workers are reproducible.

    ``border`` is the fraction of crops that reach past the image's edge along one axis by up
    to a third of the crop, padded (image and labels) with numpy's ``border_mode`` as tiled
    inference pads an image: a 3D network otherwise never sees the padded context it gets at a
    volume's first and last slices, where it then does worst.

    ``colour_weight`` draws each colour image (:attr:`Sample.colour`) that many times as often
    as a single-channel one: for a mix where colour images are rare (DSB2018: 99 of 600).
    """

    def __init__(
        self,
        samples: list[Sample],
        patch: tuple[int, ...],
        length: int,
        seed: int = 0,
        targets: Callable[..., tuple] | None = None,
        relabel: bool = True,
        elastic: bool = False,
        border: float = 0.0,
        border_mode: str = "reflect",
        colour_weight: float = 1.0,
    ):
        self.border_mode = border_mode
        if not colour_weight > 0:
            raise ValueError(f"colour weight {colour_weight}: must be above 0")
        colour = [s.colour for s in samples]
        if colour_weight != 1.0 and (all(colour) or not any(colour)):
            raise ValueError(
                f"colour weight {colour_weight}: "
                + ("every" if all(colour) else "none of the")
                + f" {len(samples)} training images is in colour; nothing to weigh"
            )
        weights = np.where(colour, colour_weight, 1.0)
        # None: uniform draws, as before the option (runs stay reproducible)
        self.draw_p = None if np.all(weights == weights[0]) else weights / weights.sum()
        if not 0.0 <= border <= 1.0:
            raise ValueError(f"border crops {border}: a fraction in [0, 1]")
        self.border = border
        self.samples = samples
        self.patch = patch
        small = [s for s in samples if any(p > n for p, n in zip(patch, s.labels.shape))]
        if small:  # padded to fit: mirrored image, left out of the loss there
            warnings.warn(
                f"{len(small)} of {len(samples)} training images are smaller than the patch "
                f"{'x'.join(map(str, patch))} (e.g. {small[0].name}, "
                f"{'x'.join(map(str, small[0].labels.shape))}): their crops are mirrored to "
                "fit and the mirrored part is left out of the loss, so part of every such "
                "crop teaches nothing. Choose a patch no larger than the smallest image.",
                stacklevel=2,
            )
        self.elastic = elastic  # rotation + elastic deformation + blur (:func:`deform`)
        # every crop carries an ignore mask (all False where nothing is ignored) if any crop
        # is padded (elastic crops read a margin beyond the patch) or any sample has one, so
        # that a batch's targets have one structure
        read = self.read_size()
        self.with_ignore = any(s.ignore is not None for s in samples) or any(
            any(r > n for r, n in zip(read, s.labels.shape)) for s in samples
        )
        self.length = length
        self.seed = seed
        self.epoch = 0
        self.targets: Callable[..., tuple] = targets or labels_and_medoids
        self.relabel = relabel  # bitmask labels (overlapping objects) must stay as they are

    def __len__(self) -> int:
        return self.length

    def read_size(self) -> tuple[int, ...]:
        """The size of the crop read from an image: the patch, plus the margin elastic
        deformation needs on each side of the last two axes."""
        if not self.elastic:
            return tuple(self.patch)
        margin = [0] * (len(self.patch) - 2) + [deform_margin(p) for p in self.patch[-2:]]
        return tuple(p + 2 * m for p, m in zip(self.patch, margin))

    def _crop(self, sample: Sample, rng: np.random.Generator, patch=None):
        """(image, labels, boundary or None, ignore or None) of one random ``patch`` crop."""
        patch = patch or self.patch
        spatial = sample.labels.shape
        image, labels = sample.image, sample.labels
        extras = [sample.boundary, sample.ignore]
        if self.with_ignore and extras[1] is None:
            extras[1] = np.zeros(spatial, bool)
        pads = [max(0, p - s) for p, s in zip(patch, spatial)]
        if any(pads):  # pad small images: image by reflection, left out of the loss there
            image = np.pad(image, [(0, 0)] + [(0, p) for p in pads], mode="reflect")
            labels = np.pad(labels, [(0, p) for p in pads])
            widths = [(0, p) for p in pads]
            ignore = extras[1]
            assert ignore is not None  # with_ignore is set whenever an image is this small
            extras = [
                None if extras[0] is None else np.pad(extras[0], widths, mode="reflect"),
                np.pad(ignore, widths, constant_values=True),
            ]
            spatial = labels.shape
        if rng.random() < 0.5 and labels.any():
            foreground = np.flatnonzero(labels)
            centre = np.unravel_index(foreground[rng.integers(len(foreground))], spatial)
            starts = [
                int(np.clip(c - p // 2 + rng.integers(-p // 4, p // 4 + 1), 0, s - p))
                for c, p, s in zip(centre, patch, spatial)
            ]
        else:
            starts = [int(rng.integers(0, s - p + 1)) for p, s in zip(patch, spatial)]
        widths = [(0, 0)] * len(patch)
        if self.border and rng.random() < self.border:  # past one edge, padded
            axis = int(rng.integers(len(patch)))
            reach = int(rng.integers(1, max(1, patch[axis] // 3) + 1))
            if rng.random() < 0.5:
                starts[axis], widths[axis] = 0, (reach, 0)
            else:
                starts[axis], widths[axis] = spatial[axis] - patch[axis] + reach, (0, reach)
        box = tuple(
            slice(s, s + p - before - after) for s, p, (before, after) in zip(starts, patch, widths)
        )
        channel_box = (slice(None), *box)
        crops = [image[channel_box], labels[box], *(None if e is None else e[box] for e in extras)]
        if any(widths):
            from ..tiling import pad_array

            crops = [
                None
                if c is None
                else pad_array(c, [(0, 0)] * (c.ndim - len(patch)) + widths, self.border_mode)
                for c in crops
            ]
        return tuple(crops)

    def draw(self, rng: np.random.Generator) -> Sample:
        """The sample a crop comes from (uniform, or weighted by ``colour_weight``)."""
        if self.draw_p is None:
            return self.samples[int(rng.integers(len(self.samples)))]
        return self.samples[int(rng.choice(len(self.samples), p=self.draw_p))]

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        sample = self.draw(rng)
        if self.elastic:
            image, labels, boundary, ignore = self._crop(sample, rng, self.read_size())
            present = [e for e in (boundary, ignore) if e is not None]
            image, (labels, *present) = deform(image, [labels, *present], rng, self.patch)
            boundary = present[0] if boundary is not None else None
            ignore = present[-1] if ignore is not None else None
        else:
            image, labels, boundary, ignore = self._crop(sample, rng)
        present = [e for e in (boundary, ignore) if e is not None]
        image, labels, *present = augment(image, labels, rng, *present)
        if boundary is not None:
            boundary = present.pop(0)
        if self.relabel:
            labels, _, _ = _relabel(labels)
        if ignore is None:
            return (image, *self.targets(labels, boundary, rng))
        return (image, *self.targets(labels, boundary, rng, ignore=present.pop(0).astype(bool)))


def labels_and_medoids(labels, boundary, rng, ignore=None):
    """The embedding method's targets: instance labels (-1 on ``ignore``d pixels, which the
    loss leaves out) and a medoid map."""
    labels = labels.astype(np.int64)
    centres = medoid_map(labels, rng)
    if ignore is not None:
        labels[ignore] = -1
        centres[ignore] = False
    return labels, centres


def _relabel(labels: np.ndarray):
    from skimage.segmentation import relabel_sequential

    return relabel_sequential(labels)

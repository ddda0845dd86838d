"""Pairs from a folder: ``images/`` with ``masks/`` or ``boundaries/``; volumes cut into slices
or slabs."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from ..axes import guess_axes, spatial_of
from ..evaluation import COLLAPSED_FRACTION
from ..evaluation._mistakes import _largest, _rows  # what evaluate's "painted" note sees
from ..io import TIFF_SUFFIXES, read_image
from ._samples import Sample, boundary_map_note, load_pairs, refuse_negative
from ._selectors import (
    _file_stem,
    _selected_file,
    _whole_file,
    refuse_unknown_exclusions,
    selects,
    slab_bounds,
)
from ._worded import WordedText, WordedWarning, option, set_to

__all__ = [
    "load_folder_pairs",
    "left_out_files",
    "painted_label",
    "painted_samples_note",
    "tiff_files",
    "warn_once",
    "warn_painted",
]


def load_folder_pairs(
    directory,
    spatial_axes,
    channels,
    normalization,
    exclude=(),
    cut=(),
    ignore_label=None,
    warned: set[str] | None = None,
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

    Warned (one line each): files left out (:func:`left_out_files`) and, without
    ``ignore_label``, masks where one label covers much of the image, as unannotated parts
    painted with one value do (:func:`painted_label`; a mask of that one label alone only
    when others have it beside objects). A line already in ``warned`` (a set that the calls of
    one run share, e.g. for the training and the validation folder) is not said again; the
    lines said are added to it.
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
    tiffs = tiff_files(image_dir)
    image_files = [
        p for p in tiffs if not any(_whole_file(e) and selects(e, p.name) for e in exclude)
    ]
    if not image_files:
        left_out = f" (after excluding {', '.join(sorted(exclude))})" if exclude else ""
        raise ValueError(f"{image_dir} holds no TIFF files{left_out}")
    # every file and slice there is, excluded or not: an exclusion that picks none is refused
    files = [p.name for p in tiffs]
    seen = list(files)
    unused = left_out_files(image_dir, label_dir)
    if unused:
        warn_once(f"{directory}: {unused}", warned, stacklevel=2)
    painted = []  # (mask file, label, fraction, objects): unannotated parts, no ignore label?
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
        elif ignore_label is None:
            found = painted_label(data)
            if found:
                painted.append((label_path.name, *found))
        axes = guess_axes(array.shape) if array.ndim != len(spatial_axes) else spatial_axes
        channels_first = _channels_first(image, data.shape)
        if channels_first and array.ndim == 3 and spatial_axes == "YX":
            # channels (e.g. planar RGB) with 2D labels: as a colour image, channels last
            array = np.moveaxis(array, 0, -1)
            axes = guess_axes(array.shape)
        # a ZYX(C) volume for a 2D model, unless the first axis is channels
        if spatial_axes == "YX" and spatial_of(axes) == "ZYX" and not channels_first:
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
        elif spatial_axes == "ZYX" and array.ndim == 3 and not channels_first:
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
        warn_once(notes[0][1] + also, warned, stacklevel=2)
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
    warn_painted(label_dir, painted, stacklevel=2, warned=warned)
    return samples


def _channels_first(image, labels_shape) -> bool:
    """Whether the first axis of ``image`` (an :class:`~tessella.engine.io.ImageData`) holds
    channels: the reader says so (``CYX``), and the file's metadata states it (ImageJ or OME
    channels, an axes description) or the labels are no volume of the image's shape. A plain
    ``tifffile.imwrite`` of 3 or 4 planes is tagged planar RGB (read as a stack, ZYX, where
    tifffile wrote it); with labels of its own 3D shape (a volume of labels) it is a volume,
    cut into slices like one of 5 or more planes; with 2D labels its planes are channels.

    >>> from tessella.engine.io import ImageData
    >>> plain = ImageData(np.zeros((4, 8, 8)), "CYX", stated_axes="?YX")
    >>> _channels_first(plain, (4, 8, 8)), _channels_first(plain, (8, 8))
    (False, True)
    >>> stated = ImageData(np.zeros((4, 8, 8)), "CYX", stated_axes="CYX")
    >>> _channels_first(stated, (4, 8, 8))
    True
    """
    from ..io._tiff import PLANAR_RGB_TAGS

    if image.stated_by == PLANAR_RGB_TAGS and image.axes == "ZYX":
        # tifffile's planar RGB, read as a stack: planes of a colour image with 2D labels
        return tuple(labels_shape) != tuple(np.shape(image.data))
    if image.axes[:1] != "C":
        return False
    stated = image.stated_axes or ""
    return stated[:1] == "C" or tuple(labels_shape) != tuple(np.shape(image.data))


def _few(names, count: int = 5) -> str:
    names = list(names)
    more = f" and {len(names) - count} more" if len(names) > count else ""
    return ", ".join(names[:count]) + more


def tiff_files(folder: Path) -> list[Path]:
    """The files of ``folder`` that a folder of pairs reads, sorted: names ending in ``.tif``
    or ``.tiff`` (any case), not hidden (``._a.tif``, as macOS leaves on shared drives), not
    folders. ``a.tif.bak``, ``a.tiff~`` or ``a.tif.part`` are not TIFF names.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("a.tif", "B.TIFF", "a.tif.bak", "a.tiff~", "._a.tif", "notes.txt"):
    ...     (root / name).touch()
    >>> [p.name for p in tiff_files(root)]
    ['B.TIFF', 'a.tif']
    """
    return sorted(
        p
        for p in Path(folder).iterdir()
        if p.suffix.lower() in TIFF_SUFFIXES and not p.name.startswith(".") and not p.is_dir()
    )


def left_out_files(image_dir: Path, label_dir: Path) -> str | None:
    """What of ``image_dir`` and ``label_dir`` a folder of pairs leaves out, and why, or None:
    what :func:`tiff_files` does not take (``a.tif.bak``, folders; hidden files such as
    ``.DS_Store`` are not named) and labels files with no image of their name. An image with
    no labels is refused, not left out.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("images/a.tif", "images/notes.txt", "masks/a.tif", "masks/b.tif"):
    ...     (root / name).parent.mkdir(exist_ok=True); (root / name).touch()
    >>> left_out_files(root / "images", root / "masks")
    'left out images/notes.txt (not TIFF); masks/b.tif (no image of that name in images/)'
    """
    not_tiff, no_image = [], []
    images = {p.name for p in tiff_files(image_dir)}
    for folder in (image_dir, label_dir):
        taken = {p.name for p in tiff_files(folder)}
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            where = f"{folder.name}/{path.name}" + ("/" if path.is_dir() else "")
            if path.name not in taken:
                not_tiff.append(where)
            elif folder == label_dir and path.name not in images:
                no_image.append(where)
    parts = [f"{_few(not_tiff)} (not TIFF)"] if not_tiff else []
    if no_image:
        parts.append(f"{_few(no_image)} (no image of that name in {image_dir.name}/)")
    return "left out " + "; ".join(parts) if parts else None


def painted_label(labels) -> tuple[int, float, int] | None:
    """``(label, fraction, objects)`` when one label of the instance ``labels`` covers
    :data:`~tessella.engine.evaluation.COLLAPSED_FRACTION` or more of the pixels, as a region
    left unannotated and painted with one value (999, 65535) does and ``tessella evaluate``
    warns of; else None. ``objects``: how many labels there are (1 may be a binary mask).

    >>> sparse = np.zeros((8, 8), np.int32); sparse[:, :4] = 999; sparse[1, 5] = 1
    >>> painted_label(sparse)
    (999, 0.5, 2)
    >>> painted_label(sparse // 999)
    (1, 0.5, 1)
    """
    labels = np.asarray(labels)
    if labels.ndim < 2 or not labels.size:
        return None
    count, largest, fraction = _largest(_rows(labels))
    return (largest, fraction, count) if fraction >= COLLAPSED_FRACTION else None


def warn_once(message: str, warned: set[str] | None = None, stacklevel: int = 2) -> None:
    """:func:`warnings.warn` ``message`` unless it is in ``warned`` (the lines a run has said
    already: the same folder as training and validation data is described once); it is added.
    ``stacklevel`` as :func:`warnings.warn` counts it from the caller. A
    :class:`~._worded.WordedText` is warned as a :class:`~._worded.WordedWarning`, in each
    caller's words.

    >>> said = set()
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     for _ in range(2):
    ...         warn_once("data: left out images/notes.txt (not TIFF)", said)
    >>> len(caught), sorted(said)
    (1, ['data: left out images/notes.txt (not TIFF)'])
    """
    if warned is not None:
        if message in warned:
            return
        warned.add(message)
    said = (
        WordedWarning(message, message.cli, message.panel)
        if isinstance(message, WordedText)
        else message
    )
    warnings.warn(said, stacklevel=stacklevel + 1)


def warn_painted(
    label_dir: Path,
    painted: list[tuple[str, int, float, int]],
    stacklevel: int = 2,
    warned: set[str] | None = None,
) -> None:
    """Warn in one line of the masks where :func:`painted_label` found a label (file name,
    label, fraction, objects). A mask of that one label alone may be a binary one, so it is
    named only when other masks have other objects beside that value (a file of nothing
    annotated yet). ``stacklevel`` as :func:`warnings.warn` counts it from the caller;
    ``warned`` as :func:`warn_once` has it."""
    values = {value for _, value, _, objects in painted if objects > 1}
    painted = [p for p in painted if p[1] in values]
    if painted:
        warn_once(_painted_note(label_dir, painted), warned, stacklevel=stacklevel + 1)


def painted_samples_note(samples, where: str = "labels layers") -> str:
    """The line :func:`warn_painted` says of a folder's masks, for samples given in memory
    (the Train panel's labels layers, named as their samples are, a slice's or frame's
    ``[z=N]`` left out): where one label covers half of a layer or more and, unless it is
    every layer's only one (a binary mask), ``--ignore-label`` / Unannotated label is not
    set; "" where none is. Samples of membrane maps are not labels.

    >>> from ._samples import Sample
    >>> sparse = np.zeros((8, 8), np.int32); sparse[:, :4] = 999; sparse[1, 5] = 1
    >>> painted_samples_note([Sample(None, sparse, "gt[z=0]"), Sample(None, sparse, "gt[z=1]")])
    "labels layers: 'gt': label 999 covers 50% of the pixels: unannotated parts painted 999? ..."
    >>> painted_samples_note([Sample(None, sparse // 999, "binary")])
    ''
    """
    painted = []
    for sample in {id(s): s for s in samples}.values():  # (a hold-out of the one image)
        if getattr(sample, "boundary", None) is not None:
            continue
        found = painted_label(sample.labels)
        if found:
            name = re.sub(r"\[[^\]]*\]$", "", str(sample.name))
            painted.append((f"'{name}'", *found))
    values = {value for _, value, _, objects in painted if objects > 1}
    painted = [p for p in painted if p[1] in values]
    painted = list({p[0]: p for p in painted}.values())  # a layer once
    return _painted_note(where, painted) if painted else ""


def _painted_note(label_dir: Path | str, painted: list[tuple[str, int, float, int]]) -> str:
    """One line on the masks where :func:`painted_label` found a label, naming a few, in the
    words of each caller (a :class:`~._worded.WordedText`): the ignore label to give as
    ``ignore_label=N``, ``--ignore-label N`` or the Train panel's ``Unannotated label N``."""
    values = sorted({value for _, value, _, _ in painted})
    fractions = [fraction for _, _, fraction, _ in painted]
    low, high = f"{min(fractions):.0%}", f"{max(fractions):.0%}"
    share = low if low == high else f"{low} to {high}"
    if len(values) == 1:
        what = (
            f"label {values[0]} covers {share} of the pixels: unannotated parts painted "
            f"{values[0]}?"
        )
    else:
        what = (
            f"one label ({', '.join(map(str, values))}) covers {share} of the pixels: "
            "unannotated parts painted with it?"
        )

    def advice(caller: str) -> str:
        word = option("ignore_label", caller)
        if len(values) == 1:  # (the panel's is a number in a box: not quoted)
            given = f"{word} {values[0]}" if caller == "panel" else None
            return f"{given or set_to('ignore_label', values[0], caller)} leaves them out"
        given = f"set it as {word}" if caller == "panel" else f"pass it as {word}"
        return f"paint them one value, above every object ID, and {given} to leave them out"

    return WordedText.worded(
        lambda caller: (
            f"{label_dir}: {_few(name for name, *_ in painted)}: {what} Without an ignore label "
            f"they are learnt as one object; {advice(caller)} of the loss"
        )
    )

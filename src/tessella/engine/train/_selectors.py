"""Selectors of files, slices and frames (``STEM``, ``STEM[z=A:B]``, ``STEM[t=N]``) to hold out or
exclude, checked against the files' axes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ._samples import Sample

__all__ = [
    "HeldOutEverything",
    "selects",
    "slab_bounds",
    "refuse_wrong_axes",
    "refuse_unknown_exclusions",
    "split_holdout",
    "_file_stem",
    "_selected_file",
    "_whole_file",
]


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
        raise ValueError(
            f"excluded files not found in {where}: {', '.join(sorted(missing))} "
            f"({_names_there(missing, names)})"
        )


def _names_there(missing, names, shown: int = 4) -> str:
    """What the selectors ``missing`` could have named of ``names`` (the samples' names): the
    range of slices or frames of a file they name, else the files (a few, then "…").

    >>> _names_there(["01[t=60:62]"], [f"ctc_SIM+_01[t={t:03d}]" for t in range(65)])
    'the files are: ctc_SIM+_01'
    >>> _names_there(["vol[z=30:40]"], [f"vol.tif[z={z:03d}]" for z in range(24)])
    'vol has z=0:24'
    >>> _names_there(["A9"], [f"A{i}.tif" for i in range(6)])
    'the files are: A0, A1, A2, A3, …'
    """
    spans: dict[str, tuple[str, int, int]] = {}  # file stem: (axis, first, after the last)
    for name in names:
        stem, start, stop = _slice_of(name)
        match = _SLICE_NAME.match(name)
        if match and start is not None and stop is not None:
            axis, first, last = spans.get(stem, (match["axis"].lower(), start, stop))
            spans[stem] = (axis, min(first, start), max(last, stop))
        else:
            spans.setdefault(stem, ("", 0, 0))
    named = [_selected_file(m) for m in missing]
    ranges = [
        f"{n} has {spans[n][0]}={spans[n][1]}:{spans[n][2]}"
        for n in named
        if spans.get(n, ("",))[0]
    ]
    if ranges:
        return "; ".join(dict.fromkeys(ranges))
    files = list(spans)
    return "the files are: " + ", ".join(files[:shown]) + (", …" if len(files) > shown else "")


class HeldOutEverything(ValueError):
    """A hold-out that leaves nothing to train on (:func:`split_holdout`); the command adds
    its own way out (``--val-data``)."""


def _counted(samples: list[Sample]) -> str:
    """Every one of ``samples``, as what they are: "all 3 images", "the only image", "all 8
    slices of vol"."""
    axes = {m["axis"].lower() for s in samples if (m := _SLICE_NAME.match(s.name))}
    files = list(dict.fromkeys(_slice_of(s.name)[0] for s in samples))
    what, of = "image", ""
    if len(axes) == 1 and all(_SLICE_NAME.match(s.name) for s in samples):
        what, of = ("slice" if axes == {"z"} else "frame"), f" of {', '.join(files)}"
    if len(samples) == 1:
        return f"the only {what}{of}"
    return f"all {len(samples)} {what}s{of}"


def _selected_file(selector: str) -> str:
    """The file stem that ``selector`` names."""
    match = _SELECTOR.match(str(selector).strip())
    return _file_stem(match["file"]) if match else str(selector)


def _whole_file(selector: str) -> bool:
    match = _SELECTOR.match(str(selector).strip())
    return match is not None and match["start"] is None


def _last_slab(samples: list[Sample], fraction: float) -> str:
    """The selector of the slab of its last ``fraction`` of slices (at least one, leaving
    one) to hold out of ``samples`` when they are one volume, as ``--holdout 'STEM[z=A:B]'``
    would; else "" (several volumes: a fraction of them is held out by :func:`split_holdout`).

    >>> volume = Sample(None, np.zeros((24, 8, 8), np.int32), "vol.tif")
    >>> _last_slab([volume], 0.1), _last_slab([volume, volume], 0.1)
    ('vol[z=22:24]', '')
    """
    if len(samples) != 1 or samples[0].labels.ndim != 3:
        return ""
    depth = samples[0].labels.shape[0]
    held = max(1, int(round(depth * fraction)))
    if held >= depth:
        return ""
    return f"{_file_stem(samples[0].name)}[z={depth - held}:{depth}]"


def split_holdout(samples: list[Sample], fraction: float, seed: int = 0, names=()):
    """(train, holdout): the samples picked by the selectors in ``names`` (file stems, or
    slices of a volume such as ``lucchi[z=90:100]``; see :func:`selects`) are held out for
    model selection. Without ``names``: of each volume (or movie) cut into slices (frames)
    named ``FILE[z=N]`` (``[t=N]``), its last ``fraction`` of them, at least one, as the Train
    panel proposes for layers (a slice's neighbours are near copies of it, so a random set of
    them would score the model on what it learnt); of the other samples (2D images) a seeded
    random ``fraction``, at least one where no volume gave any. With a single sample it serves
    as both.

    >>> names = [f"a.tif[z={z:03d}]" for z in range(10)] + ["b.tif", "c.tif"]
    >>> train, held = split_holdout([Sample(None, None, n) for n in names], 0.2)
    >>> [s.name for s in held]
    ['a.tif[z=008]', 'a.tif[z=009]']
    """
    if names:
        names = [str(n) for n in names]
        refuse_wrong_axes(names, [s.name for s in samples], "hold-out")
        missing = [n for n in names if not any(selects(n, s.name) for s in samples)]
        if missing:
            raise ValueError(
                f"hold-out files not found: {', '.join(sorted(missing))} "
                f"({_names_there(missing, [s.name for s in samples])})"
            )
        picked = [any(selects(n, s.name) for n in names) for s in samples]
        train = [s for s, held in zip(samples, picked) if not held]
        if not train and samples:
            raise HeldOutEverything(
                f"hold-out {','.join(names)}: it holds out {_counted(samples)}, leaving none "
                "to train on; hold out fewer"
            )
        return train, [s for s, held in zip(samples, picked) if held]
    if len(samples) < 2:
        return samples, samples[:1]
    # (file, axis): its one-slice (one-frame) samples, as (slice, index)
    stacks: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for i, sample in enumerate(samples):
        named = _SLICE_NAME.match(sample.name)
        if named and named["stop"] is None:
            key = (named["file"], named["axis"].lower())
            stacks.setdefault(key, []).append((int(named["z"]), i))
    held: set[int] = set()
    for slices in stacks.values():
        if len(slices) > 1:
            ordered = [i for _, i in sorted(slices)]
            held.update(ordered[-max(1, int(round(len(ordered) * fraction))) :])
    in_stacks = {i for slices in stacks.values() if len(slices) > 1 for _, i in slices}
    others = [i for i in range(len(samples)) if i not in in_stacks]  # one slice: a 2D image
    if not held:  # 2D images only: a seeded random fraction, as always
        order = np.random.default_rng(seed).permutation(len(samples))
        n_holdout = max(1, int(round(len(samples) * fraction)))
        return [samples[i] for i in order[n_holdout:]], [samples[i] for i in order[:n_holdout]]
    if others:
        order = np.random.default_rng(seed).permutation(len(others))
        held.update(others[i] for i in order[: int(round(len(others) * fraction))])
    train = [s for i, s in enumerate(samples) if i not in held]
    return train, [s for i, s in enumerate(samples) if i in held]

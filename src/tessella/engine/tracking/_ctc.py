"""Writing and reading tracks in the Cell Tracking Challenge (CTC) format."""

from __future__ import annotations

import numbers as numbers_
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._gaps import _gap_pieces, _track_frames
from ._tracks import Track

__all__ = [
    "CTC_MAX_ID",
    "CtcTracks",
    "ctc_frame_numbers",
    "ctc_resolution",
    "ctc_tracks",
    "fit_ctc_tracks",
    "write_ctc",
    "read_ctc_tracks",
]


#: the largest track ID a CTC mask (uint16) holds
CTC_MAX_ID = int(np.iinfo(np.uint16).max)


@dataclass(frozen=True)
class CtcTracks:
    """What :func:`write_ctc` writes for a tracked movie: the ``res_track.txt`` rows (their
    begin and end frames are frame numbers, ``frame_numbers``), the IDs renamed in each frame
    of the labels (by index ``t``: the pieces of tracks split at gaps), the tracks split
    (``{track: the frame numbers it is missing from}``) and the divisions dropped (parent
    rows as given). ``frame_numbers``: the number of each frame of the labels (the input's
    ``t039.tif``: 39), which may skip numbers (a frame missing from the input); ``()``:
    ``0, 1, ...``."""

    n_frames: int
    tracks: list[Track]
    renames: dict[int, dict[int, int]]  # frame index -> {ID in the labels: ID written}
    split: dict[int, list[int]]
    dropped: list[Track]
    frame_numbers: tuple[int, ...] = ()

    @property
    def numbers(self) -> tuple[int, ...]:
        """The frame number of each frame of the labels (``0, 1, ...`` where none given)."""
        return self.frame_numbers or tuple(range(self.n_frames))

    def frame(self, t: int, frame: np.ndarray) -> np.ndarray:
        """Frame ``t`` (its index in the labels) as its ``maskTTT.tif`` holds it (uint16)."""
        frame = np.asarray(frame)
        mask = frame.astype(np.uint16)
        for old, new in self.renames.get(t, {}).items():
            mask[frame == old] = new
        return mask

    def notes(self) -> list[str]:
        """What the CTC files differ in from the labels, one line each (none: the same);
        frames by their numbers (:attr:`frame_numbers`)."""
        notes = []
        if self.split:
            track, missing = next(iter(self.split.items()))
            shown = ", ".join(self._frame_called(n) for n in missing[:5])
            shown += ", ..." if len(missing) > 5 else ""
            absent = set(missing_frames(self.numbers))
            why = " (not in the input)" if missing and all(t in absent for t in missing) else ""
            pieces = len({new for names in self.renames.values() for new in names.values()})
            frames = "frames" if len(missing) > 1 else "frame"
            notes.append(
                f"{len(self.split)} track(s) skip frames (e.g. track {track} is missing from "
                f"{frames} {shown}{why}): split at each gap as CTC requires, into {pieces} new "
                "track(s) whose parent is the piece before the gap"
            )
        if self.dropped:
            notes.append(
                f"{len(self.dropped)} division(s) dropped whose parent track does not end "
                f"before its daughter begins (e.g. track {self.dropped[0].id}, parent "
                f"{self.dropped[0].parent}): the lineage does not fit these labels"
            )
        return notes

    def _frame_called(self, number: int) -> str:
        """Frame ``number`` (a frame number, as :attr:`split` holds them) as the notes name
        it: without recorded numbers its index, which napari's slider shows ("8"); with them
        the index and the file's number ("3 (t055)"), or the number alone where the input
        lacks that frame ("t041"): never a file's number that reads as an index."""
        if not self.frame_numbers:
            return str(number)
        if number in self.frame_numbers:
            return f"{self.frame_numbers.index(number)} (t{number:03d})"
        return f"t{number:03d}"


def missing_frames(numbers) -> list[int]:
    """The frame numbers between the first and the last of ``numbers`` that are not in it
    (:func:`tessella.engine.io._read.missing_frames`)."""
    from ..io._read import missing_frames as missing

    return missing(numbers)


def _frame_numbers(numbers, n_frames: int) -> tuple[int, ...]:
    """``numbers`` checked as the frame numbers of a movie of ``n_frames`` frames: one each,
    whole numbers of 0 or more, increasing (ValueError otherwise); ``()`` for None."""
    if numbers is None:
        return ()
    numbers = tuple(numbers)
    if len(numbers) != n_frames:
        raise ValueError(f"{len(numbers)} frame numbers for a movie of {n_frames} frames")
    if not all(isinstance(n, numbers_.Integral) and not isinstance(n, bool) for n in numbers):
        raise ValueError(f"frame numbers must be whole numbers, got {list(numbers)[:8]}")
    numbers = tuple(int(n) for n in numbers)
    if any(n < 0 for n in numbers) or any(b <= a for a, b in zip(numbers, numbers[1:])):
        raise ValueError(f"frame numbers must be 0 or more and increasing, got {list(numbers)[:8]}")
    return numbers


def _ctc_plan(
    present: dict[int, list[int]], lineage, n_frames: int, numbers: tuple[int, ...] = ()
) -> CtcTracks:
    """:class:`CtcTracks` of a movie whose tracks are in ``present`` (:func:`_track_frames`,
    by frame index), its frames numbered ``numbers`` (``()``: 0, 1, ...): a track is split
    where its frames' numbers skip one, also where the input lacks that frame."""
    top = max(present, default=0)
    if top > CTC_MAX_ID:
        raise ValueError(
            f"CTC masks are uint16: track {top} is over {CTC_MAX_ID} (relabel the tracks 1..N)"
        )
    number = numbers or tuple(range(n_frames))
    index = {n: t for t, n in enumerate(number)}
    # by frame number: a track in frames 40 and 42 of an input without 41 skips a frame
    real = {track: [number[t] for t in frames] for track, frames in present.items()}
    pieces, lineage = _gap_pieces(real, dict(lineage or {}), top + 1)
    spans = {i: (first, last) for runs in pieces.values() for first, last, i in runs}
    if max(spans, default=0) > CTC_MAX_ID:
        raise ValueError(
            f"CTC masks are uint16: splitting the tracks that skip frames needs IDs up to "
            f"{max(spans)}, over {CTC_MAX_ID} (relabel the tracks 1..N)"
        )
    renames: dict[int, dict[int, int]] = {}
    split = {}
    for track, runs in pieces.items():
        for first, last, new in runs[1:]:
            for n in range(first, last + 1):  # (a run has every number from first to last)
                renames.setdefault(index[n], {})[track] = new
        if len(runs) > 1:
            frames = set(real[track])
            split[track] = [n for n in range(runs[0][0], runs[-1][1]) if n not in frames]
    table = [
        Track(i, first, last, p if (p := int(lineage.get(i, 0))) in spans else 0)
        for i, (first, last) in sorted(spans.items())
    ]
    # a parent ends before its daughters begin: a link that does not (a lineage that does
    # not belong to these labels) is dropped, as CTC's checker would refuse the file
    dropped = [k for k in table if k.parent and spans[k.parent][1] >= k.start]
    bad = {k.id for k in dropped}
    table = [Track(k.id, k.start, k.end, 0) if k.id in bad else k for k in table]
    return CtcTracks(n_frames, table, renames, split, dropped, numbers)


def ctc_tracks(tracked, lineage: dict[int, int] | None = None, frame_numbers=None) -> CtcTracks:
    """What :func:`write_ctc` would write for ``tracked`` (TYX or TZYX, read frame by frame)
    and ``lineage``, without writing: ValueError when it cannot be written (no time axis, a
    track ID over uint16, frame numbers that do not fit), else the tracks, with those that
    skip frames split at the gaps. ``frame_numbers``: the number of each frame (the input's
    file names: ``t039.tif``: 39; they may skip a frame the input lacks), else 0, 1, ..."""
    shape = tuple(tracked.shape)
    if len(shape) < 3:
        raise ValueError(f"CTC export needs a TYX stack, got shape {shape}")
    numbers = _frame_numbers(frame_numbers, shape[0])
    present = _track_frames(np.asarray(tracked[t]) for t in range(shape[0]))
    return _ctc_plan(present, lineage, shape[0], numbers)


def _mask_names(numbers) -> list[str]:
    """The ``maskTTT.tif`` of frames ``numbers``: three digits, more where a number needs
    them (``mask1000.tif``), all alike."""
    digits = max(3, len(str(max(numbers, default=0))))
    return [f"mask{n:0{digits}d}.tif" for n in numbers]


def ctc_frame_numbers(numbers, where: str, what: str = "--ctc") -> tuple[list[int] | None, str]:
    """``(frame_numbers, note)``: the numbers :func:`write_ctc` names a CTC result's masks
    and numbers its tracks' frames by, as the CTC convention numbers a result as its input
    (``maskTTT.tif`` for ``tTTT.tif``): its frames' ``numbers`` (those the input's file
    names give, in order: ``t039.tif ...``: 39), None where there are none (0, 1, ...).
    Where they skip a number (a frame missing from the input), no mask is written for it,
    the others keep their frames' numbers, and a track across the gap is split: ``note``
    says which frames are missing (``where``: the folder or layer, ``what``: what writes
    the masks), else it is "". One rule for ``segment --ctc`` and Export's CTC folder.

    >>> ctc_frame_numbers([39, 40, 42], "01", "--ctc")[1]
    "01: frame 41 is missing from the input: --ctc writes no mask041.tif (each mask keeps \
its frame's number; a track across the gap is split, the part after it a new track whose \
parent is the part before)"
    >>> ctc_frame_numbers([], "01")
    (None, '')
    """
    numbers = [int(n) for n in numbers]
    if not numbers:
        return None, ""
    missing = missing_frames(numbers)
    if not missing:
        return numbers, ""
    names = _mask_names([*missing[:3], max(numbers)])[:-1]
    shown = ", ".join(str(n) for n in missing[:10]) + (", ..." if len(missing) > 10 else "")
    frames = f"frame {shown} is" if len(missing) == 1 else f"frames {shown} are"
    masks = ", ".join(names) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    return numbers, (
        f"{where}: {frames} missing from the input: {what} writes no {masks} (each mask "
        "keeps its frame's number; a track across the gap is split, the part after it a new "
        "track whose parent is the part before)"
    )


#: a CTC result's mask: ``maskTTT.tif`` (any count of digits, as ``evaluate --ctc`` reads)
_MASK_NAME = re.compile(r"mask[0-9]+\.tiff?", re.IGNORECASE)


def _ctc_masks(directory: Path) -> list[str]:
    """The names of the CTC masks (``maskTTT.tif``) in ``directory``, in order; none where
    it is no folder."""
    if not directory.is_dir():
        return []
    return sorted(
        p.name for p in directory.iterdir() if _MASK_NAME.fullmatch(p.name) and p.is_file()
    )


def write_ctc(
    tracked,
    lineage: dict[int, int] | None,
    directory,
    overwrite: bool = False,
    tracks: CtcTracks | None = None,
    first_frame: int = 0,
    frame_numbers=None,
    pixel_size: dict[str, float] | None = None,
    unit: str = "µm",
):
    """Write ``maskTTT.tif`` (uint16) per frame and ``res_track.txt`` into ``directory``.

    ``pixel_size`` (``{"Y": ..., "X": ...}`` in ``unit``, the movie's) is written into each
    mask as the CTC's own files carry it (:func:`ctc_resolution`: TIFF resolution tags in
    pixels per centimetre), so that the masks reopened lie on their movie and ground truth;
    without it (or in pixels) the masks carry no pixel size.

    ``frame_numbers``: the number of each frame of the movie, as the input's file names
    give it (``t039.tif``: 39; :func:`ctc_frame_numbers`). The CTC convention numbers a
    result as its input: frame ``t`` of ``tracked`` is written as
    ``mask{frame_numbers[t]}.tif``, and the begin and end frames of ``res_track.txt`` are
    those numbers. Where they skip a number (a frame missing from the input), no mask is
    written for it and a track in the frames on both sides is split there (below), as the
    format needs a track in every frame from its begin to its end. Without them, the frames
    are numbered one after the other from ``first_frame`` (0).

    ``tracked`` is a TYX array or anything indexable by frame with a ``shape`` (a zarr
    array: frames are read one at a time, so a movie bigger than memory exports too).
    A track that skips frames (a cell erased from a frame, a blank frame) is split at each
    gap as the format requires: the piece after a gap is a new track whose parent is the
    piece before; a UserWarning says so, and one says which divisions were dropped that do
    not fit the labels. ``tracks``: :func:`ctc_tracks` of these labels, already computed.
    Atomic: the files are written to a hidden folder next to ``directory``
    (``.DIR.HOST-PID-XXXXXXXX.tmp``, the write locked meanwhile,
    :mod:`tessella.engine.io._leftovers`) and moved in place only when all succeeded. A
    folder that holds a result (``maskTTT.tif`` of any numbers, ``res_track.txt``) is
    refused (FileExistsError) unless ``overwrite``, which replaces that result whole: its
    files (the masks of any frames, so that the folder holds one result) are moved aside
    (``.old``) and the new ones put in, then the earlier ones removed; its other files are
    kept. A failure puts the earlier result back; so does the next write of ``directory``
    (or :func:`~tessella.engine.io.recover_leftovers`) after a kill, from the names the
    write recorded that it adds (``.merge``).
    """
    directory = Path(directory)
    shape = tuple(tracked.shape)
    if len(shape) < 3:
        raise ValueError(f"CTC export needs a TYX stack, got shape {shape}")
    if tracks is not None and tracks.n_frames != shape[0]:
        raise ValueError(f"tracks of {tracks.n_frames} frames for a movie of {shape[0]}")
    if first_frame < 0:
        raise ValueError(f"first_frame must be 0 or more, got {first_frame}")
    if frame_numbers is not None and first_frame:
        raise ValueError("give frame_numbers or first_frame, not both")
    if frame_numbers is None:
        frame_numbers = range(first_frame, first_frame + shape[0])
    numbers = _frame_numbers(frame_numbers, shape[0])
    if tracks is not None and tracks.numbers != numbers:
        raise ValueError(
            f"tracks of frames {list(tracks.numbers)[:5]}... for masks of frames "
            f"{list(numbers)[:5]}... (ctc_tracks with these frame_numbers)"
        )
    names = _mask_names(numbers)
    names.append("res_track.txt")
    resolution = ctc_resolution(pixel_size, unit)
    from ..io._leftovers import (
        _remove,
        claim,
        recover_leftovers,
        rename_no_replace,
        staged_claim,
    )

    # Export's own temporary folder of the CTC folder it then merges in: written as is, the
    # names it will add there recorded (a kill while they are merged in is undone)
    outer = staged_claim(directory)
    if outer is None:
        recover_leftovers(directory)  # (before looking at it: a killed write is undone)
    # a result there already: its masks (whatever their numbers) and its res_track.txt
    existing = _ctc_masks(directory)
    existing += [n for n in names if n not in existing and (directory / n).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{directory} already holds {existing[0]} (and {len(existing) - 1} more); "
            "turn on overwrite to replace them"
        )
    if outer is not None:
        outer.record_merge(names)
        directory.mkdir(exist_ok=True)
        tracks = _write_result(
            tracked, lineage, directory, directory, names, numbers, tracks, resolution
        )
        return [directory / n for n in names]
    directory.parent.mkdir(parents=True, exist_ok=True)
    writing = claim(directory)
    staging = writing.path("tmp")
    try:
        writing.record_merge(names)
        staging.mkdir()
        tracks = _write_result(
            tracked, lineage, staging, directory, names, numbers, tracks, resolution
        )
        if not (directory.exists() or directory.is_symlink()):
            try:  # (none there: the new folder renamed in whole)
                rename_no_replace(staging, directory)
            except FileExistsError:  # (made meanwhile: merged into)
                if not directory.is_dir():
                    raise
        if staging.exists():
            _merge(staging, directory, writing, overwrite)
        writing.discard_backup()  # (the earlier result's files, once the new ones are in)
    except BaseException:
        _remove(staging)
        writing.release()
        raise
    writing.release()
    return [directory / n for n in names]


def _merge(staged: Path, directory: Path, writing, overwrite: bool = True) -> None:
    """Put the files of ``staged`` (a new CTC result) into the folder ``directory``: the
    earlier result's files there (the same names, and masks of other frames) moved aside
    into the write's ``.old`` first, the folder's other files kept; ``staged`` removed. A
    failure puts the earlier files back, the new ones removed (a kill is undone by the next
    write, :func:`~tessella.engine.io._leftovers.recover_leftovers`, from the names
    ``writing.record_merge`` recorded). Without ``overwrite``, FileExistsError where the
    folder holds a result (made while this one was written)."""
    from ..io._leftovers import undo_merge

    names = sorted(os.listdir(staged))
    old = writing.path("old")
    adds = [n for n in names if not (directory / n).exists()]
    there = _ctc_masks(directory) + [n for n in names if n not in adds]
    if there and not overwrite:  # (a result made there while this one was written)
        raise FileExistsError(
            f"{directory}: {there[0]} was made while the result was written; turn on "
            "overwrite to replace it"
        )
    old.mkdir()
    try:
        for name in names:  # the earlier result's files of the same names
            if (directory / name).exists():
                os.replace(directory / name, old / name)
        for name in _ctc_masks(directory):  # its masks of other frames
            os.replace(directory / name, old / name)
        for name in names:
            os.replace(staged / name, directory / name)
    except BaseException:
        undo_merge(directory, old, staged, adds)
        raise
    staged.rmdir()


def _write_result(
    tracked, lineage, folder: Path, directory: Path, names, numbers, tracks, resolution=None
):
    """Write the masks ``names`` (and ``res_track.txt``) of ``tracked`` into ``folder``
    (for ``directory``, which warnings and errors name), with the TIFF options
    ``resolution`` (:func:`ctc_resolution`); returns the tracks written."""
    import tifffile

    options = {"compression": "zlib", **(resolution or {})}

    shape = tuple(tracked.shape)
    if tracks is None:  # one pass over the frames: written as they are, renamed after
        present: dict[int, list[int]] = {}
        for t in range(shape[0]):
            frame = np.asarray(tracked[t])
            if frame.max(initial=0) > CTC_MAX_ID:
                raise ValueError(
                    f"{directory}: CTC masks are uint16; frame {t} has track {frame.max()}"
                )
            for track in np.unique(frame[frame != 0]).tolist():
                present.setdefault(int(track), []).append(t)
            tifffile.imwrite(folder / names[t], frame.astype(np.uint16), **options)
        try:
            tracks = _ctc_plan(present, lineage, shape[0], numbers)
        except ValueError as exc:
            raise ValueError(f"{directory}: {exc}") from None
        for t in sorted(tracks.renames):  # the frames of pieces after a gap
            frame = tifffile.imread(folder / names[t])
            tifffile.imwrite(folder / names[t], tracks.frame(t, frame), **options)
    else:
        for t in range(shape[0]):
            mask = tracks.frame(t, np.asarray(tracked[t]))
            tifffile.imwrite(folder / names[t], mask, **options)
    for note in tracks.notes():
        warnings.warn(f"{directory}: {note}", UserWarning, stacklevel=3)
    lines = [f"{k.id} {k.start} {k.end} {k.parent}" for k in tracks.tracks]
    (folder / "res_track.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
    return tracks


#: centimetres per unit of length, for the resolution tags of a CTC mask
_PER_CM = {"µm": 1e-4, "nm": 1e-7, "mm": 0.1, "cm": 1.0, "m": 100.0, "pm": 1e-10, "Å": 1e-8}


def ctc_resolution(pixel_size: dict[str, float] | None, unit: str = "µm") -> dict:
    """The ``tifffile.imwrite`` options that write the pixel size ``pixel_size`` (of Y and
    X, in ``unit``) into a CTC mask as the Cell Tracking Challenge's own images and ground
    truth carry it: XResolution and YResolution in pixels per centimetre, ResolutionUnit
    centimetre (the reader, Fiji and the CTC's tools read it back in µm). ``{}`` where
    there is none to write: no pixel size, one without Y or X, or a size in pixels or in a
    unit that is no length.

    >>> options = ctc_resolution({"Y": 0.125, "X": 0.125}, "µm")
    >>> [round(r) for r in options["resolution"]], int(options["resolutionunit"])
    ([80000, 80000], 3)
    >>> ctc_resolution({"Y": 2.0, "X": 2.0}, "pixel"), ctc_resolution(None)
    ({}, {})
    """
    from ..io._write import unit_symbol

    pixel_size = {str(k).upper(): v for k, v in (pixel_size or {}).items()}
    per_cm = _PER_CM.get(unit_symbol(unit))
    if per_cm is None or "X" not in pixel_size or "Y" not in pixel_size:
        return {}
    sizes = [float(pixel_size[a]) * per_cm for a in "XY"]
    if not all(np.isfinite(s) and s > 0 for s in sizes):
        return {}
    import tifffile

    return {
        "resolution": (1.0 / sizes[0], 1.0 / sizes[1]),
        "resolutionunit": tifffile.RESUNIT.CENTIMETER,
    }


def _track_text(path) -> str:
    """The text of a track file as editors save it: UTF-8 with or without a byte-order mark
    (Windows Notepad, Excel's "CSV UTF-8"), or UTF-16 with one (Notepad's "Unicode", Excel's
    "Unicode Text"); ValueError naming the file where it is no text."""
    import codecs

    data = Path(path).read_bytes()
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    try:
        return data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not a text file of 'L B E P' lines (byte {exc.start} is no UTF-8)"
        ) from None


def read_ctc_tracks(path) -> list[Track]:
    """Tracks from a CTC ``man_track.txt`` / ``res_track.txt`` (``L B E P`` per line; saved
    with a byte-order mark, CRLF line ends or tabs, as Windows editors write it, too)."""
    tracks = []
    for number, line in enumerate(_track_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            i, b, e, p = (int(v) for v in line.split())
        except ValueError:
            raise ValueError(f"{path}, line {number}: expected 'L B E P', got {line!r}") from None
        tracks.append(Track(i, b, e, p))
    return tracks


def _some(items: list, shown: int = 5) -> str:
    """The first ``shown`` of ``items``, comma-separated, and how many more."""
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(str(item) for item in items[:shown]) + more


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def fit_ctc_tracks(
    table: list[Track], spans: dict[int, tuple[int, int]]
) -> tuple[dict[int, int], list[str]]:
    """``(lineage, problems)``: the divisions ``{child: parent}`` of a CTC track file's rows
    ``table`` (:func:`read_ctc_tracks` of ``res_track.txt`` or ``man_track.txt``) that fit
    the masks beside it, whose tracks are ``spans`` (``{label: (first, last)}``, the frame
    numbers each label of the masks is first and last in), and what of the file does not
    fit them, one line each (none: the file and the masks agree). A division is kept where
    both its daughter and its mother are labels of the masks and the mother's last frame
    comes before the daughter's first, as the format asks (whatever the file's begin and
    end say); the others are dropped. Labels of the masks that the file lacks have no
    parent; rows of labels in no mask, and begin and end frames other than the masks',
    are said.

    >>> table = [Track(1, 0, 3, 0), Track(2, 4, 6, 1), Track(3, 4, 5, 1), Track(9, 0, 1, 0)]
    >>> lineage, problems = fit_ctc_tracks(table, {1: (0, 3), 2: (4, 6), 3: (4, 6), 4: (2, 2)})
    >>> lineage
    {2: 1, 3: 1}
    >>> for line in problems:
    ...     print(line)
    label 4 of the masks is not in it (no parent)
    track 9 is in no mask (left out)
    track 3 is in frames 4-5 in it, 4-6 in the masks (the masks' kept)
    """
    rows = {k.id: k for k in table}
    problems = []
    absent = sorted(set(spans) - set(rows))
    if absent:
        labels = "labels" if len(absent) > 1 else "label"
        verb = "are" if len(absent) > 1 else "is"
        problems.append(f"{labels} {_some(absent)} of the masks {verb} not in it (no parent)")
    unseen = sorted(set(rows) - set(spans))
    if unseen:
        tracks = "tracks" if len(unseen) > 1 else "track"
        verb = "are" if len(unseen) > 1 else "is"
        problems.append(f"{tracks} {_some(unseen)} {verb} in no mask (left out)")
    moved = [
        f"track {k.id} is in frames {_span(k.start, k.end)} in it, "
        f"{_span(*spans[k.id])} in the masks"
        for k in table
        if k.id in spans and (k.start, k.end) != spans[k.id]
    ]
    if moved:
        problems.append(f"{_some(moved, 3)} (the masks' kept)")
    lineage: dict[int, int] = {}
    dropped = []
    for k in table:
        if not k.parent:
            continue
        if k.id in spans and k.parent in spans and spans[k.parent][1] < spans[k.id][0]:
            lineage[k.id] = k.parent
        elif k.id in spans:  # (a daughter in no mask is said above)
            why = (
                "in no mask"
                if k.parent not in spans
                else f"not ending before it begins in the masks ({_span(*spans[k.parent])})"
            )
            dropped.append(f"{k.id} of {k.parent}, {why}")
    if dropped:
        divisions = "divisions" if len(dropped) > 1 else "division"
        problems.append(f"{divisions} dropped: {_some(dropped, 3)}")
    return lineage, problems

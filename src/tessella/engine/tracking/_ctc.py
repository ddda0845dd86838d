"""Writing and reading tracks in the Cell Tracking Challenge (CTC) format."""

from __future__ import annotations

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
    "ctc_first_frame",
    "ctc_tracks",
    "write_ctc",
    "read_ctc_tracks",
]


#: the largest track ID a CTC mask (uint16) holds
CTC_MAX_ID = int(np.iinfo(np.uint16).max)


@dataclass(frozen=True)
class CtcTracks:
    """What :func:`write_ctc` writes for a tracked movie: the ``res_track.txt`` rows, the
    IDs renamed in each frame (the pieces of tracks split at gaps), the tracks split (``{track:
    frames it is missing from}``) and the divisions dropped (parent rows as given)."""

    n_frames: int
    tracks: list[Track]
    renames: dict[int, dict[int, int]]  # frame -> {ID in the labels: ID written}
    split: dict[int, list[int]]
    dropped: list[Track]

    def frame(self, t: int, frame: np.ndarray) -> np.ndarray:
        """Frame ``t`` of the labels as its ``maskTTT.tif`` holds it (uint16)."""
        frame = np.asarray(frame)
        mask = frame.astype(np.uint16)
        for old, new in self.renames.get(t, {}).items():
            mask[frame == old] = new
        return mask

    def notes(self, first_frame: int = 0) -> list[str]:
        """What the CTC files differ in from the labels, one line each (none: the same);
        frames numbered from ``first_frame`` (:func:`write_ctc`)."""
        notes = []
        if self.split:
            track, missing = next(iter(self.split.items()))
            shown = ", ".join(str(first_frame + t) for t in missing[:5])
            shown += ", ..." if len(missing) > 5 else ""
            pieces = len({new for names in self.renames.values() for new in names.values()})
            notes.append(
                f"{len(self.split)} track(s) skip frames (e.g. track {track} is missing from "
                f"frame {shown}): split at each gap as CTC requires, into {pieces} new "
                "track(s) whose parent is the piece before the gap"
            )
        if self.dropped:
            notes.append(
                f"{len(self.dropped)} division(s) dropped whose parent track does not end "
                f"before its daughter begins (e.g. track {self.dropped[0].id}, parent "
                f"{self.dropped[0].parent}): the lineage does not fit these labels"
            )
        return notes


def _ctc_plan(present: dict[int, list[int]], lineage, n_frames: int) -> CtcTracks:
    """:class:`CtcTracks` of a movie whose tracks are in ``present`` (:func:`_track_frames`)."""
    top = max(present, default=0)
    if top > CTC_MAX_ID:
        raise ValueError(
            f"CTC masks are uint16: track {top} is over {CTC_MAX_ID} (relabel the tracks 1..N)"
        )
    pieces, lineage = _gap_pieces(present, dict(lineage or {}), top + 1)
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
            for t in range(first, last + 1):
                renames.setdefault(t, {})[track] = new
        if len(runs) > 1:
            frames = set(present[track])
            split[track] = [t for t in range(runs[0][0], runs[-1][1]) if t not in frames]
    table = [
        Track(i, first, last, p if (p := int(lineage.get(i, 0))) in spans else 0)
        for i, (first, last) in sorted(spans.items())
    ]
    # a parent ends before its daughters begin: a link that does not (a lineage that does
    # not belong to these labels) is dropped, as CTC's checker would refuse the file
    dropped = [k for k in table if k.parent and spans[k.parent][1] >= k.start]
    bad = {k.id for k in dropped}
    table = [Track(k.id, k.start, k.end, 0) if k.id in bad else k for k in table]
    return CtcTracks(n_frames, table, renames, split, dropped)


def ctc_tracks(tracked, lineage: dict[int, int] | None = None) -> CtcTracks:
    """What :func:`write_ctc` would write for ``tracked`` (TYX or TZYX, read frame by frame)
    and ``lineage``, without writing: ValueError when it cannot be written (no time axis, a
    track ID over uint16), else the tracks, with those that skip frames split at the gaps."""
    shape = tuple(tracked.shape)
    if len(shape) < 3:
        raise ValueError(f"CTC export needs a TYX stack, got shape {shape}")
    present = _track_frames(np.asarray(tracked[t]) for t in range(shape[0]))
    return _ctc_plan(present, lineage, shape[0])


def ctc_first_frame(numbers, where: str, what: str = "--ctc") -> tuple[int, str]:
    """``(first_frame, note)``: the number :func:`write_ctc` numbers a CTC result from, as
    the CTC convention numbers a result as its input (``maskTTT.tif`` for ``tTTT.tif``): the
    first of its frames' ``numbers`` (those the input's file names give, in order: ``t052.tif
    ...``: 52), 0 where there are none. The masks are numbered one after the other from it,
    so where the numbers skip frames, from the first gap on a mask's number is not its
    frame's: ``note`` says so (``where``: the folder or layer, ``what``: what writes the
    masks), else it is "". One rule for ``segment --ctc`` and Export's CTC folder.

    >>> ctc_first_frame([52, 53, 55], "01", "--ctc")[1]
    "01: --ctc numbers its masks from 52 (the first frame's number) one after the other, but \
the frames skip 54: from mask054.tif on a mask's number is not its frame's"
    >>> ctc_first_frame([], "01")
    (0, '')
    """
    from ..io._read import missing_frames

    numbers = [int(n) for n in numbers]
    if not numbers:
        return 0, ""
    first = min(numbers)
    missing = missing_frames(numbers)
    if not missing:
        return first, ""
    digits = max(3, len(str(first + len(numbers) - 1)))  # as write_ctc names the masks
    return first, (
        f"{where}: {what} numbers its masks from {first} (the first frame's number) one "
        f"after the other, but the frames skip {missing[0]}: from mask"
        f"{missing[0]:0{digits}d}.tif on a mask's number is not its frame's"
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
):
    """Write ``maskTTT.tif`` (uint16) per frame and ``res_track.txt`` into ``directory``.

    ``first_frame``: the number of the movie's first frame, as the input's file names give
    it (``t052.tif``: 52). The CTC convention numbers a result as its input: frame ``t`` of
    ``tracked`` is written as ``mask{first_frame + t}.tif``, and the frames of
    ``res_track.txt`` are numbered the same way.

    ``tracked`` is a TYX array or anything indexable by frame with a ``shape`` (a zarr
    array: frames are read one at a time, so a movie bigger than memory exports too).
    A track that skips frames (a cell erased from a frame, a blank frame) is split at each
    gap as the format requires: the piece after a gap is a new track whose parent is the
    piece before; a UserWarning says so, and one says which divisions were dropped that do
    not fit the labels. ``tracks``: :func:`ctc_tracks` of these labels, already computed.
    Atomic: the files are written to a temporary folder next to ``directory`` and moved in
    place only when all succeeded. A folder that holds a result (``maskTTT.tif`` of any
    numbers, ``res_track.txt``) is refused (FileExistsError) unless ``overwrite``, which
    replaces that result whole: once the new files are in place, the masks of frames it does
    not have (an earlier result of other or more frames) are removed, so that the folder
    holds one result; its other files are kept.
    """
    import tifffile

    directory = Path(directory)
    shape = tuple(tracked.shape)
    if len(shape) < 3:
        raise ValueError(f"CTC export needs a TYX stack, got shape {shape}")
    if tracks is not None and tracks.n_frames != shape[0]:
        raise ValueError(f"tracks of {tracks.n_frames} frames for a movie of {shape[0]}")
    if first_frame < 0:
        raise ValueError(f"first_frame must be 0 or more, got {first_frame}")
    digits = max(3, len(str(first_frame + shape[0] - 1)))
    names = [f"mask{first_frame + t:0{digits}d}.tif" for t in range(shape[0])]
    names.append("res_track.txt")
    # a result there already: its masks (whatever their numbers) and its res_track.txt
    existing = _ctc_masks(directory)
    existing += [n for n in names if n not in existing and (directory / n).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{directory} already holds {existing[0]} (and {len(existing) - 1} more); "
            "turn on overwrite to replace them"
        )
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.with_name(f".{directory.name}.partial-{os.getpid()}")
    staging.mkdir(exist_ok=True)
    try:
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
                tifffile.imwrite(staging / names[t], frame.astype(np.uint16), compression="zlib")
            try:
                tracks = _ctc_plan(present, lineage, shape[0])
            except ValueError as exc:
                raise ValueError(f"{directory}: {exc}") from None
            for t in sorted(tracks.renames):  # the frames of pieces after a gap
                frame = tifffile.imread(staging / names[t])
                tifffile.imwrite(staging / names[t], tracks.frame(t, frame), compression="zlib")
        else:
            for t in range(shape[0]):
                mask = tracks.frame(t, np.asarray(tracked[t]))
                tifffile.imwrite(staging / names[t], mask, compression="zlib")
        for note in tracks.notes(first_frame):
            warnings.warn(f"{directory}: {note}", UserWarning, stacklevel=2)
        lines = [
            f"{k.id} {first_frame + k.start} {first_frame + k.end} {k.parent}"
            for k in tracks.tracks
        ]
        (staging / "res_track.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
        directory.mkdir(exist_ok=True)
        for name in names:
            os.replace(staging / name, directory / name)
        # the new result replaces the earlier one whole, once it is in place (a failure
        # before keeps the earlier): its masks of other frames would be scored with it
        for name in _ctc_masks(directory):
            if name not in names:
                (directory / name).unlink(missing_ok=True)
    finally:
        for leftover in staging.iterdir() if staging.exists() else ():
            leftover.unlink()
        if staging.exists():
            staging.rmdir()
    return [directory / n for n in names]


def read_ctc_tracks(path) -> list[Track]:
    """Tracks from a CTC ``man_track.txt`` / ``res_track.txt`` (``L B E P`` per line)."""
    tracks = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            i, b, e, p = (int(v) for v in line.split())
        except ValueError:
            raise ValueError(f"{path}, line {number}: expected 'L B E P', got {line!r}") from None
        tracks.append(Track(i, b, e, p))
    return tracks

"""Scoring tracked labels against a Cell Tracking Challenge ground truth."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ._ctc import read_ctc_tracks
from ._tracks import Track

__all__ = [
    "ctc_folders_misgiven",
    "ctc_result_folder",
    "ctc_truth_folder",
    "ctc_truth_part",
    "ctc_tra_folder",
    "evaluate_ctc",
    "frame_links",
    "link_accuracy",
]


def _marker_owner(markers: np.ndarray, predicted: np.ndarray) -> dict[int, int]:
    """GT marker -> the predicted object covering more than half of it, when that object
    covers no other marker that much (one-to-one); others are unmatched."""
    inside = markers > 0
    pairs, counts = np.unique(
        np.stack([markers[inside], predicted[inside]]), axis=1, return_counts=True
    )
    sizes = dict(zip(*np.unique(markers[inside], return_counts=True)))
    owner = {int(m): int(p) for (m, p), n in zip(pairs.T, counts) if p and 2 * n > sizes[int(m)]}
    claims: dict[int, int] = {}
    for p in owner.values():
        claims[p] = claims.get(p, 0) + 1
    return {m: p for m, p in owner.items() if claims[p] == 1}


def link_accuracy(
    gt_markers: np.ndarray,
    gt_tracks: list[Track],
    tracked: np.ndarray,
    lineage: dict[int, int] | None = None,
    frames: Iterable[int] | None = None,
) -> dict:
    """The fraction of ground-truth links (a cell from one frame to the next, and mother to
    daughter) that the tracked labels reproduce.

    A link between GT objects ``a`` (frame t-1) and ``b`` (frame t) is reproduced when both are
    matched one-to-one to predicted objects (covering more than half of their TRA marker) and
    those carry the same track ID, or the one at t is a daughter of the one at t-1.
    ``frames`` limits the links to those ending in these frames. Returns
    ``{"link_accuracy", "links", "reproduced", "division_links", "divisions_reproduced"}``.

    A division link (mother at t-1 to daughter at t) counts among ``reproduced`` either way,
    but among ``divisions_reproduced`` only where the tracked labels divide there: the
    daughter's predicted track is a daughter (``lineage``) of the mother's. A daughter that
    carries on the mother's track ID is a link carried, not a division found.
    """
    lineage = lineage or {}
    parents = {t.id: t.parent for t in gt_tracks}
    frames = frames if frames is not None else range(1, gt_markers.shape[0])
    total = reproduced = div_total = div_found = 0
    owners = {}

    def owner(t):
        if t not in owners:
            owners[t] = _marker_owner(gt_markers[t], tracked[t])
        return owners[t]

    for t in frames:
        if t < 1:
            continue
        here = np.unique(gt_markers[t])
        before = set(np.unique(gt_markers[t - 1]).tolist())
        for cell in here[here != 0].tolist():
            division = cell not in before and parents.get(cell, 0) in before
            source = parents.get(cell, 0) if division else (cell if cell in before else 0)
            if not source:
                continue
            total += 1
            div_total += division
            a, b = owner(t - 1).get(source), owner(t).get(cell)
            divided = a is not None and b is not None and a != b and lineage.get(b) == a
            reproduced += divided or (a is not None and a == b)
            div_found += division and divided
    return {
        "link_accuracy": reproduced / total if total else float("nan"),
        "links": total,
        "reproduced": reproduced,
        "division_links": div_total,
        "divisions_reproduced": div_found,
    }


class _Frames:
    """Frame ``i`` of ``source`` (an array, lazy or not) as a NumPy array, read when asked:
    what :func:`link_accuracy` indexes (each frame read once: it keeps their owners)."""

    def __init__(self, at, count: int) -> None:
        self._at, self.shape = at, (count,)

    def __getitem__(self, i: int) -> np.ndarray:
        return np.asarray(self._at(i))


def ctc_tra_folder(path) -> Path | None:
    """The ``TRA`` folder (``man_track.txt`` in it) of the Cell Tracking Challenge ground
    truth that ``path`` is part of: ``path`` itself (``01_GT/TRA``), the one beside a ``SEG``
    folder (``01_GT/SEG``), or that of a file in either (``man_seg052.tif``, a SEG folder of
    one file); or the ``NN_GT`` folder's. None where there is none.

    >>> import tempfile
    >>> gt = Path(tempfile.mkdtemp()) / "01_GT"; (gt / "SEG").mkdir(parents=True)
    >>> ctc_tra_folder(gt / "SEG") is None
    True
    >>> (gt / "TRA").mkdir(); _ = (gt / "TRA" / "man_track.txt").write_text("1 0 3 0")
    >>> [ctc_tra_folder(p).name for p in (gt / "SEG", gt / "TRA", gt)]
    ['TRA', 'TRA', 'TRA']
    """
    if not path:
        return None
    path = Path(path)
    if path.is_file():
        path = path.parent
    for folder in (path, path.parent / "TRA", path / "TRA"):
        if folder.name.upper() == "TRA" and (folder / "man_track.txt").is_file():
            return folder
    return None


def frame_links(
    tracked, numbers, lineage: dict[int, int] | None, tra_dir, frames: Iterable[int] | None = None
) -> dict:
    """:func:`link_accuracy` of the tracked labels ``tracked`` (T first, 2D frames; frame
    ``i`` is the movie's frame ``numbers[i]``; divisions ``lineage`` ``{child: parent}``)
    against the Cell Tracking Challenge ground truth's ``TRA`` folder ``tra_dir``
    (``man_track.txt``, ``man_trackTTT.tif``), as :func:`evaluate_ctc` scores a result of
    those frames (``tessella evaluate RES NN_GT --ctc --frames A:B``): the links into each
    frame from the frame before it, both in ``tracked`` (``frames``: those of their
    indices only); a frame the TRA folder has no markers of holds none. ``tracked`` and the
    markers are read a frame at a time. ValueError where a marker image is not the shape of
    the frames."""
    tra_dir = Path(tra_dir)
    numbers = [int(n) for n in numbers]
    if len(numbers) != np.shape(tracked)[0]:
        raise ValueError(f"{len(numbers)} frame numbers for {np.shape(tracked)[0]} frames")
    gt_tracks = read_ctc_tracks(tra_dir / "man_track.txt")
    files = _numbered_files(tra_dir, "man_track", keep="man_track.txt")
    shape = tuple(np.shape(tracked)[1:])

    def marker(i: int) -> np.ndarray:
        if numbers[i] not in files:
            return np.zeros(shape, np.uint16)
        markers = _read_labels(files[numbers[i]])
        if markers.shape != shape:
            raise ValueError(
                f"{files[numbers[i]]}: markers of shape {markers.shape}, but the frames are {shape}"
            )
        return markers

    wanted = range(1, len(numbers)) if frames is None else frames
    link_frames = [i for i in wanted if i >= 1 and numbers[i] == numbers[i - 1] + 1]
    return link_accuracy(
        _Frames(marker, len(numbers)),  # type: ignore[arg-type]
        gt_tracks,
        _Frames(lambda i: tracked[i], len(numbers)),  # type: ignore[arg-type]
        lineage,
        link_frames,
    )


def _numbered_files(
    folder: Path, prefix: str, left_out: list[str] | None = None, keep: str = ""
) -> dict[int, Path]:
    """The files ``PREFIXnnn.tif`` of ``folder`` by frame number: ``.tif`` or ``.tiff`` in any
    case, any count of digits (CTC writes four for long movies). The names of the others
    (``man_seg_old.tif``, ``mask000 copy.tif``, folders; hidden files and ``keep`` aside) are
    added to ``left_out`` as ``FOLDER/NAME``. Two files of one frame (``man_seg1.tif`` and
    ``man_seg001.tif``) are refused: which one holds the frame is not known."""
    pattern = re.compile(rf"^{prefix}([0-9]+)\.tiff?$", re.IGNORECASE)
    found: dict[int, Path] = {}
    if not folder.is_dir():
        return found
    for file in sorted(folder.iterdir()):
        if file.name.startswith(".") or file.name == keep:
            continue
        match = pattern.match(file.name)
        if match is None or file.is_dir():
            if left_out is not None:
                left_out.append(f"{folder.name}/{file.name}" + ("/" if file.is_dir() else ""))
            continue
        t = int(match[1])
        if t in found:
            raise ValueError(f"{folder}: {found[t].name} and {file.name} are both frame {t}")
        found[t] = file
    return found


def _mask_runs(numbers: list[int]) -> list[list[int]]:
    """``numbers`` (sorted) in runs of consecutive numbers."""
    runs: list[list[int]] = [[numbers[0]]]
    for t in numbers[1:]:
        if t == runs[-1][-1] + 1:
            runs[-1].append(t)
        else:
            runs.append([t])
    return runs


def _input_gap(t: int, tracks: list[Track] | None) -> bool:
    """Whether frame ``t``, missing from a result whose ``res_track.txt`` holds ``tracks``
    (None: it has none), was missing from its input: no track of the result spans it (a
    track is in every frame from its begin to its end, and ``write_ctc`` splits one at a
    frame its input lacks), whereas a mask lost from the folder is inside a track."""
    return tracks is not None and not any(k.start <= t <= k.end for k in tracks)


def _masks_missing(
    result_dir: Path,
    masks: dict[int, Path],
    tracks: list[Track] | None = None,
    absent: int | None = None,
) -> str:
    """Why the result ``result_dir`` whose masks ``masks`` (by frame number) skip frames
    cannot be scored: the mask missing (``absent``, else the first), named as its neighbours
    are (``mask0999.tif`` among four digits), and the runs of masks there are. Runs of which
    no track of its ``res_track.txt`` (``tracks``) is in, or runs apart by more than one
    frame where it has none, look like two results written into one folder (numbered by
    their input's frames), which it says; a frame in no track (and masks on both sides in
    tracks) was missing from the input (:func:`_input_gap`), which it says.

    >>> masks = {t: Path(f"mask{t:03d}.tif") for t in (0, 1, 2, 52, 53, 54)}
    >>> _masks_missing(Path("RES"), masks)
    'RES: mask003.tif is missing: its masks are mask000-002 and mask052-054, as two results \
in one folder would leave (segment --ctc into an empty folder, or with --overwrite)'
    >>> _masks_missing(Path("RES"), {t: Path(f"mask{t:04d}.tif") for t in (998, 1000)})
    'RES: mask0999.tif is missing: its masks are mask0998 and mask1000'
    >>> masks = {t: Path(f"mask{t:03d}.tif") for t in (39, 40, 42)}
    >>> _masks_missing(Path("RES"), masks, [Track(1, 39, 40, 0), Track(2, 42, 42, 1)])
    'RES: mask041.tif is missing: its masks are mask039-040 and mask042; no track of its \
res_track.txt is in frame 41: its input had no frame 41'
    """
    numbers = sorted(masks)
    runs = _mask_runs(numbers)
    if absent is None:
        absent = runs[0][-1] + 1
    before = max(t for t in numbers if t < absent)  # the missing one named as the mask before
    stem, suffix = masks[before].stem, masks[before].suffix
    digits = len(stem) - len(stem.rstrip("0123456789"))
    missing = f"mask{absent:0{digits}d}{suffix}"

    def shown(run: list[int]) -> str:
        first = masks[run[0]].stem
        if len(run) == 1:
            return first
        last = masks[run[-1]].stem[len("mask") :]
        return f"{first}-{last}"

    listed = [shown(run) for run in runs[:4]] + (["..."] if len(runs) > 4 else [])
    text = f"{result_dir}: {missing} is missing: its masks are "
    text += ", ".join(listed[:-1]) + f" and {listed[-1]}" if len(listed) > 1 else listed[0]
    if tracks is None:
        two = any(b[0] - a[-1] > 2 for a, b in zip(runs, runs[1:]))
    else:  # a run of masks of which res_track.txt knows no track: another result's
        two = any(not any(k.start <= r[-1] and k.end >= r[0] for k in tracks) for r in runs)
    if two:
        text += (
            ", as two results in one folder would leave (segment --ctc into an empty folder, "
            "or with --overwrite)"
        )
    elif _input_gap(absent, tracks):
        text += (
            f"; no track of its res_track.txt is in frame {absent}: its input had no frame {absent}"
        )
    return text


def _gt_at(
    t: int, seg_files: dict[int, Path], track_files: dict[int, Path], gt_tracks: list[Track]
) -> str:
    """What of the ground truth annotates frame ``t`` ("" where nothing does)."""
    if t in seg_files:
        return f"SEG/{seg_files[t].name}"
    if t in track_files:
        return f"TRA/{track_files[t].name}"
    if any(k.start <= t <= k.end for k in gt_tracks):
        return "a track of TRA/man_track.txt"
    return ""


def _left_out_note(folder: Path, left_out: list[str], expected: str) -> None:
    if left_out:
        more = f" and {len(left_out) - 5} more" if len(left_out) > 5 else ""
        warnings.warn(
            f"{folder}: left out {', '.join(left_out[:5])}{more} (not {expected})", stacklevel=3
        )


def _read_labels(path: Path) -> np.ndarray:
    from ..io import read_image

    data = np.asarray(read_image(path).data)
    if not np.issubdtype(data.dtype, np.integer):
        raise ValueError(f"{path}: labels must be integers, got {data.dtype}")
    return data


def _has_files(folder: Path, pattern: str) -> bool:
    """Whether ``folder`` holds a file whose name matches the regular expression
    ``pattern`` (any case)."""
    if not folder.is_dir():
        return False
    matcher = re.compile(pattern, re.IGNORECASE)
    return any(matcher.match(file.name) for file in folder.iterdir())


def ctc_result_folder(path: Path) -> bool:
    """Whether ``path`` is a Cell Tracking Challenge result folder: ``maskTTT.tif`` files or
    ``res_track.txt``."""
    return (path / "res_track.txt").is_file() or _has_files(path, r"^mask[0-9]+\.tiff?$")


def ctc_truth_part(path: Path) -> bool:
    """Whether ``path`` is the ``SEG`` or ``TRA`` folder of a Cell Tracking Challenge ground
    truth (``man_segTTT.tif``, ``man_track.txt``), not the ``NN_GT`` folder holding it."""
    if path.name.upper() not in ("SEG", "TRA"):
        return False
    return (path / "man_track.txt").is_file() or _has_files(
        path, r"^man_(seg|track)_?[0-9_]+\.tiff?$"
    )


def ctc_truth_folder(path: Path) -> bool:
    """Whether ``path`` is a Cell Tracking Challenge ground-truth folder ``NN_GT`` (``SEG/``
    or ``TRA/`` in it) or its ``SEG`` or ``TRA`` folder."""
    return ctc_truth_part(path) or any(ctc_truth_part(path / part) for part in ("SEG", "TRA"))


def ctc_folders_misgiven(pred, gt) -> str:
    """Why the folders given to ``tessella evaluate PRED GT --ctc`` (:func:`evaluate_ctc`'s
    ``result_dir`` and ``gt_dir``) are not a CTC result and its ground truth ``NN_GT``, when
    it can be told ("" otherwise): PRED and GT swapped (a ground truth first), or GT the
    ``SEG`` (``TRA``) folder inside ``NN_GT`` rather than ``NN_GT``."""
    pred_path, gt_path = Path(pred), Path(gt)
    if ctc_truth_folder(pred_path) and not ctc_truth_folder(gt_path):
        truth = pred_path.parent if ctc_truth_part(pred_path) else pred_path
        return (
            f"PRED and GT look swapped: {pred} is a CTC ground truth (SEG/, TRA/)"
            + (
                f" and {gt} a result (maskTTT.tif, res_track.txt)"
                if ctc_result_folder(gt_path)
                else ""
            )
            + f"; give the result first: tessella evaluate {gt} {truth} --ctc"
        )
    if ctc_truth_part(gt_path):
        return (
            f"{gt}: is the {gt_path.name} folder of a CTC ground truth; give its parent "
            f"{gt_path.parent} (the NN_GT folder, with SEG/ and TRA/): tessella evaluate "
            f"{pred} {gt_path.parent} --ctc"
        )
    return ""


def _truths_near(folder: Path) -> list[Path]:
    """The CTC ground-truth folders ``NN_GT`` that ``folder`` (not one) may have been given
    for: those in it (a dataset folder holding ``01``, ``01_GT``, ...) and the one beside it
    of its number (``01_GT`` beside the image folder ``01`` or the result ``01_RES``)."""
    found = []
    if folder.is_dir():
        found = sorted(
            child
            for child in folder.iterdir()
            if child.is_dir() and not ctc_truth_part(child) and ctc_truth_folder(child)
        )
    number = re.match(r"[0-9]+", folder.name)
    if number:
        beside = folder.parent / f"{number.group()}_GT"
        if beside != folder and ctc_truth_folder(beside) and not ctc_truth_part(beside):
            found.append(beside)
    return found


def _check_ctc_ground_truth(gt_dir: Path, result_dir: Path | None = None) -> None:
    """ValueError naming ``gt_dir`` unless it is a CTC ground-truth folder (``NN_GT``): SEG
    masks in ``SEG/`` and/or tracks in ``TRA/man_track.txt`` (a ground truth of tracks alone
    scores the links). A wrong folder would otherwise score "no annotated frame" and exit 0.
    The error says what to give instead: the folders swapped, or GT the ``SEG`` folder in
    ``NN_GT`` (:func:`ctc_folders_misgiven`, against ``result_dir``); else what ``gt_dir``
    holds (a result folder, images) and the ``NN_GT`` folders in it or beside it."""
    if gt_dir.is_dir():
        has_seg = bool(_numbered_files(gt_dir / "SEG", "man_seg"))
        tra = gt_dir / "TRA"
        if tra.exists() and not (tra / "man_track.txt").is_file():
            raise ValueError(f"{tra}: no man_track.txt (the tracks of the TRA markers)")
        if has_seg or tra.exists():
            return
    misgiven = ctc_folders_misgiven(result_dir, gt_dir) if result_dir is not None else ""
    if misgiven:
        raise ValueError(misgiven)
    if not gt_dir.is_dir():
        raise ValueError(f"{gt_dir}: no such folder (the CTC ground truth, NN_GT)")
    found = _truths_near(gt_dir)
    if ctc_result_folder(gt_dir):
        what = "a CTC result folder (maskTTT.tif, res_track.txt), not its ground truth"
    elif _has_files(gt_dir, r".*\.(tiff?|zarr)$"):
        what = "images, not a CTC ground truth (the image folder NN?)"
    elif any(folder.parent == gt_dir for folder in found):
        what = "a folder holding CTC ground truths, not one"
    else:
        what = "not a CTC ground truth"
    message = (
        f"{gt_dir}: neither SEG/man_segTTT.tif nor TRA/man_track.txt: {what}; give the "
        "ground-truth folder NN_GT (with SEG/ and/or TRA/)"
    )
    if found:
        res = result_dir if result_dir is not None else "RES"
        others = f" (or {', '.join(map(str, found[1:4]))})" if len(found) > 1 else ""
        message += f": tessella evaluate {res} {found[0]} --ctc{others}"
    raise ValueError(message)


def _frame_row(t: int, path: Path, truth: np.ndarray, result: np.ndarray) -> dict:
    """The SEG of frame ``t`` (its ground truth ``path``): ``{"name", "frame", "n_true",
    "n_pred", "seg"}``, ``seg`` None where the frame holds no ground-truth cell."""
    from ..metrics import seg_scores

    scored = seg_scores([(truth, result)])
    return {
        "name": path.name,
        "frame": t,
        "n_true": scored["n_objects"],
        "n_pred": int(np.count_nonzero(np.unique(result))),
        "seg": None if np.isnan(scored["seg"]) else scored["seg"],
    }


def _refuse_cut_short(
    result_dir: Path,
    gt_dir: Path,
    first: int,
    count: int,
    seg_files: dict[int, Path],
    track_files: dict[int, Path],
    gt_tracks: list[Track],
) -> None:
    """ValueError where the ground truth ``gt_dir`` annotates frames before ``first`` or at
    or past ``count``, the frames of the result ``result_dir`` (``first:count``): its SEG or
    TRA files, or the tracks of ``man_track.txt``. It names the first such frame, how many
    there are, and ``--frames``."""
    where: dict[int, str] = {}
    for track in gt_tracks:
        for t in range(track.start, track.end + 1):
            if t < first or t >= count:
                where[t] = "a track of TRA/man_track.txt"
    for t, path in track_files.items():
        if t < first or t >= count:
            where[t] = f"TRA/{path.name}"
    for t, path in seg_files.items():
        if t < first or t >= count:
            where[t] = f"SEG/{path.name}"
    if not where:
        return
    shown = min(where)
    more = len(where)
    side = "past them" if first == 0 else "outside them"
    raise ValueError(
        f"{result_dir} has frames {first}:{count}, but {gt_dir} annotates {more} frame"
        f"{'s' if more > 1 else ''} {side} (the first, frame {shown}: {where[shown]}); a "
        f"result cut short would score as whole: give --frames {first}:{count} to score the "
        "frames it has"
    )


def evaluate_ctc(result_dir, gt_dir, frames: range | None = None) -> dict:
    """Score a CTC result folder (``maskTTT.tif`` + ``res_track.txt``) against a CTC ground
    truth folder (``NN_GT`` with ``SEG/`` and ``TRA/``).

    Returns SEG over the SEG-annotated frames (pooled over their cells), the link accuracy of
    :func:`link_accuracy` against TRA, and the frames and cells counted. The result's masks
    are numbered as its input's frames (``mask052.tif`` ... for a part of a sequence, as
    ``tessella segment --ctc`` writes frames ``t052.tif`` ...): its frames are ``first:count``,
    from its first mask to its last, and each is scored against the ground truth's frame of
    that number. ``frames`` limits both to those frames (a link counts when it ends in one of
    them and starts in the result). Without ``frames``, a result with fewer frames than the
    ground truth annotates (SEG or TRA files, or tracks of ``man_track.txt``, before its
    first mask or past its last) is refused (ValueError naming the first such frame): a
    result cut short would score as whole; ``frames=range(first, count)`` scores its
    frames. A result without ``res_track.txt`` has SEG scored but not the links (its
    mask IDs are not known to be tracks, nor its divisions): warned, and
    ``"links_not_scored"`` says why. ``"images"`` holds the SEG of each SEG frame scored
    (``{"name", "frame", "n_true", "n_pred", "seg"}``).
    """
    result_dir, gt_dir = Path(result_dir), Path(gt_dir)
    _check_ctc_ground_truth(gt_dir, result_dir)
    unused: list[str] = []
    masks = _numbered_files(result_dir, "mask", unused, keep="res_track.txt")
    if not masks:
        raise ValueError(f"{result_dir}: no maskTTT.tif files (a CTC result folder)")
    _left_out_note(result_dir.parent, unused, "maskTTT.tif")
    unused = []
    seg_files = _numbered_files(gt_dir / "SEG", "man_seg", unused)
    _left_out_note(gt_dir, unused, "man_segTTT.tif")
    unused = []
    track_files = _numbered_files(gt_dir / "TRA", "man_track", unused, keep="man_track.txt")
    _left_out_note(gt_dir, unused, "man_trackTTT.tif")
    # numbered as its input (CTC): a result of frames 52-64 holds mask052.tif ... mask064.tif
    first, count = min(masks), max(masks) + 1
    tra_dir = gt_dir / "TRA"
    gt_tracks = (
        read_ctc_tracks(tra_dir / "man_track.txt") if (tra_dir / "man_track.txt").is_file() else []
    )
    track_file = result_dir / "res_track.txt"
    res_tracks = read_ctc_tracks(track_file) if track_file.is_file() else None
    absent = [t for t in range(first, count) if t not in masks]
    if frames is not None and (not len(frames) or frames[0] < first or frames[-1] >= count):
        raise ValueError(
            f"frames {frames.start}:{frames.stop}: {result_dir} has frames {first}:{count} "
            "(A:B, B excluded, A < B)"
        )
    # a mask missing from the frames scored: refused where it was lost (inside a track of
    # the result), or where its input had no such frame (write_ctc writes no mask for it)
    # but the ground truth annotates it: scored, shifted masks or none would count as wrong
    for t in absent:
        if frames is not None and t not in frames:
            continue
        if not _input_gap(t, res_tracks):
            raise ValueError(_masks_missing(result_dir, masks, res_tracks, t))
        annotated = _gt_at(t, seg_files, track_files, gt_tracks)
        if annotated:
            around = [r for r in _mask_runs(sorted(masks)) if r[-1] == t - 1 or r[0] == t + 1]
            hint = " or ".join(f"--frames {r[0]}:{r[-1] + 1}" for r in around)
            raise ValueError(
                f"{_masks_missing(result_dir, masks, res_tracks, t)}, which {gt_dir} "
                f"annotates ({annotated}); give {hint} to score the frames it has"
            )
    if frames is None:
        _refuse_cut_short(result_dir, gt_dir, first, count, seg_files, track_files, gt_tracks)
    # (frames its input lacked that the ground truth does not annotate either)
    skipped = [t for t in absent if frames is None or t in frames]
    if skipped:
        warnings.warn(
            f"{result_dir}: no mask of frame {', '.join(map(str, skipped[:10]))} (its input "
            "had none), which the ground truth does not annotate either: left out",
            stacklevel=2,
        )
    frames = range(first, count) if frames is None else frames
    # tracked[i] is frame first + i (a frame without a mask: no object)
    shape = _read_labels(masks[first]).shape
    tracked = np.stack(
        [
            _read_labels(masks[t]) if t in masks else np.zeros(shape, np.uint16)
            for t in range(first, count)
        ]
    )
    lineage = {}
    if res_tracks is not None:
        lineage = {k.id: k.parent for k in res_tracks if k.parent}
    from ..metrics import seg_scores

    pairs, places = [], []
    for t, path in sorted(seg_files.items()):
        if t in frames and t in masks:
            pairs.append((_read_labels(path), tracked[t - first]))
            places.append((t, path))
    scores = {"seg_frames": len(pairs), **seg_scores(pairs)} if pairs else {"seg_frames": 0}
    if pairs:  # each SEG frame's score, as `tessella evaluate --json` gives each image's
        scores["images"] = [
            _frame_row(t, path, truth, result) for (t, path), (truth, result) in zip(places, pairs)
        ]
    if (tra_dir / "man_track.txt").is_file() and not track_file.is_file():
        why = (
            f"{result_dir} has no res_track.txt: its mask IDs are not known to be tracks, "
            "nor its divisions"
        )
        warnings.warn(f"links not scored, SEG only: {why}", stacklevel=2)
        scores["links_not_scored"] = why
    elif (tra_dir / "man_track.txt").is_file():
        # the links into the frames scored from the frame before, both in the result, as
        # the Evaluate panel scores them (frame_links: each marker image read when scored,
        # one of another shape refused naming it)
        link_frames = [t - first for t in frames if t in masks and t - 1 in masks]
        scores.update(frame_links(tracked, range(first, count), lineage, tra_dir, link_frames))
    return scores

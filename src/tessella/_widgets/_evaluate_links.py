"""Evaluate's link and division scores: a tracked prediction (a time-lapse model's result,
or a Cell Tracking Challenge result the reader reopened: its lineage and Tracks layer) against
the ``TRA`` folder of a Cell Tracking Challenge ground truth (beside the ``SEG`` folder chosen,
or that folder opened itself), scored by the engine function ``tessella evaluate RES NN_GT
--ctc`` calls (:func:`tessella.engine.tracking._evaluate.link_accuracy`), in the run's
worker; and, where no ``TRA`` folder is at hand, how to get one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from napari.layers import Labels

__all__ = ["LinkJob", "link_job", "links_said", "score_links"]


@dataclass(frozen=True)
class LinkJob:
    """What the links of a run are scored against: the ``TRA`` folder, the movie's frame
    number of each frame of the prediction, and its divisions ``{child: parent}``."""

    tra_dir: Path
    numbers: tuple[int, ...]
    lineage: dict


def _tracked(viewer, pred: Labels) -> bool:
    """Whether ``pred`` holds tracks: a Tracks layer drawn beside it and shown as linked (a
    time-lapse model's result, a CTC result reopened), or a recorded state with divisions."""
    from ._companions import tracks_layer
    from ._labels_states import lineage_on_screen
    from ._tracks_layer import UNLINKED_KEY

    tracks = tracks_layer(viewer, pred)
    if tracks is not None:
        return not tracks.metadata.get(UNLINKED_KEY)
    return lineage_on_screen(pred) is not None


def _ctc_part(truth: Labels) -> Path | None:
    """The Cell Tracking Challenge ground-truth folder (``SEG`` or ``TRA``) ``truth`` was
    opened from (a file in one: its folder), else None."""
    from tessella.engine.tracking._evaluate import ctc_truth_part

    path = truth.metadata.get("path")
    if not path:
        return None
    path = Path(path)
    folder = path.parent if path.is_file() else path
    return folder if ctc_truth_part(folder) else None


def _numbers(pred: Labels, truth: Labels, part: Path, count: int) -> tuple[int, ...]:
    """The movie's frame numbers of the ``count`` frames of ``pred``: those the reader
    recorded for it (a folder ``t052.tif ...``, Segment's result of it), else for ``truth``
    (of as many frames), else as the reader places the ground truth's frames: from the
    first frame of the movie beside it (``01`` beside ``01_GT``), else from 0."""
    from tessella.engine.evaluation._sparse import _movie_start
    from tessella.engine.tracking._evaluate import _numbered_files

    from ._frame_words import recorded_frame_numbers

    for layer in (pred, truth):
        numbers = recorded_frame_numbers(layer, count)
        if numbers:
            return tuple(numbers)
    start = _movie_start(part)
    if start is None:
        return tuple(range(count))
    prefix = "man_seg" if part.name.upper() == "SEG" else "man_track"
    files = _numbered_files(part, prefix, keep="man_track.txt")
    base = min(start, min(files)) if files else start  # (as the reader places them)
    return tuple(range(base, base + count))


def link_job(viewer, pred: Labels, truth: Labels, frame_axis: int | None) -> LinkJob | str | None:
    """How the links of ``pred`` are scored against ``truth``: a :class:`LinkJob`; or why
    they are not, with how to get them (the prediction holds tracks but no ``TRA`` folder is
    at hand); None where ``pred`` holds no tracks (2D frames over time, linked) to score."""
    from tessella.engine.tracking._evaluate import ctc_tra_folder

    from ._tracks_layer import current_lineage

    if frame_axis != 0 or pred.ndim != 3 or not _tracked(viewer, pred):
        return None
    part = _ctc_part(truth)
    tra = ctc_tra_folder(part) if part is not None else None
    if part is None or tra is None:
        where = (
            f"no TRA folder (man_track.txt, man_trackTTT.tif) beside '{truth.name}' "
            f"({part.parent / 'TRA'})"
            if part is not None
            else f"'{truth.name}' is no Cell Tracking Challenge ground truth (NN_GT/SEG, TRA)"
        )
        return (
            f"links and divisions not scored: {where}; open the movie's NN_GT/TRA folder "
            "(its man_track.txt and markers) and choose it as Ground truth, or keep "
            "NN_GT/SEG with NN_GT/TRA beside it"
        )
    count = int(pred.data.shape[0])
    return LinkJob(tra, _numbers(pred, truth, part, count), current_lineage(viewer, pred))


def score_links(job: LinkJob, tracked) -> dict:
    """The link scores of ``tracked`` (the prediction's labels) for ``job``, as ``tessella
    evaluate RES NN_GT --ctc --frames A:B`` gives them for its CTC export (``links``,
    ``reproduced``, ``division_links``, ``divisions_reproduced``, ``link_accuracy``,
    ``links_against``: the TRA folder); ``links_not_scored`` (why) where its markers do not
    fit the frames."""
    from tessella.engine.tracking._evaluate import frame_links

    try:
        scores = frame_links(tracked, job.numbers, job.lineage, job.tra_dir)
    except (ValueError, OSError) as exc:
        return {"links_not_scored": f"{job.tra_dir}: {exc}"}
    if not scores["links"]:
        scores["link_accuracy"] = None
    return {**scores, "links_against": str(job.tra_dir)}


def links_said(scores: dict) -> str:
    """The panel's line of the link scores in ``scores`` ("" where there are none), in the
    words ``tessella evaluate --ctc`` prints.

    >>> links_said({"links": 585, "reproduced": 573, "link_accuracy": 573 / 585,
    ...     "division_links": 13, "divisions_reproduced": 6, "links_against": "/d/01_GT/TRA"})
    'links reproduced: 573 of 585 (0.9795); division links: 6 of 13 (against 01_GT/TRA)'
    >>> links_said({"links_not_scored": "TRA: markers of shape (4, 4)"})
    'links not scored: TRA: markers of shape (4, 4)'
    """
    if "links_not_scored" in scores:
        return f"links not scored: {scores['links_not_scored']}"
    if "links" not in scores:
        return ""
    tra = Path(scores["links_against"])
    against = f" (against {tra.parent.name}/{tra.name})"  # (its full path: links_against)
    if not scores["links"]:
        return f"links: none in these frames{against}"
    return (
        f"links reproduced: {scores['reproduced']} of {scores['links']} "
        f"({scores['link_accuracy']:.4f}); division links: {scores['divisions_reproduced']} of "
        f"{scores['division_links']}{against}"
    )

"""Ground truth that annotates only some frames or slices of a movie: where it is scored.

The Cell Tracking Challenge's ``SEG`` ground truth annotates some frames of a movie
(``man_segTTT.tif``) and, in 3D, often single slices of a frame (``man_seg_TTT_ZZZ.tif``);
napari's Tessella reader opens such a folder as labels as long (and deep) as the movie, the
rest empty. The CTC's SEG measure scores only what was annotated, so scored whole, every
predicted object of an unannotated frame would count as a false positive.
:func:`ctc_annotated` gives the places the file names annotate, :func:`annotated_with_objects`
the frames (or slices) of a labels stack that hold an object (asked for explicitly: an empty
frame may be a real annotation of no cells), and :func:`annotated_summary` and
:func:`annotated_text` say what was scored.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

__all__ = [
    "annotated_summary",
    "annotated_text",
    "annotated_with_objects",
    "ctc_annotated",
    "ctc_annotated_files",
    "place_words",
    "places_misfit",
    "unannotated_planes_note",
]

#: the CTC's ground truth of single slices of 3D frames (slice ZZZ of frame TTT), and of
#: whole frames, as napari's Tessella reader places them
_CTC_SLICE = re.compile(r"^man_seg_?([0-9]+)_([0-9]+)\.tiff?$", re.I)
_CTC_FRAME = re.compile(r"^man_seg_?([0-9]+)\.tiff?$", re.I)


def ctc_annotated(folder) -> list[tuple[int, ...]] | None:
    """The places of a Cell Tracking Challenge ``SEG`` folder's annotations in the labels the
    reader makes of it: ``(t,)`` for a whole frame (``man_segTTT.tif``), ``(t, z)`` for a
    slice (``man_seg_TTT_ZZZ.tif``) of a frame not annotated whole, sorted; ``t`` counted from
    the first frame of the movie beside it (``01`` beside ``01_GT/SEG``), or from 0 without
    it, as the reader counts. None where ``folder`` is no folder holding such files.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "SEG"; folder.mkdir()
    >>> for name in ("man_seg002.tif", "man_seg_005_012.tif", "notes.txt"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> ctc_annotated(folder)
    [(2,), (5, 12)]
    """
    files = ctc_annotated_files(folder)
    return None if files is None else [place for place, _path in files]


def ctc_annotated_files(folder) -> list[tuple[tuple[int, ...], Path]] | None:
    """``[(place, file), ...]``: the places of :func:`ctc_annotated`, sorted, each with the
    file annotating it (a slice of a frame annotated whole is left out, as the reader leaves
    it out). None where ``folder`` is no folder holding such files."""
    if folder is None:
        return None
    folder = Path(folder)
    if not folder.is_dir():
        return None
    frames: dict[int, Path] = {}
    slices: dict[tuple[int, int], Path] = {}
    for path in folder.iterdir():
        if path.name.startswith("."):  # macOS's ._man_seg000.tif
            continue
        if (match := _CTC_SLICE.match(path.name)) is not None:
            slices[(int(match[1]), int(match[2]))] = path
        elif (match := _CTC_FRAME.match(path.name)) is not None:
            frames[int(match[1])] = path
    if not frames and not slices:
        return None
    times = sorted(set(frames) | {t for t, _z in slices})
    start = _movie_start(folder)
    base = 0 if start is None else min(start, times[0])
    placed: list[tuple[tuple[int, ...], Path]] = [((t - base,), p) for t, p in frames.items()]
    placed += [((t - base, z), path) for (t, z), path in slices.items() if t not in frames]
    return sorted(placed)


def _movie_start(folder: Path) -> int | None:
    """The first frame number of the movie the CTC ground truth ``folder`` annotates (``01``
    beside ``01_GT/SEG``), None without one (as the reader finds it)."""
    from ..io import list_images
    from ..io._read import numbered_files

    parent = folder.parent
    if not parent.name.upper().endswith("_GT") or len(parent.name) <= 3:
        return None
    try:
        numbered = numbered_files(list_images(parent.parent / parent.name[:-3]))
    except (OSError, ValueError):  # none there, or no TIFFs
        return None
    return min((number for number, _path in numbered), default=None)


def annotated_with_objects(labels, slices: bool = False) -> list[tuple[int, ...]]:
    """The frames ``(t,)`` of a labels stack (T first: TYX, TZYX) that hold an object, or with
    ``slices`` its 2D slices (``(t, z)`` of TZYX, ``(t,)`` of TYX) that do: the places a
    ground truth annotating only some of them is scored at, where nothing else says which
    (a frame annotated as holding no cells is then left out too).

    >>> stack = np.zeros((3, 2, 4, 4), np.uint8); stack[1, 1, 0, 0] = 5
    >>> annotated_with_objects(stack), annotated_with_objects(stack, slices=True)
    ([(1,)], [(1, 1)])
    """
    array = np.asarray(labels)
    if array.ndim < 3:
        raise ValueError(f"labels of shape {array.shape} have no frames (T first, then YX)")
    lead = array.ndim - 2 if slices else 1
    flat = array.reshape(*array.shape[:lead], -1)
    found = np.argwhere(flat.any(axis=-1))
    return [tuple(int(i) for i in place) for place in found]


def unannotated_planes_note(
    truth, predicted, name: str, frames: bool = False, flags: bool = True
) -> str | None:
    """A note on ground truth of more than 2 axes that holds objects in few of its planes
    (along the first axis: frames, ``frames``, else slices) while the prediction holds
    objects in more others: annotated there only? Scored whole (or frame by frame), the
    prediction's objects in the others count as false positives (AP 0 there), which
    ``--annotated-only`` leaves out (``flags``: the command line's words, else
    :func:`tessella.evaluate_paths`'); None where the planes the ground truth leaves empty
    hold predicted objects in fewer than 2, or fewer than the planes it annotates.

    >>> truth = np.zeros((6, 4, 4), np.uint8); truth[2, 1, 1] = 1
    >>> print(unannotated_planes_note(truth, truth + 1, "gt.tif", frames=True))
    ... # doctest: +NORMALIZE_WHITESPACE
    gt.tif: holds objects in 1 of its 6 frames, and the prediction in 5 of the others: annotated
    in those frames only? Each predicted object in the others counts as a false positive (AP
    and precision); --annotated-only frames scores only the frames holding a ground-truth
    object
    >>> unannotated_planes_note(truth, truth, "gt.tif") is None
    True
    """
    shape = np.shape(truth)
    if len(shape) < 3 or np.shape(predicted) != shape or not shape[0]:
        return None
    held = np.asarray(truth).reshape(shape[0], -1).any(axis=1)
    filled = np.asarray(predicted).reshape(shape[0], -1).any(axis=1)
    bare = int((filled & ~held).sum())
    if not held.any() or bare < max(2, int(held.sum())):
        return None
    word = "frames" if frames else "slices"
    given = f"--annotated-only {word}" if flags else f"annotated_only='{word}'"
    return (
        f"{name}: holds objects in {int(held.sum())} of its {shape[0]} {word}, and the "
        f"prediction in {bare} of the others: annotated in those {word} only? Each predicted "
        f"object in the others counts as a false positive (AP and precision); {given} "
        f"scores only the {word} holding a ground-truth object"
    )


def check_places(places, shape: tuple[int, ...], name: str = "ground truth") -> None:
    """ValueError naming ``name`` where an annotated place does not lie in ``shape`` or
    leaves less than a 2D image."""
    for place in places:
        if not 0 < len(place) <= len(shape) - 2 or any(
            not 0 <= i < n for i, n in zip(place, shape)
        ):
            where = ", ".join(f"{a}={i}" for a, i in zip("tz", place))
            raise ValueError(
                f"{name}: the annotated place ({where}) does not lie in its shape {shape}"
            )


def place_words(place) -> str:
    """A place in words: ``"frame 4"``, ``"slice 2 of frame 1"``.

    >>> place_words((4,)), place_words((1, 2))
    ('frame 4', 'slice 2 of frame 1')
    """
    if len(place) == 1:
        return f"frame {place[0]}"
    return f"slice {place[1]} of frame {place[0]}"


def places_misfit(
    places, image_shapes, shape: tuple[int, ...], prediction: str = "the prediction"
) -> str:
    """Why ground truth annotating ``places`` (``image_shapes``: the shape of the image at
    each, what its file holds) does not fit labels of ``shape`` (a prediction, T first), in
    words ("annotates frame 47; the prediction has 40 frames", ``prediction`` naming it), or
    "" where every place lies inside it and its image is the prediction's there (YX, or ZYX
    for a whole 3D frame).

    >>> places_misfit([(1,), (47,)], [(8, 8), (8, 8)], (40, 8, 8))
    'annotates frame 47; the prediction has 40 frames'
    >>> places_misfit([(1, 2)], [(8, 8)], (3, 5, 8, 8)), places_misfit([(1,)], [(8, 8)], (3, 8, 9))
    ('', 'annotates frame 1 with an image of shape (8, 8); the prediction has (8, 9) there')
    """
    shape = tuple(shape)
    for place, image_shape in zip(places, image_shapes):
        place, image_shape = tuple(place), tuple(image_shape)
        if len(shape) < len(place) + 2:
            what = "frames" if len(place) == 1 else "slices (T, Z, Y, X)"
            return f"annotates {place_words(place)}; {prediction}, of shape {shape}, has no {what}"
        if place[0] >= shape[0]:
            frames = f"{shape[0]} frame{'s' if shape[0] != 1 else ''}"
            return f"annotates {place_words(place)}; {prediction} has {frames}"
        if len(place) == 2 and place[1] >= shape[1]:
            return f"annotates {place_words(place)}; {prediction} has {shape[1]} slices a frame"
        if image_shape != shape[len(place) :]:
            return (
                f"annotates {place_words(place)} with an image of shape {image_shape}; "
                f"{prediction} has {shape[len(place) :]} there"
            )
    return ""


def annotated_summary(places, shape: tuple[int, ...]) -> dict:
    """What scoring only ``places`` of labels of ``shape`` (T first) scores:
    ``{"frames": whole frames, "slices": 2D slices, "in_frames": frames with either,
    "length": frames in all}``, as ``--json`` records it under ``"annotated"``.

    >>> annotated_summary([(2,), (5, 1), (5, 3)], (92, 8, 64, 64))
    {'frames': 1, 'slices': 2, 'in_frames': 2, 'length': 92}
    """
    places = [tuple(place) for place in places]
    lead = len(shape) - 2  # axes before YX
    whole = [p for p in places if len(p) < lead or lead == 1]
    return {
        "frames": len(whole),
        "slices": len(places) - len(whole),
        "in_frames": len({p[0] for p in places}),
        "length": int(shape[0]),
    }


def annotated_text(summary: dict, how: str = "") -> str:
    """The places scored, in words: ``"30 of 92 frames annotated (...); only they are
    scored"``, ``how`` (what says so) in the brackets.

    >>> annotated_text({"frames": 30, "slices": 0, "in_frames": 30, "length": 92})
    '30 of 92 frames annotated; only they are scored, the 62 others left out'
    >>> print(annotated_text({"frames": 1, "slices": 3, "in_frames": 3, "length": 4}, "SEG"))
    ... # doctest: +ELLIPSIS
    1 whole frame and 3 slices in 3 of 4 frames annotated (SEG); only they are scored ...
    >>> annotated_text({"frames": 8, "slices": 0, "in_frames": 8, "length": 8}, "SEG")
    'all 8 frames annotated (SEG); all are scored'
    """
    frames, slices, length = summary["frames"], summary["slices"], summary["length"]
    said = f" ({how})" if how else ""
    if not slices and frames == length > 1:  # (a SEG folder of every frame: SIM+'s)
        return f"all {length} frames annotated{said}; all are scored"
    if not slices:
        others = length - frames
        rest = f", the {others} others left out" if others > 1 else ""
        rest = ", the other one left out" if others == 1 else rest
        return f"{frames} of {length} frame{'s' if length > 1 else ''} annotated{said}; only " + (
            f"{'they are' if frames > 1 else 'it is'} scored{rest}"
        )
    whole = f"{frames} whole frame{'s' if frames > 1 else ''} and " if frames else ""
    return (
        f"{whole}{slices} slice{'s' if slices > 1 else ''} in {summary['in_frames']} of "
        f"{length} frames annotated{said}; only they are scored (each slice as a 2D image, "
        "against the same slice of the prediction, as the CTC's SEG scores it)"
    )

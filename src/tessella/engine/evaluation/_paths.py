"""Scoring label files or folders against their ground truth: :func:`score_paths`, what
``tessella evaluate PRED GT`` prints and writes and :func:`tessella.evaluate_paths` returns.
The files are paired (:func:`file_pairs`), read, taken as what the ground truth is
(:func:`truth_objects`, :func:`scored_images`) and scored (:func:`score_pairs`); the command
line adds only its arguments, its printout and ``--json``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ._file_axes import read_scored
from ._mistakes import prediction_note
from ._pairing import EvaluationInputError, MissingInputError, file_pairs
from ._scored_as import FRAMES_HINT_KEYWORDS, FRAMES_HINT_PATHS, scored_as_text, time_axis
from ._scores import PairTable, score_pairs, sparse_within, wanted_metrics
from ._sparse import (
    annotated_summary,
    annotated_with_objects,
    ctc_annotated,
    ctc_annotated_files,
    places_misfit,
    unannotated_planes_note,
)
from ._tiles import tiled_pair, tiled_table, tiles
from ._truth import ignore_label_clash, scored_images, truth_objects
from ._words import in_keywords, option, set_to

__all__ = ["marked_mask_stack", "score_paths"]


def marked_mask_stack(path) -> bool:
    """Whether the TIFF ``path`` is a mask stack by its own word: its ImageJ ``Info`` is
    :data:`~tessella.engine.io.MASK_STACK_INFO` (``tessella segment --stack``'s, Export's
    ``name.stack.tif``: frame n is object n, objects may overlap; ImageJ axes TYX, so read
    as a movie). Not a TIFF, or unreadable: False (read, it says why)."""
    from ..io import MASK_STACK_INFO

    path = Path(path)
    if not path.is_file() or path.suffix.lower() not in (".tif", ".tiff"):
        return False
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            info = (tif.imagej_metadata or {}).get("Info")
    except Exception:  # (read_image says what is wrong with it)
        return False
    return info == MASK_STACK_INFO


def _mask_stack_refused(path: Path, flags: bool) -> str:
    """The one line refusing to score the mask stack ``path`` as labels."""
    how = (
        "score it with --overlapping (tessella evaluate PRED GT --overlapping)"
        if flags
        else "score it with kind='overlapping' (tessella.evaluate)"
    )
    return (
        f"{path}: is a mask stack (tessella segment --stack, Export's stack: frame n is "
        "object n, objects may overlap), not label images; scored as labels, each mask "
        f"would be matched against the other side's frame of its index only; {how}"
    )


def _warn(note: str) -> None:
    """What :func:`score_paths` does with a note on an input without ``warn``: a UserWarning."""
    warnings.warn(note, UserWarning, stacklevel=2)


def _label_pairs(
    pred: str,
    gt: str,
    gt_boundaries: bool = False,
    gt_binary: bool = False,
    ignore_label: int | None = None,
    skipped: list | None = None,
    boundaries_3d: bool = False,
    sections: list | None = None,
    annotated_only: str | None = None,
    summaries: list | None = None,
    warn: Callable[[str], None] = _warn,
    piecewise: bool = False,
    movies: list | None = None,
    volumes: list | None = None,
    axes: str | None = None,
    flags: bool = True,
):
    """``(name, truth, predicted, unannotated)`` per image of each pair of files, the
    prediction cut at the unannotated pixels: what ``evaluation.truth_objects`` and
    ``evaluation.scored_images`` make of them, as the Evaluate panel's ``evaluate_labels``
    does. ``unannotated``: GT pixels of ``ignore_label`` or None. A boundary map of more than
    2 axes (unless ``boundaries_3d``) gives one pair per 2D section, ``(name, sections)``
    added to ``sections``. A ground truth or prediction that does not look like what it is taken for
    is warned about (``evaluation.ground_truth_note``): ``warn`` is given the note. Ground
    truth annotating some frames or slices only is scored there only (a Cell Tracking
    Challenge ``SEG`` folder, or ``annotated_only``), each place an image, its
    :func:`evaluation.annotated_summary` and how it is known added to ``summaries``.
    With ``piecewise`` (the metrics asked for are AP, foreground IoU, V_rand and VOI), a
    lazy 2D pair of labels (zarrs; the ground truth a binary mask or membrane map too, or
    labels with ``ignore_label``) is read a piece at a time, never whole: ``truth`` is then
    its overlap table (:class:`PairTable`), ``predicted`` None and ``unannotated`` whether any
    ground-truth pixel has ``ignore_label`` (None without one) (:func:`_pieces`).
    A labels or binary pair of more than 2 axes, one of whose files has a T axis (the
    prediction's axes first, then the ground truth's, as the Evaluate panel takes them:
    :func:`time_axis`), is a time-lapse scored frame by frame, each frame an image
    (``(name, frames, how, frame_axes)`` added to ``movies``; a frame of a ``TZYX`` pair a
    volume, its objects matched in 3D); any other pair of more than 2 axes
    scored whole is one volume (``(name, axes, known)`` added to ``volumes``). ``axes``
    (``--axes``): the axes of files that name none (:func:`read_scored`, which also takes
    a file's axes from the recipe beside it where it names none, as the panel's reader
    does). ``flags``: options named as the command line gives them (``--axes TYX``), else
    as :func:`tessella.evaluate_paths` does (``axes='TYX'``)."""
    from ..io import as_array

    gt_boundaries = gt_boundaries or boundaries_3d
    kind = (
        ("boundaries3d" if boundaries_3d else "boundaries")
        if gt_boundaries
        else "binary"
        if gt_binary
        else "labels"
    )
    seg = _ctc_seg_folder(pred, gt)
    if seg is not None and (one := _one_file_for_one_image(seg, Path(pred))) is not None:
        seg, gt = None, str(one)  # a one-file SEG folder against one 2D image: that file
    pairs = [(seg, Path(pred))] if seg is not None else file_pairs(pred, gt, skipped)
    for gt_file, pred_file in pairs:
        pred_image, pred_how = read_scored(pred_file, axes, flags)
        predicted = pred_image.data
        gt_image, gt_how = (None, "") if gt_file is seg else read_scored(gt_file, axes, flags)
        if kind in ("labels", "binary"):  # (a mask stack reads as a movie: TYX)
            for path in (pred_file, gt_file):
                if path is not seg and marked_mask_stack(path):
                    raise EvaluationInputError(_mask_stack_refused(path, flags))
        hows = (pred_how, gt_how)
        seg_placed = None  # (a SEG folder: its files at the prediction's frames by number)
        if gt_image is None:
            seg_placed = _seg_files_by_number(gt_file, pred_file, np.shape(predicted))
        truth = (
            _ctc_truth(gt_file, np.shape(predicted), pred_file, seg_placed)
            if gt_image is None
            else gt_image.data
        )
        checked = [(pred_file, predicted)] + (
            [] if gt_boundaries or gt_binary else [(gt_file, truth)]
        )
        for path, array in checked:  # maps and masks become integer objects below
            if array.dtype.kind not in "biu":
                raise EvaluationInputError(f"{path}: labels must be integers, got {array.dtype}")
        frame_axis, t_axis_how = None, ""
        if (
            kind in ("labels", "binary", "boundaries3d")
            and len(truth.shape) > (3 if kind == "boundaries3d" else 2)
            and gt_image is not None
        ):  # a time-lapse: frame by frame, as the Evaluate panel scores its layers (a 3D
            # membrane map's time points: each a volume)
            frame_axis, t_axis_how = time_axis(pred_image, gt_image, hows=hows)
        lazy = piecewise and gt_file is not seg and annotated_only not in ("frames", "slices")
        lazy_side = any(not isinstance(a, np.ndarray) for a in (truth, predicted))
        if lazy and lazy_side and frame_axis is not None:  # (each frame a piece at a time)
            frames = [
                (_FrameOf(truth, frame_axis, t), _FrameOf(predicted, frame_axis, t))
                for t in range(int(truth.shape[frame_axis]))
            ]
            lazy = bool(frames) and tiled_pair(*frames[0], kind, None, ignore_label, None, ())
            if lazy:
                if movies is not None:
                    frame_axes = _frame_axes(len(truth.shape), pred_image, gt_image)
                    movies.append((gt_file.name, len(frames), t_axis_how, frame_axes))
                said: set[str] = set()  # (a note on the files once, not once a frame)
                for t, (truth_t, predicted_t) in enumerate(frames):
                    marked: list[bool] = []
                    table, notes = _pieces(
                        truth_t, predicted_t, gt_file, pred_file, kind, ignore_label, marked
                    )
                    for note in notes:
                        if note not in said:
                            said.add(note)
                            warn(note)
                    yield f"{gt_file.name}[{t}]", table, None, marked[0] if marked else None
                continue
        if (
            lazy
            and frame_axis is None
            and tiled_pair(truth, predicted, kind, None, ignore_label, None, ())
        ):  # a lazy 2D pair or volume (large zarrs): read a piece at a time, as the Evaluate
            # panel does
            marked = []
            table, notes = _pieces(truth, predicted, gt_file, pred_file, kind, ignore_label, marked)
            for note in notes:
                warn(note)
            if len(truth.shape) > 2 and volumes is not None:
                volumes.append((gt_file.name, *_volume_axes(pred_image, gt_image, hows=hows)))
            yield gt_file.name, table, None, marked[0] if marked else None
            continue
        raw, predicted = as_array(truth, gt_file), as_array(predicted, pred_file)
        for path, array, unmarked in ((pred_file, predicted, None), (gt_file, raw, ignore_label)):
            _refuse_negative(path, array, unmarked)
        note = prediction_note(predicted, str(pred_file))
        if note:  # the raw image instead of labels?
            warn(note)
        truth, unannotated, note = truth_objects(raw, kind, ignore_label, str(gt_file))
        if note:
            warn(note)
        if truth.shape != predicted.shape:
            raise EvaluationInputError(
                f"{pred_file}: shape {predicted.shape} differs from ground truth "
                f"{gt_file} {truth.shape}"
            )
        places, how = None, ""
        if gt_file is seg and annotated_only != "off":
            places, how = ctc_annotated(seg), f"the files of {seg.name}, by their names"
            if seg_placed is not None:  # (part of a movie: its frames by their numbers)
                places = [place for place, _path in seg_placed]
                how += f", at the frames of {pred_file.name} of their numbers"
        elif annotated_only in ("frames", "slices"):
            given = set_to("annotated_only", annotated_only, flags)
            try:
                places = annotated_with_objects(truth, annotated_only == "slices")
            except ValueError as exc:
                raise EvaluationInputError(f"{gt_file}: {given}: {exc}") from None
            how = f"the {annotated_only} of the first axis holding a ground-truth object"
            if not places:
                raise EvaluationInputError(f"{gt_file}: {given}: no ground-truth object anywhere")
        elif gt_file is not seg and annotated_only != "off" and kind in ("labels", "binary"):
            # (annotating a few frames or slices only, scored whole: said, with the way out)
            axis = 0 if frame_axis is None else frame_axis
            note = unannotated_planes_note(
                np.moveaxis(truth, axis, 0),
                np.moveaxis(predicted, axis, 0),
                str(gt_file),
                frame_axis is not None,
                flags,
            )
            if note:
                warn(note)
        if places is not None:
            try:
                images = scored_images(truth, predicted, unannotated, kind, annotated=places)
            except ValueError as exc:
                raise EvaluationInputError(f"{gt_file}: {exc}") from None
            if summaries is not None:
                summaries.append((annotated_summary(places, truth.shape), how))
            # (placed by number: each image named by its file, man_seg009.tif, not by the
            # prediction's index of its frame)
            files = {tuple(place): path.name for place, path in seg_placed or []}
            for place, image in zip(places, images):
                name = f"{gt_file.name}[{','.join(map(str, place))}]"
                yield files.get(tuple(place), name), *image
            continue
        if frame_axis is not None:
            images = scored_images(truth, predicted, unannotated, kind, frame_axis)
            if movies is not None:
                frame_axes = _frame_axes(truth.ndim, pred_image, gt_image)
                movies.append((gt_file.name, len(images), t_axis_how, frame_axes))
            for t, image in enumerate(images):
                yield f"{gt_file.name}[{t}]", *image
            continue
        images = scored_images(truth, predicted, unannotated, kind)
        if not (kind == "boundaries" and truth.ndim > 2):
            if truth.ndim > 2 and volumes is not None:
                volumes.append((gt_file.name, *_volume_axes(pred_image, gt_image, hows=hows)))
            yield gt_file.name, *images[0]
            continue
        if sections is not None:  # annotated section by section: each scored as an image
            sections.append((gt_file.name, len(images)))
        for z, image in enumerate(images):
            yield f"{gt_file.name}[{z}]", *image


class _FrameOf:
    """Frame ``t`` (along ``axis``) of a lazy array (a zarr, a dask array), read only where
    indexed, as :func:`_pieces` reads a lazy 2D pair a piece at a time: a time-lapse of
    large frames scored frame by frame, never read whole.

    >>> frame = _FrameOf(np.arange(24).reshape(2, 3, 4), 0, 1)
    >>> frame.shape, frame[1:2, :2].tolist(), int(np.asarray(frame).sum())
    ((3, 4), [[16, 17]], 210)
    """

    def __init__(self, array, axis: int, t: int) -> None:
        self.array, self.axis, self.t = array, axis, t
        shape = tuple(int(n) for n in array.shape)
        self.shape = shape[:axis] + shape[axis + 1 :]
        self.ndim = len(self.shape)
        self.dtype = array.dtype
        chunks = getattr(array, "chunks", None)
        if chunks is not None and len(chunks) == len(shape):
            self.chunks = tuple(chunks[:axis]) + tuple(chunks[axis + 1 :])

    def _where(self, index) -> tuple:
        index = index if isinstance(index, tuple) else (index,)
        return tuple(index[: self.axis]) + (self.t,) + tuple(index[self.axis :])

    def __getitem__(self, index):
        return self.array[self._where(index)]

    def __array__(self, dtype=None, copy=None):
        frame = np.asarray(self.array[self._where((slice(None),) * self.ndim)])
        return frame if dtype is None else frame.astype(dtype)


def _frame_axes(ndim: int, *images) -> str:
    """The axes of a frame of a time-lapse pair of ``ndim`` axes: those of the first of
    ``images`` whose axes hold T, without it (``ZYX`` of ``TZYX``).

    >>> from types import SimpleNamespace
    >>> _frame_axes(4, None, SimpleNamespace(axes="TZYX")), _frame_axes(3, None)
    ('ZYX', 'YX')
    """
    for image in images:
        axes = getattr(image, "axes", None)
        if isinstance(axes, str) and len(axes) == ndim and "T" in axes:
            return axes.replace("T", "")
    return "ZYX"[-(ndim - 1) :] if ndim <= 4 else "?" * (ndim - 1)


def _volume_axes(*images, hows: tuple[str, ...] = ()) -> tuple[str, bool]:
    """``(axes, known)`` of a pair scored as one volume: the axes of the first of
    ``images`` (the prediction, the ground truth; None where there is none) whose file names
    them (its metadata states every axis) or that were given them (``hows``: ``--axes``,
    the recipe beside it), else the prediction's as read (a guess from its shape) and
    False."""
    read = [image for image in images if image is not None]
    for k, image in enumerate(images):
        stated = getattr(image, "stated_axes", None)
        if image is not None and ((stated and "?" not in stated) or (k < len(hows) and hows[k])):
            return image.axes, True
    return (read[0].axes if read else "?"), False


def _ctc_seg_folder(pred: str, gt: str) -> Path | None:
    """The Cell Tracking Challenge ``SEG`` folder ``gt`` is (or ``gt/SEG``, ``gt`` being
    ``NN_GT``): ``man_segTTT.tif`` (``man_seg_TTT_ZZZ.tif``) files annotating some frames
    (slices) of a movie, scored against the labels stack ``pred``; None otherwise, and for
    a folder ``pred`` (its files are paired with the folder's by name, as before)."""
    from ..io import is_zarr_path

    gt_path = Path(gt)
    seg = next(
        (f for f in (gt_path, gt_path / "SEG") if f.is_dir() and ctc_annotated(f)),
        None,
    )
    if seg is None:
        return None
    pred_path = Path(pred)
    if not pred_path.exists():
        raise MissingInputError(f"{pred_path}: no such file or folder", str(pred_path))
    if pred_path.is_dir() and not is_zarr_path(pred_path):
        return None  # file by file, paired by name (a CTC result folder: --ctc)
    return seg


def _one_file_for_one_image(seg: Path, pred: Path) -> Path | None:
    """The one file of the SEG folder ``seg`` where the prediction ``pred`` is one 2D image
    (YX, read from its header) and ``seg`` annotates one 2D frame: they are scored as a pair
    of files, as the Evaluate panel scores the layer of such a folder; else None."""
    from ..io import read_image

    placed = ctc_annotated_files(seg) or []
    if len(placed) != 1 or len(placed[0][0]) != 1 or pred.is_dir():
        return None
    try:
        if read_image(pred).axes != "YX":
            return None
    except (OSError, ValueError):
        return None  # said where the pair is read
    return placed[0][1]


def _seg_files_by_number(
    seg: Path, pred_file: Path, shape: tuple[int, ...]
) -> list[tuple[tuple[int, ...], Path]] | None:
    """``[(place, file), ...]``: the files of the SEG folder ``seg`` at the frames of the
    prediction ``pred_file`` (of ``shape``, T first) of their frame numbers, where the recipe
    kept with it records the movie's frame numbers of its frames (``frame_numbers``: Segment
    of a folder ``t008.tif ...``), as the Evaluate panel pairs them; files of frames it does
    not hold left out. None where it records none (placed as the reader places them).
    EvaluationInputError naming both where it holds none of the annotated frames."""
    from ._file_axes import _recipe_of
    from ._frame_numbers import numbers_said
    from ._sparse import _CTC_FRAME, _CTC_SLICE

    found = _recipe_of(Path(pred_file)) if len(shape) >= 3 else None
    numbers = found[0].get("frame_numbers") if found is not None else None
    if not isinstance(numbers, list) or len(numbers) != shape[0]:
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        return None
    at = {n: i for i, n in enumerate(numbers)}
    placed, annotated = [], set()
    for place, path in ctc_annotated_files(seg) or []:
        match = _CTC_SLICE.match(path.name) or _CTC_FRAME.match(path.name)
        if match is None:
            return None
        number = int(match[1])
        annotated.add(number)
        if number in at:
            placed.append(((at[number], *place[1:]), path))
    if sorted(placed) == list(ctc_annotated_files(seg) or []):
        return None  # (each file where the reader places it: nothing to say)
    if not placed:
        raise EvaluationInputError(
            f"{seg}: annotates frames {numbers_said(annotated)}; the prediction "
            f"{Path(pred_file).name} holds frames {numbers_said(numbers)} (its recipe's "
            "frame_numbers): none in common"
        )
    return sorted(placed)


def _ctc_truth(
    seg: Path, shape: tuple[int, ...], pred_file: Path, placed: list | None = None
) -> np.ndarray:
    """The CTC ground truth ``seg`` as labels of the prediction's ``shape`` (T first): each
    file at its frame (slice) as the reader places it (:func:`ctc_annotated_files`: counted
    from the movie beside it, or from 0), the rest 0. A SEG folder of one file, one without
    its movie beside it, and a prediction of another length are scored so too. EvaluationInputError
    naming ``seg`` where a place lies outside the prediction, or its file's image is not the
    prediction's there (YX; ZYX for a whole 3D frame). ``placed``: the files at the
    prediction's frames of their numbers instead (:func:`_seg_files_by_number`)."""
    from ..io import as_array, read_image

    if placed is None:
        placed = ctc_annotated_files(seg) or []
    truth: np.ndarray | None = None
    for place, path in placed:
        try:
            image = as_array(read_image(path).data, path)
        except (OSError, ValueError) as exc:
            raise EvaluationInputError(f"{path}: {exc}") from None
        misfit = places_misfit([place], [image.shape], shape, f"the prediction {pred_file.name}")
        if misfit:
            if len(shape) >= 3 and place[0] >= shape[0]:  # part of a movie, counted from 0
                gt = seg.parent.name if seg.name == "SEG" else "NN_GT"
                misfit += (
                    "; to score part of a sequence, write its CTC result (tessella segment "
                    f"FRAMES --ctc RES) and score that: tessella evaluate RES {gt} --ctc "
                    "--frames A:B (each mask against the frame of its number)"
                )
            raise EvaluationInputError(f"{seg}: {path.name} {misfit}")
        if truth is None:
            truth = np.zeros(shape, image.dtype)
        elif image.dtype != truth.dtype:
            truth = truth.astype(np.result_type(truth.dtype, image.dtype))
        truth[place] = image
    if truth is None:
        raise EvaluationInputError(f"{seg}: no man_seg file to score")
    return truth


def _pieces(
    truth,
    predicted,
    gt_file: Path,
    pred_file: Path,
    kind: str = "labels",
    ignore_label: int | None = None,
    marked: list[bool] | None = None,
) -> tuple[PairTable, tuple]:
    """The overlap table of the lazy 2D pair ``truth``, ``predicted`` (of one shape), read a
    piece at a time (:func:`tiled_table`; the ground truth's pixels of ``ignore_label`` left
    out, whether any has it appended to ``marked``), and the notes on it (the prediction's
    first), as :func:`_label_pairs` makes of the pair read whole: the same errors (a piece
    that cannot be read, a negative label other than ``ignore_label`` in the ground truth:
    :func:`_refuse_negative`'s, the prediction's first) and notes."""
    from ..io import as_array

    arrays, paths = (truth, predicted), (gt_file, pred_file)

    def read(k: int, where: tuple[slice, ...] | None) -> np.ndarray:
        piece = as_array(arrays[k], paths[k], index=where)
        if piece.dtype.kind == "i" and piece.size and _lowest(piece, k, ignore_label) < 0:
            for j, path, array in ((1, pred_file, predicted), (0, gt_file, truth)):
                _refuse_negative_pieces(path, array, ignore_label if j == 0 else None)
        return piece

    return tiled_table(
        truth,
        predicted,
        (str(gt_file), str(pred_file)),
        True,
        read,
        kind=kind,
        ignore_label=ignore_label,
        marked=marked,
    )


def _lowest(piece: np.ndarray, k: int, ignore_label: int | None) -> int:
    """The lowest label of a ``piece`` of a side (``k`` 0: the ground truth, whose pixels of
    ``ignore_label`` are not counted), 0 for none."""
    if k == 0 and ignore_label is not None:
        piece = piece[piece != ignore_label]
    return int(piece.min(initial=0))


def _refuse_negative_pieces(path, array, ignore_label: int | None = None) -> None:
    """:func:`_refuse_negative` of a lazy 2D ``array``, read a piece at a time."""
    from ..io import as_array

    if np.dtype(array.dtype).kind != "i":
        return
    lowest = min(
        (
            _lowest(as_array(array, path, index=where), 0, ignore_label)
            for where in tiles(array.shape)
        ),
        default=0,
    )
    if lowest < 0:
        raise EvaluationInputError(f"{path}: labels must not be negative (found {lowest})")


def _refuse_negative(path, array: np.ndarray, ignore_label: int | None = None) -> None:
    """EvaluationInputError naming ``path`` for a negative label (other than
    ``ignore_label``, the value of unannotated pixels, which may be negative)."""
    if array.dtype.kind != "i" or not array.size:
        return
    negative = (
        array[(array < 0) & (array != ignore_label)]
        if ignore_label is not None
        else array[array < 0]
    )
    if negative.size:
        raise EvaluationInputError(
            f"{path}: labels must not be negative (found {int(negative.min())})"
        )


def score_paths(
    pred: str,
    gt: str,
    metrics_wanted=("ap",),
    gt_boundaries: bool = False,
    gt_binary=False,
    ignore_label: int | None = None,
    skipped: list | None = None,
    boundaries_3d: bool = False,
    annotated_only: str | None = None,
    per_image: bool = False,
    warn: Callable[[str], None] | None = None,
    axes: str | None = None,
    flags: bool = True,
) -> dict:
    """Scores of the label image(s) at ``pred`` against ``gt`` (files or folders; paired by
    name without the suffix); GT pixels of ``ignore_label`` (not annotated) are left out, as
    training validates sparse labels. Predictions without ground truth are not scored; they
    are added to ``skipped``. Boundary maps of more than 2 axes are scored section by section
    (each 2D section an image, as ISBI 2012 scores) unless ``boundaries_3d``: then
    ``"sections"`` is ``{"files": stacks, "sections": images}``. Ground truth annotating
    some frames or slices of a movie only is scored there only, each an image: a Cell
    Tracking Challenge ``SEG`` folder (``gt``, or ``gt/SEG``; its files say where) against
    a labels stack ``pred``, unless ``annotated_only`` is ``"off"`` (then the whole stack,
    as one image), or with ``annotated_only`` ``"frames"`` (``"slices"``) the frames (2D
    slices) of a stack, first axis T, that hold a ground-truth object (a frame annotated
    as holding none is left out too); ``"annotated"`` then says how many
    (:func:`~tessella.engine.evaluation.annotated_summary`, summed over files, with
    ``"how"``). A labels (or binary) stack with a T axis (the axes its file names, or
    those read from its shape, the prediction's first, as the Evaluate panel takes them) is
    a time-lapse scored frame by frame, every frame an image (AP a mean over frames, each
    frame's objects matched in it: a track is not one object; a frame of a ``TZYX``
    time-lapse a volume, its objects matched in 3D): ``"movies"`` is then
    ``{"files": stacks, "frames": images}``; a pair of more than 2 axes scored whole (no T
    axis, a 3D membrane map) is one volume, its objects matched in 3D: ``"volumes"`` is
    ``{"files": n, "axes_not_known": m}`` (``m`` of them of axes no file names: a plain 3D
    TIFF, read as ZYX). ``axes`` (``--axes TYX``) are the axes of files that name none
    (a plain 3D TIFF: a time-lapse so scored frame by frame), refused naming the file and
    both where its metadata name others; a labels file naming none whose recipe beside it
    (``name.recipe.json``) records the axes Segment read its image with is read with those,
    as the Evaluate panel's reader does. ``"scored_as"`` then says how, in words
    (:func:`~tessella.engine.evaluation.scored_as_text`). With ``per_image`` (as ``--json``
    writes them) ``"images"`` holds each image's scores, in the order scored
    (:func:`~tessella.engine.evaluation.image_rows`: ``"name"``, the ground truth's file
    name, with ``[t]`` for a frame, slice or section; ``"n_true"``, ``"n_pred"``, and
    per metric ``"ap"``, ``"tp"``, ``"fp"``, ``"fn"`` at each IoU threshold, ``"avs"``,
    ``"seg"``, ``"foreground_iou"``, ``"vrand"`` ...).

    A ground truth or prediction that does not look like what it is taken for
    (:func:`~tessella.engine.evaluation.ground_truth_note`,
    :func:`~tessella.engine.evaluation.prediction_note`) and an ``ignore_label`` that is
    also an object ID are told in one line each to ``warn`` (a UserWarning without it).
    :class:`EvaluationInputError` (a ValueError) in one line naming the file, folder or
    option at fault: no pair to score, shapes that differ, labels that are not integers or
    negative, options that contradict each other; ``flags``: the options these errors, the
    notes and ``"scored_as"`` name are named as the command line gives them (``--axes
    TYX``, ``pass --gt-binary``), else as :func:`tessella.evaluate_paths` does (``axes='TYX'``,
    ``pass gt_binary=True``). ``"scored_as"`` also says how membrane-map stacks were scored
    (``"sections"``)."""
    told = _warn if warn is None else warn
    # (notes on inputs name the command's options: in Python's words without flags)
    say = told if flags else lambda note: told(in_keywords(note))
    if ignore_label == 0:
        raise EvaluationInputError(
            f"{set_to('ignore_label', 0, flags)}: 0 is background; mark unannotated parts "
            "with another"
        )
    pairs: list = []  # (truth, predicted), or a lazy pair's PairTable
    marked = False
    sections: list[tuple[str, int]] = []
    if annotated_only not in (None, "frames", "slices", "off"):
        raise EvaluationInputError(
            f"{set_to('annotated_only', annotated_only, flags)}: choose "
            + ("frames, slices or off" if flags else "'frames', 'slices' or 'off'")
        )
    if annotated_only in ("frames", "slices") and (gt_boundaries or boundaries_3d):
        raise EvaluationInputError(
            f"{option('annotated_only', flags)} scores labels or "
            f"{set_to('gt_binary', True, flags)}, not membrane maps"
        )
    summaries: list[tuple[dict, str]] = []
    names: list[str] = []
    movies: list[tuple[str, int, str]] = []  # time-lapses scored frame by frame
    volumes: list[tuple[str, str, bool]] = []  # nD pairs scored whole
    for _name, truth, predicted, unannotated in _label_pairs(
        pred,
        gt,
        gt_boundaries,
        gt_binary,
        ignore_label,
        skipped,
        boundaries_3d,
        sections,
        annotated_only,
        summaries,
        say,
        # (AP, F1, foreground IoU, V_rand and VOI of a lazy 2D pair: a piece at a time, never
        # read whole)
        set(wanted_metrics(metrics_wanted)) <= {"ap", "iou", "vrand"},
        movies,
        volumes,
        axes,
        flags,
    ):
        if isinstance(truth, PairTable):  # (unannotated: whether a pixel had ignore_label)
            marked |= bool(unannotated)
            clash = ignore_label_clash(int(truth.true_ids.max(initial=0)), ignore_label, _name)
            if unannotated and clash:
                say(clash)
            pairs.append(truth)
            names.append(_name)
            continue
        if unannotated is not None:  # (the prediction is cut there already)
            marked |= bool(unannotated.any())
            clash = ignore_label_clash(int(np.max(truth, initial=0)), ignore_label, _name)
            if unannotated.any() and clash:
                say(clash)
        pairs.append((truth, predicted))
        names.append(_name)
    if ignore_label is not None and not marked:
        raise EvaluationInputError(
            f"{set_to('ignore_label', ignore_label, flags)}: no ground-truth pixel has it"
        )
    scores = score_pairs(pairs, metrics_wanted, names if per_image else None)
    if sections:
        scores["sections"] = {"files": len(sections), "sections": sum(n for _, n in sections)}
    if movies:
        scores["movies"] = {"files": len(movies), "frames": sum(movie[1] for movie in movies)}
    if volumes:
        scores["volumes"] = {
            "files": len(volumes),
            "axes_not_known": sum(1 for _, _, known in volumes if not known),
        }
    if movies or volumes or sections:
        membranes = gt_boundaries or boundaries_3d  # (a 3D map: no TYX frames, no hint)
        scores["scored_as"] = scored_as_text(
            movies,
            volumes,
            "" if membranes else FRAMES_HINT_PATHS if flags else FRAMES_HINT_KEYWORDS,
            sections,
            set_to("gt_boundaries_3d", True, flags),
        )
    if summaries:
        scores["annotated"] = {
            key: sum(summary[key] for summary, _how in summaries) for key in summaries[0][0]
        }
        scores["annotated"]["how"] = summaries[0][1]
        if "ap" in wanted_metrics(metrics_wanted):
            note = _sparse_within_note(pairs, names, gt)
            if note:
                say(note)
    return scores


def _sparse_within_note(pairs: list, names: list[str], gt: str) -> str | None:
    """The note on ground truth scored at its annotated places that annotates only some
    cells of some of them (:func:`sparse_within`: many predicted objects of cell size there
    touch no ground-truth object, which covers at most half of what the prediction covers, as
    in GOWT1's SEG files): AP and precision count those objects as
    false positives; SEG scores the annotated cells only. None where no place looks so."""
    from .. import metrics

    off, sparse = 0, []
    for name, (truth, predicted) in zip(names, pairs):
        iou, true_ids, pred_ids = metrics.iou_pairs(truth, predicted)
        found = sparse_within(iou, true_ids, pred_ids, truth, predicted)
        if found.size:
            off += found.size
            sparse.append(name)
    if not sparse:
        return None
    shown = ", ".join(sparse[:4]) + (", ..." if len(sparse) > 4 else "")
    return (
        f"{gt}: looks sparse (annotating only some cells) in {len(sparse)} of the {len(pairs)} "
        f"images scored ({shown}): {off} predicted objects there touch no ground-truth "
        "object, and AP, precision and F1 count them as false positives; --metric seg "
        "scores the annotated cells only (the Cell Tracking Challenge's SEG; a CTC result "
        "folder: --ctc)"
    )

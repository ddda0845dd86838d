"""Evaluate's runs: scoring the chosen pair as its ground truth's kind (at once, or in a
thread worker for large pairs, which Cancel stops) and the scores, counts and AP plot it reports
(the evaluating of :class:`.evaluate.EvaluateWidget`, a mixin)."""

from __future__ import annotations

import html
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Labels
from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QEvent, Qt
from qtpy.QtWidgets import QApplication, QTableWidget, QTableWidgetItem

from tessella.engine import evaluation
from tessella.engine.progress import Progress, run_steps

from ._evaluate_kinds import TRUTH_KINDS, _layer_array
from ._evaluate_links import LinkJob, link_job, links_said, score_links
from ._layers import find_layer
from ._placement import placement_note, world_transform
from ._words import counted
from ._workers import (
    ThreadWarningsWorker,
    WorkerFailed,
    close_when_finished,
    report_runtime_errors,
    show_progress,
)

if TYPE_CHECKING:
    from tessella.engine.evaluation import Evaluation

__all__ = [
    "ERRORS_KEY",
    "ERROR_COLORS",
    "SCORE_ROWS",
    "SYNC_MAX_PIXELS",
    "VRAND_COLUMNS",
    "VRAND_KINDS",
    "VRAND_ROWS",
    "EvaluateRun",
]

#: pairs with more pixels than this are scored in a thread worker
SYNC_MAX_PIXELS = 2048 * 2048
#: error layer metadata: the prediction layer it shows the errors of
ERRORS_KEY = "tessella_errors_of"
#: error layer colours: false positives (1) red, false negatives (2) cyan, predicted objects
#: off a ground truth that looks sparse within its frames (3, not annotated) yellow, a hue
#: neither error nor a greyscale image's bright nuclei has
ERROR_COLORS = {
    evaluation.FALSE_POSITIVE: "#ff4d4d",
    evaluation.FALSE_NEGATIVE: "#00e5ff",
    evaluation.NOT_ANNOTATED: "#ffd21f",
    None: "transparent",
}
#: the counts table's column of the predicted objects not annotated (yellow in the errors
#: layer: off a ground truth that looks sparse within its frames), shown where there are any;
#: FP then counts the others (red). Named by their colour: "Not annotated" is clipped in
#: the dock's six columns (53 px each at its default width)
NOT_ANNOTATED_COLUMN = "Yellow"
SCORE_ROWS = (("ap", "AP"), ("precision", "Precision"), ("recall", "Recall"), ("f1", "F1"))
#: the V_rand / VOI table (a boundary map's scores): rows (score key, label) and columns
VRAND_ROWS = (("vrand", "V_rand"), ("voi", "VOI"))
VRAND_COLUMNS = ("score", "split", "merge")
#: the ground-truth kinds whose scores include V_rand and VOI (``--metric vrand``): a membrane
#: map's cells, as ISBI 2012 scores them
VRAND_KINDS = ("boundaries", "boundaries3d")


def _frame_axis(*layers: Labels) -> int | None:
    """The T axis of time-lapse labels, if any: the axes their file named, Segment's recipe,
    their napari ``axis_labels``, else the reader's guess (:func:`tessella._io.recorded_axes`,
    as Correct and Export take them)."""
    from tessella._io import recorded_axes

    for layer in layers:
        axes = recorded_axes(layer.ndim, layer.metadata, layer.axis_labels)
        if axes and "T" in axes:
            return axes.index("T")
    return None


#: how the panel has a time-lapse scored frame by frame, said after "scored as one volume"
#: where neither layer's axes hold T
FRAMES_HINT_PANEL = (
    "a time-lapse is scored frame by frame where a layer's axes name T (axis labels t, y, "
    "x: as the reader opens a file naming its T axis, or Segment's result of a movie)"
)


def _scored_as(
    pred: Labels, truth: Labels, shape, kind: str, frame_axis: int | None, annotated
) -> str:
    """How the panel scores the pair ``pred``, ``truth`` of ``shape`` as ``kind``, in the
    words ``tessella evaluate`` prints (:func:`tessella.engine.evaluation.scored_as_arrays`):
    frame by frame (each frame of a ``TZYX`` pair a volume), a membrane map a 2D section at
    a time, or as one volume; "" for 2D, overlapping masks and ground truth scored at its
    annotated places (said apart).

    >>> pred = Labels(np.zeros((2, 3, 4, 4), int), name="p", axis_labels=("t", "z", "y", "x"))
    >>> truth = Labels(np.zeros((2, 3, 4, 4), int), name="gt")
    >>> print(_scored_as(pred, truth, (2, 3, 4, 4), "labels", 0, None))
    ... # doctest: +NORMALIZE_WHITESPACE
    scored frame by frame: the 2 frames of 'p' against 'gt' (T axis: the axes of 'p', TZYX),
    each a volume (ZYX) whose objects are matched in 3D
    """
    from tessella._io import recorded_axes

    if annotated is not None or kind == "overlapping" or len(shape) <= 2:
        return ""
    how = ""
    if frame_axis is not None:
        for layer in (pred, truth):
            axes = recorded_axes(layer.ndim, layer.metadata, layer.axis_labels)
            if axes and "T" in axes:
                how = f"the axes of '{layer.name}', {axes}"
                break
    return evaluation.scored_as_arrays(
        tuple(shape),
        kind,
        frame_axis,
        how,
        f"'{pred.name}' against '{truth.name}'",
        # (how to score a time-lapse: where neither layer's axes are known, as the command
        # says it for a file naming none)
        "" if any(_axes_known(layer) for layer in (pred, truth)) else FRAMES_HINT_PANEL,
        "Ground truth is: boundary map, 3D",
        panel=True,
    )


def _axes_known(layer: Labels) -> bool:
    """Whether ``layer``'s axes are known, not the reader's guess from its shape: named by
    its file, Segment's recipe or its ``axis_labels``."""
    from tessella._io import recorded_axes
    from tessella._io_axes import AXES_GUESSED_KEY

    metadata = dict(layer.metadata or {})
    if metadata.get(AXES_GUESSED_KEY):
        metadata.pop("axes", None)
    return recorded_axes(layer.ndim, metadata, layer.axis_labels) is not None


def _panel_note(note: str) -> str:
    """An engine note as the panel says it: ``kind='binary'`` is the "Ground truth is"
    choice (``choose Ground truth is: binary mask to ...``), the flag of ``tessella evaluate``
    kept beside it."""
    import re

    texts = {kind: text for text, kind in TRUTH_KINDS}
    note = re.sub(r"kind='(\w+)'", lambda match: f"Ground truth is: {texts[match[1]]}", note)
    return note.replace("take it as Ground truth is", "choose Ground truth is").replace(
        "(`tessella evaluate", "(as `tessella evaluate"
    )


def _evaluate_steps(
    labels_true,
    labels_pred,
    threshold: float,
    frame_axis=None,
    ignore_label=None,
    names=("ground truth", "prediction"),
    kind: str = "labels",
    annotated=None,
    links: LinkJob | None = None,
) -> Generator[Progress, None, Evaluation]:
    """The scoring of a pair as ``kind``, in the engine's steps (a worker that is quit stops
    at the next one: after the ground truth's objects, then after each image matched;
    overlapping masks, one image: after each side's object masks, then after each group of
    ground-truth masks compared with every predicted one). Ground truth scored at its
    annotated places only is given as it is: the engine reads a lazy stack a place at a
    time (a SEG folder the reader opened lazily), each in the step that scores it; so is a
    lazy 2D pair of labels (a zarr, a multiscale layer's level 0), read a 2048² piece at a
    time (:func:`tessella.engine.evaluation.tiled_pair`). Others are read here whole.
    ``links``: a tracked prediction's links and divisions scored too, against a Cell Tracking
    Challenge ``TRA`` folder (:func:`._evaluate_links.score_links`: into ``scores``)."""
    if kind == "overlapping":
        return (
            yield from evaluation.evaluate_masks_steps(
                np.asarray(labels_true), np.asarray(labels_pred), threshold, ignore_label, names
            )
        )
    # foreground IoU: the headline score of semantic models; V_rand and VOI: of a
    # membrane map's cells (each section's in its step, as its matching)
    wanted = ("ap", "iou", "vrand") if kind in VRAND_KINDS else ("ap", "iou")
    if annotated is not None:  # SEG: the Cell Tracking Challenge's score of annotated cells
        wanted += ("seg",)
    if not evaluation.tiled_pair(
        labels_true, labels_pred, kind, frame_axis, ignore_label, annotated, wanted
    ):  # (a lazy pair of labels is read by the engine a 2048² piece at a time, not whole;
        # scored at annotated places, each side a place at a time)
        labels_pred = labels_pred if annotated is not None else np.asarray(labels_pred)
        labels_true = labels_true if annotated is not None else np.asarray(labels_true)
    tracked = labels_pred
    result = yield from evaluation.evaluate_labels_steps(
        labels_true,
        labels_pred,
        threshold,
        frame_axis,
        ignore_label,
        names,
        kind,
        wanted,
        annotated,
    )
    if links is not None:  # (the CTC's link scores, as `tessella evaluate --ctc` gives them)
        result.scores.update(score_links(links, tracked))
    return result


def _image_word(kind: str, frame_axis: int | None, annotated, ndim: int) -> str:
    """What each image of a pair scored as ``kind`` is, as the progress bar counts them.

    >>> _image_word("labels", None, [(2,), (5,)], 3), _image_word("labels", None, [(2, 1)], 4)
    ('frame', 'slice')
    >>> _image_word("boundaries", None, None, 3), _image_word("binary", 0, None, 3)
    ('section', 'frame')
    """
    if annotated is not None:
        lengths = {len(place) for place in annotated}
        return {frozenset({1}): "frame", frozenset({2}): "slice"}.get(frozenset(lengths), "image")
    if kind == "boundaries" and ndim > 2:
        return "section"
    return "image" if frame_axis is None else "frame"


def _evaluate(*args) -> Evaluation:
    """:func:`_evaluate_steps` to the end (pairs scored at once, on the GUI thread)."""
    try:
        return run_steps(_evaluate_steps(*args))
    except RuntimeError as exc:  # as the worker reports it
        raise WorkerFailed(str(exc)) from exc


def _prediction_masks(viewer, layer: Labels) -> tuple[np.ndarray, str]:
    """``(masks, source)``: the objects of the prediction ``layer`` whole, for scoring against
    overlapping ground-truth masks, as Export writes its mask stack (what ``tessella evaluate
    --overlapping`` then reads): a result's network instances (worms2d), else its objects
    with the hidden parts its "overlaps" layer shows (or the mask stack the reader opened it
    from keeps), else the layer's own objects (an
    ``(N, Y, X)`` layer is a stack already)."""
    from ._object_stack import has_read_stack, network_instances, object_stack, overlaps_layer

    labels = np.asarray(_layer_array(layer))
    if labels.ndim != 2:
        return labels, "its planes"
    if (
        network_instances(layer) is None
        and overlaps_layer(viewer, layer) is None
        and not has_read_stack(layer)
    ):
        return labels, "the labels"  # (a label image is read as the stack of its objects)
    stack = object_stack(viewer, layer, labels)
    return stack.masks, stack.source


def _shape_problem(pred: Labels, pred_shape, truth: Labels, truth_shape, kind: str) -> str:
    """Why the arrays of a pair cannot be scored as ``kind`` ("" when they can)."""
    pred_shape, truth_shape = tuple(pred_shape), tuple(truth_shape)
    names = f"prediction '{pred.name}' has shape {pred_shape} but ground truth '{truth.name}'"
    if kind == "overlapping":  # any number of objects in each: the image size counts
        if (
            len(pred_shape) == 3
            and len(truth_shape) in (2, 3)
            and truth_shape[-2:] == pred_shape[1:]
        ):
            return ""  # a stack of masks against a stack, or labels
        if len(pred_shape) == 2 and truth_shape[-2:] == pred_shape and len(truth_shape) <= 3:
            return ""
        return (
            f"{names} has shape {truth_shape}: overlapping masks are an (N, Y, X) stack of one "
            "image's objects, against (Y, X) labels or a stack of the same image size."
        )
    if pred_shape == truth_shape:
        return ""
    masks = " It is a stack of object masks? Choose Ground truth is: overlapping masks."
    if len(truth_shape) == 3 and truth_shape[1:] == pred_shape:  # (N, Y, X) against (Y, X)
        return f"{names} has shape {truth_shape}; they must be equal.{masks}"
    if len(pred_shape) == len(truth_shape) >= 3 and pred_shape[1:] == truth_shape[1:]:
        # the same images, not as many of them: say so, never "object masks" for two movies
        movie = any(_first_axis(layer) in ("t", "time") for layer in (pred, truth))
        word = "frame" if movie else "image"
        return (
            f"{names} has shape {truth_shape}: {word} counts differ, "
            f"{counted(pred_shape[0], word)} ({_indices(pred_shape[0])}) against "
            f"{truth_shape[0]} ({_indices(truth_shape[0])}) "
            f"along the first axis; score the same {word}s of both."
            + ("" if movie or len(pred_shape) != 3 else masks)
        )
    return f"{names} has shape {truth_shape}; they must be equal."


def _first_axis(layer: Labels) -> str:
    """The name of ``layer``'s first axis, lower case ("t" for a movie the reader opened)."""
    labels = getattr(layer, "axis_labels", None) or ("",)
    return str(labels[0]).lower()


def _indices(count: int) -> str:
    """``0-2`` for 3 images, ``0`` for one."""
    return f"0-{count - 1}" if count > 1 else "0"


def _paired_by_number(pred: Labels, pred_data, truth: Labels, truth_data, places, kind: str):
    """``(truth_data, places, note)``: the ground truth laid on the prediction's frames by the
    movie's frame numbers where both layers record them (the reader's ``frame_numbers``: a
    folder ``t008.tif ...``, a SEG folder, a CTC result, Segment's result of such a movie)
    and they differ (:func:`tessella.engine.evaluation.frames_by_number`: a prediction of
    frames 8-14 against the dataset's ``01_GT/SEG`` is scored against its frames 8-14, not
    0-6), with ``places`` (where it is annotated) moved there and ``note`` saying so; as
    given, with ``note`` "", otherwise. ValueError, naming both and their frame numbers,
    where they hold no frame number in common, or none of the annotated frames."""
    from tessella.engine.evaluation import frames_by_number

    from ._frame_words import recorded_frame_numbers

    pred_shape, truth_shape = tuple(pred_data.shape), tuple(truth_data.shape)
    if kind not in ("labels", "binary") or len(pred_shape) < 3 or len(truth_shape) < 3:
        return truth_data, places, ""
    pred_numbers = recorded_frame_numbers(pred, pred_shape[0])
    truth_numbers = recorded_frame_numbers(truth, truth_shape[0])
    if not pred_numbers or not truth_numbers or pred_numbers == truth_numbers:
        return truth_data, places, ""
    if truth_shape[1:] != pred_shape[1:]:
        return truth_data, places, ""  # (said by the shapes' problem, as they are)
    names = (f"the ground truth '{truth.name}'", f"the prediction '{pred.name}'")
    paired = frames_by_number(truth_data, truth_numbers, pred_numbers, places, names)
    return paired.truth, paired.places, paired.note


def _places_problem(pred: Labels, pred_shape, truth: Labels, truth_shape, places) -> str:
    """Why the SEG layer ``truth``, scored at its annotated ``places`` only, cannot be scored
    against ``pred`` ("" when it can): as ``tessella evaluate PRED SEG`` scores the folder,
    the two may differ in length, but every place must lie in the prediction and hold an
    image of its shape there.

    >>> from napari.layers import Labels
    >>> pred = Labels(np.zeros((3, 4, 4), int), name="p")
    >>> truth = Labels(np.zeros((5, 4, 4), int), name="SEG")
    >>> _places_problem(pred, (3, 4, 4), truth, (5, 4, 4), [(1,)])
    ''
    >>> _places_problem(pred, (3, 4, 4), truth, (5, 4, 4), [(4,)])
    "ground truth 'SEG' annotates frame 4; prediction 'p' has 3 frames."
    """
    from ._frame_words import recorded_frame_numbers

    shapes = [tuple(truth_shape)[len(place) :] for place in places]
    why = evaluation.places_misfit(places, shapes, tuple(pred_shape), f"prediction '{pred.name}'")
    if not why:
        return ""
    numbers = recorded_frame_numbers(truth, int(truth_shape[0])) if len(truth_shape) > 2 else ()
    if not numbers or len(pred_shape) < 3:
        return f"ground truth '{truth.name}' {why}."
    # (by the movie's frame numbers, not the index; the prediction records none: paired by
    # index, its frames taken as the ground truth's first ones)
    misfit = next((p for p in places if p[0] >= pred_shape[0]), None)
    if misfit is None or misfit[0] >= len(numbers):  # (an image of another shape: as it is)
        return f"ground truth '{truth.name}' {why}."
    why = why.replace(f"frame {misfit[0]}", f"frame {numbers[misfit[0]]}", 1)
    first = evaluation.numbers_said(numbers[: pred_shape[0]])
    return (
        f"ground truth '{truth.name}' {why}: '{pred.name}' records no frame numbers, so its "
        f"frames are taken as frames {first} of '{truth.name}'. Score a prediction of the "
        "whole movie, or open the movie's frames as a folder (t008.tif ...) and segment "
        "that: its result records their numbers, and frames are paired by them."
    )


@dataclass(frozen=True)
class _Run:
    """What an evaluation scores and where its error layer goes, fixed when it starts."""

    pred_id: str
    pred_name: str
    truth_id: str
    truth_name: str
    threshold: float
    ignore_label: int | None
    world: tuple  # the prediction's world transform (name, values), for its errors layer
    started: float
    notes: tuple[str, ...] = ()  # the widget's own warnings, after those of the scores
    kind: str = "labels"  # what the ground truth is (a key of GROUND_TRUTH_KINDS)
    units: tuple = ()  # the prediction's, for its errors layer
    axis_labels: tuple = ()
    masks_from: str = ""  # overlapping: where the prediction's whole objects came from
    versions: tuple[int, int] = (0, 0)  # the data versions of the prediction and truth
    annotated_how: str = ""  # scored where annotated only: what says where
    image_word: str = "image"  # what each image scored is: "frame", "slice", "section"
    links_note: str = ""  # a tracked prediction's links not scored: why, and how to
    scored_as: str = ""  # how a pair of more than 2 axes is scored (frame by frame ...)
    paired: str = ""  # frames paired by the movie's numbers: which (frames_by_number's note)


def _images_scored(scores: dict, kind: str) -> str:
    """What AP and avS average over, when not every image (frame, section) of the pair, as
    ``tessella evaluate`` says it: an image with no object in either layer has nothing to score
    and is left out of the means; with none anywhere every score is 1.0 by that convention
    (StarDist's matching gives 0.0), which the panel must not let pass for a perfect score.

    >>> print(_images_scored({"n_images": 1, "ap_images": 0}, "labels"))  # doctest: +ELLIPSIS
    <BLANKLINE>
    No object in either layer: nothing to score (AP, precision, recall, F1 and avS read 1.0 ...).
    >>> print(_images_scored({"n_images": 5, "ap_images": 3}, "boundaries"))  # doctest: +ELLIPSIS
    <BLANKLINE>
    AP, precision, recall, F1 and avS: means over the 3 of 5 sections with an object in ...
    """
    scored, n_images = scores.get("ap_images"), scores.get("n_images")
    if scored is None or n_images is None or scored >= n_images:
        return ""
    if not scored:
        return (
            "\nNo object in either layer: nothing to score (AP, precision, recall, F1 and avS "
            "read 1.0 by convention, as `tessella evaluate` prints them)."
        )
    images = "sections" if kind == "boundaries" else "frames"
    return (
        f"\nAP, precision, recall, F1 and avS: means over the {scored} of {n_images} {images} "
        "with an object in either layer (the others have nothing to score)."
    )


def _seg_said(scores: dict, n_true: int) -> str:
    """The SEG line above foreground IoU ("" without SEG: ground truth scored everywhere).

    >>> print(_seg_said({"seg": 0.9089}, 30), end="")
    SEG: 0.909 (Cell Tracking Challenge, over the 30 annotated cells)
    """
    if "seg" not in scores:
        return ""
    value = "— (no annotated cell)" if scores["seg"] is None else f"{scores['seg']:.3f}"
    cells = counted(n_true, "annotated cell")
    return f"SEG: {value} (Cell Tracking Challenge, over the {cells})\n"


def _sparse_said(result: Evaluation, image_word: str) -> tuple[str, str]:
    """What the status says of ground truth that looks sparse within its frames (slices),
    short, and in full (the status line's and the counts caption's tooltip): its predicted
    objects that touch no ground-truth object, not annotated (yellow in the errors layer),
    but false positives to AP and precision; "" where none looks so. The places are named by
    their index, ``t=1, z=2`` where a frame's slice. (The whole paragraph in the status made
    it 13 lines in the dock, its bottom third.)

    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(not_annotated=76, sparse_places=((1,), (2,), (5,)), fp=79)
    >>> short, full = _sparse_said(r, "frame")
    >>> print(short)  # doctest: +NORMALIZE_WHITESPACE
    <BLANKLINE>
    Yellow: 76 objects not annotated in 3 sparse frames (1, 2, 5); FP 3 without them,
    79 to AP and F1 (hover for more)
    >>> print(full)  # doctest: +NORMALIZE_WHITESPACE
    The ground truth looks sparse (annotating only some cells) in 3 frames (1, 2, 5): 76
    predicted objects of cell size there touch no ground-truth object, taken as cells it
    does not annotate: yellow (not annotated) in the errors layer, not red, and counted
    apart in the table's Yellow column (FP 3 without them). AP, precision and F1 count them
    as false positives all the same (79 FP), as tessella evaluate does: read SEG, which
    scores the annotated cells only.
    """
    if not getattr(result, "not_annotated", 0):
        return "", ""
    places = result.sparse_places
    count = counted(len(places), image_word)
    named = ", ".join(
        ",".join(f"{axis}={i}" for axis, i in zip("tz", place)) if len(place) > 1 else str(place[0])
        for place in places[:5]
    )
    named += ", …" if len(places) > 5 else ""
    red = result.fp - result.not_annotated
    short = (
        f"\n{NOT_ANNOTATED_COLUMN}: {result.not_annotated} objects not annotated in "
        f"{len(places)} sparse {image_word}{'s' if len(places) != 1 else ''} ({named}); FP "
        f"{red} without them, {result.fp} to AP and F1 (hover for more)"
    )
    full = (
        f"The ground truth looks sparse (annotating only some cells) in {count} ({named}): "
        f"{result.not_annotated} predicted objects of cell size there touch no ground-truth "
        "object, taken as cells it does not annotate: yellow (not annotated) in the errors "
        f"layer, not red, and counted apart in the table's {NOT_ANNOTATED_COLUMN} column (FP "
        f"{red} without them). AP, precision and F1 count them "
        f"as false positives all the same ({result.fp} FP), as tessella evaluate does: read "
        "SEG, which scores the annotated cells only."
    )
    return short, full


#: a prediction read for :func:`_one_object_value` up to this many pixels (larger lazy
#: ones: only where it is one image, whose object count says it)
ONE_OBJECT_PIXELS = 2**28


def _one_object_value(result: Evaluation, data) -> int | None:
    """The value of the only object of a prediction ``data`` that ``result`` scored (one ID
    besides 0: a 0/1 map), where it holds one; None otherwise. Read only where its count of
    objects may be one ID's: at most one per image scored."""
    images = result.scores.get("n_images") or 1
    if not 0 < result.n_pred <= images:
        return None
    if images > 1 and (not isinstance(data, np.ndarray) or data.size > ONE_OBJECT_PIXELS):
        return None
    array = np.asarray(data) if isinstance(data, np.ndarray) or images == 1 else None
    if array is None or not array.size or not np.issubdtype(array.dtype, np.integer):
        return None
    top = int(array.max())
    if top <= 0 or np.count_nonzero((array != 0) & (array != top)):
        return None
    return top


def _swapped_note(result: Evaluation, run: _Run, data) -> str:
    """The note where the prediction ``data`` holds one object (only 0 and one value, as a
    membrane or foreground map does) while the ground truth holds many: the layers look
    swapped (user test s33/t11 #8: a 0/1 membrane map chosen as the prediction scored
    "avS 0.000" without a word). "" otherwise.

    >>> from types import SimpleNamespace
    >>> pred = np.zeros((8, 8), np.uint8); pred[::4] = 1
    >>> result = SimpleNamespace(n_pred=1, n_true=36, scores={"n_images": 1})
    >>> run = SimpleNamespace(pred_name="membranes gt", truth_name="labels", kind="labels")
    >>> print(_swapped_note(result, run, pred))  # doctest: +NORMALIZE_WHITESPACE
    the prediction 'membranes gt' holds one object (0/1) while the ground truth 'labels'
    holds 36: are Prediction and Ground truth swapped? (A membrane map belongs in Ground
    truth, with Ground truth is: boundary map.)
    """
    if result.n_true < 3 or run.kind == "overlapping":
        return ""
    value = _one_object_value(result, data)
    if value is None:
        return ""
    return (
        f"the prediction '{run.pred_name}' holds one object (0/{value}) while the ground "
        f"truth '{run.truth_name}' holds {result.n_true}: are Prediction and Ground truth "
        "swapped? (A membrane map belongs in Ground truth, with Ground truth is: boundary map.)"
    )


def _tooltip(text: str) -> str:
    """``text`` as a tooltip that wraps (rich text; a plain one is one line as wide as the
    screen)."""
    escaped = html.escape(text, quote=False).replace("\n", "<br>")
    return f"<p>{escaped}</p>" if text else ""


def _set_cell(table: QTableWidget, row: int, column: int, text: str) -> None:
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
    table.setItem(row, column, item)


class EvaluateRun:
    """Mixin for :class:`.evaluate.EvaluateWidget`: an evaluation of the chosen pair, its
    report (tables, plot, status line, warnings) (uses the widget's ``viewer``, controls,
    tables, ``plot``, ``evaluation_finished``, the errors layer of
    :class:`._evaluate_errors.EvaluateErrors` and the run state its ``__init__`` sets:
    ``worker``, ``_run``, ``_scored``, ...)."""

    # --- evaluating -------------------------------------------------------------------------

    def _set_status(self, text: str, details: str | None = "") -> None:
        """Say ``text`` in the status line, the panel laid out for it at once: the footer as
        tall as its lines wrapped at its width, inside the panel. (Qt lays out at the next turn
        of the event loop: until then a status of more lines than the one before was drawn in
        the old footer's place, its last line cut off at the bottom of the dock, as a
        screenshot taken on ``evaluation_finished`` showed. Twice: the footer's new minimum,
        set on its layout request, asks the panel for another.)"""
        self.status_label.setText(text)
        if details is not None:  # (None: the tooltip said of the same evaluation kept)
            self.status_label.setToolTip(_tooltip(details))
        for _ in range(2):
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)

    def _on_evaluate_clicked(self) -> None:
        pred, truth = self.prediction_layer, self.truth_layer
        if pred is None or truth is None:
            show_info("Evaluate: add two labels layers, a prediction and its ground truth.")
            return
        if self._run is not None:  # the button is disabled meanwhile; this guards calls
            show_info("Evaluate: an evaluation is in progress.")
            return
        if pred is truth:
            message = (
                f"'{pred.name}' is both the prediction and the ground truth; choose two layers."
            )
            show_error(f"Evaluate: {message}")
            self._set_status(f"Not evaluated: {message}")
            return
        pred_data, truth_data = _layer_array(pred), _layer_array(truth)
        ignore_label = self.ignore_spin.value() or None
        if ignore_label is not None and isinstance(truth_data, np.ndarray):
            # (not of a lazy one: its maximum would read it whole, here on the GUI thread)
            from tessella.engine.evaluation import ignore_label_clash

            clash = ignore_label_clash(int(np.max(truth_data)), ignore_label, f"'{truth.name}'")
            if clash:
                show_warning(f"Evaluate: {clash}")
        kind = self.truth_kind
        annotated, how = None, ""
        if self.annotated_checkbox.isChecked():
            try:
                annotated, how = self._annotated_places(truth, truth_data, kind)
            except ValueError as exc:
                message = f"Score annotated frames only: {exc}"
                show_error(f"Evaluate: {message}")
                self._set_status(f"Not evaluated: {message}")
                return
        if annotated is not None:  # (one SEG file: placed in the prediction's shape)
            try:
                truth_data, annotated = self._truth_in_place(
                    truth, truth_data, annotated, pred, pred_data.shape
                )
            except ValueError as exc:
                show_error(f"Evaluate: {exc}")
                self._set_status(f"Not evaluated: {exc}.")
                return
        try:  # (frames recorded by number on both sides: paired by number, not index)
            truth_data, annotated, paired = _paired_by_number(
                pred, pred_data, truth, truth_data, annotated, kind
            )
        except ValueError as exc:
            show_error(f"Evaluate: {exc}")
            self._set_status(f"Not evaluated: {exc}.")
            return
        message = (
            _places_problem(pred, pred_data.shape, truth, truth_data.shape, annotated)
            if annotated is not None and self._annotated_by_files(truth)
            else _shape_problem(pred, pred_data.shape, truth, truth_data.shape, kind)
        )
        if message:
            show_error(f"Evaluate: {message}")
            self._set_status(f"Not evaluated: {message}")
            return
        timed = kind in ("labels", "binary") or (kind == "boundaries3d" and pred.ndim > 3)
        frame_axis = _frame_axis(pred, truth) if timed else None  # (a TZYX membrane map too)
        links = link_job(self.viewer, pred, truth, frame_axis) if frame_axis is not None else None
        masks_from = ""
        if kind == "overlapping":  # the prediction's objects whole, as Export's mask stack
            pred_data, masks_from = _prediction_masks(self.viewer, pred)
        self._run = _Run(
            pred.unique_id,
            pred.name,
            truth.unique_id,
            truth.name,
            round(self.threshold_spin.value(), 2),
            self.ignore_spin.value() or None,
            tuple(world_transform(pred).items()),
            time.perf_counter(),
            tuple(note for note in [placement_note(pred, truth)] if note),
            kind,
            tuple(pred.units),
            tuple(pred.axis_labels),
            masks_from,
            self._watch_data(pred, truth),
            how,
            _image_word(kind, frame_axis, annotated, len(truth_data.shape)),
            links if isinstance(links, str) else "",
            _scored_as(pred, truth, truth_data.shape, kind, frame_axis, annotated),
            paired,
        )
        links = links if isinstance(links, LinkJob) else None
        self._set_running(True)
        names = (f"ground truth '{truth.name}'", f"prediction '{pred.name}'")
        args = (truth_data, pred_data, self._run.threshold, frame_axis, self._run.ignore_label)
        if np.prod(pred_data.shape) <= SYNC_MAX_PIXELS:
            try:
                result = _evaluate(*args, names, kind, annotated, links)
            except (ValueError, TypeError, MemoryError, WorkerFailed) as exc:
                self._on_errored(exc)
            else:
                self._on_returned(result)
            self._on_finished()
            return
        self._set_status(f"Evaluating '{pred.name}' against '{truth.name}'…")
        worker = create_worker(
            report_runtime_errors(_evaluate_steps),
            *args,
            names,
            kind,
            annotated,
            links,
            _worker_class=ThreadWarningsWorker,  # warned: this run's warnings only
            _ignore_errors=True,
            _start_thread=False,
        )
        close_when_finished(worker)  # (a cancelled scoring's arrays are let go at once)
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        worker.aborted.connect(self._on_aborted)
        worker.warned.connect(lambda args: show_warning(f"Evaluate: {args[0]}"))
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self._several_images = self._scoring_parts = False
        self.progress_bar.setRange(0, 0)  # busy until the count of images (or masks) arrives
        self.progress_bar.setFormat("")
        self.progress_bar.setVisible(True)
        self.cancel_button.setEnabled(True)
        worker.start()

    def _on_progress(self, progress: Progress) -> None:
        """A step of the scoring in a worker: the bar counts the images scored, "frame 12 of
        30" (frames of a movie, the annotated frames or slices of sparse ground truth, the
        sections of a membrane map; from 0 as the scoring starts), or the ground-truth objects
        of overlapping masks compared with the prediction's; one image: the parts of its
        pixels read (more than 2048 x 2048 of them: "part 3 of 15 of the image"), then 1 of 1.
        A pair of several images counts them only (its images' parts are not shown)."""
        if self._run is None:
            return
        if progress.stage == "pixels":
            if not self._several_images and self._run.kind != "overlapping":
                self._scoring_parts = True
                text = f"scoring: part %v of %m of the {self._run.image_word}"
                show_progress(self.progress_bar, progress.done, progress.total, text)
        elif progress.stage == "match":
            if self._run.kind == "overlapping":
                text = "matched: %v / %m ground-truth objects"
            elif progress.total > 1:
                self._several_images = True
                text = f"scored: {self._run.image_word} %v of %m"
            else:
                text = "matched: %v / %m images"
            show_progress(self.progress_bar, progress.done, progress.total, text)

    def _on_cancel_clicked(self) -> None:
        """Stop the scoring in its worker at its next step (after the image, frame or
        section being scored, or the group of overlapping masks; one large image: at its next
        part of pixels, within a second or so); nothing of it is shown."""
        if self.worker is None or self._run is None:
            return
        self.worker.quit()
        self.cancel_button.setEnabled(False)
        if self._run.kind == "overlapping":
            self._set_status("Cancelling after the masks being matched…")
        elif self._scoring_parts and not self._several_images:
            self._set_status(f"Cancelling at the next part of the {self._run.image_word}…")
        else:
            self._set_status(f"Cancelling after the {self._run.image_word} being scored…")

    def _on_aborted(self) -> None:
        run = self._run
        if run is None or run is getattr(self, "_closed_run", None):
            return  # (the panel was closed: it said so)
        text = f"Cancelled: '{run.pred_name}' against '{run.truth_name}' was not scored"
        if self.last_evaluation is not None:
            text += f"; the tables are those of '{self._scored.pred_name}' before it"
        self._set_status(text + ".")

    def _set_running(self, running: bool) -> None:
        controls = (
            self.pred_combo,
            self.truth_combo,
            self.kind_combo,
            self.threshold_spin,
            self.ignore_spin,
            self.annotated_checkbox,
        )
        for control in controls:
            control.setEnabled(not running)
        self.evaluate_button.setEnabled(not running)
        if not running:
            self.cancel_button.setEnabled(False)
            self.progress_bar.setVisible(False)

    def _on_returned(self, result: Evaluation) -> None:
        run = self._run
        seconds = time.perf_counter() - run.started  # scoring only, not drawing
        self._scored = run
        self.last_evaluation = result
        self.last_scores = result.scores
        scores = result.scores
        for row, (key, _label) in enumerate(SCORE_ROWS):
            for column, value in enumerate(scores[key].values()):
                _set_cell(self.scores_table, row, column, f"{value:.3f}")
        _set_cell(self.scores_table, len(SCORE_ROWS), 0, f"{scores['avs']:.3f}")
        iou = scores.get("foreground_iou")
        linked = links_said(scores) or run.links_note
        self.iou_label.setText(
            _seg_said(scores, result.n_true)
            + (f"{linked[0].upper()}{linked[1:]}\n" if linked else "")
            + (
                "Foreground IoU: — (objects overlap: AP only, as --overlapping)"
                if iou is None
                else f"Foreground IoU: {iou:.3f}"
            )
        )
        self._show_vrand(scores)
        # the yellow (not annotated) objects apart from the red FP, where there are any
        apart = int(getattr(result, "not_annotated", 0))
        counts = [result.n_pred, result.n_true, result.tp, result.fp - apart, result.fn]
        self._show_not_annotated_column(bool(apart))
        for column, count in enumerate([*counts, apart] if apart else counts):
            _set_cell(self.counts_table, 0, column, str(count))
        self._set_counts_caption(run.threshold, bool(apart))
        self.plot.set_series("AP", ((float(key), value) for key, value in scores["ap"].items()))
        changed = self._changed_during(run)
        if changed:  # as Segment does: the scores of the layers as they were, no orphan layer
            text = f"{changed} during the run: no errors layer added"
            show_info(f"Evaluate: the scores are those of the layers when it started; {text}.")
            summary = f"Scores of '{run.pred_name}' against '{run.truth_name}' when the run "
            summary += f"started ({seconds:.2f} s): avS {scores['avs']:.3f}; {text}."
        else:
            outlined = []
            if self.errors_checkbox.isChecked():
                errors = self._place_errors()
                outlined = self._outlined_roles(errors.unique_id, run)
            summary = f"'{run.pred_name}' against '{run.truth_name}' "
            summary += f"({dict((k, t) for t, k in TRUTH_KINDS)[run.kind]}): "
            # a membrane map's cells tile the image: V_rand and VOI are its scores, as
            # `tessella evaluate --metric vrand` prints them (AP and avS in the tables below;
            # foreground IoU is the share of cell inside, not a score of the segmentation)
            membrane = scores.get("vrand") is not None
            if membrane:
                summary += f"V_rand {scores['vrand']:.3f}, VOI {scores['voi']:.3f} nats"
            if scores.get("seg") is not None:  # (ground truth of annotated frames: SEG first)
                summary += f"SEG {scores['seg']:.3f} ({counted(result.n_true, 'cell')}); "
            if not membrane:
                summary += f"avS {scores['avs']:.3f}"
            semantic = run.kind == "binary"
            if semantic and scores.get("foreground_iou") is not None:
                summary += f", foreground IoU {scores['foreground_iou']:.3f}"
            if run.masks_from:
                objects = counted(result.n_pred, "object")
                summary += f"; the prediction's {objects} whole from {run.masks_from}"
            summary += f" ({seconds:.2f} s)"
            if outlined:  # (the errors the only filled objects: napari's colours vary)
                summary += f"; errors filled, {' and '.join(outlined)} outlined"
        sparse, sparse_details = _sparse_said(result, run.image_word)
        if "annotated" in scores:  # what the scores are of
            scored = evaluation.annotated_text(scores["annotated"], run.annotated_how)
            if sparse:  # (short, the yellow objects beside it: in full in the tooltip)
                sparse_details = f"{scored}.\n\n{sparse_details}"
                every = scored.startswith("all ")  # (a SEG folder of every frame)
                scored = scored.split(" (", 1)[0].split(";", 1)[0]
                scored += ", all scored." if every else ", only they scored."
            summary += "\n" + scored
        if run.paired:  # (a prediction of some frames of the movie: which were scored)
            summary += "\n" + run.paired[0].upper() + run.paired[1:] + "."
        if run.scored_as:  # (a volume, a time-lapse, a membrane stack: said as the command)
            summary += "\n" + run.scored_as[0].upper() + run.scored_as[1:] + "."
        if linked:  # (a tracked prediction: its links and divisions, or how to score them)
            summary += "\n" + linked[0].upper() + linked[1:] + "."
        summary += _images_scored(scores, run.kind)
        summary += sparse
        notes = (*(_panel_note(note) for note in result.notes), *run.notes)
        pred_layer = find_layer(self.viewer, run.pred_id)
        swapped = "" if pred_layer is None else _swapped_note(result, run, _layer_array(pred_layer))
        if swapped:  # (the prediction a 0/1 map: a membrane map chosen as Prediction)
            notes = (swapped, *notes)
        if "vrand" in scores and scores["vrand"] is None:  # (not left to read as "—")
            notes += (
                f"nothing to score: '{run.truth_name}' has no cell (no region of 0 between "
                "membranes): V_rand and VOI are undefined. Is it a membrane map (0 = "
                "inside, 1 = membrane), and the prediction and the ground truth not swapped?",
            )
        self._set_status(summary + "".join(f"\nWarning: {note}" for note in notes), sparse_details)
        self.counts_label.setToolTip(_tooltip(sparse_details))
        for note in notes:  # inputs that score little, or not as shown, for no real reason
            show_warning(f"Evaluate: {note}")

    def _show_vrand(self, scores: dict) -> None:
        """The V_rand / VOI table of ``scores`` (with its caption), shown where they hold
        them (a boundary map), hidden otherwise; "—" where no image has a cell to score."""
        shown = "vrand" in scores
        self.vrand_label.setVisible(shown)
        self.vrand_table.setVisible(shown)
        if not shown:
            return
        for row, (key, _label) in enumerate(VRAND_ROWS):
            for column, part in enumerate(("", "_split", "_merge")):
                value = scores[key + part]
                _set_cell(self.vrand_table, row, column, "—" if value is None else f"{value:.3f}")

    def _changed_during(self, run: _Run) -> str:
        """What of ``run``'s layers left the viewer, had its data replaced (a Segment run
        into it) or was edited since it started, in words ("the prediction 'P' was removed";
        "" when none)."""
        changes = []
        for what, layer_id, name, version in (
            ("the prediction", run.pred_id, run.pred_name, run.versions[0]),
            ("the ground truth", run.truth_id, run.truth_name, run.versions[1]),
        ):
            if find_layer(self.viewer, layer_id) is None:
                changes.append((f"{what} '{name}'", "removed"))
            elif self._data_versions.get(layer_id, 0) != version:
                changes.append((f"{what} '{name}'", self._how_changed(layer_id, version)))
        if len(changes) == 2 and changes[0][1] == changes[1][1]:
            return f"{changes[0][0]} and {changes[1][0]} were {changes[0][1]}"
        return " and ".join(f"{who} was {how}" for who, how in changes)

    def _set_counts_caption(self, threshold: float, apart: bool = False) -> None:
        text = f"Objects; TP / FP / FN at IoU {threshold:g}"
        if apart:  # (the AP of the scores table is TP / (TP + FP + Yellow + FN))
            text += f"; {NOT_ANNOTATED_COLUMN}: not annotated, false positives to AP and F1"
        self.counts_label.setText(text)

    def _show_not_annotated_column(self, shown: bool) -> None:
        """The counts table's :data:`NOT_ANNOTATED_COLUMN` after FN, where ``shown``; the
        five columns otherwise."""
        table = self.counts_table
        if not shown:
            table.setColumnCount(5)
            return
        table.setColumnCount(6)
        header = QTableWidgetItem(NOT_ANNOTATED_COLUMN)
        header.setToolTip(
            "Not annotated: predicted objects of cell size touching no ground-truth object in\n"
            "frames whose ground truth looks sparse (yellow in the errors layer). Not in FP\n"
            "here; AP, precision and F1 count them as false positives, as tessella evaluate does"
        )
        table.setHorizontalHeaderItem(5, header)

    def _on_errored(self, exc: Exception) -> None:
        run = self._run
        # (the metrics' own names for their arguments, said as the layers they are here)
        said = str(exc).replace("labels_true", f"the ground truth '{run.truth_name}'")
        said = said.replace("labels_pred", f"the prediction '{run.pred_name}'")
        show_error(f"Evaluate failed on '{run.pred_name}' against '{run.truth_name}': {said}")
        self._set_status(f"Not evaluated: {said}")

    def _on_finished(self) -> None:
        self.worker = None
        self._run = None
        self._set_running(False)
        self.evaluation_finished.emit()

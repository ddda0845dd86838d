"""Scoring predicted label images against ground truth, and where the errors are.

:func:`score_pairs` gives the scores ``tessella evaluate`` reports, for label images in memory
(:func:`score_mask_pairs` for overlapping objects), of the images :func:`truth_objects` and
:func:`scored_images` make of each file pair; :func:`evaluate_labels` (:func:`evaluate_masks`)
scores one pair with the same functions for the Evaluate widget and also returns the object
counts and the error map at one IoU threshold (:func:`evaluate_labels_steps` and
:func:`evaluate_masks_steps`: the same in steps, for a worker that can stop between them).
Label images of any dimensionality are scored as one nD image, unless a ``frame_axis`` is
given (a time-lapse ``TYX`` array: every frame an image, as the Evaluate panel scores it);
``tessella evaluate`` (:func:`score_paths`) scores a file with a T axis so, and says how it
scored each (:func:`scored_as_text`; :func:`scored_as_arrays` for a pair of arrays, as
:func:`tessella.evaluate` and the Evaluate panel say it; ``_scored_as``: :func:`time_axis`).
Objects are matched exactly as :func:`tessella.engine.metrics.matching` matches them.

Modules: ``_scores`` (scores, matching, error map), ``_truth`` (the objects a ground truth
holds, sparse annotations), ``_sparse`` (ground truth of some frames or slices only: where
it is scored), ``_evaluate`` (one pair for the widget; ``_tiles``: a lazy 2D pair of it
read a 2048² piece at a time), ``_mistakes`` (notes on
inputs that score little for no real reason), ``_kind`` (a guess at what a ground truth is) and
``_samples`` (the parts of a large or lazy ground truth that guess reads), ``_pairing``
(prediction and ground-truth files paired by name) and ``_paths`` (:func:`score_paths`: files
or folders read, paired and scored, as ``tessella evaluate PRED GT`` and
:func:`tessella.evaluate_paths` score them).
"""

from __future__ import annotations

from ._evaluate import (
    evaluate_labels,
    evaluate_labels_steps,
    evaluate_masks,
    evaluate_masks_steps,
)
from ._frame_numbers import FramesByNumber, frames_by_number, numbers_said
from ._kind import ground_truth_kind
from ._mistakes import (
    COLLAPSED_FRACTION,
    binary_mask_pieces,
    ground_truth_note,
    mask_pieces,
    mask_stack_reason,
    prediction_note,
)
from ._pairing import EvaluationInputError, MissingInputError, file_pairs, image_stem
from ._paths import marked_mask_stack, score_paths
from ._samples import sample_planes
from ._scored_as import (
    FRAMES_HINT_ARRAYS,
    FRAMES_HINT_KEYWORDS,
    FRAMES_HINT_PATHS,
    scored_as_arrays,
    scored_as_text,
    time_axis,
)
from ._scores import (
    ERROR_HATCH,
    FALSE_NEGATIVE,
    FALSE_POSITIVE,
    GROUND_TRUTH_KINDS,
    METRICS,
    NOT_ANNOTATED,
    Evaluation,
    error_map,
    image_rows,
    matched_ids,
    score_mask_pairs,
    score_pairs,
    sparse_within,
)
from ._sparse import (
    annotated_summary,
    annotated_text,
    annotated_with_objects,
    ctc_annotated,
    ctc_annotated_files,
    places_misfit,
)
from ._tiles import tiled_pair
from ._truth import (
    ignore_label_clash,
    mask_stack_objects,
    membrane_map_objects,
    scored_images,
    stack_without_ignored,
    truth_objects,
    unannotated_left_out,
    without_ignored,
)

__all__ = [
    "ERROR_HATCH",
    "FALSE_NEGATIVE",
    "COLLAPSED_FRACTION",
    "FALSE_POSITIVE",
    "FRAMES_HINT_ARRAYS",
    "FRAMES_HINT_KEYWORDS",
    "FRAMES_HINT_PATHS",
    "MissingInputError",
    "GROUND_TRUTH_KINDS",
    "METRICS",
    "NOT_ANNOTATED",
    "Evaluation",
    "EvaluationInputError",
    "FramesByNumber",
    "annotated_summary",
    "annotated_text",
    "annotated_with_objects",
    "binary_mask_pieces",
    "ctc_annotated",
    "ctc_annotated_files",
    "error_map",
    "evaluate_labels",
    "evaluate_labels_steps",
    "evaluate_masks",
    "evaluate_masks_steps",
    "file_pairs",
    "frames_by_number",
    "ground_truth_kind",
    "ground_truth_note",
    "ignore_label_clash",
    "image_rows",
    "image_stem",
    "mask_pieces",
    "mask_stack_objects",
    "mask_stack_reason",
    "marked_mask_stack",
    "matched_ids",
    "membrane_map_objects",
    "numbers_said",
    "places_misfit",
    "prediction_note",
    "sample_planes",
    "score_mask_pairs",
    "score_pairs",
    "score_paths",
    "scored_as_arrays",
    "scored_as_text",
    "scored_images",
    "sparse_within",
    "stack_without_ignored",
    "tiled_pair",
    "time_axis",
    "truth_objects",
    "unannotated_left_out",
    "without_ignored",
]

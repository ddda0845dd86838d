"""Labels from predictions: post-processing, blank frames and slices cleared, the frames of a
movie numbered or split where its tracks cross a blank one."""

from __future__ import annotations

import numpy as np

from ..methods import Prediction, get_method
from ..registry import LoadedModel

__all__ = [
    "postprocess",
    "postprocess_with_lineage",
    "series_without_blank_frames",
    "number_frame",
    "number_frames",
    "without_blank_parts",
]


def series_without_blank_frames(
    labels: np.ndarray, lineage, predictions: list[Prediction], linked: bool = True
):
    """A movie's ``(labels, lineage)`` with its blank frames cleared
    (:func:`without_blank_parts`) and, when ``linked``, each track that crossed one split
    there, the piece after it continuing the one before
    (:func:`~tessella.engine.tracking.split_at_gaps`). Unlinked, the frames are numbered
    across the movie (:func:`number_frames`): every object its own ID, no tracks, so
    nothing is split."""
    from ..tracking import split_at_gaps

    labels = np.stack([without_blank_parts(f, p) for f, p in zip(labels, predictions)])
    if not linked:
        return number_frames(labels), lineage
    if any(p.meta.get("blank") for p in predictions):
        labels, lineage = split_at_gaps(labels, lineage)
        present = set(np.unique(labels).tolist())  # a track only in blank frames is gone
        lineage = {c: p for c, p in lineage.items() if c in present and p in present}
    return labels, lineage


def number_frame(labels: np.ndarray, after: int = 0) -> tuple[np.ndarray, int]:
    """One frame's ``labels`` renumbered ``after + 1 .. after + n`` in the order of their
    IDs (0 stays 0); returns them and ``after + n``, where the next frame's IDs start.

    Examples
    --------
    >>> frame, last = number_frame(np.array([[0, 7], [3, 7]]), after=10)
    >>> frame.tolist(), last
    ([[0, 12], [11, 12]], 12)
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, not {labels.dtype}")
    ids = np.unique(labels)
    ids = ids[ids > 0]
    last = after + int(ids.size)
    dtype = labels.dtype
    if last > np.iinfo(dtype).max:
        dtype = np.dtype(np.int64)
    if ids.size == 0:
        return np.zeros(labels.shape, dtype), last
    if ids[-1] <= 4 * labels.size:  # a lookup table: one pass over the pixels
        table = np.zeros(int(ids[-1]) + 1, dtype)
        table[ids] = np.arange(after + 1, last + 1)
        return table[labels], last
    position = np.searchsorted(ids, labels)
    found = np.minimum(position, ids.size - 1)
    numbered = np.where(ids[found] == labels, position + after + 1, 0)
    return numbered.astype(dtype, copy=False), last


def number_frames(frames) -> np.ndarray:
    """A movie's labels (frames along the first axis) with one ID per object of the whole
    movie, as blockwise segmentation numbers them: frame by frame, each frame's objects
    1..n in the order of their IDs, after all objects of the frames before it. For labels
    whose frames were segmented each on its own (nothing linked them): the same ID in two
    frames would claim one object where there are two.

    Examples
    --------
    >>> number_frames(np.array([[[1, 0, 2]], [[0, 1, 1]], [[0, 0, 0]], [[5, 0, 3]]]))[:, 0].tolist()
    [[1, 0, 2], [0, 3, 3], [0, 0, 0], [5, 0, 4]]
    """
    numbered, after = [], 0
    for frame in frames:
        frame, after = number_frame(frame, after)
        numbered.append(frame)
    dtype = np.result_type(*(f.dtype for f in numbered))
    return np.stack([f.astype(dtype, copy=False) for f in numbered])


def without_blank_parts(labels: np.ndarray, prediction: Prediction, plane: int | None = None):
    """``labels`` post-processed from ``prediction`` with those of a blank (constant) frame,
    or of its blank Z slices, cleared: whatever the network makes of nothing is not kept.
    ``plane``: ``labels`` are that Z slice alone. (The methods that post-process a volume in
    3D, a stack predicted slice by slice or a 3D model's, leave its blank slices out, each run
    of the other slices post-processed on its own:
    :func:`~tessella.engine.methods._base.in_blank_free_runs`.)"""
    slices = prediction.meta.get("blank_slices") or ()
    if prediction.meta.get("blank") or (plane is not None and plane in slices):
        return np.zeros_like(labels)
    if slices and plane is None:
        labels = labels.copy()
        labels[list(slices)] = 0
    return labels


def postprocess(model: LoadedModel, predictions: list[Prediction], params) -> np.ndarray:
    """Labels for every time point, stacked along T when there are several."""
    return postprocess_with_lineage(model, predictions, params)[0]


def postprocess_with_lineage(model: LoadedModel, predictions: list[Prediction], params):
    """``(labels, lineage)``: time-lapse methods (``postprocess_series``) smooth along time
    and link the frames; the lineage is ``None`` for every other method.

    Several time points not linked into tracks (every other method, or ``link`` off) are
    numbered across the movie (:func:`number_frames`), as blockwise segmentation numbers
    them: one ID is one object, never two cells in two frames."""
    method = get_method(model.card.method)
    if hasattr(method, "postprocess_series"):
        labels, lineage = method.postprocess_series(predictions, params)
        linked = bool(getattr(params, "link", True))
        labels, lineage = series_without_blank_frames(labels, lineage, predictions, linked)
        return (labels[0] if len(labels) == 1 else labels), lineage
    labels = [without_blank_parts(method.postprocess(p, params), p) for p in predictions]
    return (labels[0] if len(labels) == 1 else number_frames(labels)), None

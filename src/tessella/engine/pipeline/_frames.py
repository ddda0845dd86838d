"""Labels from predictions: post-processing, blank frames and slices cleared, the frames of a
movie numbered or split where its tracks cross a blank one."""

from __future__ import annotations

import numpy as np

from ..methods import Prediction, get_method
from ..registry import LoadedModel

__all__ = [
    "chosen_frames",
    "frames_context",
    "postprocess",
    "predicted_frames",
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


def chosen_frames(
    frames, n_frames: int, numbers=None, name: str = "image"
) -> tuple[range, list[int]]:
    """``(indices, numbers)``: the frames of a movie of ``n_frames`` frames that ``frames``
    picks, as indices along its T axis (a range) and as frame numbers. ``frames`` is what
    ``tessella segment --frames`` and ``tessella evaluate --frames`` take: ``"A:B"`` (frames
    A to B - 1) or ``"A"`` (that frame alone), or an int, a ``range`` or a ``slice`` (step
    1) of them. They are frame *numbers*: ``numbers`` (the movie's, one per frame, in order:
    a folder ``t052.tif ...`` read by :func:`~tessella.engine.io.read_frames`, or a movie
    whose first frame is numbered otherwise) where given, else 0, 1, .... Frames outside
    the movie, an empty range or text of another form raise ValueError in one line naming
    ``name`` and its frames.

    >>> chosen_frames("2:4", 10)
    (range(2, 4), [2, 3])
    >>> chosen_frames("53:55", 7, numbers=range(52, 59))
    (range(1, 3), [53, 54])
    >>> chosen_frames("5:12", 10, name="movie.tif")
    Traceback (most recent call last):
    ...
    ValueError: movie.tif: frames 5:12 are not all in it: it has 10 frames, 0 to 9
    """
    numbers = list(range(n_frames)) if numbers is None else [int(n) for n in numbers]
    if len(numbers) != n_frames:
        raise ValueError(f"{name}: {len(numbers)} frame numbers for its {n_frames} frames")
    start, stop = _frames_asked(frames, name)
    said = f"{start}:{stop}" if stop != start + 1 else str(start)
    first, last = (numbers[0], numbers[-1]) if numbers else (0, -1)
    span = f"{first} to {last}" if n_frames > 1 else str(first)
    has = f"it has {n_frames} frame{'s' * (n_frames != 1)}, {span}"
    if stop <= start:
        raise ValueError(f"{name}: frames {said} name no frame (A:B is frames A to B - 1); {has}")
    if start < first or stop - 1 > last:
        raise ValueError(f"{name}: frames {said} are not all in it: {has}")
    indices = [t for t, n in enumerate(numbers) if start <= n < stop]
    if not indices:  # (between frames a folder lacks)
        raise ValueError(f"{name}: none of frames {said} is in it: {has}")
    return range(indices[0], indices[-1] + 1), [numbers[t] for t in indices]


def _frames_asked(frames, name: str) -> tuple[int, int]:
    """``(A, B)`` of ``frames`` (``"A:B"``, ``"A"``, an int, a range or a slice of step 1);
    ValueError naming ``name`` for anything else."""
    import numbers as numbers_

    if isinstance(frames, numbers_.Integral) and not isinstance(frames, bool):
        return int(frames), int(frames) + 1
    if isinstance(frames, range | slice):
        start, stop, step = frames.start, frames.stop, frames.step
        if step in (None, 1) and isinstance(start, int) and isinstance(stop, int):
            return start, stop
        raise ValueError(f"{name}: frames={frames!r}: give A:B, frames A to B - 1 (step 1)")
    if isinstance(frames, str):
        start, sep, stop = frames.strip().partition(":")
        try:
            return (int(start), int(stop)) if sep else (int(start), int(start) + 1)
        except ValueError:
            pass
    raise ValueError(f"{name}: frames expects A:B (frames A to B - 1) or A, got {frames!r}")


def predicted_frames(picked: range, n_frames: int, context: int) -> range:
    """The frames a run of the frames ``picked`` (indices) of a movie of ``n_frames`` frames
    predicts: those and ``context`` frames on either side (:func:`frames_context`), within
    the movie.

    >>> predicted_frames(range(2, 4), 5, 4), predicted_frames(range(2, 4), 10, 1)
    (range(0, 5), range(1, 5))
    """
    return range(max(picked.start - context, 0), min(picked.stop + context, n_frames))


def frames_context(card, params=None) -> int:
    """How many frames on either side of part of a movie the method of the model ``card``
    reads beyond its window, with ``params`` (a dict, or the method's Params; the card's
    defaults for those not given): the time-lapse method's smoothing along time
    (:func:`~tessella.engine.methods.temporal.context_frames`); 0 for every other method."""
    from ..params import make_params, params_to_dict

    method = get_method(card.method)
    reach = getattr(method, "context_frames", None)
    if reach is None:
        return 0
    if params is not None and not isinstance(params, dict):
        params = params_to_dict(params)
    resolved = make_params(method.Params, **{**card.defaults.get("params", {}), **(params or {})})
    return int(reach(resolved))

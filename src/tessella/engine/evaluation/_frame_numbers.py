"""A prediction and its ground truth paired frame by frame by the movie's frame numbers (those
the reader recorded: ``t052.tif``, ``man_seg052.tif``, ``mask052.tif`` are frame 52), not by
their place in each stack: a prediction of frames 8-14 against the dataset's ``01_GT/SEG``
of frames 0-64 is scored against its frames 8-14 (the Evaluate panel's pairing; ``tessella
evaluate RES NN_GT --ctc --frames A:B`` pairs a CTC result's masks so)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["FramesByNumber", "frames_by_number", "numbers_said"]


def numbers_said(numbers: Iterable[int], few: int = 6) -> str:
    """Frame numbers in words: runs as ``8-14``, a few of them named.

    >>> numbers_said([8, 9, 10, 11]), numbers_said([2, 5, 6, 7, 9]), numbers_said([4])
    ('8-11', '2, 5-7, 9', '4')
    >>> numbers_said(range(0, 40, 2), few=3)
    '0, 2, 4, … (20 frames)'
    """
    numbers = sorted(int(n) for n in numbers)
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    said = [f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]
    if len(said) > few:
        return ", ".join(said[:few]) + f", … ({len(numbers)} frames)"
    return ", ".join(said)


@dataclass(frozen=True)
class FramesByNumber:
    """A ground truth laid on a prediction's frames by number (:func:`frames_by_number`):
    ``truth`` as long as the prediction (frame ``i`` the ground truth's frame of the
    prediction's number ``i``, empty where it has none), ``places`` its annotated places
    there (None where none were given), ``common`` the frame numbers both hold, and
    ``note``: the pairing in words."""

    truth: object
    places: list | None
    common: tuple[int, ...]
    note: str


def _frames_at(truth, picks: list[int | None]):
    """The frames ``picks`` of ``truth`` (T first; None: an empty frame), a slice of it where
    they are consecutive (a view; a lazy stack stays lazy)."""
    whole = [j for j in picks if j is not None]
    if len(whole) == len(picks) and all(b == a + 1 for a, b in zip(whole, whole[1:])):
        return truth[whole[0] : whole[0] + len(whole)]
    if type(truth).__module__.split(".")[0] == "dask":
        import dask.array as da

        frame = truth.shape[1:]
        empty = da.zeros(frame, dtype=truth.dtype, chunks=frame)
        return da.stack([empty if j is None else truth[j] for j in picks])
    array = np.zeros((len(picks), *truth.shape[1:]), truth.dtype)
    for i, j in enumerate(picks):
        if j is not None:
            array[i] = np.asarray(truth[j])
    return array


def frames_by_number(
    truth,
    truth_numbers: Sequence[int],
    pred_numbers: Sequence[int],
    places: list | None = None,
    names: tuple[str, str] = ("the ground truth", "the prediction"),
) -> FramesByNumber:
    """``truth`` (T first, frame ``t`` the movie's frame ``truth_numbers[t]``) laid on the
    frames of a prediction whose frame ``i`` is the movie's frame ``pred_numbers[i]``: each
    of the prediction's frames against the ground truth's frame of its number. ``places``:
    where ``truth`` is annotated (``(t,)``, ``(t, z)``; a SEG folder's), moved to the
    prediction's frames, those of frames it does not hold left out. ValueError, in words
    naming ``names`` (ground truth, prediction) and their frame numbers, where no frame
    number is in both, where no annotated place is in the prediction's frames, or, scored
    whole (no ``places``), where the ground truth lacks some of the prediction's frames
    (they would score as frames without a cell).

    >>> truth = np.arange(5)[:, None, None] * np.ones((5, 2, 2), int)  # frame t holds t
    >>> paired = frames_by_number(truth, [50, 51, 52, 53, 54], [52, 53], [(1,), (3,)])
    >>> paired.truth[:, 0, 0].tolist(), paired.places, paired.common
    ([2, 3], [(1,)], (52, 53))
    >>> try:
    ...     frames_by_number(truth, range(50, 55), [8, 9], [(1,)])
    ... except ValueError as exc:
    ...     print(exc)  # doctest: +NORMALIZE_WHITESPACE, +ELLIPSIS
    the prediction holds frames 8-9 and the ground truth frames 50-54 (the movie's frame
    numbers the reader recorded): none in common; choose ...
    """
    truth_name, pred_name = names
    index = {int(n): t for t, n in enumerate(truth_numbers)}
    pred_numbers = [int(n) for n in pred_numbers]
    picks = [index.get(n) for n in pred_numbers]
    common = tuple(n for n in pred_numbers if n in index)
    recorded = "the movie's frame numbers the reader recorded"
    frames = f"{pred_name} holds frames {numbers_said(pred_numbers)} and {truth_name} frames "
    frames += f"{numbers_said(truth_numbers)} ({recorded})"
    if not common:
        raise ValueError(
            f"{frames}: none in common; choose the ground truth of these frames (the "
            "movie's NN_GT/SEG folder holds every annotated frame)"
        )
    moved = None
    if places is not None:
        where = {t: i for i, t in enumerate(picks) if t is not None}
        moved = [(where[p[0]], *p[1:]) for p in places if p[0] in where]
        if not moved:
            annotated = numbers_said(sorted({int(truth_numbers[p[0]]) for p in places}))
            raise ValueError(
                f"{truth_name} annotates none of the frames of {pred_name} "
                f"({numbers_said(pred_numbers)}): it annotates frames {annotated} ({recorded})"
            )
    elif len(common) < len(pred_numbers):
        raise ValueError(
            f"{frames}: {numbers_said(common)} in common only; the others would score as "
            "frames without a cell: score the annotated frames only (the Evaluate panel's "
            "Score annotated frames only)"
        )
    said = numbers_said(common)
    note = f"frames paired by number: those of {pred_name} ({numbers_said(pred_numbers)}) "
    note += f"against the frames of the same numbers of {truth_name}"
    if moved is not None:
        scored = sorted({pred_numbers[p[0]] for p in moved})
        several = len(scored) > 1
        note += f"; annotated in both: frame{'s' if several else ''} {numbers_said(scored)}, "
        note += f"only {'they' if several else 'it'} scored"
    elif len(truth_numbers) != len(common):
        note += f" ({said} of its {numbers_said(truth_numbers)})"
    return FramesByNumber(_frames_at(truth, picks), moved, common, note)

"""Merges a preview keeps: a slice of a volume (or a frame of a movie) previewed after the
user merged objects there in Correct keeps them merged, instead of cutting a 3D object in two
at that slice (user test s35/t20 #1). The labels the slice held before the user's edits are
found again from the layer's undo history (Correct's steps, ``data_setitem`` atoms), the
preview takes their IDs (:func:`tessella.engine.tracking.carry_ids`), and the IDs the user
merged are merged again. Splits the new values make stay visible: they are judged against the
labels before the merge, not after it."""

from __future__ import annotations

import numpy as np

__all__ = ["kept_merges", "merged_ids", "user_steps_of_part"]


def user_steps_of_part(history, tune_steps: dict, part: int) -> list | None:
    """The steps of ``history`` (napari's undo history of a labels layer, oldest first) the
    user made since Tune last wrote all of the layer or its part ``part``, newest first;
    ``tune_steps`` maps ``id(step)`` to ``(step, part written)`` for Tune's own steps (None:
    all of the layer). None where a step is not a list of ``data_setitem`` atoms
    ``(indices, before, after)`` (the brush's boxes): those are not read here."""
    found = []
    for step in reversed(history):
        own = tune_steps.get(id(step))
        if own is not None and own[0] is step:
            if own[1] is None or own[1] == part:
                break
            continue  # (Tune's preview of another part)
        atoms = list(step) if isinstance(step, list) else None
        if atoms is None or not all(type(a) is tuple and len(a) == 3 for a in atoms):
            return None
        found.append(atoms)
    return found


def merged_ids(
    before: np.ndarray, steps: list, axis: int, part: int
) -> tuple[np.ndarray, dict, bool]:
    """``(earlier, merges, only)``: part ``part`` (along ``axis``) of the labels as they were
    before the user's ``steps`` (newest first, :func:`user_steps_of_part`), from ``before``
    (that part now); the merges those steps made there, ``{old ID: ID merged into}``: an
    object of ``earlier`` whose pixels now lie mostly in another object of ``earlier``'s; and
    whether merges are all they changed there.

    >>> now = np.array([[3, 3, 3, 3]])
    >>> step = [((np.array([0]), np.array([0]), np.array([2])), np.array([4]), 3)]
    >>> earlier, merges, only = merged_ids(now, [step], 0, 0)
    >>> earlier.tolist(), merges, only
    ([[3, 3, 4, 3]], {4: 3}, True)
    """
    from tessella.engine.tracking import frame_overlaps

    earlier = np.array(before)
    changes = []  # (the values before and after of each change on the part)
    for atoms in steps:
        for indices, old, new in reversed(atoms):
            on = np.asarray(indices[axis]) == part
            if not on.any():
                continue
            where = tuple(np.asarray(i)[on] for k, i in enumerate(indices) if k != axis)
            was = np.asarray(old)[on] if np.ndim(old) else np.full(int(on.sum()), old)
            now = np.asarray(new)[on] if np.ndim(new) else np.full(int(on.sum()), new)
            earlier[where] = was
            changes.append((was, now))
    rows = frame_overlaps(earlier, before)
    rows = rows[(rows[:, 0] > 0) & (rows[:, 1] > 0)]
    if not rows.size:
        return earlier, {}, False
    rows = rows[np.lexsort((-rows[:, 2], rows[:, 0]))]  # by earlier ID, the most shared first
    first = np.ones(len(rows), bool)
    first[1:] = rows[1:, 0] != rows[:-1, 0]
    known = set(np.unique(earlier).tolist())
    merges = {
        int(old): int(new)
        for old, new, _shared in rows[first]
        if old != new and int(new) in known  # (into an object that was there: a merge)
    }
    into = set(merges.values())  # (a merge also closes the gaps between the objects: 0)
    only = bool(merges) and all(
        all(
            merges.get(int(u), -1) == int(v) or (u == 0 and int(v) in into)
            for u, v in set(zip(was.tolist(), now.tolist()))
        )
        for was, now in changes
    )
    return earlier, merges, only


def kept_merges(earlier: np.ndarray, merges: dict, labels: np.ndarray, next_id: int) -> np.ndarray:
    """``labels`` (a preview of the part) with the IDs of ``earlier``'s objects they overlap
    one to one (IoU above 0.5), new ones from ``next_id`` on, and the IDs of ``merges`` merged
    again."""
    from tessella.engine.tracking import carry_ids

    carried = carry_ids(earlier, labels, next_id)
    for old, new in merges.items():
        carried[carried == old] = new
    return carried

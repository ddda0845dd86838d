"""An :class:`Edit` (the changed pixels of a label image and their new values), and the steps
every correction shares to compute one: checking the IDs, keeping only the pixels that change,
working frame by frame."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import ndimage as ndi

__all__ = ["Apart", "Edit", "id_words", "pieces_apart"]


@dataclass(frozen=True)
class Edit:
    """New ``values`` at ``indices`` (a numpy multi-index, one array per axis)."""

    indices: tuple[np.ndarray, ...]
    values: np.ndarray
    description: str
    #: objects whose ID changed, ``{old: new}`` (relabelling): a lineage must follow them
    renamed: dict[int, int] | None = None

    @property
    def size(self) -> int:
        """How many pixels change."""
        return int(self.values.size)

    def apply(self, labels: np.ndarray) -> None:
        """Write the edit into ``labels``. An edit with new IDs the labels' type cannot hold
        (a split of uint8 labels into ID 256: ``values`` then come in a wider type) is
        refused, never cast (which would wrap 256 around to 0): widen the labels first,
        e.g. ``labels = labels.astype(np.int32)``."""
        too_large = _too_large(self.values, labels.dtype)
        if too_large is not None:
            raise ValueError(
                f"label {too_large} does not fit in {labels.dtype}: widen the labels first"
            )
        labels[self.indices] = self.values


def _too_large(values: np.ndarray, dtype: np.dtype) -> int | None:
    """The first of ``values`` an array of ``dtype`` cannot hold, or None."""
    if np.can_cast(values.dtype, dtype) or values.size == 0:
        return None
    info = np.iinfo(dtype)
    outside = values[(values < info.min) | (values > info.max)]
    return int(outside[0]) if outside.size else None


def _ids(ids: Iterable[int]) -> list[int]:
    unique = sorted({int(i) for i in ids})
    if any(i <= 0 for i in unique):
        raise ValueError("label IDs must be positive (0 is background)")
    return unique


def _check_present(labels: np.ndarray, ids: Sequence[int]) -> None:
    present = np.isin(ids, labels)
    if not present.all():
        missing = [int(i) for i, p in zip(ids, present, strict=True) if not p]
        raise ValueError(f"no object with label {id_words(missing)}")


def id_words(ids: Iterable[int], most: int = 12) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"``: sorted IDs, runs of three or more as ranges, at most
    ``most`` pieces (then "and N more IDs"), so that a long selection stays one short line."""
    runs: list[list[int]] = []  # [first, last]
    for i in sorted({int(i) for i in ids}):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    pieces: list[tuple[str, int]] = []  # (words, how many IDs)
    for first, last in runs:
        if last - first >= 2:
            pieces.append((f"{first}-{last}", last - first + 1))
        else:
            pieces.extend((str(i), 1) for i in range(first, last + 1))
    words = ", ".join(w for w, _ in pieces[:most])
    rest = sum(n for _, n in pieces[most:])
    return f"{words} and {rest:,} more IDs" if rest else words


def _edit(labels: np.ndarray, mask: np.ndarray, values, description: str, dtype=None) -> Edit:
    """The edit that sets ``labels[mask]`` to ``values`` (of ``dtype``: the labels' own by
    default, a wider one for new IDs they cannot hold), keeping only pixels that change."""
    indices = np.nonzero(mask)
    values = np.broadcast_to(np.asarray(values, dtype or labels.dtype), indices[0].shape)
    changed = labels[indices] != values
    return Edit(tuple(i[changed] for i in indices), np.array(values[changed]), description)


def _bbox(mask: np.ndarray, margin: int = 0) -> tuple[slice, ...]:
    """The bounding box of ``mask`` (non-empty), grown by ``margin`` within the array."""
    box = ndi.find_objects(mask.astype(np.uint8))[0]
    return tuple(
        slice(max(s.start - margin, 0), min(s.stop + margin, n)) for s, n in zip(box, mask.shape)
    )


def _frames(labels: np.ndarray, axes: str | None):
    """``(index, frame)`` pairs: one per time point when ``axes`` has a T, else the whole."""
    if axes and "T" in axes:
        t_axis = axes.index("T")
        for t in range(labels.shape[t_axis]):
            index: list[slice | int] = [slice(None)] * labels.ndim
            index[t_axis] = t
            yield tuple(index), labels[tuple(index)]
    else:
        yield (slice(None),) * labels.ndim, labels


def _per_frame(labels, axes, make_mask: Callable, description: str) -> Edit:
    """An edit assembled from ``make_mask(frame) -> (mask, frame_values)`` on every frame."""
    mask = np.zeros(labels.shape, bool)
    new = np.zeros(labels.shape, labels.dtype)
    for index, frame in _frames(labels, axes):
        frame_mask, frame_values = make_mask(frame)
        mask[index] = frame_mask
        new[index][frame_mask] = frame_values
    return _edit(labels, mask, new[mask], description)


#: a merged object in more pieces than this has no gap measured (a distance transform each)
MOST_PIECES_MEASURED = 10


class Apart(NamedTuple):
    """An object in pieces that do not touch, in ``frame`` of a time-lapse (None: not one):
    how many ``pieces``, and the ``gap`` between the two nearest (between their nearest
    pixels, in pixels; None where there are more than :data:`MOST_PIECES_MEASURED`)."""

    frame: int | None
    pieces: int
    gap: float | None


def pieces_apart(
    labels: np.ndarray,
    ids: Sequence[int],
    change: Edit,
    t_axis: int | None = None,
    frame: int | None = None,
) -> list[Apart]:
    """Where the object a merge ``change`` of the objects ``ids`` of ``labels`` (before it)
    makes is in pieces that do not touch (touching diagonally counts as touching): once for
    an image or a volume; for a time-lapse (its T axis ``t_axis``) in each frame, or only in
    ``frame``, the one merged in. Empty where it is one piece (or the change is empty)."""
    if not change.size:
        return []
    if t_axis is None:
        mask = np.isin(labels, ids)
        mask[change.indices] = True
        planes: list[tuple[int | None, np.ndarray]] = [(None, mask)]
    elif frame is not None:  # (that frame alone: the change lies in it)
        mask = np.isin(np.take(labels, frame, axis=t_axis), ids)
        there = change.indices[t_axis] == frame
        mask[tuple(i[there] for a, i in enumerate(change.indices) if a != t_axis)] = True
        planes = [(frame, mask)]
    else:
        mask = np.isin(labels, ids)
        mask[change.indices] = True
        planes = [(t, np.take(mask, t, axis=t_axis)) for t in range(mask.shape[t_axis])]
    apart = []
    for t, plane in planes:
        if not plane.any():
            continue
        crop = plane[_bbox(plane)]
        pieces, count = ndi.label(crop, np.ones((3,) * crop.ndim, bool))
        if count < 2:
            continue
        gap = None
        if count <= MOST_PIECES_MEASURED:  # (between the nearest pixels of the nearest two)
            gap = min(
                float(ndi.distance_transform_edt(pieces != n)[(pieces > 0) & (pieces != n)].min())
                for n in range(1, count + 1)
            )
        apart.append(Apart(t, count, gap))
    return apart

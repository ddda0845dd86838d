"""Whether an image looks like the images a model was trained on, as the network sees them.

The statistic is cheap: the 10th, 50th and 90th percentiles of the normalised network input
(after the card's percentile scaling and any inversion of a bright background), from at most
:data:`_SAMPLE` pixels. A card records their range over its training images
(``input_statistics``: ``tools/input_stats.py`` for the bundled models, ``tessella train`` for
a new one); an image whose percentiles fall outside that range widened by its ``margin`` is
warned of in one line. A card without the field does no check. A blockwise run checks a
bounded sample of its input, normalised by its scan, before any block is segmented
(``engine/blockwise/_look.py``: the same :class:`PartsJudge`).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

__all__ = [
    "QUANTILES",
    "PartsJudge",
    "input_quantiles",
    "input_range",
    "input_sample",
    "unfamiliar_input",
]

#: the percentiles (as fractions) of the normalised input that the check compares
QUANTILES = (0.1, 0.5, 0.9)
#: how far outside the training range a percentile may fall before the image is warned of
MARGIN = 0.1
_SAMPLE = 250_000  # percentiles from at most this many pixels
_NAMES = ("10th percentile", "median", "90th percentile")


@functools.lru_cache(maxsize=4)
def _sample_index(size: int) -> np.ndarray:
    """Where :func:`input_sample` samples an input of ``size`` values: :data:`_SAMPLE`
    positions drawn with a fixed seed (the same every run), sorted (read in order)."""
    rng = np.random.default_rng(0)
    index = np.sort(rng.integers(0, size, _SAMPLE))
    index.flags.writeable = False
    return index


def input_sample(data: np.ndarray, blank=()) -> np.ndarray | None:
    """The values of ``data`` (a normalised network input, every channel) that
    :func:`input_quantiles` takes: all of them up to :data:`_SAMPLE`, else :data:`_SAMPLE`
    drawn at random positions with a fixed seed (a flat stride, one value every ``step``,
    fell on the same few columns of every row where ``step`` divided the row length); None
    for a constant input (a blank frame or slice), which says nothing of the image.

    ``blank``: Z slices ``data[:, z]`` of a volume ``(C, Z, Y, X)`` (a 3D model's input)
    that are blank, left out: the sample is the one of the volume without them (the same
    values, drawn the same way), None where every slice is blank.

    >>> volume = np.zeros((1, 3, 2, 2)); volume[0, 1] = [[1, 2], [3, 4]]; volume[0, 2] = 5
    >>> input_sample(volume, blank=[0]).tolist()
    [1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0]
    """
    data = np.asarray(data)
    kept = _kept_slices(data, blank)
    if kept is not None:
        return _sample_of_slices(data, kept)
    flat = data.reshape(-1)
    if flat.size == 0:
        return None
    if flat.size > _SAMPLE:
        flat = flat[_sample_index(flat.size)]
    sample = np.asarray(flat, dtype=np.float64)
    return None if sample.min() == sample.max() else sample


def _kept_slices(data: np.ndarray, blank) -> list[int] | None:
    """The Z slices of a volume ``data`` ``(C, Z, ...)`` not in ``blank``; None where no
    slice is blank (or ``data`` is no volume)."""
    skip = {int(z) for z in blank}
    if not skip or data.ndim < 3:
        return None
    return [z for z in range(data.shape[1]) if z not in skip]


def _sample_of_slices(data: np.ndarray, kept: list[int]) -> np.ndarray | None:
    """:func:`input_sample` of ``data[:, kept]`` without copying it: the positions drawn in
    it mapped to those of ``data``."""
    channels, depth = data.shape[:2]
    area = int(np.prod(data.shape[2:]))
    size = channels * len(kept) * area
    if size == 0:
        return None
    index = _sample_index(size) if size > _SAMPLE else np.arange(size)
    c, rest = np.divmod(index, len(kept) * area)
    j, pixel = np.divmod(rest, area)
    where = (c * depth + np.asarray(kept, np.int64)[j]) * area + pixel
    sample = np.asarray(data.reshape(-1)[where], dtype=np.float64)
    return None if sample.min() == sample.max() else sample


def input_quantiles(data: np.ndarray, blank=()) -> tuple[float, ...] | None:
    """The :data:`QUANTILES` of ``data`` (a normalised network input, every channel), from
    at most :data:`_SAMPLE` of its values (:func:`input_sample`, ``blank`` Z slices left
    out); None for a constant input (a blank frame or slice), which says nothing of the
    image."""
    sample = input_sample(data, blank)
    return None if sample is None else _quantiles(sample)


def _quantiles(sample: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in np.quantile(sample, QUANTILES))


def input_range(values: list[tuple[float, ...]], how: str, margin: float = MARGIN) -> dict:
    """The card's ``input_statistics`` field for the training inputs whose
    :func:`input_quantiles` are ``values`` (one tuple per image, slab or frame)."""
    array = np.asarray(values, dtype=np.float64)
    return {
        "what": "10th, 50th and 90th percentiles of the normalised network input (after "
        "the percentile scaling and any bright-background inversion) over the training images",
        "quantiles": list(QUANTILES),
        "low": [round(float(v), 4) for v in array.min(axis=0)],
        "high": [round(float(v), 4) for v in array.max(axis=0)],
        "margin": margin,
        "n": len(values),
        "how": how,
    }


def _card_range(card: Any) -> dict | None:
    """The card's ``input_statistics`` if well formed (three lows and highs), else None."""
    stats = card.raw.get("input_statistics") if isinstance(card.raw, dict) else None
    if not isinstance(stats, dict):
        return None
    low, high = stats.get("low"), stats.get("high")
    ok = all(
        isinstance(v, list)
        and len(v) == len(QUANTILES)
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
        for v in (low, high)
    )
    return stats if ok and stats.get("quantiles", list(QUANTILES)) == list(QUANTILES) else None


def _off(quantiles: tuple[float, ...], stats: dict) -> list[str]:
    """Which of ``quantiles`` fall outside the range ``stats`` records widened by its margin,
    each as "median 0.45 (training 0.00-0.16)"."""
    margin = stats.get("margin", MARGIN)
    margin = float(margin) if isinstance(margin, int | float) else MARGIN
    off = []
    for what, value, low, high in zip(_NAMES, quantiles, stats["low"], stats["high"]):
        if value < low - margin or value > high + margin:
            off.append(f"{what} {value:.2f} (training {low:.2f}-{high:.2f})")
    return off


def _warning(name: str, card: Any, off: list[str]) -> str:
    return (
        f"{name} looks unlike the images model {card.name!r} was trained on: as the network "
        f"sees it (normalised), its {', '.join(off)}; another channel, inverted contrast or "
        "another kind of image? Check the result"
    )


def unfamiliar_input(quantiles: tuple[float, ...] | None, card: Any, name: str) -> str:
    """The one-line warning for an image ``name`` whose normalised input has ``quantiles``
    outside the range ``card`` records for its training images; "" where they fall inside
    it, where the card records none (a model trained before the field existed) or where the
    input was constant (``quantiles`` None)."""
    stats = _card_range(card)
    if stats is None or quantiles is None:
        return ""
    off = _off(quantiles, stats)
    return _warning(name, card, off) if off else ""


class PartsJudge:
    """The check of an image segmented in ``parts`` parts (frames, slices: ``kind``) as they
    come: it judges up to three of them spread over the image, the first part that is not
    blank (constant), the first at or after the middle and the last, and warns where most of
    those judged look unlike the training images (:meth:`verdict`). One part alone (a dim or
    empty first frame of a movie, the top slice of a stack above the cells) decides nothing.
    Only the parts judged are measured: the last's sample is kept (not its quantiles) until
    a later part replaces it."""

    def __init__(self, card: Any, name: str, parts: int, kind: str = "parts") -> None:
        self.card, self.name, self.parts, self.kind = card, name, parts, kind
        self.stats = _card_range(card)
        self.judged: list[tuple[int, str, tuple[float, ...]]] = []  # first, middle
        self.last: tuple[int, str, np.ndarray] | None = None
        self.all_blank: list[str] = []  # the volumes seen whose every slice is blank

    def see(self, index: int, where: str, data: np.ndarray, blank=()) -> None:
        """Part ``index`` (0 to ``parts`` - 1, in order), called ``where`` ("frame 3"), whose
        normalised network input is ``data``; ``blank``: its blank Z slices (a 3D model's
        volume ``(C, Z, Y, X)``), left out of the judgement (they say nothing of the image:
        one blank slice of a small crop moved its 10th percentile to -0.73 and warned)."""
        if self.stats is None:
            return
        if len(blank) and np.ndim(data) >= 3 and len({int(z) for z in blank}) >= len(data[0]):
            self.all_blank.append(where)
            return
        role = self._role(index, [judged[0] for judged in self.judged])
        if role == "judged":
            quantiles = input_quantiles(data, blank)
            if quantiles is not None:
                self.judged.append((index, where, quantiles))
        elif role == "last":
            sample = input_sample(data, blank)
            if sample is not None:
                self.last = (index, where, sample)

    def _role(self, index: int, judged: list[int]) -> str:
        """What part ``index`` is to :meth:`see`, the parts ``judged`` (their indices) judged
        before it: "judged" (the first, or the first at or after the middle), "last" (a
        candidate for the last, kept until a later part replaces it) or "" (not measured)."""
        if not judged or (len(judged) == 1 and index >= self.parts // 2 and index > judged[0]):
            return "judged"
        return "last" if len(judged) == 2 and index > judged[1] else ""

    def picks(self, blank: set[int] | frozenset[int] = frozenset()) -> list[int]:
        """The parts :meth:`see` measures where the ``blank`` ones (constant: they say nothing)
        are known beforehand, in order: the first not blank, the first not blank at or after
        the middle and the last not blank. A blockwise run, which knows its blank frames and
        slices from its scan, reads only these (:meth:`see` each in this order); none where
        the card records no range."""
        if self.stats is None:
            return []
        judged: list[int] = []
        last = None
        for index in range(self.parts):
            if index in blank:
                continue
            role = self._role(index, judged)
            if role == "judged":
                judged.append(index)
            elif role == "last":
                last = index
        return judged + ([] if last is None else [last])

    def verdict(self) -> str:
        """The one-line warning where most parts judged are off ("" where half or fewer
        are): naming the image when all are, else the parts that are, and how many of how
        many were judged."""
        if self.stats is None:
            return ""
        judged = list(self.judged)
        if self.last is not None:
            index, where, sample = self.last
            judged.append((index, where, _quantiles(sample)))
        offs = [(where, off) for _, where, q in judged if (off := _off(q, self.stats))]
        if not judged and self.all_blank:
            where = " and ".join(w for w in self.all_blank if w)
            return (
                f"{self.name}{f' ({where})' if where else ''}: every slice is blank (each "
                "channel constant: no signal), so nothing is labelled, and there was nothing "
                f"to compare with the images model {self.card.name!r} was trained on"
            )
        if not judged or 2 * len(offs) <= len(judged):
            return ""
        if len(offs) == len(judged):
            return _warning(self.name, self.card, offs[0][1])
        named = " and ".join(where for where, _ in offs)
        return _warning(
            f"{self.name} ({named}: {len(offs)} of the {len(judged)} {self.kind} judged, "
            "first, middle and last)",
            self.card,
            offs[0][1],
        )

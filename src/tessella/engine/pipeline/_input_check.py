"""Whether an image looks like the images a model was trained on, as the network sees them.

The statistic is cheap: the 10th, 50th and 90th percentiles of the normalised network input
(after the card's percentile scaling and any inversion of a bright background), from at most
:data:`_SAMPLE` pixels. A card records their range over its training images
(``input_statistics``: ``tools/input_stats.py`` for the bundled models, ``tessella train`` for
a new one); an image whose percentiles fall outside that range widened by its ``margin`` is
warned of in one line. A card without the field does no check.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["QUANTILES", "input_quantiles", "input_range", "unfamiliar_input"]

#: the percentiles (as fractions) of the normalised input that the check compares
QUANTILES = (0.1, 0.5, 0.9)
#: how far outside the training range a percentile may fall before the image is warned of
MARGIN = 0.1
_SAMPLE = 250_000  # percentiles from at most this many pixels
_NAMES = ("10th percentile", "median", "90th percentile")


def input_quantiles(data: np.ndarray) -> tuple[float, ...] | None:
    """The :data:`QUANTILES` of ``data`` (a normalised network input, every channel), from
    every ``step``-th pixel; None for a constant input (a blank frame or slice), which says
    nothing of the image."""
    flat = np.asarray(data).reshape(-1)
    if flat.size == 0:
        return None
    sample = np.asarray(flat[:: max(1, flat.size // _SAMPLE)], dtype=np.float64)
    if sample.min() == sample.max():
        return None
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


def unfamiliar_input(quantiles: tuple[float, ...] | None, card: Any, name: str) -> str:
    """The one-line warning for an image ``name`` whose normalised input has ``quantiles``
    outside the range ``card`` records for its training images; "" where they fall inside
    it, where the card records none (a model trained before the field existed) or where the
    input was constant (``quantiles`` None)."""
    stats = _card_range(card)
    if stats is None or quantiles is None:
        return ""
    margin = stats.get("margin", MARGIN)
    margin = float(margin) if isinstance(margin, int | float) else MARGIN
    off = []
    for what, value, low, high in zip(_NAMES, quantiles, stats["low"], stats["high"]):
        if value < low - margin or value > high + margin:
            off.append(f"{what} {value:.2f} (training {low:.2f}-{high:.2f})")
    if not off:
        return ""
    return (
        f"{name} looks unlike the images model {card.name!r} was trained on: as the network "
        f"sees it (normalised), its {', '.join(off)}; another channel, inverted contrast or "
        "another kind of image? Check the result"
    )

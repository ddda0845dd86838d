"""Intensity normalisation and padding."""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = [
    "BRIGHT_BACKGROUND",
    "bright_background",
    "normalize",
    "percentile_normalize",
    "percentile_scale",
    "pad_to_multiple",
    "check_finite_and_varied",
    "not_finite_words",
    "blank_channels",
    "is_blank",
    "blank_slices",
]

_SAMPLE = 2_000_000  # percentiles from at most this many pixels per channel
_SLAB = 1 << 22  # pixels of 64-bit input scaled in float64 at a time (32 MiB)

# the ``mode`` strings that :func:`numpy.pad` accepts
PadMode = Literal[
    "constant",
    "edge",
    "linear_ramp",
    "maximum",
    "mean",
    "median",
    "minimum",
    "reflect",
    "symmetric",
    "wrap",
    "empty",
]


def not_finite_words(image: np.ndarray, name: str = "image") -> str:
    """The error for ``image`` (float) holding NaN or infinite values: how many pixels of
    each, of how many, and what to do.

    >>> print(not_finite_words(np.array([[1.0, np.nan], [np.inf, np.nan]]), "a.tif"))
    ... # doctest: +NORMALIZE_WHITESPACE
    a.tif contains NaN or infinite values in 3 of its 4 pixels (2 NaN, 1 infinite): nothing
    can be segmented there; replace them first (e.g. np.nan_to_num(image, nan=0.0, posinf=...,
    neginf=...) in Python, or the value of the background), or crop them away
    """
    nan = int(np.count_nonzero(np.isnan(image)))
    inf = int(np.count_nonzero(np.isinf(image)))
    return (
        f"{name} contains NaN or infinite values in {nan + inf:,} of its {image.size:,} pixels "
        f"({nan:,} NaN, {inf:,} infinite): nothing can be segmented there; replace them first "
        "(e.g. np.nan_to_num(image, nan=0.0, posinf=..., neginf=...) in Python, or the value "
        "of the background), or crop them away"
    )


def check_finite_and_varied(image: np.ndarray, name: str = "image") -> None:
    """Raise ValueError if ``image`` is empty, has NaN/inf (:func:`not_finite_words`) or is
    constant."""
    if image.size == 0:
        raise ValueError(f"{name} is empty (shape {image.shape})")
    if np.issubdtype(image.dtype, np.floating) and not np.isfinite(image).all():
        raise ValueError(not_finite_words(image, name))
    if image.min() == image.max():
        raise ValueError(f"{name} is constant (every pixel is {image.flat[0]}): nothing to segment")


def blank_channels(minima, maxima) -> bool:
    """Whether a part of an image (a frame, a Z slice) is blank, given each channel's
    ``minima`` and ``maxima`` over it: every channel constant, each at any value of its own
    (no signal to segment). The one definition of blank, in memory (:func:`is_blank`) and in
    a blockwise run's scan (per channel of the model's input, from its statistics).

    Examples
    --------
    >>> blank_channels([7, 0], [7, 0])  # two channels, each constant (at 7 and at 0)
    True
    >>> blank_channels([0, 0], [0, 3]), blank_channels([], [])
    (False, False)
    """
    pairs = list(zip(minima, maxima))
    return bool(pairs) and all(low == high for low, high in pairs)


def is_blank(data: np.ndarray) -> bool:
    """Whether ``data`` in a model's layout ``(C, *spatial)`` (the channels the network
    reads) is blank: :func:`blank_channels` of its channels; an empty array is not.

    >>> part = np.zeros((3, 2, 2), np.uint8); part[0] = 7  # 7, 0, 0: each channel constant
    >>> is_blank(part), is_blank(np.arange(8).reshape(2, 2, 2))
    (True, False)
    """
    if data.size == 0:
        return False
    return blank_channels([c.min() for c in data], [c.max() for c in data])


def blank_slices(data: np.ndarray) -> list[int]:
    """The blank (:func:`is_blank`) Z slices ``data[:, z]`` of a volume in a model's layout
    ``(C, Z, Y, X)``, every one of them where each is blank.

    >>> volume = np.ones((2, 4, 3, 3)); volume[:, 1, 0, 0] = 5; volume[1, 3] = 0
    >>> blank_slices(volume)
    [0, 2, 3]
    """
    if data.ndim < 3 or data.size == 0:
        return []
    return [z for z in range(data.shape[1]) if is_blank(data[:, z])]


def percentile_scale(low: float, high: float, vmin: float, vmax: float) -> float:
    """What :func:`percentile_normalize` divides a channel by: the range between its
    percentiles ``low`` and ``high``, or between its ``vmin`` and ``vmax`` when those coincide
    (an image that is mostly one value), or 1 for a constant channel."""
    return float(high - low) if high > low else float(vmax - vmin) or 1.0


def percentile_normalize(
    image: np.ndarray,
    low: float = 1.0,
    high: float = 99.8,
    channel_axis: int | None = 0,
    blank: tuple[int, ...] | list[int] = (),
) -> np.ndarray:
    """Map the ``low``/``high`` percentiles of each channel to 0/1 (float32, not clipped).
    64-bit input is scaled in float64 before the cast (values beyond float32's range).

    ``blank``: indices along each channel's first axis (the Z slices of a volume) that are
    blank (constant) and left out of the percentiles, minimum and maximum, unless every one
    is; those slices are scaled as the rest.

    Examples
    --------
    >>> x = np.arange(101, dtype=np.uint8)[None]
    >>> y = percentile_normalize(x, 0, 100)
    >>> float(y.min()), float(y.max())
    (0.0, 1.0)
    """
    image = np.asarray(image)
    if image.dtype == bool:  # a binary image: 0 and 1 (numpy's percentiles refuse bools)
        image = image.view(np.uint8)
    if channel_axis is None:
        return percentile_normalize(image[None], low, high, 0, blank)[0]
    moved = np.moveaxis(image, channel_axis, 0)
    out = np.empty(moved.shape, dtype=np.float32)
    kept = _kept_slices(moved.shape[1] if moved.ndim > 1 else 0, blank)
    for c, channel in enumerate(moved):  # (no channel is copied whole: only the output is)
        if kept is None:
            lo, hi = _sampled_percentiles(channel, (low, high))
            vmin, vmax = channel.min(), channel.max()
        else:
            lo, hi = _sampled_percentiles(channel, (low, high), kept)
            vmin = min(channel[z].min() for z in kept)
            vmax = max(channel[z].max() for z in kept)
        scale = percentile_scale(lo, hi, vmin, vmax)
        if channel.dtype.itemsize > 4:  # float64 beyond float32's range, 64-bit integers:
            into = out[c, ...]  # scaled in float64, then cast: a slab at a time, not whole
            for part in _slabs(channel):
                into[part] = (channel[part] - np.float64(lo)) / scale
        else:
            np.subtract(channel, lo, out=out[c], casting="unsafe")
            out[c] /= scale
    return np.moveaxis(out, 0, channel_axis)


def _slabs(channel: np.ndarray) -> list:
    """Indices cutting ``channel`` along its first axis into slabs of at most about
    :data:`_SLAB` pixels (one row at least); ``...`` (the whole) for a 0-d one."""
    if channel.ndim == 0:
        return [...]
    rows = max(1, _SLAB // max(1, channel[0].size))
    return [slice(i, i + rows) for i in range(0, len(channel), rows)]


def _kept_slices(depth: int, blank) -> list[int] | None:
    """The slices (along a channel's first axis, of ``depth``) that are not ``blank``; None
    where none is blank, or every one is (then all count, as without any)."""
    skip = {int(z) for z in blank}
    kept = [z for z in range(depth) if z not in skip]
    return kept if skip and kept else None


def _sampled_percentiles(
    channel: np.ndarray, q: tuple[float, ...], kept: list[int] | None = None
) -> np.ndarray:
    """The percentiles ``q`` of every ``step``-th pixel of ``channel`` in C order (at most
    about :data:`_SAMPLE` pixels), copying the sample alone: ``reshape(-1)`` copied a whole
    channel whose pixels are not contiguous (a transposed stack, a channel-last image).
    ``kept``: only those slices (first axis) count, as if the others were not there."""
    if kept is not None:
        size = channel[0].size
        step = max(1, size * len(kept) // _SAMPLE)
        parts, offset = [], 0
        for z in kept:  # every step-th pixel of the kept slices, one after the other
            parts.append(np.asarray(channel[z]).reshape(-1)[(-offset) % step :: step])
            offset += size
        return np.percentile(np.concatenate(parts), q, overwrite_input=True)
    step = max(1, channel.size // _SAMPLE)
    if channel.flags.c_contiguous:
        return np.percentile(channel.reshape(-1)[::step], q)  # (a view; percentile copies it)
    sample = channel.flat[::step]  # the same pixels, copied without the rest
    return np.percentile(sample, q, overwrite_input=True)  # ours: sorted in place


#: a normalised channel whose median lies above this has a bright background (brightfield,
#: H&E): most pixels are background, so the median is the background's level. On the 600
#: DSB2018 training images (polarity from their masks: nuclei darker or brighter than the rest)
#: the medians of bright-nuclei images reach 0.19 and those of dark-nuclei images start at
#: 0.43 (dense or low-contrast H&E, where nuclei cover much of the field); this is the middle
#: of that gap. (0.5 until session 11 missed the two H&E images at 0.43 and 0.49.)
BRIGHT_BACKGROUND = 0.3


def bright_background(median: float) -> bool:
    """Whether a channel whose normalised median is ``median`` has a bright background."""
    return bool(median > BRIGHT_BACKGROUND)


def _sampled_median(channel: np.ndarray, kept: list[int] | None = None) -> float:
    if kept is not None:
        return float(_sampled_percentiles(channel, (50,), kept)[0])
    flat = channel.reshape(-1)
    return float(np.median(flat[:: max(1, flat.size // _SAMPLE)]))


def normalize(
    data: np.ndarray,
    normalization: dict,
    invert: bool | None = None,
    blank: tuple[int, ...] | list[int] = (),
) -> np.ndarray:
    """A model card's ``normalization`` of a ``(C, *spatial)`` array (float32).

    Each channel's ``low``/``high`` percentiles go to 0/1 (:func:`percentile_normalize`).
    With ``invert_bright_background`` true, each channel with a bright background (its
    normalised median above :data:`BRIGHT_BACKGROUND`: brightfield and H&E images, dark objects
    on a bright field) is inverted to ``1 - x``, so that every image reaches the network with
    bright objects on a dark background, as fluorescence images come. ``invert`` overrides
    that choice for this image: True inverts every channel, False none (any model).
    ``blank``: the blank (constant) Z slices of a volume (``data[:, z]``) left out of the
    percentiles and of the median that decides the inversion, unless every slice is.

    Examples
    --------
    >>> dark = np.zeros((1, 10, 10)); dark[0, 4:6, 4:6] = 100  # a bright object
    >>> bright = 100 - dark  # the same, dark on bright
    >>> card = {"low": 0, "high": 100, "invert_bright_background": True}
    >>> bool(np.allclose(normalize(bright, card), normalize(dark, card)))
    True
    >>> float(normalize(bright, {"low": 0, "high": 100})[0, 0, 0])  # not asked: kept
    1.0
    """
    low, high = normalization.get("low", 1.0), normalization.get("high", 99.8)
    if len(blank):
        out = percentile_normalize(data, low, high, blank=blank)
    else:  # (as before: the same call)
        out = percentile_normalize(data, low, high)
    kept = _kept_slices(out.shape[1] if out.ndim > 1 else 0, blank)
    if invert is not None or normalization.get("invert_bright_background"):
        for channel in out:
            if invert if invert is not None else bright_background(_sampled_median(channel, kept)):
                np.subtract(1.0, channel, out=channel)
    return out


def pad_to_multiple(image: np.ndarray, multiple: int, n_spatial: int, mode: PadMode = "reflect"):
    """Pad the trailing ``n_spatial`` axes up to a multiple; return the array and the crop."""
    pads = [(0, 0)] * (image.ndim - n_spatial)
    crop = [slice(None)] * (image.ndim - n_spatial)
    for n in image.shape[image.ndim - n_spatial :]:
        pads.append((0, (-n) % multiple))
        crop.append(slice(0, n))
    return np.pad(image, pads, mode=mode), tuple(crop)

"""Axes: what each array axis means, and the conversion to a network's (C, *spatial) layout."""

from __future__ import annotations

import numpy as np

__all__ = [
    "SUPPORTED_AXES",
    "axes_contradict",
    "misplaced_axes",
    "supported_order",
    "check_axes",
    "guess_axes",
    "to_model_layout",
    "spatial_of",
]

SUPPORTED_AXES = ("YX", "YXC", "CYX", "ZYX", "ZYXC", "CZYX", "TYX", "TYXC", "TZYX")


def check_axes(axes: str, ndim: int, name: str = "image") -> str:
    """Validate an axes string against an array's ndim; returns it upper-cased."""
    axes = axes.upper()
    if axes not in SUPPORTED_AXES:
        raise ValueError(
            f"{name}: axes {axes!r} are not supported; use one of {', '.join(SUPPORTED_AXES)}"
        )
    if len(axes) != ndim:
        raise ValueError(f"{name}: axes {axes!r} name {len(axes)} axes but the array has {ndim}")
    return axes


def guess_axes(shape: tuple[int, ...], rgb: bool | None = None) -> str:
    """A best guess from the shape alone (metadata, when present, wins over this)."""
    ndim = len(shape)
    if ndim == 2:
        return "YX"
    if ndim == 3:
        if (rgb is None and shape[-1] in (3, 4)) or rgb:
            return "YXC"
        if shape[-1] <= 8 and min(shape[:2]) >= 4 * shape[-1]:
            return "YXC"  # a few channels last (520 x 512 x 5), not a 5-pixel-wide volume
        return "ZYX"
    if ndim == 4:
        return "ZYXC" if shape[-1] in (3, 4) else "TZYX"
    raise ValueError(f"cannot guess the axes of an array with {ndim} dimensions {shape}")


def axes_contradict(axes: str, stated: str | None) -> bool:
    """True when ``axes`` given for a file contradict the axes its metadata states
    (``stated``, ``?`` where it says nothing; see ``ImageData.stated_axes``).

    >>> axes_contradict("ZYX", "YXC")  # a colour image read as 256 slices 3 pixels wide
    True
    >>> axes_contradict("ZYX", "?YX"), axes_contradict("TYX", "?YX"), axes_contradict("YX", None)
    (False, False, False)
    """
    if stated is None:
        return False
    axes = axes.upper()
    return len(axes) != len(stated) or any(
        s not in ("?", a) for a, s in zip(axes, stated, strict=True)
    )


def misplaced_axes(axes: str, stated: str | None) -> str:
    """The letters of ``axes`` (given for a file, in the order it stores its dimensions) that
    the file's own metadata (``stated``, see :func:`axes_contradict`) put at another position:
    a reordering of what the file names, never a mere relabelling (Z read as T).

    >>> misplaced_axes("CZYX", "ZCYX"), misplaced_axes("TYX", "ZYX"), misplaced_axes("CYX", None)
    ('CZ', '', '')
    """
    if stated is None:
        return ""
    axes = axes.upper()
    return "".join(
        a for i, a in enumerate(axes) if a in stated and (i >= len(stated) or stated[i] != a)
    )


def supported_order(axes: str) -> str | None:
    """The order the engine reads the axes ``axes`` in: ``axes`` itself where supported, else
    the same letters in a supported order (a file's own order transposed), with C first where
    ``axes`` has it before Y (an ImageJ hyperstack's ZCYX as CZYX), last where after (TCYX as
    TYXC when no order has it first); None where no order of these letters is supported (five
    axes, an unknown or repeated letter).

    >>> supported_order("ZCYX"), supported_order("TCYX"), supported_order("ZYX")
    ('CZYX', 'TYXC', 'ZYX')
    >>> supported_order("TZCYX") is None
    True
    """
    axes = axes.upper()
    if axes in SUPPORTED_AXES:
        return axes
    same = [s for s in SUPPORTED_AXES if sorted(s) == sorted(axes)]
    if not same:
        return None
    if "C" in axes and "Y" in axes:
        first = axes.index("C") < axes.index("Y")
        same.sort(key=lambda s: (s.startswith("C") != first, s))
    return same[0]


def spatial_of(axes: str) -> str:
    return "".join(a for a in axes if a in "ZYX")


def alpha_left_out(axes: str, channels: int) -> bool:
    """True where a one-channel model leaves out the 4th of an image's ``channels``: 4 channels
    last (``YXC``), which tifffile writes and napari shows as RGBA, the 4th the transparency
    (alpha); channels given first (``CYX``: stains, slices or frames) are all averaged.

    >>> alpha_left_out("YXC", 4), alpha_left_out("YXC", 3), alpha_left_out("CYX", 4)
    (True, False, False)
    """
    return axes.upper().endswith("C") and channels == 4


def to_model_layout(
    image: np.ndarray, axes: str, spatial_axes: str, channels: int, rgb: str = "mean"
) -> np.ndarray:
    """Rearrange one frame (no T axis) to ``(channels, *spatial)`` for a model.

    ``rgb`` says what to do with a colour image when the model takes one channel:
    ``"mean"`` averages the channels (bright-on-dark and dark-on-bright stains both stay
    visible to the network, which was trained on both): all 3 or 4 of them, except the 4th of
    4 channels last, an RGBA image's transparency (:func:`alpha_left_out`), which is left out.

    >>> rgba = np.zeros((2, 2, 4), np.uint8); rgba[..., 0] = 30; rgba[..., 3] = 255
    >>> float(to_model_layout(rgba, "YXC", "YX", 1)[0, 0, 0])  # (30 + 0 + 0) / 3
    10.0
    >>> float(to_model_layout(np.moveaxis(rgba, -1, 0), "CYX", "YX", 1)[0, 0, 0])  # all 4
    71.25
    """
    if "T" in axes:
        raise ValueError("to_model_layout takes one time point; iterate over T first")
    if spatial_of(axes) != spatial_axes:
        raise ValueError(
            f"the image has spatial axes {spatial_of(axes)} but the model expects "
            f"{spatial_axes}" + ("; for a stack of 2D images use axes TYX" if axes == "ZYX" else "")
        )
    if "C" in axes:
        array = np.moveaxis(image, axes.index("C"), 0)
    else:
        array = image[None]
    if array.shape[0] == channels:
        return array
    if channels == 1 and array.shape[0] in (3, 4):
        if rgb != "mean":
            raise ValueError(f"unknown RGB handling {rgb!r}")
        used = array[:3] if alpha_left_out(axes, array.shape[0]) else array
        return used.astype(np.float32).mean(axis=0, keepdims=True)
    raise ValueError(f"the image has {array.shape[0]} channels but the model expects {channels}")

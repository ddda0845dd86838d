"""The axes and pixel size of a layer: the ones the writers record for a labels layer
(:func:`labels_axes`, :func:`layer_pixel_size`) and the metadata key and units the reader
sets. Part of :mod:`tessella._io`, which re-exports every name. No Qt here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._io_recipe import RECIPE_KEY

#: layer metadata: True when ``metadata["axes"]`` is the reader's guess from the shape (a
#: plain TIFF stack or zarr array names no axes), not axes the file named
AXES_GUESSED_KEY = "axes_guessed"
_MICRON = ("µm", "μm", "um", "micron", "microns", "micrometer", "micrometers", "µ")
_NO_UNIT = ("", "pixel", "pixels", "px")


def recorded_axes(
    ndim: int, metadata: dict | None = None, axis_labels: Sequence | None = None
) -> str | None:
    """The axes a labels layer records, best evidence first; None when none fits ``ndim``:

    1. ``metadata["axes"]`` its file named (the reader found them in the file);
    2. the axes of the recipe of the image Segment made it from (without C): how Segment
       read that image, e.g. a plain 3D TIFF as frames (TYX) for a time-lapse model;
    3. what its ``axis_labels`` (napari's dimension names) say, e.g. "t", "y", "x" given by
       the user or a script;
    4. ``metadata["axes"]`` the reader only guessed from the shape (``axes_guessed``: a plain
       3D TIFF is ZYX, though it may be a time-lapse).

    >>> guessed = {"axes": "ZYX", "axes_guessed": True}
    >>> recorded_axes(3, guessed), recorded_axes(3, guessed, ("t", "y", "x"))
    ('ZYX', 'TYX')
    >>> recorded_axes(3, {"axes": "ZYX"}, ("t", "y", "x"))  # the file named them
    'ZYX'
    """
    from tessella.engine.axes import SUPPORTED_AXES

    metadata = metadata or {}
    recipe = metadata.get(RECIPE_KEY)
    guessed = bool(metadata.get(AXES_GUESSED_KEY))
    candidates = [
        None if guessed else metadata.get("axes"),
        recipe.get("axes") if isinstance(recipe, dict) else None,
        named_axes(axis_labels, ndim),
        metadata.get("axes") if guessed else None,
    ]
    for axes in candidates:
        if isinstance(axes, str):
            axes = axes.upper().replace("C", "")
            if len(axes) == ndim and axes in SUPPORTED_AXES:
                return axes
    return None


_AXIS_NAMES = {"t": "T", "time": "T", "z": "Z", "y": "Y", "x": "X"}


def named_axes(axis_labels: Sequence | None, ndim: int) -> str | None:
    """The axes a layer's ``axis_labels`` name ("t", "y", "x" -> TYX); None when they don't."""
    from tessella.engine.axes import SUPPORTED_AXES

    if axis_labels is None or len(axis_labels) != ndim:
        return None
    axes = "".join(_AXIS_NAMES.get(str(label).strip().lower(), "?") for label in axis_labels)
    return axes if axes in SUPPORTED_AXES else None


def labels_axes(
    ndim: int, metadata: dict | None = None, axis_labels: Sequence | None = None
) -> str:
    """The axes of a labels layer: :func:`recorded_axes` (its file's, its recipe's, its
    ``axis_labels``', the reader's guess, in that order), else YX, ZYX or TZYX by ``ndim``."""
    from tessella.engine.measure import labels_axes_for

    return recorded_axes(ndim, metadata, axis_labels) or labels_axes_for(ndim)


def _unit_text(unit) -> str:
    """A unit (string or pint Unit) as text: "µm", "nm", "pixel"."""
    if unit is None:
        return ""
    if isinstance(unit, str):
        text = unit.strip()
    else:
        text = str(unit) if str(unit) in ("micron", "pixel") else f"{unit:~}"
    return "µm" if text in _MICRON else text


def pixel_size_of(
    axes: str, scale: Sequence[float] | None, units: Sequence | None = None
) -> tuple[dict[str, float] | None, str]:
    """``({axis: size}, unit)`` of the spatial axes from a layer's scale and units.

    ``(None, "pixel")`` when the scale is 1 and there is no unit; a scale without a unit is
    taken to be in µm, the microscopy default that Fiji also assumes.
    """
    scale = [1.0] * len(axes) if scale is None else [float(s) for s in scale]
    if len(scale) != len(axes):
        raise ValueError(f"the scale {tuple(scale)} does not fit axes {axes}")
    texts = [_unit_text(u) for u in units] if units is not None else [""] * len(axes)
    sizes = {axis: size for axis, size in zip(axes, scale) if axis in "ZYX"}
    named = [t for axis, t in zip(axes, texts) if axis in "ZYX" and t not in _NO_UNIT]
    if not named and all(size == 1.0 for size in sizes.values()):
        return None, "pixel"
    return sizes, named[0] if named else "µm"


def layer_pixel_size(
    axes: str, scale, units=None, metadata: Sequence = ()
) -> tuple[dict[str, float] | None, str, bool]:
    """``(sizes, unit, guessed)``: the pixel size to write for a layer, its unit, and whether
    the unit is µm by assumption.

    napari's default unit is "pixel", so a layer's units cannot tell "never set" from "a
    pixel size without a unit". A scale of 1 without a unit is no pixel size; a unit the layer
    names (the reader gives one where the file has one) is written; a scale that is the pixel
    size our reader recorded in one of ``metadata`` (layer metadata dicts) is written with that
    file's unit ("pixel" when it had none), so the file reads back the same; any other scale
    without a unit (set by hand) is taken to be in µm, as Fiji assumes (``guessed``)."""
    sizes, unit = pixel_size_of(axes, scale, units)
    texts = [_unit_text(u) for u in units] if units is not None else [""] * len(axes)
    if sizes is None or any(t not in _NO_UNIT for a, t in zip(axes, texts) if a in "ZYX"):
        return sizes, unit, False
    for meta in metadata:
        recorded, file_unit = meta.get("pixel_size"), meta.get("unit")
        if not isinstance(recorded, dict) or not isinstance(file_unit, str):
            continue
        try:
            same = set(recorded) >= set(sizes) and all(
                np.isclose(float(recorded[axis]), size) for axis, size in sizes.items()
            )
        except (TypeError, ValueError):
            continue
        if same:
            file_unit = file_unit.strip()
            return sizes, "pixel" if file_unit in _NO_UNIT else file_unit, False
    return sizes, unit, True

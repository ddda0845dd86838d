"""The axes a label file is scored with: the axes given (``tessella evaluate --axes``,
``axes=``) where the file names none, refused where its own metadata name others; else the
axes its file names; else those of the recipe beside it (``name.recipe.json``, or a
blockwise zarr's ``tessella`` attribute: how Segment read the image it was made from, a
plain 3D TIFF as frames TYX for a time-lapse model), as the Evaluate panel's reader takes
them (:func:`tessella._io.recorded_axes`); else the reader's guess from its shape."""

from __future__ import annotations

import warnings
from pathlib import Path

from ._pairing import EvaluationInputError

__all__ = ["read_scored", "recipe_axes"]


def _recipe_of(path: Path) -> tuple[dict, str] | None:
    """``(recipe, where)``: the Segment recipe kept with the labels ``path``, as the reader
    finds it (:func:`~tessella.engine.io._kept_recipe.kept_recipe`)."""
    from ..io._kept_recipe import kept_recipe

    return kept_recipe(path)


def recipe_axes(path: Path, ndim: int) -> tuple[str, str] | None:
    """``(axes, where)``: the axes of the recipe kept with the labels ``path`` (without C:
    the axes of the image they were made from), where they fit labels of ``ndim`` axes, and
    where that recipe is, in words; None otherwise."""
    from ..axes import SUPPORTED_AXES

    found = _recipe_of(Path(path))
    if found is None:
        return None
    axes = found[0].get("axes")
    if not isinstance(axes, str):
        return None
    axes = axes.upper().replace("C", "")
    if len(axes) != ndim or axes not in SUPPORTED_AXES:
        return None
    return axes, found[1]


def _named(image) -> bool:
    """Whether the file of ``image`` names every axis in its metadata."""
    stated = getattr(image, "stated_axes", None)
    return isinstance(stated, str) and bool(stated) and "?" not in stated


def read_scored(path: Path, axes: str | None = None, flags: bool = True):
    """``(image, how)``: the label file ``path`` read (:func:`~tessella.engine.io.read_image`)
    with the axes it is scored with, and what gives them where the file does not (``"--axes
    TYX"``, ``"the recipe beside a.tif (a.recipe.json)"``; "" where its metadata name them or
    they are the reader's guess). ``axes`` given (``--axes``) are for files that name none:
    :class:`EvaluationInputError` naming the file and both where its metadata name others, or
    where they do not fit it. ``flags``: the option named as the command line gives it
    (``--axes TYX``), else as :func:`tessella.evaluate_paths` does (``axes='TYX'``)."""
    from ..io import AxesContradictionWarning, read_image
    from ._words import option, set_to

    if axes is not None:
        axes = axes.upper()
        given = set_to("axes", axes, flags)
        try:
            with warnings.catch_warnings():
                # (axes the file's metadata contradict: refused below, not read as given)
                warnings.simplefilter("error", AxesContradictionWarning)
                return read_image(path, axes), given
        except AxesContradictionWarning:
            own = read_image(path)
            word = option("axes", flags) + ("" if flags else "=")
            raise EvaluationInputError(
                f"{path}: its {own.stated_by} name the axes {own.stated_axes}, not {axes} "
                f"({given}); {word} gives the axes of files that name none: leave it "
                "out to score this file by its own, or score the files apart"
            ) from None
        except ValueError as exc:
            raise EvaluationInputError(f"{exc} ({given})") from None
    image = read_image(path)
    if _named(image) or image.data.dtype.kind not in "biu" or "C" in image.axes:
        return image, ""
    found = recipe_axes(Path(path), len(image.data.shape))
    if found is None:
        return image, ""
    if found[0] == image.axes:
        return image, found[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (said reading it first)
        return read_image(path, found[0]), found[1]

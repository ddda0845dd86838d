"""The axes a label file is scored with: the axes given (``tessella evaluate --axes``,
``axes=``) where the file names none, refused where its own metadata name others; else the
axes its file names; else those of the recipe beside it (``name.recipe.json``, or a
blockwise zarr's ``tessella`` attribute: how Segment read the image it was made from, a
plain 3D TIFF as frames TYX for a time-lapse model), as the Evaluate panel's reader takes
them (:func:`tessella._io.recorded_axes`); else the reader's guess from its shape."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from ._pairing import EvaluationInputError

__all__ = ["read_scored", "recipe_axes"]

#: the zarr attribute in which a blockwise run keeps the recipe of the labels it wrote
#: (``tessella._io_recipe.ZARR_RECIPE_ATTR``)
_ZARR_RECIPE_ATTR = "tessella"


def _recipe_files(path: Path) -> list[Path]:
    """The sidecars that may hold the recipe of labels ``path``, as the reader looks for
    them (``tessella._io_recipe._sidecars``): ``name.recipe.json`` (an older version's name
    too), and for Export's mask stack ``name.stack.tif`` its export's ``name.recipe.json``."""
    from ..io._zarr import labels_recipe_path, older_labels_recipe_path

    found = [labels_recipe_path(path)]
    older = older_labels_recipe_path(path)
    if older is not None:
        found.append(older)
    stem = path.name.rsplit(".", 1)[0]
    if stem.lower().endswith(".stack") and len(stem) > len(".stack"):
        found.append(path.with_name(stem[: -len(".stack")] + ".recipe.json"))
    return found


def _recipe_of(path: Path) -> tuple[dict, str] | None:
    """``(recipe, where)``: the Segment recipe kept with the labels ``path`` (a zarr's
    attribute, else the first sidecar that reads as JSON and, written by Export, names this
    file) and where it is, in words; None where there is none or it is no Segment recipe
    (a ``model`` and its ``params``)."""
    from ..io import is_zarr_path

    found, where = None, ""
    if is_zarr_path(path):
        try:
            import zarr

            found = zarr.open(str(path), mode="r").attrs.get(_ZARR_RECIPE_ATTR)
            where = f"the recipe in the attributes of {path.name}"
        except Exception:  # (the file is read by read_image; the recipe is a bonus)
            found = None
    if not isinstance(found, dict):
        found = None
        for sidecar in _recipe_files(path):
            if not sidecar.is_file():
                continue
            try:
                read = json.loads(sidecar.read_text())
            except (OSError, ValueError):
                continue
            exported = read.get("exported") if isinstance(read, dict) else None
            if isinstance(exported, dict) and path.name not in exported.values():
                continue  # Export wrote it for other files of this name
            found, where = read, f"the recipe beside {path.name} ({sidecar.name})"
            break
    if not isinstance(found, dict) or not isinstance(found.get("model"), str):
        return None
    return (found, where) if isinstance(found.get("params"), dict) else None


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


def read_scored(path: Path, axes: str | None = None):
    """``(image, how)``: the label file ``path`` read (:func:`~tessella.engine.io.read_image`)
    with the axes it is scored with, and what gives them where the file does not (``"--axes
    TYX"``, ``"the recipe beside a.tif (a.recipe.json)"``; "" where its metadata name them or
    they are the reader's guess). ``axes`` given (``--axes``) are for files that name none:
    :class:`EvaluationInputError` naming the file and both where its metadata name others, or
    where they do not fit it."""
    from ..io import AxesContradictionWarning, read_image

    if axes is not None:
        axes = axes.upper()
        try:
            with warnings.catch_warnings():
                # (axes the file's metadata contradict: refused below, not read as given)
                warnings.simplefilter("error", AxesContradictionWarning)
                return read_image(path, axes), f"--axes {axes}"
        except AxesContradictionWarning:
            own = read_image(path)
            raise EvaluationInputError(
                f"{path}: its {own.stated_by} name the axes {own.stated_axes}, not {axes} "
                f"(--axes {axes}); --axes gives the axes of files that name none: leave it "
                "out to score this file by its own, or score the files apart"
            ) from None
        except ValueError as exc:
            raise EvaluationInputError(f"{exc} (--axes {axes})") from None
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

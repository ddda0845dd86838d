"""Where the recipe Segment kept with a labels file is, and what it holds: a blockwise zarr's
:data:`ZARR_RECIPE_ATTR` attribute, else the ``name.recipe.json`` that ``tessella segment``,
Export and File > Save write beside ``name.tif``/``name.zarr``. One lookup for the reader
(:mod:`tessella._io_recipe`) and ``tessella evaluate``'s axes
(:mod:`tessella.engine.evaluation._file_axes`), which took it from the reader's copy."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["STACK_STEM", "ZARR_RECIPE_ATTR", "kept_recipe", "recipe_sidecars", "sidecar_recipe"]

#: the zarr attribute in which a blockwise run (the Segment panel's or ``tessella segment``'s)
#: keeps the recipe of the labels it wrote
ZARR_RECIPE_ATTR = "tessella"
#: the end of the name (before ``.tif``) of the mask stack Export writes beside the labels
STACK_STEM = ".stack"


def recipe_sidecars(path: Path) -> list[Path]:
    """The files that may hold the recipe of ``path``: ``name.recipe.json`` beside
    ``name.tif``/``name.zarr`` (:func:`~tessella.engine.io._zarr.labels_recipe_path`; OME
    labels ``labels/cells.v1``: ``cells.v1.recipe.json``, then the ``cells.recipe.json`` an
    older version wrote where it is theirs alone), and for Export's mask stack
    ``name.stack.tif`` the ``name.recipe.json`` Export wrote beside it (which names it in
    ``exported``)."""
    from ._zarr import labels_recipe_path, older_labels_recipe_path

    found = [labels_recipe_path(path)]
    older = older_labels_recipe_path(path)
    if older is not None:
        found.append(older)
    stem = path.name.rsplit(".", 1)[0]
    if stem.lower().endswith(STACK_STEM) and len(stem) > len(STACK_STEM):
        found.append(path.with_name(stem[: -len(STACK_STEM)] + ".recipe.json"))
    return found


def sidecar_recipe(path: Path) -> tuple[Path, dict] | None:
    """The sidecar (:func:`recipe_sidecars`) holding the recipe of ``path`` and what it
    holds: the first that reads as JSON and, when Export wrote it (``exported``), names this
    file."""
    for sidecar in recipe_sidecars(path):
        if not sidecar.is_file():
            continue
        try:
            found = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            continue
        exported = found.get("exported") if isinstance(found, dict) else None
        if isinstance(exported, dict) and path.name not in exported.values():
            continue  # Export wrote it for other files of this name
        return sidecar, found
    return None


def kept_recipe(path: Path) -> tuple[dict, str] | None:
    """``(recipe, where)``: the Segment recipe kept with the labels in ``path`` (a zarr's
    :data:`ZARR_RECIPE_ATTR` attribute, else its sidecar: :func:`sidecar_recipe`) and where
    it is, in words; None when there is none, or it is no Segment recipe (a ``model`` and
    its ``params``)."""
    from ._image import is_zarr_path

    found, where = None, ""
    if is_zarr_path(path):
        import zarr

        try:
            found = zarr.open(str(path), mode="r").attrs.get(ZARR_RECIPE_ATTR)
            where = f"the recipe in the attributes of {path.name}"
        except Exception:  # (the labels are read otherwise; the recipe is a bonus)
            found = None
    if not isinstance(found, dict):
        beside = sidecar_recipe(path)
        found = None
        if beside is not None:
            found, where = beside[1], f"the recipe beside {path.name} ({beside[0].name})"
    if not isinstance(found, dict) or not isinstance(found.get("model"), str):
        return None
    return (found, where) if isinstance(found.get("params"), dict) else None

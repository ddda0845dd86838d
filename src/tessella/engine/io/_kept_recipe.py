"""Where the recipe Segment kept with a labels file is, and what it holds: a blockwise zarr's
:data:`ZARR_RECIPE_ATTR` attribute, else the ``name.recipe.json`` that ``tessella segment``,
Export and File > Save write beside ``name.tif``/``name.zarr`` (``name.zarr.recipe.json``,
its whole name, where ``name.recipe.json`` is the recipe of another labels file of that name:
:func:`recipe_to_write`). One lookup for the reader (:mod:`tessella._io_recipe`) and
``tessella evaluate``'s axes (:mod:`tessella.engine.evaluation._file_axes`), and one rule for
where the writers put it (``tessella segment``, File > Save)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

__all__ = [
    "RECIPE_SUFFIX",
    "STACK_STEM",
    "ZARR_RECIPE_ATTR",
    "kept_recipe",
    "labels_recipe_files",
    "name_older_shared_recipe",
    "own_recipe_path",
    "recipe_sidecars",
    "recipe_to_write",
    "recorded_files",
    "recorded_for",
    "shared_recipe_claimants",
    "shared_recipe_owner",
    "sidecar_recipe",
]

#: the zarr attribute in which a blockwise run (the Segment panel's or ``tessella segment``'s)
#: keeps the recipe of the labels it wrote
ZARR_RECIPE_ATTR = "tessella"
#: the end of the name (before ``.tif``) of the mask stack Export writes beside the labels
STACK_STEM = ".stack"


#: the end of a recipe file's name
RECIPE_SUFFIX = ".recipe.json"
#: what a labels file's name ends with where it may share its recipe name with another
#: (``NAME.tif``, ``NAME.tiff`` and ``NAME.zarr`` all had ``NAME.recipe.json``)
_SHARING_SUFFIXES = (".tif", ".tiff", ".zarr")


def own_recipe_path(path: str | os.PathLike) -> Path:
    """The recipe name that is ``path``'s alone: its whole name and ``.recipe.json``
    (``NAME.zarr`` -> ``NAME.zarr.recipe.json``), where the shared one
    (:func:`~tessella.engine.io._zarr.labels_recipe_path`, ``NAME.recipe.json``) is another
    labels file's.

    >>> own_recipe_path("out/a.zarr").name, own_recipe_path("out/a.ome.zarr").name
    ('a.zarr.recipe.json', 'a.ome.zarr.recipe.json')
    """
    path = Path(path)
    return path.with_name(path.name + RECIPE_SUFFIX)


def recorded_files(recipe: object) -> list[str] | None:
    """The names of the files a recipe was written for (its ``exported``: Export's outputs,
    File > Save's and ``tessella segment``'s labels); None where it records none (written
    before they were recorded, or by hand).

    >>> recorded_files({"exported": {"tiff": "a.tif", "csv": "a.csv"}}), recorded_files({})
    (['a.tif', 'a.csv'], None)
    """
    exported = recipe.get("exported") if isinstance(recipe, dict) else None
    if not isinstance(exported, dict):
        return None
    return [name for name in exported.values() if isinstance(name, str)]


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _sharing(shared: Path, path: Path, recipe: object) -> list[str]:
    """The labels files beside ``path`` other than it whose shared recipe name is ``shared``
    and that have none of their own (:func:`own_recipe_path`), so that ``shared`` may be
    theirs: ``NAME.tif``, ``NAME.tiff`` and ``NAME.zarr`` (or in capitals) for
    ``NAME.recipe.json``, looked for by name (no listing: a batch's folder may hold
    thousands of outputs); the image the recipe was made from (its ``input``), read beside
    its labels, is none of them. Names that differ from ``path``'s in case only are taken
    for ``path`` (one file where the file system ignores case)."""
    stem = shared.name[: -len(RECIPE_SUFFIX)]
    source = recipe.get("input") if isinstance(recipe, dict) else None
    image = Path(source).name.lower() if isinstance(source, str) else None
    found: dict[str, str] = {}
    for suffix in (*_SHARING_SUFFIXES, *(s.upper() for s in _SHARING_SUFFIXES)):
        name = stem + suffix
        lower = name.lower()
        if lower in (path.name.lower(), image) or lower in found:
            continue
        if os.path.lexists(path.parent / name) and not os.path.lexists(
            own_recipe_path(path.parent / name)
        ):
            found[lower] = name
    return sorted(found.values())


def recorded_for(path: str | os.PathLike) -> dict[str, str]:
    """What a recipe written beside labels ``path`` records as the file it is for
    (``exported``, under Export's name for its kind), so that the reader and the next write
    know whose ``NAME.recipe.json`` it is where ``NAME.tif`` and ``NAME.zarr`` are both
    beside it.

    >>> recorded_for("out/a.ome.zarr"), recorded_for("out/a.tif"), recorded_for("b/labels/c")
    ({'ome_zarr': 'a.ome.zarr'}, {'tiff': 'a.tif'}, {'zarr': 'c'})
    """
    name = Path(path).name
    if name.lower().endswith(".ome.zarr"):
        return {"ome_zarr": name}
    return {"tiff" if name.lower().endswith((".tif", ".tiff")) else "zarr": name}


def shared_recipe_claimants(path: str | os.PathLike) -> list[str]:
    """The labels files beside ``path`` whose recipe ``NAME.recipe.json`` could be as well
    as ``path``'s, where it names no file (written by an older version) and other labels
    files of that name have none of their own (:func:`_sharing`); [] where it names its
    files, or is absent. The reader takes it for none of them, and says so."""
    from ._zarr import labels_recipe_path

    path = Path(path)
    shared = labels_recipe_path(path)
    if shared == own_recipe_path(path) or not shared.is_file():
        return []
    recipe = _read_json(shared)
    if recorded_files(recipe) is not None:
        return []
    return _sharing(shared, path, recipe)


def name_older_shared_recipe(path: str | os.PathLike) -> None:
    """Before labels with no recipe are written to ``path`` (not there yet): where the
    shared ``NAME.recipe.json`` names no file (an older version's) and is the recipe of one
    other labels file (``NAME.zarr``, saving ``NAME.tif``), record that file in it
    (``exported``), so that it stays that file's once ``path`` is beside it, rather than
    becoming either's (:func:`shared_recipe_claimants`). Nothing where it cannot be written
    (it is then either's, and the reader says so)."""
    from ._write import write_json
    from ._zarr import labels_recipe_path

    path = Path(path)
    shared = labels_recipe_path(path)
    if os.path.lexists(path) or not shared.is_file():
        return
    recipe = _read_json(shared)
    if not isinstance(recipe, dict) or recorded_files(recipe) is not None:
        return
    others = _sharing(shared, path, recipe)
    if len(others) == 1:
        with contextlib.suppress(OSError):
            write_json(shared, {**recipe, "exported": recorded_for(path.parent / others[0])})


def shared_recipe_owner(path: str | os.PathLike) -> str | None:
    """The labels file beside ``path`` whose recipe the shared ``NAME.recipe.json``
    (:func:`~tessella.engine.io._zarr.labels_recipe_path`) is, where it is another's than
    ``path``'s; None where it is ``path``'s, or nobody's (absent, or written for files gone
    since). A recipe that names the files it was written for (:func:`recorded_files`) is
    theirs; an older one that names none is ``path``'s only where no other labels file
    sharing its name is beside it without a recipe of its own (:func:`_sharing`: where
    ``NAME.tif`` and ``NAME.zarr`` are both there, it could be either's)."""
    from ._zarr import labels_recipe_path

    path = Path(path)
    shared = labels_recipe_path(path)
    if not os.path.lexists(shared):
        return None
    recipe = _read_json(shared)
    names = recorded_files(recipe)
    if names is not None:
        if path.name in names:
            return None
        there = [name for name in names if os.path.lexists(path.parent / name)]
        return there[0] if there else None
    others = _sharing(shared, path, recipe)
    return others[0] if others else None


def recipe_to_write(path: str | os.PathLike, together: tuple[str, ...] = ()) -> Path:
    """Where the recipe of labels written to ``path`` goes: ``NAME.recipe.json``
    (:func:`~tessella.engine.io._zarr.labels_recipe_path`) unless that is the recipe of
    another labels file of the same name beside it (:func:`shared_recipe_owner`:
    ``NAME.tif``'s, writing ``NAME.zarr``; not one of the files named in ``together``,
    written with ``path`` under one recipe, as Export writes ``NAME.tif`` and ``NAME.zarr``),
    or ``path`` has one of its own already; then ``NAME.zarr.recipe.json``
    (:func:`own_recipe_path`). So that each labels file keeps its own recipe, and the one a
    single output has keeps its name."""
    from ._zarr import labels_recipe_path

    path = Path(path)
    shared, own = labels_recipe_path(path), own_recipe_path(path)
    if own == shared or os.path.lexists(own):
        return own
    if shared.is_dir() or shared_recipe_owner(path) in (None, *together):
        return shared
    return own


def labels_recipe_files(path: str | os.PathLike) -> list[Path]:
    """The files that may hold the recipe of labels ``path``, in the order they are read:
    its own (:func:`own_recipe_path`), the shared ``NAME.recipe.json`` where it is
    ``path``'s (:func:`shared_recipe_owner`), and the name an older version gave dotted
    OME-Zarr labels (:func:`~tessella.engine.io._zarr.older_labels_recipe_path`)."""
    from ._zarr import labels_recipe_path, older_labels_recipe_path

    path = Path(path)
    shared, own = labels_recipe_path(path), own_recipe_path(path)
    found = [own] if own != shared else []
    if own == shared or shared_recipe_owner(path) is None:
        found.append(shared)
    older = older_labels_recipe_path(path)
    if older is not None:
        found.append(older)
    return found


def recipe_sidecars(path: Path) -> list[Path]:
    """The files that may hold the recipe of ``path``: those of :func:`labels_recipe_files`
    (``NAME.zarr.recipe.json``, then ``NAME.recipe.json`` where it is this file's; OME
    labels ``labels/cells.v1``: ``cells.v1.recipe.json``, then the ``cells.recipe.json`` an
    older version wrote where it is theirs alone), and for Export's mask stack
    ``name.stack.tif`` the recipe Export wrote beside it (which names it in ``exported``):
    ``name.tif.recipe.json`` where ``name.recipe.json`` was another file's, else that."""
    found = labels_recipe_files(path)
    stem = path.name.rsplit(".", 1)[0]
    if stem.lower().endswith(STACK_STEM) and len(stem) > len(STACK_STEM):
        base = stem[: -len(STACK_STEM)]  # (the labels' own, where Export wrote it there)
        found += [
            path.with_name(base + ".tif" + RECIPE_SUFFIX),
            path.with_name(base + RECIPE_SUFFIX),
        ]
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

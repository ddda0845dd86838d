"""``tessella segment --csv``'s table of images (``OUT/images.csv``): one row an image of a
folder run, beside its table of objects (``OUT/measurements.csv``, one row an object), as
CellProfiler writes ``Image.csv`` beside its tables of objects. An image of 0 objects (a blank
well of a plate) or one that failed has no row among the objects; here it has one, so that a
join by image (a plate map) keeps it: its status, count of objects, the warnings said of it
(or its error), its labels, model and recipe."""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = [
    "IMAGES_COLUMNS",
    "IMAGES_NAME",
    "images_path",
    "images_rows",
    "objects_in",
    "write_images_csv",
]

#: the table of images of a folder run, in the output folder beside ``measurements.csv``
IMAGES_NAME = "images.csv"
#: its columns: the input's file name (``measurements.csv``'s ``image``); ``ok``, ``empty``
#: (0 objects) or ``failed`` (no labels written this run, or none measured); the objects
#: (distinct labels; empty where it failed); the warnings said of it, or its error; its
#: labels, model and recipe (paths from the output folder)
IMAGES_COLUMNS = ("image", "status", "n_objects", "warning", "labels", "model", "recipe")
#: what ``images.csv`` says of kept labels measured from their file (the network not run for
#: them: their mean_confidence empty, where the model has one)
KEPT_MEASURED = "measured from the labels kept by --skip-existing (the network not run for them)"


def images_path(combined: Path) -> Path:
    """``images.csv`` beside a folder run's table of objects ``combined``."""
    return Path(combined).with_name(IMAGES_NAME)


def objects_in(table: Path) -> int:
    """How many objects an image's CSV ``table`` measures: its distinct ``label`` values (an
    object of a movie has a row a frame; none: 0)."""
    with open(table, newline="", encoding="utf-8") as handle:
        return len({row.get("label") for row in csv.DictReader(handle)})


def _from(path: Path, folder: Path) -> str:
    """``path`` as ``images.csv`` in ``folder`` names it: from the folder where it is in it."""
    try:
        return str(Path(path).relative_to(folder))
    except ValueError:
        return str(path)


def images_rows(
    all_jobs,
    measured: dict,
    heard: dict,
    errors: dict,
    previous: dict,
    model_name: str,
    folder: Path,
    kept_measured=frozenset(),
) -> list[dict]:
    """The rows of ``images.csv`` (:data:`IMAGES_COLUMNS`), one per ``(source, target)`` of
    ``all_jobs`` in their order: ``measured`` maps an image's name to its CSV (the images
    segmented and those ``--skip-existing`` kept), ``heard`` to the warnings said while it
    was segmented, ``errors`` to why it failed (or why its kept labels were not measured);
    ``previous``: the rows of the ``images.csv`` there before (by image), whose warnings a
    kept image keeps; ``kept_measured``: the kept images measured from their labels now."""
    from ._write import _found_recipe_path

    rows = []
    for source, target in all_jobs:
        name = Path(source).name
        row = dict.fromkeys(IMAGES_COLUMNS, "")
        row.update(image=name, model=model_name)
        table = measured.get(name)
        if table is None:
            row["status"] = "failed"
            row["warning"] = errors.get(name, "not segmented")
            rows.append(row)
            continue
        count = objects_in(Path(table))
        said = heard.get(name)
        if said is None:  # kept by --skip-existing: what was said when it was segmented
            before = previous.get(name) or {}
            kept_said = before.get("status") != "failed" and before.get("labels") == _from(
                target, folder
            )
            said = [before.get("warning") or ""] if kept_said else []
            if name in kept_measured:
                said.append(KEPT_MEASURED)
        recipe = _found_recipe_path(Path(target))
        row.update(
            status="ok" if count else "empty",
            n_objects=str(count),
            warning="; ".join(dict.fromkeys(w for w in said if w)),
            labels=_from(target, folder),
            recipe=_from(recipe, folder) if recipe.is_file() else "",
        )
        rows.append(row)
    return rows


def write_images_csv(path: Path, rows: list[dict]) -> Path:
    """Write ``rows`` (:func:`images_rows`) as ``images.csv`` at ``path``, atomically."""
    from ..engine.io import atomic_path

    with atomic_path(path, True, False) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(IMAGES_COLUMNS), restval="")
            writer.writeheader()
            writer.writerows(rows)
    return Path(path)

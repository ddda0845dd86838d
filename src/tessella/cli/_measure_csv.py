"""``tessella segment --csv``: the measurements of each image's objects as a CSV beside its
labels (``OUT/WELL.csv``, the columns of Export's CSV: :func:`~tessella.engine.measure.
measure_objects`), with each 2D object's length along its skeleton and, for a model with a
seed map or a foreground probability, its ``mean_confidence`` (as Export's CSV of labels made
by Segment), and, for a folder run,
one table of them all with an ``image`` column (``OUT/measurements.csv``). Objects of
methods that keep overlaps (``patches``: worms) are measured whole, their parts hidden under
another object included, as Export measures them (one row per object of the mask stack)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ._console import CliError

__all__ = [
    "COMBINED_NAME",
    "check_csv_outputs",
    "csv_path",
    "missing_csv",
    "write_combined_csv",
    "write_image_csv",
]

#: the table of every image of a folder run, in the output folder
COMBINED_NAME = "measurements.csv"


def csv_path(target: Path) -> Path:
    """The CSV beside labels ``target``: its name less ``.tif``/``.tiff``/``.zarr`` (and
    ``.ome`` of ``NAME.ome.zarr``) plus ``.csv`` (``E03.tif`` -> ``E03.csv``)."""
    name = target.name
    for suffix in (".ome.zarr", ".tiff", ".tif", ".zarr"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return target.with_name(name[: -len(suffix)] + ".csv")
    return target.with_name(name + ".csv")


def check_csv_paths(jobs, combined: Path | None) -> None:
    """Refuse, before any work, a run whose CSVs would land on one another: an image whose
    CSV is the folder run's table (an image named ``measurements.tif``)."""
    if combined is None:
        return
    for source, target in jobs:
        if csv_path(Path(target)) == combined:
            raise CliError(
                f"{source}: its measurements ({combined.name}) would be the folder's table of "
                "all images; rename the image or write the labels elsewhere"
            )


def check_csv_outputs(
    jobs, combined: Path | None, overwrite: bool, replace=frozenset(), rebuilt: bool = False
) -> None:
    """Refuse before any work, as the labels are (:func:`~tessella.cli._write._check_outputs`),
    a CSV this run would replace unasked: an image's CSV that exists (without ``--overwrite``;
    ``replace``: the targets whose outputs ``--skip-existing`` redoes, their CSV with them),
    and the folder run's table (``combined``) unless ``rebuilt`` (``--skip-existing``, which
    makes it again from every image's CSV) or ``--overwrite``; a folder where either goes."""
    paths = [(csv_path(Path(target)), Path(target)) for _, target in jobs]
    if combined is not None:
        paths.append((combined, None))
    for path, target in paths:
        if path.is_dir():
            raise CliError(f"{path} is a folder; the measurements go there (--csv)")
        kept = overwrite or (target in replace if target is not None else rebuilt)
        if (path.exists() or path.is_symlink()) and not kept:
            raise CliError(f"{path} exists; pass --overwrite to replace it")


def missing_csv(target: Path) -> str | None:
    """Why ``--skip-existing --csv`` redoes the complete labels ``target``: their CSV
    (:func:`csv_path`) is not there ("redoing E03.tif, B12.tif: CSV of measurements missing
    (--csv)"); None where it is."""
    return None if csv_path(Path(target)).is_file() else "CSV of measurements missing (--csv)"


def confidence_map(result, shape) -> np.ndarray | None:
    """How sure the network was, per pixel, of ``result``'s labels (of ``shape``), as Export
    measures it for labels made by Segment (its ``mean_confidence`` column): the seed map
    (embedding models) or the foreground probability (boundary, semantic), stacked over time
    as the labels are; None for a method that has neither (worms2d's patches, a time-lapse
    model's centres), or maps not of the labels' shape."""
    predictions = list(getattr(result, "predictions", ()) or ())
    for key in ("seed", "foreground"):  # (the panel's _result_cache.confidence_map)
        arrays = [p.arrays[key] for p in predictions if key in p.arrays]
        if not arrays or len(arrays) != len(predictions) or any(a.shape[0] != 1 for a in arrays):
            continue
        maps = [np.asarray(a[0]) for a in arrays]
        found = maps[0] if maps[0].ndim == len(shape) else np.stack(maps)
        if tuple(found.shape) == tuple(shape):
            return found
    return None


def measure_result(result, image, pixel_size: dict, unit: str, physical: bool) -> dict:
    """The measurements of ``result``'s objects (:func:`~tessella.engine.measure.
    measure_objects`): with the intensities of ``image`` where its array is the labels' shape
    (or has an extra last axis of channels), the physical sizes where ``physical`` (the
    labels are written with ``pixel_size`` in ``unit``), each 2D object's length along its
    skeleton; the objects of a method that keeps overlaps each measured whole."""
    from ..engine.measure import measure_objects
    from ..engine.methods import get_method

    labels = np.asarray(result.labels)
    axes = result.axes
    spatial = [a for a in axes if a in "ZYX"]
    intensities = None
    data = getattr(image, "data", None)
    if data is not None and getattr(image, "axes", None) is not None:
        data_shape = tuple(data.shape)
        if data_shape == labels.shape or (
            len(data_shape) == labels.ndim + 1 and data_shape[:-1] == labels.shape
        ):
            intensities = np.asarray(data)
    spacing = None
    if physical and all(a in pixel_size for a in spatial):
        spacing = {a: pixel_size[a] for a in spatial}
    options: dict = {"image": intensities, "spacing": spacing, "unit": unit}
    options["confidence"] = confidence_map(result, labels.shape)  # (Export's mean_confidence)
    two_d = "".join(spatial) == "YX"
    method = get_method(result.model.card.method)
    if (
        hasattr(method, "instances")
        and axes == "YX"
        and len(getattr(result, "predictions", ())) == 1
    ):  # (object k + 1 is page k: each whole)
        masks = np.asarray(method.instances(result.predictions[0], result.params), bool)
        return measure_objects(masks, instances=True, length=True, axes="YX", **options)
    return measure_objects(labels, axes=axes, length=two_d, **options)


def write_image_csv(target: Path, table: dict) -> Path:
    """Write ``table`` as ``target``'s CSV (:func:`csv_path`), atomically, replacing one
    there (the labels beside it were just written)."""
    from ..engine.measure import write_csv

    return write_csv(csv_path(target), table, overwrite=True)


def write_combined_csv(path: Path, parts: list[tuple[str, Path]]) -> Path:
    """One table of the CSVs ``parts`` (``(image name, its CSV)``), an ``image`` column
    first, written atomically to ``path``: the columns of all in the order first seen (an
    image without one, e.g. without a pixel size among images with one: empty)."""
    from ..engine.io import atomic_path

    names: list[str] = ["image"]
    rows: list[dict] = []
    for image, part in parts:
        with open(part, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            for name in reader.fieldnames or []:
                if name not in names:
                    names.append(name)
            rows.extend({"image": image, **row} for row in reader)
    with atomic_path(path, True, False) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=names, restval="")
            writer.writeheader()
            writer.writerows(rows)
    return path

"""``tessella segment --csv``: the measurements of each image's objects as a CSV beside its
labels (``OUT/WELL.csv``, the columns of Export's CSV: :func:`~tessella.engine.measure.
measure_objects`), with each 2D object's length along its skeleton and, for a model with a
seed map or a foreground probability, its ``mean_confidence`` (as Export's CSV of labels made
by Segment), and, for a folder run,
one table of them all with an ``image`` column (``OUT/measurements.csv``) and one row an
image of the run (``OUT/images.csv``: its count of objects and status, so that an image of 0
objects, a blank well, or one that failed, which has no row in the table of objects, is not
lost to a join by image). A movie whose frames are numbered (``t052.tif ...``,
``--first-frame``) gets Export's ``frame`` column after ``t``. Objects of
methods that keep overlaps (``patches``: worms) are measured whole, their parts hidden under
another object included, as Export measures them (one row per object of the mask stack)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ._console import CliError
from ._images_csv import images_path

__all__ = [
    "COMBINED_NAME",
    "check_csv_outputs",
    "csv_path",
    "missing_csv",
    "write_combined_csv",
    "write_image_csv",
]

#: the table of every image's objects of a folder run, in the output folder (beside it: the
#: table of images, :mod:`._images_csv`)
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
    CSV is one of the folder run's tables (an image named ``measurements.tif`` or
    ``images.tif``)."""
    if combined is None:
        return
    tables = {combined: "table of all images' objects", images_path(combined): "table of images"}
    for source, target in jobs:
        table = csv_path(Path(target))
        if table in tables:
            raise CliError(
                f"{source}: its measurements ({table.name}) would be the folder's "
                f"{tables[table]}; rename the image or write the labels elsewhere"
            )


def check_csv_outputs(
    jobs, combined: Path | None, overwrite: bool, replace=frozenset(), rebuilt: bool = False
) -> None:
    """Refuse before any work, as the labels are (:func:`~tessella.cli._write._check_outputs`),
    a CSV this run would replace unasked: an image's CSV that exists (without ``--overwrite``;
    ``replace``: the targets whose outputs ``--skip-existing`` redoes, their CSV with them),
    and the folder run's tables (``combined`` and beside it
    :data:`~tessella.cli._images_csv.IMAGES_NAME`) unless ``rebuilt`` (``--skip-existing``,
    which makes them again from every image's CSV) or ``--overwrite``; a folder where any
    goes."""
    paths = [(csv_path(Path(target)), Path(target)) for _, target in jobs]
    if combined is not None:
        paths += [(combined, None), (images_path(combined), None)]
    for path, target in paths:
        if path.is_dir():
            raise CliError(f"{path} is a folder; the measurements go there (--csv)")
        kept = overwrite or (target in replace if target is not None else rebuilt)
        if (path.exists() or path.is_symlink()) and not kept:
            raise CliError(f"{path} exists; pass --overwrite to replace it")


def missing_csv(target: Path) -> str | None:
    """What ``--skip-existing --csv`` must still make for the complete labels ``target``:
    their CSV (:func:`csv_path`) when it is not there ("CSV of measurements missing
    (--csv)"); None where it is. Such labels are kept as they are (perhaps corrected by
    hand) and measured from the file (:func:`measure_kept`), never segmented again."""
    return None if csv_path(Path(target)).is_file() else "CSV of measurements missing (--csv)"


def kept_without_csv(all_jobs, kept) -> list:
    """The ``(source, target)`` of ``all_jobs`` that ``--skip-existing`` kept (``kept``: their
    sources) whose CSV is not there: measured from their labels as they are on disk."""
    kept = set(kept)
    return [(s, t) for s, t in all_jobs if s in kept and missing_csv(Path(t))]


def _measured_whole(model) -> bool:
    """Whether ``model``'s objects overlap and are measured whole (``patches``: worms)."""
    from ..engine.methods import get_method

    return hasattr(get_method(model.card.method), "instances")


def _has_confidence(model) -> bool:
    """Whether a run of ``model`` gives a ``mean_confidence`` column (a seed map or a
    foreground probability, :func:`confidence_map`)."""
    from ..engine.methods import get_method

    kinds = getattr(get_method(model.card.method), "OUTPUT_KINDS", {})
    return "seed" in kinds or "foreground" in kinds


def _recorded_stack(target: Path) -> bool:
    """Whether the recipe beside ``target`` says the labels were written as a mask stack."""
    import json

    from ._write import _found_recipe_path

    try:
        return bool(json.loads(_found_recipe_path(Path(target)).read_text()).get("stack"))
    except (OSError, ValueError, AttributeError):
        return False


def check_kept_csv(kept, model, combined: Path | None, all_jobs) -> None:
    """Refuse, before any work, what ``--skip-existing --csv`` cannot do without losing
    something: labels ``kept`` without their CSV (:func:`kept_without_csv`) of a model whose
    objects overlap (worms) written as plain labels (not ``--stack``), whose objects the
    labels hide in part and cannot measure whole as a run does; and a folder run's table
    ``combined`` (or :data:`~tessella.cli._images_csv.IMAGES_NAME` beside it) that holds
    rows of images this run does not list (another plate's outputs in the same folder), which
    rebuilding it from this run's images would drop."""
    flat = [t for _, t in kept if _measured_whole(model) and not _recorded_stack(Path(t))]
    if flat:
        names = _few_names([Path(t).name for t in flat])
        raise CliError(
            f"--skip-existing --csv: {names} kept without their CSV are labels of "
            f"{model.card.name}, whose objects overlap: the labels hide parts of them, so they "
            "cannot be measured whole as a run measures them; rerun with --overwrite --csv "
            "instead of --skip-existing to segment them again (replacing those labels, and any "
            "correction made to them), or measure them as they are with Export or "
            "tessella.measure_objects"
        )
    if combined is None:
        return
    listed = {Path(s).name for s, _ in all_jobs}
    for table in (combined, images_path(combined)):
        others = sorted(set(_table_rows(table)) - listed)
        if others:
            break
    if others:
        raise CliError(
            f"--skip-existing --csv: {table} holds the measurements of "
            f"{_few_names(others)}, which this run does not segment (another plate's outputs "
            "in the same folder?); rebuilding it from this run's images would drop them: "
            "write this run's outputs to a folder of their own, or move that table aside"
        )


def _table_rows(path: Path) -> dict[str, dict]:
    """The rows of a folder run's table ``path`` by their ``image`` (the last of an image's:
    one in ``images.csv``); none where it is not there or cannot be read."""
    if not path.is_file():
        return {}
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return {row.get("image") or "": row for row in csv.DictReader(handle)}
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}


def _few_names(names: list) -> str:
    from ._console import _few

    return _few(names)


def measure_kept(
    source: Path, target: Path, read_image_of, model, on_read=None, on_lengths=None
) -> dict:
    """The measurements of the labels ``target`` kept by ``--skip-existing`` (a hand-corrected
    file is measured as it is), with the columns of a run's CSV: the intensities of the input
    ``source`` (read by ``read_image_of``, as the run reads it) where its array fits, the
    physical sizes in the pixel size and unit written with the labels, each 2D object's
    length; ``mean_confidence`` (the network's, not run for them) left empty where a run of
    ``model`` has it; a mask stack's objects (``--stack``) each measured whole; a movie's
    ``frame`` column from the frame numbers its recipe records (:func:`_kept_frame_numbers`),
    as a run writes it. Labels on disk (a zarr) are measured piece by piece, never read
    whole; ``on_read(shape, chunks, axes)`` (None: not asked) is called before it with their
    shape, chunks and axes, and gives a function then called before each read of them (a
    progress bar's tick); ``on_lengths(n)`` (None: not asked), where each 2D object's length
    is then read from them, is called between the pieces and the lengths with the number of
    reads that takes (:func:`~tessella.engine.measure.length_reads`: a bar's total)."""
    from ..engine.io import read_image
    from ..engine.measure import (
        CountedReads,
        _lengths_on_disk,
        _on_disk,
        chunks_of,
        length_reads,
        measure_objects,
        spacing_for,
        table_boxes,
    )
    from ._segment import _physical

    stack = _measured_whole(model) and _recorded_stack(target)
    labels_image = read_image(target)
    labels = labels_image.data
    if stack or not _on_disk(labels):  # (a zarr's, lazy: measured piece by piece)
        labels = np.asarray(labels)
    elif on_read is not None:
        shape = tuple(int(n) for n in labels.shape)
        labels = CountedReads(labels, on_read(shape, chunks_of(labels), labels_image.axes))
    axes = "YX" if stack else labels_image.axes
    spatial = [a for a in axes if a in "ZYX"]
    image = read_image_of(Path(source))
    shape = tuple(labels.shape[1:] if stack else labels.shape)
    data = _intensities(image, shape)
    # (read piece by piece with labels on disk, as the labels are)
    intensities = (
        data if data is None or (_on_disk(labels) and _on_disk(data)) else np.asarray(data)
    )
    unit = labels_image.unit or "µm"
    spacing = spacing_for(axes, labels_image.pixel_size, _physical(labels_image.unit))
    options: dict = {"image": intensities, "spacing": spacing, "unit": unit}
    if stack:
        table = measure_objects(
            labels.astype(bool), instances=True, length=True, axes="YX", **options
        )
    elif on_lengths is not None and _on_disk(labels) and "".join(spatial) == "YX":
        table = measure_objects(labels, axes=axes, **options)  # (the pieces, then the lengths)
        on_lengths(length_reads(table_boxes(table), labels.shape))
        table = _lengths_on_disk(table, labels, axes, spacing, unit)
    else:
        table = measure_objects(labels, axes=axes, length="".join(spatial) == "YX", **options)
    if _has_confidence(model):  # the column where a run has it (the last), left empty
        table["mean_confidence"] = np.full(len(table["label"]), "", dtype=object)
    return _with_frames(table, _kept_frame_numbers(target), tuple(labels.shape), axes)


def _intensities(image, shape: tuple):
    """The array of ``image`` (an input as read, or None) where it gives the intensities of
    labels of ``shape`` (:func:`~tessella.engine.measure.fits_labels`: the same shape, or an
    extra last axis of channels), as it is (lazy where it is); else None."""
    from ..engine.measure import fits_labels

    data = getattr(image, "data", None)
    if data is None or not fits_labels(data.shape, shape):
        return None
    return data


def kept_not_measured(target: Path, exc: BaseException) -> str:
    """What is said of labels ``target`` kept by ``--skip-existing`` without their CSV that
    could not be measured (``exc``), in memory and with ``--blockwise`` alike: the way on
    keeps them (never segmenting them again, which would lose their hand corrections)."""
    from ._write import _reason

    return (
        f"{target}: the kept labels could not be measured ({_reason(exc)}); rerun the same "
        f"command to measure {Path(target).name} as it is"
    )


def _kept_frame_numbers(target: Path) -> list[int] | None:
    """The frame numbers the recipe kept with the labels ``target`` records (a run of a
    movie read from ``t052.tif ...``, or of ``--first-frame``); None where it records none,
    or not as whole numbers of 0 and more (the reader's rule: :func:`~tessella._io_recipe.
    recipe_frame_numbers`, which gives Export's CSV of the labels reopened its numbers)."""
    from .._io_recipe import recipe_frame_numbers
    from ..engine.io._kept_recipe import kept_recipe

    found = kept_recipe(Path(target))
    return None if found is None else recipe_frame_numbers(found[0])


def _with_frames(table: dict, numbers, shape: tuple, axes: str) -> dict:
    """``table`` with Export's ``frame`` column (:func:`~tessella.engine.measure.
    with_frame_numbers`) where ``numbers`` are one per frame of labels of ``shape`` and
    ``axes``; else as it is (no column, as Export where they are not one a frame)."""
    from ..engine.measure import with_frame_numbers

    if not numbers or "t" not in table or "T" not in axes:
        return table
    if len(numbers) != shape[axes.index("T")]:
        return table
    return with_frame_numbers(table, numbers)


def confidence_map(result, shape) -> np.ndarray | None:
    """How sure the network was, per pixel, of ``result``'s labels (of ``shape``), as Export
    measures it for labels made by Segment (its ``mean_confidence`` column): the panel's
    rule, :func:`tessella.engine._network_maps.confidence_map`."""
    from ..engine._network_maps import confidence_map as of_result

    return of_result(result, shape)


def measure_result(
    result, image, pixel_size: dict, unit: str, physical: bool, frame_numbers=None
) -> dict:
    """The measurements of ``result``'s objects (:func:`~tessella.engine.measure.
    measure_objects`): with the intensities of ``image`` where its array is the labels' shape
    (or has an extra last axis of channels), the physical sizes where ``physical`` (the
    labels are written with ``pixel_size`` in ``unit``), each 2D object's length along its
    skeleton; the objects of a method that keeps overlaps each measured whole; a movie's
    ``frame`` column after ``t`` where ``frame_numbers`` (those the recipe records) are one a
    frame, as Export's CSV of the labels reopened."""
    from ..engine.measure import measure_objects, spacing_for
    from ..engine.methods import get_method

    labels = np.asarray(result.labels)
    axes = result.axes
    spatial = [a for a in axes if a in "ZYX"]
    intensities = None
    if getattr(image, "axes", None) is not None:
        data = _intensities(image, labels.shape)
        intensities = None if data is None else np.asarray(data)
    spacing = spacing_for(axes, pixel_size, physical)
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
    table = measure_objects(labels, axes=axes, length=two_d, **options)
    return _with_frames(table, frame_numbers, labels.shape, axes)


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

"""``tessella segment``: in memory, image by image (mask stacks, CTC folders), or
blockwise (``_blockwise``)."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from pathlib import Path

import numpy as np

from .._io_folder import FRAME_NUMBERS_KEY
from ._blockwise import _check_blockwise_usage, _replays_blockwise, _segment_blockwise
from ._console import CliError, _advance, _progress_bar, _stdout_gone
from ._inputs import (
    _chosen_part,
    _input_spacing,
    _is_frame_folder,
    _movie_frames,
    _part_said,
    _read_input,
    _say_not_images,
    _segment_jobs,
    _spacing,
)
from ._recipe import (
    _package_reference,
    _parse_sets,
    _read_recipe,
    _recipe_package,
    _run_params,
    say_replay,
)
from ._skip_existing import (
    _run_settings,
    _say_skipped_existing,
    _skip_existing,
    with_read_attributes,
)
from ._write import (
    _check_folder_writable,
    _check_outputs,
    _outputs_of,
    _write_labels_and_recipe,
)

__all__ = ["_cmd_segment"]


def _cmd_segment(args) -> int:
    import functools

    from ..engine.digest import DIGEST_KEY, labels_digest  # the reader checks it
    from ..engine.input_record import INPUT_KEY, input_identity
    from ..engine.io import (
        TIFF_SUFFIXES,
        is_zarr_path,
        labels_ome,
        read_frames,
        write_labels,
        write_mask_stack,
        write_zarr_labels,
    )
    from ..engine.io._write import write_ome_zarr_labels
    from ..engine.io._zarr import ome_image_of_labels
    from ..engine.pipeline import default_model, missing_voxel_size, segment_steps, window_of
    from ..engine.progress import Progress
    from ..engine.registry import load_model, recipe_model

    if args.axes is not None and not args.axes.strip():  # (`--axes ''`: not "no axes")
        raise CliError(
            "--axes is empty; give the input's axes in the order the file stores them "
            "(e.g. --axes YX), or leave --axes out to read the axes its metadata name"
        )
    recipe = _read_recipe(args.recipe) if args.recipe else {}
    args.blockwise = _replays_blockwise(args, recipe)
    _check_blockwise_usage(args)
    voxel = _voxel_size(args, recipe)  # --voxel-size, else the recipe's: checked
    if args.blockwise and _is_frame_folder(args.inputs):
        # (it said "the labels of a time-lapse folder go into one .tif" of -o X.zarr, and
        # "--blockwise writes zarr" of -o X.tif: no output passed both)
        raise CliError(
            f"{args.inputs[0]}: --blockwise reads one zarr image, not a folder of frames; "
            "segment the folder without --blockwise"
        )
    if args.tile is not None and args.tile <= 0:
        raise CliError(f"--tile must be a positive number of pixels, got {args.tile}")
    if recipe and not args.model and not recipe.get("model"):
        raise CliError(f"{args.recipe}: the recipe names no model; give one with --model")
    if args.model or not recipe:
        model = load_model(args.model or default_model())
    else:  # the very model of the recipe: its folder, or one of its name with its weights
        model = load_model(_recipe_package(recipe, args.recipe) or recipe_model(recipe))
        if recipe.get("model_sha256") and recipe["model_sha256"] != model.card.sha256:
            raise CliError(
                f"{args.recipe}: made with model {recipe.get('model')!r} of sha256 "
                f"{recipe['model_sha256'][:12]}…, but {model.path} has other weights "
                f"({model.card.sha256[:12]}…); pass --model to replay it with a model anyway"
            )
    # a time-lapse model reads a folder of frames as one movie
    movie = window_of(model.card) > 1 and _is_frame_folder(args.inputs)
    part = _chosen_part(args, recipe)  # --channel, --series (or the recipe's)
    first = _first_frame(args, movie)  # --first-frame N, checked
    if getattr(args, "ignore_axes_metadata", False) and (not args.axes or args.blockwise):
        raise CliError(
            "--ignore-axes-metadata reads an image with --axes as given: "
            + ("give --axes" if not args.axes else "not with --blockwise")
        )
    for key, value in part.items():
        if (args.blockwise and key != "channel") or movie:
            raise CliError(
                f"{_part_said(args, key, value)} reads one image's {key}; "
                + (
                    "--blockwise reads the whole input"
                    if args.blockwise
                    else "a folder of frames is read as a movie"
                )
                + f": write the {key} wanted to a file of its own first"
            )
    if args.ctc and window_of(model.card) == 1:  # its objects are no tracks
        raise CliError(
            f"--ctc needs a time-lapse model (it writes tracks); {model.card.name} segments "
            "frame by frame and writes no tracks (without --ctc each object of the movie gets "
            "its own ID)"
        )
    if args.skip_existing and args.ctc:  # (before --ctc DIR's files are said to exist)
        raise CliError(
            "--skip-existing cannot tell whether the files --ctc wrote are complete; run "
            "without it (--overwrite replaces the labels and the CTC files)"
        )
    if args.blockwise or movie:  # the engine checks the input (zarr) and the output
        jobs = [(Path(args.inputs[0]), Path(args.output))]
    else:
        _check_one_image_output(args.inputs, Path(args.output))
        jobs = _segment_jobs(args.inputs, args.output, csv=bool(args.csv))
    if not args.blockwise and not args.quiet:
        _say_not_images(args.inputs)
    from ..engine.io._paths import path_overlap

    for source, target in jobs:  # even with --overwrite: the image would be lost
        # (the same file by a hard link, or by another case of its name on a disk that
        # ignores case, too; not "inside": labels go into an OME-Zarr image's store)
        if path_overlap(target, source) in ("same", "holds"):
            raise CliError(
                f"{target}: the output would replace the input {source}; choose another output"
            )
    if movie and jobs[0][1].suffix.lower() not in TIFF_SUFFIXES:
        raise CliError(f"{jobs[0][1]}: the labels of a time-lapse folder go into one .tif (TYX)")
    if recipe.get("stack") and not args.stack:  # the recipe wrote an (N, Y, X) mask stack:
        why = _stack_refused(args, model, jobs)  # so does its replay, where one can be written
        if why:
            print(
                f"warning: {args.recipe} wrote a mask stack; {why}: writing labels", file=sys.stderr
            )
        args.stack = not why
    _check_stack_usage(args, model, jobs)
    if (
        recipe.get("model_sha256") and recipe["model_sha256"] != model.card.sha256
    ):  # --model chose another model on purpose: said even with -q
        print(
            f"warning: {args.recipe} was made with another model than {model.path}", file=sys.stderr
        )
    params = _run_params(model, recipe.get("params"), _parse_sets(args.set), args.recipe)
    tta = args.tta if args.tta is not None else recipe.get("tta")
    tile = args.tile or recipe.get("tile")
    invert = args.invert if args.invert is not None else recipe.get("invert")
    _check_ctc_dir(args)
    if args.ctc and getattr(params, "link", True) is False:
        raise CliError(
            "--ctc writes tracks, and with link=false no object is followed from frame to "
            "frame (each gets its own ID): leave link on for --ctc"
        )
    package = _package_reference(args.model, recipe, model)
    settings = None
    if args.skip_existing:  # what an existing output's recipe must record to be kept
        # the axes given as the file stores them (--axes, a recipe's stored_axes), else an
        # older recipe's axes (the engine's order)
        stored = args.axes or recipe.get("stored_axes")
        forced = None if movie else (stored or recipe.get("axes"))
        settings = _run_settings(
            model,
            params,
            tta,
            tile,
            invert,
            forced,
            args.stack,
            part,
            stored=bool(stored),
            first_frame=first,
            voxel_size=None if voxel is None else voxel.sizes,
            voxel_unit=None if voxel is None else voxel.unit,
        )
    measured = None  # --csv: (image name, its CSV) of the images measured, and the table
    combined = None
    if getattr(args, "csv", False):
        from ._measure_csv import COMBINED_NAME, check_csv_paths

        # (a zarr input is a folder on disk but one image: its CSV beside its labels only)
        folder = not movie and (
            len(jobs) > 1
            or any(Path(i).is_dir() and not is_zarr_path(Path(i)) for i in args.inputs)
        )
        combined = Path(args.output) / COMBINED_NAME if folder else None
        check_csv_paths(jobs, combined)
        measured = []
    all_jobs = list(jobs)
    if args.blockwise:
        _check_blockwise_ome_zarr(jobs)
        return _segment_blockwise(
            args,
            jobs,
            model,
            params,
            tta,
            tile,
            recipe,
            invert,
            package,
            settings,
            voxel,
            csv=measured is not None,
        )
    redo: dict = {}
    # a folder (several images) goes on past an image that fails and counts the failures
    # against all its images, also where --skip-existing leaves one: its messages stay the same
    several, total = len(jobs) > 1, len(jobs)
    if settings is not None:  # the voxel size of each image too (a frame folder's: not)

        def spacing_of(source: Path, recorded: dict):
            if movie:
                return None
            if voxel is not None:  # (it replaces the file's)
                return voxel.sizes, True
            return _input_spacing(source, forced, recipe, recorded, part.get("series"))

        jobs, skipped, redo = _skip_existing(jobs, settings, model, spacing_of)
        # -q: the images skipped are not said, but the outputs redone and why are (existing
        # outputs are replaced: "errors and warnings still print")
        _say_skipped_existing([] if args.quiet else skipped, redo, total)
        if measured is not None:  # --csv: kept labels are measured as they are, never redone
            from ._measure_csv import check_kept_csv, kept_without_csv

            check_kept_csv(kept_without_csv(all_jobs, skipped), model, combined, all_jobs)
    _check_outputs(jobs, args.overwrite, replace=redo)
    if measured is not None:  # the CSVs too: none replaced unasked, none written then
        from ._measure_csv import check_csv_outputs

        check_csv_outputs(jobs, combined, args.overwrite, redo, bool(args.skip_existing))
    if args.ctc and len(jobs) > 1:
        raise CliError("--ctc writes one time-lapse; give one input")
    failed: list[str] = []
    written = 0
    said_units: set = set()  # the unitless voxel sizes warned of (once per run)
    # --csv: the warnings said of each image segmented and why each that failed did, for the
    # folder's table of images (images.csv: blank and failed wells have a row there)
    heard: list[str] = []
    heard_of: dict[str, list[str]] = {}
    errors: dict[str, str] = {}
    listening = contextlib.ExitStack()
    if measured is not None:
        listening.enter_context(_warnings_heard(heard))
    try:
        for source, target in jobs:
            heard.clear()
            try:
                # before it is read: an input rewritten meanwhile is not taken for this one
                identity = with_read_attributes(input_identity(source, _outputs_of(target)), source)
                if movie:
                    image = read_frames(source)
                else:
                    image = _read_input(source, args, recipe)
                if (args.ctc or first is not None) and "T" not in image.axes:
                    # (a stack without axes metadata is read as ZYX: the hint given without
                    # --ctc too, where the model refuses it)
                    hint = (
                        f": if its first axis is time, give --axes {image.axes.replace('Z', 'T')}"
                        if "Z" in image.axes
                        else ""
                    )
                    option = "--ctc" if args.ctc else "--first-frame"
                    raise CliError(
                        f"{source}: {option} needs a time-lapse (axes with T), got {image.axes}"
                        + hint
                    )
                if voxel is not None:  # the file's pixel size replaced (checked: its axes)
                    image = voxel.given_to(image, source)
                spatial = [a for a in image.axes if a in "ZYX"]
                spacing = _spacing(image, spatial, recipe, args.recipe)
                # the output's pixel size: the input's, else the voxel size the recipe gave
                pixel_size, out_unit = _output_pixel_size(
                    image, spatial, spacing, recipe, args.recipe, said_units
                )
                # the movie's frame numbers (t052.tif ...: 52, ...), as Export records them
                # (the labels reopened in napari export their CTC masks by them); --frames A:B
                numbers, frames = _movie_frames(args, image, source, movie, first)
                steps = segment_steps(
                    image.data,
                    model,
                    image.axes,
                    params,
                    tta,
                    tile,
                    args.device,
                    name=str(source),
                    spacing=spacing,
                    invert=invert,
                    frames=frames,
                )
                bar = None
                # (the engine warns of a stack of unknown Z spacing: in the CLI's words)
                try:
                    # (the segment_steps call is given the array: what the file lacks)
                    with _warnings_in_cli_words(missing_voxel_size(image.pixel_size)):
                        while True:
                            try:
                                progress: Progress = next(steps)
                            except StopIteration as stop:
                                result = stop.value
                                break
                            if progress.stage == "predict":
                                if bar is None:
                                    unit = _bar_unit(image, progress.total)
                                    bar = _progress_bar(
                                        progress.total, source.name, args.quiet, unit
                                    )
                                _advance(bar, progress.done)
                finally:  # (Ctrl-C, SIGTERM: the one-line message not after the bar)
                    if bar is not None:
                        bar.close()
                pixel_size = {a: s for a, s in pixel_size.items() if a in result.axes}
                recorded = result.recipe() | package | {"input": str(source)} | part
                if voxel is not None:  # what --recipe replays as --voxel-size
                    recorded["voxel_size"] = list(voxel.sizes)
                if spacing is not None and _physical(out_unit):  # (its spacing's unit)
                    recorded["unit"] = out_unit
                if image.stored_axes:  # what --recipe reads it with again (axes: the engine's)
                    recorded["stored_axes"] = image.stored_axes
                    if args.axes and getattr(args, "ignore_axes_metadata", False):
                        recorded["ignore_axes_metadata"] = True
                if identity is not None:  # what --skip-existing compares the input with
                    recorded[INPUT_KEY] = identity
                if numbers is not None and len(numbers) == result.labels.shape[0]:
                    recorded[FRAME_NUMBERS_KEY] = numbers
                if result.lineage is not None:  # a linked movie's divisions, as --blockwise
                    # and Export record them: the labels reopened in napari keep their tracks
                    recorded["lineage"] = sorted(
                        [int(c), int(p)] for c, p in result.lineage.items()
                    )
                if args.stack:
                    recorded["stack"] = True
                    masks = _stack_of(target, result)
                    recorded[DIGEST_KEY] = labels_digest(masks)  # (of the 0/1 values written)
                    write = functools.partial(
                        write_mask_stack, masks=masks, pixel_size=pixel_size, unit=out_unit
                    )
                else:
                    recorded[DIGEST_KEY] = labels_digest(result.labels)
                    # OME-Zarr input: OME-Zarr labels (its version, axes and scale), as --blockwise
                    zarr_out = is_zarr_path(target) or ome_image_of_labels(target) is not None
                    ome = labels_ome(image, result.axes) if zarr_out else None
                    if is_ome_zarr_name(target) and not (ome and "version" in ome):
                        # -o NAME.ome.zarr of an image that is no OME-Zarr: a standalone
                        # OME-Zarr labels image (NGFF 0.4, axes, unit, the pixel size as
                        # its scale), as Export's "Labels as OME-Zarr" writes it
                        write = functools.partial(
                            write_ome_zarr_labels,
                            labels=result.labels,
                            axes=result.axes,
                            pixel_size=pixel_size,
                            unit=out_unit,
                            name=target.name[: -len(".ome.zarr")] or None,
                        )
                    else:
                        write = functools.partial(
                            write_zarr_labels if zarr_out else write_labels,
                            labels=result.labels,
                            axes=result.axes,
                            pixel_size=pixel_size,
                            unit=out_unit,
                            **({"ome": ome} if ome else {}),
                        )
                ctc_plan = None
                if args.ctc:  # what cannot be written as CTC is refused before any file is
                    from ..engine.tracking import ctc_tracks, write_ctc

                    ctc_plan = ctc_tracks(result.labels, result.lineage, numbers)
                # labels and their recipe: both or neither, and the previous ones kept on failure
                _write_labels_and_recipe(target, write, recorded, args.overwrite or target in redo)
                if measured is not None:  # --csv: the objects' measurements beside them
                    from ._measure_csv import csv_path, measure_result, write_image_csv

                    table = measure_result(
                        result,
                        image,
                        pixel_size,
                        out_unit,
                        _physical(out_unit),
                        recorded.get(FRAME_NUMBERS_KEY),
                    )
                    write_image_csv(target, table)
                    measured.append((source.name, csv_path(target)))
                    heard_of[source.name] = list(heard)
                if args.ctc:
                    write_ctc(
                        result.labels,
                        result.lineage,
                        args.ctc,
                        overwrite=args.overwrite,
                        tracks=ctc_plan,
                        frame_numbers=numbers,
                        pixel_size=pixel_size,  # (the masks' resolution tags: t19 #10)
                        unit=out_unit,
                    )
                written += 1
                if not args.quiet:
                    linked = result.lineage is not None and getattr(result.params, "link", True)
                    what = "track" if linked else "object"  # (link=false: no object followed)
                    said = f"{source} -> {target}: {_counted(int(result.labels.max()), what)}"
                    if ctc_plan is not None:  # the CTC folder too, and its tracks
                        said += f"; CTC in {args.ctc}: {_counted(len(ctc_plan.tracks), 'track')}"
                        if ctc_plan.split:
                            n = len(ctc_plan.split)
                            they = "it skips" if n == 1 else "they skip"
                            said += f" ({_counted(n, 'track')} split where {they} frames)"
                    print(said)
                if args.recipe:  # whether the replay gave the labels the recipe records
                    say_replay(
                        recipe, args.recipe, recorded, source, _outputs_of(target), args.quiet
                    )
            except (CliError, ValueError, OSError) as exc:
                if isinstance(exc, BrokenPipeError) and _stdout_gone():
                    raise  # stdout's reader is gone (`| head`): not this image's fault
                if not several:
                    raise
                failed.append(source.name)  # the other images of a folder go on
                errors[source.name] = str(exc)
                print(f"tessella segment: error: {exc} (skipped)", file=sys.stderr)
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM: how a folder run goes on
        if len(jobs) > 1 and not args.ctc:
            print(
                f"{written} of {len(jobs)} images written; rerun with --skip-existing to "
                "segment the others",
                file=sys.stderr,
            )
        raise
    finally:
        listening.close()
    if measured is not None:
        failed += _write_measurements(
            measured,
            all_jobs,
            jobs,
            combined,
            args.quiet,
            lambda source: read_frames(source) if movie else _read_input(source, args, recipe),
            model,
            (heard_of, errors),
        )
    if failed:
        raise CliError(f"{len(failed)} of {total} images failed: {', '.join(failed)}")
    return 0


def _write_measurements(
    measured,
    all_jobs,
    jobs,
    combined,
    quiet: bool,
    read_image_of=None,
    model=None,
    said: tuple[dict, dict] = ({}, {}),
) -> list[str]:
    """--csv's end of a run: the table of all images' objects (``combined``, a folder run's)
    from the CSVs of the images measured and of those --skip-existing kept, and beside it the
    table of images (:mod:`~tessella.cli._images_csv`: one row an image, those of 0 objects
    and those that failed too; ``said``: the warnings heard of each image segmented and the
    error of each that failed); kept labels without their
    CSV are measured as they are on disk (``read_image_of`` reads their input, as the run
    does; see :func:`~tessella.cli._measure_csv.measure_kept`: hand corrections kept, the
    network's mean_confidence left empty, said once), or said where that fails
    (:func:`~tessella.cli._measure_csv.kept_not_measured`'s words, as ``--blockwise``: never
    advising to segment them again, which would lose their hand corrections). Gives the
    names of the images whose kept labels could not be measured: failures of the run."""
    from ._measure_csv import (
        csv_path,
        kept_not_measured,
        measure_kept,
        write_combined_csv,
        write_image_csv,
    )

    heard_of, errors = dict(said[0]), dict(said[1])
    done = dict(measured)
    parts, missing, measured_kept = [], [], []
    run = {source for source, _ in jobs}
    for source, target in all_jobs:
        if source.name in done:
            parts.append((source.name, done[source.name]))
        elif source not in run:  # kept by --skip-existing
            if not csv_path(target).is_file() and read_image_of is not None:
                try:
                    table = measure_kept(source, target, read_image_of, model)
                    write_image_csv(target, table)
                    measured_kept.append((target.name, "mean_confidence" in table))
                except (CliError, ValueError, OSError) as exc:
                    print(
                        f"tessella segment: error: {kept_not_measured(target, exc)}",
                        file=sys.stderr,
                    )
                    errors[source.name] = f"kept by --skip-existing, not measured: {exc}"
            if csv_path(target).is_file():
                parts.append((source.name, csv_path(target)))
            else:
                missing.append(source.name)
                errors.setdefault(
                    source.name,
                    "kept by --skip-existing without measurements: rerun the same command "
                    "to measure them as they are",
                )
    if measured_kept:
        names = ", ".join(sorted(name for name, _ in measured_kept))
        empty = any(confidence for _, confidence in measured_kept)
        print(
            f"measured the {len(measured_kept)} kept labels without a CSV as they are ({names})"
            + (
                ": their mean_confidence is empty (the network was not run for them)"
                if empty
                else ""
            ),
            file=sys.stderr,
        )
    if combined is None:
        return missing
    from ._images_csv import images_path, images_rows, write_images_csv
    from ._measure_csv import _table_rows

    table = images_path(combined)
    kept_names = {Path(t).name for t, _ in measured_kept}
    rows = images_rows(
        all_jobs,
        dict(parts),
        heard_of,
        errors,
        _table_rows(table),  # (read before it is replaced: what kept images were said)
        model.card.name if model is not None else "",
        Path(combined).parent,
        {s.name for s, t in all_jobs if Path(t).name in kept_names},
    )
    write_combined_csv(combined, parts)
    write_images_csv(table, rows)
    if not quiet:
        counts = {s: sum(r["status"] == s for r in rows) for s in ("empty", "failed")}
        also = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        print(f"measurements of {len(parts)} images -> {combined}")
        print(f"{_counted(len(rows), 'image')}{f' ({also})' if also else ''} -> {table}")
    return missing


#: how a CLI user gives a stack its voxel size or segments its slices one by one
Z_SPACING_FIXES = (
    "give the voxel size (--voxel-size Z,Y,X, in the file's unit or µm, or with units: "
    "50nm,4nm,4nm; the TIFF's ImageJ "
    'spacing; or a --recipe JSON with "spacing": [Z, Y, X]) or segment the slices '
    "separately with --axes TYX"
)


@dataclasses.dataclass(frozen=True)
class _VoxelSize:
    """``--voxel-size`` (or the voxel size a recipe replays), checked: one size per spatial
    axis, in the input's unit (µm where it names none; ``unit``: the recipe's, replayed)."""

    sizes: tuple[float, ...]
    said: str  # "--voxel-size" or "the recipe R.json's voxel_size"
    unit: str | None = None

    def given_to(self, image, source: Path):
        """``image`` with this voxel size as its pixel size (and its unit: the recipe's, the
        image's own, else µm); CliError where the image has another number of spatial axes."""
        spatial = [a for a in image.axes if a in "ZYX"]
        if len(spatial) != len(self.sizes):
            raise CliError(
                f"{source}: {self.said} gives {len(self.sizes)} sizes but the image has "
                f"axes {image.axes}: give {len(spatial)}, {','.join(spatial)}"
            )
        from ..engine.blockwise._store import given_pixel_size  # (the engine's rule)

        unit = self.unit or (image.unit if _physical(image.unit) else "µm")
        return given_pixel_size(image, dict(zip(spatial, self.sizes, strict=True)), unit)


def _voxel_size(args, recipe: dict) -> _VoxelSize | None:
    """``--voxel-size Z,Y,X`` (or ``Y,X``), else a replayed recipe's ``voxel_size``, checked
    before any work: 2 or 3 positive numbers, as many as the spatial axes of ``--axes`` where
    given. None where neither gives one."""
    given = getattr(args, "voxel_size", None)
    if given is not None:
        values, unit = _parsed_voxel_size(given)
        voxel = _checked_voxel_size(values, "--voxel-size", repr(given), unit)
        _warn_of_xyz_order(voxel.sizes, given, unit)
    else:
        voxel = recipe_voxel_size(recipe, f"the recipe {args.recipe}'s voxel_size")
        if voxel is None:
            return None
    if args.axes and args.axes.strip():
        spatial = [a for a in args.axes.upper() if a in "ZYX"]
        if len(spatial) != len(voxel.sizes):
            raise CliError(
                f"{voxel.said} gives {len(voxel.sizes)} sizes but --axes {args.axes} has "
                f"{len(spatial)} spatial axes: give {','.join(sorted(spatial, key='ZYX'.index))}"
            )
    return voxel


#: the units of length ``--voxel-size`` takes (:func:`_parsed_voxel_size`), as their symbol
#: (``unit_for``'s spelling, which every writer takes) and their power of ten in metres
VOXEL_UNITS = {"pm": -12, "Å": -10, "nm": -9, "µm": -6, "mm": -3, "cm": -2, "m": 0}


def _parsed_voxel_size(given: str) -> tuple[list[float], str | None]:
    """``(sizes, unit)`` of ``--voxel-size`` ``given``: plain numbers (``50,4,4``: in the
    input's unit, µm where it names none; ``unit`` None), or each with a unit of length
    (``50nm,4nm,4nm``, ``0.05um,0.004µm,0.004 micron``: ``unit`` its symbol, "nm", "µm";
    sizes in different units are converted to the finest of them: ``0.05um,4nm,4nm`` is
    50,4,4 nm). CliError where some sizes name a unit and others none, or a unit is not one
    of length; a size that is no number gives no sizes (refused by :func:`_checked_voxel_size`).
    Symbols are read as :func:`_length_symbol` reads them (``50NM``, ``0.05µM``: nm, µm;
    ``4Mm``, megametres, refused).

    >>> _parsed_voxel_size("50nm, 4nm ,4 nm"), _parsed_voxel_size("0.05,0.004,0.004")
    (([50.0, 4.0, 4.0], 'nm'), ([0.05, 0.004, 0.004], None))
    >>> _parsed_voxel_size("0.05um,4nm,4nm"), _parsed_voxel_size("1µm,0.25 micron")
    (([50.0, 4.0, 4.0], 'nm'), ([1.0, 0.25], 'µm'))
    >>> _parsed_voxel_size("50NM,0.004UM,4nM"), _parsed_voxel_size("0.5µM,0.1 Microns")
    (([50.0, 4.0, 4.0], 'nm'), ([0.5, 0.1], 'µm'))
    """
    import re

    sizes: list[float] = []
    units: list[str | None] = []
    for item in given.split(","):
        text = item.strip()
        try:
            sizes.append(float(text))  # (nan, -50: numbers, refused as such)
            units.append(None)
            continue
        except ValueError:
            pass
        # a number and a unit of letters (µ, Å too), with or without a space between
        found = re.fullmatch(r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\W\d_]+)", text)
        if found is None:
            return [], None
        symbol = _length_symbol(found[1], found[2], given)
        sizes.append(float(found[1]))
        units.append(symbol)
    named = {u for u in units if u is not None}
    if not named:
        return sizes, None
    if None in units:
        raise CliError(
            "--voxel-size: give a unit on every size or on none (plain numbers are in the "
            f"input's unit, µm where it names none), e.g. 50nm,4nm,4nm, got {given!r}"
        )
    finest = min(named, key=VOXEL_UNITS.__getitem__)
    converted = [
        float(f"{size * 10.0 ** (VOXEL_UNITS[unit] - VOXEL_UNITS[finest]):.12g}")
        for size, unit in zip(sizes, units, strict=True)
        if unit is not None
    ]
    return converted, finest


def _length_symbol(number: str, unit: str, given: str) -> str:
    """The symbol (a key of :data:`VOXEL_UNITS`) of ``unit``, which ``--voxel-size`` ``given``
    gives to the size ``number``. A name in any case ("micron", "Nanometres") and a symbol as
    SI spells it ("nm", "µm", "Å") or as "um"; a symbol in another case only where that reads
    as one unit of length: a prefix whose other case is no SI prefix ("NM", "UM", "Nm") and
    the metre's m typed M, which is no unit of length ("nM", "µM", "uM": micromolar is no
    voxel size, so µM is read as µm, as users type it). CliError where it is no unit of
    length ("s", "px", "µl"), where its capital is a prefix of its own ("Mm", "MM": mega, not
    milli; "PM": peta; no voxel is megametres wide, but a symbol is refused rather than read
    otherwise than it says), or a length that is not one of VOXEL_UNITS ("km", "fm").

    >>> [_length_symbol("4", u, "") for u in ("nm", "NM", "Nm", "nM", "UM", "µM", "CM", "Å")]
    ['nm', 'nm', 'nm', 'nm', 'µm', 'µm', 'cm', 'Å']
    """
    import unicodedata

    from ..engine.io._write import capital_prefix_misread, unit_symbol

    text = unicodedata.normalize("NFC", unit)
    symbol = unit_symbol(text)  # (as a unit read from a file or a recipe is read)
    if symbol in VOXEL_UNITS:
        return symbol
    mega = capital_prefix_misread(text)
    if mega is not None:
        raise CliError(
            f"--voxel-size: '{number}{text}' reads as {number} {mega[0]}; for {mega[1]} write "
            f"{number}{mega[2]}, got {given!r}"
        )
    if len(text) == 2 and text[1] == "m" and text[0] in "yzafdhkGTEZY":  # km, fm...
        raise CliError(
            f"--voxel-size: {unit!r} is not one of the units of length it takes; give nm, "
            f"µm (um) or mm (or pm, Å, cm, m), e.g. 50nm,4nm,4nm, got {given!r}"
        )
    raise CliError(
        f"--voxel-size: {unit!r} is not a unit of length; give nm, µm (um) or mm, "
        f"e.g. 50nm,4nm,4nm, got {given!r}"
    )


def _warn_of_xyz_order(sizes: tuple[float, ...], given: str, unit: str | None) -> None:
    """A warning where ``--voxel-size`` ``given`` looks given in X,Y,Z order (Fiji lists
    width, height, depth): Y and X more than 2-fold apart with Z finer than X, as
    ``4,4,50`` for 50 nm sections of 4 nm pixels. Only a warning: pixels can be anisotropic.
    """
    if len(sizes) != 3:
        return
    z, y, x = sizes
    if max(y, x) / min(y, x) <= 2 or z >= x:
        return
    u = unit or ""  # (the unit given on each size, given again)
    print(
        f"warning: --voxel-size {given} is read as Z {z:g}, Y {y:g}, X {x:g} (its order is "
        f"Z,Y,X): pixels whose Y and X differ {max(y, x) / min(y, x):.3g}-fold, in sections "
        f"thinner than a pixel is wide. This looks like X,Y,Z order (as Fiji lists width, "
        f"height, depth); if so, give --voxel-size {x:g}{u},{y:g}{u},{z:g}{u}",
        file=sys.stderr,
    )


def recipe_voxel_size(recipe: dict, said: str) -> _VoxelSize | None:
    """The voxel size a recipe replays (its ``voxel_size``, in its ``unit``: what
    ``--voxel-size`` gave the run that made it), checked as ``--voxel-size`` is (CliError,
    naming it ``said``); None where it records none. ``tessella segment --recipe`` and
    :func:`tessella.replay` both replay it by this rule, over the input's own pixel size."""
    found = recipe.get("voxel_size")
    if found is None:
        return None
    ok = isinstance(found, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in found
    )
    values = [float(v) for v in found] if ok else []
    unit = recipe["unit"] if isinstance(recipe.get("unit"), str) else None
    return _checked_voxel_size(values, said, repr(found), unit)


def _checked_voxel_size(values: list, said: str, shown: str, unit: str | None) -> _VoxelSize:
    import math

    if len(values) not in (2, 3) or not all(math.isfinite(v) and v > 0 for v in values):
        raise CliError(
            f"{said} must be 2 or 3 positive numbers, Z,Y,X or Y,X (e.g. 0.05,0.004,0.004 "
            f"in µm, or with a unit on each: 50nm,4nm,4nm), got {shown}"
        )
    return _VoxelSize(tuple(values), said, unit)


def _physical(unit: str | None) -> bool:
    """Whether ``unit`` is a unit of length (not "pixel", nor none)."""
    return isinstance(unit, str) and unit.strip().lower() not in ("", "pixel", "pixels", "px")


def _output_pixel_size(
    image, spatial, spacing, recipe: dict, recipe_path=None, said: set | None = None
) -> tuple[dict, str]:
    """``(pixel_size, unit)`` written with the labels of ``image``: its own pixel size, else
    (where it lacks one of the ``spatial`` axes) the voxel size ``spacing`` used, which came
    from the recipe (at ``recipe_path``), in the recipe's ``unit`` (else the image's,
    "pixel" where it has none: a warning says so, naming the recipe: Export's recipes
    recorded no unit before t11's report): labels reopened or replayed keep the voxel size
    they were made with. No warning where that spacing is all 1 (a recipe made on an image
    without a pixel size: Segment's, Tune's and Export's recipes of such a layer record no
    unit, as ``tessella segment``'s of such an image, and pixels are then right), and one
    per run: ``said`` (kept by the caller across the images) holds those given."""
    if spacing is None or all(a in image.pixel_size for a in spatial):
        return dict(image.pixel_size), image.unit
    unit = recipe["unit"] if isinstance(recipe.get("unit"), str) else image.unit
    sizes = [float(s) for s in spacing]
    shown = ",".join(f"{s:g}" for s in sizes)
    if not _physical(unit) and any(s != 1 for s in sizes) and (said is None or shown not in said):
        if said is not None:
            said.add(shown)
        print(
            f"warning: {image.path}: the voxel size {shown} of {recipe_path or 'the recipe'} "
            'names no unit (its recipe has no "unit"), so the labels are written with it '
            'as a size in pixels; add "unit" to the recipe: the unit these sizes were '
            'measured in (e.g. "unit": "µm" if they are micrometres), or give --voxel-size '
            "with that unit on each size",
            file=sys.stderr,
        )
    return dict(zip(spatial, sizes, strict=True)), unit


def in_cli_words(message, fixes: str = Z_SPACING_FIXES, missing: str | None = None):
    """An engine warning's ``message`` as the command line says it: the engine's
    :class:`~tessella.engine.methods.boundary.UnknownZSpacingWarning` (a 2D boundary model
    on a stack of unknown voxel size, warned once per input by the engine) with the
    command line's ``fixes`` (its options) instead of the Python API's, and ``missing``
    (what the input file lacks, :func:`~tessella.engine.pipeline.missing_voxel_size`) where
    given; any other as it is."""
    from ..engine.methods.boundary import UnknownZSpacingWarning

    if not isinstance(message, UnknownZSpacingWarning):
        return message
    return message.reworded(fixes, missing=missing)


@contextlib.contextmanager
def _warnings_heard(heard: list[str]):
    """While it lasts, each warning shown is also added to ``heard`` (as said: in the
    command line's words where :func:`_warnings_in_cli_words` rewords it within)."""
    import warnings

    show = warnings.showwarning

    def recorded(message, category, *args, **kwargs) -> None:
        heard.append(str(message))
        show(message, category, *args, **kwargs)

    with warnings.catch_warnings():
        warnings.showwarning = recorded
        yield


@contextlib.contextmanager
def _warnings_in_cli_words(missing: str | None = None):
    """While it lasts, the warnings shown (one line each on stderr: ``main``'s
    ``showwarning``) are said in the command line's words (:func:`in_cli_words`), an unknown
    voxel size with ``missing`` (what the input file lacks of it) where given."""
    import warnings

    show = warnings.showwarning

    def reworded(message, category, *args, **kwargs) -> None:
        show(in_cli_words(message, missing=missing), category, *args, **kwargs)

    with warnings.catch_warnings():
        warnings.showwarning = reworded
        yield


def is_ome_zarr_name(path: Path) -> bool:
    """``path`` is named as an OME-Zarr (``NAME.ome.zarr``), which ``-o`` writes as a
    standalone OME-Zarr labels image where the input is no OME-Zarr image."""
    return Path(path).name.lower().endswith(".ome.zarr")


def _check_blockwise_ome_zarr(jobs) -> None:
    """Refuse ``--blockwise -o NAME.ome.zarr`` of an input that is no OME-Zarr image, in one
    line saying what to do instead: blockwise segmentation writes a plain zarr array there
    (OME-Zarr labels only of an OME-Zarr image), which the name would pass off as OME-Zarr."""
    from ..engine.io import is_zarr_path
    from ..engine.io._zarr import _is_ome_image

    [(source, target)] = jobs
    source = Path(source)  # (a TIFF: the engine says to convert it to zarr first)
    if is_ome_zarr_name(target) and is_zarr_path(source) and not _is_ome_image(source):
        raise CliError(
            f"{target}: --blockwise writes OME-Zarr labels only of an OME-Zarr image "
            f"({source} is none); write -o {target.name[: -len('.ome.zarr')] or 'labels'}"
            ".zarr (a zarr array), or segment without --blockwise"
        )


def _check_one_image_output(inputs: list[str], out: Path) -> None:
    """Refuse an existing folder as the output of one TIFF image, naming the file it could be
    (it said only that the output of one image must be a .tif/.tiff file)."""
    from ..engine.io import TIFF_SUFFIXES, is_zarr_path

    source = Path(inputs[0])
    if (
        len(inputs) == 1
        and source.is_file()
        and source.suffix.lower() in TIFF_SUFFIXES
        and out.is_dir()
        and not is_zarr_path(out)
    ):
        raise CliError(f"{out} is a folder; give a file name, e.g. {out / source.name}")


def _stack_refused(args, model, jobs) -> str:
    """Why ``--stack`` cannot be written for this run ("" when it can)."""
    from ..engine.io import TIFF_SUFFIXES
    from ..engine.methods import get_method

    if not hasattr(get_method(model.card.method), "instances"):
        return (
            f"model {model.card.name!r} ({model.card.method}) makes objects that do not "
            "overlap; its label image says it all"
        )
    if args.blockwise:
        return "it is not available with --blockwise"
    for _source, target in jobs:
        if Path(target).suffix.lower() not in TIFF_SUFFIXES:
            return f"{target}: a stack is written as a TIFF"
    return ""


def _check_stack_usage(args, model, jobs) -> None:
    """Refuse ``--stack`` before any work where it cannot be written."""
    why = _stack_refused(args, model, jobs) if args.stack else ""
    if why:
        raise CliError(f"--stack: {why}")


def _stack_of(target: Path, result):
    """The ``(N, Y, X)`` mask stack of ``result`` to write to ``target``, checked first (the
    patches method assembled the labels' objects already: not again)."""
    from ..engine.io import TIFF_SUFFIXES
    from ..engine.methods import get_method

    if target.suffix.lower() not in TIFF_SUFFIXES:
        raise CliError(f"{target}: --stack writes a TIFF")
    if len(result.predictions) != 1:
        raise CliError("--stack writes one 2D image's objects; the input has several frames")
    method = get_method(result.model.card.method)
    return np.asarray(method.instances(result.predictions[0], result.params), bool)


def _first_frame(args, movie: bool) -> int | None:
    """``--first-frame N`` checked: a frame number (0 or more) of a movie (a file, or a
    zarr with ``--blockwise``) whose frames are not numbered by their file names; None where
    not given."""
    first = getattr(args, "first_frame", None)
    if first is None:
        return None
    if first < 0:
        raise CliError(f"--first-frame must be a frame number, 0 or more, got {first}")
    numbers = _frame_numbers(Path(args.inputs[0]), warn=False) if movie else None
    if numbers is not None:
        raise CliError(
            f"{args.inputs[0]}: its file names number its frames from {numbers[0]} (as --ctc "
            "names its masks); --first-frame numbers a movie file's frames: leave it out"
        )
    return first


def _frame_numbers(folder: Path, warn: bool = True) -> list[int] | None:
    """The numbers of the frames of a folder of frames (``t039.tif``: 39), in order, which
    --ctc names its masks and numbers its tracks' frames by
    (:func:`~tessella.engine.tracking._ctc.ctc_frame_numbers`, as Export's CTC folder of a
    layer read from such a folder); None where the frames are not numbered (0, 1, ...).
    Where the numbers skip frames (said by the reader), a warning says which masks are not
    written (``warn``: with --ctc). The recipe records them too (``frame_numbers``)."""
    import warnings

    from ..engine.io._read import list_images, numbered_files
    from ..engine.tracking._ctc import ctc_frame_numbers

    found = sorted(n for n, _ in numbered_files(list_images(folder)))
    numbers, note = ctc_frame_numbers(found, str(folder))
    if note and warn:
        warnings.warn(note, UserWarning, stacklevel=2)
    return numbers


def _counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless one: "1 track", "51 tracks"."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _bar_unit(image, total: int) -> str:
    """What segment's bar of ``total`` steps of the network pass counts: "frame" where each
    step is a frame of a movie (one tile a frame; the engine counts tiles), else "tile"."""
    if "T" in image.axes and total == image.data.shape[image.axes.index("T")]:
        return "frame"
    return "tile"


def _check_ctc_dir(args) -> None:
    """Refuse before any work when ``--ctc DIR`` holds CTC files and no ``--overwrite``, and
    even with it when DIR is the input folder of frames (as Export refuses it): its masks
    would lie among the frames, which the next run would read as frames. The CTC files are
    those :func:`~tessella.engine.tracking.write_ctc` refuses: any ``maskTTT.tif`` or
    ``.tiff`` in any case, and ``res_track.txt``."""
    if not args.ctc:
        return
    from ..engine.io._paths import path_overlap
    from ..engine.tracking._ctc import _ctc_masks

    ctc_dir = Path(args.ctc)
    if ctc_dir.exists() and not ctc_dir.is_dir():  # (before "the input folder": a movie file)
        raise CliError(f"{ctc_dir} is a file; --ctc needs a folder")
    for source in args.inputs:
        if path_overlap(ctc_dir, source) == "same":
            raise CliError(
                f"{ctc_dir}: --ctc is the input folder {source}: the masks would be "
                "written among its frames (even with --overwrite); choose another folder"
            )
    _check_folder_writable(ctc_dir)  # (its files are staged beside it)
    if ctc_dir.is_dir() and not args.overwrite:
        taken = _ctc_masks(ctc_dir) + [n for n in ["res_track.txt"] if (ctc_dir / n).exists()]
        if taken:
            raise CliError(f"{ctc_dir / taken[0]} exists; pass --overwrite to replace it")

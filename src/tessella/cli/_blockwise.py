"""``segment --blockwise``: bigger-than-memory zarr in and out, resumable."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from ._console import UNTIMED, CliError, _advance, _progress_bar
from ._inputs import _chosen_part, _chosen_spacing, _read_as_recorded, _spacing
from ._skip_existing import _say_skipped_existing, _skip_existing, with_read_attributes
from ._write import (
    _check_inside_ome_image,
    _check_writable,
    _outputs_of,
    _probe_recipe,
    _reason,
    _recipe_path,
    _recover_staging,
)

__all__ = ["_replays_blockwise", "_check_blockwise_usage", "_segment_blockwise"]


def _replays_blockwise(args, recipe: dict) -> bool:
    """Whether to segment blockwise: as ``--blockwise``/``--no-blockwise`` say, else as the
    recipe replayed was run (a blockwise run's recipe holds its blocks and halo, which
    ``_segment_blockwise`` replays). An image that needed blocks is likely too big to load
    whole, so a blockwise recipe replays blockwise where it can (one zarr input; zarr input
    writes zarr either way), and says so; where it cannot (a TIFF, several inputs), the
    warning says that the image is loaded whole."""
    from ..engine.io import is_zarr_path

    replay = recipe.get("blockwise")
    if args.blockwise is not None or not replay:
        return bool(args.blockwise)
    block = replay.get("block")
    size = "x".join(map(str, block)) if isinstance(block, list) else str(block or "default")
    made = f"{args.recipe} was run blockwise (blocks of {size} px)"
    if len(args.inputs) != 1 or not is_zarr_path(Path(args.inputs[0])):
        print(
            f"warning: {made}; blockwise segmentation reads one zarr input (convert a big TIFF "
            "to zarr: see --help): segmenting in memory, the whole image at once",
            file=sys.stderr,
        )
        return False
    if not args.quiet:
        print(f"{made}: replaying it blockwise (--no-blockwise: in memory)", file=sys.stderr)
    return True


def _check_blockwise_usage(args) -> None:
    given = [f"--{name}" for name in ("scheduler", "workers", "block") if getattr(args, name)]
    given += ["--workers"] if args.workers == 0 else []
    if given and not args.blockwise:
        raise CliError(f"{given[0]} needs --blockwise")
    if not args.blockwise:
        return
    if args.scheduler and args.workers is not None:
        raise CliError("give --scheduler or --workers, not both")
    if args.workers is not None and args.workers < 0:
        raise CliError(f"--workers must be 0 or more, got {args.workers}")
    if len(args.inputs) != 1:
        raise CliError("--blockwise segments one zarr input at a time")


def _parse_block(text: str | None):
    if not text:
        return None
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise CliError(f"--block expects N or N,N[,N], got {text!r}") from None
    if any(v < 1 for v in values):
        raise CliError(f"--block values must be positive, got {text!r}")
    return values[0] if len(values) == 1 else values


def _blocks_of_this_run(source, model, axes, params, block, halo) -> dict:
    """The block size and halo, per spatial axis, that a run of ``model`` on ``source`` with
    ``block`` and ``halo`` (None: the defaults) uses, as its recipe's ``blockwise`` entry
    records them: the engine's own rule (:func:`planned_blocks`)."""
    import warnings

    from ..engine.blockwise._driver import planned_blocks

    try:
        with warnings.catch_warnings():  # (the run itself says them, if it runs)
            warnings.simplefilter("ignore")
            return planned_blocks(source, model, axes, params, block, halo)
    except ValueError as exc:  # as the engine would refuse the run
        raise CliError(str(exc)) from None


def _open_blockwise_input(source, axes):
    """The zarr input as the engine opens it (its metadata: the pixels are not read), or
    None where the engine will refuse it (and say why). Its warnings are the engine's to say,
    once."""
    import warnings

    from ..engine.blockwise._store import _open_input

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _open_input(source, axes)
    except (ValueError, OSError):
        return None


def _recorded_axes(source: Path, recipe_path, recipe: dict, channel: int | None):
    """The axes a replayed ``recipe`` reads ``source`` with, as in memory: its
    ``stored_axes`` (the order the file stores them: a ZCYX zarr's ZCYX, not the CZYX it is
    read as), where they fit (refused otherwise, with the ``--axes`` that reads it); else an
    older recipe's ``axes`` (the engine's order); None without a recipe."""
    stored = recipe.get("stored_axes")
    if not isinstance(stored, str) or not stored:
        return recipe.get("axes")
    if recipe.get("ignore_axes_metadata") is True:
        raise CliError(
            f"{recipe_path} read {source.name} with --ignore-axes-metadata, which --blockwise "
            "does not do: replay it without --blockwise (--no-blockwise)"
        )
    from ..engine.io import is_zarr_path

    if is_zarr_path(source) and source.exists():  # (else the engine says why)
        part = {"channel": channel} if channel is not None else {}
        _read_as_recorded(source, stored.upper(), part)  # metadata only: refused if unfit
    return stored.upper()


#: how a --blockwise user gives a zarr stack its voxel size or segments its slices one by one
Z_SPACING_FIXES = (
    "give the voxel size (--voxel-size Z,Y,X, in the zarr's unit or µm; "
    'a plain zarr\'s attribute pixel_size, {"Z": ..., "Y": ..., "X": '
    "...}; the OME-Zarr's scale for an OME-Zarr; or a --recipe JSON with "
    '"spacing": [Z, Y, X]) or segment the slices separately with --axes TYX'
)


def _say_warnings(caught: list, shown: int) -> int:
    """The engine's warnings ``caught`` from ``shown`` on, said as in memory (with ``-q``
    too: "errors and warnings still print"); returns how many are said now."""
    from ._segment import in_cli_words

    for warning in caught[shown:]:  # (a stack of unknown Z spacing: the options that help)
        print(f"warning: {in_cli_words(warning.message, Z_SPACING_FIXES)}", file=sys.stderr)
    return len(caught)


def _segment_blockwise(
    args,
    jobs,
    model,
    params,
    tta,
    tile,
    recipe,
    invert=None,
    package=None,
    settings=None,
    voxel=None,
    csv: bool = False,
) -> int:
    """``settings`` (``--skip-existing``, see :func:`_run_settings`): finished labels with
    their recipe, made with these settings and the same block size and halo, are kept and
    nothing is done; an unfinished run resumes as always (its finished blocks are the
    engine's to keep), and labels left without their recipe are segmented again. The voxel
    size is as in memory (:func:`_spacing`): the zarr's pixel size, else the recipe's
    ``spacing`` (a run of the napari panel on a layer with a scale the file lacks).
    ``voxel`` (``--voxel-size``, or the recipe's ``voxel_size``: ``_segment._VoxelSize``)
    replaces the zarr's pixel size as in memory: post-processing uses it, the labels are
    written with it (the engine's ``pixel_size=`` and ``unit=``) and the recipe records it;
    an unfinished run made with another is refused, as for other settings. ``csv``
    (``--csv``): the finished labels zarr is measured piece by piece beside it
    (:func:`_measure_zarr`), and kept labels without their CSV too."""
    import warnings

    from ..engine.blockwise import open_executor, segment_blockwise_steps, work_dir
    from ..engine.blockwise._driver import LabelsNotListedError, _Estimate
    from ..engine.blockwise._identity import ABSENT_STAGE
    from ..engine.input_record import INPUT_KEY, input_identity
    from ..engine.io import write_json
    from ..engine.io._zarr import ome_image_of_labels

    [(source, target)] = jobs
    # zarr, as in memory: a .zarr name, or OME-NGFF's IMAGE.zarr/labels/NAME (checked below)
    if target.suffix != ".zarr" and ome_image_of_labels(target) is None:
        raise CliError(f"{target}: --blockwise writes zarr; name the output .zarr")
    _check_inside_ome_image(source, target)  # (the engine lists labels in its image's group)
    replay = recipe.get("blockwise", {})  # a recipe replays the same blocks and halo
    block, halo = _parse_block(args.block) or replay.get("block"), replay.get("halo")
    channel = _chosen_part(args, recipe).get("channel")  # --channel, else the recipe's
    axes = args.axes or _recorded_axes(source, args.recipe, recipe, channel)
    overwrite = args.overwrite
    data = _open_blockwise_input(source, axes)
    given = {}  # the engine's pixel_size= and unit=: --voxel-size over the zarr's own
    if voxel is not None and data is not None:  # (None: the engine refuses it, saying why)
        data = voxel.given_to(data, source)  # (checked: its axes)
        given = {"pixel_size": dict(data.pixel_size), "unit": data.unit}
    spatial = [a for a in data.axes if a in "ZYX"] if data is not None else []
    first = getattr(args, "first_frame", None)  # (checked: a frame number)
    if first is not None and data is not None and "T" not in data.axes:  # as in memory
        hint = f": if its first axis is time, give --axes {data.axes.replace('Z', 'T')}"
        raise CliError(
            f"{source}: --first-frame needs a time-lapse (axes with T), got {data.axes}"
            + (hint if "Z" in data.axes else "")
        )
    if csv:
        _check_blockwise_csv(model)
    if settings is not None:  # blocks and stitching change the labels at the seams
        planned = _blocks_of_this_run(source, model, axes, params, block, halo)
        run_spacing = None
        if data is not None:
            chosen = _chosen_spacing(data.pixel_size, spatial, recipe)[0]
            run_spacing = chosen, chosen is None or all(a in data.pixel_size for a in spatial)
        todo, skipped, redo = _skip_existing(
            jobs, {**settings, "blockwise": planned}, model, lambda *_: run_spacing
        )
        # with -q the redone output and why still print ("errors and warnings still print")
        _say_skipped_existing([] if args.quiet else skipped, redo, 1)
        if not todo:
            from ._measure_csv import missing_csv

            if csv and missing_csv(target):  # kept labels (corrected by hand?) as they are
                read = _intensities_of(axes, channel)
                _measure_zarr(source, target, model, read, args.quiet, kept=True)
            return 0
        overwrite = target in redo
    if csv:  # an image's CSV there: refused before any work without --overwrite
        from ._measure_csv import check_csv_outputs

        check_csv_outputs(jobs, None, overwrite)
    recipe_path = _recipe_path(target)  # the engine checks the output (and resumes)
    _check_writable(target)
    _recover_staging(target)  # a killed run's write of these labels (not --blockwise's)
    if recipe_path.is_dir():
        raise CliError(f"{recipe_path} is a folder; the recipe of {target.name} goes there")
    for path in (target, recipe_path):  # (a finished run's labels: the engine refuses too)
        if (path.exists() or path.is_symlink()) and not overwrite:
            raise CliError(f"{path} exists; pass --overwrite to replace it")
    _probe_recipe(recipe_path, target)  # before the long run, not after it
    spacing = None if data is None else _spacing(data, spatial, recipe, args.recipe, data.name)
    if spacing is not None and any(a not in data.pixel_size for a in spatial):
        # the recipe's voxel size, which the zarr lacks: the labels are written with it, in
        # the recipe's unit (else the zarr's), as in memory (_segment._output_pixel_size)
        if isinstance(recipe.get("unit"), str):
            given = {"unit": recipe["unit"]}
        else:  # an older recipe without it: the labels in pixels, said once, as in memory
            from ._segment import _output_pixel_size

            _output_pixel_size(data, spatial, spacing, recipe, args.recipe, set())
    # before the run reads it: what --skip-existing compares the input with later
    identity = with_read_attributes(input_identity(source, _outputs_of(target)), source)
    bar, stage, clock = None, None, None
    judging = False  # the input's absent chunks judged (their own bar, in "fingerprint")
    # the label array's shape: edge blocks are timed by their pixels (the panel's estimate)
    shape = None
    if data is not None and len(data.array.shape) == len(data.axes):
        shape = tuple(int(n) for n, a in zip(data.array.shape, data.axes) if a != "C")
    not_listed: LabelsNotListedError | None = None
    blocks = None  # the run's number of blocks, once known
    segmented = 0  # of them, segmented (kept: this run's and an earlier one's)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        shown = 0
        try:
            with open_executor(args.scheduler, args.workers) as executor:
                steps = segment_blockwise_steps(
                    source,
                    target,
                    model,
                    axes,
                    params,
                    block=block,
                    halo=halo,
                    tta=tta,
                    tile=tile,
                    device=args.device,
                    executor=executor,
                    overwrite=overwrite,
                    invert=invert,
                    spacing=spacing,
                    channel=channel,
                    first_frame=first,
                    **given,
                )
                while True:
                    try:
                        progress = next(steps)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    if progress.stage in ("segment", "relabel"):
                        blocks = progress.total  # (the digest counts pieces)
                    if progress.stage == "segment":
                        segmented = progress.done
                    # (the input's absent chunks judged after its files: a bar of their own)
                    inner = getattr(progress, "inner", None)
                    absent = getattr(inner, "stage", None) == ABSENT_STAGE
                    if (progress.stage, absent) != (stage, judging) and bar is not None:
                        bar.close()  # (first: a warning of the stage's end, such as the
                        bar = None  # input check after the scan, on a line of its own)
                    shown = _say_warnings(caught, shown)
                    if (progress.stage, absent) != (stage, judging):
                        stage, judging = progress.stage, absent
                        if stage == "segment" and progress.done and not args.quiet:
                            print(
                                f"resuming: {progress.done} of {progress.total} blocks already "
                                f"done in {work_dir(target)}",
                                file=sys.stderr,
                            )
                        # (a zarr input's fingerprint is the scan of its chunk files)
                        # (the result read for its recipe's labels_digest, in pieces)
                        # (OME-Zarr labels' lower-resolution levels, in % of their pixels)
                        said = {
                            "digest": "checking the result",
                            "levels": "writing lower-resolution levels",
                        }.get(stage, stage)
                        units = {"fingerprint": "file", "digest": "piece", "levels": "%"}
                        if judging:  # (chunks with no file: lost, or left out as blank?)
                            said = "checking chunks with no file"
                            units = {**units, "fingerprint": "chunk"}
                        bar = _progress_bar(
                            progress.total,
                            f"{source.name}: {said}",
                            args.quiet,
                            unit=units.get(stage, "block"),
                            initial=progress.done,  # resumed: not in the rate
                        )
                        clock = None
                        if stage not in units:  # (files, pieces: tqdm's rate)
                            clock = _Estimate(progress, shape if stage == "segment" else None)
                    _say_inside(bar, progress)  # (first: cleared once a block is done)
                    if clock is None:
                        _advance_blocks(bar, progress.done)
                    else:
                        _advance_estimated(bar, clock, progress)
        except LabelsNotListedError as exc:  # written: their recipe too (not an earlier
            result, not_listed = exc.result, exc  # run's left beside them), then said
        except KeyboardInterrupt:  # (SIGTERM too: Terminated)
            if bar is not None:  # (first: the words on a line of their own, not the bar's)
                bar.close()
                bar = None
            if work_dir(target).exists() and not args.quiet:
                print(_kept_words(stage, blocks, work_dir(target), segmented), file=sys.stderr)
            raise
        except RuntimeError as exc:  # a worker died
            raise CliError(str(exc)) from None
        except (ValueError, FileExistsError) as exc:  # the engine's advice, as the CLI says it
            said = str(exc).replace("overwrite=True (--overwrite)", "--overwrite")
            raise CliError(said) from None
        finally:
            if bar is not None:
                bar.close()
            _say_warnings(caught, shown)  # (those of the last stage, or before a refusal)
    recorded = {**result.recipe, **(package or {})}
    if identity is not None:
        recorded[INPUT_KEY] = identity
    try:
        write_json(recipe_path, recorded)
    except OSError as exc:  # the labels are kept: deleting a large output seems worse
        stale = recipe_path.exists() or recipe_path.is_symlink()
        if stale:  # a recipe of the labels just replaced: it would pass for theirs
            with contextlib.suppress(OSError):
                recipe_path.unlink()
        still = stale and (recipe_path.exists() or recipe_path.is_symlink())
        raise CliError(
            f"{target}: the labels were written, but their recipe could not be written to "
            f"{recipe_path} ({_reason(exc)})"
            + (
                "; the recipe there is an earlier run's"
                if still
                else "; the earlier run's recipe there was removed"
                if stale
                else ""
            )
            + "; the labels' zarr attributes ('tessella') hold their recipe"
        ) from None
    if not_listed is not None:
        raise not_listed
    if args.ctc:  # frame by frame from the zarr: the movie is never held whole
        import zarr

        from ..engine.io import read_image
        from ..engine.tracking import write_ctc

        lineage = {int(c): int(p) for c, p in result.recipe.get("lineage", [])}
        # the masks carry the labels' pixel size, as in memory (t19 #10: CTC resolution tags)
        labels = read_image(result.path)  # (lazy: its metadata only)
        # its masks and tracks' frames numbered from --first-frame (else 0), as in memory
        write_ctc(
            zarr.open(str(result.path), mode="r"),
            lineage,
            args.ctc,
            args.overwrite,
            frame_numbers=result.recipe.get("frame_numbers"),
            pixel_size=labels.pixel_size or None,
            unit=labels.unit or "µm",
        )
    if not args.quiet:
        resumed = f", {result.resumed} resumed" if result.resumed else ""
        print(
            f"{source} -> {target}: {result.n_objects} "
            f"{'tracks' if 'lineage' in result.recipe else 'objects'} "
            f"({result.n_blocks} blocks{resumed})"
        )
    if csv:
        _measure_zarr(source, target, model, _intensities_of(axes, channel), args.quiet)
    return 0


def _check_blockwise_csv(model) -> None:
    """Refuse, before any work, ``--blockwise --csv`` of a model whose objects overlap
    (``worms2d``): the blockwise labels keep one object where several overlap, so the
    others cannot be measured whole as an in-memory ``--csv`` run measures them."""
    from ._measure_csv import _measured_whole

    if _measured_whole(model):
        raise CliError(
            f"--csv measures each object of {model.card.name} whole, overlaps included, "
            "which --blockwise labels do not keep (one object shows where several overlap): "
            "segment without --blockwise for --csv, or measure the labels zarr as it is "
            "with Export or tessella.measure_objects"
        )


def _intensities_of(axes: str | None, channel: int | None):
    """How the measurements read the zarr input for their ``mean_intensity``: lazily (read
    piece by piece with the labels), with the run's ``axes`` and ``channel``."""

    def read(source: Path):
        from ..engine.io import read_image

        return read_image(source, axes, channel=channel)

    return read


def _measure_zarr(
    source: Path, target: Path, model, read_image_of, quiet: bool, kept: bool = False
) -> None:
    """``--csv`` of a finished blockwise run: the labels zarr ``target`` measured piece by
    piece (:func:`~tessella.cli._measure_csv.measure_kept`: never read whole; the columns of
    an in-memory run's CSV, with the input's intensities, the pixel size and unit written
    with the labels, each 2D object's length, a movie's ``frame``), written atomically beside
    them; ``mean_confidence`` empty, where the model has it (a blockwise run keeps no
    confidence map). Interrupted or failed: no CSV, the labels kept, and the way on said.
    ``kept``: labels ``--skip-existing`` kept without their CSV, said as in memory
    (:func:`~tessella.cli._segment._write_measurements`'s words)."""
    from ._measure_csv import csv_path, measure_kept, write_image_csv

    what = "the kept labels" if kept else "the labels are complete, but"
    later = f"rerun the same command{'' if kept else ' with --skip-existing'} to measure "
    later += f"{target.name} as it is"
    bars: list = []

    def on_read(shape, chunks, axes: str):  # a bar of its reads: pieces, then length squares
        from ..engine.measure import piece_slices

        total = len(piece_slices(shape, chunks))
        bars.append(_progress_bar(total, f"{target.name}: measuring", quiet, unit="piece"))
        return lambda: _advance(bars[0], bars[0].n + 1)

    def on_lengths(reads: int) -> None:  # (engine length_reads: the squares read for them)
        bars[0].total += reads
        bars[0].refresh()

    def stale() -> str:  # an earlier run's CSV (--overwrite): it would pass for theirs
        earlier = csv_path(target)
        if kept or not (earlier.exists() or earlier.is_symlink()):
            return ""
        with contextlib.suppress(OSError):
            earlier.unlink()
        gone = not (earlier.exists() or earlier.is_symlink())
        return f"; the earlier run's {earlier.name} {'was removed' if gone else 'is still there'}"

    try:
        try:
            table = measure_kept(source, target, read_image_of, model, on_read, on_lengths)
        finally:
            for bar in bars:
                bar.close()
        write_image_csv(target, table)
    except KeyboardInterrupt:
        print(
            f"{target}: {what} were not measured (interrupted: no CSV written); {later}" + stale(),
            file=sys.stderr,
        )
        raise
    except (ValueError, OSError) as exc:
        raise CliError(
            f"{target}: {what} could not be measured ({_reason(exc)}); {later}" + stale()
        ) from None
    if kept:  # (said with -q too, as in memory)
        print(
            f"measured the 1 kept labels without a CSV as they are ({target.name})"
            + (
                ": their mean_confidence is empty (the network was not run for them)"
                if "mean_confidence" in table
                else ""
            ),
            file=sys.stderr,
        )
    elif not quiet:
        said = f"measurements of {len(set(table['label'].tolist()))} objects -> {csv_path(target)}"
        if "mean_confidence" in table:
            said += " (mean_confidence empty: --blockwise keeps no confidence map)"
        print(said, file=sys.stderr)


def _kept_words(stage: str | None, blocks: int | None, work, segmented: int = 0) -> str:
    """What an interrupted blockwise run keeps in its work folder ``work``, said after Ctrl-C
    or SIGTERM in ``stage`` with ``segmented`` of its ``blocks`` segmented, and that the same
    command resumes it: before any block is segmented, the intensity scan (or as much of it
    as was done; s32/t9: "finished blocks are kept" with none finished); during "segment",
    the blocks segmented (the one under way is redone); after it, every block; in the last
    stage ("digest", the result read for its recipe's labels_digest) every block is done
    and only that check was cut short, which the next run does again before it finishes,
    segmenting no block.

    >>> print(_kept_words("segment", 9, "w", 3))  # doctest: +NORMALIZE_WHITESPACE
    3 of 9 blocks are segmented and kept in w (the block under way is redone): run the same
    command again to resume
    >>> print(_kept_words("segment", 9, "w"))  # doctest: +NORMALIZE_WHITESPACE
    no block was segmented yet; the intensity scan is kept in w: run the same command again
    to resume
    >>> print(_kept_words("scan", None, "w"))  # doctest: +NORMALIZE_WHITESPACE
    no block was segmented yet; the intensity scan done so far is kept in w: run the same
    command again to resume
    >>> print(_kept_words("relabel", 9, "w", 9))  # doctest: +NORMALIZE_WHITESPACE
    all 9 blocks are segmented and kept in w: run the same command again to finish (no block
    is segmented again)
    >>> _kept_words("digest", 9, "w")  # doctest: +NORMALIZE_WHITESPACE
    'interrupted while checking the result: all 9 blocks are segmented and kept in w; only
    the check was cut short: run the same command again to check the result and finish (no
    block is segmented again)'
    """
    again = "run the same command again to resume"
    done = f"all {blocks} blocks are" if blocks else "every block is"
    if stage == "digest":
        return (
            f"interrupted while checking the result: {done} segmented and kept in {work}; "
            "only the check was cut short: run the same command again to check the result and "
            "finish (no block is segmented again)"
        )
    if stage not in (None, "fingerprint", "scan", "segment"):  # (stitch, relabel, ...)
        return (
            f"{done} segmented and kept in {work}: run the same command again to finish "
            "(no block is segmented again)"
        )
    if segmented > 0:
        of = f" of {blocks}" if blocks else ""
        return (
            f"{segmented}{of} block{'s are' if segmented != 1 or blocks else ' is'} segmented "
            f"and kept in {work} (the block under way is redone): {again}"
        )
    if stage == "segment":
        return f"no block was segmented yet; the intensity scan is kept in {work}: {again}"
    if stage == "scan":
        scan = "the intensity scan done so far is"
        return f"no block was segmented yet; {scan} kept in {work}: {again}"
    return f"no block was segmented yet (the run's work folder is {work}): {again}"


def _advance_blocks(bar, done: int) -> None:
    """:func:`_advance` for a bar of blocks, timed from the first block it sees finish: that
    block's time holds the set-up (the model loaded and its network prepared, the workers
    started, the first chunks read), so tqdm's rate and time left would show it for many
    blocks ("94 s/block" where blocks take 18 s). That block is counted but not timed, and the
    rate is shown from the second one on, as the panel's estimate does (3828876). The
    elapsed time still counts from the stage's start."""
    if bar.disable or done <= bar.n or getattr(bar, "timed_from_first", False):
        _advance(bar, done)
        return
    bar.timed_from_first = True
    # tqdm's rate (an average of the blocks done between its draws) starts here: its counters
    # of the last draw are moved to this block, and the count it takes the rate over
    # (``initial``, for its fallback) to this block's too; the bar stays without a rate
    bar.n = bar.last_print_n = bar.initial = done
    bar.last_print_t = bar._time()  # tqdm's own clock
    bar.refresh()


def _advance_estimated(bar, estimate, progress) -> None:
    """Show ``progress`` (of a stage run block by block) on ``bar`` with the time a block and
    the time left of ``estimate``, the napari panel's (:class:`_Estimate`, on the bar's
    clock): timed from the first block of this run that finishes (its set-up and the blocks
    kept from an earlier run left out, as :func:`_advance_blocks` does), and where the
    stage's blocks tile the label array, in pixels: an edge block counts by its size, and
    the block under way by the share of its tiles done. tqdm counted every block as a whole
    one, so near the right and bottom edges (a 20000² image in 2048² blocks: 1568 px wide
    edge blocks) its rate and time left were up to 1.5x too long. No rate until a second
    block of this run finishes (:data:`UNTIMED`)."""
    if bar is None or bar.disable:
        return
    timed = estimate.take(progress, bar._time())
    if timed is None:
        bar.bar_format = UNTIMED
    else:
        each, left = timed  # (the rate as tqdm writes it: "18.00s/block", "4.20block/s")
        rate = (
            f"{each:5.2f}s/{bar.unit}" if each >= 1 else f"{1 / max(each, 1e-9):5.2f}{bar.unit}/s"
        )
        bar.bar_format = (
            "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<"
            f"{bar.format_interval(left)}, {rate}"
            "{postfix}]"
        )
    if progress.done > bar.n:
        bar.update(progress.done - bar.n)
    bar.refresh()


def _say_inside(bar, progress) -> None:
    """How far the block being worked on is, after the bar ("block 3: slice 37 of 288"),
    from the engine's progress inside a block (none once a block finishes)."""
    if bar is None or bar.disable:
        return
    inner = getattr(progress, "inner", None)
    if getattr(progress, "region", None) is not None:
        if bar.postfix:
            bar.set_postfix_str("", refresh=True)
    elif inner is not None and progress.block is not None:
        said = f"block {progress.block + 1}: {inner.stage} {inner.done} of {inner.total}"
        bar.set_postfix_str(said, refresh=True)

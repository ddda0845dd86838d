"""Export's writing: every chosen output made or checked before the first is written, then
written under a temporary name beside it, the recipe last, and put in place only once all
are written (replacing the earlier files with Overwrite): an export is all or nothing, a
failure or a cancel leaves every file as it was (the exporting of
:class:`.export.ExportWidget`, a mixin)."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from napari.layers import Labels
from napari.utils.notifications import show_error, show_info, show_warning

from . import _results
from ._export_outputs import (
    Hashed,
    InputSource,
    base_path,
    folder_to_make,
    names_a_folder,
    renaming,
)
from ._layers import find_layer, full_resolution
from ._object_stack import measure_stack
from ._words import counted
from ._workers import caught_warnings_of_this_thread, report_runtime_errors
from .segment import SOURCE_ID_KEY

__all__ = ["ExportWriting"]

#: the input identities Export hashed in this session, by file: ``(path, size, mtime_ns,
#: outputs written)`` -> identity, so that exporting again from an unchanged file does not
#: read it again (a 4 GB file takes some 10 s); the latest :data:`_KEPT` are kept
_IDENTITIES: dict[tuple, dict] = {}
_KEPT = 64


def _file_key(source: InputSource) -> tuple | None:
    """The key of ``source``'s file in :data:`_IDENTITIES`: its path, size and modification
    time now, where they are those it had when read (when the reader recorded them); None
    for a folder (whose identity reads no pixel), a file gone, or one changed since read."""
    import stat as stat_module

    try:
        now = os.stat(source.path)
    except (OSError, ValueError):
        return None
    if not stat_module.S_ISREG(now.st_mode):
        return None
    read = source.as_read
    if read is not None and (read.get("size"), read.get("mtime_ns")) != (
        now.st_size,
        now.st_mtime_ns,
    ):
        return None
    return (source.path, now.st_size, now.st_mtime_ns, source.written)


def _labels_now(layer) -> np.ndarray:
    return np.asarray(full_resolution(layer))


def _write_error(exc: Exception, target: Path) -> str:
    """Why ``target`` could not be written, naming it rather than the temporary file that
    :func:`tessella.engine.io.atomic_path` or Export writes first."""
    import re

    if isinstance(exc, OSError) and exc.strerror:
        if exc.errno == errno.ENOENT and target.parent.is_dir():
            return f"cannot write {target}: '{target.parent}' takes no new files"
        return f"cannot write {target}: {exc.strerror}"
    text = str(exc)
    folder, name = re.escape(str(target.parent) + os.sep), re.escape(target.name)
    # (.NAME.XXXX.tmp; a writer's own temporary of it, ..NAME.XXXX.tmp.tmp)
    text = re.sub(rf"{folder}\.+{name}\.[^'\"\s]*tmp(\.partial-[0-9]+)?", str(target), text)
    return f"cannot write {text if str(target) in text else f'{target}: {text}'}"


def _pixel_size(viewer, layer, axes: str) -> tuple[dict[str, float] | None, str, str]:
    """``(sizes, unit, note)``: the pixel size Export writes for ``layer``, its unit, and what
    the status line says about a guessed unit (:func:`tessella._io.layer_pixel_size`; the
    pixel size may be the one the reader recorded for the image Segment made it from)."""
    from tessella._io import layer_pixel_size

    source = find_layer(viewer, layer.metadata.get(SOURCE_ID_KEY))
    sizes, unit, guessed = layer_pixel_size(
        axes,
        layer.scale,
        getattr(layer, "units", None),  # (napari before 0.5 has none)
        [layer.metadata, getattr(source, "metadata", {})],
    )
    if not guessed or sizes is None:
        return sizes, unit, ""
    shown = ", ".join(f"{axis} {size:g}" for axis, size in sizes.items())  # every axis
    return sizes, unit, f"the scale ({shown}) has no unit: written as {unit}"


def _not_reproduced(name: str, note: object) -> str:
    """What the status line says when the recipe written does not make the labels of layer
    ``name``, with the cause its ``note`` records: the reader's, for a labels file changed
    after its recipe was written beside it or a recipe whose digest is damaged; else edits
    in napari (by hand, or a Tune preview of one slice or frame)."""
    from tessella._io import DIGEST_DAMAGED_NOTE, LABELS_CHANGED_NOTE

    if note == LABELS_CHANGED_NOTE:
        return (
            f"'{name}' was read from a labels file changed after its recipe was written "
            "beside it (edited or replaced outside Tessella): the recipe makes them as they "
            "were before"
        )
    if note == DIGEST_DAMAGED_NOTE:
        return (
            f"'{name}' was read from a file whose recipe has a damaged labels_digest (edited "
            "or cut short): the recipe cannot vouch for these labels, and replaying it may "
            "not give them"
        )
    return (
        f"The labels were changed after '{name}' was segmented (by hand, or a Tune preview "
        "not applied to all): the recipe makes them as they were before"
    )


def _recipe_caution(name: str, note: object) -> str:
    """The warning's first words when the recipe written does not make the labels of layer
    ``name``: what replaying it gives, before why (:func:`_not_reproduced` says it all on
    the status line), so that a pop-up cut short still says it."""
    from tessella._io import DIGEST_DAMAGED_NOTE, LABELS_CHANGED_NOTE

    if note == LABELS_CHANGED_NOTE:
        return (
            f"the recipe makes '{name}' as it was before its file was changed outside "
            "Tessella (edited or replaced)"
        )
    if note == DIGEST_DAMAGED_NOTE:
        return (
            f"the recipe may not make '{name}': its labels_digest is damaged (edited or cut short)"
        )
    return (
        f"the recipe makes '{name}' as it was before the edits (by hand, or a Tune preview "
        "not applied to all)"
    )


def _no_identity(hashed: Hashed) -> str:
    """What the status line says when the recipe records no ``input_identity`` because the
    file the image was read from changed or is gone since (one sentence, naming it)."""
    source = hashed.source
    return (
        f"the recipe records no input_identity: {source.path} (read as '{source.layer}') is "
        f"not the file that was read, {hashed.why}"
    )


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.0f} MB" if size >= 10**6 else f"{size:,} bytes"


def _ctc_numbering(layer, n_frames: int) -> tuple[list[int] | None, str]:
    """``(frame_numbers, caution)``: the numbers the CTC masks of ``layer`` (of ``n_frames``
    frames) are named by, as ``tessella segment --ctc`` names a folder's
    (:func:`~tessella.engine.tracking._ctc.ctc_frame_numbers`): the frame numbers its
    metadata records (:data:`~tessella._io_folder.FRAME_NUMBERS_KEY`: the reader's, of a
    folder ``t052.tif ...``, which Segment's results take from their image), else None (0,
    1, ...). Where they are not one per frame (a layer cut or grown since), None, and
    ``caution`` says so naming the layer; where they skip frames, ``caution`` says which
    frames are missing and that no mask is written for them; else it is ""."""
    import numbers as kinds

    from tessella._io_folder import FRAME_NUMBERS_KEY
    from tessella.engine.tracking._ctc import ctc_frame_numbers

    recorded = layer.metadata.get(FRAME_NUMBERS_KEY)
    if recorded is None:
        return None, ""
    if not (
        isinstance(recorded, list | tuple)
        and all(isinstance(n, kinds.Integral) and not isinstance(n, bool) for n in recorded)
        and all(n >= 0 for n in recorded)
    ):
        return None, (
            f"the CTC masks of '{layer.name}' are numbered from 0: its metadata's "
            f"'{FRAME_NUMBERS_KEY}' holds no frame numbers ({str(recorded)[:40]})"
        )
    if len(recorded) != n_frames:
        return None, (
            f"the CTC masks of '{layer.name}' are numbered from 0: its metadata records the "
            f"numbers of {len(recorded)} frames ('{FRAME_NUMBERS_KEY}'), but it has {n_frames}"
        )
    return ctc_frame_numbers(recorded, f"'{layer.name}'", "the CTC export")


def _csv_frames(layer, axes: str, shape: tuple[int, ...]) -> list[int]:
    """The movie's own frame numbers of ``layer`` (of ``axes`` and ``shape``) for the CSV's
    ``frame`` column: those the reader recorded, one a frame, which its CTC masks are named
    by (:func:`_ctc_numbering`), else none (no column)."""
    if "T" not in axes:
        return []
    numbers, _caution = _ctc_numbering(layer, shape[axes.index("T")])
    return list(numbers or [])


def _one_frame_tracks(ctc) -> list[str]:
    """What the status line says when no track of a movie lasts more than one frame (no ID
    is in two frames: labels not made by Segment whose IDs are not linked over time)."""
    if ctc.n_frames < 2 or not ctc.tracks or any(k.end > k.start for k in ctc.tracks):
        return []
    n = len(ctc.tracks)
    which = "the one track is" if n == 1 else f"every one of the {n} tracks is"
    return [f"{which} one frame long (no ID is in two frames): are these labels linked over time?"]


#: in-memory labels of more pixels than this are read, measured and written in a worker, as
#: labels on disk (a zarr-backed blockwise result) always are: a 4096² result to TIFF,
#: OME-Zarr, CSV and recipe held the GUI thread 6.4 s (user test s29/t2); smaller ones are
#: written at once, as before (export() returns their files)
WORKER_PIXELS = 4096 * 4096


def _labels_data(layer):
    """The array behind ``layer`` (its full resolution where multiscale), not read."""
    return full_resolution(layer)


@dataclass
class _Plan:
    """What one export writes, taken from the panel and the viewer on the GUI thread; the
    pixels are read by :func:`_export_steps` (in a worker for labels on disk)."""

    name: str  # the labels layer's
    outputs: list  # _Output, as the panel listed them
    overwrite: bool
    make_folder: Path | None  # the folder to make first (removed again if nothing is kept)
    data: Any  # the labels (an array in memory, or on disk: zarr, dask)
    axes: str
    pixel_size: dict[str, float] | None
    unit: str
    stack: Any  # the mask stack (_Stack) or None
    image: Any  # the intensity image's array or None
    result: Any  # Segment's result behind the labels (their confidence) or None
    numbers: list[int] | None  # the CTC masks' frame numbers
    lineage: dict[int, int]  # the CTC tracks' divisions
    # (stack, labels, digest) -> (recipe, reproduces): _recipe_maker's
    recipe: Callable | None
    cancel: threading.Event = field(default_factory=threading.Event)
    # held while Cancel is looked at the last time, before the outputs are put in place;
    # placing: they are (a Cancel then comes too late, and the export completes)
    lock: threading.Lock = field(default_factory=threading.Lock)
    placing: bool = False
    closed: bool = False  # the panel was closed meanwhile (it said so then)
    intensity: str = ""  # what the status line says of the CSV's mean intensity (the image)
    # the movie's own frame numbers, one a frame (t052.tif ...: 52, ...), for the CSV's
    # frame column (none: no column)
    frames: list[int] = field(default_factory=list)
    first_frame: int | None = None  # the CTC masks' first number, First frame number's
    length: bool = False  # the CSV's length along the skeleton (of 2D labels), as ticked
    # the recipe kept in a zarr or OME-Zarr's own attributes where Recipe is not ticked: a
    # time-lapse result's, so that its frame numbers go with the labels (_recipe_maker's)
    attrs_recipe: Callable | None = None
    # told of each piece read of labels on disk ((done, total, what), as the steps yielded);
    # Export's worker: its 'yielded' signal. None: the steps alone (the GUI thread)
    report: Callable | None = None
    # what the progress counts: "steps", or "pieces" (labels on disk, set by _export_steps)
    counts: str = "steps"


class _Notes(NamedTuple):
    """What the status line adds, known before anything is written."""

    unit_note: str
    ctc_caution: str
    skipped_recipe: bool
    no_ctc: str
    no_identity: str
    recovered: str = ""  # what a killed export or write left, recovered (_recover_leftovers)


@dataclass
class _Done:
    """What :func:`_export_steps` did: the files written, or why none are."""

    written: list[Path] = field(default_factory=list)
    refused: str = ""  # the labels cannot be written (nothing was)
    failed: tuple[Path, Exception] | None = None  # the output (or folder) that failed, why
    cancelled: bool = False
    # the zarr store of the labels, whose files changed while they were read (nothing written)
    changed: Path | None = None
    too_late: bool = False  # Cancel came while the outputs were put in place: all are
    replacing: bool = False  # failed where some outputs were there (and are as they were)
    # what could not be put back or removed, each naming the hidden file kept (_place_all)
    kept: list[str] = field(default_factory=list)
    objects: int | None = None  # rows of the CSV
    ctc: Any = None  # the CTC tracks written
    reproduces: bool = True
    note: Any = None  # the recipe's note, where it does not reproduce the labels


def _steps(outputs) -> int:
    """How many steps :func:`_export_steps` counts for ``outputs``: reading the labels,
    measuring them (a CSV), tracking them (CTC), each output, and putting them in place."""
    kinds = [output.kind for output in outputs]
    return 2 + ("csv" in kinds) + ("ctc" in kinds) + len(outputs)


def _in_pieces(plan: _Plan) -> bool:
    """Whether the labels of ``plan`` are read a piece at a time (labels on disk, outputs
    that are written so: all but a mask stack, which is not offered for them)."""
    from ._export_lazy import PIECEWISE_KINDS, is_on_disk

    return is_on_disk(plan.data) and {o.kind for o in plan.outputs} <= PIECEWISE_KINDS


def _when_cancelled(plan: _Plan) -> str:
    """When Cancel stops the export of ``plan``, as the status line says it."""
    return "before the next piece it reads" if _in_pieces(plan) else "after the step it is in"


def _measure_pieces(labels: Any, axes: str) -> int:
    """How many pieces :func:`~tessella.engine.measure.measure_objects` reads of ``labels``
    on disk (of ``axes``: a frame deep along T)."""
    from tessella.engine.measure import chunks_of, piece_slices

    shape = tuple(int(n) for n in labels.shape)
    chunks = chunks_of(labels)
    if chunks is not None and "T" in axes and len(axes) == len(shape):
        chunks = tuple(1 if a == "T" else c for a, c in zip(axes, chunks))
    return len(piece_slices(shape, chunks))


def _output_pieces(kind: str, labels: Any, value_range: tuple[int, int]) -> int:
    """How many pieces (frames for CTC masks) writing output ``kind`` of ``labels`` on disk
    reads; 1 for an output written from what was read before (CSV, recipe)."""
    from ._export_lazy import tiff_pieces, zarr_pieces

    if kind == "tiff":
        return len(tiff_pieces(labels))
    if kind in ("zarr", "ome_zarr"):
        return zarr_pieces(labels, value_range, ome=kind == "ome_zarr")
    if kind == "ctc":
        return int(labels.shape[0])
    return 1


def _pieces_total(plan: _Plan, digest: bool, value_range: tuple[int, int] | None = None) -> int:
    """What the progress bar of an export of labels on disk counts to: the pieces each pass
    reads, all together, and a count for each step that reads none; a zarr's pieces as the
    labels' ``value_range`` gives them (before it is known: as if they used their type's
    whole range)."""
    from ._export_lazy import range_pieces

    labels = plan.data
    kinds = [output.kind for output in plan.outputs]
    dtype = np.dtype(labels.dtype)
    widest = (0, int(np.iinfo(dtype).max)) if dtype.kind in "iu" else (0, 1)
    widest = widest if value_range is None else value_range
    total = range_pieces(labels, digest) + 1  # (and putting the files in place)
    if "csv" in kinds:
        total += _measure_pieces(labels, plan.axes)
    if "ctc" in kinds:
        total += int(labels.shape[0])
    for kind in kinds:
        total += _output_pieces(kind, labels, widest)
    return total


def _export_steps(plan: _Plan) -> Generator[tuple[int, int, str], None, _Done]:
    """Read the labels of ``plan``, measure them and write its outputs, all or none; yields
    ``(steps done, steps, what now)`` (labels on disk: pieces read of all the pieces, all
    passes together, each piece also said to ``plan.report`` as it is read). Every output
    is made or checked before the first is written, then written under a temporary name
    beside it (``.NAME.XXXX.tmp``, the recipe
    last); once all are, they are renamed into place, each replacing the file or folder
    there (Overwrite; a CTC folder keeps its other files), and what they replaced is
    removed. A failure or a cancel (``plan.cancel``, looked at between steps) before then
    removes the temporaries and the folder it made: every file there is as it was. A
    failure while they are put in place takes back those already in place and restores
    what they replaced. A cancel while they are put in place (a few renames) comes too
    late: the export completes, and says so (``too_late``). Runs in Export's worker, or on
    the GUI thread for small labels in memory: it touches no widget and no layer.

    Labels on disk in a zarr store (a lazy layer) are read in several passes (their range,
    the measures, each output) over seconds: the store's
    :func:`~tessella.engine.digest.stored_files_stamp` is taken first and again before the
    outputs are put in place (and before each is written, to say so early); where it changed
    (a Correct *Write back*, or any other write, meanwhile) the outputs, which may each hold
    other labels, are removed and none is put in place (``changed``: the store). The store
    is marked read meanwhile (:func:`._busy_stores.reading`), for a writer to see."""
    from ._busy_stores import reading
    from ._export_lazy import store_stamp

    stamped = store_stamp(plan.data)  # (before the first read)
    with reading(None if stamped is None else stamped[0]):
        return (yield from _export_steps_of(plan, stamped))


def _changed_on_disk(stamped: tuple[Path, str | None] | None) -> bool:
    """Whether the files of the store ``stamped`` (``(folder, stamp)`` when the export began)
    changed since (one ``stat`` a chunk file, no pixel read)."""
    from tessella.engine.digest import stored_files_stamp

    if stamped is None or stamped[1] is None:
        return False  # (not a store, or one whose files could not be listed then)
    return stored_files_stamp(stamped[0]) != stamped[1]


def _export_steps_of(
    plan: _Plan, stamped: tuple[Path, str | None] | None
) -> Generator[tuple[int, int, str], None, _Done]:
    """:func:`_export_steps`, the files of the labels' store ``stamped`` (``(folder, stamp)``
    as it began, or None)."""
    from tessella._io_recipe import ZARR_RECIPE_ATTR
    from tessella.engine.axes import spatial_of
    from tessella.engine.io import write_json, write_labels, write_mask_stack, write_zarr_labels
    from tessella.engine.io._leftovers import batch_of_writes, claim, new_token
    from tessella.engine.io._write import write_labels_in_strips, write_ome_zarr_labels
    from tessella.engine.measure import _lengths_on_disk as lengths_on_disk
    from tessella.engine.measure import measure_objects, with_frame_numbers, write_csv
    from tessella.engine.tracking import ctc_tracks, write_ctc

    from ._export_lazy import (
        Stopped,
        Ticker,
        Ticking,
        is_on_disk,
        range_and_digest,
        range_pieces,
        tiff_bands,
        write_labels_in_pieces,
    )

    kinds = [output.kind for output in plan.outputs]
    # labels on disk (a blockwise result) are read a piece at a time, never whole (a mask
    # stack is not offered for them: it would hold each object whole)
    in_pieces = _in_pieces(plan)
    maker = plan.recipe or plan.attrs_recipe
    # the recipe's labels_digest: hashed while their range is found (one reading, not two)
    wants_digest = (
        in_pieces and maker is not None and bool({"tiff", "zarr", "ome_zarr"} & set(kinds))
    )
    # the progress: steps, or for labels on disk the pieces read (all passes together)
    count = Ticker(_steps(plan.outputs), plan.cancel, plan.report if in_pieces else None)
    if in_pieces:
        plan.counts = "pieces"
        count.total = _pieces_total(plan, wants_digest)
    value_range = (0, 0)
    digest = None
    if in_pieces:
        labels = plan.data
        read = range_pieces(labels, wants_digest)
        yield count.begin(f"checking '{plan.name}' (a piece at a time)", read)
        try:
            value_range, digest = range_and_digest(labels, count, wants_digest)
        except Stopped:
            return _Done(cancelled=True)
        if value_range[0] >= 0:  # (the zarr's pieces, as its type now known gives them)
            count.total = _pieces_total(plan, wants_digest, value_range)
    else:
        yield count.begin(f"reading '{plan.name}'", 1)
        labels = np.asarray(plan.data)
    # (labels on disk: each read a piece counted, Cancel seen before it)
    counted: Any = Ticking(labels, count) if in_pieces else labels
    if plan.cancel.is_set():
        return _Done(cancelled=True)
    try:  # every output made or checked before the first is written: a failure writes none
        if in_pieces:
            if value_range[0] < 0:
                raise ValueError("labels must be integers of 0 and more")
        elif labels.dtype.kind == "i" and labels.size and labels.min() < 0:
            raise ValueError("labels must be integers of 0 and more")
        table = None
        if "csv" in kinds:
            yield count.begin(
                "measuring the objects" + (" (a piece at a time)" * in_pieces),
                _measure_pieces(labels, plan.axes) if in_pieces else 1,
            )
            image = plan.image
            if image is not None and not (in_pieces and is_on_disk(image)):
                image = np.asarray(image)
            options: dict[str, Any] = {
                "image": image,
                "confidence": (
                    None
                    if plan.result is None
                    else _results.confidence_map(plan.result, labels.shape)
                ),
                "spacing": None if plan.unit == "pixel" else plan.pixel_size,  # no physical size
                "axes": plan.axes,
                "unit": plan.unit,
            }
            # 2D objects (YX, TYX): their length along the skeleton too, as the engine
            # measures it (tessella segment --csv's columns); volumes have none
            length = plan.length and spatial_of(plan.axes) == "YX"
            if plan.stack is not None:  # each object whole, its hidden parts included
                table = measure_stack(plan.stack.masks, plan.stack.ids, length=length, **options)
            elif in_pieces and length:  # each object's box read from disk: counted apart
                from tessella.engine.measure import length_reads, table_boxes

                from ._words import counted as counted_words  # (`counted`: the labels here)

                table = measure_objects(counted, **options)
                # (read a 2048² square at a time, not an object at a time, since ac6afb0:
                # the bar counts those reads, as tessella segment --blockwise --csv's)
                reads = length_reads(table_boxes(table), counted.shape)
                yield count.begin(
                    f"measuring the length of {counted_words(len(table['label']), 'object')} "
                    "from disk, a square of labels at a time",
                    reads,
                )
                table = lengths_on_disk(table, counted, plan.axes, options["spacing"], plan.unit)
            else:
                table = measure_objects(counted, length=length, **options)
            if plan.frames and "t" in table:
                table = with_frame_numbers(table, plan.frames)
            if plan.cancel.is_set():
                return _Done(cancelled=True)
        ctc = None
        if "ctc" in kinds:
            frames = int(labels.shape[0]) if in_pieces else 1
            yield count.begin("the tracks" + (" (a frame at a time)" * in_pieces), frames)
            ctc = ctc_tracks(counted, plan.lineage, plan.numbers)
    except ValueError as exc:
        return _Done(refused=str(exc))
    except Stopped:  # (Cancel, seen between two pieces: nothing was written yet)
        return _Done(cancelled=True)

    if plan.make_folder is not None:
        try:
            plan.make_folder.mkdir()
        except OSError as exc:
            return _Done(failed=(plan.make_folder, exc))
    reproduces, note = True, None
    replacing = any(o.path.exists() or o.path.is_symlink() for o in plan.outputs)
    stack = plan.stack
    axes, pixel_size, unit = plan.axes, plan.pixel_size, plan.unit
    token = new_token()  # HOST-PID-XXXXXXXX: a killed export's files are told from a running one's
    staged: list[_Staged] = []
    output = None
    made: list[tuple[dict, bool]] = []  # the recipe, made once

    def recipe_of(labels) -> tuple[dict, bool]:
        assert maker is not None
        if not made:  # (labels on disk: their digest, hashed as their range was found)
            made.append(maker(stack, labels, digest))
        return made[0]

    # (the engine's writers each look for what killed writes left beside their temporary:
    # within a batch the folder is read once for them all, not once an output)
    with batch_of_writes(_folder_of(plan.outputs)):
        try:
            # every output under a temporary name beside it; the recipe last (it names the files
            # written before it); none is in place until all are written
            for output in sorted(plan.outputs, key=lambda o: o.kind == "recipe"):
                if plan.cancel.is_set():
                    _discard(staged, plan.make_folder)
                    return _Done(cancelled=True)
                if _changed_on_disk(stamped):  # (said now, not once all are written)
                    assert stamped is not None
                    _discard(staged, plan.make_folder)
                    return _Done(changed=stamped[0])
                pieces = _output_pieces(output.kind, labels, value_range) if in_pieces else 1
                yield count.begin(f"writing {output.path.name}", pieces)
                # (its lock file first: held until the end, what it leaves is known for its own)
                writing = claim(output.path, token)
                item = _Staged(output, writing.path("tmp"), writing)
                staged.append(item)
                path = item.staged
                with _warnings_naming(path, output.path, keep=output.kind != "ctc"):
                    if output.kind == "tiff" and in_pieces:
                        write_labels_in_strips(
                            path,
                            tiff_bands(labels, count),
                            tuple(labels.shape),
                            value_range,
                            axes,
                            pixel_size,
                            unit,
                        )
                    elif output.kind == "tiff":
                        write_labels(path, labels, axes, pixel_size, unit)
                    elif output.kind == "stack":
                        assert stack is not None
                        write_mask_stack(path, stack.masks, pixel_size=pixel_size, unit=unit)
                    elif output.kind == "zarr" and in_pieces:
                        write_labels_in_pieces(
                            path,
                            labels,
                            value_range,
                            axes,
                            pixel_size,
                            unit,
                            ome=False,
                            attrs=_in_attrs(plan, recipe_of, counted),
                            ticker=count,
                        )
                    elif output.kind == "zarr":
                        write_zarr_labels(
                            path,
                            labels,
                            axes,
                            pixel_size,
                            unit,
                            attrs=_in_attrs(plan, recipe_of, labels),
                        )
                    elif output.kind == "ome_zarr":
                        # (the recipe in its attributes too: the reader finds no
                        # name.recipe.json for name.ome.zarr, whose recipe would be
                        # name.ome.recipe.json)
                        in_zarr = None
                        if maker is not None:
                            kept, _same = recipe_of(counted)
                            in_zarr = {ZARR_RECIPE_ATTR: kept}
                        if in_pieces:
                            write_labels_in_pieces(
                                path,
                                labels,
                                value_range,
                                axes,
                                pixel_size,
                                unit,
                                ome=True,
                                name=plan.name,
                                attrs=in_zarr,
                                ticker=count,
                            )
                        else:
                            write_ome_zarr_labels(
                                path,
                                labels,
                                axes,
                                pixel_size,
                                unit,
                                name=plan.name,
                                attrs=in_zarr,
                            )
                    elif output.kind == "csv":
                        assert table is not None
                        write_csv(path, table, overwrite=True)
                    elif output.kind == "ctc":
                        # (its notes go in the status line, not in warnings naming the
                        # temporary folder; labels on disk: a frame at a time)
                        write_ctc(counted, None, path, True, tracks=ctc, frame_numbers=plan.numbers)
                    else:
                        assert plan.recipe is not None
                        recipe, reproduces = recipe_of(counted)
                        note = recipe.get("note")
                        write_json(path, recipe)
            yield count.begin("putting the files in place", 1)
            if _changed_on_disk(stamped):  # (read over seconds: each pass may see others)
                assert stamped is not None
                _discard(staged, plan.make_folder)
                return _Done(changed=stamped[0])
            with plan.lock:  # Cancel from now on comes too late: the export completes
                if plan.cancel.is_set():
                    _discard(staged, plan.make_folder)
                    return _Done(cancelled=True)
                plan.placing = True
        except Stopped:  # (Cancel, seen between two pieces of labels on disk)
            _discard(staged, plan.make_folder)
            return _Done(cancelled=True)
        except GeneratorExit:  # (closed before the end: nothing is left, nothing replaced)
            _discard(staged, plan.make_folder)
            raise
        except Exception as exc:  # any failure: say which file, keep the widget usable
            assert output is not None
            _discard(staged, plan.make_folder)
            return _Done(failed=(output.path, exc), replacing=replacing)
        failed, kept = _place_all(staged, plan.overwrite, token)
        if failed is not None:
            _discard(staged, plan.make_folder)
            return _Done(failed=failed, replacing=replacing, kept=kept)
        for item in staged:
            item.claim.release()
        late = plan.cancel.is_set()
        count.begin("done", 0)
        yield count.total, count.total, "done"
        objects = None if table is None else len(table["label"])
        written = [item.output.path for item in staged]
        return _Done(
            written,
            objects=objects,
            ctc=ctc,
            reproduces=reproduces,
            note=note,
            too_late=late,
            kept=kept,
        )


def _recipe_of_its_own(outputs: list) -> list:
    """``outputs`` with the recipe's path where ``name.recipe.json`` is the recipe of
    another labels file of that name than those written (``name.zarr``, which
    ``tessella segment`` wrote, exporting ``name.tif``): ``name.tif.recipe.json``
    (:func:`~tessella.engine.io._kept_recipe.recipe_to_write`), that file's recipe left as it
    is; also where the TIFF has one of its own already."""
    from tessella.engine.io._kept_recipe import recipe_to_write

    recipe = next((o for o in outputs if o.kind == "recipe"), None)
    labels = next((o for o in outputs if o.kind in ("tiff", "zarr")), None)
    if recipe is None or labels is None:
        return outputs
    where = recipe_to_write(labels.path, tuple(o.path.name for o in outputs))
    if where == recipe.path:
        return outputs
    return [type(o)(o.kind, where) if o.kind == "recipe" else o for o in outputs]


def _folder_in_the_way(outputs: list) -> str:
    """Why a file output cannot be written: a folder of its name (``name.recipe.json/``),
    which Export never replaces, Overwrite or not; "" where none is."""
    for output in outputs:
        if output.kind in ("tiff", "stack", "csv", "recipe") and output.path.is_dir():
            return (
                f"{output.path} is a folder, where the {_KIND_WORDS[output.kind]} goes; remove "
                "or rename it, or choose another name"
            )
    return ""


#: how an output is called in a message
_KIND_WORDS = {"tiff": "labels TIFF", "stack": "mask stack", "csv": "CSV", "recipe": "recipe"}


def _leave_older_recipes_to_their_files(outputs: list) -> None:
    """Where the export writes labels without a recipe beside them (Recipe not ticked, or
    none), ``name.tif`` beside the older ``name.recipe.json`` of another labels file of
    that name (``name.zarr``'s, naming no file): that file is recorded in it
    (:func:`~tessella.engine.io._kept_recipe.name_older_shared_recipe`), so that it stays
    that file's rather than become either's."""
    from tessella.engine.io._kept_recipe import name_older_shared_recipe

    if any(output.kind == "recipe" for output in outputs):
        return
    for output in outputs:
        if output.kind in ("tiff", "zarr"):
            name_older_shared_recipe(output.path)


def _recipe_named_by_its_tiff(plan: _Plan) -> bool:
    """Whether the recipe of ``plan`` goes to the TIFF's own ``name.tif.recipe.json``
    (:func:`_recipe_of_its_own`), where the reader of the zarr written with it would not
    look: the zarr then keeps it in its attributes."""
    recipe = next((o for o in plan.outputs if o.kind == "recipe"), None)
    return recipe is not None and recipe.path.name.lower().endswith(".tif.recipe.json")


def _in_attrs(plan: _Plan, recipe_of: Callable, labels) -> dict | None:
    """The attributes a zarr output of ``plan`` adds: none where Recipe is ticked (its
    ``name.recipe.json`` beside it is the recipe; the recipe where it goes to the TIFF's
    own ``name.tif.recipe.json`` instead: :func:`_recipe_named_by_its_tiff`), else the
    recipe of a time-lapse result with its frame numbers (``plan.attrs_recipe``), under
    :data:`~tessella._io_recipe.ZARR_RECIPE_ATTR`, as a blockwise zarr keeps it: reopened,
    the labels get their frame numbers back."""
    from tessella._io_recipe import ZARR_RECIPE_ATTR

    if plan.recipe is not None and _recipe_named_by_its_tiff(plan):
        return {ZARR_RECIPE_ATTR: recipe_of(labels)[0]}
    if plan.recipe is not None or plan.attrs_recipe is None:
        return None
    return {ZARR_RECIPE_ATTR: recipe_of(labels)[0]}


def _as_the_command_records(maker: Callable, hashed: Hashed | None, image) -> Callable:
    """Export's recipe maker ``maker`` (:meth:`_recipe_maker`), its recipe recording what
    ``tessella segment``'s records of the same run (s35 t18 #5: Export's lacked ``input`` and
    ``stored_axes``, and recorded ``"spacing": [1.0, 1.0]`` for an image without a pixel
    size, which ``--recipe`` then wrote into the labels as a size of 1 pixel): ``input``, the
    file whose ``input_identity`` Export recorded (``hashed``: none where the image was read
    from no file, or that file changed since); ``stored_axes``, the axes as that file stores
    them (the reader's :data:`~tessella._io.STORED_AXES_KEY` of the image layer ``image``),
    where Segment read it with the axes the reader gave it; and no ``spacing`` where it is
    napari's scale of 1 of an image without a pixel size (all 1, no ``unit`` nor
    ``voxel_size``): the command records none there, and the replay reads the file's own."""
    from tessella._io import STORED_AXES_KEY
    from tessella.engine.input_record import INPUT_KEY

    from_file = hashed is not None and hashed.identity is not None
    metadata = getattr(image, "metadata", {}) if from_file else {}
    stored = metadata.get(STORED_AXES_KEY)

    def make(stack, labels, digest=None) -> tuple[dict, bool]:
        recipe, reproduces = maker(stack, labels, digest)
        recipe = dict(recipe)
        if from_file and INPUT_KEY in recipe:
            assert hashed is not None
            recipe["input"] = hashed.source.path
            if isinstance(stored, str) and recipe.get("axes") == metadata.get("axes"):
                recipe["stored_axes"] = stored
        spacing = recipe.get("spacing")
        if (
            isinstance(spacing, list)
            and not any(key in recipe for key in ("unit", "voxel_size"))
            and all(isinstance(v, int | float) and v == 1 for v in spacing)
        ):
            del recipe["spacing"]
        return recipe, reproduces

    return make


def _recover_leftovers(outputs) -> str:
    """Recover what an export (or an engine write) of these ``outputs`` killed before it
    finished left beside them (:func:`~tessella.engine.io._leftovers.recover_leftovers`: an
    earlier file it had moved aside put back where the output is missing, its temporaries
    removed; a running one's never touched), each said in a notification; returns what the
    status line adds ("" where there was nothing)."""
    from tessella.engine.io._leftovers import batch_of_writes, recover_leftovers

    said = []
    with batch_of_writes(_folder_of(outputs)):  # (the folder read once, not once an output)
        for output in outputs:
            try:
                line = recover_leftovers(output.path, warn=False)
            except OSError as exc:  # (the export then fails on it, naming it)
                line = (
                    f"{output.path}: what a killed write left beside it was not recovered ({exc})"
                )
            if line:
                show_warning(f"Export: {line}.")
                said.append(line)
    return "; ".join(said)


def _folder_of(outputs) -> Path:
    """The folder Export writes ``outputs`` into (all of them are beside each other)."""
    return outputs[0].path.parent


def _beside(target: Path, token: str, what: str) -> Path:
    """A hidden name beside ``target`` for this export (``token``): ``.NAME.TOKEN.tmp`` for
    what is written, ``.NAME.TOKEN.old`` for what it replaces meanwhile."""
    return target.with_name(f".{target.name}.{token}.{what}")


@dataclass
class _Staged:
    """One output written under a temporary name beside it (``staged``), and, once put in
    place, what it replaced there, moved aside until every output is in place."""

    output: Any  # _Output
    staged: Path
    claim: Any  # its hidden names and lock (tessella.engine.io._leftovers.Claim)
    placed: bool = False
    backup: Path | None = None  # the file or folder replaced (a CTC folder: its files)
    merged: bool = False  # put into a CTC folder that was there (its other files kept)
    moved: list[str] = field(default_factory=list)  # a CTC folder's files moved aside
    added: list[str] = field(default_factory=list)  # the files put in a CTC folder


@contextlib.contextmanager
def _warnings_naming(staged: Path, target: Path, keep: bool = True):
    """Warnings raised in the block, raised again naming ``target`` where they name its
    temporary ``staged`` (``keep`` False: dropped)."""
    import warnings

    with caught_warnings_of_this_thread(Warning) as caught:
        yield
    if keep:
        for warning in caught:
            text = str(warning.message).replace(str(staged), str(target))
            warnings.warn(text, warning.category, stacklevel=3)


def _remove(path: Path) -> None:
    """Remove the file or folder ``path`` where it is there (the engine's own removal)."""
    from tessella.engine.io._leftovers import _remove as remove

    remove(path)


def _place(item: _Staged, overwrite: bool, token: str) -> None:
    """Put ``item`` in place of its target, what was there moved aside (``item.backup``).
    A CTC folder that is there gets the new result's files, its earlier result's (masks of
    any numbers, ``res_track.txt``) moved aside, its other files kept, as
    :func:`~tessella.engine.tracking.write_ctc` replaces a result. Without ``overwrite``
    it is renamed in only where nothing is there (FileExistsError naming the target where
    another program made it meanwhile, which is kept as it is)."""
    from tessella.engine.io._leftovers import rename_no_replace
    from tessella.engine.tracking._ctc import _ctc_masks

    target = item.output.path
    if not overwrite:
        # (Export found nothing there; what another program made there since, a file, a
        # folder, a CTC folder holding a result, is never replaced nor merged into: in one
        # step, no look before the rename)
        try:
            rename_no_replace(item.staged, target)
        except FileExistsError:
            raise FileExistsError(
                errno.EEXIST, "it was made while the export was written", str(target)
            ) from None
        item.placed = True
        return
    there = target.exists() or target.is_symlink()
    if item.output.kind == "ctc" and there and target.is_dir() and not target.is_symlink():
        names = sorted(p.name for p in item.staged.iterdir())
        item.backup = _beside(target, token, "old")
        item.backup.mkdir()
        item.placed = item.merged = True
        for name in names:  # the earlier result's files of the same names
            if (target / name).exists():
                os.replace(target / name, item.backup / name)
                item.moved.append(name)
        for name in _ctc_masks(target):  # its masks of other frames
            if name not in names:
                os.replace(target / name, item.backup / name)
                item.moved.append(name)
        for name in names:
            os.replace(item.staged / name, target / name)
            item.added.append(name)
        item.staged.rmdir()
        return
    if there:
        item.backup = _beside(target, token, "old")
        os.replace(target, item.backup)
    item.placed = True
    os.replace(item.staged, target)


def _unplace(item: _Staged) -> None:
    """Undo :func:`_place`: the new output removed, what it replaced back where it was."""
    target, backup = item.output.path, item.backup
    if item.merged:  # (a CTC folder that was there: its files)
        for name in item.added:
            _remove(target / name)
        assert backup is not None
        for name in item.moved:
            os.replace(backup / name, target / name)
        _remove(backup)
        return
    _remove(target)
    if backup is not None and (backup.exists() or backup.is_symlink()):
        os.replace(backup, target)


def _there(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _not_undone(item: _Staged, exc: Exception | None) -> str:
    """What is not as it was after :func:`_unplace` of ``item`` (one line naming the file and
    the hidden name it is kept under), or "" where it all is."""
    target, backup = item.output.path, item.backup
    why = "" if exc is None else f" ({type(exc).__name__}: {exc})"
    if item.merged and backup is not None:  # (a CTC folder that was there: its files)
        left = [name for name in item.moved if _there(backup / name)]
        if left:
            return (
                f"the earlier {', '.join(left)} of {target} could not be put back{why}: "
                f"{'it is' if len(left) == 1 else 'they are'} kept in {backup}"
            )
    elif backup is not None and _there(backup):
        back = "" if _there(target) else f" (rename it {target.name} to get it back)"
        return f"the earlier {target.name} could not be put back{why}: it is kept as {backup}{back}"
    if backup is None and not item.merged and _there(target):
        return f"the new {target} could not be removed again{why}"
    if exc is not None:
        return f"{target} could not be put back as it was{why}"
    return ""


def _place_all(
    staged: list[_Staged], overwrite: bool, token: str
) -> tuple[tuple[Path, Exception] | None, list[str]]:
    """Put every output of ``staged`` in place, in order (the recipe last), then remove what
    they replaced; where one cannot be, those already in place are taken back and what they
    replaced restored. Returns that output's path and why (else None), and what could not be
    taken back, restored or removed, one line each naming the file it concerns and the
    hidden file kept (else none: every file is as it was, or as written)."""
    item = None
    kept: list[str] = []
    try:
        for item in staged:
            _place(item, overwrite, token)
    except Exception as exc:
        assert item is not None
        for placed in reversed(staged):
            if placed.placed:
                undo: Exception | None = None
                try:
                    _unplace(placed)
                except Exception as caught:  # (said: the earlier file may be hidden)
                    undo = caught
                line = _not_undone(placed, undo)
                if line:
                    kept.append(line)
        return (item.output.path, exc), kept
    for item in staged:  # all in place: what they replaced goes (renamed .del, then removed)
        if item.backup is not None:
            item.claim.discard_backup()
            left = [item.claim.path(k) for k in ("old", "del") if _there(item.claim.path(k))]
            if left:  # (rmtree ignores what it cannot remove)
                kept.append(
                    f"the earlier {item.output.path.name} it replaced could not be removed: "
                    f"it is left as {left[0]}"
                )
    return None, kept


def _discard(staged: list[_Staged], made: Path | None) -> None:
    """After a failure or a cancel: remove every temporary of this export (none was put in
    place, or those were taken back), and the folder it made where it is empty then."""
    for item in staged:
        _remove(item.staged)
        item.claim.release()
    if made is not None:
        with contextlib.suppress(OSError):
            made.rmdir()  # (only when empty)


class ExportWriting:
    """Mixin for :class:`.export.ExportWidget`: writes the outputs of the current settings
    (uses the widget's ``viewer``, ``labels_layer``, ``image_layer``, controls,
    ``status_label``, ``outputs``, ``_recipe_to_write``, ``_lineage``, ``_object_stack``
    and the stack state)."""

    # --- exporting --------------------------------------------------------------------------

    def _on_export_clicked(self) -> None:
        if self.worker is not None:  # (the button is Cancel while the input is hashed)
            self._on_cancel_clicked()
        else:
            self.export()

    def _on_cancel_clicked(self) -> None:
        if self._writing is not None:
            self._cancel_writing()
        else:
            self._cancel_hashing()

    def export(self) -> list[Path]:
        """Write the chosen outputs; returns the files written (none when refused or failed).

        Where the recipe records the ``input_identity`` of the file the image was read from
        (:meth:`_input_source`), that file is hashed first, in a worker (``worker``; the
        Export button is Cancel meanwhile, and the status line counts what is read), never on
        the GUI thread (a 4 GB file takes some 10 s); this then returns [] at once, and the
        outputs are written once it is hashed. ``exported`` gives the files written at the
        end of every export (none when refused, failed or cancelled)."""
        if self.worker is not None:
            return []  # (one at a time: the one hashing goes on; its button cancels it)
        return self._export_and_tell(None)

    def _export_and_tell(self, hashed: Hashed | None) -> list[Path]:
        written = self._export(hashed)
        if self.worker is None:  # (else it goes on in the worker, and tells then)
            self.exported.emit(written)
        return written

    def _export(self, hashed: Hashed | None) -> list[Path]:
        """:meth:`export`, with what the worker ``hashed`` of the input (None: not yet). The
        refusals come first, here, before anything is read or written; then the labels are
        read, measured and written by :func:`_export_steps`: in a worker where they are on
        disk (a zarr-backed result) or more than :data:`WORKER_PIXELS` (this then returns []
        at once; ``exported`` says the files at the end), else here."""
        from tessella._io import labels_axes

        layer = self.labels_layer
        if layer is None:
            return self._refuse("Export: add a labels layer first.")
        if base_path(self.path_edit.text()) is None:
            return self._refuse("Export: choose where to save (the 'Save as' path) first.")
        if self._stack_state is not None and self._stack_state[1]:
            self._update_stack_checkbox()  # the default of the labels as they are now
        self._update_ctc_checkbox()  # (the labels as they are now: edits, axis names)
        outputs = _recipe_of_its_own(self.outputs())
        skipped_recipe = self.recipe_checkbox.isChecked() and self._recipe() is None
        # ticked, but these labels have no tracks: the tooltip says why
        skipped_ctc = self.ctc_checkbox.isChecked() and not self.ctc_checkbox.isEnabled()
        no_ctc = f"no CTC tracks: {self.ctc_checkbox.toolTip()}" if skipped_ctc else ""
        if not outputs:
            message = "Export: nothing chosen to write."
            if skipped_recipe:
                message += f" '{layer.name}' has no recipe (it was not made by Segment)."
            if skipped_ctc:
                message += f" {no_ctc[0].upper()}{no_ctc[1:]}."
            return self._refuse(message)
        try:
            make_folder = folder_to_make(self.path_edit.text(), outputs[0].path)
        except ValueError as exc:
            show_error(f"Export: nothing written; {exc}.")
            self.status_label.setText(f"Nothing written: {exc}.")
            return []
        # never over an image read (Overwrite or not): it would be lost, as the command
        # line refuses an output that would replace its input
        over_image = self._replaced_image(outputs)
        if over_image:
            show_error(f"Export: nothing written; {over_image}.")
            self.status_label.setText(f"Nothing written: {over_image}.")
            return []
        overwrite = self.overwrite_checkbox.isChecked()
        # (before looking at them: a killed export may have moved an output aside)
        recovered = _recover_leftovers(outputs)
        in_the_way = _folder_in_the_way(outputs)
        if in_the_way:  # (never replaced, Overwrite or not: a folder may hold anything)
            show_error(f"Export: nothing written; {in_the_way}.")
            self.status_label.setText(f"Nothing written: {in_the_way}.")
            return []
        existing = [str(output.path) for output in outputs if output.path.exists()]
        if existing and not overwrite:
            message = (
                f"Export: nothing written; {', '.join(existing)} already "
                f"{'exists' if len(existing) == 1 else 'exist'}. Tick 'Overwrite existing "
                "files' to replace, or choose another name."
            )
            show_error(message)
            self.status_label.setText(message)
            return []
        _leave_older_recipes_to_their_files(outputs)
        no_identity = ""
        at_click = None  # the labels when Export was clicked, where the input was hashed since
        if any(output.kind == "recipe" for output in outputs):
            source = self._input_source(outputs)
            if source is None:
                hashed = None  # (the image is gone, or was not read from a file)
            elif hashed is None or hashed.source != source or hashed.labels_of != layer.unique_id:
                # (the file is compared, not the image layer's name, which may change)
                key = _file_key(source)
                cached = _IDENTITIES.get(key) if key is not None else None
                if cached is None:  # the rest once it is hashed, in its worker
                    self._start_hashing(source, layer)
                    return []
                hashed = Hashed(source, cached)  # (hashed before: the file is unchanged)
            else:
                at_click = hashed.labels
                hashed = Hashed(source, hashed.identity, hashed.why)  # (the layer's name now)
                if hashed.identity is None:
                    no_identity = _no_identity(hashed)

        data = _labels_data(layer)
        if at_click is not None:
            if isinstance(at_click, np.ndarray):  # a copy of labels in memory
                labels = np.asarray(data)
                edited = not (
                    at_click.shape == labels.shape
                    and at_click.dtype == labels.dtype
                    and np.array_equal(at_click, labels)
                )
            else:  # labels on disk: the same array, or other data set since
                edited = at_click is not data
            if edited:
                # edited while the file was read: the recipe and the measures are of the
                # labels as they are; those clicked would be written with them. Nothing is
                # written.
                again = " (that file is not read again)" if hashed and hashed.identity else ""
                message = (
                    f"'{layer.name}' was edited while "
                    f"{hashed.source.path if hashed else 'its input'} was read for the recipe; "
                    f"Export again to write it as it is now{again}"
                )
                show_error(f"Export: nothing written; {message}.")
                self.status_label.setText(f"Nothing written: {message}.")
                return []
        kinds = [output.kind for output in outputs]
        try:  # what needs the panel and the viewer, checked here (no pixel is read)
            axes = labels_axes(data.ndim, layer.metadata, layer.axis_labels)
            if data.dtype.kind not in "iu":
                raise ValueError("labels must be integers of 0 and more")
            pixel_size, unit, unit_note = _pixel_size(self.viewer, layer, axes)
            numbers, ctc_caution = (
                _ctc_numbering(layer, data.shape[0]) if "ctc" in kinds else (None, "")
            )
            if "ctc" in kinds and axes != "TYX":
                raise ValueError(f"CTC export needs 2D frames over time (TYX), not {axes}")
            first_frame = None  # (the labels record none: First frame number's, where set)
            if "ctc" in kinds and numbers is None and not ctc_caution:
                numbers = self._first_frame_numbers(data.shape[0])
                first_frame = None if numbers is None else numbers[0]
            # (the overlaps layer beside 2D labels in memory: made here, measured there)
            stack = self._object_stack(layer, np.asarray(data)) if "stack" in kinds else None
        except ValueError as exc:
            show_error(f"Export: nothing written; cannot export '{layer.name}': {exc}")
            self.status_label.setText(f"Nothing written: {exc}")
            return []
        in_worker = not isinstance(data, np.ndarray) or data.size > WORKER_PIXELS
        if isinstance(data, np.ndarray) and in_worker:
            data = data.copy()  # (painting goes on while the worker writes)
        intensity = self.image_layer if "csv" in kinds else None
        plan = _Plan(
            name=layer.name,
            outputs=list(outputs),
            overwrite=overwrite,
            make_folder=make_folder,
            data=data,
            axes=axes,
            pixel_size=pixel_size,
            unit=unit,
            stack=stack,
            image=None if intensity is None else _labels_data(intensity),
            result=_results.get(layer) if "csv" in kinds else None,
            numbers=numbers,
            length=self.length_checkbox.isChecked(),
            lineage=self._lineage() if "ctc" in kinds else {},
            recipe=(
                _as_the_command_records(
                    self._recipe_maker(outputs, hashed),
                    hashed,
                    find_layer(self.viewer, layer.metadata.get(SOURCE_ID_KEY)),
                )
                if "recipe" in kinds
                else None
            ),
            # (Recipe not ticked: a time-lapse result's frame numbers are kept all the same,
            # with its recipe, in the attributes of a zarr or OME-Zarr written)
            attrs_recipe=(
                _as_the_command_records(self._recipe_maker(outputs, None), None, None)
                if "recipe" not in kinds
                and {"zarr", "ome_zarr"} & set(kinds)
                and self._recipe() is not None
                and self._frame_numbers_to_record()
                else None
            ),
            intensity=self._intensity_said(intensity) if "csv" in kinds else "",
            frames=(
                (list(numbers or []) or _csv_frames(layer, axes, data.shape))
                if "csv" in kinds
                else []
            ),
            first_frame=first_frame,
        )
        notes = _Notes(unit_note, ctc_caution, skipped_recipe, no_ctc, no_identity, recovered)
        if in_worker:  # (lazy or big labels: read, measured and written off the GUI thread)
            self._start_writing(plan, notes)
            return []
        steps = _export_steps(plan)
        try:
            while True:
                next(steps)
        except StopIteration as stop:
            done = stop.value
        return self._tell_done(plan, notes, done)

    def _tell_done(self, plan: _Plan, notes: _Notes, done: _Done) -> list[Path]:
        """Say what the export of ``plan`` did (``done``): the status line, and a
        notification where it wrote nothing, failed or has a caution; the files written."""
        name = plan.name
        if done.refused:
            show_error(f"Export: nothing written; cannot export '{name}': {done.refused}")
            self.status_label.setText(f"Nothing written: {done.refused}")
            return []
        if done.changed is not None:
            message = (
                f"the labels of '{name}' in {done.changed} changed on disk while exporting "
                "(another write?); existing files unchanged; Export again"
            )
            show_error(f"Export: nothing written; {message}.")
            self.status_label.setText(f"Nothing written: {message}.")
            return []
        if done.failed is not None:
            target, exc = done.failed
            if isinstance(exc, OSError) and target == plan.make_folder:
                message = f"cannot make the folder {target}: {exc.strerror or exc}"
                show_error(f"Export: nothing written; {message}")
                self.status_label.setText(f"Nothing written: {message}.")
                return []
            if done.kept:  # (not as it was: said, naming the hidden files kept)
                unchanged = "; but " + "; ".join(done.kept)
            else:
                unchanged = "; existing files unchanged" if done.replacing else ""
            show_error(f"Export: {_write_error(exc, target)}{unchanged if done.kept else ''}")
            self.status_label.setText(f"Failed on {target}; nothing else written{unchanged}.")
            return []
        if done.cancelled:
            self.status_label.setText(
                f"Cancelled: nothing written for '{name}'; existing files unchanged."
            )
            return []
        written = list(done.written)
        kinds = [o.kind for o in plan.outputs]
        order = [o.path for o in plan.outputs]
        written.sort(key=order.index)
        folder = written[0].parent
        names = [p.name for p in written]
        stack, ctc = plan.stack, done.ctc
        if done.objects is not None:
            measured = counted(done.objects, "object")
            if plan.intensity:  # (the image measured, or none, and why)
                measured += f"; {plan.intensity}"
            names[kinds.index("csv")] += f" ({measured})"
        if stack is not None:
            whole = counted(len(stack.ids), "whole object")
            names[kinds.index("stack")] += f" ({whole}: {stack.source})"
        message = f"Wrote {', '.join(names)} to {folder}"
        if plan.make_folder is not None:
            message += " (a new folder)"
        if done.too_late:  # (the files were being renamed into place: a few renames)
            late = "Cancel came while the files were being put in place: the export completed"
            message += f"; {late}"
            if not plan.closed:  # (closing the panel said so)
                show_info(f"Export: {late} ({', '.join(p.name for p in written)}).")
        renamed = renaming(name) if names_a_folder(self.path_edit.text()) else ""
        if renamed:
            message += f"; {renamed}"
        if stack is not None and done.objects is not None:
            message += "; the CSV measures each object whole (the stack)"
        if notes.skipped_recipe:
            message += f"; no recipe ('{name}' was not made by Segment)"
        if notes.unit_note and {"tiff", "zarr", "ome_zarr", "csv"} & set(kinds):
            message += f"; {notes.unit_note} (set the layer's units to say otherwise)"
        numbers = plan.numbers
        if ctc is not None and plan.first_frame is not None:
            message += f"; CTC masks numbered from {plan.first_frame} (First frame number)"
        elif ctc is not None and numbers and numbers[0] and not notes.ctc_caution:
            message += f"; CTC masks numbered from {numbers[0]}, as its frames"
        elif ctc is not None and not numbers and not notes.ctc_caution:
            # (evaluate --ctc compares them with the ground truth's frames of these numbers)
            message += (
                f"; CTC masks numbered from 0: '{name}' records no frame numbers (not read "
                "from numbered frames, t052.tif ...; First frame number names them otherwise)"
            )
        if ctc is not None and (ctc.notes() or _one_frame_tracks(ctc)):
            ctc_notes = [*ctc.notes(), *_one_frame_tracks(ctc)]
            message += "; CTC: " + "; ".join(ctc_notes)
        wrote = f"wrote {', '.join(names)}"
        if notes.ctc_caution:
            message += f"; {notes.ctc_caution}"
            show_warning(f"Export: {notes.ctc_caution}; {wrote}.")
        if notes.no_ctc:  # the caution first: a pop-up shows its first words only
            message += f"; {notes.no_ctc}"
            show_warning(f"Export: {notes.no_ctc}; {wrote}.")
        if "recipe" in kinds and not done.reproduces:
            message += f". {_not_reproduced(name, done.note)}"
            # (the status line says it all, as it did)
            show_warning(f"Export: {_recipe_caution(name, done.note)}; {wrote}.")
        if notes.no_identity:
            message += f". {notes.no_identity[0].upper()}{notes.no_identity[1:]}"
            show_warning(f"Export: {notes.no_identity}; {wrote}.")
        if notes.recovered:  # (its notification was shown before the export began)
            message += f". Before it: {notes.recovered}"
        if done.kept:
            left = "; ".join(done.kept)
            message += f". {left[0].upper()}{left[1:]}"
            show_warning(f"Export: {left}; {wrote}.")
        self.status_label.setText(message + ".")
        return written

    # --- writing in a worker ----------------------------------------------------------------

    def _start_writing(self, plan: _Plan, notes: _Notes) -> None:
        """Read, measure and write ``plan`` in a worker (:func:`_export_steps`): the choices
        locked, Export disabled, the bar counting the steps (labels on disk: the pieces
        read, each said through ``plan.report``), Cancel stopping it after the step it is in
        (labels on disk: before the next piece, also halfway through a file; what was
        written under its temporary name is removed with the others: no file is changed),
        unless the outputs are already being put in place."""
        from napari.qt.threading import create_worker

        from ._workers import ThreadWarningsWorker, show_progress

        worker = create_worker(
            report_runtime_errors(_export_steps),
            plan,
            _ignore_errors=True,
            _start_thread=False,
            _worker_class=ThreadWarningsWorker,
        )
        worker.yielded.connect(lambda step: self._on_write_progress(worker, step))
        # (labels on disk: each piece read is said too, from inside the writers)
        plan.report = worker.yielded.emit
        worker.returned.connect(lambda done: self._on_written(worker, plan, notes, done))
        worker.errored.connect(lambda exc: self._on_write_failed(worker, plan, exc))
        worker.warned.connect(lambda args: show_warning(f"Export: {args[0]}"))
        worker.finished.connect(lambda: self._on_write_stopped(worker, plan))
        self.worker = worker
        self._writing = plan
        self._choices.setEnabled(False)  # (the export goes on with these settings)
        self.export_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        show_progress(self.progress_bar, 0, _steps(plan.outputs), "%v / %m steps")
        self.status_label.setText(
            f"Exporting '{plan.name}' (Cancel stops it {_when_cancelled(plan)}: nothing is "
            "written, existing files stay as they are)…"
        )
        worker.start()

    def _on_write_progress(self, worker, step: tuple[int, int, str]) -> None:
        from ._workers import show_progress

        plan = self._writing
        if worker is not self.worker or plan is None:
            return
        if plan.cancel.is_set() and not plan.placing:  # (too late: the bar goes on)
            return
        done, total, what = step
        # (the step on the bar; the status line keeps saying what Cancel does)
        counts = " pieces" if plan.counts == "pieces" else ""
        show_progress(self.progress_bar, done, total, f"%v / %m{counts}: {what}")

    def _on_written(self, worker, plan: _Plan, notes: _Notes, done: _Done) -> None:
        if worker is not self.worker:
            return
        self._end_writing(worker)
        self.exported.emit(self._tell_done(plan, notes, done))

    def _on_write_failed(self, worker, plan: _Plan, exc: Exception) -> None:
        """An error the steps did not expect (they removed what they wrote): one line."""
        if worker is not self.worker:
            return
        self._end_writing(worker)
        self._failed(f"exporting '{plan.name}' failed ({type(exc).__name__}: {exc})")

    def _failed(self, why: str) -> None:
        """A worker's unexpected failure, nothing written: a notification, the status line
        and an empty ``exported``."""
        show_error(f"Export: nothing written; {why}")
        self.status_label.setText(f"Nothing written: {why}.")
        self.exported.emit([])

    def _on_write_stopped(self, worker, plan: _Plan) -> None:
        """The worker stopped without a word (neither returned nor failed): nothing is said
        to have been written."""
        if worker is not self.worker:
            return  # (it returned or failed, and was answered)
        self._end_writing(worker)
        self.status_label.setText(f"Stopped: the export of '{plan.name}' ended unfinished.")
        self.exported.emit([])

    def _cancel_writing(self) -> bool:
        """Stop the export after the step it is in: nothing is written, no file changed (the
        worker removes its temporaries, then says so). Returns False where it comes too
        late: the outputs are being put in place (a few renames), and the export completes."""
        plan = self._writing
        if plan is None:
            return True
        with plan.lock:
            plan.cancel.set()
            late = plan.placing
        self.cancel_button.setEnabled(False)
        if late:
            self.status_label.setText(
                f"Too late to cancel: the files of '{plan.name}' are being put in place…"
            )
        else:
            self.status_label.setText(
                f"Cancelling the export of '{plan.name}' ({_when_cancelled(plan)})…"
            )
        return not late

    def _end_writing(self, worker) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        self._writing = None
        self._choices.setEnabled(True)
        self.export_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("")

    # --- the input's identity, hashed in a worker ------------------------------------------

    def _start_hashing(self, source: InputSource, layer: Labels) -> None:
        """Hash the file ``source`` names in a worker
        (:func:`~tessella.engine.input_record.identity_as_read`), the choices locked and the
        Export button made Cancel; the export goes on when it is done, with the labels of
        ``layer`` as they are now (a copy, held meanwhile: edits made while the file is read
        are not written; the export then says so and writes nothing)."""
        from napari.qt.threading import create_worker

        from tessella.engine.input_record import identity_as_read

        labels = _labels_data(layer)
        if isinstance(labels, np.ndarray):
            labels = labels.copy()
        # (labels on disk are not read here, on the GUI thread: the array itself is kept,
        # and the export goes on only if the layer still shows it)
        key = _file_key(source)
        found_for = (layer.unique_id, labels, key)

        worker = create_worker(
            report_runtime_errors(identity_as_read),
            source.path,
            source.as_read,
            source.written,
            _ignore_errors=True,
            _start_thread=False,
        )
        worker.yielded.connect(lambda step: self._on_hash_progress(worker, source, step))
        worker.returned.connect(lambda found: self._on_hashed(worker, source, found, found_for))
        worker.errored.connect(lambda exc: self._on_hash_failed(worker, source, exc))
        # (stopped: finished without returned, whether it got to say aborted or not)
        worker.finished.connect(lambda: self._on_hash_cancelled(worker, source))
        self.worker = worker
        self._choices.setEnabled(False)  # (the export goes on with these settings)
        self.export_button.setText("Cancel")
        self.export_button.setToolTip("Stop reading the input file: nothing is written")
        self.cancel_button.setEnabled(True)
        self.status_label.setText(
            f"Reading {source.path} for the recipe's input_identity (nothing written yet)…"
        )
        worker.start()

    def _on_hash_progress(self, worker, source: InputSource, step: tuple[int, int]) -> None:
        if worker is self.worker and not worker.abort_requested:
            done, size = step
            self.status_label.setText(
                f"Reading {source.path} for the recipe's input_identity: {_megabytes(done)} "
                f"of {_megabytes(size)} (nothing written yet)…"
            )

    def _on_hashed(
        self, worker, source: InputSource, found: tuple[dict | None, str], found_for: tuple
    ) -> None:
        # (a Cancel or a closed panel may come after the worker returned, before this is
        # run: its 'returned' was queued already, and quit() cannot take it back; nothing is
        # written then, and 'finished' says so, in _on_hash_cancelled)
        if worker is not self.worker or worker.abort_requested:
            return
        self._end_hashing(worker)
        identity, why = found
        layer_id, labels, key = found_for
        if identity is not None and key is not None and _file_key(source) == key:
            _IDENTITIES.pop(key, None)
            _IDENTITIES[key] = identity  # (the file as it was before and after the hash)
            while len(_IDENTITIES) > _KEPT:
                del _IDENTITIES[next(iter(_IDENTITIES))]
        self._export_and_tell(Hashed(source, identity, why, labels, layer_id))

    def _on_hash_failed(self, worker, source: InputSource, exc: Exception) -> None:
        if worker is not self.worker:
            return
        self._end_hashing(worker)
        self._failed(f"cannot read {source.path} for the recipe's input_identity: {exc}")

    def _on_hash_cancelled(self, worker, source: InputSource) -> None:
        if worker is not self.worker:
            return  # (it returned or failed, and was answered)
        self._end_hashing(worker)
        self.status_label.setText(
            f"Cancelled: nothing written (reading {source.path} for the recipe was stopped)."
        )
        self.exported.emit([])

    def _cancel_hashing(self) -> None:
        """Stop the worker hashing the input at its next step (some 40 ms): nothing written."""
        if self.worker is None:
            return
        self.worker.quit()
        self.export_button.setEnabled(False)  # (until it has stopped)
        self.cancel_button.setEnabled(False)
        self.status_label.setText("Cancelling…")

    def _end_hashing(self, worker) -> None:
        """The worker ``worker`` is done (or was stopped): the panel is as before it."""
        if worker is not self.worker:
            return
        self.worker = None
        self._choices.setEnabled(True)
        self.export_button.setText("Export")
        self.export_button.setToolTip("")
        self.export_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _panel_closed(self) -> None:
        """The panel was closed while the input was hashed or the outputs written: stop,
        write nothing (no file changed), and say so in a notification (the panel's status
        line is no longer seen); where the outputs were already being put in place, the
        export completes, and the notification says that."""
        plan = self._writing
        if plan is not None:
            plan.closed = True
            if self._cancel_writing():
                show_warning(
                    f"Export: the panel was closed; the export of '{plan.name}' was cancelled "
                    "and nothing was written (existing files unchanged)."
                )
            else:
                show_warning(
                    f"Export: the panel was closed while the files of '{plan.name}' were "
                    "being put in place: the export completes."
                )
        elif self.worker is not None:  # (the input hashed for the recipe)
            self._cancel_hashing()
            show_warning(
                "Export: the panel was closed; the export was cancelled and nothing was "
                "written (existing files unchanged)."
            )

    def _refuse(self, message: str) -> list[Path]:
        """Say why nothing is written, in a notification and in the status line (which
        would else still show what an earlier export said); returns no files."""
        show_info(message)
        self.status_label.setText(message)
        return []

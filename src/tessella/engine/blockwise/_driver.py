"""The public entry points: :func:`label_blocks_steps` (any segmenter) and
:func:`segment_blockwise_steps` (a model), and the stages they run."""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import functools
import inspect
import json
import os
import shutil
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..input_record import INPUT_KEY
from ..io._kept_recipe import recorded_for
from ..io._zarr import (
    list_labels_in_image,
    move_labels_source,
    ome_image_of_labels,
    point_labels_at_image,
)
from ..progress import warn_at_caller
from ._grid import _as_tuple, block_grid
from ._identity import input_identity
from ._levels import levels_steps
from ._run import STITCH_DEPTH, BlockProgress, BlockwiseResult, _map, _open_zarr, _Run
from ._scan import _scan
from ._segmenters import _MODELS, ModelSegmenter, _method
from ._stitch import _relabel_task, _segment_task, _stitch, _stitch_graph
from ._store import (
    _check_chunks,
    _checked_pixel_size,
    _clear,
    _Input,
    _open_input,
    _start,
    check_target,
    given_pixel_size,
    input_record,
    release_lock,
    remove_work_dir,
)
from ._support import BlockwiseSupport, blockwise_support
from ._temporal import TemporalSegmenter, _link, _scan_and_predict

DEFAULT_BLOCK = {2: 2048, 3: 256}  # block edge by number of spatial axes


def default_block(n_spatial: int) -> int:
    """The block edge a blockwise run of an image with ``n_spatial`` spatial axes (Z, Y, X)
    uses unless told, the same along each of them: :data:`DEFAULT_BLOCK` (2048 px for 2D
    images and time-lapses, 256 px for volumes). The one rule, for the run, ``--skip-existing``
    and the napari widget's default.

    >>> default_block(2), default_block(3)
    (2048, 256)
    """
    return DEFAULT_BLOCK.get(n_spatial, 256)


def _per_axis(value, label_axes: str, along_t: int) -> tuple[int, ...]:
    """One value per label axis from an int or one value per spatial axis; T gets ``along_t``."""
    spatial = [a for a in label_axes if a in "ZYX"]
    values = list(_as_tuple(value, len(spatial)))
    if len(values) != len(spatial):
        raise ValueError(f"give one value or {len(spatial)} ({''.join(spatial)}), not {value}")
    spatial_values = iter(values)
    return tuple(along_t if a == "T" else next(spatial_values) for a in label_axes)


def default_block_and_halo(model, resolved, n_spatial: int, block=None, halo=None):
    """The block size and halo a model's blockwise run uses where ``block``/``halo`` are
    None: :data:`DEFAULT_BLOCK` for its number of spatial axes, and the model's network
    halo plus its method's context (``resolved``: its resolved parameters). The one rule,
    for the run and for whoever must know its blocks before it (``--skip-existing``)."""
    block = block or default_block(n_spatial)
    if halo is None:
        support = blockwise_support(model.card.method, resolved)
        halo = int(model.card.defaults.get("halo", 32)) + support.context
    return block, halo


def planned_blocks(image, model, axes=None, params=None, block=None, halo=None) -> dict:
    """The block size and halo per spatial axis that :func:`segment_blockwise_steps` of
    ``model`` on ``image`` with ``block`` and ``halo`` (None: the defaults) cuts, each block
    at most the image's size, as its recipe's ``blockwise`` entry records them:
    ``{"block": [...], "halo": [...]}``. Reads only the input's metadata."""
    from ..pipeline import resolve_params

    data = _open_input(image, axes)
    label_axes = data.axes.replace("C", "")
    shape = [n for a, n in zip(data.axes, data.array.shape) if a != "C"]
    spatial = [i for i, a in enumerate(label_axes) if a in "ZYX"]
    block, halo = default_block_and_halo(
        model, resolve_params(model, params), len(spatial), block, halo
    )
    grid = block_grid(shape, _per_axis(block, label_axes, 1), _per_axis(halo, label_axes, 0))
    return {"block": [grid.block[i] for i in spatial], "halo": [grid.halo[i] for i in spatial]}


def label_blocks_steps(
    image,
    out: str | os.PathLike,
    segmenter,
    axes: str | None = None,
    *,
    block=2048,
    halo=64,
    support: BlockwiseSupport | None = None,
    min_size: int = 0,
    max_size: int = 0,
    executor: concurrent.futures.Executor | None = None,
    overwrite: bool = False,
) -> Generator[BlockProgress, None, BlockwiseResult]:
    """Label ``image`` block by block with any ``segmenter`` and stitch the labels into ``out``.

    ``segmenter.steps(image, axes, origin)`` is a generator returning the labels of one block
    + halo (see :class:`FunctionSegmenter`); it must be picklable to run on an ``executor``.
    ``support`` says how to stitch (default: overlap); ``min_size``/``max_size`` filter whole
    objects after stitching. :func:`segment_blockwise_steps` is this with a model.

    Examples
    --------
    Connected components out of core, in blocks of 16 pixels:

    >>> import tempfile
    >>> from tessella.engine.blockwise import BlockwiseSupport, FunctionSegmenter
    >>> from scipy import ndimage
    >>> from tessella.engine.pipeline import run_steps
    >>> def components(image, axes, origin):
    ...     return ndimage.label(image > 0)[0]
    >>> image = np.zeros((40, 40), np.uint8); image[5:35, 14:18] = 1; image[2, 2] = 1
    >>> out = Path(tempfile.mkdtemp()) / "labels.zarr"
    >>> result = run_steps(label_blocks_steps(image, out, FunctionSegmenter(components),
    ...     block=16, halo=0, support=BlockwiseSupport(0, "touch")))
    >>> result.n_blocks, result.n_objects
    (9, 2)
    """
    request = _Request(_open_input(image, axes), Path(out), segmenter, block, halo, support)
    request.min_size, request.max_size = min_size, max_size
    return (yield from _blocks_steps(request, executor, overwrite))


@dataclass
class _Request:
    """What to segment and how, as the public functions were given it."""

    data: _Input
    out: Path
    segmenter: Any
    block: Any
    halo: Any
    support: BlockwiseSupport | None = None
    min_size: int = 0
    max_size: int = 0
    recipe: dict | None = None
    prepare: Callable | None = None  # a stage before "segment" (the normalisation scan)
    #: the input folder's input_identity (its recipe's, as ``tessella segment`` records it)
    identity: dict | None = None
    finish: Callable | None = None  # a stage between "stitch" and "relabel" (linking)
    #: the labels' pixel size and unit where given (``pixel_size=``, ``unit=``), as the plan
    #: records it: a run resumed with another is refused (None: the input's, not recorded)
    written: str | None = None


#: above this, blocks small beside their halo are said to cost more than they save, in a run
#: of at least SMALL_BLOCKS_COUNT blocks (a handful of small blocks costs seconds)
SMALL_BLOCKS_READ, SMALL_BLOCKS_COUNT = 4.0, 100


def _warn_small_blocks(data, shape, label_axes: str, grid) -> None:
    """Warn where the blocks are small beside their halo: each block's network reads the
    block and its halo and keeps the block, so ``--block 16`` with a halo of 32 reads 25
    times the pixels it keeps (a run of 1452 blocks took 4 minutes where the image took 8 s
    in memory). Axes cut into one block only are not counted."""
    read, small, count = 1.0, [], 1
    for size, b, h, axis in zip(shape, grid.block, grid.halo, label_axes):
        if axis in "ZYX" and b < size:
            read *= (b + 2 * h) / b
            small.append((b, h))
            count *= -(-size // b)
    if read > SMALL_BLOCKS_READ and count >= SMALL_BLOCKS_COUNT:
        b, h = min(small)
        name = data.source.store or "the image"
        warn_at_caller(
            f"{name}: {count} blocks of {b} px with a halo of {h} px: the network reads "
            f"{read:.0f} times the pixels it keeps, so the run is slow; blocks of at least "
            f"{4 * h} px (4 x the halo) read about {1.5 ** len(small):.1f} times"
        )


def _blocks_steps(
    request: _Request, executor, overwrite: bool
) -> Generator[BlockProgress, None, BlockwiseResult]:
    data, out = request.data, request.out
    label_axes = data.axes.replace("C", "")
    shape = tuple(n for a, n in zip(data.axes, data.array.shape) if a != "C")
    block, halo = _per_axis(request.block, label_axes, 1), _per_axis(request.halo, label_axes, 0)
    grid = block_grid(shape, block, halo)
    support = request.support or BlockwiseSupport(max(grid.halo))
    if support.stitch not in ("touch", "overlap", "graph"):
        raise ValueError(
            f"unknown stitch rule {support.stitch!r}; use 'touch', 'overlap' or 'graph'"
        )
    spatial_halo = [h for h, a in zip(grid.halo, label_axes) if a in "ZYX"]
    if support.stitch != "touch" and min(spatial_halo) < 1:
        raise ValueError(f"{support.stitch} stitching needs a halo of at least 1 pixel")
    if support.stitch == "graph" and getattr(request.segmenter, "objects", None) is None:
        raise ValueError("graph stitching needs a segmenter with objects(): see FunctionSegmenter")
    if executor is not None and data.source.store is None:
        raise ValueError("workers read the input from disk: give a zarr path, not an array")
    check_target(data, out)
    _check_chunks(data, grid)
    _warn_small_blocks(data, shape, label_axes, grid)
    request.identity = input_record(data, out)  # before the run reads it, as the CLI's
    segmenter = request.segmenter
    plan = {
        "input": data.source.store or "an array",
        "input_key": data.source.key,
        "shape": data.array.shape,
        "dtype": str(data.array.dtype),
        "axes": data.axes,
        "block": grid.block,
        "halo": grid.halo,
        "support": dataclasses.astuple(support),
        "stitch_depth": STITCH_DEPTH,
        "sizes": (request.min_size, request.max_size),
        "segmenter": getattr(segmenter, "fingerprint", lambda: repr(segmenter))(),
    }
    # the same store read otherwise (its axes transposed as others, another channel): another
    # run (recorded only then: an unfinished run of an older version resumes as before)
    if data.stored_axes is not None and data.stored_axes != data.axes:
        plan["stored_axes"] = data.stored_axes
    if data.channel is not None:
        plan["channel"] = data.channel
    if request.written is not None:  # (recorded only then, as stored_axes)
        plan["labels' pixel size"] = request.written
    # what stands for the input's pixels (chunk files, a dask name, a numpy array's sha256)
    plan["input_pixels"] = yield from input_identity(data, grid)
    work, result_key, lock = _start(out, plan, overwrite, data, grid)
    try:
        run = _Run(
            data.source, data.axes, grid, segmenter, support, str(work), result_key, str(out)
        )
        return (yield from _run_stages(request, run, executor))
    finally:
        # a finished run emptied its work folder but the lock file, which goes first, so that
        # no other run locks a file in a folder being deleted; then the folder, where empty
        release_lock(work, lock)
        remove_work_dir(work)


def _run_stages(request: _Request, run: _Run, executor) -> Generator[BlockProgress, None, Any]:
    grid, work, out = run.grid, Path(run.work), request.out
    if request.prepare is not None:  # the normalisation scan: gives the segmenter its ranges
        try:
            run = yield from request.prepare(run, executor)
        except ValueError:  # the input is refused (constant, NaN, unreadable): a run that
            if not any(run.record_path(i).exists() for i in grid.indices()):  # segmented
                with contextlib.suppress(OSError):  # nothing leaves nothing behind
                    _clear(work)  # (but its lock, which this run holds until it ends)
            raise
    todo = [i for i in grid.indices() if not run.record_path(i).exists()]
    resumed = grid.n_blocks - len(todo)
    yield BlockProgress("segment", resumed, grid.n_blocks)
    yield from _map(_segment_task, run, todo, executor, "segment", resumed, {})
    if not (work / "lut.npy").exists():
        try:
            if run.support.stitch == "graph":
                yield from _stitch_graph(run)
            else:
                clear = request.finish is None  # linking clears blank frames itself
                yield from _stitch(run, request.min_size, request.max_size, clear)
        except OSError as exc:
            raise OSError(f"{out}: stitching failed ({exc}); run again to resume") from exc
    if request.finish is not None:
        yield from request.finish(run, executor)
    relabelled = {int(p.name) for p in (work / "relabelled").iterdir()}
    todo = [i for i in grid.indices() if grid.linear(i) not in relabelled]
    yield BlockProgress("relabel", grid.n_blocks - len(todo), grid.n_blocks)
    yield from _map(_relabel_task, run, todo, executor, "relabel", grid.n_blocks - len(todo), {})
    n_objects = int(np.load(work / "lut.npy").max(initial=0))
    label_axes = run.axes.replace("C", "")
    spatial = [i for i, a in enumerate(label_axes) if a in "ZYX"]
    blockwise = {  # per spatial axis, as block= and halo= take them
        "block": [grid.block[i] for i in spatial],
        "halo": [grid.halo[i] for i in spatial],
        "stitch": run.support.stitch,
    }
    # the labels file it is for (``exported``), as every labels file's recipe names it: whose
    # NAME.recipe.json it is where NAME.tif and NAME.zarr lie side by side
    recipe = dict(request.recipe or {}) | {
        "blockwise": blockwise,
        "input": request.data.name,
        "exported": recorded_for(out),
    }
    if request.identity is not None:  # what --skip-existing compares the input with
        recipe[INPUT_KEY] = request.identity
    if (work / "lineage.json").exists():  # [[child track, parent track], ...]
        recipe["lineage"] = json.loads((work / "lineage.json").read_text())
    try:
        # OME-Zarr labels: their lower-resolution levels, as Export writes them, last (again
        # where blocks were relabelled in this run: an earlier run's would be stale), listed
        # once written; before the digest, whose files stamp they are in
        yield from levels_steps(work / "result.zarr", run.result_key, label_axes, bool(todo))
        # the result's labels_digest, with the stamp of the files it was computed on: the
        # reader then tells labels edited by hand from the recipe's without reading them
        found = yield from _digest_steps(work / "result.zarr", run.result_key, n_objects)
        stored = recipe | found
        _open_zarr(str(work / "result.zarr"), mode="r+").attrs["tessella"] = stored
        image = ome_image_of_labels(out)  # labels into their image's labels group:
        if image is not None:  # named relative to it, and called as the folder
            point_labels_at_image(work / "result.zarr", out.name.removesuffix(".zarr") or out.name)
        elif request.data.ome is not None and request.data.source.store is not None:
            # OME-Zarr labels name their image relative to ``out``, where they go: from the
            # image's own path, not from the name in the work folder's labels, which a commit
            # that failed after this step (and is run again on resume) already made ``out``'s
            move_labels_source(work / "result.zarr", out, request.data.source.store)
        else:
            move_labels_source(work / "result.zarr", out)
        # the labels replaced are moved aside in one rename (they go with ``work``), so that
        # Ctrl-C or SIGTERM never leaves them half deleted in place, and are put back if the
        # commit does not happen
        aside = work / "replaced"
        _remove(aside)  # (left by a run killed at the commit, which the next run makes)
        if out.exists() or out.is_symlink():
            try:
                os.replace(out, aside)
            except OSError:  # (a mount point, say) removed in place
                _remove(out)
        try:
            os.replace(work / "result.zarr", out)  # the commit point
        except BaseException:
            if (aside.exists() or aside.is_symlink()) and not (out.exists() or out.is_symlink()):
                os.replace(aside, out)
            raise
        _clear(work)  # (but its lock: removed, then the folder, when this run ends)
    except OSError as exc:
        raise OSError(f"{out}: cannot finish ({exc}); run again to resume") from exc
    result = BlockwiseResult(out, n_objects, grid.shape, label_axes, grid.n_blocks, resumed, recipe)
    if image is not None:  # listed in the labels group, as NGFF readers find them
        try:
            list_labels_in_image(out, image, "the labels are written")
        except OSError as exc:
            raise LabelsNotListedError(str(exc), result) from None
    return result


class _Estimate:
    """The time per block and the time left of a stage of a blockwise run, from the work
    done since this run's first work was seen in it: the first tile (or slice) done inside a
    block, else the first block finished (the set-up before it, loading the model and
    starting the workers, and blocks kept from an earlier run, are left out). The work is
    counted in pixels of the blocks' cores where the stage's blocks tile the label array of
    ``shape`` (Segment: edge blocks are smaller, with fewer tiles, e.g. 6 or 4 of 1024 px
    where a whole 2048 px block has 9, and counting them as whole blocks kept the estimate
    up to 1.5x too long near the end; user test s30/t6), else in blocks; every block under
    way counts the share of its tiles (or slices) done, each by its own number, so that the
    estimate holds steady within blocks and with several workers, whose blocks finish
    together (s32/t9: two blocks finished 0.6 s apart after 74 s, and timing the second from
    the first said "1.54 block/s, 22 s left" for 34 blocks of 35 s). The rate is the work done
    since then over the wall time since then (every worker's work: seconds a block are of the
    run's throughput), so it needs no block to finish: a 3D model's first block of 32 tiles
    of 12 s (6.5 min) has an estimate from its third tile on. The first tile done in a
    block that was under way when the timing started counts as done before it (a block
    first seen later counts all its tiles: with one tile a block, its workers' reports may
    show it done at once); no rate is given until every block under way then has done a
    tile since (or finished) and the time since the timing started is a tenth of the time
    before it (blocks that finish together just after the first one are not timed as
    instant). The napari panel's status line (``_widgets._segment_blockwise``) and
    ``segment --blockwise``'s bar (``cli._blockwise._advance_estimated``) both show it:
    :meth:`take` with the stage's :class:`BlockProgress` and the time."""

    #: no rate before the time since the timing started is this share of the time before it
    SETTLE = 0.1

    def __init__(self, progress, shape: tuple[int, ...] | None = None):
        self.stage, self.total = progress.stage, int(progress.total)
        self.shape = tuple(shape or ())
        whole = int(np.prod(self.shape, dtype=np.int64)) if self.shape else 0
        # the work of the stage, and a block's share of it on average
        self.work = float(whole) if whole > 0 else float(self.total)
        self.mean = self.work / max(1, self.total)
        self.pixels = whole > 0
        self.seen: dict[tuple, float] = {}  # the finished blocks' work, by core
        self.ended: set[int] = set()  # the finished blocks' numbers, where given
        self.partial: dict[int, float] = {}  # the work done in the blocks under way
        self.early: set[int] = set()  # those under way, no tile done, when the timing started
        self.pending: set[int] = set()  # those under way then, no tile done since
        self.done = self.kept = int(progress.done)  # (kept: blocks of an earlier run)
        self.began: float | None = None  # the time of the stage's first progress
        # (time, work done then) when the timing started, and work not done since then
        self.start: tuple[float, float] | None = None
        self.before = 0.0
        self.full = self.mean  # the largest block's work: "s a block" is a whole block's
        self.side = tuple(1 for _ in self.shape)  # the largest core seen, along each axis

    def follows(self, progress) -> bool:
        """Whether ``progress`` is of the stage this estimate times (not a new one)."""
        return progress.stage == self.stage and int(progress.done) >= self.done

    def _block_work(self, region) -> float:
        if not self.pixels:
            return 1.0
        return float(np.prod([s.stop - s.start for s in region], dtype=np.int64))

    def _work_of(self, block: int | None) -> float:
        """The work of the block numbered ``block`` (in the grid's order): its core's pixels
        in the grid of the largest core seen, where that grid has the stage's blocks; else
        an average block's."""
        if not (self.pixels and self.seen and block is not None and self.shape):
            return self.mean
        from tessella.engine.blockwise._grid import block_grid

        try:
            grid = block_grid(self.shape, self.side, 0)
        except ValueError:
            return self.mean
        if grid.n_blocks != self.total or not 0 <= block < self.total:
            return self.mean
        return self._block_work(grid.core(grid.indices()[block]))

    def _finished(self, progress, region) -> None:
        work = self._block_work(region)
        if self.pixels and not self.seen and self.mean > 0:
            # the first block's size: the work counted so far (an average block's shares)
            # in its pixels, so that the rate does not jump when it is known
            scale = work / self.mean
            self.partial = {b: w * scale for b, w in self.partial.items()}
            self.before *= scale
            if self.start is not None:
                self.start = (self.start[0], self.start[1] * scale)
        self.seen[tuple((s.start, s.stop) for s in region)] = work
        if len(region) == len(self.side):
            self.side = tuple(max(n, s.stop - s.start) for n, s in zip(self.side, region))
        self.full = max(self.full, work) if self.pixels else 1.0
        if sum(self.seen.values()) > self.work:  # no tiling of the array: count blocks
            self.pixels, self.work, self.mean, self.full = False, self.total, 1.0, 1.0
            self.seen = dict.fromkeys(self.seen, 1.0)
            self.partial, self.start = {}, None  # (timed again, in blocks)
        block = getattr(progress, "block", None)
        if block is None and self.partial:  # (not said: the one furthest on)
            block = max(self.partial, key=self.partial.__getitem__)
        if block is not None:
            self.ended.add(int(block))
            self.partial.pop(int(block), None)
            self.pending.discard(int(block))

    def _inside(self, progress) -> None:
        inner = getattr(progress, "inner", None)
        block = getattr(progress, "block", None)
        if inner is None or block is None or inner.total <= 0 or int(block) in self.ended:
            return
        work = min(1.0, inner.done / inner.total) * self._work_of(block)
        if self.start is not None and int(block) in self.early:
            # the first tile done in a block that was under way when the timing started:
            # done (mostly) before it
            self.before += work - self.partial.get(int(block), 0.0)
            self.early.discard(int(block))
        elif work > self.partial.get(int(block), 0.0):
            self.pending.discard(int(block))
        self.partial[int(block)] = work

    def _work_done(self, progress) -> float:
        finished = sum(self.seen.values())
        # blocks done that were not seen finish (kept from an earlier run): average ones
        unseen = max(0, int(progress.done) - len(self.seen)) * self.mean
        return finished + unseen + sum(self.partial.values())

    def take(self, progress, now: float) -> tuple[float, float] | None:
        """``(seconds a block, seconds left)`` after ``progress`` at the time ``now``; None
        until this run has done some work in the stage (a tile, a block) and then a little
        more (:attr:`SETTLE`)."""
        if self.began is None:
            self.began = now
        self.done = int(progress.done)
        region = getattr(progress, "region", None)
        if region is not None:
            self._finished(progress, region)
        else:
            self._inside(progress)
        done = self._work_done(progress)
        # this run's work (not the blocks kept from an earlier run)
        own = done - self.kept * self.mean
        done = min(self.work, done)
        if self.start is None:
            if own > 0:
                self.start, self.before = (now, own), 0.0
                self.early = {b for b, w in self.partial.items() if w <= 0}
                self.pending = set(self.partial)
            return None
        since, then = self.start
        worked = own - then - self.before
        settling = now - since < self.SETTLE * (since - self.began) or bool(self.pending)
        if worked <= 0 or settling or now <= since:
            return None
        each = (now - since) / worked  # seconds per unit of work
        return each * self.full, each * max(0.0, self.work - done)


class LabelsNotListedError(OSError):
    """Labels written into an OME-Zarr image's labels group (committed: ``result``, their
    :class:`BlockwiseResult`) that could not be listed in it: the caller still writes what
    it writes of finished labels (the command line: their recipe file), then says this."""

    def __init__(self, message: str, result: BlockwiseResult):
        super().__init__(message)
        self.result = result


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def segment_blockwise_steps(
    image,
    out: str | os.PathLike,
    model=None,
    axes: str | None = None,
    params: Any = None,
    *,
    block=None,
    halo=None,
    tta: bool | None = None,
    tile: int | None = None,
    device: str = "auto",
    executor: concurrent.futures.Executor | None = None,
    overwrite: bool = False,
    invert: bool | None = None,
    spacing=None,
    channel: int | None = None,
    name: str | None = None,
    pixel_size=None,
    unit: str | None = None,
    first_frame: int | None = None,
) -> Generator[BlockProgress, None, BlockwiseResult]:
    """Segment a zarr/OME-Zarr ``image`` (a path; or an array, in this process) into ``out``.

    An array has no pixel size (the post-processing is isotropic); an
    :class:`~tessella.engine.io.ImageData` (an array with its axes, pixel size, unit, file
    and OME-Zarr layout, e.g. a napari layer's) is segmented with its voxel size, which the
    labels keep as a path's, and its file named in the recipe's ``input``.
    ``spacing`` (one size per spatial axis, as :func:`~tessella.engine.pipeline.segment_steps`
    takes it) replaces the input's own voxel size for post-processing, and the recipe
    records it (``tessella segment --blockwise --recipe`` replays a recipe's where the zarr
    has no pixel size, as in memory); the labels keep the input's pixel size where it has
    one along every spatial axis, else (as in memory) they are written with ``spacing`` as
    their pixel size, in ``unit`` where given, else the input's ("pixel" where it has none).
    ``pixel_size`` (one size per spatial axis, or a dict by axis) and ``unit`` replace the
    input's own pixel size and unit (default: the input's), as if its file had said them
    (``tessella segment --blockwise --voxel-size``): the labels are written with them (an
    OME-Zarr input's labels: their scale), post-processing uses them where ``spacing`` is
    not given, and the recipe records them (``voxel_size``, ``unit``); an unfinished run
    into ``out`` made with another is not resumed (refused, as for other settings).

    ``first_frame`` (a time-lapse's: its frames are frames N, N+1, ... of a longer one; a
    T axis needed, else ValueError): the recipe records their numbers (``frame_numbers``),
    by which Export of the labels reopened in napari and ``write_ctc(...,
    first_frame=N)`` (``tessella segment --blockwise --ctc --first-frame N``) name the CTC
    masks, as in memory; the labels themselves do not change.

    ``block``: core edge per spatial axis (default 2048 in 2D, 256 in 3D; one output chunk
    each). ``halo``: context per side (default: the model's network halo plus the method's
    :class:`BlockwiseSupport` ``context``). ``executor`` from :func:`open_executor`; None runs
    the blocks here, yielding inside each block so that closing the generator cancels promptly.
    ``invert`` (None: as the model's card says) inverts every frame's intensities before the
    network, or (False) none. An unfinished run into ``out`` with the same settings is
    resumed. ``out`` becomes OME-Zarr labels for OME-Zarr input, else a zarr array (uint32,
    chunks = blocks) in the input's zarr format (v2 for a v2 zarr, else v3). Labels of an
    OME-Zarr image written to ``IMAGE.zarr/labels/NAME`` are listed in its labels group when
    the run ends (elsewhere inside an OME-Zarr image ``out`` is refused before any block).
    The recipe (the result's ``tessella`` attribute) records a zarr input folder's
    ``input_identity``, as ``tessella segment`` records it for ``--skip-existing``.
    After the scan, before any block is segmented, an input that looks unlike the images
    the model was trained on (its card's ``input_statistics``) is warned of once, as in
    memory, from a bounded sample of it (``_look.py``). ``name`` is what the warnings call
    the input (the napari panel: its layer's name; default: its path, else "image"); the
    recipe's ``input`` is its file all the same.

    Examples
    --------
    >>> from tessella.engine.pipeline import run_steps
    >>> result = run_steps(segment_blockwise_steps("big.zarr", "labels.zarr", "nuclei2d",
    ...     block=1024))  # doctest: +SKIP
    """
    from ..device import resolve_device
    from ..io._write import unit_for
    from ..params import params_to_dict
    from ..pipeline import _unknown_z_spacing, missing_voxel_size, resolve_params
    from ..pipeline._inputs import _check_image, _check_options, default_model
    from ..pipeline._predict import channels_averaged
    from ..registry import LoadedModel, checked_card, load_model, model_reference

    if isinstance(model, LoadedModel):
        pass
    elif executor is not None:  # workers load the network; this process needs only the card
        card, directory = checked_card(model or default_model())
        model = LoadedModel(card, None, directory)
    else:
        model = load_model(model or default_model())
    resolved = resolve_params(model, params)  # bad values fail before anything is read
    support = blockwise_support(model.card.method, resolved)
    data = _open_input(image, axes, channel)
    spatial = "".join(a for a in data.axes if a in "ZYX")
    written = None
    own_spacing = False
    if pixel_size is not None or unit is not None:  # the input's replaced, checked
        replaced = _checked_pixel_size(data, pixel_size, unit)
        data = given_pixel_size(data, replaced, unit)
        shown = ", ".join(f"{a} {s:g}" for a, s in replaced.items())
        written = f"{shown or 'none'} {data.unit}"
    # refused as in memory, before any block: its pixel type, its channel count for the
    # model (2 channels: choose one), its axes for the model
    _check_image(data.array, data.axes, model, data.name)
    said_name = name or data.name  # (the warnings'; refusals name the file)
    averaged = channels_averaged(data.array.shape, data.array.dtype, data.axes, model, said_name)
    if averaged:  # as in memory, once (not once per block)
        warn_at_caller(averaged)
    min_name, max_name = support.size_params
    sizes = [int(getattr(resolved, name)) if name else 0 for name in (min_name, max_name)]
    per_block = dataclasses.replace(resolved, **{n: 0 for n in support.size_params if n})
    defaults = model.card.defaults
    tta = bool(defaults.get("tta", False)) if tta is None else bool(tta)
    tile = int(tile or defaults.get("tile", 1024))
    if spacing is not None:  # given: as in memory (a recipe's where the file has none)
        if isinstance(spacing, dict):  # sizes per axis, as read_image's pixel_size
            given = {str(k).upper(): v for k, v in spacing.items()}
            spacing = [given.get(a, float("nan")) for a in spatial]
        spacing = _check_options(None, None, spacing, data.name)
        if len(spacing) != len(spatial):
            raise ValueError(
                f"{data.name}: spacing {list(spacing)} gives {len(spacing)} sizes but the "
                f"image has {len(spatial)} spatial axes ({spatial})"
            )
    elif all(a in data.pixel_size for a in spatial):
        spacing = tuple(float(data.pixel_size[a]) for a in spatial)
        own_spacing = True  # the input's own voxel size: the recipe records its unit too
    if spacing is not None and any(a not in data.pixel_size for a in spatial):
        # a voxel size the input lacks (a recipe's): the labels are written with it, as in
        # memory (`tessella segment --recipe`), and an unfinished run made with another
        # unit is not resumed (the voxel size itself is the segmenter's: another run)
        data = given_pixel_size(data, dict(zip(spatial, map(float, spacing), strict=True)))
        shown = ", ".join(f"{a} {s:g}" for a, s in data.pixel_size.items())
        written = f"{shown} {data.unit}"
    if model.network is not None:  # this process needs no reload
        _MODELS[(str(model.path), model.card.sha256)] = model
    temporal = bool(getattr(_method(model.card.method), "TEMPORAL", False))
    if temporal and "T" not in data.axes and "Z" not in data.axes:
        # in memory (segment_steps, `tessella segment`) a one-frame movie: YX labels, no
        # tracks; blockwise stores the network's maps per block and frame and links over T
        raise ValueError(
            f"{data.name}: model {model.card.name!r} segments time-lapses, and blockwise needs "
            f"a T axis (got {data.axes}); a single 2D image is segmented as a one-frame movie "
            "in memory only: segment it without blockwise (without --blockwise)"
        )
    if temporal and "T" not in data.axes:
        raise ValueError(
            f"{data.name}: model {model.card.name!r} segments time-lapses; the input needs a T "
            f"axis (got {data.axes})"
        )
    # a 2D boundary model on a stack of unknown voxel size joins objects across slices: said
    # once, as in memory (the CLI and the napari panel reword it)
    # (what lacks the voxel size: a Z spacing alone is no voxel size either, t8 #3)
    missing = "no spacing given" if data.path is None else missing_voxel_size(data.pixel_size)
    unknown_z = _unknown_z_spacing(said_name, model, data.axes, spacing, missing)
    if unknown_z is not None:
        unknown_z.missing = missing  # (a caller's rewording keeps what the file lacks)
        warn_at_caller(unknown_z)
    segmenter = (TemporalSegmenter if temporal else ModelSegmenter)(
        str(model.path),
        model.card.sha256,
        per_block,
        tta,
        tile,
        device,
        spacing,
        threads=1 if executor is not None else None,
        name=model.card.name,
        graph=support.stitch == "graph",
        invert=invert,
    )
    from ... import __version__
    from ..revision import with_revision

    recipe = {  # as an in-memory result's recipe (SegmentResult.recipe)
        "tessella_version": __version__,
        **model_reference(model),
        "method": model.card.method,
        "params": params_to_dict(resolved),
        "axes": data.axes,
        "tta": tta,
        "tile": tile,
        # with workers, torch stays out of this process: they resolve "auto" themselves
        "device": resolve_device(device) if executor is None else device,
    }
    if spacing is not None:  # as an in-memory recipe records the voxel size it used
        recipe["spacing"] = list(spacing)
    if pixel_size is not None:  # what `tessella segment --recipe` replays as --voxel-size
        recipe["voxel_size"] = [float(data.pixel_size[a]) for a in spatial]
    # the unit of its spacing (a length), as `tessella segment`'s, Export's and Tune's
    # recipes record it, so that a replay on a zarr without a pixel size writes the labels in
    # it, not in pixels: also where the spacing is the input's own (the Segment panel's layer)
    if (written is not None or own_spacing) and unit_for(data.unit, "ome-zarr") is not None:
        recipe["unit"] = data.unit
    if invert is not None:
        recipe["invert"] = bool(invert)
    if data.stored_axes is not None:  # a zarr path: what --recipe reads it with again
        recipe["stored_axes"] = data.stored_axes
    if channel is not None:
        recipe["channel"] = int(channel)
    if first_frame is not None:  # the frames' numbers, as in memory (Export, --ctc)
        recipe["frame_numbers"] = _frame_numbers(data, first_frame)
    recipe = with_revision(recipe)  # (which code made it: not a setting a resume compares)
    block, halo = default_block_and_halo(model, resolved, len(spatial), block, halo)
    # the input checked against the model's training images after the scan, as in memory
    # (an image whose channels were averaged has been warned of already: one line is enough)
    look = None if averaged else said_name
    scan = functools.partial(_scan, name=look)
    request = _Request(
        data, Path(out), segmenter, block, halo, support, sizes[0], sizes[1], recipe, scan
    )
    request.written = written
    if temporal:  # the network first (once per block), linking after stitching
        request.prepare = functools.partial(_scan_and_predict, name=look)
        request.finish = _link if getattr(resolved, "link", False) else None
    return (yield from _blocks_steps(request, executor, overwrite))


def _frame_numbers(data: _Input, first: int) -> list[int]:
    """The numbers of the frames of ``data`` (a time-lapse) whose first is frame ``first``:
    ``[first, first + 1, ...]``, one per frame; ValueError where it has no T axis or
    ``first`` is no frame number (an integer, 0 or more)."""
    if isinstance(first, bool) or not isinstance(first, int | np.integer) or first < 0:
        raise ValueError(f"first_frame must be a frame number, 0 or more, got {first!r}")
    if "T" not in data.axes:
        raise ValueError(
            f"{data.name}: first_frame numbers a time-lapse's frames; the input has no T axis "
            f"(got {data.axes})"
        )
    frames = int(data.array.shape[data.axes.index("T")])
    return list(range(int(first), int(first) + frames))


def segment_blockwise(image, out, model=None, axes=None, params=None, **options):
    """:func:`segment_blockwise_steps` without progress; returns a :class:`BlockwiseResult`.

    ``options`` are its keyword options (``block``, ``halo``, ``tta``, ``spacing``...) and,
    as :func:`tessella.segment` takes them, the model's parameters (``seed_thresh=0.8``),
    which win over ``params``'s. A keyword that is neither is refused (ValueError) naming
    both lists.

    >>> segment_blockwise("big.zarr", "labels.zarr", "nuclei2d", block=1024,
    ...     seed_thresh=0.8)  # doctest: +SKIP
    """
    from ..pipeline import run_steps

    overrides = {name: options.pop(name) for name in list(options) if name not in _OPTIONS}
    if overrides:  # (t5 finding 4: refused in the words of segment_blockwise_steps)
        params = _with_overrides(model, params, overrides)
    return run_steps(segment_blockwise_steps(image, out, model, axes, params, **options))


#: the keyword options of :func:`segment_blockwise_steps` (its other keywords: parameters)
_OPTIONS = tuple(
    name
    for name, parameter in inspect.signature(segment_blockwise_steps).parameters.items()
    if parameter.kind is parameter.KEYWORD_ONLY
)


def _with_overrides(model, params, overrides: dict[str, Any]):
    """``params`` (None, a dict or the method's Params) with ``overrides`` on top, as a
    dict; a name that is no parameter of ``model``'s method is refused, naming the options
    and the parameters (the model's card is read, its weights are not)."""
    from ..methods import get_method
    from ..params import param_specs, params_to_dict
    from ..pipeline._inputs import default_model
    from ..registry import LoadedModel, checked_card

    if isinstance(model, LoadedModel):
        card = model.card
    else:
        card, _ = checked_card(model or default_model(), verify=False)
    known = [spec.name for spec in param_specs(get_method(card.method).Params)]
    unknown = [name for name in overrides if name not in known]
    if unknown:
        raise ValueError(
            f"segment_blockwise: unknown keyword {unknown[0]!r}: neither an option "
            f"({', '.join(_OPTIONS)}) nor a parameter of {card.name!r} ({', '.join(known)})"
        )
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        params = params_to_dict(params)
    elif params is not None and not isinstance(params, dict):
        return params  # (refused by segment_blockwise_steps, in resolve_params' words)
    return {**(params or {}), **overrides}


def _digest_steps(
    folder: Path, key: str, top: int
) -> Generator[BlockProgress, None, dict[str, Any]]:
    """``labels_digest`` of the labels zarr ``folder`` (a finished run's ``result.zarr``,
    before its recipe is written: attributes do not change its stamp), its array ``key``
    ("" or OME-Zarr labels' level "0") read as stored, in the order the reader reads it (the
    run writes its labels in the engine's order of axes, which the reader keeps; it leaves
    out OME-Zarr axes of length 1, which digests are compared without), and
    ``labels_digest_files``, the :func:`~tessella.engine.digest.stored_files_stamp` of its
    files: while these are unchanged the reader trusts the digest without reading the labels
    (a 20000² result: 2.3-2.7 s of File > Open saved), else it checks the digest reading
    them, and says a recipe does not reproduce labels edited by hand.

    The array is opened read-only with zarr, not through ``read_image``, and no warning is
    filtered: a filter is process-wide, and one here dropped the warnings of every other
    thread for the seconds the digest takes (review r1, finding 1). Its values are read once
    piece by piece, hashed as the type of ``top`` (the run's object count), again only where
    they are of another type (:func:`~tessella.engine.digest.labels_digest_steps`), each
    piece yielded as ``BlockProgress("digest", done, total)``, so the bar moves on from
    "relabel" and closing the generator (Cancel) stops between two pieces: the run is then
    unfinished, its result still in the work folder and ``out`` as it was; the next run
    resumes there, no block segmented or relabelled again (review r1, finding 5). Empty
    where the labels cannot be read (the recipe then records no digest, as before)."""
    from ..digest import DIGEST_KEY, FILES_KEY, labels_digest_steps, stored_files_stamp

    unreadable = (OSError, ValueError, KeyError, TypeError, AssertionError)
    stamp = stored_files_stamp(folder)
    try:
        steps = labels_digest_steps(_open_zarr(str(folder), key, "r"), top)
    except unreadable:
        return {}
    while True:
        try:
            progress = next(steps)
        except StopIteration as stop:
            digest = stop.value
            break
        except unreadable:
            return {}
        yield BlockProgress(progress.stage, progress.done, progress.total)  # (Cancel: here)
    if stamp is None or stamp != stored_files_stamp(folder):
        return {DIGEST_KEY: digest}  # (files changed while read: the reader checks it all)
    return {DIGEST_KEY: digest, FILES_KEY: stamp}

"""One blockwise run's shared state, its progress and result types, and running a stage's
block tasks here or on a dask (or any concurrent.futures) executor."""

from __future__ import annotations

import concurrent.futures
import contextlib
import errno
import os
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..progress import Progress
from ._grid import BlockGrid
from ._support import BlockwiseSupport

STITCH_DEPTH = 16  # pixels each side of a face whose labels decide an "overlap" match


SCHEDULER_TIMEOUT = 10.0  # seconds to reach a dask scheduler


@dataclass(frozen=True)
class BlockProgress(Progress):
    """Progress over blocks: ``done`` of ``total`` blocks through ``stage``: ``"scan"`` (the
    input's intensity range, read before any block is segmented), ``"segment"`` (each
    block's labels: those a cancelled run kept, :attr:`BlockwiseResult.resumed`, next run),
    ``"relabel"`` and ``"stitch"``, for a time-lapse ``"predict"`` and ``"link"`` (and
    ``"fingerprint"``, an input's identity, before them), and last ``"digest"``: the
    finished labels read once more, piece by piece (``done`` of ``total`` pieces, no
    ``region``), for the ``labels_digest`` their recipe records; closed there (Cancel), the
    run is unfinished, its labels not yet in ``out``, and the next run resumes there (no
    block segmented or relabelled again). ``region`` is the core (slices of
    the label array) of the block that has just finished the stage ``stage`` (None for
    progress inside a block or at a stage's start). The stages run block by block ("scan",
    "segment", "relabel", "predict", "link") all set it (and its number in ``block``, where
    it is known): count the blocks whose labels are
    done where ``stage == "segment"`` (the napari panel draws those; a "scan" block's region
    is no block segmented). Progress inside a block says which
    block in ``block`` (its number in the grid's order, :meth:`BlockGrid.linear`) and how far
    it is in ``inner`` (e.g. ``Progress("slice", 37, 288)`` or ``Progress("tile", 3, 9)``;
    None where the block's task reports nothing, or not yet): from this process, or from
    the workers about every :data:`INNER_EVERY` s (:func:`_inner_progress`)."""

    region: tuple[slice, ...] | None = None
    inner: Progress | None = None
    block: int | None = None


#: seconds between reports of progress inside a block from a worker (none for a task that
#: ends sooner), through a file in the work folder's ``progress`` that this process reads
INNER_EVERY = 0.5


@dataclass
class BlockwiseResult:
    path: Path
    n_objects: int
    shape: tuple[int, ...]
    axes: str
    n_blocks: int
    resumed: int  # blocks found segmented by an earlier, interrupted run
    recipe: dict


def default_workers(threads_per_worker: int = 1) -> int:
    """Worker processes for this machine: one per ``threads_per_worker`` usable cores."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores // threads_per_worker)


@contextlib.contextmanager
def open_executor(
    scheduler: str | None = None, workers: int | None = None, timeout: float | None = None
) -> Iterator[concurrent.futures.Executor | None]:
    """Where the blocks run: ``None`` (this process: ``workers=0``); the dask.distributed
    scheduler at ``scheduler``; else a local dask.distributed cluster of ``workers`` processes
    (default :func:`default_workers`) with one thread each, or a local process pool where
    dask.distributed is not installed. Workers must see the input and output paths.

    Raises ValueError naming ``scheduler`` when it cannot be reached within ``timeout`` s.

    Examples
    --------
    >>> with open_executor(workers=0) as executor:
    ...     print(executor)
    None
    """
    if scheduler:
        try:
            import distributed
        except ImportError:
            raise ValueError(
                f"cannot use the dask scheduler at {scheduler}: dask.distributed is not "
                "installed (pip install distributed)"
            ) from None
        timeout = SCHEDULER_TIMEOUT if timeout is None else timeout
        try:
            client = distributed.Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValueError(
                f"cannot reach the dask scheduler at {scheduler} within {timeout:g} s ({reason})"
            ) from None
        with client:
            yield client.get_executor()
        return
    if workers == 0:
        yield None
        return
    workers = workers or default_workers()
    import importlib.util
    import signal

    sigterm = callable(signal.getsignal(signal.SIGTERM))  # this process stops on SIGTERM

    if importlib.util.find_spec("distributed") is not None:
        import logging

        import distributed

        with contextlib.ExitStack() as stack:
            with _hold_ctrl_c():  # a Ctrl-C meanwhile stops the run once they have started
                cluster = stack.enter_context(
                    distributed.LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        # no dashboard, and its HTTP server (health routes) on a free port:
                        # on 8787, taken by another cluster, dask printed a warning per run; on this
                        # machine alone (":0" served /info, /json, /metrics to the network)
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                        silence_logs=logging.ERROR,
                    )
                )
                client = stack.enter_context(distributed.Client(cluster))
                client.run(_ignore_ctrl_c, sigterm, wait=True)
                pids = client.run(os.getpid)  # {worker: its process}
            try:
                yield client.get_executor()
            except BaseException:  # Ctrl-C or an error: the workers are cut off now (killed:
                # no log of theirs; a round trip to them first let a block be kept meanwhile)
                if not _kill_workers(cluster, pids.values()):
                    with contextlib.suppress(Exception):
                        client.run(_quiet_worker_logs, wait=True)
                raise
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    pool = None
    try:
        with _hold_ctrl_c():
            pool = concurrent.futures.ProcessPoolExecutor(
                workers, mp_context=context, initializer=_ignore_ctrl_c, initargs=(sigterm,)
            )
            for _ in range(workers):  # start the processes now (the pool would as blocks come)
                pool.submit(int)
        yield pool
    except BaseException:
        # cancel now: a block cut short has no record and is redone by the next run
        if pool is not None:
            _kill_pool(pool)
        raise
    pool.shutdown()


def _kill_pool(pool) -> None:
    """Cancel what waits and kill the processes of ``pool`` (SIGKILL: a worker may ignore
    SIGTERM, see ``_ignore_ctrl_c``), then let its manager thread end quietly: finding the
    pool broken, it sets an error on every work item, and on one that the shutdown had
    cancelled Python 3.11 raises InvalidStateError there, printing a traceback after the
    run's one-line message."""
    import threading

    manager = getattr(pool, "_executor_manager_thread", None)
    previous = threading.excepthook

    def quiet(args) -> None:
        if args.thread is manager and issubclass(
            args.exc_type, concurrent.futures.InvalidStateError
        ):
            return
        previous(args)

    threading.excepthook = quiet
    try:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.kill()
        if manager is not None:
            manager.join(timeout=30)
    finally:
        threading.excepthook = previous


def _kill_workers(cluster, pids) -> bool:
    """Kill the worker processes ``pids`` of the dask ``cluster`` now (SIGKILL: they ignore
    SIGTERM, :func:`_ignore_ctrl_c`), its nannies told not to start others: a run stopped
    (Ctrl-C, SIGTERM, an error) keeps only the blocks it said were done. Closing the cluster
    lets a worker finish its task for up to 4 s (the nanny's graceful close) and the block
    under way was then kept after the CLI had said it would be redone (user test s34/t15:
    "3 of 12 blocks are segmented and kept", then "4 resumed"). Whether every worker was
    killed (or was gone already)."""
    import signal

    for nanny in list(getattr(cluster, "workers", {}).values()):
        with contextlib.suppress(Exception):
            nanny.auto_restart = False
    killed = True  # (False: one could not be killed, left to the cluster's close)
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:  # (gone already)
            pass
        except (OSError, TypeError, ValueError):
            killed = False
    return killed


def _quiet_worker_logs() -> None:
    """(On a worker) log nothing more: its scheduler is going away on purpose."""
    import logging

    for name in ("distributed", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _ignore_ctrl_c(sigterm: bool = False) -> None:
    """(On a worker) ignore SIGINT, and SIGTERM where ``sigterm`` (the main process stops on
    it: the CLI's ``kill``, ``timeout``, a batch system's time limit): a terminal's Ctrl-C
    reaches the whole process group, as do ``timeout``'s and a batch system's SIGTERM, and
    each worker would print its own traceback or die under the run; the main process stops
    and shuts them down (dask's nanny, or the pool, kills a worker that does not stop)."""
    import signal

    with contextlib.suppress(ValueError):  # not the main thread: it cannot set handlers
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)


@contextlib.contextmanager
def _hold_ctrl_c():
    """Start worker processes with SIGINT (and SIGTERM, where this process handles it: the
    CLI) kept from them, and hold a Ctrl-C or SIGTERM meanwhile: at the end (once they have
    started, so that they are shut down as a later one shuts them down) it raises
    KeyboardInterrupt, or runs the SIGTERM handler there was (the CLI's raises its
    ``Terminated``), rather than cutting the start short or being lost.

    The signals are blocked in this thread, and so in the threads and processes started now,
    which inherit the mask through exec (the workers then ignore them: :func:`_ignore_ctrl_c`).
    This process keeps a handler (only recording them): were a signal ignored here, it could
    be taken and dropped by any thread that does not block it (BLAS threads). A signal that
    was ignored before (a background job, ``nohup``-like set-ups) stays ignored, and the
    workers inherit that. Outside the main thread (napari's worker) a no-op."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held_signals = [
        number
        for number, handler in (
            (signal.SIGINT, signal.getsignal(signal.SIGINT)),
            (signal.SIGTERM, signal.getsignal(signal.SIGTERM)),
        )
        if handler is not signal.SIG_IGN and (number == signal.SIGINT or callable(handler))
    ]  # SIGTERM only where handled: by default it ends the process, held or not
    if not held_signals:
        yield  # ignored already: they stay so, and the workers inherit it
        return
    if not hasattr(signal, "pthread_sigmask"):  # no masks (Windows): workers inherit SIG_IGN
        if signal.SIGINT not in held_signals:
            yield
            return
        # (a Ctrl-C in this window is lost there, as dask's own start-up loses it)
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous_int)
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # starting it unblocks SIGINT in the calling thread
    held: list[int] = []
    previous = {
        number: signal.signal(number, lambda number, frame: held.append(number))
        for number in held_signals
    }
    signal.pthread_sigmask(signal.SIG_BLOCK, set(held_signals))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(held_signals))  # (runs the handler)
        for number, handler in previous.items():
            signal.signal(number, handler)
    if signal.SIGTERM in held:
        handler = previous[signal.SIGTERM]
        if callable(handler):  # always, as only a handled SIGTERM is held
            handler(signal.SIGTERM, None)
    if signal.SIGINT in held:
        raise KeyboardInterrupt


def _open_zarr(store: str, key: str = "", mode: Literal["r", "r+", "a", "w", "w-"] = "r") -> Any:
    import zarr

    node = zarr.open(store, mode=mode)
    if key:
        assert isinstance(node, zarr.Group), f"{store} holds an array, not a group with {key!r}"
        return node[key]
    return node


@dataclass(frozen=True)
class _Source:
    """The input: a zarr store path that workers reopen, or an array in this process.

    A store is read as the engine reads it (``read_image``): ``drop`` are stored axes it
    leaves out, each at its index in ``at`` (default 0: an OME-Zarr's axes of length 1; a
    channel chosen: its index), and ``order`` the stored axes left, transposed into the
    engine's order (the input's axis ``i`` is the stored one ``order[i]``; empty: as stored),
    e.g. a ZCYX store read as CZYX: ``order == (1, 0, 2, 3)``."""

    store: str | None
    key: str = ""
    array: Any = None
    drop: tuple[int, ...] = ()  # stored axes the input leaves out (OME t, c, z; a channel)
    at: tuple[int, ...] = ()  # the index taken on each of ``drop`` (default 0)
    order: tuple[int, ...] = ()  # the input's axes as stored axes (empty: the same order)

    def open(self):
        if self.array is not None:
            return self.array
        assert self.store is not None, "a source is a store path or an array"
        return _open_zarr(self.store, self.key)

    def index(self, index: tuple) -> tuple:
        """``index`` over the input's axes as an index of what :meth:`open` gives (the index
        in ``at`` on each dropped axis, which indexing then leaves out); what it reads is in
        the stored order: :meth:`arrange` puts it in the input's."""
        full = list(index)
        if self.order:
            full = [None] * len(index)
            for axis, stored in enumerate(self.order):
                full[stored] = index[axis]
        taken = dict(zip(self.drop, self.at))
        for axis in sorted(self.drop):
            full.insert(axis, taken.get(axis, 0))
        return tuple(full)

    def arrange(self, block: np.ndarray) -> np.ndarray:
        """A block read with :meth:`index`, its axes in the input's order."""
        return np.transpose(block, self.order) if self.order else block

    def shape(self, opened) -> tuple[int, ...]:
        """The input's shape: that of ``opened`` (:meth:`open`) without the dropped axes, in
        the input's order."""
        kept = tuple(n for i, n in enumerate(opened.shape) if i not in self.drop)
        return tuple(kept[i] for i in self.order) if self.order else kept


@dataclass(frozen=True)
class _Run:
    source: _Source
    axes: str  # the input's axes
    grid: BlockGrid  # over the label axes (the input's axes without C)
    segmenter: Any
    support: BlockwiseSupport
    work: str
    result_key: str  # "" (a zarr array) or "0" (OME-Zarr level 0)
    name: str  # the output, for messages

    @property
    def stitched(self) -> tuple[bool, ...]:
        return tuple(a in "ZYX" for a in self.axes.replace("C", ""))

    @property
    def depth(self) -> tuple[int, ...]:
        if self.support.stitch == "touch":
            return (1,) * len(self.grid.shape)  # "overlap" and "graph" match over strips
        return tuple(min(STITCH_DEPTH, h) for h in self.grid.halo)

    def read(self, region: tuple[slice, ...]) -> np.ndarray:
        """The input over ``region`` of the label axes, every channel."""
        index = list(region)
        if "C" in self.axes:
            index.insert(self.axes.index("C"), slice(None))
        from ..io import as_array

        # a corrupt or missing chunk: one error naming the input and the block
        block = as_array(
            self.source.open(),
            self.input_name,
            f"block {_describe(region)}",
            self.source.index(tuple(index)),
        )
        block = self.source.arrange(block)
        if block.dtype.kind == "f" and not np.isfinite(block).all():
            raise ValueError(
                f"{self.input_name}: NaN or infinite values in block {_describe(region)}"
            )
        return block

    @property
    def input_name(self) -> str:
        """The input as messages name it: its store (and array key), else the output's run."""
        if self.source.store is None:
            return f"the input of {self.name}"
        return self.source.store + (f" ({self.source.key})" if self.source.key else "")

    def shaped(self, region: tuple[slice, ...]) -> np.ndarray:
        """A zero-strided stand-in with the shape :meth:`read` would give (reads nothing),
        for segmenters that work from stored predictions."""
        source = self.source.open()
        shape = [s.stop - s.start for s in region]
        if "C" in self.axes:
            c = self.axes.index("C")
            shape.insert(c, self.source.shape(source)[c])
        return np.broadcast_to(np.zeros((), source.dtype), tuple(shape))

    def blank(self, region: tuple[slice, ...]) -> np.ndarray | None:
        """True where ``region`` (of the label array) lies in a blank frame, or a blank slice
        for slice-wise models: constant in the whole input, as the scan found (units of
        ``segmenter.ranges``); None where it meets none. Their labels are cleared, as in
        memory (:func:`~tessella.engine.pipeline.without_blank_parts`)."""
        blank = blank_units(self.segmenter)
        if not blank:
            return None
        label_axes = self.axes.replace("C", "")
        axes = [label_axes.find(a) for a in "TZ"]
        spans = [range(region[a].start, region[a].stop) if a >= 0 else [-1] for a in axes]
        mask = np.zeros(tuple(s.stop - s.start for s in region), bool)
        for t in spans[0]:
            for z in spans[1]:
                if not blank & {(t, z), (t, -1), (-1, z)}:
                    continue
                index = [slice(None)] * mask.ndim
                for axis, at in zip(axes, (t, z)):
                    if axis >= 0:
                        index[axis] = at - region[axis].start
                mask[tuple(index)] = True
        return mask if mask.any() else None

    def record_path(self, index) -> Path:
        return Path(self.work) / "blocks" / f"{self.grid.linear(index)}.npz"


def blank_units(segmenter) -> set[tuple[int, int]]:
    """The normalisation units ``(t, z)`` (-1: not applicable) of ``segmenter.ranges`` (the
    scan's) whose every channel is constant: blank frames, or slices of slice-wise models."""
    from ..normalize import blank_channels

    return {
        tuple(unit)
        for unit, values in getattr(segmenter, "ranges", ())
        if blank_channels([v[2] for v in values], [v[3] for v in values])
    }


def _describe(region) -> str:
    return "[" + ", ".join(f"{s.start}:{s.stop}" for s in region) + "]"


def _inner_parts(run: _Run, stage: str, index) -> int:
    """How many parts (network passes) a block's task runs one after the other: a slice-wise
    model's segment task one per slice of the block and its halo along Z (the scan's units
    are slices), else one."""
    ranges = getattr(run.segmenter, "ranges", ())
    label_axes = run.axes.replace("C", "")
    if stage != "segment" or "Z" not in label_axes or not ranges:
        return 1
    if not any(unit[1] >= 0 for unit, _ in ranges):  # frames (or volumes) as units
        return 1
    z = run.grid.extended(index)[label_axes.index("Z")]
    return z.stop - z.start


class _Inner:
    """Progress inside one block from the steps its task yields: the network's tiles of each
    part (slice) in turn, as one count (``Progress("tile", k, n)``; ``"slice"`` where each
    slice is one tile). A part begins where its steps count from 0 again."""

    def __init__(self, parts: int):
        self.parts, self.part = parts, 0
        self.last: Progress | None = None

    def step(self, step) -> Progress | None:
        if not isinstance(step, Progress) or step.total <= 0:
            return None
        last = self.last
        if last is not None and step.done < last.done:  # the next part
            self.part += 1
            self.parts = max(self.parts, self.part + 1)
        self.last = step
        if self.parts > 1 and step.total == 1:
            return Progress("slice", self.part + step.done, self.parts)
        done = self.part * step.total + step.done
        return Progress("tile", done, self.parts * step.total)


def _progress_dir(run: _Run) -> Path:
    return Path(run.work) / "progress"


def _run_task(task, run, index, stage: str = ""):
    """(On a worker) ``task``'s steps run to the end; once the task has run
    :data:`INNER_EVERY` s, its progress inside the block is written for this process to
    read (:func:`_inner_progress`), then removed when it ends."""
    import time

    steps = task(run, index)
    inner = _Inner(_inner_parts(run, stage, index))
    path = _progress_dir(run) / str(run.grid.linear(index))
    start = time.monotonic()
    written = start
    try:
        while True:
            try:
                step = next(steps)
            except StopIteration as stop:
                return stop.value
            except Exception as exc:  # raised again by _map, in this process: a task that
                # raises is logged by the dask worker ("Compute Failed", its traceback)
                # before the one-line error (s32/t9 finding 6)
                return _Failed.of(exc, traceback.format_exc())
            said = inner.step(step)
            now = time.monotonic()
            if said is not None and now - written >= INNER_EVERY:
                written = now
                with contextlib.suppress(OSError):  # (progress only)
                    path.parent.mkdir(exist_ok=True)
                    tmp = path.with_suffix(".tmp")
                    tmp.write_text(f"{said.stage} {said.done} {said.total}")
                    os.replace(tmp, path)
    finally:
        if written != start:
            with contextlib.suppress(OSError):
                path.unlink()


@dataclass
class _Failed:
    """A block's task that raised ``error`` on a worker (``where``: its traceback there),
    returned rather than raised so that the worker logs nothing; :func:`_map` raises it.

    It goes back to this process as a task's result, pickled, so it holds the exception
    itself only where that survives a pickle round trip; otherwise (an exception holding
    unpicklable state, or whose ``__init__`` takes other arguments than its ``args``: a
    codec's, torch's, a plugin model's) ``error`` is None and its type's name and message
    are kept as text, raised here as a RuntimeError "TypeName: message" (s32/r5 finding 4:
    the user got "Could not serialize object of type _Failed" instead).

    >>> import pickle
    >>> class Odd(Exception):
    ...     def __init__(self, a, b):
    ...         super().__init__(f"{a} {b}")
    >>> back = pickle.loads(pickle.dumps(_Failed.of(Odd("cannot", "read"), "tb")))
    >>> back.raised()
    RuntimeError('Odd: cannot read')
    >>> pickle.loads(pickle.dumps(_Failed.of(ValueError("bad block"), "tb"))).raised()
    ValueError('bad block')
    """

    error: Exception | None
    where: str = ""
    kind: str = ""  # the exception's type name (where ``error`` is None)
    message: str = ""  # its str()

    @classmethod
    def of(cls, error: Exception, where: str = "") -> _Failed:
        """A picklable record of ``error`` raised with the traceback ``where``."""
        import pickle

        kind, message = type(error).__qualname__, _text(error)
        try:
            back = pickle.loads(pickle.dumps(error))
            if type(back) is not type(error) or _text(back) != message:
                raise ValueError("not the same exception after a pickle round trip")
        except Exception:
            return cls(None, where, kind, message)
        return cls(error, where, kind, message)

    def raised(self) -> Exception:
        """``error`` (a RuntimeError naming its type, where it could not be pickled), its
        worker's traceback added as a note (shown with a traceback)."""
        error = self.error
        if error is None:
            error = RuntimeError(f"{self.kind}: {self.message}" if self.message else self.kind)
        note = getattr(error, "add_note", None)  # (Python 3.11)
        if note is not None:
            with contextlib.suppress(Exception):
                note(f"on the worker: {self.where}")
        return error


def _text(error: BaseException) -> str:
    """``str(error)``, or its type's name where that fails."""
    try:
        return str(error)
    except Exception:
        return type(error).__name__


def _inner_progress(run: _Run, running: dict, seen: dict) -> Iterator[tuple[Any, Progress]]:
    """(index, progress) of the blocks in ``running`` (linear number -> index) whose
    workers reported progress inside them since ``seen`` (updated)."""
    folder = _progress_dir(run)
    if not running or not folder.is_dir():
        return
    for linear, index in running.items():
        try:
            stage, done, total = (folder / str(linear)).read_text().split()
            said = Progress(stage, int(done), int(total))
        except (OSError, ValueError):  # none yet, or ended meanwhile
            continue
        if seen.get(linear) != said:
            seen[linear] = said
            yield index, said


def _map(task, run: _Run, indices, executor, stage: str, done: int, results: dict):
    """Run ``task`` over ``indices`` here or on ``executor``, yielding progress; return values
    go into ``results``. A failure names the output, the stage and the block."""
    total = run.grid.n_blocks
    index = None
    try:
        if executor is None:
            for index in indices:
                steps = task(run, index)
                linear = run.grid.linear(index)
                inner = _Inner(_inner_parts(run, stage, index))
                while True:
                    try:
                        step = next(steps)
                    except StopIteration as stop:
                        results[index] = stop.value
                        break
                    # inside a block: a cancel point, and how far the block is
                    said = inner.step(step)
                    yield BlockProgress(stage, done, total, None, said, linear)
                done += 1
                yield BlockProgress(stage, done, total, run.grid.core(index), None, linear)
            return
        indices = list(indices)
        folder = _progress_dir(run)
        for index in indices:  # (left by workers cut off in an earlier run)
            with contextlib.suppress(OSError):
                (folder / str(run.grid.linear(index))).unlink()
        futures = {executor.submit(_run_task, task, run, i, stage): i for i in indices}
        running = {run.grid.linear(i): i for i in indices}
        seen: dict = {}
        try:
            pending = set(futures)
            while pending:
                finished, pending = concurrent.futures.wait(
                    pending, timeout=INNER_EVERY, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for future in finished:
                    index = futures[future]
                    value = future.result()
                    if isinstance(value, _Failed):
                        raise value.raised()
                    results[index] = value
                    at = run.grid.linear(index)  # (its number: the estimate's blocks under way)
                    running.pop(at, None)
                    done += 1
                    yield BlockProgress(stage, done, total, run.grid.core(index), None, at)
                index = None
                for at, said in _inner_progress(run, running, seen):
                    yield BlockProgress(stage, done, total, None, said, run.grid.linear(at))
        finally:
            for future in futures:
                future.cancel()
    except OSError as exc:
        where = f" of block {_describe(run.grid.core(index))}" if index is not None else ""
        full = " (disk full)" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
        raise OSError(
            f"{run.name}: {stage}{where} failed{full}: {exc}; finished blocks are kept in "
            f"{run.work}: run the same command again to resume"
        ) from exc
    except concurrent.futures.BrokenExecutor as exc:
        raise RuntimeError(
            f"{run.name}: a worker died during {stage} (out of memory? try a smaller block or "
            f"fewer workers); finished blocks are kept: run again to resume"
        ) from exc

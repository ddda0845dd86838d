"""What every dock widget's worker needs."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from functools import wraps

from superqt.utils import FunctionWorker, GeneratorWorker, WorkerBase

__all__ = [
    "ThreadWarningsFunctionWorker",
    "ThreadWarningsWorker",
    "WorkerFailed",
    "close_when_finished",
    "report_runtime_errors",
    "warnings_of_this_thread",
]


class WorkerFailed(Exception):
    """An engine ``RuntimeError`` (e.g. torch out of memory) under a type workers report.

    superqt's worker takes any ``RuntimeError`` escaping the generator for "the worker object
    was deleted": it only warns, and emits neither ``errored`` nor ``finished``, so a widget
    would stay busy for ever.
    """


def report_runtime_errors(function: Callable[..., Generator]) -> Callable[..., Generator]:
    """Wrap a generator function so a ``RuntimeError`` inside it surfaces as WorkerFailed."""

    @wraps(function)
    def guarded(*args, **kwargs):
        try:
            return (yield from function(*args, **kwargs))
        except RuntimeError as exc:
            raise WorkerFailed(str(exc)) from exc

    return guarded


def close_when_finished(worker, stop: Callable[[], BaseException | None] | None = None) -> None:
    """Close a generator worker's generator when the worker stops; connect this first.

    superqt's ``quit()`` (what Cancel calls) only stops calling the generator and leaves it
    suspended, so its ``finally`` and ``with`` blocks (the engine's retained memory, a training
    log) would wait for the garbage collector while ``self.worker`` still refers to it.
    ``stop``: called then; an exception it returns is thrown into the generator first (to say
    why it stops, e.g. the engine's ``TrainingStopped``), and is not reported when raised again.
    """

    def close() -> None:
        generator = getattr(worker, "_gen", None)  # superqt keeps the generator here
        if generator is None:
            return
        try:
            reason = stop() if stop is not None else None
            if reason is not None:
                try:
                    generator.throw(reason)
                except (type(reason), StopIteration):
                    pass  # raised again, as a generator that stops does
            generator.close()
        except Exception as exc:  # a failing clean-up must not take the widget down
            from napari.utils.notifications import show_warning

            show_warning(f"clean-up after the worker failed: {exc}")

    worker.finished.connect(close)


#: thread id -> where that thread's warnings go, while a worker there captures them
_capturing: dict[int, Callable] = {}
_capturing_lock = threading.Lock()


class _ByThread:
    """``warnings.showwarning`` while workers capture warnings: a warning raised in a
    capturing worker's thread goes to that worker, any other to the handler this one
    replaced (napari's notifications, the console's, pytest's)."""

    def __init__(self, outside: Callable) -> None:
        self.outside = outside

    def __call__(self, message, category, filename, lineno, file=None, line=None) -> None:
        capture = _capturing.get(threading.get_ident())
        if capture is None:
            self.outside(message, category, filename, lineno, file, line)
        else:
            capture(message, category, filename, lineno, file, line)


@contextmanager
def warnings_of_this_thread(capture: Callable) -> Iterator[None]:
    """Send the warnings raised in the calling thread, and only those, to ``capture`` (called
    with ``warnings.showwarning``'s arguments) while the block runs.

    ``warnings.catch_warnings`` cannot do this: ``warnings.showwarning`` is one for the whole
    process, so a worker that swaps it (as superqt's ``WorkerBase.run`` does) also takes the
    warnings raised meanwhile on the GUI thread or by napari, and two workers ending out of
    order leave the first one's handler in place for good.
    """
    ident = threading.get_ident()
    with _capturing_lock:
        if not isinstance(warnings.showwarning, _ByThread):
            warnings.showwarning = _ByThread(warnings.showwarning)
        _capturing[ident] = capture
    try:
        yield
    finally:
        with _capturing_lock:
            _capturing.pop(ident, None)
            hook = warnings.showwarning
            if not _capturing and isinstance(hook, _ByThread):
                warnings.showwarning = hook.outside


def _run_with_own_warnings(worker: WorkerBase) -> None:
    """superqt's ``WorkerBase.run``, with its process-wide ``warnings.catch_warnings``
    replaced by :func:`warnings_of_this_thread`: ``worker.warned`` carries only the warnings
    raised in the worker's thread."""
    worker.started.emit()
    worker._running = True
    try:
        with warnings_of_this_thread(lambda *args: worker.warned.emit(args)):
            result = worker.work()
        if isinstance(result, Exception):
            if isinstance(result, RuntimeError):  # superqt: the worker was deleted
                warnings.warn(
                    f"RuntimeError in aborted thread: {result}", RuntimeWarning, stacklevel=2
                )
                return
            raise result
        if not worker.abort_requested:
            worker.returned.emit(result)
    except Exception as exc:
        worker.errored.emit(exc)
    worker._running = False
    worker.finished.emit()
    worker._finished.emit(worker)


class ThreadWarningsWorker(GeneratorWorker):
    """A generator worker whose ``warned`` signal carries the warnings raised in its own
    thread only (see :func:`warnings_of_this_thread`); any other warning raised while it runs
    goes where it would have gone without the worker. The warning filters are left as they
    are (superqt's worker sets "always" for the whole process while it runs).

    Pass it as ``create_worker(..., _worker_class=ThreadWarningsWorker)``.
    """

    def run(self) -> None:
        _run_with_own_warnings(self)


class ThreadWarningsFunctionWorker(FunctionWorker):
    """:class:`ThreadWarningsWorker` for a plain function (superqt's ``FunctionWorker``):
    ``warned`` carries the warnings raised in its own thread only.

    Pass it as ``create_worker(..., _worker_class=ThreadWarningsFunctionWorker)``.
    """

    def run(self) -> None:
        _run_with_own_warnings(self)

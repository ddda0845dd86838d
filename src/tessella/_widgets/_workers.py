"""What every dock widget's worker needs."""

from __future__ import annotations

from collections.abc import Callable, Generator
from functools import wraps

__all__ = ["WorkerFailed", "close_when_finished", "report_runtime_errors"]


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


def close_when_finished(worker) -> None:
    """Close a generator worker's generator when the worker stops; connect this first.

    superqt's ``quit()`` (what Cancel calls) only stops calling the generator and leaves it
    suspended, so its ``finally`` and ``with`` blocks (the engine's retained memory, a training
    log) would wait for the garbage collector while ``self.worker`` still refers to it.
    """

    def close() -> None:
        generator = getattr(worker, "_gen", None)  # superqt keeps the generator here
        if generator is None:
            return
        try:
            generator.close()
        except Exception as exc:  # a failing clean-up must not take the widget down
            from napari.utils.notifications import show_warning

            show_warning(f"clean-up after the worker failed: {exc}")

    worker.finished.connect(close)

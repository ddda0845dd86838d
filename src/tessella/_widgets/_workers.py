"""What every dock widget's worker needs."""

from __future__ import annotations

from collections.abc import Callable, Generator
from functools import wraps

__all__ = ["WorkerFailed", "report_runtime_errors"]


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

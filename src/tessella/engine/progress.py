"""Typed progress values yielded by the engine's generators."""

from __future__ import annotations

import concurrent.futures
import os
import sys
import threading
import warnings
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Progress", "run_steps", "warn_at_caller"]

#: the folder of the ``tessella`` package: frames whose code is under it are Tessella's own
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

_Result = TypeVar("_Result")


def run_steps(generator: Generator[Any, Any, _Result]) -> _Result:
    """Drive a step generator (the engine's ``..._steps`` functions) to the end and return
    its value, the progress it yields unseen.

    >>> def steps():
    ...     yield Progress("work", 1, 2)
    ...     yield Progress("work", 2, 2)
    ...     return "done"
    >>> run_steps(steps())
    'done'
    """
    while True:
        try:
            next(generator)
        except StopIteration as stop:
            return stop.value


def warn_at_caller(message: str | Warning, category: type[Warning] = UserWarning) -> None:
    """Warn as :func:`warnings.warn` does, attributed to the line outside Tessella that led
    here (the user's ``tessella.segment(...)``), however deep in the engine's generators it
    is said, and shown by Python's default filter each time it is said.

    ``stacklevel`` cannot name that line: a step generator's caller is whoever calls
    ``next`` on it (``run_steps``, a widget's worker). Attributed to an engine line, a
    warning said once per input was shown for the first input only, as Python shows a
    warning once per location and text (t5 finding 1: a second volume segmented without
    spacing got no UnknownZSpacingWarning). The engine already says each warning once per
    input, so no location registry is kept (``warn_explicit``'s ``registry=None``): a loop
    over volumes warns for each, under the ``"default"`` and ``"module"`` actions alike
    (``"once"`` shows a text once).

    The frames of the standard library's ``threading`` and ``concurrent.futures`` are passed
    over as Tessella's are: a thread that runs Tessella's function itself
    (``executor.submit(tessella.segment, ...)``, ``Thread(target=...)``) has no line of the
    user's on its stack, and the warning is then attributed to the line of the outermost
    Tessella function it ran (``tessella/engine/pipeline/__init__.py``, module
    ``tessella.engine.pipeline``), not to ``concurrent/futures/thread.py`` (review r1,
    finding 7).

    Filters by category or message apply as to any warning
    (``warnings.filterwarnings("ignore", category=tessella.UnknownZSpacingWarning)``). A
    filter by module matches the module of the line named: the caller's (``__main__`` for
    a script), not ``tessella``, except in such a thread.

    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("default")
    ...     for _ in range(2):
    ...         warn_at_caller("said twice")
    >>> len(caught), caught[0].filename.startswith(_PACKAGE)  # (this example's line)
    (2, False)
    """
    frame = sys._getframe(1)
    outermost = frame  # (Tessella's, the one a thread ran, when no other line is found)
    while frame is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE) or _is_thread_machinery(frame)
    ):
        if frame.f_code.co_filename.startswith(_PACKAGE):
            outermost = frame
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:  # (called from Tessella and threads alone: a thread's own code)
        frame = outermost
    where = frame.f_globals
    warnings.warn_explicit(
        message,
        category,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=where.get("__name__", "<string>"),
        registry=None,
        module_globals=where,
    )


#: the standard library's modules that start threads and run their functions
_THREADING = (
    os.path.abspath(threading.__file__),
    os.path.dirname(os.path.abspath(concurrent.futures.__file__)) + os.sep,
)


def _is_thread_machinery(frame) -> bool:
    """Whether ``frame`` is the standard library's ``threading`` or ``concurrent.futures``
    running a thread's function (no line of the user's: passed over by warn_at_caller)."""
    name = os.path.abspath(frame.f_code.co_filename)
    return name == _THREADING[0] or name.startswith(_THREADING[1])


@dataclass(frozen=True)
class Progress:
    """One step of long work: ``done`` of ``total`` units of ``stage`` are finished.

    Examples
    --------
    >>> Progress("predict", 3, 8).fraction
    0.375
    """

    stage: str
    done: int
    total: int

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

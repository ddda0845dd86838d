"""Typed progress values yielded by the engine's generators."""

from __future__ import annotations

import os
import sys
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
    over volumes warns for each. Filters (``"ignore"``, ``"error"``, ``"once"``, by category,
    module or message) apply as to any warning.

    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("default")
    ...     for _ in range(2):
    ...         warn_at_caller("said twice")
    >>> len(caught), caught[0].filename.startswith(_PACKAGE)  # (this example's line)
    (2, False)
    """
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:  # (called from Tessella alone: a thread's or a worker's own code)
        warnings.warn(message, category, stacklevel=2)
        return
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

"""Typed progress values yielded by the engine's generators."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Progress", "run_steps"]

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

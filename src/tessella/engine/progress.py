"""Typed progress values yielded by the engine's generators."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Progress"]


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

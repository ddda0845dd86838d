"""Words the panels' status lines share."""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1.

    >>> counted(1, "object"), counted(0, "object"), counted(3, "track")
    ('1 object', '0 objects', '3 tracks')
    """
    return f"{n} {noun}{'' if n == 1 else 's'}"

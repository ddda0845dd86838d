"""Tune's notifications, looked up in :mod:`.tune` when shown (tests replace them there)."""

from __future__ import annotations

__all__ = ["show_error", "show_warning"]


def show_error(message: str) -> None:
    """napari's ``show_error`` as :mod:`.tune` holds it."""
    from . import tune

    tune.show_error(message)


def show_warning(message: str) -> None:
    """napari's ``show_warning`` as :mod:`.tune` holds it."""
    from . import tune

    tune.show_warning(message)

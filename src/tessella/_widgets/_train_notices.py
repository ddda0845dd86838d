"""Train's notifications, looked up in :mod:`.train` when shown (tests replace them there)."""

from __future__ import annotations

__all__ = ["show_error", "show_info", "show_warning"]


def show_info(message: str) -> None:
    """napari's ``show_info`` as :mod:`.train` holds it."""
    from . import train

    train.show_info(message)


def show_warning(message: str) -> None:
    """napari's ``show_warning`` as :mod:`.train` holds it."""
    from . import train

    train.show_warning(message)


def show_error(message: str) -> None:
    """napari's ``show_error`` as :mod:`.train` holds it."""
    from . import train

    train.show_error(message)

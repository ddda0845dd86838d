"""Pairing predicted and ground-truth files by stem for ``tessella evaluate``: the engine's
:func:`~tessella.engine.evaluation.file_pairs`, its errors as CliError."""

from __future__ import annotations

from pathlib import Path

from ._console import CliError

__all__ = ["_file_pairs"]


def _file_pairs(pred: str, gt: str, skipped: list | None = None) -> list[tuple[Path, Path]]:
    """:func:`tessella.engine.evaluation.file_pairs`: (GT file, PRED file) pairs of two
    files or of two folders' images paired by name; CliError in one line where they cannot
    be paired."""
    from ..engine.evaluation import EvaluationInputError, file_pairs

    try:
        return file_pairs(pred, gt, skipped)
    except EvaluationInputError as exc:
        raise CliError(str(exc)) from None

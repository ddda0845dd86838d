"""The zarr stores on disk that a panel is reading in a worker now (Export of labels on disk
reads their store in several passes over seconds): a panel about to write into a store
(Correct's *Write back*) asks :func:`is_busy` first, and says it waits or refuses, rather
than change the labels under a reader, whose files would then disagree (an exported CSV
counting objects its zarr no longer holds). The reader checks for itself too (Export
compares the store's :func:`~tessella.engine.digest.stored_files_stamp` before it puts its
files in place): this registry only lets a writer see it before it writes.

>>> from pathlib import Path
>>> store = Path("/data/result.zarr")
>>> with reading(store):
...     is_busy(store), is_busy(Path("/data/other.zarr"))
(True, False)
>>> is_busy(store)
False
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

__all__ = ["is_busy", "reading"]

_LOCK = threading.Lock()
#: the stores read now (by their absolute path) -> how many readers
_READING: Counter[str] = Counter()


def _key(store: str | os.PathLike) -> str:
    return os.path.normcase(os.path.realpath(os.fspath(store)))  # (a link: its target)


@contextlib.contextmanager
def reading(store: str | os.PathLike | None) -> Iterator[None]:
    """Mark the zarr ``store`` (its folder) as being read while the block runs (None:
    nothing is marked); readers of the same store in several threads are counted."""
    if store is None:
        yield
        return
    key = _key(store)
    with _LOCK:
        _READING[key] += 1
    try:
        yield
    finally:
        with _LOCK:
            _READING[key] -= 1
            if _READING[key] <= 0:
                del _READING[key]


def is_busy(store: str | os.PathLike) -> bool:
    """Whether a panel is reading the zarr ``store`` (its folder) now."""
    with _LOCK:
        return _READING.get(_key(store), 0) > 0


def busy_stores() -> list[Path]:
    """The stores read now (for a test or a message)."""
    with _LOCK:
        return [Path(key) for key in sorted(_READING)]

"""Errors the Python API raises of more than one kind, so that a script's ``except`` of
either kind catches them.

:class:`MissingFileError`: a file or folder that is not there (:func:`tessella.read_image`,
:func:`tessella.evaluate_paths`, :func:`tessella.replay`'s recipe file): a
``FileNotFoundError`` (an ``OSError``), as Python's own ``open`` raises, and a ``ValueError``,
as these functions raise for anything unreadable; its text is one line naming the path."""

from __future__ import annotations

import errno

__all__ = ["MissingFileError"]


class MissingFileError(FileNotFoundError, ValueError):
    """A file or folder that does not exist: ``str()`` is the one-line ``message`` naming it;
    ``filename`` is its path and ``errno`` ``ENOENT``, as ``open`` gives them.

    >>> try:
    ...     raise MissingFileError("nope.tif: no such file or folder", "nope.tif")
    ... except FileNotFoundError as exc:
    ...     str(exc), exc.filename, isinstance(exc, ValueError), isinstance(exc, OSError)
    ('nope.tif: no such file or folder', 'nope.tif', True, True)
    """

    def __init__(self, message: str, filename=None) -> None:
        super().__init__(errno.ENOENT, message, filename)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # (pickled as made: a worker process's error reaches its parent)
        return type(self), (self.message, self.filename)

"""Whether a folder takes new files: a real write, as the command line and the panels check
an output's folder before any work (``os.access`` says yes to root, and misses ACLs and
read-only mounts)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

__all__ = ["probe_folder", "unwritable"]


def probe_folder(folder: Path, name: str) -> None:
    """OSError unless a file can be made in ``folder``: one without a name where the file
    system makes them (Linux ``O_TMPFILE``: a kill leaves nothing behind), else a hidden
    one named after ``name`` as a probe (``.NAME.HOST-PID-XXXXXXXX.probe``,
    :func:`~._leftovers.probe_path`: one a kill leaves is removed by the next write of
    ``name``, not taken for an older version's temporary), made and removed. A real write,
    not ``os.access``, which says yes to root and misses ACLs and read-only mounts."""
    from ._leftovers import probe_path

    try:
        os.close(os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o600))
    except (AttributeError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        # no O_TMPFILE here, or a file system without it: a named one, made and removed
        while True:
            probe = probe_path(folder, name)
            try:
                fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            break
        os.close(fd)
        os.remove(probe)


def unwritable(folder: Path, name: str) -> str:
    """Why no file can be made in the existing ``folder`` (:func:`probe_folder`), as the
    OSError's reason without its paths ("Permission denied", "Read-only file system"); ""
    where one can.

    >>> import tempfile
    >>> unwritable(Path(tempfile.gettempdir()), "out.zarr")
    ''
    """
    try:
        probe_folder(folder, name)
    except OSError as exc:
        return (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")
    return ""

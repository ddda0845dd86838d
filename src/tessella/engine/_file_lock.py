"""An advisory lock on an open file that lasts until the file is closed or its process ends,
however it ends (``kill -9`` included): how a writer tells others that its files are in use,
across processes and process namespaces on one machine. Used by ``tessella convert``'s
staging folders and the command line's output staging. No Qt here."""

from __future__ import annotations

import errno
import os

__all__ = ["try_lock"]

#: the byte Windows locks (msvcrt's locks are mandatory): far beyond what a lock file holds
LOCKED_BYTE = 1 << 20


def try_lock(fd: int) -> bool | None:
    """Lock the open file ``fd`` (exclusive, not waiting) until it is closed or this process
    ends, however it ends: True; False where another open file (of this process or another)
    holds the lock; None where this cannot be told (a file system without locks)."""
    try:
        import fcntl
    except ImportError:  # Windows
        try:
            import msvcrt
        except ImportError:
            return None
        try:  # (a mandatory lock of the byte at the file's position: one past any record
            # its holder writes at its start, which others read to name it in a refusal)
            os.lseek(fd, LOCKED_BYTE, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        except OSError as exc:
            return False if exc.errno in (errno.EACCES, errno.EDEADLK) else None
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks
        return None
    return True

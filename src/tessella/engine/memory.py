"""Keep freed memory in the process while a network runs (glibc only).

glibc hands every large block (over 128 KiB to 32 MiB, adjusted as the program runs) to the
kernel with ``mmap`` and gives it back on ``free``. A U-Net forward allocates and frees tens of
such blocks per window (feature maps of tens of MiB), so each window page-faults all of them
in again: on our 2-core test machine that was a third of the network's time
(``python -m benchmarks --only segment``, "freed memory given back"). The usual cure is a
caching allocator (jemalloc, tcmalloc) preloaded before the process starts, which a napari
plugin cannot do.

:func:`retain_freed_memory` gets the same effect for the duration of a prediction or a training
run: it tells glibc (``mallopt``) to serve large blocks from its heaps and not to trim them. This
holds for every thread of the process while it lasts: in the main thread blocks of any size then
come from the heap; in other threads, blocks larger than a thread heap (64 MiB) are still mapped.
When the last user leaves, the free pages go back to the kernel (``malloc_trim``) and glibc is
left as its own adaptive thresholds leave it after a program has freed big blocks: blocks up to
32 MiB from the heap, larger ones mapped, a 64 MiB trim threshold. (Any ``mallopt`` call freezes
glibc's adaptation, so its start-up values cannot be restored; these are where it would go.)
Elsewhere (macOS, Windows, musl), or with the environment variable ``TESSELLA_RETAIN_MEMORY=0``,
it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import platform
import threading
from collections.abc import Iterator

__all__ = ["retain_freed_memory"]

# mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -3, -4
KEEP_TRIM_THRESHOLD = 2**31 - 1  # the largest mallopt takes: no trimming while retained
# afterwards: glibc's default mmap count, and the thresholds its adaptation ends at on 64-bit
# (DEFAULT_MMAP_THRESHOLD_MAX, and twice that for trimming)
AFTER_MMAP_MAX, AFTER_MMAP_THRESHOLD, AFTER_TRIM_THRESHOLD = 65536, 32 * 2**20, 64 * 2**20

_lock = threading.Lock()
_users = 0
_libc: ctypes.CDLL | None | bool = False  # False: not looked up yet


def _glibc() -> ctypes.CDLL | None:
    global _libc
    if _libc is False:
        _libc = None
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                libc.malloc_trim.argtypes = [ctypes.c_size_t]
                _libc = libc
            except (OSError, AttributeError):
                _libc = None
    return _libc  # type: ignore[return-value]


def _enabled() -> ctypes.CDLL | None:
    if os.environ.get("TESSELLA_RETAIN_MEMORY", "1").strip() in ("0", "false", "no", "off"):
        return None
    return _glibc()


def retaining() -> bool:
    """Whether freed memory is being retained now."""
    return _users > 0


@contextlib.contextmanager
def retain_freed_memory() -> Iterator[None]:
    """Within this block (nestable, any thread), large freed blocks stay in the process."""
    global _users
    libc = _enabled()
    if libc is None:
        yield
        return
    with _lock:
        if _users == 0:
            libc.mallopt(M_MMAP_MAX, 0)
            libc.mallopt(M_TRIM_THRESHOLD, KEEP_TRIM_THRESHOLD)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                libc.mallopt(M_MMAP_MAX, AFTER_MMAP_MAX)
                libc.mallopt(M_MMAP_THRESHOLD, AFTER_MMAP_THRESHOLD)
                libc.mallopt(M_TRIM_THRESHOLD, AFTER_TRIM_THRESHOLD)
                libc.malloc_trim(0)

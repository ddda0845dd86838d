"""A process whose flock of an image's labels-group lock fails (ENOLCK: an NFS lock daemon out
of resources, for it alone) falls back to the ``.excl`` lock file without removing the lock
file another process holds: removing it let a third process lock a new file there, and two
processes registered labels at once (one's name lost from ``labels/.zattrs``)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tessella.engine.io._zarr import register_ome_labels
from tests.conftest import write_ome_zarr

fcntl = pytest.importorskip("fcntl")  # (POSIX: the lock is flock)

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666)
fcntl.flock(fd, fcntl.LOCK_EX)
print(os.fstat(fd).st_ino, flush=True)
sys.stdin.readline()
"""

TRY = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("held")
else:
    print("locked")
"""


def test_flock_failure_keeps_the_lock_file_another_process_holds(tmp_path, monkeypatch):
    image = write_ome_zarr(
        tmp_path / "img.zarr",
        np.zeros((1, 1, 32, 32), np.uint16),
        "czyx",
        [1, 1, 1, 1],
        (1, 1, 32, 32),
    )
    group = image / "labels"
    group.mkdir()
    lock = group / ".tessella-labels.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        held_inode = int(holder.stdout.readline())

        def no_locks(fd, operation):  # (this process only: the holder's flock stands)
            raise OSError(errno.ENOLCK, "No locks available")

        monkeypatch.setattr(fcntl, "flock", no_locks)
        assert register_ome_labels(group / "cells") is True
        monkeypatch.undo()
        assert json.loads((group / ".zattrs").read_text())["labels"] == ["cells"]
        # the holder's file is still the lock: a third process finds it held, not a new one
        assert lock.exists() and os.stat(lock).st_ino == held_inode
        third = subprocess.run(
            [sys.executable, "-c", TRY, str(lock)], capture_output=True, text=True, check=True
        )
        assert third.stdout.strip() == "held"
        assert not (group / ".tessella-labels.lock.excl").exists()
    finally:
        holder.communicate("\n", timeout=20)

"""What the tests of the recovery of killed writes (``engine/io/_leftovers.py``) share: a
small labels image, the pid of a process that has ended, the hidden names of a folder, and a
count of the names read from a folder."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

LABELS = np.zeros((8, 8), np.uint16)
LABELS[2:5, 2:5] = 1


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _hidden(folder) -> list[str]:
    """The names in ``folder`` that start with a dot, sorted."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


class _Listing(list):
    """What os.scandir returns, read whole (counted)."""

    def __enter__(self):
        return iter(self)

    def __exit__(self, *exc):
        return False

    def close(self):
        pass


def _count_names_read(monkeypatch, folder) -> list[int]:
    """How many names os.scandir and os.listdir read from ``folder`` (a list of one, counted
    until ``monkeypatch`` undoes it); a folder given by its file descriptor (shutil.rmtree's)
    is not ``folder``."""
    read = [0]
    scandir, listdir = os.scandir, os.listdir

    def ours(path) -> bool:
        return not isinstance(path, int) and os.path.abspath(path) == os.path.abspath(folder)

    def counted_scandir(path="."):
        if not ours(path):
            return scandir(path)
        with scandir(path) as scan:
            entries = _Listing(scan)
        read[0] += len(entries)
        return entries

    def counted_listdir(path="."):
        names = listdir(path)
        if ours(path):
            read[0] += len(names)
        return names

    monkeypatch.setattr(os, "scandir", counted_scandir)
    monkeypatch.setattr(os, "listdir", counted_listdir)
    return read

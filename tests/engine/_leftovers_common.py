"""What the tests of the recovery of killed writes (``engine/io/_leftovers.py``) share: a
small labels image, the pid of a process that has ended, and the hidden names of a folder."""

from __future__ import annotations

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

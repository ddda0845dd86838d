"""The writability probe of an output's folder (``probe_folder``, the command line's and the
panels' check before any work) makes a file without a name where the system can (Linux
``O_TMPFILE``); elsewhere it made a named one with mkstemp, ``.NAME.XXXXXXXX.tmp``: the
names of an older Tessella's temporaries, so a running probe was listed by find_leftovers as
an older version's, and one a kill left was named on every write of that output, never
cleaned. It is now named with probe_path, ``.NAME.HOST-PID-XXXXXXXX.probe``, as the command
line's recipe probe is (ff31c3e): one of a process that ended is removed by the next
recovery; a running one is not listed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tessella.engine.io._leftovers import find_leftovers, recover_leftovers
from tessella.engine.io._probe import probe_folder

KILL_IN_FALLBACK = """
import os, signal, sys
from pathlib import Path
from tessella.engine.io._probe import probe_folder
if hasattr(os, "O_TMPFILE"):
    del os.O_TMPFILE  # (a system without it)
def remove(*args, **kwargs):  # (killed before the probe's file is removed)
    os.kill(os.getpid(), signal.SIGKILL)
os.remove = remove
probe_folder(Path(sys.argv[1]), "cells.tif")
"""


@pytest.mark.skipif(os.name != "posix", reason="kill -9")
def test_a_fallback_probe_killed_midway_is_cleaned_not_called_an_older_version(tmp_path):
    killed = subprocess.run([sys.executable, "-c", KILL_IN_FALLBACK, str(tmp_path)], timeout=120)
    assert killed.returncode == -9
    left = find_leftovers(tmp_path)
    assert len(left) == 1 and left[0][1] == "killed", left
    assert left[0][0].name.startswith(".cells.tif.") and left[0][0].name.endswith(".probe")
    line = recover_leftovers(tmp_path / "cells.tif", warn=False)
    assert line is not None and "older version" not in line and "removed" in line
    assert list(tmp_path.iterdir()) == []


def test_a_running_fallback_probe_is_not_listed(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    seen = []
    real = os.remove

    def remove(path, *args, **kwargs):
        seen.append(find_leftovers(tmp_path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "remove", remove)
    probe_folder(tmp_path, "cells.tif")
    assert seen == [[]], seen
    assert list(tmp_path.iterdir()) == []

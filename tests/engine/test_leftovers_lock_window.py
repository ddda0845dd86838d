"""A write's lock file is made, then locked (``claim``): in between, another process found
an unlocked lock file of a write still running and took it for a killed one, removing its
hidden files (and its lock file). Now a claim writes into its lock file once it holds the
lock, and recovery takes an empty lock file whose process still runs for one being made:
that write's files are left alone. (An empty one of a process that has ended is a write
killed right after it made it: recovered as before.)"""

from __future__ import annotations

import subprocess
import sys

from tessella.engine.io._leftovers import _host, find_leftovers, recover_leftovers
from tests.engine._leftovers_common import _dead_pid


def test_a_lock_file_being_made_by_a_running_writer_is_left_alone(tmp_path):
    out = tmp_path / "labels.tif"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stem = f".labels.tif.{_host()}-{live.pid}-89abcdef"
        lock, tmp = tmp_path / f"{stem}.lock", tmp_path / f"{stem}.tmp"
        lock.write_bytes(b"")  # (made, not yet locked)
        tmp.write_bytes(b"being written")
        assert recover_leftovers(out, warn=False) is None
        assert lock.exists() and tmp.exists()
        assert {state for _path, state in find_leftovers(tmp_path)} == {"running"}
    finally:
        live.kill()
        live.wait()


def test_an_empty_lock_file_of_a_process_that_ended_is_recovered(tmp_path):
    out = tmp_path / "labels.tif"
    stem = f".labels.tif.{_host()}-{_dead_pid()}-89abcdef"
    (tmp_path / f"{stem}.lock").write_bytes(b"")
    (tmp_path / f"{stem}.tmp").write_bytes(b"half")
    line = recover_leftovers(out, warn=False)
    assert line is not None and "removed" in line
    assert list(tmp_path.iterdir()) == []

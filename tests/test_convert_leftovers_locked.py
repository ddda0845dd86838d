"""A running ``tessella convert`` keeps its hidden folders though its pid looks dead to the
process that cleans up (a process in another pid namespace on this host: a container with
the host's network or hostname): it holds a lock on ``.OUT.zarr.convert-HOST-PID-*.lock``
for its whole life, and the cleanup (``recover_convert_leftovers``, run by every convert and
``segment -o OUT.zarr``) removes only the folders whose lock it can take. Before, it went by
the pid alone and removed a running conversion's staged copy under it. Also: two cleanups
putting back the same previous OUT.zarr, the second finding it gone, no longer fail."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tessella.engine.blockwise import _convert, to_chunked_zarr
from tessella.engine.blockwise._convert import recover_convert_leftovers
from tessella.engine.io import read_image
from tests.test_cli_convert_leftovers import _gone_pid, _hidden, _leftover, _zarr

fcntl = pytest.importorskip("fcntl")  # (POSIX: the lock is flock)

HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""

# a cleanup by a process that sees no process of this pid namespace (another container)
ELSEWHERE = """
import sys, warnings
import tessella.engine.blockwise._convert as convert
convert._pid_alive = lambda pid: False
warnings.simplefilter("ignore")
print(convert.recover_convert_leftovers(sys.argv[1]))
"""


def test_a_folder_whose_lock_is_held_is_kept_though_its_pid_is_dead(tmp_path, nuclei_sample):
    out = tmp_path / "out.zarr"
    staged = _leftover(out, _gone_pid(), "tmp")  # named for a pid this process cannot see
    _zarr(staged / "partial.zarr", np.ascontiguousarray(nuclei_sample[0][:64, :64]))
    lock = staged.with_name(staged.name.removesuffix(".tmp") + ".lock")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        assert recover_convert_leftovers(out) is None
        assert _hidden(tmp_path) == sorted([staged.name, lock.name])
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    with pytest.warns(UserWarning, match="killed"):  # its holder gone: the lock is free
        said = recover_convert_leftovers(out)
    assert said is not None and f"removed {staged.name}" in said, said
    assert _hidden(tmp_path) == []


def test_a_running_conversion_keeps_its_staged_copy(tmp_path, nuclei_sample, monkeypatch):
    image = np.ascontiguousarray(nuclei_sample[0][:128, :128])
    source = _zarr(tmp_path / "in.zarr", image)
    out = tmp_path / "out.zarr"
    rename_onto, cleaned = _convert._rename_onto, []

    def cleaned_up_elsewhere(staged, *args):
        """Every chunk written, not yet renamed: a cleanup in another container runs."""
        done = subprocess.run([sys.executable, "-c", ELSEWHERE, str(out)], capture_output=True,
                              text=True, check=True)  # fmt: skip
        cleaned.append(done.stdout.strip())
        return rename_onto(staged, *args)

    monkeypatch.setattr(_convert, "_rename_onto", cleaned_up_elsewhere)
    assert to_chunked_zarr(source, out, 32) == out
    assert cleaned == ["None"]  # nothing removed
    np.testing.assert_array_equal(np.asarray(read_image(out).data), image)
    assert _hidden(tmp_path) == []  # its lock file removed with it


def test_two_cleanups_putting_back_the_same_out(tmp_path, nuclei_sample, monkeypatch):
    image = np.ascontiguousarray(nuclei_sample[0][:96, :96])
    out = tmp_path / "out.zarr"
    aside = _leftover(out, _gone_pid(), "old")  # killed between its two renames
    to_chunked_zarr(_zarr(tmp_path / "earlier.zarr", image), aside / out.name, 48)
    previous, rename = aside / out.name, os.rename

    def raced(src, dst):
        if os.fspath(src) == os.fspath(previous):
            rename(src, dst)  # the other cleanup, past the same checks, put it back first
        return rename(src, dst)

    monkeypatch.setattr(os, "rename", raced)
    assert recover_convert_leftovers(out) is None  # (the other one says so)
    monkeypatch.undo()
    np.testing.assert_array_equal(np.asarray(read_image(out).data), image)
    with pytest.warns(UserWarning, match="killed"):  # what the other one goes on to remove
        assert f"removed {aside.name}" in (recover_convert_leftovers(out) or "")
    assert _hidden(tmp_path) == []

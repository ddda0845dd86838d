"""A conversion's lock file (``tessella convert``, to_chunked_zarr: ``.OUT.zarr.convert-
HOST-PID-XXXXXX.lock``) stayed empty, while a write's claim writes its pid and machine id
into its own once locked (0cab320, 4acd3d5). So a killed conversion whose pid looks alive
(taken by another process since, or one of another pid namespace) was taken for one whose
lock file was made and not yet locked and its folders kept for good, and one of this machine
under its former host name for another computer's. Its claim now writes them too (the same
helper, mark_lock): both are recovered."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tessella.engine.blockwise import _convert
from tessella.engine.blockwise._convert import recover_convert_leftovers
from tessella.engine.io import _leftovers

CLAIM_AND_DIE = """
import os, signal, sys
from pathlib import Path
from tessella.engine.blockwise import _convert
if len(sys.argv) > 2:
    _convert._host = lambda: sys.argv[2]  # (the host's name then)
stem, fd = _convert._claim(Path(sys.argv[1]))
_convert._own_folder(stem, ".tmp")
os.kill(os.getpid(), signal.SIGKILL)  # (killed while it converts)
"""


def _killed_conversion(out, *host: str) -> None:
    killed = subprocess.run([sys.executable, "-c", CLAIM_AND_DIE, str(out), *host], timeout=120)
    assert killed.returncode == -9
    assert len([p for p in out.parent.iterdir() if p.name.endswith(".tmp")]) == 1


def test_a_conversions_lock_file_holds_its_pid_and_machine_id(tmp_path):
    stem, fd = _convert._claim(tmp_path / "big.zarr")
    try:
        lines = _convert._named(stem, ".lock").read_text().splitlines()
    finally:
        _convert._release(stem, fd)
    assert lines == [str(os.getpid()), _leftovers._machine_id()]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="kill -9")
def test_a_killed_conversion_whose_pid_looks_alive_is_recovered(tmp_path, monkeypatch):
    out = tmp_path / "big.zarr"
    _killed_conversion(out)
    monkeypatch.setattr(_leftovers, "_pid_alive", lambda pid: True)  # (its pid taken since)
    with pytest.warns(UserWarning, match="removed"):
        line = recover_convert_leftovers(out)
    assert line is not None and "removed" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    os.name != "posix" or not _leftovers._machine_id(), reason="kill -9, a machine id"
)
def test_a_killed_conversion_of_this_machine_under_its_old_name_is_recovered(tmp_path):
    out = tmp_path / "big.zarr"
    _killed_conversion(out, "oldname")
    with pytest.warns(UserWarning, match="removed"):
        line = recover_convert_leftovers(out)
    assert line is not None and "removed" in line
    assert list(tmp_path.iterdir()) == []


def test_another_computers_conversion_is_still_left_alone(tmp_path):
    out = tmp_path / "big.zarr"
    stem = tmp_path / ".big.zarr.convert-elsewhere-123-0123ab"
    _convert._named(stem, ".lock").write_text("123\nffffffffffffffffffffffffffffffff\n")
    _convert._named(stem, ".tmp").mkdir()
    assert recover_convert_leftovers(out) is None
    assert _convert._named(stem, ".tmp").is_dir()

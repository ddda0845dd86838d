"""A killed write named with the pid this process has now (a container restarted after the
OOM killer numbers its processes from 1 again, with the same host name) was taken for this
process's own (review r3, finding 3): its ``.old`` put back over a removal made on purpose,
its empty lock file never recovered, a killed conversion's staged folder never removed. Only
the tokens (and conversion stems) this process made are its own now; any other of its pid
is judged by its lock file."""

from __future__ import annotations

import os
import secrets

import pytest

from tessella.engine.blockwise._convert import recover_convert_leftovers
from tessella.engine.io._leftovers import _host, claim, find_leftovers, recover_leftovers


def _earlier_token() -> str:
    """A token of an earlier process that had this process's pid (not made here)."""
    return f"{_host()}-{os.getpid()}-{secrets.token_hex(4)}"


def test_placed_output_removed_since_is_not_put_back(tmp_path):
    out = tmp_path / "cells.tif"
    token = _earlier_token()
    (tmp_path / f".cells.tif.{token}.old").write_text("earlier")
    (tmp_path / f".cells.tif.{token}.lock").write_text(f"{os.getpid()}\n\n")
    line = recover_leftovers(out, warn=False)
    assert line is not None and "removed since" in line
    assert not out.exists()
    assert (tmp_path / f".cells.tif.{token}.old").read_text() == "earlier"


def test_empty_lock_of_this_pid_is_recovered(tmp_path):
    out = tmp_path / "b.tif"
    token = _earlier_token()
    (tmp_path / f".b.tif.{token}.tmp").write_text("partial")
    (tmp_path / f".b.tif.{token}.lock").write_text("")
    assert {state for _path, state in find_leftovers(tmp_path)} == {"killed"}
    line = recover_leftovers(out, warn=False)
    assert line is not None and f".b.tif.{token}.tmp" in line
    assert list(tmp_path.iterdir()) == []


def test_this_process_failed_write_is_still_put_back(tmp_path):
    out = tmp_path / "cells.tif"
    writing = claim(out)
    writing.path("old").write_text("earlier")  # (failed after moving it aside, released)
    writing.release()
    line = recover_leftovers(out, warn=False)
    assert line is not None and "put the earlier cells.tif back" in line
    assert out.read_text() == "earlier"


def test_conversion_staged_folder_of_this_pid_is_removed(tmp_path):
    from tessella.engine.blockwise._convert import _host as convert_host

    stem = f".out.zarr.convert-{convert_host()}-{os.getpid()}-{secrets.token_hex(3)}"
    (tmp_path / f"{stem}.tmp").mkdir()
    (tmp_path / f"{stem}.tmp" / "chunk").write_text("x")
    (tmp_path / f"{stem}.lock").write_text(f"{os.getpid()}\n\n")
    with pytest.warns(UserWarning, match="killed"):
        line = recover_convert_leftovers(tmp_path / "out.zarr")
    assert line is not None and f"{stem}.tmp" in line
    assert list(tmp_path.iterdir()) == []

"""A computer whose name changed (a laptop on another network, a renamed machine) took the
leftovers of its own killed writes, named with its old host name, for another computer's:
they were named on every write and never cleaned. A claim now writes this machine's id
(``/etc/machine-id``) into its lock file, and recovery takes a write of another host name
whose lock file holds this machine's id for this computer's (judged by its lock alone: a
pid of another host name is not looked up)."""

from __future__ import annotations

import os

import pytest

from tessella.engine.io import _leftovers
from tessella.engine.io._leftovers import _forget, claim, find_leftovers, recover_leftovers


@pytest.mark.skipif(
    not any(os.path.isfile(p) for p in ("/etc/machine-id", "/var/lib/dbus/machine-id")),
    reason="no machine id here",
)
def test_leftovers_of_this_machine_under_its_old_name_are_recovered(tmp_path, monkeypatch):
    out = tmp_path / "labels.tif"
    monkeypatch.setattr(_leftovers, "_host", lambda: "oldname")
    writing = claim(out)
    writing.path("tmp").write_bytes(b"half")
    os.close(writing.fd)  # (killed: the lock let go, the claim over)
    writing.fd = None
    _forget(writing.token)
    monkeypatch.undo()  # (the machine renamed since)
    assert {state for _path, state in find_leftovers(tmp_path)} == {"killed"}
    line = recover_leftovers(out, warn=False)
    assert line is not None and "removed" in line and "another computer" not in line
    assert list(tmp_path.iterdir()) == []


def test_another_computers_write_is_still_left_alone(tmp_path):
    out = tmp_path / "labels.tif"
    stem = ".labels.tif.elsewhere-123-0123abcd"
    (tmp_path / f"{stem}.lock").write_text("123\nffffffffffffffffffffffffffffffff\n")
    (tmp_path / f"{stem}.tmp").write_bytes(b"theirs")
    line = recover_leftovers(out, warn=False)
    assert line is not None and "another computer" in line
    assert (tmp_path / f"{stem}.tmp").exists()

"""What a recovery keeps (an ``.old`` beside the new output) keeps its lock file, unlocked
(review r3, finding 4): the lock of a write of this machine under a former host name is
what names it as this machine's, and later writes called the kept ``.old`` "written from
another computer" once the first recovery had removed it. An empty ``.old`` folder is not
a CTC result's files moved aside (review r3, finding 5)."""

from __future__ import annotations

import os
import secrets

import pytest

from tessella.engine.io._leftovers import (
    _host,
    _machine_id,
    find_leftovers,
    recover_leftovers,
)


@pytest.mark.skipif(not _machine_id(), reason="no machine id here")
def test_kept_old_of_a_former_host_name_stays_this_machines(tmp_path):
    out = tmp_path / "cells.tif"
    pid = os.getpid() + 100000  # (a killed write's: no such process)
    token = f"oldname-{pid}-{secrets.token_hex(4)}"
    out.write_text("new")
    (tmp_path / f".cells.tif.{token}.old").write_text("earlier")
    (tmp_path / f".cells.tif.{token}.lock").write_text(f"{pid}\n{_machine_id()}\n")
    for _ in range(2):
        line = recover_leftovers(out, warn=False)
        assert line is not None and "kept" in line and "another computer" not in line
    assert {state for _path, state in find_leftovers(tmp_path)} == {"killed"}
    assert (tmp_path / f".cells.tif.{token}.old").read_text() == "earlier"


def test_lock_of_a_kept_old_goes_with_it(tmp_path):
    out = tmp_path / "cells.tif"
    pid = os.getpid() + 100000
    token = f"{_host()}-{pid}-{secrets.token_hex(4)}"
    out.write_text("new")
    old = tmp_path / f".cells.tif.{token}.old"
    old.write_text("earlier")
    (tmp_path / f".cells.tif.{token}.lock").write_text(f"{pid}\n\n")
    assert "kept" in (recover_leftovers(out, warn=False) or "")
    old.unlink()  # (the user removes it)
    assert recover_leftovers(out, warn=False) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.tif"]


def test_empty_old_folder_is_not_a_merge(tmp_path):
    out = tmp_path / "cells.zarr"
    pid = 4_000_000  # (no such process)
    token = f"{_host()}-{pid}-{secrets.token_hex(4)}"
    out.mkdir()
    (out / "zarr.json").write_text("{}")
    (tmp_path / f".cells.zarr.{token}.old").mkdir()
    (tmp_path / f".cells.zarr.{token}.lock").write_text(f"{pid}\n\n")
    line = recover_leftovers(out, warn=False)
    assert line is not None and "which the new one replaced" in line
    assert "merge" not in line and "files of both" not in line

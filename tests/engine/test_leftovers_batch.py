"""Review r1, finding 6: every atomic write (write_labels, write_json, write_zarr_labels)
first read its whole folder for what killed writes left beside its target
(``recover_leftovers``), so a batch writing N outputs into one folder read N² names (27 ms
a write at 20,000 files). Within ``batch_of_writes(folder)`` the folder is read once, on the
first write, and its hidden names kept for the others, while what killed writes left is
still recovered: a leftover from before the batch by the first write of its target, a
failed write of this process by the next write of its target, one another process leaves
meanwhile by the next write after the batch. Counted in names read, not timed."""

from __future__ import annotations

import os
import warnings

import pytest

from tessella.engine.io import write_json, write_labels
from tessella.engine.io._leftovers import _host, batch_of_writes, claim, recover_leftovers
from tests.engine._leftovers_common import LABELS, _count_names_read, _dead_pid, _hidden


def test_a_batch_of_writes_reads_its_folder_once(tmp_path, monkeypatch):
    for i in range(400):
        (tmp_path / f"earlier{i:03d}.json").write_text("{}")
    read = _count_names_read(monkeypatch, tmp_path)
    with batch_of_writes(tmp_path):
        for i in range(40):
            write_json(tmp_path / f"new{i:02d}.json", {"i": i})
            write_labels(tmp_path / f"new{i:02d}.tif", LABELS)
    # (once: about 400 names; a read on each of the 80 writes would be 80 x 400 and more)
    assert read[0] < 2 * 400, read[0]
    assert _hidden(tmp_path) == []
    assert len(list(tmp_path.iterdir())) == 480


@pytest.mark.skipif(os.name != "posix", reason="pids")
def test_what_killed_writes_left_before_the_batch_is_recovered_in_it(tmp_path):
    pid = _dead_pid()
    one = f".a.json.{_host()}-{pid}-0badc0de"
    (tmp_path / f"{one}.tmp").write_text("{half")
    (tmp_path / f"{one}.lock").write_text(f"{pid}\n")
    (tmp_path / f".{one}.tmp.{_host()}-{pid}-11111111.tmp").write_bytes(b"half")
    two = f".c.tif.{_host()}-{pid}-deadbeef"  # (killed between its renames)
    (tmp_path / f"{two}.old").write_bytes(b"earlier c")
    (tmp_path / f"{two}.tmp").write_bytes(b"new c")
    (tmp_path / f"{two}.lock").write_text(f"{pid}\n")
    with batch_of_writes(tmp_path):
        write_json(tmp_path / "x.json", {})  # (the folder read here)
        with pytest.warns(UserWarning, match=f"removed {one}.tmp"):
            write_json(tmp_path / "a.json", {"a": 1})
        said = recover_leftovers(tmp_path / "c.tif", warn=False)
        assert said is not None and f"put the earlier c.tif back from {two}.old" in said
        assert (tmp_path / "c.tif").read_bytes() == b"earlier c"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (nothing left to say)
            write_json(tmp_path / "a.json", {"a": 2})
    assert _hidden(tmp_path) == []


def test_a_failed_write_of_this_process_in_the_batch_is_recovered_in_it(tmp_path):
    target = tmp_path / "labels.tif"
    write_labels(target, LABELS)
    earlier = target.read_bytes()
    with batch_of_writes(tmp_path):
        write_json(tmp_path / "x.json", {})  # (the folder read here)
        failed = claim(target)
        os.rename(target, failed.path("old"))  # the first rename, then the write failed
        failed.release()
        with pytest.raises(FileExistsError):  # (put back first, so not replaced)
            with pytest.warns(UserWarning, match="put the earlier labels.tif back"):
                write_labels(target, LABELS * 2, overwrite=False)
    assert target.read_bytes() == earlier
    assert _hidden(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="pids")
def test_what_another_process_left_during_the_batch_is_recovered_after_it(tmp_path):
    pid = _dead_pid()
    with batch_of_writes(tmp_path):
        write_json(tmp_path / "x.json", {})  # (the folder read here)
        left = f".d.json.{_host()}-{pid}-0badc0de"
        (tmp_path / f"{left}.tmp").write_text("{half")
        (tmp_path / f"{left}.lock").write_text(f"{pid}\n")
    with pytest.warns(UserWarning, match=f"removed {left}.tmp"):
        write_json(tmp_path / "d.json", {})
    assert _hidden(tmp_path) == []

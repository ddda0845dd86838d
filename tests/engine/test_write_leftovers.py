"""A write killed before it finished (kill -9, a power cut) leaves hidden files beside its
target: ``.NAME.HOST-PID-XXXXXXXX.tmp`` (the new output), ``.old`` (the earlier one, moved
aside while the new one is renamed in) and ``.lock``. The next write of the target recovers
them (``tessella.engine.io._leftovers.recover_leftovers``): the earlier output put back where
the target is missing, the temporaries removed, and said in one line; a write still running
(its lock held) is never touched. Before, atomic_path's ``.NAME.XXXXXXXX.tmp`` stayed for
good, and write_zarr_labels removed the earlier folder before renaming the new one in (a
kill between them lost both) and cleared a fixed ``.NAME.tmp`` that a concurrent write of
the same target was writing into."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.engine._file_lock import try_lock
from tessella.engine.io import write_json, write_labels, write_zarr_labels
from tessella.engine.io._leftovers import _host, find_leftovers, recover_leftovers
from tests.engine._leftovers_common import LABELS, _dead_pid, _hidden

KILL_AT_RENAME = """
import os, signal, sys
import numpy as np
from tessella.engine.io import write_zarr_labels
real = os.rename
def rename(src, dst):
    if str(src).endswith(".tmp"):  # the new folder about to be renamed in: killed
        os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst)
os.rename = rename
write_zarr_labels(sys.argv[1], np.full((8, 8), 7, np.uint16))
"""


@pytest.mark.skipif(os.name != "posix", reason="kill -9")
def test_a_zarr_write_killed_between_its_renames_is_put_back_by_the_next(tmp_path):
    """A real kill -9 between moving the earlier labels aside and renaming the new ones in:
    the target is missing, its earlier labels in ``.old``. The next write of it puts them
    back first (so without overwrite it is refused, the earlier labels kept), says so, and
    leaves no hidden file."""
    out = tmp_path / "labels.zarr"
    write_zarr_labels(out, LABELS)
    killed = subprocess.run([sys.executable, "-c", KILL_AT_RENAME, str(out)], timeout=120)
    assert killed.returncode == -9
    assert not out.exists()
    kinds = {name.rsplit(".", 1)[1] for name in _hidden(tmp_path)}
    assert kinds == {"old", "tmp", "lock"}
    with pytest.warns(UserWarning) as said:
        with pytest.raises(FileExistsError):
            write_zarr_labels(out, LABELS * 2, overwrite=False)
    [line] = [str(w.message) for w in said]
    assert line.startswith(f"{out}: a write killed before it finished left files beside it; ")
    assert "put the earlier labels.zarr back from .labels.zarr." in line and "removed" in line
    np.testing.assert_array_equal(zarr.open_array(str(out))[:], LABELS)
    assert _hidden(tmp_path) == []


def test_stale_temporaries_are_removed_by_the_next_write_and_said(tmp_path):
    """A TIFF write killed while writing (its ``.tmp`` and lock left; the lock file unlocked,
    as the system leaves it, and a writer's temporary inside it) and one killed with no lock
    file: the next write_labels removes them and warns once; the earlier TIFF stays until
    replaced."""
    out = tmp_path / "labels.tif"
    write_labels(out, LABELS)
    pid = _dead_pid()
    one, two = (f".labels.tif.{_host()}-{pid}-{hex_}" for hex_ in ("0badc0de", "deadbeef"))
    (tmp_path / f"{one}.tmp").write_bytes(b"half a TIFF")
    (tmp_path / f"{one}.lock").touch()
    (tmp_path / f"{two}.tmp").write_bytes(b"half a TIFF")
    # (a writer's own temporary of Export's .tmp: killed with it)
    (tmp_path / f".{one}.tmp.{_host()}-{pid}-11111111.tmp").write_bytes(b"half")
    with pytest.warns(UserWarning, match=f"removed {one}.tmp, {two}.tmp") as said:
        write_labels(out, LABELS * 3)
    assert len(said) == 1
    assert _hidden(tmp_path) == []
    assert tifffile.imread(out).max() == 3


def test_a_running_write_is_never_touched(tmp_path):
    """The hidden files of a write whose lock is held (by another open file here: as another
    process, or one in another pid namespace whose pid looks dead) are left as they are, the
    target missing included; once the lock is let go, they are recovered."""
    out = tmp_path / "labels.tif"
    stem = f".labels.tif.{_host()}-{_dead_pid()}-12345678"
    old, tmp, lock = (tmp_path / f"{stem}.{kind}" for kind in ("old", "tmp", "lock"))
    tifffile.imwrite(old, LABELS)
    tmp.write_bytes(b"being written")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        if not try_lock(fd):
            pytest.skip("this file system has no locks")
        assert recover_leftovers(out) is None
        assert {state for _path, state in find_leftovers(tmp_path)} == {"running"}
        assert old.exists() and tmp.exists() and not out.exists()
    finally:
        os.close(fd)
    assert {state for _path, state in find_leftovers(tmp_path)} == {"killed"}
    line = recover_leftovers(out, warn=False)
    assert line is not None and f"put the earlier labels.tif back from {old.name}" in line
    np.testing.assert_array_equal(tifffile.imread(out), LABELS)
    assert _hidden(tmp_path) == []


def test_an_earlier_output_beside_the_new_one_is_kept_and_named(tmp_path):
    """Killed after the new output was put in place but before the earlier one was removed:
    the earlier one is kept (it is the user's data), named, with what to do; other
    computers' files and an older version's (no pid in the name) are named, not touched."""
    out = tmp_path / "labels.tif"
    write_labels(out, LABELS * 2)
    old = tmp_path / f".labels.tif.{_host()}-{_dead_pid()}-abcdef01.old"
    tifffile.imwrite(old, LABELS)
    other = tmp_path / ".labels.tif.othercomputer-12-abcdef01.tmp"
    older = tmp_path / ".labels.tif.k3j_9x0q.tmp"
    other.touch()
    older.touch()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        line = recover_leftovers(out, warn=False)
    assert line is not None
    assert f"kept {old.name}: the earlier labels.tif, which the new one replaced" in line
    assert f"left {other.name} alone (written from another computer)" in line
    assert f"left {older.name} alone (an older version's" in line
    assert old.exists() and other.exists() and older.exists()
    assert tifffile.imread(out).max() == 2


def test_the_command_line_says_it_in_one_line_on_stderr(tmp_path, capsys):
    """``tessella evaluate --json`` (written by write_json) with a killed write's temporary
    beside the JSON: one ``warning:`` line on stderr naming it, and it is gone."""
    gt = tmp_path / "gt.tif"
    tifffile.imwrite(gt, LABELS)
    out = tmp_path / "scores.json"
    left = tmp_path / f".scores.json.{_host()}-{_dead_pid()}-00112233.tmp"
    left.write_text('{"half')
    assert main(["evaluate", str(gt), str(gt), "--json", str(out)]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if left.name in line]
    assert err == [
        f"warning: {out}: a write killed before it finished left files beside it; "
        f"removed {left.name}"
    ]
    assert not left.exists() and out.is_file()


def test_a_failed_rename_leaves_the_earlier_zarr_and_no_hidden_file(tmp_path, monkeypatch):
    """A failure renaming the new zarr in (raised, not a kill): the earlier one is put back
    at once, no hidden file is left, and write_json (atomic_path) leaves none either."""
    out = tmp_path / "labels.zarr"
    write_zarr_labels(out, LABELS)
    real = os.rename

    def rename(src, dst):
        if str(src).endswith(".tmp"):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError, match="No space left"):
        write_zarr_labels(out, LABELS * 5)
    monkeypatch.undo()
    np.testing.assert_array_equal(zarr.open_array(str(out))[:], LABELS)
    write_json(tmp_path / "a.json", {"a": 1})
    assert _hidden(tmp_path) == []


def test_an_earlier_output_a_failed_write_of_this_process_left_is_put_back(tmp_path):
    """Review r3, finding 2: a write of this very process that failed or was interrupted
    (Ctrl+C in a notebook between the two renames) after moving the earlier output aside
    released its claim and left ``.old``; recovery treated every write of its own pid as
    running, so the next write went ahead without a word and the earlier output stayed
    hidden. A claim still held, in this process, is still never touched."""
    from tessella.engine.io._leftovers import claim

    target = tmp_path / "labels.tif"
    write_labels(target, LABELS)
    earlier = target.read_bytes()
    failed = claim(target)
    os.rename(target, failed.path("old"))  # the first rename, then the write failed
    failed.release()
    running = claim(tmp_path / "other.tif")
    (tmp_path / "other.tif").write_bytes(b"earlier other")
    os.rename(tmp_path / "other.tif", running.path("old"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        said = recover_leftovers(target)
        untouched = recover_leftovers(tmp_path / "other.tif")
    assert said is not None and "labels.tif" in said
    assert target.read_bytes() == earlier
    assert untouched is None and running.path("old").exists()
    running.release()

"""What a blockwise run checks once it holds its work folder's lock (``_hold_lock``), with real
processes: that ``out`` does not exist (a run that held the lock until now may have made it),
and who the lock file's record names where the lock is held."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import zarr
from scipy import ndimage

from tessella.engine.blockwise._store import work_dir
from tests.engine.test_blockwise import same_partition, write_zarr
from tests.engine.test_blockwise_lock import HOLDER

ROOT = Path(__file__).resolve().parents[2]  # (where ``tests`` is imported from)

#: a blockwise run of argv[1] into argv[2] (argv[3] "late": slow between its check that the
#: output does not exist and its lock, until the output exists and the run that made it has
#: ended, its work folder removed); prints "done" or the refusal
LATE = """
import sys, time
from pathlib import Path
import tessella.engine.blockwise._store as store
from tessella.engine.blockwise import BlockwiseSupport, FunctionSegmenter, label_blocks_steps
from tessella.engine.pipeline import run_steps
from tests.engine.test_blockwise_lock import components
if sys.argv[3] == "late":
    hold = store._hold_lock
    def late(work, out):
        print("checked", flush=True)
        while not Path(out).exists() or Path(work).exists():
            time.sleep(0.02)
        return hold(work, out)
    store._hold_lock = late
try:
    run_steps(label_blocks_steps(sys.argv[1], sys.argv[2], FunctionSegmenter(components),
                                 block=32, halo=2, support=BlockwiseSupport(0, "touch")))
except (OSError, ValueError) as exc:
    print(f"refused: {exc}", flush=True)
else:
    print("done", flush=True)
"""


def _run(source, out, mode):
    return subprocess.Popen(
        [sys.executable, "-c", LATE, str(source), str(out), mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _two_masks(tmp_path):
    rng = np.random.default_rng(1)
    mask = (ndimage.gaussian_filter(rng.normal(size=(96, 96)), 2) > 0.1).astype(np.uint8)
    other = np.ascontiguousarray(mask[::-1].T)
    a = write_zarr(tmp_path / "a.zarr", mask, (32, 32))
    b = write_zarr(tmp_path / "b.zarr", other, (32, 32))
    return (a, ndimage.label(mask)[0]), (b, ndimage.label(other)[0])


def test_a_run_that_checked_before_another_committed_does_not_replace_its_output(tmp_path):
    """B checks that ``out`` does not exist, then A runs to its end (committing ``out``),
    then B locks the work folder: B must not go on and replace A's labels without
    overwrite (it did: its check ran before the lock only)."""
    (a, a_labels), (b, _) = _two_masks(tmp_path)
    out = tmp_path / "out.zarr"
    late = _run(b, out, "late")
    assert late.stdout.readline() == "checked\n", late.stderr.read()
    first = _run(a, out, "now")
    first_out, first_err = first.communicate(timeout=120)
    assert first_out == "done\n", first_err
    late_out, late_err = late.communicate(timeout=120)
    assert late_out.splitlines()[-1] == (
        f"refused: {out} exists; pass overwrite=True (--overwrite) to replace it"
    ), late_err
    assert same_partition(a_labels, zarr.open(str(out))[...])  # A's labels, kept
    assert not work_dir(out).exists()  # (B's lock file and folder removed)


def test_a_record_of_another_host_is_refused_though_the_lock_is_free(tmp_path):
    """Where a file system's locks are only its node's own (BeeGFS by default, NFS mounted
    nolock), a live run on another node does not hold the lock here: its record, naming
    another host, refuses the run (it was overwritten and the run went on, two nodes writing
    one work folder); once the user deletes it, the run resumes."""
    (a, a_labels), _ = _two_masks(tmp_path)
    out = tmp_path / "out.zarr"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(a), str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "running\n", holder.stderr.read()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
        holder.stderr.close()
    lock = work_dir(out) / "lock"
    lock.write_text("node17.cluster 4242\n")  # (as that node's run wrote it)
    refused = _run(a, out, "now").communicate(timeout=120)[0]
    assert refused == (
        f"refused: {out}: a run on node17.cluster (process 4242) is writing it; if none is, "
        f"delete {lock}\n"
    )
    assert lock.read_text() == "node17.cluster 4242\n"  # (kept: the user says)
    assert len(list((work_dir(out) / "blocks").glob("*.npz"))) == 2 and not out.exists()
    lock.unlink()
    assert _run(a, out, "now").communicate(timeout=120)[0] == "done\n"
    assert same_partition(a_labels, zarr.open(str(out))[...])


#: as on Windows, which has neither
NO_PREAD = "import os\ndel os.pread, os.pwrite\n"

#: reading any file by its descriptor fails (a lock file locked by Windows's mandatory lock)
NO_READ = """
import os
def read(fd, n):
    raise PermissionError(13, "Permission denied")
os.read = read
"""


def test_the_lock_record_is_written_and_read_with_calls_every_system_has(tmp_path):
    """Windows has no os.pread/os.pwrite: every blockwise run failed there (AttributeError)
    once it held the lock. Without them (as there) a run holds the lock, a second is refused
    naming it, one that cannot read the record is refused without naming it, and the first
    killed, a run resumes it."""
    (a, a_labels), _ = _two_masks(tmp_path)
    out = tmp_path / "out.zarr"
    holder = subprocess.Popen(
        [sys.executable, "-c", NO_PREAD + HOLDER, str(a), str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "running\n", holder.stderr.read()
        lock = work_dir(out) / "lock"
        assert lock.read_text() == f"{socket.gethostname()} {holder.pid}\n"

        def refused(prefix):
            done = subprocess.run(
                [sys.executable, "-c", prefix + LATE, str(a), str(out), "now"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
            return done.stdout, done.stderr

        said, err = refused(NO_PREAD)
        assert said == (
            f"refused: {out}: another run (process {holder.pid}) is writing it; "
            "wait for it to end\n"
        ), err
        said, err = refused(NO_PREAD + NO_READ)
        assert said == f"refused: {out}: another run is writing it; wait for it to end\n", err
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
        holder.stderr.close()
    done = subprocess.run(
        [sys.executable, "-c", NO_PREAD + LATE, str(a), str(out), "now"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout == "done\n", done.stderr
    assert same_partition(a_labels, zarr.open(str(out))[...])


#: HOLDER whose run forks a process (as a fork-based process pool does its workers) once 2
#: blocks are done, which shares its open lock file; prints "running PID" (the forked one's)
FORKER = HOLDER.replace(
    'print("running", flush=True)',
    "import os\nchild = os.fork()\nif child == 0:\n    time.sleep(120)\n    os._exit(0)\n"
    'print(f"running {child}", flush=True)',
)


def test_a_lock_held_by_a_process_its_dead_run_forked_says_so(tmp_path):
    """A run killed while a process it forked lives: that process holds the lock (flock
    belongs to the open file, which fork shares). The refusal said the dead run's process
    "is writing it; wait for it to end"; it says that process has ended and another holds
    the lock, and how to find it."""
    (a, a_labels), _ = _two_masks(tmp_path)
    out = tmp_path / "out.zarr"
    holder = subprocess.Popen(
        [sys.executable, "-c", FORKER, str(a), str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = holder.stdout.readline()
    forked = int(line.split()[1]) if line.startswith("running ") else None
    try:
        assert forked is not None, holder.stderr.read()
        holder.kill()
        holder.wait()
        lock = work_dir(out) / "lock"
        said = _run(a, out, "now").communicate(timeout=120)[0]
        assert said == (
            f"refused: {out}: process {holder.pid}, whose run {lock} names, has ended, but "
            f"another process still holds the lock (one it started, a forked worker, say, or "
            f"a run of another container): wait for it or end it (`fuser {lock}` names it)\n"
        )
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
        holder.stderr.close()
        if forked is not None:
            os.kill(forked, signal.SIGKILL)
    for _ in range(200):  # (the forked process ended: its lock released)
        if _run(a, out, "now").communicate(timeout=120)[0] == "done\n":
            break
    assert same_partition(a_labels, zarr.open(str(out))[...])


#: a file system without locks (flock fails: ENOLCK)
NO_FLOCK = """
import errno, fcntl
def flock(fd, op):
    raise OSError(errno.ENOLCK, "No locks available")
fcntl.flock = flock
"""


def test_without_locks_a_record_whose_pid_is_no_number_is_no_run(tmp_path):
    """Where the lock cannot be locked the record alone says; one whose pid is no number
    (a damaged file) names no run: the run goes on. It was refused with "invalid literal
    for int() with base 10: 'abc'"."""
    (a, a_labels), _ = _two_masks(tmp_path)
    out = tmp_path / "out.zarr"
    work_dir(out).mkdir()
    (work_dir(out) / "lock").write_text(f"{socket.gethostname()} abc\n")
    done = subprocess.run(
        [sys.executable, "-c", NO_FLOCK + LATE, str(a), str(out), "now"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout == "done\n", done.stderr
    assert same_partition(a_labels, zarr.open(str(out))[...])
    assert not work_dir(out).exists()

"""The lock of a blockwise run's work folder (``.OUT.zarr.blockwise/lock``): a run holds an
advisory lock on it (flock) from its start to its end, released by the system when its process
dies, ``kill -9`` included. Whether a run is live is the lock's to say; the ``HOST PID`` the file
holds only names the holder in the refusal. A host+pid rule let a second writer through where a
live run's pid means nothing here (a container with the same hostname: another pid namespace,
where its pid can be this process's own, PID 1 in both, or none here), and a second run of the
same process (a napari panel's and a console's)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr
from scipy import ndimage

from tessella.engine.blockwise import BlockwiseSupport, FunctionSegmenter, label_blocks_steps
from tessella.engine.blockwise._store import work_dir
from tessella.engine.pipeline import run_steps
from tests.engine.test_blockwise import same_partition, write_zarr

ROOT = Path(__file__).resolve().parents[2]  # (where ``tests`` is imported from)

#: a blockwise run in another process, stopped after 2 of its 9 blocks, alive until killed
HOLDER = """
import sys, time
from tessella.engine.blockwise import BlockwiseSupport, FunctionSegmenter, label_blocks_steps
from tests.engine.test_blockwise_lock import components
steps = label_blocks_steps(sys.argv[1], sys.argv[2], FunctionSegmenter(components), block=32,
                           halo=2, support=BlockwiseSupport(0, "touch"))
done = 0
for progress in steps:
    done += progress.stage == "segment" and progress.region is not None
    if done == 2:
        break
print("running", flush=True)
time.sleep(120)
"""


def components(image, axes, origin):
    return ndimage.label(image > 0)[0]


def _steps(source, out):
    support = BlockwiseSupport(0, "touch")
    return label_blocks_steps(
        source, out, FunctionSegmenter(components), block=32, halo=2, support=support
    )


@pytest.fixture
def blobs(tmp_path):
    """A 96 x 96 mask of blobs in chunks of 32 (9 blocks of 32) and its components."""
    rng = np.random.default_rng(1)
    mask = (ndimage.gaussian_filter(rng.normal(size=(96, 96)), 2) > 0.1).astype(np.uint8)
    return write_zarr(tmp_path / "blobs.zarr", mask, (32, 32)), ndimage.label(mask)[0]


@pytest.fixture
def running(blobs, tmp_path):
    """A blockwise run of ``blobs`` into ``live.zarr`` in another process, 2 blocks done and
    alive (it holds the work folder's lock): (that process, the output)."""
    source, _ = blobs
    out = tmp_path / "live.zarr"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(source), str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = holder.stdout.readline()
        assert line == "running\n", holder.stderr.read() if holder.poll() is not None else line
        yield holder, out
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
        holder.stderr.close()


def test_a_live_run_in_another_process_refuses_a_second_and_a_killed_one_is_taken_over(
    blobs, running
):
    source, expected = blobs
    holder, out = running
    assert (work_dir(out) / "lock").read_text() == f"{socket.gethostname()} {holder.pid}\n"
    with pytest.raises(ValueError) as info:
        run_steps(_steps(source, out))
    message = str(info.value)
    assert message == (
        f"{out}: another run (process {holder.pid}) is writing it; wait for it to end"
    )
    assert len(list((work_dir(out) / "blocks").glob("*.npz"))) == 2  # its blocks untouched
    os.kill(holder.pid, signal.SIGKILL)  # killed: the system releases its lock
    holder.wait()
    assert (work_dir(out) / "lock").exists()  # (left by the killed run, naming it)
    result = run_steps(_steps(source, out))  # taken over, its 2 blocks resumed
    assert result.resumed == 2 and result.n_blocks == 9
    assert same_partition(expected, zarr.open(str(out))[...])
    assert not work_dir(out).exists()


@pytest.mark.parametrize("recorded", ["this process", "no process here"])
def test_a_live_run_is_refused_whatever_pid_its_record_names(blobs, running, recorded):
    """A run in another container with this hostname records a pid of its own namespace:
    this process's own (PID 1 in both, say) or one that runs nothing here. The host+pid rule
    took either for a run of this process or a dead one, and went ahead, writing into the
    live run's work folder; the lock refuses it, naming what the record says."""
    source, _ = blobs
    _, out = running
    if recorded == "this process":
        pid = os.getpid()
    else:
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        pid = gone.pid
    lock = work_dir(out) / "lock"
    lock.write_text(f"{socket.gethostname()} {pid}\n")  # (still locked)
    with pytest.raises(ValueError) as info:
        run_steps(_steps(source, out))
    if recorded == "this process":
        assert (
            str(info.value)
            == f"{out}: another run (process {pid}) is writing it; wait for it to end"
        )
    else:  # (which also says the lock is held by another process than the one it names)
        assert str(info.value).startswith(
            f"{out}: process {pid}, whose run {lock} names, has ended, but another process "
            "still holds the lock (one it started, a forked worker, say, or a run of another "
            "container)"
        )
    assert len(list((work_dir(out) / "blocks").glob("*.npz"))) == 2
    assert not out.exists()


def test_a_second_run_of_the_same_process_is_refused_until_the_first_ends(blobs, tmp_path):
    """Two runs into one output in one process (a napari panel's and a console's): the second
    is refused while the first holds the lock (flock is per open file), and resumes it once
    the first is cancelled."""
    source, expected = blobs
    out = tmp_path / "twice.zarr"
    first = _steps(source, out)
    done = 0
    for progress in first:
        done += progress.stage == "segment" and progress.region is not None
        if done == 3:
            break
    with pytest.raises(ValueError) as info:
        run_steps(_steps(source, out))
    assert str(info.value) == (
        f"{out}: a run of this process is writing it (an unfinished blockwise generator: "
        "close() it, or let it end)"
    )
    assert len(list((work_dir(out) / "blocks").glob("*.npz"))) == 3 and not out.exists()
    first.close()  # cancelled: the lock is released (its file removed), the blocks kept
    assert not (work_dir(out) / "lock").exists()
    result = run_steps(_steps(source, out))
    assert result.resumed == 3
    assert same_partition(expected, zarr.open(str(out))[...])

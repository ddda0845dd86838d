"""`tessella segment --blockwise` where it used to fall short: an OME-Zarr that keeps its
singleton axes, and Ctrl-C while the worker processes start."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.engine import metrics
from tessella.engine.blockwise import work_dir
from tessella.engine.io import read_image
from tests.conftest import write_ome_zarr


def test_blockwise_on_a_tczyx_ome_zarr_of_one_image_writes_what_in_memory_does(
    tmp_path, nuclei_sample, capsys
):
    """A 2D image stored (1, 1, 1, Y, X) with axes t, c, z, y, x: in memory it is read as YX;
    blockwise did not drop the singleton axes ('tile_shape ... must have 5 axes'). Now both
    write YX labels with the image's pixel size, the same nuclei, and the same recipe axes."""
    image = nuclei_sample[0][:256, :256]
    source = write_ome_zarr(
        tmp_path / "in.ome.zarr", image[None, None, None], "tczyx", [1, 1, 1, 0.5, 0.5],
        (1, 1, 1, 128, 128),
    )  # fmt: skip
    base = ["segment", str(source), "--model", "nuclei2d", "--device", "cpu", "-q"]
    assert main([*base, "-o", str(tmp_path / "memory.zarr")]) == 0
    blockwise = ["--blockwise", "--workers", "0", "--block", "128"]
    assert main([*base, "-o", str(tmp_path / "blocks.zarr"), *blockwise]) == 0, (
        capsys.readouterr().err
    )
    memory, blocks = read_image(tmp_path / "memory.zarr"), read_image(tmp_path / "blocks.zarr")
    assert memory.axes == blocks.axes == "YX"
    assert memory.data.shape == blocks.data.shape == image.shape
    assert memory.pixel_size == blocks.pixel_size == {"Y": 0.5, "X": 0.5}
    expected = np.asarray(memory.data)
    assert expected.max() > 10
    assert metrics.matching(expected, np.asarray(blocks.data), 0.5).ap >= 0.99
    recipes = [
        json.loads((tmp_path / f"{n}.recipe.json").read_text()) for n in ("memory", "blocks")
    ]
    assert recipes[0]["axes"] == recipes[1]["axes"] == "YX"


# Ctrl-C while the workers start: the run is held at the start (a marker file says when)
# until the test has sent the signal (a second file says so; at most a minute), so that the
# signal comes then however late the test process is scheduled. (With a fixed hold of 2 or
# 3 s, a signal 4 s late came once the scan ran: the run stopped as a later Ctrl-C stops it,
# keeping the scan and saying so, and the test failed.)
HOLD = """
def hold():
    marker.touch()
    deadline = time.monotonic() + 60
    while not sent.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
"""

SLOW_CLUSTER = (
    """
import pathlib, sys, time
import distributed
start = distributed.LocalCluster.__init__
marker, sent = pathlib.Path(sys.argv.pop(1)), pathlib.Path(sys.argv.pop(1))
"""
    + HOLD
    + """
def slow_start(self, *args, **kwargs):
    hold()
    start(self, *args, **kwargs)
distributed.LocalCluster.__init__ = slow_start
"""
)

SLOW_POOL = (
    """
import concurrent.futures, importlib.util, pathlib, sys, time
find_spec = importlib.util.find_spec  # as where dask.distributed is not installed
importlib.util.find_spec = lambda name, *a: None if name == "distributed" else find_spec(name, *a)
spawn = concurrent.futures.ProcessPoolExecutor._spawn_process
marker, sent = pathlib.Path(sys.argv.pop(1)), pathlib.Path(sys.argv.pop(1))
"""
    + HOLD
    + """
def slow_spawn(self):
    spawn(self)
    if not marker.exists():  # the first worker is starting
        hold()
concurrent.futures.ProcessPoolExecutor._spawn_process = slow_spawn
"""
)

RUN = "from tessella.cli import main; sys.exit(main())\n"


def _session_processes(sid: int) -> list[str]:
    found = subprocess.run(
        ["ps", "-o", "pid=,args=", "-s", str(sid)], capture_output=True, text=True
    ).stdout
    return [line for line in found.splitlines() if line.strip()]


@pytest.mark.parametrize("patch", [SLOW_CLUSTER, SLOW_POOL], ids=["dask", "process-pool"])
def test_ctrl_c_while_the_workers_start_is_an_interrupt_like_later(tmp_path, nuclei_sample, patch):
    """Ctrl-C reaches the whole process group. While the workers started it was ignored
    (dask: the run went on to the end) or reached a worker that had not yet learnt to ignore
    it (process pool: its traceback, and the run's state left behind). Now it is held until
    they have started, then the run stops as a later Ctrl-C stops it: one line, exit 130,
    nothing written, no process left."""
    source = tmp_path / "in.zarr"
    image = nuclei_sample[0]
    zarr.create_array(str(source), shape=image.shape, dtype=image.dtype, chunks=(256, 256))[...] = (
        image
    )
    out, marker, sent = tmp_path / "out.zarr", tmp_path / "starting", tmp_path / "interrupted"
    command = [sys.executable, "-c", patch + RUN, str(marker), str(sent)]
    command += ["segment", str(source), "-o", str(out), "--blockwise", "--workers", "1"]
    command += ["--block", "256", "--device", "cpu"]
    process = subprocess.Popen(  # as a terminal starts it: its own group, Ctrl-C heard
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        env=os.environ | {"OMP_NUM_THREADS": "1"},
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), process.communicate()[1]
        os.killpg(process.pid, signal.SIGINT)
        sent.touch()  # (the start held meanwhile goes on)
        stdout, stderr = process.communicate(timeout=120)
        deadline = time.monotonic() + 30  # the workers are being shut down
        while _session_processes(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = _session_processes(process.pid)
    finally:
        if process.poll() is None or _session_processes(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
    assert (process.returncode, stderr.strip(), stdout) == (
        130,
        "tessella segment: interrupted",
        "",
    )
    assert not out.exists() and not work_dir(out).exists()
    assert not (tmp_path / "out.recipe.json").exists()
    assert not left


def test_a_blockwise_recipe_replays_blockwise_or_says_why_not(tmp_path, nuclei_sample, capsys):
    """`segment --recipe R` where R came from a blockwise run replays it blockwise with R's
    blocks and halo (it ran in memory without a word: an image that needed blocks may not fit
    in memory); a TIFF input, which blockwise cannot read, gets a warning, even with -q, and
    runs in memory."""
    image = nuclei_sample[0][:256, :256]
    stored = zarr.create_array(
        str(tmp_path / "in.zarr"), shape=image.shape, dtype=image.dtype, chunks=(128, 128)
    )
    stored[...] = image
    recipe = tmp_path / "blocks.recipe.json"
    blockwise = {"block": [128, 128], "halo": [96, 96], "stitch": "overlap"}
    recipe.write_text(json.dumps({"model": "nuclei2d", "device": "cpu", "blockwise": blockwise}))
    base = ["segment", str(tmp_path / "in.zarr"), "--recipe", str(recipe), "--device", "cpu"]

    assert main([*base, "-o", str(tmp_path / "replay.zarr"), "--workers", "0"]) == 0
    said = capsys.readouterr()
    assert "replaying it blockwise" in said.err and "(4 blocks)" in said.out
    assert json.loads((tmp_path / "replay.recipe.json").read_text())["blockwise"] == blockwise

    tifffile.imwrite(tmp_path / "in.tif", image[:128, :128])
    base[1] = str(tmp_path / "in.tif")
    assert main([*base, "-o", str(tmp_path / "memory.tif"), "-q"]) == 0
    said = capsys.readouterr().err
    assert "warning:" in said and "run blockwise (blocks of 128x128 px)" in said
    assert "reads one zarr input" in said and "segmenting in memory" in said
    assert "blockwise" not in json.loads((tmp_path / "memory.recipe.json").read_text())


def test_a_resumed_run_says_so_and_its_rate_leaves_out_the_resumed_blocks(
    tmp_path, nuclei_sample, tiny_model_dir, capsys, monkeypatch
):
    """A run stopped (Ctrl-C) after 2 of its 4 blocks, rerun: it said nothing of resuming
    (only '2 resumed' at the very end), and its bar counted the resumed blocks as done at
    once ('2/4 [00:00<00:00, 762600.73block/s]'). Now one line says what is resumed, and
    the bar's rate counts only this run's blocks."""
    import re

    import tessella.engine.blockwise as blockwise

    image = nuclei_sample[0][:128, :128]
    source = tmp_path / "in.zarr"
    zarr.create_array(str(source), shape=image.shape, dtype=image.dtype, chunks=(64, 64))[...] = (
        image
    )
    out = tmp_path / "out.zarr"
    steps = blockwise.segment_blockwise_steps

    def stopped_after_two(*args, **kwargs):
        run = steps(*args, **kwargs)
        for progress in run:
            yield progress
            if progress.stage == "segment" and progress.done == 2:
                run.close()
                raise KeyboardInterrupt

    command = ["segment", str(source), "-o", str(out), "--model", str(tiny_model_dir)]
    command += ["--blockwise", "--workers", "0", "--block", "64", "--no-tta"]
    monkeypatch.setattr(blockwise, "segment_blockwise_steps", stopped_after_two)
    assert main(command) == 130
    assert work_dir(out).exists()
    monkeypatch.setattr(blockwise, "segment_blockwise_steps", steps)
    capsys.readouterr()

    assert main(command) == 0
    captured = capsys.readouterr()
    assert f"resuming: 2 of 4 blocks already done in {work_dir(out)}\n" in captured.err
    assert "(4 blocks, 2 resumed)" in captured.out
    segment = [f for f in captured.err.split("\r") if "in.zarr: segment:" in f]
    # no rate before the bar has timed a block (it showed "2/4 [00:00<?, ?block/s]")
    assert re.search(r"2/4 \[00:0\d\]$", segment[0]), segment[0]
    assert "?" not in captured.err
    # blocks a second, as the bar says it ("4.20block/s", or on a busy machine "1.50s/block")
    rates = [float(r) for f in segment for r in re.findall(r"([0-9.]+)block/s", f)]
    rates += [1 / max(float(r), 1e-9) for f in segment for r in re.findall(r"([0-9.]+)s/block", f)]
    assert rates and all(rate < 1000 for rate in rates), rates  # a block takes > 1 ms
    assert "tile/s" not in captured.err


def test_a_cluster_already_on_dask_s_port_does_not_print_a_warning(tmp_path, nuclei_sample, capsys):
    """The workers' scheduler has no dashboard, but dask still served its HTTP routes on port
    8787: with another dask cluster (or two blockwise runs) on the machine, every run printed
    'Port 8787 is already in use. Perhaps you already have a cluster running?' (CI saw it
    break a test's one-line output). Its server now takes a free port: the run prints only
    its own lines."""
    source = tmp_path / "in.zarr"
    image = nuclei_sample[0][:256, :256]
    zarr.create_array(str(source), shape=image.shape, dtype=image.dtype, chunks=(128, 128))[...] = (
        image
    )
    holder = socket.socket()
    with contextlib.suppress(OSError):  # taken already: the case this test is about
        holder.bind(("", 8787))
        holder.listen()
    with holder:
        command = ["segment", str(source), "-o", str(tmp_path / "out.zarr"), "--blockwise"]
        assert main([*command, "--workers", "1", "--block", "128", "--device", "cpu", "-q"]) == 0
    err = capsys.readouterr().err
    assert "8787" not in err and "already in use" not in err, err
    assert np.asarray(read_image(tmp_path / "out.zarr").data).max() > 3

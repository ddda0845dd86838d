"""`tessella segment` ended by SIGTERM (``kill``, ``timeout``, a batch system's time limit)
stops as Ctrl-C does: one line, exit 143, no partial output, the labels that ``--overwrite``
was replacing put back, ``--blockwise`` workers shut down (SIGTERM sent to the whole process
group, as ``timeout`` sends it, included) and its finished blocks kept to resume. It used to
die at once: a half-written staging folder, the previous labels moved aside, workers left.

Each run is a real subprocess on the shipped nuclei image; a hook in it says (a marker file)
when the run has reached the step to cut, and holds it there until the signal comes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from tessella.engine.blockwise import work_dir
from tessella.engine.io import read_image, write_labels, write_zarr_labels

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals a POSIX subprocess")

# Holds the run at one step (sys.argv[2]: "predict:NAME" the first tile of image NAME,
# "write" the new labels written to the staging folder, "renamed" the new outputs renamed
# into place, "blocks" a block segmented) after touching the marker file sys.argv[1], until
# the test has sent its signal (it then makes the file MARKER.sent) or for sys.argv[3]
# seconds at most. (A run whose SIGTERM is ignored goes on once the signal was sent, however
# late the test process sends it: held a fixed second, a signal later than that found the
# run finished, and the test passed without testing anything.)
HOOK = """
import pathlib, sys, time
marker, where, hold = pathlib.Path(sys.argv.pop(1)), sys.argv.pop(1), float(sys.argv.pop(1))
sent = marker.with_name(marker.name + ".sent")

def pause():
    marker.touch()
    deadline = time.monotonic() + hold
    while not sent.exists() and time.monotonic() < deadline:
        time.sleep(0.02)

if where.startswith("predict:"):
    from tessella.engine import pipeline
    real_steps = pipeline.segment_steps
    def steps(*args, **kwargs):
        inner, first = real_steps(*args, **kwargs), True
        while True:
            try:
                progress = next(inner)
            except StopIteration as stop:
                return stop.value
            if first and kwargs.get("name", "").endswith(where[len("predict:"):]):
                pause()
            first = False
            yield progress
    pipeline.segment_steps = steps
elif where == "write":
    from tessella.engine import io
    def held(real):
        def write(*args, **kwargs):
            done = real(*args, **kwargs)
            pause()
            return done
        return write
    io.write_labels, io.write_zarr_labels = held(io.write_labels), held(io.write_zarr_labels)
elif where == "renamed":
    from tessella.cli import _write
    real_fsync = _write._fsync
    def fsync(path):
        real_fsync(path)
        if path.is_dir() and path.name == "out":  # the folder, after the renames
            pause()
    _write._fsync = fsync
elif where == "blocks":
    from tessella.engine.blockwise import _driver
    real_map = _driver._map
    def map_(task, run, indices, executor, stage, *rest):
        for progress in real_map(task, run, indices, executor, stage, *rest):
            yield progress
            if stage == "segment" and progress.region is not None:
                pause()
    _driver._map = map_
"""

NO_DASK = """
import importlib.util
find_spec = importlib.util.find_spec  # as where dask.distributed is not installed
importlib.util.find_spec = lambda name, *a: None if name == "distributed" else find_spec(name, *a)
"""

RUN = "from tessella.cli import main; sys.exit(main())\n"
OLD = 7  # the value of every pixel of the previous labels


def _start(tmp_path: Path, where: str, args: list[str], hold=60.0, prelude="", **popen):
    marker = tmp_path / "reached"
    command = [sys.executable, "-c", prelude + HOOK + RUN, str(marker), where, str(hold)]
    process = subprocess.Popen(
        [*command, "segment", *args, "--device", "cpu", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: `timeout` signals all of it
        env=os.environ | {"OMP_NUM_THREADS": "1"},
        **popen,
    )
    deadline = time.monotonic() + 180
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not marker.exists():
        _kill_session(process)
        stdout, stderr = process.communicate()
        pytest.fail(f"the run never reached {where}: {stdout}{stderr}")
    process.sent = marker.with_name(marker.name + ".sent")  # (made by _terminate)
    return process


def _session(sid: int) -> list[str]:
    found = subprocess.run(
        ["ps", "-o", "pid=,args=", "-s", str(sid)], capture_output=True, text=True
    ).stdout
    return [line for line in found.splitlines() if line.strip()]


def _kill_session(process) -> None:
    if process.poll() is None or _session(process.pid):
        os.killpg(process.pid, signal.SIGKILL)


def _terminate(process, group: bool = False) -> tuple[int, str, str, list[str]]:
    """SIGTERM to the run (or to its whole process group, as `timeout` and batch systems
    send it); its exit code, output, and the processes of its session left after it."""
    try:
        if group:
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.send_signal(signal.SIGTERM)
        process.sent.touch()  # (a run held at its step goes on: one that ignores SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
        deadline = time.monotonic() + 30  # workers being shut down
        while _session(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = _session(process.pid)
    finally:
        _kill_session(process)
    return process.returncode, stdout, stderr.strip(), left


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _previous(target: Path) -> bytes:
    """Write the previous labels (every pixel OLD) and recipe of ``target``; their recipe."""
    labels = np.full((128, 128), OLD, np.uint16)
    (write_zarr_labels if target.suffix == ".zarr" else write_labels)(target, labels)
    recipe = target.with_name(target.name.rsplit(".", 1)[0] + ".recipe.json")
    recipe.write_text(json.dumps({"run": "previous"}))
    return recipe.read_bytes()


def _crop(nuclei_sample, ys=slice(0, 128), xs=slice(0, 128)) -> np.ndarray:
    return np.ascontiguousarray(nuclei_sample[0][ys, xs])


def _zarr(path: Path, image: np.ndarray) -> np.ndarray:
    zarr.create_array(str(path), shape=image.shape, dtype=image.dtype, chunks=(128, 128))
    zarr.open_array(str(path), mode="r+")[...] = image
    return image


def test_sigterm_during_a_folder_run_keeps_the_images_done_and_writes_no_other(
    tmp_path, nuclei_sample, tiny_model_dir
):
    """SIGTERM while the second of three images is predicted: the first image's labels and
    recipe are whole, nothing of the second or third is written, exit 143, and a line that
    says how to go on (--skip-existing) before the one line."""
    images, out = tmp_path / "images", tmp_path / "out"
    images.mkdir()
    for name, xs in (("a", slice(0, 128)), ("b", slice(128, 256)), ("c", slice(256, 384))):
        tifffile.imwrite(images / f"{name}.tif", _crop(nuclei_sample, xs=xs))
    args = [str(images), "-o", str(out), "--model", str(tiny_model_dir)]
    process = _start(tmp_path, "predict:b.tif", args)
    code, stdout, stderr, _ = _terminate(process)
    hint = "1 of 3 images written; rerun with --skip-existing to segment the others"
    assert (code, stderr, stdout) == (143, f"{hint}\ntessella segment: terminated", "")
    assert sorted(p.name for p in out.iterdir()) == ["a.recipe.json", "a.tif"]
    assert read_image(out / "a.tif").data.shape == (128, 128)
    assert json.loads((out / "a.recipe.json").read_text())["input"] == str(images / "a.tif")


@pytest.mark.parametrize(
    "suffix, where", [(".tif", "write"), (".tif", "renamed"), (".zarr", "renamed")]
)
def test_sigterm_while_overwriting_puts_the_previous_labels_back(
    tmp_path, nuclei_sample, tiny_model_dir, suffix, where
):
    """SIGTERM with the new labels half staged, or already renamed into place (the zarr
    folder's previous labels moved aside): the previous labels and recipe are back as they
    were and no staging folder is left (a kill would leave it for the next run)."""
    if suffix == ".zarr":
        source = tmp_path / "in.zarr"
        _zarr(source, _crop(nuclei_sample))
    else:
        source = tmp_path / "in.tif"
        tifffile.imwrite(source, _crop(nuclei_sample))
    out = tmp_path / "out"
    out.mkdir()
    target = out / f"x{suffix}"
    recipe = _previous(target)
    args = [str(source), "-o", str(target), "--model", str(tiny_model_dir), "--overwrite"]
    process = _start(tmp_path, where, args)
    if where == "renamed":  # the new outputs are in place: the run is about to finish
        assert not np.all(np.asarray(read_image(target).data) == OLD)
    code, stdout, stderr, _ = _terminate(process)
    assert (code, stderr, stdout) == (143, "tessella segment: terminated", "")
    assert np.all(np.asarray(read_image(target).data) == OLD)
    assert (out / "x.recipe.json").read_bytes() == recipe
    assert sorted(p.name for p in out.iterdir()) == sorted([target.name, "x.recipe.json"])


@pytest.mark.parametrize(
    "workers, prelude, group",
    [
        ("1", "", True),  # dask: `timeout`, a batch system (the workers get it too)
        ("1", NO_DASK, True),  # a process pool, where dask is not installed
        ("0", "", False),  # `kill`: blocks in this process
    ],
    ids=["dask", "process-pool", "in-process"],
)
def test_sigterm_stops_a_blockwise_run_and_its_workers(
    tmp_path, nuclei_sample, workers, prelude, group
):
    """SIGTERM while a ``--blockwise --overwrite`` run segments its blocks: exit 143, one
    line, the previous labels and recipe untouched, the finished blocks kept for the next
    run to resume (as Ctrl-C keeps them), and no worker process left behind. (SIGTERM while
    the workers start: test_a_sigterm_while_workers_start_is_held_then_raised.)"""
    source = tmp_path / "in.zarr"
    _zarr(source, nuclei_sample[0][:256, :384])
    target = tmp_path / "out.zarr"
    recipe = _previous(target)
    args = [str(source), "-o", str(target), "--blockwise", "--block", "128"]
    args += ["--workers", workers, "--overwrite"]
    process = _start(tmp_path, "blocks", args, prelude=prelude)
    code, stdout, stderr, left = _terminate(process, group=group)
    assert (code, stderr, stdout) == (143, "tessella segment: terminated", "")
    assert not left
    assert np.all(np.asarray(read_image(target).data) == OLD)
    assert (tmp_path / "out.recipe.json").read_bytes() == recipe
    work = work_dir(target)  # resumable, as after Ctrl-C: the next run redoes no finished block
    assert (work / "plan.json").exists() and list((work / "blocks").glob("*.npz"))
    assert not (work / "lock").exists()


def test_an_ignored_sigterm_stays_ignored(tmp_path, nuclei_sample, tiny_model_dir):
    """A run started with SIGTERM ignored (SIG_IGN inherited) is not stopped by one."""
    source, target = tmp_path / "in.tif", tmp_path / "x.tif"
    tifffile.imwrite(source, _crop(nuclei_sample))
    args = [str(source), "-o", str(target), "--model", str(tiny_model_dir)]
    process = _start(
        tmp_path,
        "predict:in.tif",
        args,
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN),
    )
    code, _stdout, stderr, _ = _terminate(process)
    assert (code, stderr) == (0, "")
    assert read_image(target).data.shape == (128, 128)


def test_a_sigterm_while_workers_start_is_held_then_raised(monkeypatch):
    """The CLI's SIGTERM handler is held while worker processes start (they must not die of
    it half started) and run after; an ignored SIGTERM stays ignored."""
    from tessella import cli
    from tessella.engine.blockwise._run import _hold_ctrl_c

    held = False
    with cli._sigterm_as_interrupt():
        with pytest.raises(cli.Terminated):
            with _hold_ctrl_c():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                held = True  # nothing was raised here
    assert held
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with cli._sigterm_as_interrupt(), _hold_ctrl_c():
            os.kill(os.getpid(), signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_stopped_as_the_result_replaces_them_the_previous_labels_stay_whole(
    tmp_path, nuclei_sample, monkeypatch, capsys
):
    """Ctrl-C or SIGTERM when ``--blockwise --overwrite`` commits its result: the previous
    labels were deleted in place first (a stop meanwhile left them half deleted); now they
    are moved aside in one rename and put back, and the next run commits the result kept."""
    import shutil

    from tessella import cli
    from tessella.engine.blockwise import _driver

    source = tmp_path / "in.zarr"
    image = _zarr(source, _crop(nuclei_sample, xs=slice(0, 256)))
    target = tmp_path / "out.zarr"
    _previous(target)
    real_rmtree, real_replace = shutil.rmtree, os.replace

    def rmtree(path, *args, **kwargs):
        if Path(path) == target:  # stopped half way through deleting them
            next(p for p in Path(path).rglob("*") if p.is_file()).unlink()
            raise cli.Terminated
        return real_rmtree(path, *args, **kwargs)

    def replace(source, destination):
        if Path(source).name == "result.zarr":  # stopped at the commit
            raise cli.Terminated
        return real_replace(source, destination)

    monkeypatch.setattr(_driver.shutil, "rmtree", rmtree)
    monkeypatch.setattr(_driver.os, "replace", replace)
    args = ["segment", str(source), "-o", str(target), "--blockwise", "--workers", "0"]
    args += ["--block", "128", "--device", "cpu", "-q", "--overwrite"]
    assert cli.main(args) == 143
    assert capsys.readouterr().err.strip() == "tessella segment: terminated"
    assert np.all(np.asarray(read_image(target).data) == OLD)
    monkeypatch.undo()
    assert cli.main(args) == 0, capsys.readouterr().err
    assert not work_dir(target).exists()
    labels = np.asarray(read_image(target).data)
    assert labels.shape == image.shape and labels.max() > 5

"""What a ``tessella convert`` killed with -9 (the OOM killer, a job's time limit) left beside
OUT.zarr is undone by the next conversion to it, in one line: its hidden staged copy is
removed, and where the kill came between the two renames that replace OUT.zarr (so that none
is left), the previous OUT.zarr is put back. A conversion still running keeps its folders.
Before: the hidden full-size copy stayed forever, and a lone ``.old`` was never restored."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import zarr

from tessella.cli import main
from tessella.engine.blockwise import to_chunked_zarr
from tessella.engine.io import read_image


def _host() -> str:
    """The host as the folder names spell it (its name, other characters than letters,
    digits and dots as _)."""
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def _gone_pid() -> int:
    """The pid of a process that has exited."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    return int(done.stdout)


def _leftover(out: Path, pid: int, kind: str) -> Path:
    folder = out.parent / f".{out.name}.convert-{_host()}-{pid}-0a1b2c.{kind}"
    folder.mkdir()
    return folder


def _zarr(path: Path, image: np.ndarray) -> Path:
    array = zarr.create_array(str(path), shape=image.shape, dtype=image.dtype, chunks=(64, 64))
    array[...] = image
    return path


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_killed_conversions_staged_copy_is_removed_by_the_next(tmp_path, nuclei_sample, capsys):
    image = np.ascontiguousarray(nuclei_sample[0][:128, :128])
    source = _zarr(tmp_path / "in.zarr", image)
    out = tmp_path / "out.zarr"
    to_chunked_zarr(source, out, 64)
    dead = _leftover(out, _gone_pid(), "tmp")  # a killed run's half-written copy
    _zarr(dead / "partial.zarr", image)
    running = _leftover(out, os.getppid(), "tmp")  # a live process's: not touched
    assert main(["convert", str(source), str(out), "--chunk", "32", "--overwrite", "-q"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if dead.name in line]
    assert len(said) == 1 and "killed" in said[0] and "removed" in said[0], said
    assert _hidden(tmp_path) == [running.name]
    np.testing.assert_array_equal(np.asarray(read_image(out).data), image)


def test_a_kill_between_the_renames_gets_the_previous_out_back(tmp_path, nuclei_sample, capsys):
    image = np.ascontiguousarray(nuclei_sample[0][:128, :128])
    source = _zarr(tmp_path / "in.zarr", image)
    out = tmp_path / "out.zarr"
    pid = _gone_pid()
    aside = _leftover(out, pid, "old")  # OUT renamed aside, the staged one not yet in place
    to_chunked_zarr(_zarr(tmp_path / "earlier.zarr", image[::-1].copy()), aside / out.name, 64)
    staged = _leftover(out, pid, "tmp")
    to_chunked_zarr(source, staged / "whole.zarr", 64)
    assert not out.exists()
    # without --overwrite: the previous OUT is back, so it is not replaced
    assert main(["convert", str(source), str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert f"put {out} back from {aside.name}" in err and staged.name in err, err
    assert f"{out} exists; pass --overwrite" in err
    assert _hidden(tmp_path) == []
    np.testing.assert_array_equal(np.asarray(read_image(out).data), image[::-1])
    assert main(["convert", str(source), str(out), "--overwrite", "-q"]) == 0
    np.testing.assert_array_equal(np.asarray(read_image(out).data), image)
    assert _hidden(tmp_path) == []

"""``tessella convert`` (``to_chunked_zarr``) writes its zarr whole or not at all: a conversion
that fails part-way (a damaged chunk of the input) or is interrupted (Ctrl-C) leaves no
half-written OUT.zarr that looks valid, and the OUT.zarr that ``--overwrite`` was replacing
stays as it was. It used to write straight into OUT.zarr (with ``--overwrite``: after
deleting the previous one)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from tessella.cli import main
from tessella.engine.blockwise import to_chunked_zarr
from tessella.engine.io import read_image


def _input_zarr(path: Path, image: np.ndarray) -> Path:
    array = zarr.create_array(str(path), shape=image.shape, dtype=image.dtype, chunks=(128, 128))
    array[...] = image
    return path


def _previous(out: Path, image: np.ndarray) -> np.ndarray:
    """A good OUT.zarr from an earlier conversion (of other pixels); its pixels."""
    source = _input_zarr(out.with_name("earlier.zarr"), image[::-1].copy())
    to_chunked_zarr(source, out, 128)
    return np.asarray(zarr.open_array(str(out), mode="r"))


def _damage_a_chunk(store: Path) -> None:
    """Make one chunk file of ``store`` undecodable (the sixth of 16), as a cut copy does."""
    chunks = sorted(p for p in (store / "c").rglob("*") if p.is_file())
    assert len(chunks) == 16
    chunks[5].write_bytes(b"not a zstd frame" * 4)


def _left_beside(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("before", [False, True], ids=["new", "overwrite"])
def test_a_conversion_failing_part_way_leaves_out_as_it_was(
    tmp_path, nuclei_sample, capsys, before
):
    """A damaged chunk of the input fails the conversion after other chunks were written:
    one line naming the input and the chunk's error, exit 1, no OUT.zarr (or the previous
    one, --overwrite, with its pixels and attributes), and nothing hidden left beside it."""
    image = np.ascontiguousarray(nuclei_sample[0][:512, :512])
    source = _input_zarr(tmp_path / "in.zarr", image)
    _damage_a_chunk(source)
    out = tmp_path / "out.zarr"
    kept = _previous(out, image) if before else None
    args = ["convert", str(source), str(out), "--chunk", "128", "-q"]
    code = main(args + (["--overwrite"] if before else []))
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert err.startswith(f"tessella convert: error: {source}: cannot be converted")
    assert "Zstd" in err and err.endswith("kept as it was" if before else "not written")
    assert _left_beside(tmp_path) == []
    if before:
        assert np.array_equal(np.asarray(zarr.open_array(str(out), mode="r")), kept)
        assert read_image(out).axes == "YX"
    else:
        assert not out.exists()


# Touches sys.argv[1] once the first chunk is written, then holds each chunk's write until
# sys.argv[2] exists (the test makes it once it has sent Ctrl-C; at most a minute) and slows
# it to 0.3 s after, so that the conversion is interrupted part-way. (With the 0.3 s alone,
# the 16 chunks were written about 2.4 s after the marker: a test process scheduled 3 s late
# on a busy machine sent its Ctrl-C to a finished conversion and failed.)
HOOK = """
import pathlib, sys, time
import dask.array.core as core
marker, sent = pathlib.Path(sys.argv.pop(1)), pathlib.Path(sys.argv.pop(1))
real = core.load_store_chunk
def slow(*args, **kwargs):
    done = real(*args, **kwargs)
    marker.touch()
    deadline = time.monotonic() + 60
    while not sent.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    return done
core.load_store_chunk = slow
from tessella.cli import main
sys.exit(main())
"""


@pytest.mark.skipif(os.name != "posix", reason="signals a POSIX subprocess")
def test_ctrl_c_during_an_overwriting_conversion_keeps_the_previous_out(tmp_path, nuclei_sample):
    """SIGINT (Ctrl-C) while the chunks are written: exit 130 with one line, the previous
    OUT.zarr whole, and the staged folder removed (its chunk writes still running are
    waited for, so none makes it again)."""
    image = np.ascontiguousarray(nuclei_sample[0][:512, :512])
    source = _input_zarr(tmp_path / "in.zarr", image)
    out = tmp_path / "out.zarr"
    kept = _previous(out, image)
    marker, sent = tmp_path / "writing", tmp_path / "interrupted"
    process = subprocess.Popen(
        [sys.executable, "-c", HOOK, str(marker), str(sent), "convert", str(source), str(out)]
        + ["--chunk", "128", "--overwrite", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as from a terminal: pytest-xdist's workers ignore SIGINT, which a child inherits
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.exists(), process.communicate()
        process.send_signal(signal.SIGINT)
        sent.touch()  # (the chunk writes held meanwhile go on)
        _stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert (process.returncode, stderr.strip()) == (130, "tessella convert: interrupted")
    assert np.array_equal(np.asarray(zarr.open_array(str(out), mode="r")), kept)
    assert _left_beside(tmp_path) == []


def test_overwrite_replaces_out_only_once_the_conversion_is_whole(tmp_path, nuclei_sample):
    """The successful --overwrite: OUT.zarr holds the new pixels in the new chunks, with its
    attributes, and no folder is left beside it."""
    image = np.ascontiguousarray(nuclei_sample[0][:512, :512])
    source = _input_zarr(tmp_path / "in.zarr", image)
    out = tmp_path / "out.zarr"
    _previous(out, image)
    assert main(["convert", str(source), str(out), "--chunk", "256", "--overwrite", "-q"]) == 0
    written = zarr.open_array(str(out), mode="r")
    assert written.chunks == (256, 256) and np.array_equal(np.asarray(written), image)
    assert written.attrs["tessella_axes"] == "YX"
    assert _left_beside(tmp_path) == []


def test_a_full_disk_part_way_names_out_and_keeps_the_previous(
    tmp_path, nuclei_sample, capsys, monkeypatch
):
    """The disk fills up after 5 chunks are written (zarr's local store raises ENOSPC on
    the sixth): one line naming OUT.zarr, not the hidden folder it was staged in (gone),
    and the previous OUT.zarr as it was."""
    import errno

    from zarr.storage import LocalStore

    image = np.ascontiguousarray(nuclei_sample[0][:512, :512])
    source = _input_zarr(tmp_path / "in.zarr", image)
    out = tmp_path / "out.zarr"
    kept = _previous(out, image)
    real_set, written = LocalStore.set, []

    async def set_until_full(self, key, value):
        if key.startswith("c/") and len(written) >= 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(self.root) / key))
        await real_set(self, key, value)
        written.append(key)

    monkeypatch.setattr(LocalStore, "set", set_until_full)
    code = main(["convert", str(source), str(out), "--chunk", "128", "--overwrite", "-q"])
    monkeypatch.undo()
    err = capsys.readouterr().err.strip()
    assert (code, err) == (
        1,
        f"tessella convert: error: {source}: [Errno {errno.ENOSPC}] "
        f"{os.strerror(errno.ENOSPC)}: '{out}'",
    )
    assert np.array_equal(np.asarray(zarr.open_array(str(out), mode="r")), kept)
    assert _left_beside(tmp_path) == []

"""An output folder that cannot be written (or made) is refused once, before any image is
segmented: it was found only after segmenting every image of the folder, one "cannot write
the labels (Permission denied)" per image (and, for a folder to be made inside it, a raw
"[Errno 13] Permission denied: 'ro/sub'" per image)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys

from tests.conftest import DATA

DSB = DATA / "nuclei2d_dsb2018" / "val" / "images"
CTC = DATA / "ctc_Fluo-N2DH-SIM+" / "01"
ROOT = os.geteuid() == 0


def _cli(*args, drop_override: bool = ROOT) -> subprocess.CompletedProcess:
    """``tessella`` in a process of its own; as root without the capability that lets root
    write into any folder (setpriv), so that a read-only folder bites as it does for a user."""
    command = [sys.executable, "-m", "tessella.cli", *map(str, args)]
    if drop_override:
        caps = "-dac_override,-dac_read_search"
        command = ["setpriv", "--bounding-set", caps, "--inh-caps", caps, *command]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def _read_only(folder):
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    assert not ROOT or shutil.which("setpriv"), "root needs setpriv to make a folder read-only"
    return folder


def test_a_folder_that_cannot_be_written_is_refused_before_any_image(tmp_path):
    images = tmp_path / "in"
    images.mkdir()
    for path in sorted(DSB.glob("*.tif"))[:3]:  # three real DSB2018 images
        shutil.copy(path, images / path.name)
    read_only = _read_only(tmp_path / "ro")
    try:
        # the folder itself, a folder to be made inside it, and one image into it
        for out, named in (
            (read_only, read_only),
            (read_only / "sub", read_only / "sub"),
            (read_only / "sub" / "deeper", read_only / "sub" / "deeper"),
        ):
            done = _cli("segment", images, "-o", out, "--device", "cpu")
            # one line, no progress bar: nothing was segmented
            assert (done.returncode, done.stderr.strip()) == (
                1,
                f"tessella segment: error: {named}: cannot write there (Permission denied); "
                "nothing was done",
            ), done.stderr
        one = sorted(images.iterdir())[0]
        done = _cli("segment", one, "-o", read_only / "one.tif", "--device", "cpu")
        assert (done.returncode, done.stderr.strip()) == (
            1,
            f"tessella segment: error: {read_only}: cannot write there (Permission denied); "
            "nothing was done",
        ), done.stderr
        assert sorted(read_only.iterdir()) == []  # no probe, staging or labels left
    finally:
        read_only.chmod(stat.S_IRWXU)
    # the check makes no folder; the run makes the one it writes into, as before
    out = tmp_path / "new" / "labels"
    done = _cli("segment", images, "-o", out, "--device", "cpu", "-q", drop_override=False)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(
        [p.name for p in images.iterdir()] + [f"{p.stem}.recipe.json" for p in images.iterdir()]
    )


def test_a_ctc_folder_that_cannot_be_written_is_refused_before_the_movie(tmp_path):
    """``--ctc ro/RES``: the CTC files are staged beside RES, in ro; said before the movie is
    segmented (it was found after, the labels written and the CTC files not)."""
    read_only = _read_only(tmp_path / "ro")
    try:
        done = _cli(
            "segment",
            CTC,
            "-o",
            tmp_path / "movie.tif",
            "--model",
            "cells2dt",
            "--ctc",
            read_only / "01_RES",
            "--device",
            "cpu",
        )
        assert (done.returncode, done.stderr.strip()) == (
            1,
            f"tessella segment: error: {read_only}: cannot write there (Permission denied); "
            "nothing was done",
        ), done.stderr
        assert sorted(read_only.iterdir()) == []
        assert not (tmp_path / "movie.tif").exists()
    finally:
        read_only.chmod(stat.S_IRWXU)

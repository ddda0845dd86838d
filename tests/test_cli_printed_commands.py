"""Commands that Tessella prints for the user to paste (the conversion that `--blockwise`
advises for a TIFF or a zarr stored as one chunk) work in a POSIX shell whatever the path
holds: a quote, a double quote, a dollar sign, a backtick, a space or a backslash. They were
`python -c "...('PATH')"` lines, the path a Python literal inside shell double quotes, which
the shell expanded ($HOME, `...`) or cut short (a double quote). They are now `tessella
convert IN OUT`, each word quoted for the shell; `tessella convert` is new."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.engine.io import read_image

#: every character the shell would change, in one name (the backtick runs `true`, which
#: prints nothing: a shell that ran it would name another file)
NAME = 'it\'s "my" $HOME `true` b\\c'


def _run_in_shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """``command`` as pasted into bash, with this environment's ``tessella`` (and python) on
    the PATH."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _printed_after(err: str, marker: str) -> str:
    """The command printed after ``marker`` on its line."""
    return err[err.index(marker) + len(marker) :].splitlines()[0]


@pytest.fixture
def image(nuclei_sample):
    return nuclei_sample[0][:128, :256]


def test_the_conversion_printed_for_a_tiff_runs_in_a_shell(tmp_path, image, capsys):
    tif = tmp_path / f"{NAME}.tif"
    tifffile.imwrite(
        tif, image, imagej=True, resolution=(1 / 0.25, 1 / 0.5), metadata={"unit": "um"}
    )
    out = tmp_path / "labels.zarr"
    assert main(["segment", str(tif), "-o", str(out), "--blockwise", "-q"]) == 1
    command = _printed_after(capsys.readouterr().err, "keeping its axes and pixel size: ")
    done = _run_in_shell(command, tmp_path)
    assert done.returncode == 0, done.stderr
    converted = read_image(tmp_path / f"{NAME}.zarr")  # beside it, as the advice says
    np.testing.assert_array_equal(np.asarray(converted.data), image)
    assert converted.pixel_size == {"Y": 0.5, "X": 0.25}


def test_the_rechunking_printed_for_a_one_chunk_zarr_runs_in_a_shell(
    tmp_path, image, tiny_model_dir, capsys
):
    source = tmp_path / f"{NAME}.zarr"
    array = zarr.open(str(source), mode="w", shape=image.shape, chunks=image.shape, dtype="u1")
    array[...] = image
    args = ["segment", str(source), "-o", str(tmp_path / "labels.zarr"), "--blockwise"]
    args += ["--model", str(tiny_model_dir), "--block", "128", "--workers", "0", "--no-tta"]
    assert main([*args, "--device", "cpu"]) == 0
    command = _printed_after(capsys.readouterr().err, "for large arrays rechunk it: ")
    done = _run_in_shell(command, tmp_path)
    assert done.returncode == 0, done.stderr
    assert command.endswith(" --chunk 64")  # half the 128-px block
    rechunked = zarr.open(str(tmp_path / f"{NAME}_rechunked.zarr"), mode="r")
    assert rechunked.chunks == (64, 64)
    np.testing.assert_array_equal(rechunked[...], image)


def test_convert_keeps_axes_and_pixel_size_and_names_the_file_in_errors(tmp_path, image, capsys):
    tif = tmp_path / "slide.tif"
    tifffile.imwrite(tif, image, imagej=True, resolution=(2.0, 2.0), metadata={"unit": "um"})
    out = tmp_path / "slide.zarr"
    assert main(["convert", str(tif), str(out), "--chunk", "64"]) == 0
    assert f"{tif} -> {out}: 128x256 in 64x64 chunks" in capsys.readouterr().out
    converted = read_image(out)
    assert (converted.axes, converted.pixel_size) == ("YX", {"Y": 0.5, "X": 0.5})
    assert zarr.open(str(out), mode="r").chunks == (64, 64)

    assert main(["convert", str(tif), str(out)]) == 1  # kept unless --overwrite
    assert f"error: {out} exists; pass --overwrite to replace it" in capsys.readouterr().err
    assert main(["convert", str(tif), str(out), "--overwrite", "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert zarr.open(str(out), mode="r").chunks == (128, 256)  # the default block: all
    for given, said in (
        (tmp_path / "gone.tif", f"{tmp_path / 'gone.tif'}: no such file or folder"),
        (tmp_path / "notes.txt", f"{tmp_path / 'notes.txt'}: not a TIFF or zarr"),
    ):
        given.parent.joinpath("notes.txt").write_text("x")
        assert main(["convert", str(given), str(tmp_path / "x.zarr")]) == 1
        assert f"tessella convert: error: {said}" in capsys.readouterr().err
    assert main(["convert", str(out), str(out), "--overwrite"]) == 1  # never its own input
    assert "would replace its input" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["convert", "--help"])
    assert exit_.value.code == 0
    assert "tessella convert slide.tif slide.zarr --chunk 512" in capsys.readouterr().out

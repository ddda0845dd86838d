"""``tessella segment --blockwise`` on a zarr stored in thin chunks (strips of 1x32 pixels,
so that every block reads thousands of chunks) says so with the ``tessella convert`` command
that rechunks it, as it does for a zarr stored as one chunk; chunks of a sensible shape get
no such line."""

from __future__ import annotations

import pytest
import zarr

from tessella.cli import main


@pytest.fixture
def image(nuclei_sample):
    return nuclei_sample[0][:128, :256]


def _segment(tmp_path, image, chunks, model, capsys) -> str:
    source = tmp_path / "slide.zarr"
    array = zarr.create_array(
        str(source), shape=image.shape, chunks=chunks, dtype=image.dtype, overwrite=True
    )
    array[...] = image
    out = tmp_path / f"labels_{chunks[0]}.zarr"
    args = ["segment", str(source), "-o", str(out), "--blockwise", "--model", str(model)]
    args += ["--block", "128", "--workers", "0", "--no-tta", "--device", "cpu"]
    assert main(args) == 0
    labels = zarr.open_array(str(out), mode="r")
    assert labels.shape == image.shape  # (a tiny model: its objects do not matter)
    return capsys.readouterr().err


def test_a_zarr_in_strips_is_answered_with_the_rechunking_command(
    tmp_path, image, tiny_model_dir, capsys
):
    err = _segment(tmp_path, image, (1, 32), tiny_model_dir, capsys)
    source, rechunked = tmp_path / "slide.zarr", tmp_path / "slide_rechunked.zarr"
    line = next(line for line in err.splitlines() if "is stored in chunks" in line)
    assert f"{source} is stored in chunks of 1x32 pixels (YX): every block reads about " in line
    assert "times the work of chunks of 64 px, which is slow" in line
    assert line.endswith(f"rechunk it: tessella convert {source} {rechunked} --chunk 64")

    err = _segment(tmp_path, image, (64, 64), tiny_model_dir, capsys)
    assert "is stored in chunks" not in err and "tessella convert" not in err

"""Blocks small beside their halo are said to be slow: `--block 16` ran 1452 blocks for 4
minutes on an image that took 8 s in memory (user test s28/t3), without a word."""

from __future__ import annotations

import warnings

import pytest
import zarr

from tessella.cli import main
from tessella.engine.blockwise import segment_blockwise_steps


def _zarr_of(path, image):
    zarr.create_array(str(path), shape=image.shape, dtype=image.dtype, chunks=(128, 128))[...] = (
        image
    )
    return path


@pytest.fixture
def nuclei_zarr(tmp_path, nuclei_sample):
    return _zarr_of(tmp_path / "in.zarr", nuclei_sample[0][:256, :256])  # 256 blocks of 16 px


def _first_step_warnings(source, out, block):
    steps = segment_blockwise_steps(source, out, "nuclei2d", block=block, device="cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        next(steps)
    steps.close()
    return [str(w.message) for w in caught if "halo" in str(w.message)]


def test_blocks_much_smaller_than_their_halo_are_said_to_be_slow(tmp_path, nuclei_zarr):
    [said] = _first_step_warnings(nuclei_zarr, tmp_path / "small.zarr", 16)
    assert said.startswith(f"{nuclei_zarr}: 256 blocks of 16 px with a halo of ")
    assert "times the pixels it keeps" in said and "4 x the halo" in said
    # the default block (one block per axis) says nothing, nor a handful of small blocks
    assert _first_step_warnings(nuclei_zarr, tmp_path / "default.zarr", None) == []
    assert _first_step_warnings(nuclei_zarr, tmp_path / "few.zarr", 64) == []  # 16 blocks


def test_the_command_line_says_it_once(tmp_path, nuclei_sample, capsys):
    # 121 blocks of 16 px (the warning needs 100), without TTA: the whole run, cheaply
    source = _zarr_of(tmp_path / "in.zarr", nuclei_sample[0][:176, :176])
    command = ["segment", str(source), "-o", str(tmp_path / "out.zarr"), "--blockwise"]
    command += ["--workers", "0", "--block", "16", "--no-tta", "--device", "cpu", "-q"]
    assert main(command) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "halo" in line]
    assert len(err) == 1 and err[0].startswith(f"warning: {source}: 121 blocks of 16 px"), err

"""``tessella segment --blockwise --ctc DIR --first-frame N`` (refused before: "numbers the
frames of a movie segmented in memory, not with --blockwise"): a TYX zarr of frames N, N+1,
... gets its CTC masks and tracks numbered from N, and its recipe (the JSON and the labels
zarr's ``tessella`` attribute, which the reader takes) records the frame numbers, as in
memory."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

from tessella.cli import main
from tessella.engine.io import read_image
from tessella.engine.tracking import read_ctc_tracks
from tests.conftest import DATA

SIM = DATA / "ctc_Fluo-N2DH-SIM+"
RUN = ["--device", "cpu", "-q", "--blockwise", "--workers", "0"]


@pytest.fixture
def movie(tmp_path):
    """SIM+ 01's frames 52-54 (a 64x64 crop) as one TYX zarr."""
    if not (SIM / "01" / "t052.tif").is_file():
        pytest.fail(f"the SIM+ sequence is not at {SIM} (set TESSELLA_DATA)")
    frames = np.stack(
        [
            np.asarray(read_image(SIM / "01" / f"t{t:03d}.tif").data[166:230, 166:230])
            for t in (52, 53, 54)
        ]
    )
    path = tmp_path / "movie.zarr"
    array = zarr.open(
        str(path), mode="w", shape=frames.shape, chunks=(1, 64, 64), dtype=frames.dtype
    )
    array[...] = frames
    array.attrs["tessella_axes"] = "TYX"
    return path


def test_blockwise_first_frame_numbers_the_ctc_masks_and_the_recipe(tmp_path, movie):
    res, out = tmp_path / "movie_RES", tmp_path / "labels.zarr"
    args = ["segment", str(movie), "-o", str(out), "--model", "cells2dt", *RUN]
    assert main([*args, "--ctc", str(res), "--first-frame", "52"]) == 0
    assert sorted(p.name for p in res.glob("mask*.tif")) == [
        "mask052.tif",
        "mask053.tif",
        "mask054.tif",
    ]
    tracks = read_ctc_tracks(res / "res_track.txt")
    assert tracks and min(k.start for k in tracks) == 52 and max(k.end for k in tracks) == 54
    recipe = json.loads((tmp_path / "labels.recipe.json").read_text())
    assert recipe["frame_numbers"] == [52, 53, 54]
    assert zarr.open(str(out), mode="r").attrs["tessella"]["frame_numbers"] == [52, 53, 54]


def test_blockwise_first_frame_needs_a_time_lapse(tmp_path, movie, capsys):
    args = ["segment", str(movie), "-o", str(tmp_path / "x.zarr"), "--model", "nuclei2d"]
    assert main([*args, *RUN, "--axes", "ZYX", "--first-frame", "5"]) == 1
    err = capsys.readouterr().err
    assert "--first-frame needs a time-lapse (axes with T), got ZYX" in err, err
    assert "give --axes TYX" in err
    assert not (tmp_path / "x.zarr").exists()

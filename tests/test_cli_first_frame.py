"""``tessella segment --first-frame N``: a movie file (a TYX stack) of frames N, N+1, ... of a
time-lapse gets its CTC masks numbered from N, and its recipe records the frame numbers, as a
folder ``t052.tif ...`` is numbered by its file names (user test s31/t7: a stack of frames
52-57 was numbered from 0, with no way to say otherwise)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image
from tessella.engine.tracking import read_ctc_tracks
from tests.conftest import DATA

SIM = DATA / "ctc_Fluo-N2DH-SIM+"


@pytest.fixture(scope="module")
def movie(tmp_path_factory):
    """SIM+ 01's frames 52-54 (a 96x96 crop) as one TYX stack, and as a folder t052.tif ..."""
    if not (SIM / "01" / "t052.tif").is_file():
        pytest.fail(f"the SIM+ sequence is not at {SIM} (set TESSELLA_DATA)")
    root = tmp_path_factory.mktemp("first")
    frames = [
        np.asarray(read_image(SIM / "01" / f"t{t:03d}.tif").data[150:246, 150:246])
        for t in (52, 53, 54)
    ]
    tifffile.imwrite(root / "movie.tif", np.stack(frames), imagej=True, metadata={"axes": "TYX"})
    (root / "01").mkdir()
    for t, frame in zip((52, 53, 54), frames):
        tifffile.imwrite(root / "01" / f"t{t:03d}.tif", frame)
    return root


def test_first_frame_numbers_the_ctc_masks_and_the_recipe(movie, capsys):
    res = movie / "movie_RES"
    args = ["segment", str(movie / "movie.tif"), "-o", str(movie / "labels.tif")]
    assert main([*args, "--model", "cells2dt", "--ctc", str(res), "--first-frame", "52"]) == 0
    assert sorted(p.name for p in res.glob("mask*.tif")) == [
        "mask052.tif",
        "mask053.tif",
        "mask054.tif",
    ]
    tracks = read_ctc_tracks(res / "res_track.txt")
    assert tracks and min(k.start for k in tracks) == 52 and max(k.end for k in tracks) == 54
    recipe = json.loads((movie / "labels.recipe.json").read_text())
    assert recipe["frame_numbers"] == [52, 53, 54]


def test_first_frame_refused_where_it_cannot_number_frames(movie, capsys):
    base = ["segment", "--model", "cells2dt", "-q"]
    out = str(movie / "x.tif")
    capsys.readouterr()
    # a folder numbered by its names
    assert main([*base, str(movie / "01"), "-o", out, "--first-frame", "3"]) != 0
    err = capsys.readouterr().err
    assert "its file names number its frames from 52" in err, err
    assert main([*base, str(movie / "movie.tif"), "-o", out, "--first-frame", "-1"]) != 0
    assert "--first-frame must be a frame number" in capsys.readouterr().err
    # no time axis
    tifffile.imwrite(movie / "one.tif", np.zeros((32, 32), np.uint8))
    assert main([*base, str(movie / "one.tif"), "-o", out, "--first-frame", "5"]) != 0
    assert "--first-frame needs a time-lapse (axes with T), got YX" in capsys.readouterr().err
    assert not (movie / "x.tif").exists()

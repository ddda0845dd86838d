"""``tessella segment --first-frame N --skip-existing`` (review r3, finding 8): an output made
without --first-frame (or with another N) was kept as done, and a later Export (or --ctc)
numbered its masks as that run's; one made without a voxel size was kept under
``--voxel-size 1,2``. Both are refused now, naming the difference, as other settings are."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image
from tests.conftest import DATA

SIM = DATA / "ctc_Fluo-N2DH-SIM+"


@pytest.fixture(scope="module")
def movie(tmp_path_factory):
    """SIM+ 01's frames 0-2, a 64x64 crop, as one TYX stack."""
    if not (SIM / "01" / "t000.tif").is_file():
        pytest.fail(f"the SIM+ sequence is not at {SIM} (set TESSELLA_DATA)")
    root = tmp_path_factory.mktemp("skip_first")
    frames = [
        np.asarray(read_image(SIM / "01" / f"t{t:03d}.tif").data[200:264, 200:264])
        for t in (0, 1, 2)
    ]
    tifffile.imwrite(root / "movie.tif", np.stack(frames), imagej=True, metadata={"axes": "TYX"})
    return root


def test_another_first_frame_or_voxel_size_is_refused(movie, capsys):
    args = ["segment", str(movie / "movie.tif"), "-o", str(movie / "labels.tif")]
    args += ["--model", "cells2dt", "-q"]
    assert main([*args, "--first-frame", "5"]) == 0
    capsys.readouterr()
    assert main([*args, "--skip-existing"]) != 0
    said = capsys.readouterr().err
    assert "--first-frame=5 (this run: not given, frames from 0)" in said
    assert "--first-frame 5 to go on with its" in said
    assert main([*args, "--skip-existing", "--first-frame", "7"]) != 0
    assert "--first-frame=5 (this run: 7)" in capsys.readouterr().err
    assert main([*args, "--skip-existing", "--first-frame", "5", "--voxel-size", "1,2"]) != 0
    said = capsys.readouterr().err
    assert "spacing=not recorded (this run: [1.0, 2.0], its voxel size)" in said
    assert main([*args, "--skip-existing", "--first-frame", "5"]) == 0  # the same run: kept

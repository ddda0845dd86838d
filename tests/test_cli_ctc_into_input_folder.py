"""``segment FOLDER --ctc FOLDER`` (the input folder of frames as the CTC result folder) is
refused, even with ``--overwrite``, as Export refuses it: it wrote maskTTT.tif and
res_track.txt among the frames, and the next run of the same folder read the masks as frames
(8 frames from 4, with no word but 'skipped res_track.txt'). The folder is left untouched."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tests.conftest import DATA

SIM = DATA / "ctc_Fluo-N2DH-SIM+"


@pytest.fixture
def frames(tmp_path):
    """SIM+ 01's frames 10, 11, 13 and 14 (a 192x192 crop) in a folder ``01``."""
    if not (SIM / "01" / "t010.tif").is_file():
        pytest.fail(f"the SIM+ sequence is not at {SIM} (set TESSELLA_DATA)")
    seq = tmp_path / "01"
    seq.mkdir()
    for t in (10, 11, 13, 14):
        frame = tifffile.imread(SIM / "01" / f"t{t:03d}.tif")[120:312, 120:312]
        tifffile.imwrite(seq / f"t{t:03d}.tif", np.asarray(frame))
    return seq


@pytest.mark.parametrize("spelled", ["01", "01/../01/"])
def test_segment_refuses_ctc_into_its_input_folder(tmp_path, frames, spelled, capsys):
    before = sorted(p.name for p in frames.iterdir())
    ctc = str(tmp_path / spelled)
    args = ["segment", str(frames), "--model", "cells2dt", "-o", str(tmp_path / "lab.tif")]
    assert main([*args, "--ctc", ctc, "--overwrite", "-q"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"tessella segment: error: {ctc}: --ctc is the input folder {frames}: the masks would "
        "be written among its frames (even with --overwrite); choose another folder"
    )
    assert sorted(p.name for p in frames.iterdir()) == before
    assert not (tmp_path / "lab.tif").exists()

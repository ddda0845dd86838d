"""``segment FOLDER --blockwise`` (with ``--ctc`` too): blockwise segmentation reads one zarr,
and a folder of frames (whose numbers ``--ctc`` keeps in memory, eda3e69) is refused in one
line saying to segment it without --blockwise. Before, ``-o X.zarr`` was refused as "the labels
of a time-lapse folder go into one .tif" and ``-o X.tif`` as "--blockwise writes zarr": no
output passed both."""

from __future__ import annotations

import pytest

from tessella.cli import main
from tests.conftest import DATA

SIM = DATA / "ctc_Fluo-N2DH-SIM+"


@pytest.mark.parametrize("out", ["labels.zarr", "labels.tif"])
def test_blockwise_refuses_a_frame_folder_saying_to_segment_it_in_memory(tmp_path, capsys, out):
    if not (SIM / "01" / "t052.tif").is_file():
        pytest.fail(f"the SIM+ sequence is not at {SIM} (set TESSELLA_DATA)")
    seq = tmp_path / "01"
    seq.mkdir()
    for t in range(52, 55):
        (seq / f"t{t:03d}.tif").symlink_to(SIM / "01" / f"t{t:03d}.tif")
    res = tmp_path / "01_RES"
    args = ["segment", str(seq), "-o", str(tmp_path / out), "--model", "cells2dt"]
    assert main([*args, "--blockwise", "--ctc", str(res)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [
        f"tessella segment: error: {seq}: --blockwise reads one zarr image, not a folder of "
        "frames; segment the folder without --blockwise"
    ], err
    assert not res.exists() and not (tmp_path / out).exists()

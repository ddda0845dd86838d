"""``tessella evaluate`` with Cell Tracking Challenge folders given the wrong way (t7 finding
4): the SEG folder given as GT with --ctc is told to give its parent NN_GT (it said "not the
image folder NN"); a ground truth given first is told the arguments look swapped; a result
folder (maskTTT.tif, res_track.txt) or NN_GT without --ctc is told to add --ctc."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.cli import main


@pytest.fixture
def ctc(tmp_path):
    """A result folder RES of 2 frames (one cell, track 1) and its ground truth 01_GT/SEG."""
    res, seg = tmp_path / "RES", tmp_path / "01_GT" / "SEG"
    res.mkdir()
    seg.mkdir(parents=True)
    cell = np.zeros((16, 16), np.uint16)
    cell[4:10, 4:10] = 1
    for t in range(2):
        tifffile.imwrite(res / f"mask{t:03d}.tif", cell)
        tifffile.imwrite(seg / f"man_seg{t:03d}.tif", cell)
    (res / "res_track.txt").write_text("1 0 1 0\n")
    return res, seg


def test_ctc_folders_given_the_wrong_way_are_told_how(ctc, capsys):
    res, seg = ctc
    gt = seg.parent
    assert main(["evaluate", str(res), str(seg), "--ctc"]) == 1
    err = capsys.readouterr().err
    assert f"{seg}: is the SEG folder of a CTC ground truth; give its parent {gt}" in err
    assert "not the image folder" not in err
    assert main(["evaluate", str(gt), str(res), "--ctc"]) == 1
    err = capsys.readouterr().err
    assert "PRED and GT look swapped" in err and f"tessella evaluate {res} {gt} --ctc" in err
    for args in ([str(res), str(gt)], [str(res), str(seg)], [str(gt), str(res)]):
        assert main(["evaluate", *args]) == 1
        err = capsys.readouterr().err
        assert "with --ctc" in err and f"tessella evaluate {res} {gt} --ctc" in err, args
    assert main(["evaluate", str(res), str(gt), "--ctc"]) == 0
    assert "SEG: 1.0000 over 2 cells in 2 frames" in capsys.readouterr().out

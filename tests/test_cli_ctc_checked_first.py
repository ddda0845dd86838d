"""``segment --ctc RES`` refuses RES's earlier result before any work, by the names
``write_ctc`` refuses: a ``mask000.tiff`` or ``MASK000.TIF`` was missed by the CLI's own check
(which looked for ``mask*.tif`` only), so the whole movie was segmented and its labels written
to ``-o`` before ``write_ctc`` refused the CTC files, in Export's words. And a movie file given
as its own ``--ctc`` was called "the input folder" whose "frames" the masks would lie among."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tests.conftest import DATA

SIM = DATA / "ctc_Fluo-N2DH-SIM+" / "01"


@pytest.fixture
def frames(tmp_path):
    """SIM+ 01's frames 0-2 (a 64x64 crop) in a folder ``01``."""
    if not (SIM / "t000.tif").is_file():
        pytest.fail(f"the SIM+ sequence is not at {SIM} (set TESSELLA_DATA)")
    seq = tmp_path / "01"
    seq.mkdir()
    for t in range(3):
        tifffile.imwrite(seq / f"t{t:03d}.tif", tifffile.imread(SIM / f"t{t:03d}.tif")[:64, :64])
    return seq


@pytest.mark.parametrize("earlier", ["mask000.tiff", "MASK000.TIF", "mask0007.TiFf"])
def test_an_earlier_mask_of_any_spelling_is_refused_before_any_work(
    tmp_path, frames, earlier, capsys
):
    res = tmp_path / "RES"
    res.mkdir()
    tifffile.imwrite(res / earlier, np.zeros((8, 8), np.uint16))
    out = tmp_path / "lab.tif"
    args = ["segment", str(frames), "--model", "cells2dt", "-o", str(out), "--ctc", str(res)]
    assert main([*args, "-q", "--device", "cpu"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"tessella segment: error: {res / earlier} exists; pass --overwrite to replace it"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01", "RES"]  # no labels, no recipe
    assert [p.name for p in res.iterdir()] == [earlier]


def test_a_movie_file_as_its_own_ctc_folder_is_called_a_file(tmp_path, capsys):
    movie = tmp_path / "movie.tif"
    stack = np.stack([tifffile.imread(SIM / f"t{t:03d}.tif")[:64, :64] for t in range(3)])
    tifffile.imwrite(movie, stack, imagej=True, metadata={"axes": "TYX"})
    out = tmp_path / "lab.tif"
    args = ["segment", str(movie), "--model", "cells2dt", "-o", str(out), "--ctc", str(movie)]
    assert main([*args, "--overwrite", "-q", "--device", "cpu"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"tessella segment: error: {movie} is a file; --ctc needs a folder"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["movie.tif"]

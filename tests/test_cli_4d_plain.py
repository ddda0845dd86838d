"""`tessella segment` on a 4D stack saved with a plain ``tifffile.imwrite`` (no axes of its
own), with and without ``--axes``."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image


def test_a_plain_4d_stack_segments_as_its_imagej_twin(tmp_path, data_dir, capsys):
    """`--axes TZYX` on a plain (4D, 'QQYX') stack failed with "unsupported axis 'Z' of
    length 5 in 'QQYX'"; now it segments as the same pixels saved with ImageJ TZYX metadata
    do (without --axes it reads as TZYX too: tests/engine/test_io_4d_plain.py)."""
    # 2 time points of a 2-slice EM volume (real Lucchi++ slices)
    stack = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "image.tif")
    data = stack[:4, 256:384, :128].reshape(2, 2, 128, 128)
    plain, ij = tmp_path / "plain.tif", tmp_path / "ij.tif"
    tifffile.imwrite(plain, data)
    tifffile.imwrite(ij, data, imagej=True, metadata={"axes": "TZYX"})
    args = ["segment", "--model", "em-mito2d", "--no-tta", "-q", "-o"]
    assert main([*args, str(tmp_path / "given.tif"), str(plain), "--axes", "TZYX"]) == 0
    assert main([*args, str(tmp_path / "twin.tif"), str(ij)]) == 0
    assert capsys.readouterr().err == ""
    twin = read_image(tmp_path / "twin.tif")
    assert twin.axes == "TZYX" and twin.data.shape == (2, 2, 128, 128) and twin.data.max() > 0
    given = read_image(tmp_path / "given.tif")
    assert given.axes == "TZYX"
    np.testing.assert_array_equal(given.data, twin.data)


def test_a_4d_stack_tagged_planar_rgb_says_to_pass_axes(tmp_path, nuclei_sample, capsys):
    """(2, 3, Y, X) plain: "axes 'ZCYX' are not supported" named axes the user never gave,
    without a word of --axes. One line now says they were guessed from its tags."""
    path = tmp_path / "tagged.tif"
    planes = np.stack([np.stack([nuclei_sample[0][:64, :64]] * 3)] * 2)
    # what a plain tifffile.imwrite of (2, 3, Y, X) writes ('QSYX')
    tifffile.imwrite(path, planes, photometric="rgb", planarconfig="separate")
    args = ["segment", str(path), "--model", "em-mito2d", "--no-tta", "-q", "-o"]
    assert main([*args, str(tmp_path / "out.tif")]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert f"{path}: axes 'ZCYX', guessed from its TIFF tags" in line
    assert "--axes on the command line" in line and line.endswith("e.g. TZYX")
    assert main([*args, str(tmp_path / "out.tif"), "--axes", "TZYX"]) == 0
    assert read_image(tmp_path / "out.tif").data.shape == (2, 3, 64, 64)

"""tessella segment and PNG/JPEG pictures (t13 #8): the Segment panel segments them
(napari's reader), the command line does not read them; its refusal (one file) and its
note on a folder say how to convert them to a TIFF, and the command it gives makes a TIFF
the command line segments as the panel does (a colour well of BBBC010, worms2d on CPU)."""

from __future__ import annotations

import re
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import tifffile

from tessella.cli import main
from tests.conftest import DATA


def _colour_well(path):
    """BBBC010's E03 (cropped) as a colour picture, the grey copied into R, G and B."""
    grey = tifffile.imread(DATA / "worms_bbbc010" / "gfp" / "E03.tif")[130:390, 174:522]
    scaled = (grey.astype(float) - grey.min()) / np.ptp(grey) * 255
    iio.imwrite(path, np.repeat(scaled.astype(np.uint8)[..., None], 3, axis=2))
    return path


def test_a_picture_is_refused_saying_how_to_convert_it(tmp_path, capsys, monkeypatch):
    picture = _colour_well(tmp_path / "E03_colour.png")
    monkeypatch.chdir(tmp_path)
    argv = ["segment", picture.name, "-o", "out.tif", "--model", "worms2d", "--device", "cpu"]
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "PNG/JPEG pictures are read by napari" in err, err
    command = re.search(r'python -c "(.*)"', err).group(1)
    subprocess.run([sys.executable, "-c", command], check=True, cwd=tmp_path)
    converted = tmp_path / "E03_colour.tif"
    assert tifffile.imread(converted).shape == (260, 348, 3)
    assert main(["segment", converted.name, *argv[2:], "--no-tta"]) == 0
    assert tifffile.imread(tmp_path / "out.tif").max() > 0  # worms found


def test_a_folder_says_how_to_convert_its_pictures(tmp_path, capsys):
    folder = tmp_path / "plate"
    folder.mkdir()
    _colour_well(folder / "E03.jpg")
    (folder / "notes.txt").write_text("plate 1")
    grey = tifffile.imread(DATA / "worms_bbbc010" / "gfp" / "D07.tif")[130:390, 174:522]
    tifffile.imwrite(folder / "D07.tif", grey)
    out = tmp_path / "out"
    argv = ["segment", str(folder), "-o", str(out), "--model", "worms2d", "--device", "cpu"]
    assert main([*argv, "--no-tta"]) == 0
    err = capsys.readouterr().err
    assert "skipped E03.jpg, notes.txt (not TIFF)" in err, err
    assert "E03.jpg: PNG/JPEG pictures" in err and "tifffile.imwrite('E03.tif'" in err
    assert sorted(p.name for p in out.glob("*.tif")) == ["D07.tif"]

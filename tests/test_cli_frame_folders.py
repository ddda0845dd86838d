"""``tessella segment FOLDER`` with a time-lapse model reads the folder as one movie, as the
napari reader stacks it: 3D frames as TZYX, which the 2D time-lapse model cells2dt refuses
in one line naming the axes (before, the folder itself was refused: "frames of a time-lapse
folder must be 2D")."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella.cli import main


def test_a_folder_of_3d_frames_is_read_as_tzyx_and_refused_by_a_2d_movie_model(tmp_path, capsys):
    folder = tmp_path / "01"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for t in range(3):
        volume = (rng.random((4, 32, 32)) * 1000).astype(np.uint16)
        tifffile.imwrite(folder / f"t{t:03d}.tif", volume, imagej=True, metadata={"axes": "ZYX"})
    out = tmp_path / "labels.tif"
    assert main(["segment", str(folder), "-o", str(out), "--model", "cells2dt", "-q"]) != 0
    err = capsys.readouterr().err
    assert "axes TZYX do not fit model 'cells2dt', which segments YX images" in err, err
    assert "must be 2D" not in err
    assert not out.exists()


def test_hidden_appledouble_files_in_a_folder_of_frames_are_no_frames(tmp_path, capsys):
    """macOS's ._t000.tif beside each frame (no TIFF) made segment FOLDER refuse the folder
    ("._t000.tif: cannot read as TIFF"); now the frames are read as a movie (and, 3D, refused
    by the 2D time-lapse model for their axes, before any model runs)."""
    folder = tmp_path / "01"
    folder.mkdir()
    for t in range(3):
        volume = np.full((4, 32, 32), t, np.uint16)
        tifffile.imwrite(folder / f"t{t:03d}.tif", volume, imagej=True, metadata={"axes": "ZYX"})
        (folder / f"._t{t:03d}.tif").write_bytes(b"\x00\x05\x16\x07" + bytes(4000))
    out = tmp_path / "labels.tif"
    assert main(["segment", str(folder), "-o", str(out), "--model", "cells2dt", "-q"]) != 0
    err = capsys.readouterr().err
    assert "axes TZYX do not fit model 'cells2dt', which segments YX images" in err, err
    assert "._t000.tif" not in err

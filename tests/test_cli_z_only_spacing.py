"""``tessella segment`` of a stack whose TIFF gives a Z spacing but no pixel size in Y and X
(an ImageJ TIFF with a spacing and no resolution, as Fiji writes when only the voxel depth is
set) says what the file lacks: it said "no Z spacing in the file" although the file has one
(user test s31/t8, finding 3; the engine's words were fixed in 018cc1a, the command line's
rewording dropped them). The same for ``--blockwise`` on a zarr with a Z size alone."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.cli import main

LACKS = "gives a Z spacing (50) but no pixel size in Y and X"


@pytest.fixture(scope="module")
def slices(data_dir):
    images = data_dir / "em_membranes_isbi2012" / "images"
    return np.stack([tifffile.imread(images / f"{i:02d}.tif")[:48, :48] for i in range(15, 18)])


def _said(tmp_path, capsys, name: str, *options: str) -> str:
    out = tmp_path / f"{name}_labels.{'zarr' if '--blockwise' in options else 'tif'}"
    args = ["segment", str(tmp_path / name), "-o", str(out), "--model", "em-membranes2d"]
    assert main([*args, "-q", "--device", "cpu", "--no-tta", *options]) == 0
    [line] = [line for line in capsys.readouterr().err.splitlines() if "Z spacing" in line]
    return line


def test_a_z_spacing_alone_is_said_as_such(tmp_path, capsys, slices):
    tifffile.imwrite(
        tmp_path / "zonly.tif", slices, imagej=True, metadata={"axes": "ZYX", "spacing": 50}
    )
    line = _said(tmp_path, capsys, "zonly.tif")
    assert line.startswith(f"warning: {tmp_path / 'zonly.tif'}: the file {LACKS}")
    assert "no Z spacing in the file" not in line and "--voxel-size" in line


def test_blockwise_a_z_size_alone_is_said_as_such(tmp_path, capsys, slices):
    import zarr

    array = zarr.create_array(str(tmp_path / "zonly.zarr"), data=slices, chunks=(3, 48, 48))
    array.attrs["pixel_size"] = {"Z": 50.0}
    line = _said(tmp_path, capsys, "zonly.zarr", "--blockwise", "--workers", "0")
    assert line.startswith(f"warning: {tmp_path / 'zonly.zarr'}: the file {LACKS}")
    assert "--voxel-size" in line
